#include "rules/expr_tree.hpp"

#include "util/text.hpp"

#include <algorithm>

namespace certdoctor::rules::detail {

using nlohmann::json;

namespace {

// "name.addresses[0]" for a chain of fields and literal indexes from a variable, else nullopt.
std::optional<std::string> path_text(const Node& n) {
  switch (n.kind) {
    case Kind::var: return n.name;
    case Kind::field: {
      auto base = path_text(*n.kids[0]);
      if (!base) return std::nullopt;
      return *base + "." + n.name;
    }
    case Kind::index: {
      auto base = path_text(*n.kids[0]);
      const Node& k = *n.kids[1];
      if (!base) return std::nullopt;
      if (k.kind == Kind::literal && k.value.is_number_integer()) return *base + "[" + k.value.dump() + "]";
      if (k.kind == Kind::literal && k.value.is_string()) return *base + "[" + k.value.dump() + "]";
      if (k.kind == Kind::neg && k.kids[0]->kind == Kind::literal && k.kids[0]->value.is_number_integer()) {
        return *base + "[-" + k.kids[0]->value.dump() + "]";
      }
      return std::nullopt;
    }
    default: return std::nullopt;
  }
}

const Node& path_root(const Node& n) {
  const Node* p = &n;
  while (p->kind == Kind::field || p->kind == Kind::index) p = p->kids[0].get();
  return *p;
}

void collect_free(const Node& n, std::vector<std::string>& bound, std::vector<std::string>& out) {
  if (n.kind == Kind::var || n.kind == Kind::field || n.kind == Kind::index) {
    if (auto p = path_text(n)) {
      const std::string& root = path_root(n).name;
      if (std::find(bound.begin(), bound.end(), root) == bound.end() &&
          std::find(out.begin(), out.end(), *p) == out.end()) {
        out.push_back(*p);
      }
      return;
    }
  }
  if (n.kind == Kind::comprehension) {
    collect_free(*n.kids[0], bound, out);
    bound.push_back(n.name);
    collect_free(*n.kids[1], bound, out);
    bound.pop_back();
    return;
  }
  for (const auto& k : n.kids) collect_free(*k, bound, out);
}

class ShapeChecker {
public:
  ShapeChecker(std::string_view text, const json& shape, const std::map<std::string, json>& bound,
               std::vector<ShapeIssue>* issues)
      : text_(text), shape_(shape), issues_(issues) {
    for (const auto& [name, s] : bound) vars_.emplace_back(name, s);
  }

  // The shape of a node's value; null when unknown.
  json infer(const Node& n) {
    switch (n.kind) {
      case Kind::literal: return n.value;
      case Kind::list: {
        json out = json::array();
        for (const auto& k : n.kids) {
          json s = infer(*k);
          if (out.empty()) out.push_back(std::move(s));
        }
        return out;
      }
      case Kind::var: {
        for (auto it = vars_.rbegin(); it != vars_.rend(); ++it) {
          if (it->first == n.name) return it->second;
        }
        if (!shape_.is_object()) return nullptr;
        auto it = shape_.find(n.name);
        if (it != shape_.end()) return *it;
        std::vector<std::string> names;
        for (const auto& [k, v] : vars_) names.push_back(k);
        for (auto i = shape_.begin(); i != shape_.end(); ++i) names.push_back(i.key());
        report(n, "unknown fact '" + n.name + "'" + did_you_mean(n.name, names));
        return nullptr;
      }
      case Kind::field: return member(n, infer(*n.kids[0]), n.name);
      case Kind::index: {
        json base = infer(*n.kids[0]);
        const Node& k = *n.kids[1];
        infer(k);
        if (base.is_array()) return base.empty() ? json() : base[0];
        if (base.is_object() && k.kind == Kind::literal && k.value.is_string()) {
          return member(n, base, k.value.get<std::string>());
        }
        if (base.is_null() || base.is_object()) return nullptr;
        report(n, describe_base(*n.kids[0]) + " is a " + type_name(base) + "; it cannot be indexed");
        return nullptr;
      }
      case Kind::not_:
      case Kind::and_:
      case Kind::or_:
      case Kind::compare:
        for (const auto& k : n.kids) infer(*k);
        return true;
      case Kind::neg:
        infer(*n.kids[0]);
        return 0;
      case Kind::add: {
        json first;
        for (std::size_t i = 0; i < n.kids.size(); ++i) {
          json s = infer(*n.kids[i]);
          if (i == 0) first = std::move(s);
        }
        return first;
      }
      case Kind::call: return call(n);
      case Kind::comprehension: {
        json list = infer(*n.kids[0]);
        json elem = list.is_array() && !list.empty() ? list[0] : json();
        vars_.emplace_back(n.name, elem);
        json body = infer(*n.kids[1]);
        vars_.pop_back();
        switch (n.fn) {
          case Fn::any:
          case Fn::all: return true;
          case Fn::count: return 0;
          case Fn::filter: return list.is_array() ? list : json();
          case Fn::map: return json::array({body});
          case Fn::find: return elem;
          default: return nullptr;
        }
      }
    }
    return nullptr;
  }

private:
  void report(const Node& n, std::string message) {
    if (issues_) issues_->push_back({std::move(message), locate(text_, n.pos).column});
  }

