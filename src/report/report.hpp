#pragma once
// Renderers: they turn findings into text, JSON or Markdown in one language. They judge
// nothing; every word comes from the rule catalogue or reports/labels.yaml.
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "facts/facts.hpp"
#include "rules/catalogue.hpp"
#include "rules/engine.hpp"
#include "report/wrap.hpp"

namespace certdoctor::report {

/// One finding with its texts filled in for a language and provider.
struct RenderedFinding {
  std::string id;
  std::string severity;
  std::string title;
  std::string remediation;
  nlohmann::json evidence;  // the finding's named arguments
  std::string source;       // source document id
  std::string source_title; // its title in the report's language
  std::string follows;      // the id of the finding above that explains this one (follows_from), or ""
  std::string source_url = {};  // where to read the source document (https), or "" when it has no public address
};

/// Everything a renderer needs, already in the report's language.
struct Report {
  std::string lang;
  std::string domain;          // ASCII
  std::string domain_display;  // Unicode
  std::vector<nlohmann::json> names;  // {name, display, role}
  std::string verdict;         // ok | warning | fail | incomplete
  std::string provider_id;
  std::string provider_name;
  std::string provider_source;
  std::vector<std::string> host_addresses;
  std::string host_source;
  // How the hosting server was identified: one item per source that said something
  // ({key, name, addresses, said}; key selects the sentence in reports/labels.yaml host_how_items).
  nlohmann::json host_how = nlohmann::json::array();
  std::vector<RenderedFinding> findings;  // one per finding, as the rules gave them (JSON)
  /// The findings as a person reads them (text, Markdown): a finding that holds alike for several
  /// names (apex and www) is one paragraph naming them all, its `name` evidence a list.
  std::vector<RenderedFinding> paragraphs;
  std::vector<std::string> incomplete;
  double elapsed_s = 0;
  std::string collected_at;    // RFC 3339, UTC: when the facts were gathered
  bool replayed = false;       // judged again from saved facts (explain), not a live check
  std::size_t queries = 0;
  nlohmann::json facts;
  /// What the HTML report draws (the validation path, the delegation): see picture_of() in html.hpp.
  /// null when build() was asked for no picture (no HTML rendering): render_html() refuses it then.
  nlohmann::json picture;
};

/// "2026-11-20 14:03 JST" for an RFC 3339 time in UTC; the text as given when it does not parse.
std::string collected_jst(const std::string& rfc3339);

/// The renderers' own words per language, from reports/labels.yaml.
class Labels {
 public:
  /// Loads `<dir>/<name>` (a `labels:` map per language); throws ConfigError naming the file
  /// when it is missing or malformed.
  static Labels load(const std::filesystem::path& reports_dir, const std::string& name = "labels.yaml");
  /// The label at a dotted key ("verdicts.fail") for a language; the key itself when absent.
  std::string get(const std::string& lang, const std::string& key) const;
  /// The node at a dotted key, or nullptr when absent (a YAML `~` is a null node, not absent).
  const nlohmann::json* find(const std::string& lang, const std::string& key) const;

  /// The loaded labels as JSON (the `labels:` map), for the built-in data compiled into the
  /// binary; from_json() reads it back and throws ConfigError when it is not a map.
  const nlohmann::json& to_json() const { return data_; }
  static Labels from_json(nlohmann::json j);

  bool operator==(const Labels&) const = default;

 private:
  nlohmann::json data_;
};

/// Verdict from findings: "fail" with any error, "warning" with any warning, else "ok";
/// "incomplete" when facts gathering could not finish.
std::string verdict_of(const std::vector<rules::Finding>& findings, bool complete);

/// A finding's evidence as a person reads it: one (label, value) per named argument, in the words
/// of labels.yaml `arguments:`, leaving out what says nothing (empty, "-", an empty list) and the
/// arguments marked `~` there (they feed the texts only); an enumerated value in the words of
/// `values.ARGUMENT.VALUE` when labels.yaml has them. The name comes first, then the domain,
/// the zone and the addresses, then the rest in alphabetical order.
std::vector<std::pair<std::string, std::string>> evidence_lines(const nlohmann::json& evidence, const Labels& labels,
                                                                const std::string& lang);

/// Findings that differ only in the name they are about (same rule, variant and source, the same
/// texts and evidence once the name is set aside) as one, rendered again with the names joined
/// ("a、b" in Japanese, "a (and b)" in English; a command in `code` once per name). Order: where the first of them was.
std::vector<RenderedFinding> paragraphs_of(const std::vector<rules::Finding>& sorted, const rules::Catalogue& catalogue,
                                           const std::vector<RenderedFinding>& rendered, const std::string& lang,
                                           const std::string& provider_id, const nlohmann::json& provider_texts);

/// Orders findings by cause: one whose rule `follows_from` another finding present in the list
/// comes right after it (after that one's own followers), with `follows` set to its id; the
/// others keep their order. A cycle of follows_from leaves its members where they were.
void order_by_cause(std::vector<RenderedFinding>& findings, const rules::Catalogue& catalogue);

/// Builds the report: findings sorted by severity (errors first), texts filled in; with `picture`,
/// also what the HTML report draws (picture_of), which only render_html() and
/// render_html_section() read.
Report build(const facts::Facts& facts, const nlohmann::json& view, const std::vector<rules::Finding>& findings,
             const rules::Catalogue& catalogue, const nlohmann::json& sources, const std::string& lang,
             bool picture = true);
/// The same, with the facts' JSON handed over (`facts_json`: the view's "facts" member, moved out
/// of a view whose reader no longer needs it) instead of copied from the view.
Report build_with_facts(const facts::Facts& facts, const nlohmann::json& view, nlohmann::json&& facts_json,
                        const std::vector<rules::Finding>& findings, const rules::Catalogue& catalogue,
                        const nlohmann::json& sources, const std::string& lang, bool picture = true);

/// Plain text for a terminal or a pipe, wrapped to `width` columns (East Asian wide
/// characters count two); ANSI colour only when `color` is set.
std::string render_text(const Report& report, const Labels& labels, int width, bool color);
/// The documented JSON document: domain, names, verdict, findings, facts.
nlohmann::json render_json(const Report& report);
/// One line of `batch`'s output: render_json's document with the input's `line` number, compact,
/// without the final newline.
std::string render_ndjson(const Report& report, std::size_t line);
/// Markdown for tickets and web pages.
std::string render_markdown(const Report& report, const Labels& labels);

} // namespace certdoctor::report
