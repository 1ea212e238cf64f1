#include "rules/lint.hpp"
#include "util/text.hpp"

#include <algorithm>

namespace certdoctor::rules {

using nlohmann::json;

std::string to_string(const LintIssue& issue) {
  return issue.file + ":" + std::to_string(issue.line) + ": " + issue.message;
}

namespace {

std::string braces(const std::set<std::string>& names) {
  std::string out = "{";
  bool first = true;
  for (const auto& n : names) {
    if (!first) out += ", ";
    out += n;
    first = false;
  }
  return out + "}";
}

std::size_t column_of(std::string_view text, std::size_t offset) {
  std::size_t column = 1;
  for (std::size_t i = 0; i < offset && i < text.size(); ++i) {
    if ((static_cast<unsigned char>(text[i]) & 0xC0) != 0x80) ++column;
  }
  return column;
}

class RuleLinter {
public:
  RuleLinter(const Rule& rule, const json& shape, const std::set<std::string>& providers,
             const std::map<std::string, json>& provider_texts, const std::vector<std::string>& languages,
             std::vector<LintIssue>& out)
      : rule_(rule), shape_(shape), providers_(providers), provider_texts_(provider_texts), languages_(languages),
        out_(out) {
    for (const auto& a : rule.arguments) {
      arguments_.push_back(a.name);
      if (a.value.expr.yields_literal("-")) dashed_.push_back(a.name);
    }
  }

  void run() {
    std::map<std::string, json> bound;
    if (rule_.each) {
      check(*rule_.each, "each", bound);
      auto list = rule_.each->expr.infer_shape(shape_);
      if (list && !list->is_array()) {
        add(rule_.each->line, "rule '" + rule_.id + "', each: the value is " + kind(*list) + ", not a list");
      }
      bound[rule_.as] = list && list->is_array() && !list->empty() ? (*list)[0] : json();
    }
    if (rule_.when) check(*rule_.when, "when", bound);
    if (rule_.variant) check(*rule_.variant, "variant", bound);
    for (const auto& a : rule_.arguments) check(a.value, "argument '" + a.name + "'", bound);
    texts();
  }

private:
  static std::string kind(const json& v) {
    if (v.is_object()) return "an object";
    if (v.is_string()) return "a string";
    if (v.is_number()) return "a number";
    return "a boolean";
  }

  void add(int line, std::string message) { out_.push_back({rule_.file, line, std::move(message)}); }

  void check(const SourceExpr& e, const std::string& part, const std::map<std::string, json>& bound) {
    for (const auto& issue : e.expr.check_shape(shape_, bound)) {
      add(e.line, "rule '" + rule_.id + "', " + part + ": " + issue.message);
    }
  }

  // Does the profile of `provider` have the text `key` in `lang`?
  bool has_provider_text(const std::string& provider, const std::string& key, const std::string& lang) const {
    auto it = provider_texts_.find(provider);
    if (it == provider_texts_.end() || !it->second.is_object() || !it->second.contains(key)) return false;
    const json& text = it->second[key];
    return text.is_object() && text.contains(lang) && text[lang].is_string();
  }

  // Placeholders must name arguments, or texts that the profile of every provider in `for_providers`
  // defines in `lang`; braces that are not placeholders must be doubled.
  std::set<std::string> check_template(const Text& t, const std::string& where, const std::string& lang,
                                       const std::vector<std::string>& for_providers) {
    const Placeholders p = scan_placeholders(t.value);
    const std::string prefix = "rule '" + rule_.id + "': " + where + ": ";
    // An argument that gives '-' for an absent value is evidence only: in a rule without variants
    // every text is the one shown in that case too, so a text quoting it would print the '-'. (With
    // variants, whether the case has its own words cannot be told here; tests/e2e/no_placeholders.py
    // replays the saved facts for that.)
    if (!rule_.variant)
      for (const auto& name : p.names)
        if (std::find(dashed_.begin(), dashed_.end(), name) != dashed_.end())
          add(t.line, prefix + "{" + name + "} is '-' when the value is absent; give that case a variant " +
                          "with its own words (variant:, variants:) or leave the value to the evidence");
    for (const auto& name : p.names) {
      if (name.starts_with(provider_prefix)) {
        const std::string key = name.substr(provider_prefix.size());
        for (const auto& provider : for_providers)
          if (!has_provider_text(provider, key, lang))
            add(t.line, prefix + "{" + name + "}: the profile of provider '" + provider + "' has no texts." + key +
                            "." + lang);
        continue;
      }
      if (std::find(arguments_.begin(), arguments_.end(), name) == arguments_.end()) {
        add(t.line, prefix + "placeholder {" + name + "} is not an argument" + did_you_mean(name, arguments_));
      }
    }
    if (p.stray_brace) {
      const char c = t.value[*p.stray_brace];
      add(t.line, prefix + "unmatched '" + c + "' at column " + std::to_string(column_of(t.value, *p.stray_brace)) +
                      " (write '" + c + c + "' for a literal brace)");
    }
    return {p.names.begin(), p.names.end()};
  }

  struct Sets {
    std::optional<std::set<std::string>> title;
    std::optional<std::set<std::string>> remediation;
    int title_line = 0;
    int remediation_line = 0;
  };

