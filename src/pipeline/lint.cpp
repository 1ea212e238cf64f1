#include "pipeline/lint.hpp"

#include <map>
#include <set>
#include <string>

#include "facts/facts.hpp"
#include "triage/acme.hpp"
#include "triage/module.hpp"
#include "view/derive.hpp"

namespace certdoctor::pipeline {

using nlohmann::json;

std::vector<rules::LintIssue> lint_knowledge(const Knowledge& k) {
  std::set<std::string> providers;
  std::map<std::string, json> provider_texts;
  for (const auto& [id, prof] : k.data.providers()) {
    providers.insert(id);
    provider_texts[id] = prof.data.value("texts", json::object());
  }
  facts::Facts sample = facts::sample();
  json shape = view::derive(sample, view::DeriveContext{k.data, k.classifier});
  auto issues = rules::lint(k.catalogue, shape, providers, provider_texts);
  // Every cited document exists, and a document about one provider's service (`provider:` in
  // sources.yaml) is cited only for that provider: under `generic` it would be cited for a
  // domain at any provider, or at none that was recognised.
  auto check_sources = [&](const rules::Rule& r, const std::map<std::string, std::string>& sources, int line,
                           const std::string& where) {
    for (const auto& [provider, id] : sources) {
      if (!k.sources.contains(id)) {
        issues.push_back(rules::LintIssue{r.file, line, where + ": unknown source '" + id + "' (not in sources.yaml)"});
        continue;
      }
      const json& doc = k.sources[id];
      const std::string about = doc.is_object() && doc.contains("provider") && doc["provider"].is_string()
                                    ? doc["provider"].get<std::string>() : "";
      if (provider != "generic" && !providers.count(provider))
        issues.push_back(rules::LintIssue{r.file, line, where + ": source for unknown provider '" + provider + "'"});
      if (!about.empty() && about != provider)
        issues.push_back(rules::LintIssue{
            r.file, line,
            where + ": source '" + id + "' is about " + about + "'s service but is cited for " +
                (provider == "generic" ? std::string("every provider") : "'" + provider + "'") +
                "; cite it under '" + about + ":' and give a generic document"});
    }
  };
  for (const auto& r : k.catalogue.rules()) {
    check_sources(r, r.sources, r.line, "rule '" + r.id + "'");
    for (const auto& [name, def] : r.variants) check_sources(r, def.sources, def.line, "rule '" + r.id + "', variant '" + name + "'");
  }
  // A document's address, where it has one, is one https URL a reader can open.
  for (const auto& [id, doc] : k.sources.items()) {
    if (!doc.is_object() || !doc.contains("url")) continue;
    const json& url = doc["url"];
    bool ok = url.is_string() && url.get<std::string>().rfind("https://", 0) == 0 && url.get<std::string>().size() > 8;
    if (ok)
      for (unsigned char c : url.get<std::string>())
        if (c <= ' ' || c == 0x7f) ok = false;
    if (!ok)
      issues.push_back(rules::LintIssue{"rules/sources.yaml", 0, "source '" + id + "': url must be one https:// address without spaces"});
  }
  // follows_from names rules that exist, and never the rule itself.
  for (const auto& r : k.catalogue.rules())
    for (const auto& id : r.follows_from)
      if (id == r.id || !k.catalogue.find(id))
        issues.push_back(rules::LintIssue{r.file, r.follows_from_line, "rule '" + r.id + "': follows_from names " +
                                                                         (id == r.id ? "the rule itself" : "unknown rule '" + id + "'")});
  // Every named argument is shown as evidence in the words of reports/labels.yaml (or marked `~`
  // there as feeding the texts only), in every language a rule is written in.
  for (const auto& r : k.catalogue.rules())
    for (const auto& [lang, text] : r.text)
      for (const auto& a : r.arguments)
        if (!k.labels.find(lang, "arguments." + a.name))
          issues.push_back(rules::LintIssue{r.file, a.value.line, "rule '" + r.id + "': argument '" + a.name +
                                                                "' has no evidence label in reports/labels.yaml (" + lang +
                                                                ".arguments." + a.name + "; ~ to leave it out)"});
  // The command line's error messages (labels.yaml errors:): every message in every language of
  // the labels, with the same {placeholders} as in English.
  const auto placeholders = [](const std::string& text) {
    std::set<std::string> out;
    for (std::size_t at = text.find('{'); at != std::string::npos; at = text.find('{', at + 1))
      if (const auto close = text.find('}', at); close != std::string::npos) out.insert(text.substr(at, close - at + 1));
    return out;
  };
  if (const json* en = k.labels.find("en", "errors"); en && en->is_object())
    for (const std::string lang : {"ja"})
      for (const auto& [key, text] : en->items()) {
        const json* other = k.labels.find(lang, "errors." + key);
        if (!other || !other->is_string())
          issues.push_back(rules::LintIssue{"reports/labels.yaml", 0, "error message '" + key + "' has no " + lang + " text"});
        else if (text.is_string() && placeholders(other->get<std::string>()) != placeholders(text.get<std::string>()))
          issues.push_back(rules::LintIssue{"reports/labels.yaml", 0, "error message '" + key + "': the " + lang +
                                                                          " text has other {placeholders} than the en one"});
      }
  // The triage data: ACME causes must name finding ids that exist, notice kinds must be unique
  // and cite known sources. Loading already rejected invalid patterns and missing languages.
  triage::AcmeCatalogue acme = triage::module().load_acme(k.dirs);
  std::set<std::string> ids(acme.other_ids.begin(), acme.other_ids.end());
  for (const auto& r : k.catalogue.rules()) ids.insert(r.id);
  for (const auto& c : acme.causes)
    if (!c.finding.empty() && !ids.count(c.finding))
      issues.push_back(rules::LintIssue{c.file, c.line, "ACME cause '" + c.id + "': unknown finding id '" + c.finding +
                                                            "' (not a rule id, nor in other_ids)"});
  // Triage names cdn-proxy and aaaa-not-host from the evidence; their notes must exist.
  for (const char* named : {"cdn-proxy", "aaaa-not-host"})
    if (!acme.finding_notes.count(named) && !acme.files.empty())
      issues.push_back(rules::LintIssue{acme.files.front(), 1, std::string("ACME notes: no note for '") + named + "'"});
  for (const auto& [finding, note] : acme.finding_notes)
    if (!ids.count(finding))
      issues.push_back(rules::LintIssue{acme.files.front(), 1, "ACME notes: unknown finding id '" + finding + "'"});
  std::map<std::string, std::string> kinds;
  for (const auto& [id, prof] : k.data.providers()) {
    // A recognised notice needs a reachable threshold: the positive weights must be able to add
    // up to it, or no mail of the provider could ever be a notice.
    const auto& nt = prof.notices;
    if (!nt.kinds.empty() && nt.threshold <= 0)
      issues.push_back(rules::LintIssue{prof.file, 1, "notices: 'recognition' needs a threshold above 0"});
    for (const auto& kind : nt.kinds)
      for (const auto& group : kind.words)
        for (const auto& w : group)
          if (w == "@failure" && nt.failure_words.empty())
            issues.push_back(rules::LintIssue{prof.file, kind.line, "notice kind '" + kind.id +
                                                                        "': '@failure' but no failure_words in 'recognition'"});
  }
  for (const auto& [id, prof] : k.data.providers())
    for (const auto& kind : prof.notices.kinds) {
      if (kinds.count(kind.id) && kinds[kind.id] != prof.file)
        issues.push_back(rules::LintIssue{prof.file, kind.line, "notice kind '" + kind.id + "' is also defined in " + kinds[kind.id]});
      kinds[kind.id] = prof.file;
      if (kind.id == "unrelated" || kind.id == "acme-error")
        issues.push_back(rules::LintIssue{prof.file, kind.line, "notice kind '" + kind.id + "' is reserved by triage"});
      if (!kind.source.empty() && !k.sources.contains(kind.source))
        issues.push_back(rules::LintIssue{prof.file, kind.line, "notice kind '" + kind.id + "': unknown source '" + kind.source + "'"});
    }
  return issues;
}

} // namespace certdoctor::pipeline
