#pragma once
// A comparison for people: each change in the words of reports/diff.yaml ("the nameservers at
// the parent moved from ... to ... between ... and ..."), the findings it explains, and the
// findings that appeared or went; wrapped like the report (report::wrap).
#include <string>

#include <nlohmann/json.hpp>

#include "diff/diff.hpp"
#include "report/report.hpp"
#include "rules/catalogue.hpp"

namespace certdoctor::diff {

/// One change as a sentence, without the findings it explains: "the AAAA record of example.jp
/// was added: 2001:db8::1, between 2026-10-02 and 2026-11-20".
std::string describe(const Change& change, const report::Labels& words, const std::string& lang);

/// The comparison as text in `lang` (ja or en), wrapped at `width` columns (0: no wrapping).
/// Finding titles come from the catalogue, with the later check's provider texts.
std::string render_text(const Result& result, const rules::Catalogue& catalogue, const report::Labels& words,
                        const std::string& lang, int width);

/// to_json(result) with each change's sentence and each finding's title in `lang`.
nlohmann::json render_json(const Result& result, const rules::Catalogue& catalogue, const report::Labels& words,
                           const std::string& lang);

} // namespace certdoctor::diff
