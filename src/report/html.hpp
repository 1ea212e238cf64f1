#pragma once
// The HTML report: one self-contained page (inline CSS, no script, nothing fetched) for attaching
// to a ticket or a mail. It shows the findings as the text report does and, beside them, the
// validation path as the CA walks it and the nameserver delegation, drawn from the view's data
// (`picture_of`); it judges nothing.
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "report/report.hpp"

namespace certdoctor::report {

/// `text` safe inside HTML text and attribute values: & < > " ' as character references, C0 and
/// C1 control characters and DEL (a newline and a tab kept) as a visible "\xNN", every byte that
/// is not part of valid UTF-8 as U+FFFD. The one escaping function of the HTML renderer.
std::string escape_html(std::string_view text);

/// What the pictures draw, taken from the view (names, `web.challenges`, `delegation`, the CA
/// model) with each finding (an index into `paragraphs`) placed beside the step it is about:
///   {"ca": {name, address_preference, ipv4_fallback},
///    "token": the challenge token (shortened in URLs shown),
///    "names": [{name, display, role, status, first, fallback,
///               "addresses": [{address, family, order: first|fallback|none, ca_role, requested, cause,
///                              kind, violation, off_host, no_site, end, unreachable, reserved_name,
///                              state: ok|error|warning|stopped|unused,
///                              "hops": [{url, status, server, outcome, location, followed, failing}],
///                              "findings": [i...]}],
///               "findings": [i...]}],                     // about the name, beside no address
///    "delegation": {zone, parent_zone, status, provider_recognised,
///                   "servers": [{name, in_parent, in_child, lame, reason}], "findings": [i...]}}
/// A finding goes beside an address when its evidence names that name and that address, else
/// beside its name, else (no name) beside the delegation when its evidence is about nameservers.
nlohmann::json picture_of(const nlohmann::json& view, const std::vector<RenderedFinding>& paragraphs);

/// The CSS of every page (no attribute styles are used, so a policy by hash covers all of it).
const std::string& html_style();
/// "'sha256-BASE64'" of html_style(), for a Content-Security-Policy style-src.
std::string html_style_hash();

/// The page: verdict, findings as in the text report (paragraphs, follows_from grouping, evidence,
/// remediation), the validation path and the delegation. Needs `report.picture` (set by build()
/// unless it was asked for none): throws std::logic_error without it.
std::string render_html(const Report& report, const Labels& labels);
/// The same check as a <section> of a larger page (a triage of several domains): headings one
/// level down, every id and in-page link prefixed with `id_prefix`.
std::string render_html_section(const Report& report, const Labels& labels, const std::string& id_prefix);
/// The start of a page in `lang` with `title` (escaped here): the policy (`default-src 'none'`, the
/// style by its hash), the style, up to the opening <body>; and its end. Every page uses these.
std::string html_document_head(const std::string& lang, const std::string& title);
std::string html_document_tail();

} // namespace certdoctor::report
