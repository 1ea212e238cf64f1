#include "pipeline/record.hpp"

#include <pwd.h>
#include <unistd.h>

#include <openssl/evp.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "facts/outside.hpp"
#include "util/error.hpp"
#include "util/text.hpp"
#include "view/cert_age.hpp"

namespace certdoctor::pipeline {

using nlohmann::json;
namespace fs = std::filesystem;

std::string default_user() {
  for (const char* var : {"USER", "LOGNAME"})
    if (const char* v = std::getenv(var); v && *v) return v;
  if (const passwd* pw = getpwuid(getuid())) return pw->pw_name;
  return "uid " + std::to_string(getuid());
}

std::string rules_version(const Knowledge& k) {
  // The files as the loader sees them: a later directory's file replaces the same path.
  std::map<std::string, fs::path> files;
  for (const auto& dir : k.dirs) {
    std::error_code ec;
    for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::recursive_directory_iterator(); it.increment(ec))
      if (it->is_regular_file() && it->path().extension() == ".yaml")
        files[fs::relative(it->path(), dir).generic_string()] = it->path();
  }
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  EVP_DigestInit_ex(ctx, EVP_sha256(), nullptr);
  for (const auto& [name, path] : files) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream body;
    body << in.rdbuf();
    const std::string b = body.str();
    EVP_DigestUpdate(ctx, name.data(), name.size() + 1);  // with its terminating NUL as a separator
    EVP_DigestUpdate(ctx, b.data(), b.size());
  }
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  EVP_DigestFinal_ex(ctx, md, &n);
  EVP_MD_CTX_free(ctx);
  static const char* hex = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < 6 && i < n; ++i) {
    out += hex[md[i] >> 4];
    out += hex[md[i] & 15];
  }
  return out;
}

store::Record record_of(const facts::Facts& f, const json& view, const std::vector<rules::Finding>& findings,
                        const std::string& verdict, const Knowledge& k, const RecordOptions& o) {
  store::Record r;
  r.domain = f.domain;
  r.registered_domain = f.registered_domain;
  r.started_at = facts::parse_utc_time(f.collected_at).value_or(0);
  r.finished_at = r.started_at + static_cast<std::int64_t>(f.elapsed_ms / 1000.0 + 0.5);
  r.verdict = verdict;
  for (const auto& x : findings) {
    r.finding_ids.push_back(x.id);
    r.findings.push_back(x);
  }
  r.facts = json(f).dump();
  r.tool_version = CERTDOCTOR_VERSION;
  r.rules_version = rules_version(k);
  r.user = o.user.empty() ? default_user() : o.user;
  r.ticket = o.ticket;
  r.source = o.source;
  // The served certificate as the view chose it for the renewal: the main name's, else the first
  // name's with a certificate.
  const json* chosen = nullptr;
  if (view.contains("web") && view["web"].contains("certs") && view["web"]["certs"].is_array())
    for (const auto& c : view["web"]["certs"])
      if (c.value("has_leaf", false) && (!chosen || (c.value("role", "") == "main" && chosen->value("role", "") != "main")))
        chosen = &c;
  if (chosen) r.cert_not_after = facts::parse_utc_time(chosen->value("not_after", ""));
  if (view.contains("provider") && view["provider"].is_object()) r.provider = view["provider"].value("id", "");
  return r;
}

std::int64_t record(const facts::Facts& f, const Diagnosis& d, const Knowledge& k, const RecordOptions& o) {
  auto s = store::open(o.db, store::Open::create);
  return s->add(record_of(f, d.view, d.findings, d.report.verdict, k, o));
}

Recalled recall(store::Store& s, std::int64_t id, const Knowledge& k, const std::string& lang, const DiagnoseOptions& options) {
  auto r = s.get(id);
  if (!r) throw store::StoreError(s.where() + ": no check " + std::to_string(id) + "; see certdoctor history DOMAIN for the ids");
  Recalled out;
  // A record from an older facts format is named as such by the reader (judged facts keep their format).
  out.facts = facts::parse_document(r->facts, s.where() + ", check " + std::to_string(id));
  out.diagnosis = diagnose(out.facts, k, lang, options);
  out.diagnosis.report.replayed = true;
  out.record = std::move(*r);
  return out;
}

store::Record pick(store::Store& s, const std::string& domain, const std::string& ref) {
  const std::string see = "; see certdoctor history " + domain + " for its checks";
  if (ref == "last-ok") {
    auto r = s.last_ok(domain);
    if (!r) throw store::StoreError(s.where() + ": no passing check of " + domain + " is recorded" + see);
    return *s.get(r->id);
  }
  const bool digits = !ref.empty() && ref.size() <= 18 && std::all_of(ref.begin(), ref.end(), [](unsigned char c) {
    return std::isdigit(c);
  });
  if (digits) {
    auto r = s.get(std::stoll(ref));
    if (!r) throw store::StoreError(s.where() + ": no check " + ref + see);
    if (r->domain != domain)
      throw UsageError("check " + ref + " is of " + printable(r->domain) + ", not of " + domain + see);
    return *r;
  }
  if (ref.size() == 10 && ref[4] == '-' && ref[7] == '-') {
    if (auto end = facts::parse_utc_time(ref + "T23:59:59+09:00")) {
      for (const auto& r : s.list(domain, 0))  // newest first
        if (r.started_at <= *end) return *s.get(r.id);
      throw store::StoreError(s.where() + ": no check of " + domain + " is recorded on " + ref + " or before" + see);
    }
  }
  throw UsageError("'" + printable(ref, 60) + "': give last-ok, a check id or a day YYYY-MM-DD");
}

std::vector<rules::Finding> recorded_findings(const store::Record& r) {
  std::vector<rules::Finding> out;
  if (!r.findings.is_array()) return out;
  for (const auto& f : r.findings) out.push_back(f.get<rules::Finding>());
  return out;
}

store::Window renewal_window(const Knowledge& k, const std::string& provider) {
  store::Window w;
  if (provider.empty() || !k.data.providers().count(provider)) return w;
  const auto schedule = view::renewal_schedule(k.data.provider(provider).data);
  if (schedule.point >= 0) {
    w.days = schedule.point;
    w.kind = schedule.kind;
  }
  return w;
}

std::vector<store::Due> due(store::Store& s, const Knowledge& k, std::int64_t now, std::int64_t within) {
  return store::due(s.latest_per_domain(), now, within, [&](const std::string& p) { return renewal_window(k, p); });
}

json record_json(const store::Record& r) {
  json j = {{"id", r.id},
            {"domain", r.domain},
            {"registered_domain", r.registered_domain},
            {"started_at", facts::format_utc_time(r.started_at)},
            {"finished_at", facts::format_utc_time(r.finished_at)},
            {"verdict", r.verdict},
            {"finding_ids", r.finding_ids},
            {"user", r.user},
            {"ticket", r.ticket},
            {"source", r.source},
            {"tool_version", r.tool_version},
            {"rules_version", r.rules_version},
            {"provider", r.provider},
            {"cert_not_after", r.cert_not_after ? json(facts::format_utc_time(*r.cert_not_after)) : json(nullptr)}};
  return j;
}

json history_json(const std::string& domain, const std::vector<store::Record>& records) {
  json list = json::array();
  for (const auto& r : records) list.push_back(record_json(r));
  return json{{"domain", domain}, {"checks", list}};
}

} // namespace certdoctor::pipeline
