#include "rules/engine.hpp"

#include "rules/catalogue.hpp"

namespace certdoctor::rules {

using nlohmann::json;

namespace {

// Runs `f`, rethrowing an EvalError with the rule's position and the part being evaluated.
template <typename F>
decltype(auto) guarded(const Rule& rule, const SourceExpr& expr, const std::string& part, F&& f) {
  try {
    return f(expr.expr);
  } catch (const EvalError& e) {
    throw EvalError(e, rule.file + ":" + std::to_string(expr.line) + ": in " + part + " of rule '" + rule.id + "', ",
                    rule.id);
  }
}

} // namespace

std::vector<Finding> evaluate(const Catalogue& catalogue, const json& view) {
  std::vector<Finding> out;
  // The document a finding cites follows the provider of the diagnosis (`provider.id`), as its
  // texts do: a provider's own document only for that provider.
  std::string provider = "generic";
  if (view.is_object() && view.contains("provider") && view["provider"].is_object() &&
      view["provider"].contains("id") && view["provider"]["id"].is_string())
    provider = view["provider"]["id"].get<std::string>();
  auto cite = [&](const std::map<std::string, std::string>& sources, const std::string& fallback) {
    auto it = sources.find(provider);
    return it != sources.end() ? it->second : fallback;
  };
  for (const Rule& rule : catalogue.rules()) {
    auto fire = [&](const std::vector<Binding>& bound) {
      if (rule.when && !guarded(rule, *rule.when, "'when'", [&](const Expr& e) { return e.test(view, bound); })) {
        return;
      }
      Finding f;
      f.id = rule.id;
      f.severity = rule.severity;
      f.source = cite(rule.sources, rule.source);
      if (rule.variant) {
        json v = guarded(rule, *rule.variant, "'variant'", [&](const Expr& e) {
          json name = e.evaluate(view, bound);
          if (!name.is_null() && !name.is_string())
            throw EvalError(std::string("'variant' must yield a variant name, got ") + name.type_name(), e.text(), 0);
          if (name.is_string() && !name.get<std::string>().empty() && !rule.variants.count(name.get<std::string>()))
            throw EvalError("'variant' yielded '" + name.get<std::string>() + "', which 'variants' does not declare",
                            e.text(), 0);
          return name;
        });
        if (v.is_string()) f.variant = v.get<std::string>();
        if (auto def = rule.variants.find(f.variant); def != rule.variants.end()) {
          if (def->second.severity) f.severity = *def->second.severity;
          if (!def->second.source.empty()) f.source = cite(def->second.sources, def->second.source);
        }
      }
      for (const auto& arg : rule.arguments) {
        f.arguments[arg.name] = guarded(rule, arg.value, "argument '" + arg.name + "'",
                                        [&](const Expr& e) { return e.evaluate(view, bound); });
      }
      out.push_back(std::move(f));
    };
    if (!rule.each) {
      fire({});
      continue;
    }
    // The list is usually a part of the view (`names`): walked where it is, not copied.
    json computed;
    const json& list = guarded(rule, *rule.each, "'each'", [&](const Expr& e) -> const json& {
      const json& v = e.evaluate(view, {}, computed);
      if (!v.is_null() && !v.is_array())
        throw EvalError(std::string("'each' needs a list, got ") + type_name(v), e.text(), 0);
      return v;
    });
    if (list.is_null()) continue;
    std::vector<Binding> bound{Binding{rule.as, nullptr}};
    for (const json& element : list) {
      bound.front().value = &element;
      fire(bound);
    }
  }
  return out;
}

} // namespace certdoctor::rules
