#include "triage/acme.hpp"

#include <algorithm>
#include <set>

#include <glib.h>
#include <yaml-cpp/yaml.h>

#include "util/error.hpp"
#include "util/text.hpp"
#include "util/yaml.hpp"

namespace certdoctor::triage {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

// Lines longer than this are cut before matching: no error text is this long, and it bounds
// the work on hostile input.
constexpr std::size_t max_line = 8192;
// At most this many causes are reported from one input.
constexpr std::size_t max_causes = 32;

bool valid_utf8(const std::string& s) { return g_utf8_validate(s.data(), static_cast<gssize>(s.size()), nullptr); }

std::vector<Pattern> patterns(const fs::path& file, const YAML::Node& list, bool multiline = false) {
  std::vector<Pattern> out;
  if (!list) return out;
  if (!list.IsSequence()) throw ConfigError(yaml_where(file, list) + ": expected a list of patterns");
  for (const auto& p : list) out.emplace_back(p.as<std::string>(), yaml_where(file, p), multiline);
  return out;
}

std::string short_type(std::string_view type) {
  for (std::string_view prefix : {"urn:ietf:params:acme:error:", "urn:acme:error:"})
    if (type.rfind(prefix, 0) == 0) return std::string(type.substr(prefix.size()));
  return std::string(type);
}

std::string host_of(const std::string& url) {
  auto p = url.find("://");
  if (p == std::string::npos) return {};
  auto start = p + 3;
  auto end = url.find_first_of("/:?#", start);
  return url.substr(start, end == std::string::npos ? std::string::npos : end - start);
}

std::string trim(std::string s) {
  auto b = s.find_first_not_of(" \t\r\n\"'");
  if (b == std::string::npos) return {};
  auto e = s.find_last_not_of(" \t\r\n\"'.,;");
  return s.substr(b, e - b + 1);
}

void add_domain(std::vector<std::string>& domains, std::string d) {
  d = trim(d);
  while (!d.empty() && d.back() == '.') d.pop_back();
  if (d.rfind("*.", 0) == 0) d = d.substr(2);
  if (d.empty() || d.size() > 253 || d.find('.') == std::string::npos || d.find('/') != std::string::npos) return;
  const std::string low = lower(d);
  if (std::find(domains.begin(), domains.end(), low) == domains.end()) domains.push_back(low);
}

json note_of(const fs::path& file, const YAML::Node& n) {
  json out = json::object();
  for (const char* lang : {"en", "ja"}) {
    if (!n.IsMap() || !n[lang] || !n[lang].IsScalar())
      throw ConfigError(yaml_where(file, n) + ": a note needs a text for '" + lang + "'");
    out[lang] = n[lang].as<std::string>();
  }
  return out;
}

} // namespace

