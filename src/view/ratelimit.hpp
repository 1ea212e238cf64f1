#pragma once
// Let's Encrypt's certificate-count limits, computed from the Certificate Transparency facts,
// and the CA's status page reduced to what the rules ask. Pure: the time is the facts' own
// collection time, so a replay of saved facts gives the same answer.
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "facts/outside.hpp"

namespace certdoctor::view {

/// The CA's limits (from rules/ca/*.yaml). Let's Encrypt: 50 new certificates per registered
/// domain and 5 per exact set of names, each per 7 days; a certificate for a set of names issued
/// within the last 120 days makes the next one a renewal, exempt from the per-domain limit.
struct RateLimitPolicy {
  int per_domain = 50;
  int per_exact_set = 5;
  int window_days = 7;
  int renewal_window_days = 120;
  double near_fraction = 0.8; // "near" from this share of a limit on
};

/// The rate-limit view for issuing a certificate for `names` at `now_rfc3339`. Always has every
/// key: available (the CT answer was read and `now_rfc3339` is a time), domain_count (new
/// Let's Encrypt certificates of the registered domain in the window; renewals do not count),
/// exact_count (Let's Encrypt certificates for exactly `names` in the window), is_renewal,
/// limited, limit ("per-domain" | "exact-set" | ""), retry_after (RFC 3339 or ""), near,
/// near_limit ("per-domain" | "exact-set" | ""), domain_limit, exact_limit, window_days,
/// last_exact_issued (RFC 3339 or ""). A certificate counts from its not_before (its log time
/// when that is missing), inside (now - window, now]. Never throws.
nlohmann::json derive_rate_limits(const facts::CtFacts& ct, const std::vector<std::string>& names,
                                  const std::string& now_rfc3339, const RateLimitPolicy& policy);

/// The CA status view: available, outage (status code 400 or more, or an open incident),
/// degraded (code 300-399), maintenance (active maintenance or code 200), incident_title and
/// incident_started (the first open incident, else the first active maintenance), overall_status,
/// overall_code, upcoming_maintenance ([{title, started}]). Never throws.
nlohmann::json derive_ca_status(const facts::StatusFacts& status);

} // namespace certdoctor::view
