#include "view/data.hpp"

#include <algorithm>
#include <regex>

#include "util/error.hpp"
#include "util/text.hpp"
#include "util/yaml.hpp"

namespace certdoctor::view {

namespace fs = std::filesystem;


namespace {

std::vector<std::string> string_list(const fs::path& file, const YAML::Node& node, const char* key) {
  std::vector<std::string> out;
  const YAML::Node list = node[key];
  if (!list) return out;
  if (!list.IsSequence()) throw ConfigError(yaml_where(file, list) + ": '" + key + "' must be a list");
  for (const auto& item : list) out.push_back(item.as<std::string>());
  return out;
}

std::vector<fs::path> yaml_files(const fs::path& dir) {
  std::vector<fs::path> files;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return files;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.is_regular_file() && (e.path().extension() == ".yaml" || e.path().extension() == ".yml"))
      files.push_back(e.path());
  std::sort(files.begin(), files.end());
  return files;
}

/// Reads the `notices:` map of a provider profile. Fields a renderer shows (means, next) must
/// exist in both languages; every kind needs a subject or body pattern.
ProviderNotices load_notices(const fs::path& file, const YAML::Node& n) {
  ProviderNotices out;
  if (!n) return out;
  if (!n.IsMap()) throw ConfigError(yaml_where(file, n) + ": 'notices' must be a map (senders, subject_tags, fields, kinds)");
  out.senders = string_list(file, n, "senders");
  out.subject_tags = string_list(file, n, "subject_tags");
  if (const YAML::Node f = n["fields"]) {
    if (!f.IsMap()) throw ConfigError(yaml_where(file, f) + ": 'fields' must map a field name to its labels");
    for (const auto& kv : f) {
      const auto key = kv.first.as<std::string>();
      if (key != "domain" && key != "account" && key != "server" && key != "member" && key != "cert_type")
        throw ConfigError(yaml_where(file, kv.first) + ": unknown field '" + key +
                          "' (use domain, account, server, member or cert_type)");
      out.fields[key] = string_list(file, f, key.c_str());
    }
  }
  if (const YAML::Node r = n["recognition"]) {
    if (!r.IsMap()) throw ConfigError(yaml_where(file, r) + ": 'recognition' must be a map");
    out.names = string_list(file, r, "names");
    out.certificate_words = string_list(file, r, "certificate_words");
    out.failure_words = string_list(file, r, "failure_words");
    out.unrelated_words = string_list(file, r, "unrelated_words");
    if (const YAML::Node w = r["weights"]) {
      if (!w.IsMap()) throw ConfigError(yaml_where(file, w) + ": 'weights' must map a cue to a number");
      for (const auto& kv : w) out.weights[kv.first.as<std::string>()] = kv.second.as<int>();
    }
    if (!r["threshold"]) throw ConfigError(yaml_where(file, r) + ": 'recognition' needs a 'threshold'");
    out.threshold = r["threshold"].as<int>();
  }
  if (const YAML::Node a = n["account"]) {
    if (!a.IsMap()) throw ConfigError(yaml_where(file, a) + ": 'account' must be a map (fields, strip)");
    out.account_fields = string_list(file, a, "fields");
    out.account_strip = string_list(file, a, "strip");
  }
  auto patterns = [&](const YAML::Node& kind, const char* key) {
    std::vector<std::vector<std::string>> res;
    const YAML::Node list = kind[key];
    if (!list) return res;
    if (!list.IsSequence()) throw ConfigError(yaml_where(file, list) + ": '" + key + "' must be a list of patterns");
    for (const auto& p : list) {
      std::vector<std::string> parts;
      if (p.IsScalar()) parts.push_back(p.as<std::string>());
      else if (p.IsSequence())
        for (const auto& part : p) parts.push_back(part.as<std::string>());
      else throw ConfigError(yaml_where(file, p) + ": a pattern is a string or a list of strings");
      if (parts.empty()) throw ConfigError(yaml_where(file, p) + ": empty pattern");
      res.push_back(std::move(parts));
    }
    return res;
  };
  const YAML::Node kinds = n["kinds"];
  if (kinds && !kinds.IsSequence()) throw ConfigError(yaml_where(file, kinds) + ": 'kinds' must be a list");
  for (const auto& k : kinds) {
    NoticeKind kind;
    if (!k["id"]) throw ConfigError(yaml_where(file, k) + ": notice kind without 'id'");
    kind.id = k["id"].as<std::string>();
    kind.line = k.Mark().line + 1;
    kind.subjects = patterns(k, "subjects");
    kind.body = patterns(k, "body");
    kind.words = patterns(k, "words");
    if (kind.subjects.empty() && kind.body.empty())
      throw ConfigError(yaml_where(file, k) + ": notice kind '" + kind.id + "' needs 'subjects' or 'body' patterns");
    kind.means = yaml_to_json(k["means"]);
    kind.next = yaml_to_json(k["next"]);
    for (const char* lang : {"en", "ja"}) {
      for (const auto& [what, text] : {std::pair<const char*, const nlohmann::json*>{"means", &kind.means},
                                        std::pair<const char*, const nlohmann::json*>{"next", &kind.next}})
        if (!text->is_object() || !text->contains(lang) || !text->at(lang).is_string())
          throw ConfigError(yaml_where(file, k) + ": notice kind '" + kind.id + "': '" + what + "' needs a text for '" + lang + "'");
    }
    if (k["source"]) kind.source = k["source"].as<std::string>();
    if (const YAML::Node faults = k["known_faults"]) {
      if (!faults.IsSequence()) throw ConfigError(yaml_where(file, faults) + ": 'known_faults' must be a list of {dates, note}");
      for (const auto& fault : faults) {
        const YAML::Node dates = fault["dates"];
        if (!dates || !dates.IsSequence() || dates.size() == 0)
          throw ConfigError(yaml_where(file, fault) + ": a known fault needs 'dates' (a list of MM-DD)");
        for (const auto& d : dates) {
          const std::string md = d.as<std::string>();
          if (md.size() != 5 || md[2] != '-' || !std::isdigit(static_cast<unsigned char>(md[0])) ||
              !std::isdigit(static_cast<unsigned char>(md[1])) || !std::isdigit(static_cast<unsigned char>(md[3])) ||
              !std::isdigit(static_cast<unsigned char>(md[4])))
            throw ConfigError(yaml_where(file, d) + ": '" + md + "' is not a date of the form MM-DD");
        }
        for (const char* lang : {"en", "ja"})
          if (!fault["note"] || !fault["note"][lang] || !fault["note"][lang].IsScalar())
            throw ConfigError(yaml_where(file, fault) + ": a known fault's 'note' needs a text for '" + lang + "'");
      }
      kind.known_faults = yaml_to_json(faults);
    }
    for (const auto& other : out.kinds)
      if (other.id == kind.id) throw ConfigError(yaml_where(file, k) + ": notice kind '" + kind.id + "' appears twice");
    out.kinds.push_back(std::move(kind));
  }
  return out;
}

/// Checks the `texts:` map of a provider profile: each entry (the X of {provider.X} in rule texts)
/// is a map with a string per language, and optionally `no_attempt_left:` with the same.
void check_texts(const fs::path& file, const YAML::Node& texts) {
  if (!texts) return;
  if (!texts.IsMap()) throw ConfigError(yaml_where(file, texts) + ": 'texts' must map a name to its text per language");
  for (const auto& kv : texts) {
    const auto key = kv.first.as<std::string>();
    if (!kv.second.IsMap()) throw ConfigError(yaml_where(file, kv.first) + ": texts." + key + " must be a map of languages (en, ja)");
    for (const char* lang : {"en", "ja"})
      if (!kv.second[lang] || !kv.second[lang].IsScalar())
        throw ConfigError(yaml_where(file, kv.first) + ": texts." + key + " needs a text for '" + lang + "'");
    // The words for when the renewal schedule holds no further automatic attempt.
    if (const YAML::Node alt = kv.second["no_attempt_left"]) {
      for (const char* lang : {"en", "ja"})
        if (!alt.IsMap() || !alt[lang] || !alt[lang].IsScalar())
          throw ConfigError(yaml_where(file, alt) + ": texts." + key + ".no_attempt_left needs a text for '" + lang + "'");
    }
  }
}

template <typename Map>
std::vector<std::string> ids_of(const Map& m) {
  std::vector<std::string> ids;
  for (const auto& [id, _] : m) ids.push_back(id);
  return ids;
}

std::string joined(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : ", ") + s;
  return out;
}

} // namespace