AcmeCatalogue AcmeCatalogue::load(const std::vector<fs::path>& dirs) {
  AcmeCatalogue cat;
  for (const auto& dir : dirs) {
    fs::path file = dir / "acme-errors.yaml";
    std::error_code ec;
    if (!fs::exists(file, ec)) continue;
    const YAML::Node root = load_yaml_file(file);
    const YAML::Node a = root["acme_errors"];
    if (!a || !a.IsMap()) throw ConfigError(file.string() + ":1: expected an 'acme_errors:' map");
    cat.files.push_back(file.string());
    try {
      if (a["other_ids"])
        for (const auto& id : a["other_ids"]) cat.other_ids.push_back(id.as<std::string>());
      for (auto& p : patterns(file, a["evidence"])) cat.evidence.push_back(std::move(p));
      for (const auto& c : a["causes"]) {
        if (!c["id"] || !c["pattern"]) throw ConfigError(yaml_where(file, c) + ": a cause needs 'id' and 'pattern'");
        AcmeCauseRule r{c["id"].as<std::string>(), c["finding"] ? c["finding"].as<std::string>() : "", {},
                        Pattern(c["pattern"].as<std::string>(), yaml_where(file, c["pattern"])), "", json::object(),
                        file.string(), c.Mark().line + 1, json()};
        if (c["types"])
          for (const auto& t : c["types"]) r.types.push_back(short_type(t.as<std::string>()));
        if (c["inner"]) {
          r.inner = c["inner"].as<std::string>();
          const auto& n = r.pattern.names();
          if (std::find(n.begin(), n.end(), r.inner) == n.end())
            throw ConfigError(yaml_where(file, c["inner"]) + ": cause '" + r.id + "': no group named '" + r.inner + "' in its pattern");
        }
        if (c["note"]) r.note = note_of(file, c["note"]);
        if (r.finding.empty() && r.inner.empty())
          throw ConfigError(yaml_where(file, c) + ": cause '" + r.id + "' needs a 'finding' (or 'inner')");
        if (c["evidence"]) {
          if (!c["evidence"].IsMap()) throw ConfigError(yaml_where(file, c["evidence"]) + ": 'evidence' must be a map");
          for (const auto& kv : c["evidence"]) r.evidence[kv.first.as<std::string>()] = kv.second.as<std::string>();
        }
        auto same = std::find_if(cat.causes.begin(), cat.causes.end(), [&](const auto& x) { return x.id == r.id; });
        if (same != cat.causes.end()) *same = std::move(r);
        else cat.causes.push_back(std::move(r));
      }
      if (const YAML::Node notes = a["notes"]) {
        if (!notes.IsMap()) throw ConfigError(yaml_where(file, notes) + ": 'notes' must map a finding id to {en, ja}");
        for (const auto& kv : notes) cat.finding_notes[kv.first.as<std::string>()] = note_of(file, kv.second);
      }
      for (const auto& c : a["clients"]) {
        if (!c["id"]) throw ConfigError(yaml_where(file, c) + ": a client needs an 'id'");
        AcmeClient cl{c["id"].as<std::string>(), patterns(file, c["markers"], true), patterns(file, c["domains"], true)};
        auto same = std::find_if(cat.clients.begin(), cat.clients.end(), [&](const auto& x) { return x.id == cl.id; });
        if (same != cat.clients.end()) *same = std::move(cl);
        else cat.clients.push_back(std::move(cl));
      }
    } catch (const YAML::Exception& e) {
      throw yaml_error(file, e);
    }
  }
  return cat;
}

std::string rfc3339(const std::string& when) {
  // "YYYY-MM-DD HH:MM:SS UTC" (Boulder) -> "YYYY-MM-DDTHH:MM:SSZ"
  if (when.size() >= 19 && when[4] == '-' && when[7] == '-' && (when[10] == ' ' || when[10] == 'T') && when[13] == ':')
    return when.substr(0, 10) + "T" + when.substr(11, 8) + "Z";
  return when;
}

AcmeCause classify_error(const AcmeCatalogue& cat, std::string_view detail_in, std::string_view type_in) {
  AcmeCause out;
  std::string detail(detail_in.substr(0, max_line));
  out.detail = trim(detail);
  out.type = short_type(type_in);
  for (const auto& p : cat.evidence)
    if (auto m = p.search(detail))
      for (auto& [k, v] : m->groups)
        if (!out.evidence.contains(k)) out.evidence[k] = v;
  if (out.type.empty() && out.evidence.contains("type")) out.type = out.evidence["type"].get<std::string>();
  out.evidence.erase("type");
  std::string text = detail;
  // An inner cause is matched again, at most a few levels deep.
  for (int depth = 0; depth < 4; ++depth) {
    bool unwrapped = false;
    for (const auto& r : cat.causes) {
      if (!r.types.empty() && std::find(r.types.begin(), r.types.end(), out.type) == r.types.end()) continue;
      auto m = r.pattern.search(text);
      if (!m) continue;
      for (auto& [k, v] : r.evidence.items()) out.evidence[k] = v;
      if (!r.inner.empty()) {
        auto it = m->groups.find(r.inner);
        if (it != m->groups.end() && it->second.size() < text.size()) {
          text = it->second;
          unwrapped = true;
          break;
        }
        continue;
      }
      for (auto& [k, v] : m->groups) out.evidence[k] = k == "retry_after" ? rfc3339(trim(v)) : trim(v);
      out.finding = r.finding;
      out.rule = r.id;
      if (!r.note.is_null()) out.note = r.note;
      break;
    }
    if (!unwrapped) break;
  }
  if (out.rule.empty()) out.rule = "unmapped";
  for (const char* key : {"name", "domain"})
    if (out.domain.empty() && out.evidence.contains(key)) out.domain = out.evidence[key].get<std::string>();
  if (out.domain.empty() && out.evidence.contains("url")) out.domain = host_of(out.evidence["url"].get<std::string>());
  return out;
}

