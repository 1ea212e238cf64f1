#include "view/ratelimit.hpp"

#include "util/text.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdint>
#include <map>
#include <optional>

namespace certdoctor::view {

namespace {

constexpr std::int64_t day = 86400;

std::vector<std::string> name_set(const std::vector<std::string>& names) {
  std::vector<std::string> out;
  for (const auto& name : names) {
    std::string n = lower(name);
    if (!n.empty() && n.back() == '.') n.pop_back();
    if (!n.empty()) out.push_back(std::move(n));
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

std::optional<std::int64_t> issued_at(const facts::CtCertificate& c) {
  return facts::parse_utc_time(c.not_before.empty() ? c.logged_at : c.not_before);
}

struct Issued {
  std::int64_t at;
  std::vector<std::string> names;
};

// When the `limit`-th next issuance fits: enough of the counted certificates (oldest first,
// `times` ascending) must have left the window (now - window, now] that count < limit.
std::int64_t fits_again(const std::vector<std::int64_t>& times, int limit, std::int64_t window) {
  const std::size_t leave = times.size() - static_cast<std::size_t>(limit) + 1; // >= 1 when limited
  return times[leave - 1] + window;
}

int near_threshold(int limit, double fraction) {
  return std::max(1, static_cast<int>(std::ceil(limit * fraction - 1e-9)));
}

} // namespace

nlohmann::json derive_rate_limits(const facts::CtFacts& ct, const std::vector<std::string>& names,
                                  const std::string& now_rfc3339, const RateLimitPolicy& policy) {
  nlohmann::json out = {{"available", false},   {"domain_count", 0},     {"exact_count", 0},
                        {"is_renewal", false},  {"limited", false},      {"limit", ""},
                        {"retry_after", ""},    {"near", false},         {"near_limit", ""},
                        {"domain_limit", policy.per_domain},             {"exact_limit", policy.per_exact_set},
                        {"window_days", policy.window_days},             {"last_exact_issued", ""}};
  const auto now = facts::parse_utc_time(now_rfc3339);
  if (ct.fetch.outcome != "ok" || !now) return out;
  out["available"] = true;

  const std::int64_t window = static_cast<std::int64_t>(policy.window_days) * day;
  const std::int64_t renewal_window = static_cast<std::int64_t>(policy.renewal_window_days) * day;
  const auto want = name_set(names);

  // Let's Encrypt certificates up to now, oldest first.
  std::vector<Issued> issued;
  for (const auto& c : ct.certificates) {
    if (!c.lets_encrypt) continue;
    const auto at = issued_at(c);
    if (!at || *at > *now) continue;
    issued.push_back(Issued{*at, name_set(c.names)});
  }
  std::stable_sort(issued.begin(), issued.end(), [](const Issued& a, const Issued& b) { return a.at < b.at; });

  std::vector<std::int64_t> domain_times, exact_times;
  std::optional<std::int64_t> last_exact;
  std::map<std::vector<std::string>, std::int64_t> last_of_set; // each name set's latest issuance so far
  for (const Issued& c : issued) {
    const bool in_window = c.at > *now - window;
    const bool exact = !want.empty() && c.names == want;
    if (exact) last_exact = c.at;
    if (exact && in_window) exact_times.push_back(c.at);
    // A renewal (same names issued within the renewal window before it) was not a new
    // certificate for the per-domain count.
    const auto previous = last_of_set.find(c.names);
    const bool renewal = previous != last_of_set.end() && previous->second >= c.at - renewal_window;
    last_of_set[c.names] = c.at;
    if (in_window && !renewal) domain_times.push_back(c.at);
  }
  const bool is_renewal = last_exact && *last_exact > *now - renewal_window;
  out["domain_count"] = domain_times.size();
  out["exact_count"] = exact_times.size();
  out["is_renewal"] = is_renewal;
  if (last_exact) out["last_exact_issued"] = facts::format_utc_time(*last_exact);

  const bool exact_limited = policy.per_exact_set > 0 && !want.empty() &&
                             static_cast<int>(exact_times.size()) >= policy.per_exact_set;
  const bool domain_limited = policy.per_domain > 0 && !is_renewal &&
                              static_cast<int>(domain_times.size()) >= policy.per_domain;
  // Issuance needs both limits to pass, so the later of the two times is when it works again.
  std::optional<std::int64_t> retry;
  std::string limit;
  if (exact_limited) {
    retry = fits_again(exact_times, policy.per_exact_set, window);
    limit = "exact-set";
  }
  if (domain_limited) {
    const auto t = fits_again(domain_times, policy.per_domain, window);
    if (!retry || t > *retry) {
      retry = t;
      limit = "per-domain";
    }
  }
  if (retry) {
    out["limited"] = true;
    out["limit"] = limit;
    out["retry_after"] = facts::format_utc_time(*retry);
    return out;
  }
  if (!want.empty() && policy.per_exact_set > 0 &&
      static_cast<int>(exact_times.size()) >= near_threshold(policy.per_exact_set, policy.near_fraction)) {
    out["near"] = true;
    out["near_limit"] = "exact-set";
  } else if (!is_renewal && policy.per_domain > 0 &&
             static_cast<int>(domain_times.size()) >= near_threshold(policy.per_domain, policy.near_fraction)) {
    out["near"] = true;
    out["near_limit"] = "per-domain";
  }
  return out;
}

nlohmann::json derive_ca_status(const facts::StatusFacts& status) {
  nlohmann::json out = {{"available", false},       {"outage", false},        {"degraded", false},
                        {"maintenance", false},     {"incident_title", ""},   {"incident_started", ""},
                        {"overall_status", ""},     {"overall_code", 0},      {"upcoming_maintenance", nlohmann::json::array()}};
  if (status.fetch.outcome != "ok") return out;
  out["available"] = true;
  out["overall_status"] = status.overall_status;
  out["overall_code"] = status.overall_code;
  const facts::StatusIncident* incident = nullptr;
  const facts::StatusIncident* active = nullptr;
  for (const auto& i : status.incidents) {
    if (i.kind == "incident" && !incident) incident = &i;
    if (i.kind == "maintenance-active" && !active) active = &i;
    if (i.kind == "maintenance-upcoming")
      out["upcoming_maintenance"].push_back({{"title", i.name}, {"started", i.started}});
  }
  // status.io codes: 100 operational, 200 planned maintenance, 300 degraded performance,
  // 400 partial service disruption, 500 service disruption, 600 security event.
  out["outage"] = status.overall_code >= 400 || incident != nullptr;
  out["degraded"] = status.overall_code >= 300 && status.overall_code < 400;
  out["maintenance"] = active != nullptr || status.overall_code == 200;
  if (const auto* shown = incident ? incident : active) {
    out["incident_title"] = shown->name;
    out["incident_started"] = shown->started;
  }
  return out;
}

} // namespace certdoctor::view