DataSet DataSet::load(const std::vector<fs::path>& dirs) { return load(DataSet(), dirs); }

DataSet DataSet::load(DataSet base, const std::vector<fs::path>& dirs) {
  DataSet set = std::move(base);
  for (const auto& dir : dirs) {
    for (const auto& file : yaml_files(dir / "providers")) {
      YAML::Node root = load_yaml_file(file);
      YAML::Node p = root["provider"];
      if (!p || !p.IsMap()) throw ConfigError(file.string() + ":1: a provider profile needs a 'provider:' map");
      ProviderProfile prof;
      try {
        if (!p["id"]) throw ConfigError(yaml_where(file, p) + ": provider profile without 'id'");
        prof.id = p["id"].as<std::string>();
        prof.nameservers = string_list(file, p, "nameservers");
        prof.nameserver_patterns = string_list(file, p, "nameserver_patterns");
        prof.host_addresses = string_list(file, p, "host_addresses");
        prof.account_names = string_list(file, p, "account_names");
        for (const auto& a : prof.account_names)
          if (a.find("{account}") == std::string::npos)
            throw ConfigError(yaml_where(file, p["account_names"]) + ": account_names: '" + a + "' lacks {account}");
        prof.server_name_patterns = string_list(file, p, "server_name_patterns");
        for (const auto& pat : prof.server_name_patterns) {
          try {
            std::regex re(pat);
          } catch (const std::regex_error&) {
            throw ConfigError(yaml_where(file, p["server_name_patterns"]) + ": server_name_patterns: '" + pat + "' is no regular expression");
          }
        }
        check_texts(file, p["texts"]);
        prof.notices = load_notices(file, root["notices"]);
      } catch (const YAML::Exception& e) {
        throw yaml_error(file, e);
      }
      prof.file = file.string();
      prof.data = yaml_to_json(p);
      set.providers_[prof.id] = std::move(prof);
    }
    for (const auto& file : yaml_files(dir / "ca")) {
      YAML::Node root = load_yaml_file(file);
      YAML::Node c = root["ca"];
      if (!c || !c.IsMap()) throw ConfigError(file.string() + ":1: a CA model needs a 'ca:' map");
      CaModel ca;
      try {
        if (!c["id"]) throw ConfigError(yaml_where(file, c) + ": CA model without 'id'");
        ca.id = c["id"].as<std::string>();
        ca.caa_issuer_domains = string_list(file, c, "caa_issuer_domains");
        if (c["validation_method"]) ca.validation_method = c["validation_method"].as<std::string>();
        if (c["address_preference"]) ca.address_preference = c["address_preference"].as<std::string>();
        if (c["caa_bit1_critical"]) ca.caa_bit1_critical = c["caa_bit1_critical"].as<bool>();
      } catch (const YAML::Exception& e) {
        throw yaml_error(file, e);
      }
      if (ca.address_preference != "ipv6-first" && ca.address_preference != "ipv4-first")
        throw ConfigError(yaml_where(file, c["address_preference"]) + ": address_preference must be ipv6-first or ipv4-first, not '" +
                          ca.address_preference + "'");
      ca.file = file.string();
      ca.data = yaml_to_json(c);
      set.cas_[ca.id] = std::move(ca);
    }
    const fs::path web = dir / "data" / "web.yaml";
    std::error_code ec;
    if (fs::exists(web, ec)) {
      nlohmann::json doc = yaml_to_json(load_yaml_file(web));
      if (!doc.is_object()) throw ConfigError(web.string() + ":1: expected a map of web data");
      for (auto& [k, v] : doc.items()) set.web_[k] = v;
    }
  }
  return set;
}