namespace {

// The problem inside an ACME JSON object: the object itself, or its "error" (a challenge), or
// the errors of its challenges (an authorization).
void problems_of(const json& j, const std::string& identifier, std::vector<std::tuple<std::string, std::string, std::string>>& out,
                 int depth) {
  if (depth > 6 || out.size() >= max_causes) return;
  if (j.is_array()) {
    for (const auto& x : j) problems_of(x, identifier, out, depth + 1);
    return;
  }
  if (!j.is_object()) return;
  std::string id = identifier;
  if (j.contains("identifier") && j["identifier"].is_object() && j["identifier"].contains("value") &&
      j["identifier"]["value"].is_string())
    id = j["identifier"]["value"].get<std::string>();
  if (j.contains("type") && j["type"].is_string() && j["type"].get<std::string>().find(":error:") != std::string::npos) {
    std::string detail = j.contains("detail") && j["detail"].is_string() ? j["detail"].get<std::string>() : "";
    bool has_sub = j.contains("subproblems") && j["subproblems"].is_array() && !j["subproblems"].empty();
    // With subproblems, each carries its own identifier and cause; the top level summarises.
    if (!has_sub) out.emplace_back(j["type"].get<std::string>(), detail, id);
    else problems_of(j["subproblems"], id, out, depth + 1);
    return;
  }
  for (const char* key : {"error", "challenges", "problem"})
    if (j.contains(key)) problems_of(j[key], id, out, depth + 1);
}

std::vector<std::string> lines_of(std::string_view text) {
  std::vector<std::string> lines;
  std::size_t pos = 0;
  while (pos < text.size() && lines.size() < 100000) {
    std::size_t nl = text.find('\n', pos);
    std::string_view line = text.substr(pos, nl == std::string_view::npos ? std::string_view::npos : nl - pos);
    pos = nl == std::string_view::npos ? text.size() : nl + 1;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    lines.emplace_back(line.substr(0, max_line));
  }
  return lines;
}

bool has_error_words(const std::string& s) {
  // A quick filter before the cause patterns: only lines that could hold a CA's error text.
  static const char* words[] = {"rror", "roblem", "nvalid", "imeout", "efused", "too many", "prevents", "etail",
                                "failed", "Fetching", "DNS", "status code", "no such host", "onnection", "secondary",
                                "Service busy", "maintenance", "dial tcp", "nonce", "record found", "records found",
                                "could not connect", "IP addresses found"};
  for (const char* w : words)
    if (s.find(w) != std::string::npos) return true;
  return false;
}

void add_cause(AcmeReport& rep, AcmeCause c, const std::string& context_domain) {
  if (c.domain.empty()) c.domain = context_domain;
  if (!c.domain.empty()) add_domain(rep.domains, c.domain);
  // A rate limit on an exact set names the set: "a.jp,www.a.jp".
  if (c.evidence.contains("names") && c.evidence["names"].is_string()) {
    std::string cur;
    for (char ch : c.evidence["names"].get<std::string>() + ",") {
      if (ch == ',') {
        add_domain(rep.domains, cur);
        cur.clear();
      } else cur += ch;
    }
  }
  // The same error printed twice (a log and its summary) counts once.
  for (const auto& x : rep.causes)
    if (x.rule == c.rule && x.domain == c.domain && x.finding == c.finding) return;
  if (rep.causes.size() < max_causes) rep.causes.push_back(std::move(c));
}

} // namespace

std::optional<AcmeReport> read_problem_json(const AcmeCatalogue& cat, std::string_view text) {
  std::size_t b = text.find_first_not_of(" \t\r\n");
  if (b == std::string_view::npos || text[b] != '{') return std::nullopt;
  json j = json::parse(text.substr(b), nullptr, false);
  if (j.is_discarded() || !j.is_object()) return std::nullopt;
  std::vector<std::tuple<std::string, std::string, std::string>> probs;
  problems_of(j, "", probs, 0);
  if (probs.empty()) return std::nullopt;
  AcmeReport rep;
  rep.form = "acme-problem";
  for (auto& [type, detail, id] : probs) {
    AcmeCause c = classify_error(cat, detail, type);
    if (!id.empty()) c.domain = id;
    add_cause(rep, std::move(c), "");
  }
  return rep;
}

