#pragma once
// The CA's redirect policy (the CA model's `http01.redirects`, with a provider profile's stricter
// keys laid over it) and the check of one redirect against it: which rule of the CA a redirect
// breaks, as a reason id with its detail. Pure: no I/O.
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "facts/web.hpp"
#include "view/data.hpp"

namespace certdoctor::view {

/// The redirect policy in force: the CA model's `http01.redirects`, with any key the provider
/// profile's `http01.redirects` sets replacing the CA's (a provider stricter than the CA).
struct RedirectPolicy {
  int max_hops = 10;
  std::vector<std::string> schemes{"http", "https"};
  std::vector<int> ports{80, 443};  // empty: any port
  std::vector<int> statuses{301, 302, 307, 308};
  bool to_ip_address = true;         // a redirect to a bare IP address is followed
  bool ipv4_fallback = true;
  std::string overridden_by;        // provider id when the provider changed anything
};

/// The policy of `ca` with `provider_profile`'s keys laid over it. Throws ConfigError naming the
/// file when a key has the wrong type.
RedirectPolicy redirect_policy(const CaModel& ca, const nlohmann::json& provider_profile);

/// The policy as the view shows it to the rules (`web.policy`).
nlohmann::json policy_view(const RedirectPolicy& policy);

/// A rule of the CA that a redirect breaks. `reason` is a stable id ("status", "scheme", "port",
/// "ip-address", "too-many", "loop", "no-location"); `detail` the value that breaks it (a
/// status, a port, a host, the limit); `url` the URL concerned.
struct Violation {
  std::string reason;
  std::string detail;
  std::string url;
};

/// The first rule of `policy` that following the redirect `hop` (the `index`-th hop of its chain,
/// from 0, a response with a 3xx status and a next URL) breaks; an empty reason when it may be
/// followed.
Violation check_redirect(const facts::HttpExchange& hop, std::size_t index, const RedirectPolicy& policy);

} // namespace certdoctor::view
