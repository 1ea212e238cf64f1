#include "report/triage_report.hpp"

#include "util/text.hpp"

#include "triage/module.hpp"

#include "report/html.hpp"
#include "rules/catalogue.hpp"

#include <sstream>

#include "util/error.hpp"

namespace certdoctor::report {

using nlohmann::json;

namespace {

json cause_json(const triage::AcmeCause& c) {
  return {{"finding", c.finding.empty() ? json(nullptr) : json(c.finding)},
          {"rule", c.rule},
          {"type", c.type},
          {"domain", c.domain},
          {"detail", c.detail},
          {"evidence", c.evidence},
          {"note", c.note}};
}

std::string label_or(const Labels& L, const std::string& lang, const std::string& key, const std::string& fallback) {
  std::string v = L.get(lang, key);
  return v == key ? fallback : v;
}

std::string evidence_text(const json& ev) {
  std::string out;
  for (const auto& [k, v] : ev.items()) out += (out.empty() ? "" : "; ") + k + "=" + (v.is_string() ? v.get<std::string>() : v.dump());
  return out;
}

// The triage part of the report as (label, value) lines, shared by text, Markdown and mail.
struct Line {
  std::string label, value;
};

std::vector<Line> summary(const TriageReport& r, const Labels& T) {
  const auto& t = *r.triage;
  const std::string& lang = r.lang;
  std::vector<Line> out;
  out.push_back({T.get(lang, "input"), label_or(T, lang, "inputs." + t.input_type, t.input_type)});
  if (t.input_type == "mail" && !t.mail.messages.empty()) {
    out.push_back({T.get(lang, "subject"), t.mail.messages[0].subject});
    if (!t.mail.messages[0].from.empty()) out.push_back({T.get(lang, "from"), t.mail.messages[0].from});
  }
  if (!t.client.empty()) out.push_back({T.get(lang, "client"), t.client});
  out.push_back({T.get(lang, "provider"), r.provider_name.empty() ? T.get(lang, "provider_unknown") : r.provider_name});
  out.push_back({T.get(lang, "kind"), t.notice ? t.kind : t.kind + ": " + label_or(T, lang, "kinds." + t.kind, t.kind)});
  std::string domains;
  for (const auto& d : t.domains)
    domains += (domains.empty() ? "" : ", ") + d.unicode + (d.unicode != d.ascii ? " (" + d.ascii + ")" : "");
  out.push_back({T.get(lang, "domains"), domains.empty() ? T.get(lang, "domains_none") : domains});
  for (const auto& [field, values] : t.ids) {
    std::string v;
    for (const auto& x : values) v += (v.empty() ? "" : ", ") + x;
    out.push_back({label_or(T, lang, "ids." + field, field), v});
  }
  if (!t.account.empty()) out.push_back({T.get(lang, "account"), t.account});
  if (t.input_type == "mail" && !t.recognition.cues.empty()) {
    std::string v = std::to_string(t.recognition.score) + "/" + std::to_string(t.recognition.threshold) + ":";
    for (const auto& c : t.recognition.cues)
      v += " " + c.cue + "(" + c.what + ")" + (c.weight >= 0 ? "+" : "") + std::to_string(c.weight);
    out.push_back({T.get(lang, "recognition"), v});
  }
  return out;
}

std::vector<Line> cause_lines(const TriageReport& r, const Labels& T, const triage::AcmeCause& c) {
  const std::string& lang = r.lang;
  std::vector<Line> out;
  std::string what = c.finding.empty() ? T.get(lang, "cause_unmapped")
                                       : c.finding + ": " + label_or(T, lang, "findings." + c.finding, c.finding);
  if (!c.domain.empty()) what = c.domain + ": " + what;
  out.push_back({T.get(lang, "cause"), what});
  out.push_back({T.get(lang, "detail"), c.detail});
  if (!c.evidence.empty()) out.push_back({T.get(lang, "evidence"), evidence_text(c.evidence)});
  if (c.note.is_object() && c.note.contains(lang)) out.push_back({T.get(lang, "cause_note"), c.note[lang].get<std::string>()});
  return out;
}

// The sentence that opens what the history says about one domain.
std::string history_intro(const TriageReport& r, const Labels& T, const TriageCheck& c) {
  const TriageHistory& h = *c.history;
  const std::string& lang = r.lang;
  if (h.state == "compared")
    return rules::fill_placeholders(T.get(lang, "history.compared"),
                                    {{"domain", c.report.domain_display}, {"id", std::to_string(h.from_id)}, {"when", h.from_time}});
  if (h.state == "never-passed")
    return rules::fill_placeholders(T.get(lang, "history.never_passed"), {{"domain", c.report.domain_display},
                                                                          {"count", std::to_string(h.recorded)},
                                                                          {"when", h.first_recorded}});
  return rules::fill_placeholders(T.get(lang, "history.no_record"), {{"domain", c.report.domain_display}});
}

// A comparison as plain items: the changes' sentences, and each finding that appeared or went with
// the changes that explain it, in the words of reports/diff.yaml.
struct HistoryItems {
  std::string none;  // when nothing changed: the sentence that says so
  std::vector<std::string> changes;
  struct Delta {
    std::string state, id, title, explained;
  };
  std::vector<Delta> findings;
};

HistoryItems history_items(const TriageReport& r, const TriageHistory& h) {
  HistoryItems out;
  const json& d = h.diff;
  const Labels empty;
  const Labels& W = r.diff_words ? *r.diff_words : empty;
  for (const auto& c : d.value("changes", json::array())) out.changes.push_back(c.value("text", ""));
  for (const auto& f : d.value("findings", json::array())) {
    std::string by;
    for (const auto& i : f.value("explained_by", json::array()))
      if (i.is_number_unsigned()) by += (by.empty() ? "" : ", ") + std::to_string(i.get<std::size_t>() + 1);
    out.findings.push_back({W.get(r.lang, f.value("state", "")), f.value("id", ""), f.value("title", ""),
                            by.empty() ? W.get(r.lang, "unexplained")
                                       : rules::fill_placeholders(W.get(r.lang, "explained_by"), {{"changes", by}})});
  }
  if (out.changes.empty()) out.none = W.get(r.lang, out.findings.empty() ? "nothing" : "nothing_but_findings");
  return out;
}

} // namespace

json render_triage_json(const TriageReport& r) {
  const auto& t = *r.triage;
  json input = {{"type", t.input_type}, {"size", r.input_size}};
  if (t.input_type == "mail") {
    const auto& m = t.mail;
    input["subject"] = m.messages.empty() ? "" : m.messages[0].subject;
    input["from"] = m.messages.empty() ? "" : m.messages[0].from;
    input["message_id"] = m.message_id;
    json msgs = json::array();
    for (const auto& x : m.messages) msgs.push_back({{"subject", x.subject}, {"from", x.from}, {"origin", x.origin}});
    input["messages"] = msgs;
  }
  if (!t.client.empty()) input["client"] = t.client;
  json domains = json::array();
  for (const auto& d : t.domains) domains.push_back({{"ascii", d.ascii}, {"unicode", d.unicode}});
  json ids = json::object();
  for (const auto& [k, v] : t.ids) ids[k] = v;
  json causes = json::array();
  for (const auto& c : t.causes) causes.push_back(cause_json(c));
  json recognition = nullptr;
  if (t.input_type == "mail") {
    json cues = json::array();
    for (const auto& c : t.recognition.cues) cues.push_back({{"cue", c.cue}, {"what", c.what}, {"weight", c.weight}});
    recognition = {{"provider", t.recognition.provider.empty() ? json(nullptr) : json(t.recognition.provider)},
                   {"kind", t.recognition.kind.empty() ? json(nullptr) : json(t.recognition.kind)},
                   {"score", t.recognition.score},
                   {"threshold", t.recognition.threshold},
                   {"cues", cues}};
  }
  json checks = json::array();
  for (const auto& c : r.checks) {
    json check = render_json(c.report);
    if (c.history) {
      const TriageHistory& h = *c.history;
      check["history"] = {{"state", h.state},
                          {"from_id", h.state == "compared" ? json(h.from_id) : json(nullptr)},
                          {"recorded", h.recorded},
                          {"diff", h.state == "compared" ? h.diff : json(nullptr)}};
    } else {
      check["history"] = nullptr;
    }
    checks.push_back(std::move(check));
  }
  json out = {{"input", input},
              {"provider", t.provider.empty() ? json(nullptr) : json{{"id", t.provider}, {"name", r.provider_name}}},
              {"kind", t.kind},
              {"matched_by", t.matched_by},
              {"notice", t.notice ? json{{"means", r.means}, {"next", r.next}, {"source", t.notice->source}} : json(nullptr)},
              {"domains", domains},
              {"ids", ids},
              {"account", t.account.empty() ? json(nullptr) : json(t.account)},
              {"recognition", recognition},
              {"acme", {{"cause", causes.empty() ? json(nullptr) : causes[0]}, {"causes", causes}}},
              {"checks", checks},
              {"offline", r.offline},
              {"verdict", r.verdict},
              {"lang", r.lang},
              {"notes", t.notes},
              {"history_error", r.history_error.empty() ? json(nullptr) : json(r.history_error)}};
  return out;
}

std::string render_triage_text(const TriageReport& r, const Labels& T, const Labels& L, int width, bool color) {
  const std::string& lang = r.lang;
  std::ostringstream out;
  auto bold = [&](const std::string& s) { return color ? "\033[1m" + s + "\033[0m" : s; };
  auto field = [&](const Line& l) {
    for (const auto& line : wrap(l.label + ": " + l.value, width - 2, 4)) out << "  " << line << '\n';
  };
  out << bold(T.get(lang, "heading")) << '\n';
  for (const auto& l : summary(r, T)) field(l);
  out << '\n';
  if (r.triage->notice) {
    field({T.get(lang, "means"), r.means});
    out << '\n';
    field({T.get(lang, "next"), r.next});
    out << '\n';
  }
  for (const auto& c : r.triage->causes) {
    for (const auto& l : cause_lines(r, T, c)) field(l);
    out << '\n';
  }
  if (!r.triage->notes.empty()) {
    out << "  " << T.get(lang, "notes") << ":\n";
    for (const auto& n : r.triage->notes)
      for (const auto& line : wrap("- " + n, width - 4, 2)) out << "    " << line << '\n';
    out << '\n';
  }
  if (r.offline) {
    for (const auto& line : wrap(T.get(lang, "offline"), width - 2, 0)) out << "  " << line << '\n';
  } else {
    if (!r.history_error.empty()) {
      for (const auto& line : wrap(rules::fill_placeholders(T.get(lang, "history.unreadable"), {{"reason", r.history_error}}),
                                   width - 2, 0))
        out << "  " << line << '\n';
      out << '\n';
    }
    for (const auto& c : r.checks) {
      out << bold("── " + T.get(lang, "checks") + ": " + c.report.domain_display) << '\n';
      out << render_text(c.report, L, width, color) << '\n';
      if (!c.history) continue;
      out << bold("── " + T.get(lang, "history.heading") + ": " + c.report.domain_display) << '\n';
      for (const auto& line : wrap(history_intro(r, T, c), width - 2, 0)) out << "  " << line << '\n';
      if (c.history->state == "compared") out << '\n' << c.history->text;
      out << '\n';
    }
  }
  return out.str();
}

std::string render_triage_markdown(const TriageReport& r, const Labels& T, const Labels& L) {
  const std::string& lang = r.lang;
  std::ostringstream out;
  out << "# " << T.get(lang, "heading") << "\n\n";
  for (const auto& l : summary(r, T)) out << "- **" << l.label << "**: " << l.value << '\n';
  out << '\n';
  if (r.triage->notice) {
    out << "## " << T.get(lang, "means") << "\n\n" << r.means << "\n\n";
    out << "## " << T.get(lang, "next") << "\n\n" << r.next << "\n\n";
  }
  if (!r.triage->causes.empty()) {
    out << "## " << T.get(lang, "cause") << "\n\n";
    for (const auto& c : r.triage->causes) {
      auto lines = cause_lines(r, T, c);
      out << "- **" << lines[0].value << "**\n";
      for (std::size_t i = 1; i < lines.size(); ++i) out << "  - " << lines[i].label << ": `" << lines[i].value << "`\n";
    }
    out << '\n';
  }
  if (!r.triage->notes.empty()) {
    out << "## " << T.get(lang, "notes") << "\n\n";
    for (const auto& n : r.triage->notes) out << "- " << n << '\n';
    out << '\n';
  }
  if (r.offline) out << "_" << T.get(lang, "offline") << "_\n";
  else
    for (const auto& c : r.checks) {
      std::string md = render_markdown(c.report, L);
      // Each check's headings move one level down, below the triage.
      std::string shifted;
      std::istringstream in(md);
      for (std::string line; std::getline(in, line);) shifted += (line.rfind("#", 0) == 0 ? "#" + line : line) + "\n";
      out << shifted;
      if (!c.history) continue;
      out << "### " << T.get(lang, "history.heading") << "\n\n" << history_intro(r, T, c) << "\n\n";
      if (c.history->state != "compared") continue;
      const HistoryItems items = history_items(r, *c.history);
      if (!items.none.empty()) out << items.none << "\n\n";
      for (std::size_t i = 0; i < items.changes.size(); ++i) out << i + 1 << ". " << items.changes[i] << '\n';
      if (!items.changes.empty()) out << '\n';
      for (const auto& f : items.findings)
        out << "- **" << f.state << "** `" << f.id << "` " << f.title << " — " << f.explained << '\n';
      if (!items.findings.empty()) out << '\n';
    }
  if (!r.history_error.empty())
    out << "_" << rules::fill_placeholders(T.get(lang, "history.unreadable"), {{"reason", r.history_error}}) << "_\n";
  return out.str();
}

std::string render_triage_html(const TriageReport& r, const Labels& T, const Labels& L) {
  const std::string& lang = r.lang;
  const auto e = [](const std::string& text) { return escape_html(text); };
  std::ostringstream o;
  o << html_document_head(lang, T.get(lang, "heading"));
  o << "<header class=\"page triage\">\n<h1>" << e(T.get(lang, "heading")) << "</h1>\n<dl class=\"summary\">\n";
  for (const auto& l : summary(r, T)) o << "<dt>" << e(l.label) << "</dt><dd>" << e(l.value) << "</dd>\n";
  o << "</dl>\n</header>\n<main class=\"triage\">\n<section class=\"notice\">\n";
  if (r.triage->notice)
    o << "<div class=\"card\" id=\"means\"><h2>" << e(T.get(lang, "means")) << "</h2><p>" << e(r.means) << "</p><h2>"
      << e(T.get(lang, "next")) << "</h2><p>" << e(r.next) << "</p></div>\n";
  for (const auto& c : r.triage->causes) {
    const auto lines = cause_lines(r, T, c);
    o << "<div class=\"card cause\"><h2>" << e(lines[0].label) << "</h2><p>" << e(lines[0].value) << "</p><dl class=\"evidence\">";
    for (std::size_t i = 1; i < lines.size(); ++i) o << "<dt>" << e(lines[i].label) << "</dt><dd>" << e(lines[i].value) << "</dd>";
    o << "</dl></div>\n";
  }
  if (!r.triage->notes.empty()) {
    o << "<div class=\"card\" id=\"notes\"><h2>" << e(T.get(lang, "notes")) << "</h2><ul>";
    for (const auto& n : r.triage->notes) o << "<li>" << e(n) << "</li>";
    o << "</ul></div>\n";
  }
  if (r.offline) o << "<p class=\"card\" id=\"offline\">" << e(T.get(lang, "offline")) << "</p>\n";
  if (!r.history_error.empty())
    o << "<p class=\"card\" id=\"history-error\">"
      << e(rules::fill_placeholders(T.get(lang, "history.unreadable"), {{"reason", r.history_error}})) << "</p>\n";
  o << "</section>\n";
  for (std::size_t i = 0; i < r.checks.size(); ++i) {
    const auto& c = r.checks[i];
    const std::string prefix = "c" + std::to_string(i) + "-";
    if (c.history) {
      o << "<div class=\"card history\" id=\"" << prefix << "history\"><h2>" << e(T.get(lang, "history.heading")) << ": "
        << e(c.report.domain_display) << "</h2><p>" << e(history_intro(r, T, c)) << "</p>";
      if (c.history->state == "compared") {
        const HistoryItems items = history_items(r, *c.history);
        if (!items.none.empty()) o << "<p>" << e(items.none) << "</p>";
        if (!items.changes.empty()) {
          o << "<ol class=\"changes\">";
          for (const auto& ch : items.changes) o << "<li>" << e(ch) << "</li>";
          o << "</ol>";
        }
        if (!items.findings.empty()) {
          o << "<ul class=\"deltas\">";
          for (const auto& f : items.findings)
            o << "<li><span class=\"badge\">" << e(f.state) << "</span>" << e(f.title) << "<span class=\"rid\">" << e(f.id)
              << "</span> — " << e(f.explained) << "</li>";
          o << "</ul>";
        }
      }
      o << "</div>\n";
    }
    o << render_html_section(c.report, L, prefix);
  }
  o << "</main>\n" << html_document_tail();
  return o.str();
}

std::string render_triage_eml(const TriageReport& r, const Labels& T, const Labels& L, const std::string& from,
                              const std::string& to) {
  const auto& t = *r.triage;
  if (t.input_type != "mail" || t.mail.messages.empty())
    throw UsageError("--format eml answers a mail, but the input is " + label_or(T, "en", "inputs." + t.input_type, t.input_type) +
                     "; use --format text, markdown or json");
  triage::Reply reply;
  reply.from = from;
  reply.to = !to.empty() ? to : !t.mail.reply_to.empty() ? t.mail.reply_to : t.mail.messages[0].from;
  reply.subject = t.mail.messages[0].subject;
  if (lower(reply.subject.substr(0, 3)) != "re:") reply.subject = "Re: " + reply.subject;
  reply.in_reply_to = t.mail.message_id;
  reply.references = t.mail.references;
  reply.text = T.get(r.lang, "reply_intro") + "\n\n" + render_triage_text(r, T, L, 76, false);
  return triage::module().compose_reply(reply);
}

} // namespace certdoctor::report
