#pragma once
// Certificates served on port 443, measured: which probe stands for a name, whether its leaf
// covers the name, its age against the expiry threshold and the provider's renewal schedule, a
// newer certificate in Certificate Transparency that was never installed, and intermediates on
// the revoked list (rules/data/web.yaml). Pure: no I/O.
#include <vector>

#include <nlohmann/json.hpp>

#include "facts/facts.hpp"

namespace certdoctor::view {

/// When the provider renews: `point` days before expiry (-1: unknown), `kind` "attempts" (the
/// provider retries on each day of `attempts`, latest first) or "notice" (it mails at `point`).
struct RenewalSchedule {
  int point = -1;
  std::string kind;
  std::vector<int> attempts;
};

/// The schedule of a provider profile's `renewal` object; an empty schedule without one.
RenewalSchedule renewal_schedule(const nlohmann::json& provider_profile);

/// The view's `web.certs`: per certified name, the served certificate measured. `names` is the
/// view's names array (display forms), `web_data` rules/data/web.yaml; `v6_first` orders the
/// probes as the CA dials addresses.
nlohmann::json derive_certs(const facts::Facts& facts, const nlohmann::json& names, const RenewalSchedule& schedule,
                            bool v6_first, const nlohmann::json& web_data);

} // namespace certdoctor::view
