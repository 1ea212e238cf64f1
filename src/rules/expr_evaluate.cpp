#include "rules/expr_tree.hpp"

#include <algorithm>
#include <limits>
#include <mutex>

namespace certdoctor::rules::detail {

using nlohmann::json;

namespace {

// libstdc++'s std::regex matcher recurses once per subject character; a bounded subject keeps a
// hostile TXT record or name from exhausting the stack.
constexpr std::size_t kMaxRegexSubject = 4096;

// A value that is either borrowed from the view or a binding (no copy) or owned.
struct Val {
  const json* ref = nullptr;
  json own;
  const json& get() const { return ref ? *ref : own; }
  static Val borrow(const json* p) {
    Val v;
    v.ref = p;
    return v;
  }
  static Val owned(json j) {
    Val v;
    v.own = std::move(j);
    return v;
  }
};

const json& null_value() {
  static const json n;
  return n;
}

std::shared_ptr<const std::regex> cached_regex(const std::string& pattern) {
  static std::mutex mutex;
  static std::map<std::string, std::shared_ptr<const std::regex>> cache;
  std::lock_guard<std::mutex> lock(mutex);
  auto it = cache.find(pattern);
  if (it != cache.end()) return it->second;
  auto re = std::make_shared<const std::regex>(pattern, std::regex::ECMAScript);
  // Patterns built from data could be unbounded in number; keep the cache small.
  if (cache.size() >= 256) cache.clear();
  cache.emplace(pattern, re);
  return re;
}

class Evaluator {
public:
  Evaluator(std::string_view text, const json& view, const std::vector<Binding>& bound) : text_(text), view_(view) {
    for (const auto& b : bound) vars_.emplace_back(b.name, b.value ? b.value : &null_value());
  }

  Val eval(const Node& n) {
    switch (n.kind) {
      case Kind::literal: return Val::borrow(&n.value);
      case Kind::list: {
        json out = json::array();
        for (const auto& k : n.kids) out.push_back(eval(*k).get());
        return Val::owned(std::move(out));
      }
      case Kind::var: {
        for (auto it = vars_.rbegin(); it != vars_.rend(); ++it) {
          if (it->first == n.name) return Val::borrow(it->second);
        }
        if (view_.is_object()) {
          auto it = view_.find(n.name);
          if (it != view_.end()) return Val::borrow(&*it);
        }
        return Val::borrow(&null_value());
      }
      case Kind::field: {
        Val base = eval(*n.kids[0]);
        const json& b = base.get();
        if (!b.is_object()) return Val::borrow(&null_value());
        auto it = b.find(n.name);
        if (it == b.end()) return Val::borrow(&null_value());
        if (base.ref) return Val::borrow(&*it);
        return Val::owned(std::move(base.own[n.name]));
      }
      case Kind::index: return index(n);
      case Kind::not_: return boolean(!truthy(eval(*n.kids[0]).get()));
      case Kind::neg: return negate(n);
      case Kind::and_: {
        for (const auto& k : n.kids) {
          if (!truthy(eval(*k).get())) return boolean(false);
        }
        return boolean(true);
      }
      case Kind::or_: {
        for (const auto& k : n.kids) {
          if (truthy(eval(*k).get())) return boolean(true);
        }
        return boolean(false);
      }
      case Kind::add: return add(n);
      case Kind::compare: return boolean(compare(n));
      case Kind::call: return call(n);
      case Kind::comprehension: return comprehension(n);
    }
    return Val::borrow(&null_value());
  }

private:
  [[noreturn]] void fail(const Node& n, std::string message, std::size_t pos = std::string::npos) {
    throw EvalError(std::move(message), text_, pos == std::string::npos ? n.pos : pos);
  }

  static Val boolean(bool b) { return Val::owned(json(b)); }

  Val index(const Node& n) {
    Val base = eval(*n.kids[0]);
    Val key = eval(*n.kids[1]);
    const json& b = base.get();
    const json& k = key.get();
    const json* found = nullptr;
    if (b.is_array()) {
      if (auto i = as_int(k)) {
        const auto size = static_cast<std::int64_t>(b.size());
        const std::int64_t at = *i < 0 ? size + *i : *i;
        if (at >= 0 && at < size) found = &b[static_cast<std::size_t>(at)];
      }
    } else if (b.is_object() && k.is_string()) {
      auto it = b.find(k.get_ref<const std::string&>());
      if (it != b.end()) found = &*it;
    }
    if (!found) return Val::borrow(&null_value());
    if (base.ref) return Val::borrow(found);
    return Val::owned(*found);
  }