std::optional<AcmeReport> read_client_log(const AcmeCatalogue& cat, std::string_view text) {
  AcmeReport rep;
  rep.form = "client-log";
  std::string head(text.substr(0, 1 << 20));
  bool valid = valid_utf8(head);
  if (valid)
    for (const auto& cl : cat.clients) {
      bool hit = std::any_of(cl.markers.begin(), cl.markers.end(), [&](const Pattern& p) { return p.search(head).has_value(); });
      if (!hit) continue;
      rep.client = cl.id;
      for (const auto& p : cl.domains)
        for (const auto& m : p.search_all(head, 64))
          for (const char* key : {"domain", "domains"}) {
            auto it = m.groups.find(key);
            if (it == m.groups.end()) continue;
            // "[a.jp www.a.jp]", "a.jp,www.a.jp" and "\"a.jp\",\"www.a.jp\"" are lists.
            std::string list = it->second;
            std::string cur;
            for (char c : list + " ") {
              if (c == ' ' || c == ',' || c == '"' || c == '\\') {
                if (!cur.empty()) add_domain(rep.domains, cur);
                cur.clear();
              } else cur += c;
            }
          }
      break;
    }
  // The lines with error text; a certbot "Detail:" wrapped over indented lines is joined first,
  // and a JSON log line (Caddy) is read through its string fields.
  std::vector<std::string> lines = lines_of(text);
  std::string context_domain;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    std::string line = lines[i];
    if (!valid && !valid_utf8(line)) continue;
    std::string trimmed = trim(line);
    if (trimmed.rfind("Domain:", 0) == 0) context_domain = trim(trimmed.substr(7));
    if (trimmed.rfind("Detail:", 0) == 0) {
      // certbot wraps long details (older versions at 80 columns) onto indented lines, up to an
      // empty line or the next "Word:" label.
      std::size_t indent = line.find_first_not_of(' ');
      while (i + 1 < lines.size() && line.size() < max_line) {
        const std::string& next = lines[i + 1];
        std::size_t nb = next.find_first_not_of(" \t");
        std::string nt = nb == std::string::npos ? "" : next.substr(nb);
        if (nt.empty() || next.find_first_not_of(' ') < indent) break;
        std::size_t colon = nt.find(": ");
        bool label = colon != std::string::npos && colon < 12 && nt.find(' ') > colon;
        if (label && nt.rfind("http", 0) != 0) break;
        line += " " + nt;
        ++i;
      }
    }
    std::string type;
    // A JSON object in the line: the whole line (Caddy), or a response printed after a prefix
    // (acme.sh prints the CA's answer after its own words).
    std::size_t brace = trimmed.find('{');
    std::size_t last = trimmed.rfind('}');
    if (brace != std::string::npos && last != std::string::npos && last > brace) {
      json j = json::parse(trimmed.substr(brace, last - brace + 1), nullptr, false);
      if (j.is_object()) {
        std::vector<std::tuple<std::string, std::string, std::string>> probs;
        problems_of(j, j.contains("identifier") && j["identifier"].is_string() ? j["identifier"].get<std::string>() : "",
                    probs, 0);
        for (auto& [t, detail, id] : probs) {
          AcmeCause c = classify_error(cat, detail, t);
          if (!id.empty()) c.domain = id;
          add_cause(rep, std::move(c), "");
        }
        if (!probs.empty()) continue;
        std::string joined;
        for (const char* key : {"error", "msg", "detail"})
          if (j.contains(key) && j[key].is_string()) joined += j[key].get<std::string>() + "\n";
        if (j.contains("identifier") && j["identifier"].is_string()) context_domain = j["identifier"].get<std::string>();
        line = joined;
      }
    }
    if (!has_error_words(line)) continue;
    // certbot's "Detail:" label is not part of the CA's words.
    if (std::size_t b = line.find_first_not_of(" \t"); b != std::string::npos && line.compare(b, 8, "Detail: ") == 0)
      line = line.substr(b + 8);
    AcmeCause c = classify_error(cat, line, type);
    if (c.finding.empty()) continue;
    // The detail reported is the error text from its start where the client's prefix ends.
    add_cause(rep, std::move(c), context_domain);
  }
  if (rep.causes.empty() && rep.client.empty()) return std::nullopt;
  return rep;
}

} // namespace certdoctor::triage
