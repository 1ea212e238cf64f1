#pragma once
// Renderers of a triage: what the input is, what the notice means and what the provider does
// next, the CA's cause, then the live check of each domain. Text, Markdown, JSON, and a complete
// MIME reply to the original mail (GMime). They judge nothing.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "report/report.hpp"
#include "triage/triage.hpp"

namespace certdoctor::report {

/// What the history of checks says about a triaged domain (see pipeline::compare_with_history),
/// as the front end rendered it.
struct TriageHistory {
  std::string state;            ///< compared | never-passed | no-record
  std::int64_t from_id = 0;     ///< compared: the last passing check
  std::string from_time;        ///< compared: when it was made, as the reports show times (JST)
  std::size_t recorded = 0;     ///< checks of the domain in the history
  std::string first_recorded;   ///< never-passed: when the first of them was made (JST)
  nlohmann::json diff;          ///< compared: the comparison (diff::render_json: sentences, titles)
  std::string text;             ///< compared: the comparison as text at the width of the report
};

/// One live check of a triaged domain.
struct TriageCheck {
  std::string domain;
  Report report;
  std::optional<TriageHistory> history;  ///< when a history was consulted
};

/// Everything the triage renderers need, in one language.
struct TriageReport {
  std::string lang;
  const triage::Triage* triage = nullptr;
  std::string provider_name;        // in `lang`; "" when no provider was recognised
  std::string means, next;          // the notice's texts in `lang`
  bool offline = true;
  std::vector<TriageCheck> checks;
  std::string verdict;              // "offline", or the worst verdict of the checks
  std::size_t input_size = 0;
  const Labels* diff_words = nullptr;  // reports/diff.yaml, for the comparisons with the history
  std::string history_error;        // the history could not be read: why (the report goes on)
};

/// The documented JSON document (see README, "certdoctor triage").
nlohmann::json render_triage_json(const TriageReport&);
/// Plain text, wrapped to `width` columns; the checks follow in check's own text form.
std::string render_triage_text(const TriageReport&, const Labels& triage_labels, const Labels& labels, int width, bool color);
/// Markdown for tickets.
std::string render_triage_markdown(const TriageReport&, const Labels& triage_labels, const Labels& labels);
/// One self-contained HTML page (the policy and style of report::render_html): the triage, then
/// each live check with its validation path, and what changed since each domain last passed.
std::string render_triage_html(const TriageReport&, const Labels& triage_labels, const Labels& labels);
/// A complete reply to the triaged mail (RFC 5322, MIME, UTF-8 text/plain): From `from`, To the
/// original's Reply-To or From (or `to`), Subject "Re: ...", In-Reply-To and References. Throws
/// UsageError when the input was not a mail.
std::string render_triage_eml(const TriageReport&, const Labels& triage_labels, const Labels& labels, const std::string& from,
                              const std::string& to);

} // namespace certdoctor::report
