#include "report/report.hpp"

#include "report/html.hpp"

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

Labels Labels::from_json(json j) {
  if (!j.is_object()) throw ConfigError("built-in labels: expected a map of languages");
  Labels l;
  l.data_ = std::move(j);
  return l;
}

const json* Labels::find(const std::string& lang, const std::string& key) const {
  const json* node = data_.contains(lang) ? &data_.at(lang) : nullptr;
  std::size_t start = 0;
  while (node) {
    std::size_t dot = key.find('.', start);
    std::string part = key.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    if (!node->is_object() || !node->contains(part)) return nullptr;
    node = &node->at(part);
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  return node;
}

std::string Labels::get(const std::string& lang, const std::string& key) const {
  const json* node = find(lang, key);
  if (!node || !node->is_string()) return key;
  return node->get<std::string>();
}

std::vector<std::pair<std::string, std::string>> evidence_lines(const json& evidence, const Labels& labels,
                                                                const std::string& lang) {
  static const std::vector<std::string> first = {"name", "domain", "zone", "address", "addresses"};
  std::vector<std::string> keys;
  for (const auto& k : first)
    if (evidence.contains(k)) keys.push_back(k);
  for (const auto& [k, v] : evidence.items())
    if (std::find(first.begin(), first.end(), k) == first.end()) keys.push_back(k);
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& k : keys) {
    const json* label = labels.find(lang, "arguments." + k);
    if (label && label->is_null()) continue;  // feeds the texts only
    const json& v = evidence[k];
    std::string value;
    if (v.is_string()) value = v.get<std::string>();
    else if (v.is_array()) {
      for (const auto& e : v) {
        std::string item = e.is_string() ? e.get<std::string>() : e.dump();
        if (!item.empty()) value += (value.empty() ? "" : ", ") + item;
      }
    } else if (!v.is_null()) value = v.dump();
    if (value.empty() || value == "-") continue;
    // An enumerated value in the reader's words (values.KEY.VALUE), when labels.yaml has them.
    if (const json* word = labels.find(lang, "values." + k + "." + value); word && word->is_string())
      value = word->get<std::string>();
    out.emplace_back(label && label->is_string() ? label->get<std::string>() : k, value);
  }
  return out;
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
             const rules::Catalogue& catalogue, const json& sources, const std::string& lang, bool picture) {
  // The view holds the facts as JSON already (view::derive): a copy of that tree costs less than
  // converting the facts again.
  return build_with_facts(facts, view, view.contains("facts") ? json(view["facts"]) : json(facts), findings, catalogue,
                          sources, lang, picture);
}

Report build_with_facts(const facts::Facts& facts, const json& view, json&& facts_json,
                        const std::vector<rules::Finding>& findings, const rules::Catalogue& catalogue,
                        const json& sources, const std::string& lang, bool picture) {
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
  // The view decides completeness: it also knows when no resolver gave a usable answer.
  const bool complete = view.contains("diagnosis") ? view["diagnosis"].value("complete", facts.incomplete.empty())
                                                   : facts.incomplete.empty();
  r.verdict = verdict_of(findings, complete);
  r.elapsed_s = facts.elapsed_ms / 1000.0;
  r.collected_at = facts.collected_at;
  r.queries = facts.queries_sent;
  r.facts = std::move(facts_json);

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
      if (sources[f.source].contains("url") && sources[f.source]["url"].is_string())
        rf.source_url = sources[f.source]["url"].get<std::string>();
    } else {
      rf.source_title = f.source;
    }
    r.findings.push_back(std::move(rf));
  }
  r.paragraphs = paragraphs_of(sorted, catalogue, r.findings, lang, r.provider_id, provider_texts);
  order_by_cause(r.findings, catalogue);
  order_by_cause(r.paragraphs, catalogue);
  if (picture) r.picture = picture_of(view, r.paragraphs);
  return r;
}

