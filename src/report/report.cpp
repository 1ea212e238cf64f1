#include "report/report.hpp"

#include "util/yaml.hpp"

#include <algorithm>
#include <sstream>

#include <yaml-cpp/yaml.h>

#include "facts/outside.hpp"
#include "view/data.hpp"
#include "util/error.hpp"

namespace certdoctor::report {

using nlohmann::json;

Labels Labels::load(const std::filesystem::path& reports_dir, const std::string& name) {
  auto file = reports_dir / name;
  Labels l;
  try {
    YAML::Node root = YAML::LoadFile(file.string());
    l.data_ = yaml_to_json(root["labels"]);
  } catch (const YAML::Exception& e) {
    throw yaml_error(file, e);
  }
  if (!l.data_.is_object()) throw ConfigError(file.string() + ":1: expected a 'labels:' map of languages");
  return l;
}

std::string Labels::get(const std::string& lang, const std::string& key) const {
  const json* node = data_.contains(lang) ? &data_.at(lang) : nullptr;
  std::size_t start = 0;
  while (node) {
    std::size_t dot = key.find('.', start);
    std::string part = key.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    if (!node->is_object() || !node->contains(part)) return key;
    node = &node->at(part);
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  if (!node || !node->is_string()) return key;
  return node->get<std::string>();
}

std::string verdict_of(const std::vector<rules::Finding>& findings, bool complete) {
  if (!complete) return "incomplete";
  bool warning = false;
  for (const auto& f : findings) {
    if (f.severity == rules::Severity::error) return "fail";
    if (f.severity == rules::Severity::warning) warning = true;
  }
  return warning ? "warning" : "ok";
}

Report build(const facts::Facts& facts, const json& view, const std::vector<rules::Finding>& findings,
             const rules::Catalogue& catalogue, const json& sources, const std::string& lang) {
  Report r;
  r.lang = lang;
  r.domain = facts.domain;
  r.domain_display = facts.domain_display;
  for (const auto& n : facts.names) r.names.push_back({{"name", n.name}, {"display", n.display}, {"role", n.role}});
  const json& provider = view["provider"];
  r.provider_id = provider.value("id", "generic");
  if (provider.contains("name") && provider["name"].is_object())
    r.provider_name = provider["name"].value(lang, provider["name"].value("en", r.provider_id));
  else if (provider.contains("name") && provider["name"].is_string())
    r.provider_name = provider["name"];
  r.provider_source = provider.value("source", "");
  r.host_addresses = view["host"]["addresses"].get<std::vector<std::string>>();
  r.host_source = view["host"].value("source", "none");
  auto list_text = [](const json& v) {
    std::string out;
    if (v.is_array())
      for (const auto& x : v) out += (out.empty() ? "" : ", ") + (x.is_string() ? x.get<std::string>() : x.dump());
    return out;
  };
  if (view["host"].contains("sources"))
    for (const auto& src : view["host"]["sources"]) {
      std::string key = src.value("source", "");
      const std::string strength = src.value("strength", "");
      if (key == "account" && strength == "none") key = "account-none";
      if (key == "ptr-other" && strength == "none") key = "ptr-other-none";
      r.host_how.push_back({{"key", key}, {"name", src.value("name", "")}, {"addresses", list_text(src["addresses"])},
                            {"said", src.value("said", "")}});
    }
  for (const auto& n : view["names"])
    if (n.contains("answers_unlike") && !n["answers_unlike"]["addresses"].empty())
      r.host_how.push_back({{"key", "answers-unlike"}, {"name", n.value("display", "")},
                            {"addresses", list_text(n["answers_unlike"]["addresses"])},
                            {"said", list_text(n["answers_unlike"]["differences"])}});
  r.incomplete = facts.incomplete;
  r.verdict = verdict_of(findings, facts.incomplete.empty());
  r.elapsed_s = facts.elapsed_ms / 1000.0;
  r.collected_at = facts.collected_at;
  r.queries = facts.queries_sent;
  r.facts = facts;

  // The profile's own words ({provider.retry} and the like in the rule texts), as the view chose
  // them for this diagnosis.
  const json provider_texts = provider.value("texts", json::object());

  std::vector<rules::Finding> sorted = findings;
  std::stable_sort(sorted.begin(), sorted.end(),
                   [](const rules::Finding& a, const rules::Finding& b) { return a.severity > b.severity; });
  for (const auto& f : sorted) {
    RenderedFinding rf;
    rf.id = f.id;
    rf.severity = std::string(rules::to_string(f.severity));
    rf.title = catalogue.render(f, lang, "title", r.provider_id, provider_texts);
    rf.remediation = catalogue.render(f, lang, "remediation", r.provider_id, provider_texts);
    rf.evidence = f.arguments;
    rf.source = f.source;
    if (sources.contains(f.source) && sources[f.source].contains("title")) {
      const json& t = sources[f.source]["title"];
      rf.source_title = t.is_object() ? t.value(lang, t.value("en", f.source)) : t.get<std::string>();
    } else {
      rf.source_title = f.source;
    }
    r.findings.push_back(std::move(rf));
  }
  return r;
}

// --- text ----------------------------------------------------------------------------------

namespace {

// Decodes one UTF-8 code point; invalid bytes count as one narrow character.
char32_t next_cp(const std::string& s, std::size_t& i) {
  unsigned char c = static_cast<unsigned char>(s[i]);
  int len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 1;
  if (i + len > s.size()) len = 1;
  char32_t cp = len == 1 ? c : len == 2 ? (c & 0x1f) : len == 3 ? (c & 0x0f) : (c & 0x07);
  for (int k = 1; k < len; ++k) cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3f);
  i += len;
  return cp;
}

// East Asian Wide and Fullwidth ranges (UAX #11), enough for Japanese text.
bool wide(char32_t cp) {
  return (cp >= 0x1100 && cp <= 0x115f) || (cp >= 0x2e80 && cp <= 0x303e) || (cp >= 0x3041 && cp <= 0x33ff) ||
         (cp >= 0x3400 && cp <= 0x4dbf) || (cp >= 0x4e00 && cp <= 0x9fff) || (cp >= 0xa000 && cp <= 0xa4cf) ||
         (cp >= 0xac00 && cp <= 0xd7a3) || (cp >= 0xf900 && cp <= 0xfaff) || (cp >= 0xfe30 && cp <= 0xfe4f) ||
         (cp >= 0xff00 && cp <= 0xff60) || (cp >= 0xffe0 && cp <= 0xffe6) || (cp >= 0x20000 && cp <= 0x3fffd);
}

std::string evidence_line(const json& evidence) {
  std::string out;
  for (const auto& [k, v] : evidence.items()) {
    std::string value;
    if (v.is_string()) value = v.get<std::string>();
    else if (v.is_array()) {
      for (const auto& e : v) value += (value.empty() ? "" : ", ") + (e.is_string() ? e.get<std::string>() : e.dump());
    } else value = v.dump();
    if (value.empty()) continue;
    out += (out.empty() ? "" : "; ") + k + "=" + value;
  }
  return out;
}

std::string fill(std::string text, const std::string& key, const std::string& value) {
  auto pos = text.find("{" + key + "}");
  if (pos != std::string::npos) text.replace(pos, key.size() + 2, value);
  return text;
}

// The sentences saying how the hosting server was identified, in the report's language.
std::vector<std::string> host_how_lines(const Report& r, const Labels& L) {
  std::vector<std::string> out;
  for (const auto& item : r.host_how) {
    std::string text = L.get(r.lang, "host_how_items." + item.value("key", ""));
    for (const char* k : {"name", "addresses", "said"}) text = fill(text, k, item.value(k, ""));
    out.push_back(text);
  }
  if (out.empty()) out.push_back(L.get(r.lang, "host_how_items.nothing"));
  return out;
}

std::string fixed(double v, int digits) {
  std::ostringstream o;
  o.setf(std::ios::fixed);
  o.precision(digits);
  o << v;
  return o.str();
}

} // namespace

int display_width(const std::string& s) {
  int w = 0;
  for (std::size_t i = 0; i < s.size();) w += wide(next_cp(s, i)) ? 2 : 1;
  return w;
}

std::vector<std::string> wrap(const std::string& text, int width, int indent) {
  std::vector<std::string> lines;
  if (width < indent + 20) width = indent + 20;  // never wrap into a useless sliver
  std::string line, word;
  int line_w = 0, word_w = 0;
  bool has_content = false;  // the current line holds a word (not just the indent)
  const std::string pad(indent, ' ');
  auto flush_line = [&] {
    lines.push_back(line);
    line = pad;
    line_w = indent;
    has_content = false;
  };
  auto place_word = [&] {
    if (word.empty()) return;
    if (line_w + word_w > width && has_content) flush_line();
    line += word;
    line_w += word_w;
    has_content = true;
    word.clear();
    word_w = 0;
  };
  for (std::size_t i = 0; i < text.size();) {
    std::size_t start = i;
    char32_t cp = next_cp(text, i);
    std::string ch = text.substr(start, i - start);
    if (cp == '\n') {
      place_word();
      flush_line();
      continue;
    }
    if (cp == ' ') {
      place_word();
      if (has_content && line_w + 1 <= width) {
        line += ' ';
        ++line_w;
      }
      continue;
    }
    if (wide(cp)) {
      // A wide character is a word of its own: Japanese breaks between characters.
      place_word();
      word = ch;
      word_w = 2;
      place_word();
      continue;
    }
    word += ch;
    ++word_w;
  }
  place_word();
  if (has_content || lines.empty()) lines.push_back(line);
  for (auto& l : lines)
    while (!l.empty() && l.back() == ' ') l.pop_back();
  return lines;
}

/// "2026-11-20 14:03 JST" for a collection time (Japan has no daylight saving time); the time as
/// written when it does not parse.
std::string collected_jst(const std::string& rfc3339) {
  auto t = facts::parse_utc_time(rfc3339);
  if (!t) return rfc3339;
  std::string utc = facts::format_utc_time(*t + 9 * 3600);  // "YYYY-MM-DDTHH:MM:SSZ"
  return utc.substr(0, 10) + " " + utc.substr(11, 5) + " JST";
}

/// The line that says a report is a replay of saved facts, or "" for a live check.
std::string replay_line(const Report& r, const Labels& L) {
  if (!r.replayed) return "";
  return fill(L.get(r.lang, "replayed"), "when", r.collected_at.empty() ? "?" : collected_jst(r.collected_at));
}

std::string render_text(const Report& r, const Labels& L, int width, bool color) {
  const std::string& lang = r.lang;
  auto paint = [&](const std::string& s, const char* code) { return color ? std::string("\033[") + code + "m" + s + "\033[0m" : s; };
  std::ostringstream out;
  std::string heading = fill(L.get(lang, "heading"), "domain", r.domain_display);
  if (r.domain_display != r.domain) heading += " (" + r.domain + ")";
  out << paint(heading, "1") << '\n';
  auto field = [&](const std::string& label, const std::string& value) {
    for (const auto& line : wrap(label + ": " + value, width, 4)) out << "  " << line << '\n';
  };
  std::string names;
  for (const auto& n : r.names) {
    std::string shown = n["display"].get<std::string>();
    if (n["display"] != n["name"]) shown += " (" + n["name"].get<std::string>() + ")";
    names += (names.empty() ? "" : ", ") + shown;
  }
  field(L.get(lang, "names"), names);
  std::string provider = r.provider_id == "generic" ? L.get(lang, "provider_unknown") : r.provider_name;
  std::string psrc = L.get(lang, "provider_source." + r.provider_source);
  if (!psrc.empty() && psrc != "provider_source." + r.provider_source && r.provider_id != "generic") provider += " (" + psrc + ")";
  field(L.get(lang, "provider"), provider);
  std::string host;
  for (const auto& a : r.host_addresses) host += (host.empty() ? "" : ", ") + a;
  if (host.empty()) host = L.get(lang, "host_unknown");
  else {
    std::string hsrc = L.get(lang, "host_source." + r.host_source);
    if (!hsrc.empty()) host += " (" + hsrc + ")";
  }
  field(L.get(lang, "host"), host);
  for (const auto& line : host_how_lines(r, L)) field(L.get(lang, "host_how"), line);
  const char* vcolor = r.verdict == "ok" ? "32" : r.verdict == "warning" ? "33" : "31";
  out << "  " << L.get(lang, "verdict") << ": " << paint(L.get(lang, "verdicts." + r.verdict), vcolor) << "\n";
  if (const auto replay = replay_line(r, L); !replay.empty())
    for (const auto& line : wrap(replay, width - 2, 2)) out << "  " << line << '\n';
  out << '\n';

  if (r.findings.empty()) out << "  " << L.get(lang, "no_findings") << '\n';
  for (const auto& f : r.findings) {
    const char* mark = f.severity == "error" ? "✗" : f.severity == "warning" ? "!" : "i";
    const char* code = f.severity == "error" ? "31" : f.severity == "warning" ? "33" : "36";
    std::string head = std::string(mark) + " " + L.get(lang, "severity." + f.severity) + " [" + f.id + "] " + f.title;
    auto lines = wrap(head, width - 2, 4);
    for (std::size_t i = 0; i < lines.size(); ++i) out << "  " << (i == 0 ? paint(lines[i], code) : lines[i]) << '\n';
    std::string ev = evidence_line(f.evidence);
    if (!ev.empty())
      for (const auto& line : wrap(L.get(lang, "evidence") + ": " + ev, width - 4, 2)) out << "    " << line << '\n';
    for (const auto& line : wrap(L.get(lang, "fix") + ": " + f.remediation, width - 4, 2)) out << "    " << line << '\n';
    for (const auto& line : wrap(L.get(lang, "source") + ": " + f.source_title, width - 4, 2)) out << "    " << line << '\n';
    out << '\n';
  }
  if (!r.incomplete.empty()) {
    out << "  " << L.get(lang, "incomplete") << ":\n";
    for (const auto& reason : r.incomplete)
      for (const auto& line : wrap("- " + reason, width - 4, 2)) out << "    " << line << '\n';
    out << '\n';
  }
  out << "  " << fill(fill(L.get(lang, "elapsed"), "seconds", fixed(r.elapsed_s, 2)), "queries", std::to_string(r.queries)) << '\n';
  return out.str();
}

json render_json(const Report& r) {
  json findings = json::array();
  for (const auto& f : r.findings)
    findings.push_back({{"id", f.id}, {"severity", f.severity}, {"title", f.title}, {"remediation", f.remediation},
                        {"evidence", f.evidence}, {"source", f.source}});
  json names = json::array();
  for (const auto& n : r.names) names.push_back(n);
  return {{"domain", r.domain},
          {"domain_unicode", r.domain_display},
          {"names", names},
          {"verdict", r.verdict},
          {"lang", r.lang},
          {"provider", {{"id", r.provider_id}, {"name", r.provider_name}, {"source", r.provider_source}}},
          {"host", {{"addresses", r.host_addresses}, {"source", r.host_source}, {"how", r.host_how}}},
          {"findings", findings},
          {"incomplete", r.incomplete},
          {"collected_at", r.collected_at},
          {"replayed", r.replayed},
          {"facts", r.facts}};
}

std::string render_markdown(const Report& r, const Labels& L) {
  const std::string& lang = r.lang;
  std::ostringstream out;
  std::string heading = fill(L.get(lang, "heading"), "domain", r.domain_display);
  out << "# " << heading << "\n\n";
  std::string names;
  for (const auto& n : r.names) names += (names.empty() ? "" : ", ") + std::string("`") + n["display"].get<std::string>() + "`";
  out << "- **" << L.get(lang, "names") << "**: " << names << '\n';
  out << "- **" << L.get(lang, "provider") << "**: "
      << (r.provider_id == "generic" ? L.get(lang, "provider_unknown") : r.provider_name) << '\n';
  std::string host;
  for (const auto& a : r.host_addresses) host += (host.empty() ? "" : ", ") + std::string("`") + a + "`";
  out << "- **" << L.get(lang, "host") << "**: " << (host.empty() ? L.get(lang, "host_unknown") : host) << '\n';
  for (const auto& line : host_how_lines(r, L)) out << "  - " << L.get(lang, "host_how") << ": " << line << '\n';
  out << "- **" << L.get(lang, "verdict") << "**: " << L.get(lang, "verdicts." + r.verdict) << '\n';
  if (const auto replay = replay_line(r, L); !replay.empty()) out << "- _" << replay << "_\n";
  out << '\n';
  out << "## " << L.get(lang, "findings") << "\n\n";
  if (r.findings.empty()) out << L.get(lang, "no_findings") << "\n\n";
  for (const auto& f : r.findings) {
    out << "### " << L.get(lang, "severity." + f.severity) << ": " << f.title << " (`" << f.id << "`)\n\n";
    out << f.remediation << "\n\n";
    if (!f.evidence.empty()) {
      out << "| " << L.get(lang, "evidence") << " | |\n|---|---|\n";
      for (const auto& [k, v] : f.evidence.items()) {
        std::string value = v.is_string() ? v.get<std::string>() : v.dump();
        // A pipe would end the table cell.
        std::string escaped;
        for (char c : value) escaped += c == '|' ? std::string("\\|") : std::string(1, c);
        out << "| " << k << " | `" << escaped << "` |\n";
      }
      out << '\n';
    }
    out << "_" << L.get(lang, "source") << ": " << f.source_title << "_\n\n";
  }
  if (!r.incomplete.empty()) {
    out << "## " << L.get(lang, "incomplete") << "\n\n";
    for (const auto& reason : r.incomplete) out << "- " << reason << '\n';
    out << '\n';
  }
  return out.str();
}

} // namespace certdoctor::report
