#include "report/triage_report.hpp"

#include "util/text.hpp"

#include <gmime/gmime.h>

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
  for (const auto& c : r.checks) checks.push_back(render_json(c.report));
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
              {"notes", t.notes}};
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
    for (const auto& c : r.checks) {
      out << bold("── " + T.get(lang, "checks") + ": " + c.report.domain_display) << '\n';
      out << render_text(c.report, L, width, color) << '\n';
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
    }
  return out.str();
}

std::string render_triage_eml(const TriageReport& r, const Labels& T, const Labels& L, const std::string& from,
                              const std::string& to) {
  const auto& t = *r.triage;
  if (t.input_type != "mail" || t.mail.messages.empty())
    throw UsageError("--format eml answers a mail, but the input is " + label_or(T, "en", "inputs." + t.input_type, t.input_type) +
                     "; use --format text, markdown or json");
  g_mime_init();
  GMimeMessage* msg = g_mime_message_new(TRUE);
  auto add = [&](GMimeAddressType type, const std::string& addr) {
    InternetAddressList* list = internet_address_list_parse(nullptr, addr.c_str());
    if (!list || internet_address_list_length(list) == 0) {
      if (list) g_object_unref(list);
      g_object_unref(msg);
      throw UsageError("'" + addr + "' is not an e-mail address");
    }
    internet_address_list_append(g_mime_message_get_addresses(msg, type), list);
    g_object_unref(list);
  };
  add(GMIME_ADDRESS_TYPE_FROM, from);
  std::string recipient = !to.empty() ? to : !t.mail.reply_to.empty() ? t.mail.reply_to : t.mail.messages[0].from;
  if (!recipient.empty()) add(GMIME_ADDRESS_TYPE_TO, recipient);
  std::string subject = t.mail.messages[0].subject;
  if (lower(subject.substr(0, 3)) != "re:") subject = "Re: " + subject;
  g_mime_message_set_subject(msg, subject.c_str(), "utf-8");
  GDateTime* now = g_date_time_new_now_utc();
  g_mime_message_set_date(msg, now);
  g_date_time_unref(now);
  std::string domain = from.substr(from.rfind('@') == std::string::npos ? 0 : from.rfind('@') + 1);
  while (!domain.empty() && (domain.back() == '>' || domain.back() == ' ')) domain.pop_back();
  char* mid = g_mime_utils_generate_message_id(domain.empty() ? "certdoctor.invalid" : domain.c_str());
  g_mime_message_set_message_id(msg, mid);
  g_free(mid);
  if (!t.mail.message_id.empty()) {
    std::string id = "<" + t.mail.message_id + ">";
    g_mime_object_set_header(GMIME_OBJECT(msg), "In-Reply-To", id.c_str(), nullptr);
    std::string refs = t.mail.references;
    // References: the original's references followed by its own id (RFC 5322 section 3.6.4).
    while (!refs.empty() && (refs.back() == ' ' || refs.back() == '\n' || refs.back() == '\r' || refs.back() == '\t'))
      refs.pop_back();
    refs = refs.empty() ? id : refs + " " + id;
    g_mime_object_set_header(GMIME_OBJECT(msg), "References", refs.c_str(), nullptr);
  }
  // An automatic answer (RFC 3834): other robots must not answer it in turn.
  g_mime_object_set_header(GMIME_OBJECT(msg), "Auto-Submitted", "auto-replied", nullptr);
  std::string text = T.get(r.lang, "reply_intro") + "\n\n" + render_triage_text(r, T, L, 76, false);
  GMimeTextPart* body = g_mime_text_part_new_with_subtype("plain");
  g_mime_text_part_set_text(body, text.c_str());
  g_mime_text_part_set_charset(body, "utf-8");
  g_mime_part_set_content_encoding(GMIME_PART(body),
                                   g_mime_part_get_best_content_encoding(GMIME_PART(body), GMIME_ENCODING_CONSTRAINT_7BIT));
  g_mime_message_set_mime_part(msg, GMIME_OBJECT(body));
  g_object_unref(body);
  GMimeFormatOptions* opts = g_mime_format_options_clone(nullptr);
  g_mime_format_options_set_newline_format(opts, GMIME_NEWLINE_FORMAT_UNIX);
  char* s = g_mime_object_to_string(GMIME_OBJECT(msg), opts);
  std::string out = s ? s : "";
  g_free(s);
  g_mime_format_options_free(opts);
  g_object_unref(msg);
  return out;
}

} // namespace certdoctor::report