namespace {

void replace_all(std::string& s, const std::string& from, const std::string& to) {
  if (from.empty()) return;
  for (std::size_t p = s.find(from); p != std::string::npos; p = s.find(from, p + to.size())) s.replace(p, from.size(), to);
}

// What a finding says with its own name set aside: two findings with the same key differ only in
// the name they are about.
std::string name_free_key(const rules::Finding& f, const RenderedFinding& rf) {
  if (!f.arguments.contains("name") || !f.arguments["name"].is_string()) return "";
  const std::string name = f.arguments["name"].get<std::string>();
  if (name.empty()) return "";
  json args = f.arguments;
  args.erase("name");
  std::string key = f.id + '\n' + f.variant + '\n' + f.source + '\n' + std::string(rules::to_string(f.severity)) + '\n' +
                    rf.title + '\n' + rf.remediation + '\n' + args.dump();
  replace_all(key, name, "\x01");
  return key;
}

// Fills in several names where a text says {name}, rendered with `marker` in its place: a code
// span (a command such as `dig @ns1.example NAME`) is repeated once per name, the prose gets the
// names joined: in Japanese with 、, in English as "a (and b, c)" so that a verb written for one
// name still agrees.
std::string with_names(std::string text, const std::string& marker, const std::vector<std::string>& names,
                       const std::string& lang) {
  auto join = [&](auto piece) {
    std::string out;
    for (std::size_t n = 0; n < names.size(); ++n)
      out += (n == 0 ? "" : lang == "ja" ? "、" : n == 1 ? " (and " : ", ") + piece(names[n]);
    return lang == "ja" || names.size() < 2 ? out : out + ")";
  };
  std::string out;
  std::size_t at = 0;
  for (std::size_t open = text.find('`'); open != std::string::npos;) {
    std::size_t close = text.find('`', open + 1);
    if (close == std::string::npos) break;
    std::string span = text.substr(open, close - open + 1);
    if (span.find(marker) != std::string::npos) {
      out += text.substr(at, open - at) + join([&](const std::string& name) {
        std::string one = span;
        replace_all(one, marker, name);
        return one;
      });
      at = close + 1;
    }
    open = text.find('`', close + 1);
  }
  out += text.substr(at);
  replace_all(out, marker, join([](const std::string& name) { return name; }));
  return out;
}

} // namespace

void order_by_cause(std::vector<RenderedFinding>& findings, const rules::Catalogue& catalogue) {
  const std::size_t n = findings.size();
  std::vector<std::size_t> cause(n, n);  // index of the finding that explains each, n: none
  for (std::size_t i = 0; i < n; ++i) {
    findings[i].follows.clear();
    const rules::Rule* rule = catalogue.find(findings[i].id);
    if (!rule) continue;
    for (const auto& id : rule->follows_from) {
      for (std::size_t j = 0; j < n && cause[i] == n; ++j)
        if (j != i && findings[j].id == id) cause[i] = j;
      if (cause[i] != n) break;
    }
  }
  // Members of a cycle of follows_from are explained by nothing: each stays where it was.
  std::vector<bool> in_cycle(n, false);
  for (std::size_t i = 0; i < n; ++i) {
    std::size_t j = cause[i];
    for (std::size_t steps = 0; j != n && j != i && steps < n; ++steps) j = cause[j];
    in_cycle[i] = j == i;
  }
  for (std::size_t i = 0; i < n; ++i)
    if (in_cycle[i]) cause[i] = n;
  std::vector<RenderedFinding> out;
  std::vector<bool> placed(n, false);
  // A finding, then (depth first) the findings it explains, each once.
  auto place = [&](auto&& self, std::size_t i) -> void {
    placed[i] = true;
    out.push_back(findings[i]);
    if (cause[i] != n) out.back().follows = findings[cause[i]].id;
    for (std::size_t j = 0; j < n; ++j)
      if (!placed[j] && cause[j] == i) self(self, j);
  };
  for (std::size_t i = 0; i < n; ++i)
    if (!placed[i] && cause[i] == n) place(place, i);
  findings = std::move(out);
}

std::vector<RenderedFinding> paragraphs_of(const std::vector<rules::Finding>& sorted, const rules::Catalogue& catalogue,
                                           const std::vector<RenderedFinding>& rendered, const std::string& lang,
                                           const std::string& provider_id, const json& provider_texts) {
  std::vector<RenderedFinding> out;
  std::vector<bool> used(sorted.size(), false);
  for (std::size_t i = 0; i < sorted.size(); ++i) {
    if (used[i]) continue;
    const std::string key = name_free_key(sorted[i], rendered[i]);
    std::vector<std::size_t> same{i};
    if (!key.empty())
      for (std::size_t j = i + 1; j < sorted.size(); ++j)
        if (!used[j] && name_free_key(sorted[j], rendered[j]) == key) same.push_back(j);
    if (same.size() == 1) {
      out.push_back(rendered[i]);
      continue;
    }
    json names = json::array();
    std::vector<std::string> list;
    for (std::size_t n : same) {
      used[n] = true;
      list.push_back(sorted[n].arguments["name"].get<std::string>());
      names.push_back(list.back());
    }
    const std::string marker = "\x02name\x02";
    rules::Finding merged = sorted[i];
    merged.arguments["name"] = marker;
    RenderedFinding rf = rendered[i];
    rf.title = with_names(catalogue.render(merged, lang, "title", provider_id, provider_texts), marker, list, lang);
    rf.remediation =
        with_names(catalogue.render(merged, lang, "remediation", provider_id, provider_texts), marker, list, lang);
    rf.evidence["name"] = names;
    out.push_back(std::move(rf));
  }
  return out;
}

