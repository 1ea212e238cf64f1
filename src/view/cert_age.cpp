#include "view/cert_age.hpp"

#include "util/yaml.hpp"

#include <algorithm>
#include <cmath>

namespace certdoctor::view {

using nlohmann::json;

namespace {

bool contains(const std::vector<std::string>& v, const std::string& s) { return std::find(v.begin(), v.end(), s) != v.end(); }

// A certificate name matches a host name exactly or as a wildcard over one label (RFC 6125 §6.4.3).
bool cert_name_matches(const std::string& pattern, const std::string& host) {
  if (pattern == host) return true;
  if (pattern.rfind("*.", 0) == 0) {
    auto dot = host.find('.');
    return dot != std::string::npos && host.substr(dot) == pattern.substr(1);
  }
  return false;
}

std::int64_t days_between(std::int64_t from, std::int64_t to) {
  return static_cast<std::int64_t>(std::floor(static_cast<double>(to - from) / 86400.0));
}

const json* find_name(const json& names, const std::string& name) {
  for (const auto& n : names)
    if (n.value("name", "") == name) return &n;
  return nullptr;
}

} // namespace

RenewalSchedule renewal_schedule(const json& provider_profile) {
  RenewalSchedule s;
  if (provider_profile.is_object() && provider_profile.contains("renewal") && provider_profile["renewal"].is_object()) {
    const json& r = provider_profile["renewal"];
    if (r.contains("attempts_days_before_expiry") && r["attempts_days_before_expiry"].is_array() &&
        !r["attempts_days_before_expiry"].empty()) {
      for (const auto& d : r["attempts_days_before_expiry"])
        if (d.is_number_integer()) {
          s.point = std::max(s.point, d.get<int>());
          s.attempts.push_back(d.get<int>());
        }
      std::sort(s.attempts.rbegin(), s.attempts.rend());
      s.kind = "attempts";
    } else if (r.contains("notice_days_before_expiry") && r["notice_days_before_expiry"].is_number_integer()) {
      s.point = r["notice_days_before_expiry"].get<int>();
      s.kind = "notice";
    }
  }
  return s;
}

json derive_certs(const facts::Facts& f, const json& names, const RenewalSchedule& schedule, bool v6_first,
                  const json& web_data) {
  const int renewal_point = schedule.point;
  const std::string& renewal_kind = schedule.kind;
  const std::vector<int>& attempts = schedule.attempts;
  // Certificates: one TLS probe per name, the first address that completed a handshake (in the
  // CA's order), else the first probe.
  const auto collected = facts::parse_utc_time(f.collected_at);
  const json cert_data = web_data.value("certificates", json::object());
  const int expiring_days = cert_data.value("expiring_days", 14);
  const json revoked = web_data.value("revoked_intermediates", json::array());
  json certs = json::array();
  for (const auto& n : f.names) {
    const facts::TlsProbe* chosen = nullptr;
    std::vector<const facts::TlsProbe*> mine;
    for (const auto& t : f.web.tls)
      if (t.name == n.name) mine.push_back(&t);
    std::stable_sort(mine.begin(), mine.end(), [&](const facts::TlsProbe* a, const facts::TlsProbe* b) {
      return (a->family == "ipv6") == v6_first && (b->family == "ipv6") != v6_first;
    });
    for (const auto* t : mine)
      if (t->outcome == "handshake" && !t->chain.empty()) {
        chosen = t;
        break;
      }
    if (!chosen && !mine.empty()) chosen = mine.front();
    if (!chosen) continue;
    const json* nv = find_name(names, n.name);
    json c = {{"name", n.name}, {"display", nv ? nv->value("display", n.name) : n.name}, {"role", n.role},
              // A handshake our own deadline ended is not the server's failure: not sent in time.
              {"address", chosen->address}, {"outcome", chosen->deadline_cut ? std::string("not-sent") : chosen->outcome},
              {"error", chosen->error},
              {"verified", chosen->verified}, {"verify_error", chosen->verify_error}, {"has_leaf", false},
              {"days_left", nullptr}, {"expired", false}, {"covers_name", false}, {"leaf", nullptr},
              {"issuer_cn", ""}, {"not_after", ""}, {"not_before", ""}, {"revoked_intermediate", nullptr},
              {"renewal_point_days", renewal_point < 0 ? json(nullptr) : json(renewal_point)},
              {"renewal_kind", renewal_kind}, {"renewal_attempts_days", attempts},
              {"renewal_next_days", nullptr}, {"renewal_next_date", ""}, {"expiring", false}, {"not_renewed", false},
              {"newer_in_ct", nullptr}, {"not_renewed_reason", ""}, {"expired_days_ago", 0},
              {"names_on_certificate", json::array()}, {"chain_subjects", json::array()}};
    std::vector<std::string> addresses;
    for (const auto* t : mine) addresses.push_back(t->address);
    c["addresses"] = addresses;
    if (chosen->outcome == "handshake" && !chosen->chain.empty()) {
      const auto& leaf = chosen->chain.front();
      c["has_leaf"] = true;
      c["leaf"] = leaf;
      c["issuer_cn"] = leaf.issuer_cn;
      c["not_after"] = leaf.not_after;
      c["not_before"] = leaf.not_before;
      for (const auto& cert : chosen->chain) c["chain_subjects"].push_back(cert.subject_cn);
      bool covers = false;
      for (const auto& dn : leaf.dns_names)
        if (cert_name_matches(dn, n.name)) covers = true;
      c["covers_name"] = covers;
      c["names_on_certificate"] = leaf.dns_names;
      const auto not_after = facts::parse_utc_time(leaf.not_after);
      const auto not_before = facts::parse_utc_time(leaf.not_before);
      if (collected && not_after) {
        const auto left = days_between(*collected, *not_after);
        c["days_left"] = left;
        c["expired"] = *not_after < *collected;
        const bool expired = *not_after < *collected;
        c["expiring"] = !expired && left < expiring_days;
        c["not_renewed"] = !expired && renewal_point >= 0 && left >= expiring_days && left < renewal_point;
        if (c["not_renewed"].get<bool>()) c["not_renewed_reason"] = "schedule";
        c["expired_days_ago"] = expired ? -left : 0;
        // The provider's next scheduled attempt: the first one not yet passed (today's counts).
        if (!expired)
          for (int d : attempts)
            if (d <= left) {
              c["renewal_next_days"] = d;
              c["renewal_next_date"] = facts::format_utc_time(*not_after - std::int64_t{d} * 86400).substr(0, 10);
              break;
            }
      }
      // An intermediate on the revoked list, for a leaf issued in the affected period.
      for (const auto& r : revoked) {
        if (!r.is_object()) continue;
        auto from = facts::parse_utc_time(r.value("issued_from", ""));
        auto until = facts::parse_utc_time(r.value("issued_until", ""));
        bool in_period = not_before && (!from || *not_before >= *from) && (!until || *not_before <= *until);
        if (!in_period) continue;
        for (std::size_t i = 1; i < chosen->chain.size(); ++i)
          if (contains(string_list(r.value("subject_cn", json::array())), chosen->chain[i].subject_cn)) {
            c["revoked_intermediate"] = {{"id", r.value("id", "")}, {"subject_cn", chosen->chain[i].subject_cn},
                                         {"revoked_on", r.value("revoked_on", "")}};
            break;
          }
        if (!c["revoked_intermediate"].is_null()) break;
      }
      // A newer certificate for this name in Certificate Transparency: issued, never installed.
      if (not_before) {
        for (const auto& ct : f.ct.certificates) {
          auto nb = facts::parse_utc_time(ct.not_before);
          if (!nb || *nb <= *not_before + 86400) continue;
          if (!contains(ct.names, n.name)) continue;
          if (c["newer_in_ct"].is_null() || ct.not_before > c["newer_in_ct"]["not_before"].get<std::string>())
            c["newer_in_ct"] = {{"serial", ct.serial}, {"not_before", ct.not_before}, {"issuer", ct.issuer}};
        }
        if (!c["newer_in_ct"].is_null() && !c["expired"].get<bool>()) {
          c["not_renewed"] = true;
          c["not_renewed_reason"] = "not-installed";
          c["expiring"] = false;
        }
      }
    }
    certs.push_back(c);
  }
  return certs;
}

} // namespace certdoctor::view