// The built-in form: every member by name.
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(NoticeKind, id, subjects, body, words, means, next, source, known_faults, line)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(ProviderNotices, senders, subject_tags, fields, kinds, names, certificate_words,
                                   failure_words, unrelated_words, weights, threshold, account_fields, account_strip)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(ProviderProfile, id, nameservers, nameserver_patterns, host_addresses, account_names,
                                   server_name_patterns, notices, file, data)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(CaModel, id, caa_issuer_domains, validation_method, address_preference,
                                   caa_bit1_critical, file, data)

nlohmann::json DataSet::to_json() const {
  return {{"providers", providers_}, {"cas", cas_}, {"web", web_}};
}

DataSet DataSet::from_json(const nlohmann::json& j) {
  DataSet set;
  try {
    j.at("providers").get_to(set.providers_);
    j.at("cas").get_to(set.cas_);
    set.web_ = j.at("web");
  } catch (const nlohmann::json::exception& e) {
    throw ConfigError(std::string("built-in rules: malformed data set: ") + e.what());
  }
  return set;
}

const ProviderProfile& DataSet::provider(const std::string& id) const {
  auto it = providers_.find(id);
  if (it != providers_.end()) return it->second;
  const std::string hint = closest_name(id, ids_of(providers_));
  throw UsageError(Message{hint.empty() ? "provider-unknown" : "provider-unknown-hint",
                           {{"value", printable(id)}, {"hint", hint}, {"known", joined(ids_of(providers_))}}});
}

const CaModel& DataSet::ca(const std::string& id) const {
  auto it = cas_.find(id);
  if (it != cas_.end()) return it->second;
  const std::string hint = closest_name(id, ids_of(cas_));
  throw UsageError(Message{hint.empty() ? "ca-unknown" : "ca-unknown-hint",
                           {{"value", printable(id)}, {"hint", hint}, {"known", joined(ids_of(cas_))}}});
}

} // namespace certdoctor::view
