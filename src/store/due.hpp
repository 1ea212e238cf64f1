#pragma once
// Which recorded domains to check before their provider's next renewal: the served certificate's
// notAfter against the provider's renewal schedule (rules/providers/*.yaml renewal:). Pure.
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "store/store.hpp"

namespace certdoctor::store {

/// How many days before expiry a provider's renewal window opens (its first automatic attempt,
/// or its notice), and what that point is: "attempts", "notice", or "none" when the profile has
/// no schedule (then `days` is the common ACME client default, 30).
struct Window {
  int days = 30;
  std::string kind = "none";
};

struct Due {
  Record last;                             ///< the domain's newest record
  std::optional<std::int64_t> opens;       ///< when the window opens (Unix seconds); none without a certificate
  Window window;
  std::string state;  ///< "soon" (opens within the horizon), "open" (opened already), "expired", "unknown" (no certificate recorded)
};

/// From the newest record of every domain: those whose last check is older than `min_age`
/// seconds and whose window opens before `now + within` seconds (or has opened, or whose
/// certificate is unknown: an unknown date is listed, never taken as far away). Soonest first,
/// the unknown ones last.
std::vector<Due> due(const std::vector<Record>& latest, std::int64_t now, std::int64_t within,
                     const std::function<Window(const std::string& provider)>& window_of, std::int64_t min_age = 86400);

} // namespace certdoctor::store
