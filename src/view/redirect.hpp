#pragma once
// The CA's redirect policy (the CA model's `http01.redirects`, with a provider profile's stricter
// keys laid over it) and the check of one redirect against it, in the order Boulder's
// processRedirect and extractRequestTarget run their checks (va/http.go): which rule a redirect
// breaks, as a reason id with the value that breaks it. Pure: no I/O.
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "facts/web.hpp"
#include "view/data.hpp"

namespace certdoctor::view {

/// The redirect policy in force: the CA model's `http01` and `http01.redirects`, with any key the
/// provider profile's `http01.redirects` sets replacing the CA's (a provider stricter than the CA).
struct RedirectPolicy {
  int max_followed = 11;                            // redirects followed; the next one fails
  std::vector<int> follows{301, 302, 303, 307, 308}; // statuses the HTTP client treats as a redirect
  std::vector<int> statuses{301, 302, 307, 308};     // of those, the ones the CA allows
  std::vector<std::string> schemes{"http", "https"};
  std::vector<int> ports{80, 443};                   // empty: any port
  std::string ip_literals = "unless-reserved";       // "never" | "unless-reserved" | "any"
  bool reject_empty_host = true;
  std::vector<std::string> reject_host_suffixes{".well-known"};
  bool require_icann_suffix = true;
  int max_path_bytes = 2000;                         // 0: no limit
  bool loop_detection = true;                        // a redirect to a URL already requested fails
  bool ipv4_fallback = true;
  std::string fallback_scope = "initial-replay";     // how the fallback to IPv4 runs (see the CA model)
  // What the CA accepts as the final answer (the CA model's http01.status_must_be and http01.body):
  int status_must_be = 200;                          // any other status fails, 2xx included
  std::size_t body_max_bytes = 127;                  // a longer body fails; 0: no limit
  std::string body_trim = "unicode-space";           // trailing characters trimmed before comparing:
                                                     // "unicode-space" or the characters themselves
  std::string overridden_by;                         // provider id when the provider changed anything
  // The CA's one deadline for the whole fetch of a chain, every hop and lookup together (the CA
  // model's http01.chain_budget_seconds); 0: none modelled. A chain that takes longer fails.
  double chain_budget_seconds = 0;
};

/// The CA model's http01.chain_budget_seconds (0 when absent). Throws ConfigError naming the file
/// when it is not a positive number.
double chain_budget_seconds(const CaModel& ca);

/// The policy of `ca` with `provider_profile`'s keys laid over it. Throws ConfigError naming the
/// file when a key has the wrong type or an unknown value.
RedirectPolicy redirect_policy(const CaModel& ca, const nlohmann::json& provider_profile);

/// The policy as the view shows it to the rules (`web.policy`).
nlohmann::json policy_view(const RedirectPolicy& policy);

/// A rule of the CA that a redirect breaks. `reason` is a stable id: "too-many", "status",
/// "scheme", "port", "empty-host", "well-known-host", "ip-address" (a provider that refuses IP
/// targets), "reserved-ip", "tld", "too-long", "loop", "no-location". `detail` is the value that
/// breaks it (the limit, a status, a scheme, a port, a host, an address, a path length; for
/// "loop" "fallback-replay" when the loop comes from the CA's IPv4 retry); `url` the URL concerned.
struct Violation {
  std::string reason;
  std::string detail;
  std::string url;
};

/// What a redirect check needs beyond the hop: the URLs already requested (as the CA writes
/// them), how many redirects were followed before this one, and whether an address is in a
/// reserved block (the block's name, "" when not reserved).
struct RedirectContext {
  const std::vector<std::string>* visited = nullptr;
  int followed = 0;
  std::function<std::string(const std::string& address)> reserved_block;
};

/// The first rule of `policy` that following the redirect `hop` (a response whose status is in
/// policy.follows and that has a next URL) breaks; an empty reason when it may be followed.
Violation check_redirect(const facts::HttpExchange& hop, const RedirectPolicy& policy, const RedirectContext& ctx);

/// The URL a redirect leads to written as the CA's client writes it for its loop check (Go's
/// URL.String() after Boulder lower-cases the host): an absolute Location as sent with its host
/// lower-cased, a relative one resolved against the hop's URL.
std::string ca_target_url(const facts::HttpExchange& hop);

/// `body` with the trailing characters `policy.body_trim` names removed, as the CA trims the
/// challenge file before comparing it (Boulder validateHTTP01: strings.TrimRightFunc with
/// unicode.IsSpace; Pebble: strings.TrimRight with "\n\r\t").
std::string trim_body(const std::string& body, const RedirectPolicy& policy);

/// True when `body` (already trimmed) has the form of a key authorization for `token`: the token,
/// a dot and 43 base64url characters (an account key's SHA-256 thumbprint, RFC 8555 section 8.1),
/// as a server that answers every token itself (a stateless responder) sends.
bool is_key_authorization(const std::string& body, const std::string& token);

} // namespace certdoctor::view