  static std::string describe_base(const Node& base) {
    auto p = path_text(base);
    return p ? "'" + *p + "'" : "the value";
  }

  json member(const Node& n, const json& base, const std::string& key) {
    if (base.is_null()) return nullptr;
    if (base.is_object()) {
      auto it = base.find(key);
      if (it != base.end()) return *it;
      std::vector<std::string> names;
      for (auto i = base.begin(); i != base.end(); ++i) names.push_back(i.key());
      auto p = path_text(*n.kids[0]);
      if (p) {
        const std::string c = closest_name(key, names);
        report(n, "unknown fact '" + *p + "." + key + "'" + (c.empty() ? "" : " (did you mean '" + *p + "." + c + "'?)"));
      } else {
        report(n, "unknown field '" + key + "'" + did_you_mean(key, names));
      }
      return nullptr;
    }
    std::string what = describe_base(*n.kids[0]);
    report(n, what + " is a " + type_name(base) + "; it has no field '" + key + "'");
    return nullptr;
  }

  static json element(const json& list) { return list.is_array() && !list.empty() ? list[0] : json(); }

  json call(const Node& n) {
    std::vector<json> args;
    for (const auto& k : n.kids) args.push_back(infer(*k));
    switch (n.fn) {
      case Fn::len:
      case Fn::number: return 0;
      case Fn::empty:
      case Fn::exists:
      case Fn::starts_with:
      case Fn::ends_with:
      case Fn::matches: return true;
      case Fn::lower:
      case Fn::upper:
      case Fn::join:
      case Fn::str: return "";
      case Fn::first:
      case Fn::last:
      case Fn::min:
      case Fn::max: return element(args[0]);
      case Fn::sort:
      case Fn::unique: return args[0].is_array() ? args[0] : json();
      case Fn::flatten: {
        json e = element(args[0]);
        return e.is_array() ? e : (args[0].is_array() ? args[0] : json());
      }
      case Fn::keys: return json::array({""});
      case Fn::if_: return !args[1].is_null() ? args[1] : args[2];
      case Fn::concat:
      case Fn::coalesce:
        for (const auto& a : args) {
          if (!a.is_null() && !(n.fn == Fn::concat && a.is_array() && a.empty())) return a;
        }
        return nullptr;
      default: return nullptr;
    }
  }

  std::string_view text_;
  const json& shape_;
  std::vector<ShapeIssue>* issues_;
  std::vector<std::pair<std::string, json>> vars_;
};

} // namespace

std::vector<std::string> free_paths(const Node& root) {
  std::vector<std::string> bound, out;
  collect_free(root, bound, out);
  return out;
}

json infer_shape(const Node& root, std::string_view text, const json& shape, const std::map<std::string, json>& bound,
                 std::vector<ShapeIssue>* issues) {
  return ShapeChecker(text, shape, bound, issues).infer(root);
}

} // namespace certdoctor::rules::detail
