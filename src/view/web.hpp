#pragma once
// The web part of the view: the CA's redirect policy applied to each recorded challenge chain,
// which chains the CA would use (IPv6 first, IPv4 after a connection error), how the addresses
// of one name differ, block pages recognised, and the served certificates measured against the
// provider's renewal schedule and the list of revoked intermediates. Pure: no I/O.
#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "facts/facts.hpp"
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
RedirectPolicy redirect_policy(const CaModel& ca, const nlohmann::json& provider_profile);

/// Splits an http(s) URL into scheme, host (lower case, no brackets) and port (default by
/// scheme). False for anything else.
bool split_url(const std::string& url, std::string& scheme, std::string& host, int& port);

/// The view's "web" object; `names` is the view's names array (for display forms, roles, the
/// CA's first address), `collected_at` the facts' time (certificate ages count from it).
nlohmann::json derive_web(const facts::Facts& facts, const nlohmann::json& names, const nlohmann::json& provider,
                          const CaModel& ca, const DataSet& data);

} // namespace certdoctor::view