  Val negate(const Node& n) {
    Val v = eval(*n.kids[0]);
    const json& x = v.get();
    if (!x.is_number()) fail(n, std::string("'-' needs a number, got ") + type_name(x));
    if (auto i = as_int(x); i && *i != std::numeric_limits<std::int64_t>::min()) return Val::owned(json(-*i));
    return Val::owned(json(-x.get<double>()));
  }

  static json arith(const json& a, const json& b, bool subtract) {
    auto ia = as_int(a), ib = as_int(b);
    std::int64_t r = 0;
    if (ia && ib && !(subtract ? __builtin_sub_overflow(*ia, *ib, &r) : __builtin_add_overflow(*ia, *ib, &r))) {
      return json(r);
    }
    const double da = a.get<double>(), db = b.get<double>();
    return json(subtract ? da - db : da + db);
  }

  Val add(const Node& n) {
    json acc = eval(*n.kids[0]).get();
    for (std::size_t i = 1; i < n.kids.size(); ++i) {
      Val rv = eval(*n.kids[i]);
      const json& r = rv.get();
      const bool plus = n.signs[i - 1] == '+';
      if (acc.is_number() && r.is_number()) {
        acc = arith(acc, r, !plus);
      } else if (plus && acc.is_string() && r.is_string()) {
        acc.get_ref<std::string&>() += r.get_ref<const std::string&>();
      } else if (plus && acc.is_array() && r.is_array()) {
        acc.insert(acc.end(), r.begin(), r.end());
      } else if (plus) {
        fail(n, std::string("'+' needs two numbers, two strings or two lists, got ") + type_name(acc) + " and " +
                    type_name(r), n.op_pos[i - 1]);
      } else {
        fail(n, std::string("'-' needs two numbers, got ") + type_name(acc) + " and " + type_name(r),
             n.op_pos[i - 1]);
      }
    }
    return Val::owned(std::move(acc));
  }

  static bool contains(const json& item, const json& in) {
    if (in.is_array()) return std::any_of(in.begin(), in.end(), [&](const json& e) { return e == item; });
    if (in.is_string()) {
      return item.is_string() &&
             in.get_ref<const std::string&>().find(item.get_ref<const std::string&>()) != std::string::npos;
    }
    if (in.is_object()) return item.is_string() && in.contains(item.get_ref<const std::string&>());
    return false;
  }

  bool compare(const Node& n) {
    Val lv = eval(*n.kids[0]);
    Val rv = eval(*n.kids[1]);
    const json& a = lv.get();
    const json& b = rv.get();
    switch (n.cmp) {
      case Cmp::eq: return a == b;
      case Cmp::ne: return a != b;
      case Cmp::in: return contains(a, b);
      case Cmp::not_in: return !contains(a, b);
      default: break;
    }
    int c = 0;
    if (a.is_number() && b.is_number()) {
      auto r = compare_numbers(a, b);
      if (!r) return false;
      c = *r;
    } else if (a.is_string() && b.is_string()) {
      c = a.get_ref<const std::string&>().compare(b.get_ref<const std::string&>());
    } else {
      return false;
    }
    switch (n.cmp) {
      case Cmp::lt: return c < 0;
      case Cmp::le: return c <= 0;
      case Cmp::gt: return c > 0;
      case Cmp::ge: return c >= 0;
      default: return false;
    }
  }

  // The list a function or comprehension walks; null counts as the empty list.
  const json& list_arg(const Node& n, const json& v, const char* what) {
    if (v.is_null()) return empty_list();
    if (!v.is_array()) fail(n, n.name + "() needs a list" + what + ", got " + type_name(v));
    return v;
  }

  static const json& empty_list() {
    static const json e = json::array();
    return e;
  }

  const std::string* string_arg(const Node& n, const json& v, const char* what) {
    if (v.is_null()) return nullptr;
    if (!v.is_string()) fail(n, n.name + "() needs a string" + what + ", got " + type_name(v));
    return &v.get_ref<const std::string&>();
  }