// --- text ----------------------------------------------------------------------------------

namespace {

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
    for (const auto& line : wrap(label + ": " + value, width - 2, 4)) out << "  " << line << '\n';
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
  {
    const std::string label = L.get(lang, "verdict") + ": ";
    auto lines = wrap(label + L.get(lang, "verdicts." + r.verdict), width - 2, 4);
    for (std::size_t i = 0; i < lines.size(); ++i) {
      const std::size_t from = std::min(lines[i].size(), i == 0 ? label.size() : std::size_t{4});  // colour the words, not the label
      out << "  " << lines[i].substr(0, from) << paint(lines[i].substr(from), vcolor) << '\n';
    }
  }
  if (const auto replay = replay_line(r, L); !replay.empty())
    for (const auto& line : wrap(replay, width - 2, 2)) out << "  " << line << '\n';
  out << '\n';

  if (r.paragraphs.empty()) out << "  " << L.get(lang, "no_findings") << '\n';
  for (const auto& f : r.paragraphs) {
    const char* mark = f.severity == "error" ? "✗" : f.severity == "warning" ? "!" : "i";
    const char* code = f.severity == "error" ? "31" : f.severity == "warning" ? "33" : "36";
    std::string head = std::string(mark) + " " + L.get(lang, "severity." + f.severity) + " [" + f.id + "] " + f.title;
    if (!f.follows.empty()) head = "↳ " + head;
    auto lines = wrap(head, width - 2, 4);
    for (std::size_t i = 0; i < lines.size(); ++i) out << "  " << (i == 0 ? paint(lines[i], code) : lines[i]) << '\n';
    if (!f.follows.empty())
      for (const auto& line : wrap(fill(L.get(lang, "follows"), "id", f.follows), width - 4, 2)) out << "    " << line << '\n';
    if (auto ev = evidence_lines(f.evidence, L, lang); !ev.empty()) {
      out << "    " << L.get(lang, "evidence") << ":\n";
      for (const auto& [label, value] : ev)
        for (const auto& line : wrap(label + ": " + value, width - 6, 4)) out << "      " << line << '\n';
    }
    for (const auto& line : wrap(L.get(lang, "fix") + ": " + f.remediation, width - 4, 2)) out << "    " << line << '\n';
    for (const auto& line : wrap(L.get(lang, "source") + ": " + f.source_title, width - 4, 2)) out << "    " << line << '\n';
    if (!f.source_url.empty()) out << "      " << f.source_url << '\n';  // never wrapped: a cut address is useless
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

namespace {

// render_json's document without its `facts` member.
json document_without_facts(const Report& r) {
  json findings = json::array();
  for (const auto& f : r.findings)
    findings.push_back({{"id", f.id}, {"severity", f.severity}, {"title", f.title}, {"remediation", f.remediation},
                        {"evidence", f.evidence}, {"source", f.source},
                        {"source_url", f.source_url.empty() ? json(nullptr) : json(f.source_url)},
                        {"follows", f.follows.empty() ? json(nullptr) : json(f.follows)}});
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
          {"replayed", r.replayed}};
}

// Appends `s` as nlohmann's dump() writes a string (quoted, ensure_ascii off). An ASCII string is
// escaped here, a byte at a time; any other goes through dump(), which checks its UTF-8 and throws
// on invalid bytes as before.
void append_string(std::string& out, const std::string& s) {
  if (std::any_of(s.begin(), s.end(), [](char c) { return static_cast<unsigned char>(c) >= 0x80; })) {
    out += json(s).dump();
    return;
  }
  out += '"';
  std::size_t from = 0;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c != '"' && c != '\\') continue;
    out.append(s, from, i - from);
    from = i + 1;
    switch (c) {
    case '"': out += "\\\""; break;
    case '\\': out += "\\\\"; break;
    case '\b': out += "\\b"; break;
    case '\t': out += "\\t"; break;
    case '\n': out += "\\n"; break;
    case '\f': out += "\\f"; break;
    case '\r': out += "\\r"; break;
    default: {
      static const char* hex = "0123456789abcdef";
      out += "\\u00";
      out += hex[c >> 4];
      out += hex[c & 15];
    }
    }
  }
  out.append(s, from, s.size() - from);
  out += '"';
}

