#pragma once
// Renderers of a triage: what the input is, what the notice means and what the provider does
// next, the CA's cause, then the live check of each domain. Text, Markdown, JSON, and a complete
// MIME reply to the original mail (GMime). They judge nothing.
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "report/report.hpp"
#include "triage/triage.hpp"

namespace certdoctor::report {

/// One live check of a triaged domain.
struct TriageCheck {
  std::string domain;
  Report report;
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
};

/// The documented JSON document (see README, "certdoctor triage").
nlohmann::json render_triage_json(const TriageReport&);
/// Plain text, wrapped to `width` columns; the checks follow in check's own text form.
std::string render_triage_text(const TriageReport&, const Labels& triage_labels, const Labels& labels, int width, bool color);
/// Markdown for tickets.
std::string render_triage_markdown(const TriageReport&, const Labels& triage_labels, const Labels& labels);
/// A complete reply to the triaged mail (RFC 5322, MIME, UTF-8 text/plain): From `from`, To the
/// original's Reply-To or From (or `to`), Subject "Re: ...", In-Reply-To and References. Throws
/// UsageError when the input was not a mail.
std::string render_triage_eml(const TriageReport&, const Labels& triage_labels, const Labels& labels, const std::string& from,
                              const std::string& to);

} // namespace certdoctor::report