  Val call(const Node& n) {
    // if(COND, A, B) evaluates only the branch it returns.
    if (n.fn == Fn::if_) return truthy(eval(*n.kids[0]).get()) ? eval(*n.kids[1]) : eval(*n.kids[2]);
    if (n.fn == Fn::coalesce) {
      for (const auto& k : n.kids) {
        Val v = eval(*k);
        if (!v.get().is_null()) return v;
      }
      return Val::borrow(&null_value());
    }
    std::vector<Val> args;
    args.reserve(n.kids.size());
    for (const auto& k : n.kids) args.push_back(eval(*k));
    const json& a = args[0].get();
    switch (n.fn) {
      case Fn::len:
      case Fn::empty: {
        std::size_t size = 0;
        if (a.is_string()) size = utf8_length(a.get_ref<const std::string&>());
        else if (a.is_array() || a.is_object()) size = a.size();
        else if (!a.is_null()) fail(n, n.name + "() needs a list, a string or an object, got " + type_name(a));
        return n.fn == Fn::len ? Val::owned(json(size)) : boolean(size == 0);
      }
      case Fn::exists: return boolean(!a.is_null());
      case Fn::lower:
      case Fn::upper: {
        const std::string* s = string_arg(n, a, "");
        if (!s) return Val::borrow(&null_value());
        std::string out = *s;
        // ASCII only: names are compared in their A-label (punycode) form.
        for (char& c : out) {
          if (n.fn == Fn::lower && c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
          if (n.fn == Fn::upper && c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
        }
        return Val::owned(json(std::move(out)));
      }
      case Fn::join: {
        const json& list = list_arg(n, a, " as its first argument");
        const json& sep = args[1].get();
        if (!sep.is_string()) fail(n, "join() needs a string as its second argument, got " + std::string(type_name(sep)));
        std::string out;
        for (std::size_t i = 0; i < list.size(); ++i) {
          if (i) out += sep.get_ref<const std::string&>();
          out += list[i].is_structured() ? list[i].dump() : to_text(list[i]);
        }
        return Val::owned(json(std::move(out)));
      }
      case Fn::first:
      case Fn::last: {
        const json& list = list_arg(n, a, "");
        if (list.empty()) return Val::borrow(&null_value());
        return Val::owned(n.fn == Fn::first ? list.front() : list.back());
      }
      case Fn::sort: {
        json out = list_arg(n, a, "");
        std::stable_sort(out.begin(), out.end(), [](const json& x, const json& y) { return order(x, y) < 0; });
        return Val::owned(std::move(out));
      }
      case Fn::unique: {
        const json& list = list_arg(n, a, "");
        // Sorting indices keeps this O(n log n) and the first occurrence of each value in place.
        std::vector<std::size_t> idx(list.size());
        for (std::size_t i = 0; i < idx.size(); ++i) idx[i] = i;
        std::stable_sort(idx.begin(), idx.end(), [&](std::size_t x, std::size_t y) { return order(list[x], list[y]) < 0; });
        std::vector<bool> keep(list.size(), false);
        for (std::size_t i = 0; i < idx.size(); ++i) {
          if (i == 0 || order(list[idx[i - 1]], list[idx[i]]) != 0) keep[idx[i]] = true;
        }
        json out = json::array();
        for (std::size_t i = 0; i < list.size(); ++i) {
          if (keep[i]) out.push_back(list[i]);
        }
        return Val::owned(std::move(out));
      }
      case Fn::starts_with:
      case Fn::ends_with: {
        const std::string* s = string_arg(n, a, " as its first argument");
        const json& p = args[1].get();
        if (!p.is_string()) fail(n, n.name + "() needs a string as its second argument, got " + type_name(p));
        if (!s) return boolean(false);
        const std::string& ps = p.get_ref<const std::string&>();
        return boolean(n.fn == Fn::starts_with ? std::string_view(*s).starts_with(ps) : std::string_view(*s).ends_with(ps));
      }
      case Fn::matches: {
        const std::string* s = string_arg(n, a, " as its first argument");
        const json& p = args[1].get();
        if (!p.is_string()) fail(n, "matches() needs a string as its second argument, got " + std::string(type_name(p)));
        if (!s) return boolean(false);
        if (s->size() > kMaxRegexSubject) {
          fail(n, "matches() subject is longer than " + std::to_string(kMaxRegexSubject) + " bytes");
        }
        std::shared_ptr<const std::regex> re = n.regex;
        if (!re) {
          try {
            re = cached_regex(p.get_ref<const std::string&>());
          } catch (const std::regex_error& e) {
            fail(n, std::string("invalid regular expression: ") + regex_problem(e.code()), n.kids[1]->pos);
          }
        }
        try {
          return boolean(std::regex_search(*s, *re));
        } catch (const std::regex_error& e) {
          fail(n, std::string("regular expression failed: ") + regex_problem(e.code()));
        }
      }
      case Fn::flatten: {
        const json& list = list_arg(n, a, "");
        json out = json::array();
        for (const auto& e : list) {
          if (e.is_array()) out.insert(out.end(), e.begin(), e.end());
          else if (!e.is_null()) out.push_back(e);
        }
        return Val::owned(std::move(out));
      }
      case Fn::keys: {
        json out = json::array();
        if (a.is_object()) {
          for (auto it = a.begin(); it != a.end(); ++it) out.push_back(it.key());
        } else if (!a.is_null()) {
          fail(n, "keys() needs an object, got " + std::string(type_name(a)));
        }
        return Val::owned(std::move(out));
      }
      case Fn::str: return Val::owned(json(to_text(a)));
      case Fn::number: {
        if (a.is_number() || a.is_null()) return Val::owned(a);
        if (a.is_boolean()) return Val::owned(json(a.get<bool>() ? 1 : 0));
        if (a.is_string()) return Val::owned(parse_number(a.get_ref<const std::string&>()));
        fail(n, "number() needs a string, a number or a boolean, got " + std::string(type_name(a)));
      }
      case Fn::min:
      case Fn::max: {
        const json& list = list_arg(n, a, "");
        if (list.empty()) return Val::borrow(&null_value());
        const bool numbers = list[0].is_number();
        for (const auto& e : list) {
          if (!(numbers ? e.is_number() : e.is_string())) {
            fail(n, n.name + "() needs a list of numbers or a list of strings");
          }
        }
        auto cmp = [](const json& x, const json& y) { return order(x, y) < 0; };
        return Val::owned(n.fn == Fn::min ? *std::min_element(list.begin(), list.end(), cmp)
                                          : *std::max_element(list.begin(), list.end(), cmp));
      }
      case Fn::concat: {
        json out = json::array();
        for (const auto& v : args) {
          if (!v.get().is_null() && !v.get().is_array()) {
            fail(n, "concat() needs lists, got " + std::string(type_name(v.get())));
          }
          const json& list = v.get().is_null() ? empty_list() : v.get();
          out.insert(out.end(), list.begin(), list.end());
        }
        return Val::owned(std::move(out));
      }
      default: break;
    }
    return Val::borrow(&null_value());
  }

  Val comprehension(const Node& n) {
    Val lv = eval(*n.kids[0]);
    const json& v = lv.get();
    if (!v.is_null() && !v.is_array()) {
      fail(n, std::string(function_name(n.fn)) + "() needs a list after 'in', got " + type_name(v));
    }
    const json& list = v.is_null() ? empty_list() : v;
    const Node& body = *n.kids[1];
    json out = n.fn == Fn::filter || n.fn == Fn::map ? json::array() : json();
    std::int64_t counted = 0;
    for (const auto& e : list) {
      vars_.emplace_back(n.name, &e);
      Val r = eval(body);
      vars_.pop_back();
      switch (n.fn) {
        case Fn::any:
          if (truthy(r.get())) return boolean(true);
          break;
        case Fn::all:
          if (!truthy(r.get())) return boolean(false);
          break;
        case Fn::count:
          if (truthy(r.get())) ++counted;
          break;
        case Fn::filter:
          if (truthy(r.get())) out.push_back(e);
          break;
        case Fn::map: out.push_back(r.get()); break;
        case Fn::find:
          if (truthy(r.get())) return Val::owned(e);
          break;
        default: break;
      }
    }
    switch (n.fn) {
      case Fn::any: return boolean(false);
      case Fn::all: return boolean(true);
      case Fn::count: return Val::owned(json(counted));
      case Fn::filter:
      case Fn::map: return Val::owned(std::move(out));
      default: return Val::borrow(&null_value());
    }
  }

  std::string_view text_;
  const json& view_;
  std::vector<std::pair<std::string_view, const json*>> vars_;
};

} // namespace

json evaluate_tree(const Node& root, std::string_view text, const json& view, const std::vector<Binding>& bound) {
  Evaluator ev(text, view, bound);
  Val v = ev.eval(root);
  return v.ref ? *v.ref : std::move(v.own);
}

const json& evaluate_tree(const Node& root, std::string_view text, const json& view, const std::vector<Binding>& bound,
                          json& storage) {
  Evaluator ev(text, view, bound);
  Val v = ev.eval(root);
  if (v.ref) return *v.ref;
  storage = std::move(v.own);
  return storage;
}

bool test_tree(const Node& root, std::string_view text, const json& view, const std::vector<Binding>& bound) {
  Evaluator ev(text, view, bound);
  return truthy(ev.eval(root).get());
}

} // namespace certdoctor::rules::detail