// Appends `j` exactly as j.dump() writes it (compact, ensure_ascii off, invalid UTF-8 an error),
// without dump()'s byte-by-byte decoding of every string: most of a batch line is the facts'
// ASCII text. Numbers with a fraction and binary values are left to dump().
void append_dump(std::string& out, const json& j) {
  switch (j.type()) {
  case json::value_t::object: {
    const auto& o = j.get_ref<const json::object_t&>();
    out += '{';
    bool first = true;
    for (const auto& [key, value] : o) {
      if (!first) out += ',';
      first = false;
      append_string(out, key);
      out += ':';
      append_dump(out, value);
    }
    out += '}';
    return;
  }
  case json::value_t::array: {
    const auto& a = j.get_ref<const json::array_t&>();
    out += '[';
    for (std::size_t i = 0; i < a.size(); ++i) {
      if (i > 0) out += ',';
      append_dump(out, a[i]);
    }
    out += ']';
    return;
  }
  case json::value_t::string: append_string(out, j.get_ref<const std::string&>()); return;
  case json::value_t::boolean: out += j.get<bool>() ? "true" : "false"; return;
  case json::value_t::null: out += "null"; return;
  case json::value_t::number_integer: out += std::to_string(j.get<std::int64_t>()); return;
  case json::value_t::number_unsigned: out += std::to_string(j.get<std::uint64_t>()); return;
  default: out += j.dump(); return;
  }
}

} // namespace

json render_json(const Report& r) {
  json j = document_without_facts(r);
  j["facts"] = r.facts;
  return j;
}

std::string render_ndjson(const Report& r, std::size_t line) {
  // Written member by member in the order of an object's dump (by key), so that the facts, the
  // bulk of the line, are serialized where the report holds them instead of copied into it first.
  json j = document_without_facts(r);
  j["line"] = line;
  std::string out = "{";
  const auto member = [&out](const std::string& key, const json& value) {
    if (out.size() > 1) out += ',';
    append_string(out, key);
    out += ':';
    append_dump(out, value);
  };
  bool facts_written = false;
  for (auto it = j.begin(); it != j.end(); ++it) {
    if (!facts_written && std::string_view("facts") < std::string_view(it.key())) {
      member("facts", r.facts);
      facts_written = true;
    }
    member(it.key(), it.value());
  }
  if (!facts_written) member("facts", r.facts);
  out += '}';
  return out;
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
  if (r.paragraphs.empty()) out << L.get(lang, "no_findings") << "\n\n";
  for (const auto& f : r.paragraphs) {
    out << "### " << L.get(lang, "severity." + f.severity) << ": " << f.title << " (`" << f.id << "`)\n\n";
    if (!f.follows.empty()) out << "_" << fill(L.get(lang, "follows"), "id", f.follows) << "_\n\n";
    out << f.remediation << "\n\n";
    if (!evidence_lines(f.evidence, L, lang).empty()) {
      out << "| " << L.get(lang, "evidence") << " | |\n|---|---|\n";
      for (const auto& [label, value] : evidence_lines(f.evidence, L, lang)) {
        // A pipe would end the table cell.
        std::string escaped;
        for (char c : value) escaped += c == '|' ? std::string("\\|") : std::string(1, c);
        out << "| " << label << " | `" << escaped << "` |\n";
      }
      out << '\n';
    }
    if (f.source_url.empty()) out << "_" << L.get(lang, "source") << ": " << f.source_title << "_\n\n";
    else out << "_" << L.get(lang, "source") << ": [" << f.source_title << "](" << f.source_url << ")_\n\n";
  }
  if (!r.incomplete.empty()) {
    out << "## " << L.get(lang, "incomplete") << "\n\n";
    for (const auto& reason : r.incomplete) out << "- " << reason << '\n';
    out << '\n';
  }
  return out.str();
}

} // namespace certdoctor::report