  // Placeholders of one language's title and remediation (base or variant).
  Sets collect(const LanguageText& lt, const std::string& lang, const std::string& where, bool is_variant) {
    Sets s;
    const std::vector<std::string> known(providers_.begin(), providers_.end());
    std::vector<std::string> everyone = known;
    if (!providers_.count("generic")) everyone.push_back("generic");
    if (lt.title) {
      // A title is shown whatever the provider.
      s.title = check_template(*lt.title, where + ".title", lang, everyone);
      s.title_line = lt.title->line;
    } else if (!is_variant) {
      add(lt.line, "rule '" + rule_.id + "': " + where + " has no 'title'");
    }
    if (!lt.remediation_line) {
      if (!is_variant) add(lt.line, "rule '" + rule_.id + "': " + where + " has no 'remediation'");
      return s;
    }
    if (!lt.remediation.count("generic")) {
      add(*lt.remediation_line, "rule '" + rule_.id + "': " + where + ".remediation has no 'generic'");
    }
    std::set<std::string> all;
    for (const auto& [provider, t] : lt.remediation) {
      if (provider != "generic" && !providers_.count(provider)) {
        add(t.line, "rule '" + rule_.id + "': " + where + ".remediation: unknown provider '" + provider + "'" +
                        did_you_mean(provider, known));
      }
      // A provider's own text is for that provider; 'generic' for the rest and the generic profile.
      std::vector<std::string> for_providers;
      if (provider != "generic") for_providers.push_back(provider);
      else
        for (const auto& p : everyone)
          if (p == "generic" || !lt.remediation.count(p)) for_providers.push_back(p);
      auto names = check_template(t, where + ".remediation." + provider, lang, for_providers);
      all.insert(names.begin(), names.end());
    }
    s.remediation = std::move(all);
    s.remediation_line = *lt.remediation_line;
    return s;
  }

  void texts() {
    for (const auto& lang : languages_) {
      if (!rule_.text.count(lang)) add(rule_.text_line, "rule '" + rule_.id + "' has no text in '" + lang + "'");
    }
    std::vector<std::string> declared;
    for (const auto& [name, def] : rule_.variants) declared.push_back(name);
    std::map<std::string, Sets> sets;
    std::map<std::string, std::map<std::string, Sets>> variant_sets;
    for (const auto& [lang, lt] : rule_.text) {
      const std::string where = "text." + lang;
      sets[lang] = collect(lt, lang, where, false);
      for (const auto& [name, vt] : lt.variants) {
        if (!rule_.variants.count(name)) {
          add(vt.line, "rule '" + rule_.id + "': " + where + ".variants: '" + name + "' is not declared in 'variants'" +
                           did_you_mean(name, declared));
          continue;
        }
        variant_sets[name][lang] = collect(vt, lang, where + ".variants." + name, true);
      }
    }
    compare(sets, "title", [](const Sets& s) { return std::make_pair(&s.title, s.title_line); });
    compare(sets, "remediation", [](const Sets& s) { return std::make_pair(&s.remediation, s.remediation_line); });
    for (const auto& [name, by_lang] : variant_sets) {
      compare(by_lang, "variants." + name + ".title", [](const Sets& s) { return std::make_pair(&s.title, s.title_line); });
      compare(by_lang, "variants." + name + ".remediation",
              [](const Sets& s) { return std::make_pair(&s.remediation, s.remediation_line); });
    }
  }

  // Every language must use the same placeholders in a field as the first configured language.
  template <typename Sets, typename Get>
  void compare(const std::map<std::string, Sets>& sets, const std::string& field, Get get) {
    const std::string* ref_lang = nullptr;
    const std::set<std::string>* ref = nullptr;
    for (const auto& lang : languages_) {
      auto it = sets.find(lang);
      if (it == sets.end()) continue;
      auto [set, line] = get(it->second);
      if (*set) {
        ref_lang = &lang;
        ref = &**set;
        break;
      }
    }
    if (!ref) return;
    for (const auto& [lang, s] : sets) {
      if (lang == *ref_lang) continue;
      auto [set, line] = get(s);
      if (!*set || **set == *ref) continue;
      add(line, "rule '" + rule_.id + "': placeholders of text." + lang + "." + field + " " + braces(**set) +
                    " differ from text." + *ref_lang + "." + field + " " + braces(*ref));
    }
  }

  const Rule& rule_;
  const json& shape_;
  const std::set<std::string>& providers_;
  const std::map<std::string, json>& provider_texts_;
  const std::vector<std::string>& languages_;
  std::vector<LintIssue>& out_;
  std::vector<std::string> arguments_;
  std::vector<std::string> dashed_;  ///< arguments that give '-' for an absent value
};

} // namespace

std::vector<LintIssue> lint(const Catalogue& catalogue, const json& shape, const std::set<std::string>& known_providers,
                            const std::vector<std::string>& languages) {
  return lint(catalogue, shape, known_providers, {}, languages);
}

std::vector<LintIssue> lint(const Catalogue& catalogue, const json& shape, const std::set<std::string>& known_providers,
                            const std::map<std::string, json>& provider_texts, const std::vector<std::string>& languages) {
  std::vector<LintIssue> out;
  for (const auto& d : catalogue.duplicates()) {
    out.push_back({d.file, d.line,
                   "duplicate rule id '" + d.id + "' (also defined at " + d.first_file + ":" +
                       std::to_string(d.first_line) + ")"});
  }
  for (const auto& rule : catalogue.rules()) RuleLinter(rule, shape, known_providers, provider_texts, languages, out).run();
  std::stable_sort(out.begin(), out.end(), [](const LintIssue& a, const LintIssue& b) {
    return a.file != b.file ? a.file < b.file : a.line < b.line;
  });
  return out;
}

} // namespace certdoctor::rules
