#pragma once
// The outside sources of a diagnosis: Certificate Transparency (a crt.sh-compatible JSON search)
// for the registered domain's issuance history, and the CA's status page (status.io's public
// status JSON). Answers come from the disk cache while fresh, else from the network; whatever
// goes wrong is recorded in the facts' FetchFact, never thrown.
#include <chrono>
#include <cstddef>
#include <memory>
#include <string>

#include "facts/outside.hpp"
#include "probe/shared.hpp"

namespace certdoctor::probe {

/// Default source URLs and cache lifetimes.
inline constexpr const char* default_ct_url = "https://crt.sh";
inline constexpr const char* default_status_url = "https://api.status.io/1.0/status/55957a99e800baa4470002da";
inline constexpr std::chrono::seconds ct_cache_lifetime{3600};
inline constexpr std::chrono::seconds status_cache_lifetime{300};
/// At most this many certificates (the most recently issued) are kept from one CT answer.
inline constexpr std::size_t max_ct_certificates = 10000;

/// What to fetch. A `ct_url` or `status_url` that is "" or "none" disables that source
/// (its FetchFact says "disabled").
struct OutsideRequest {
  std::string registered_domain; // ASCII, lower case
  std::string ct_url = default_ct_url;
  std::string status_url = default_status_url;
  std::string cache_dir;         // "" = default_cache_dir("")
  bool use_cache = true;
  std::chrono::steady_clock::time_point deadline;
  /// Shared with the other checks of a batch: CT is asked once per registered domain and the
  /// status page once, for as long as the disk cache would keep them. nullptr for a lone check.
  std::shared_ptr<SharedProbes> shared;
};

/// The CT search URL for every certificate of `domain` and its subdomains:
/// BASE/?q=DOMAIN&output=json&deduplicate=Y (a trailing "/" of BASE is dropped).
std::string ct_query_url(const std::string& base, const std::string& domain);

/// Parses a crt.sh JSON answer into `out.certificates`, keeping only certificates naming
/// `domain` or a name below it, one per serial number. On any surprise in the JSON (not an
/// array, an entry not an object, a field of the wrong type) sets `out.fetch.outcome` to
/// "malformed" with the reason in `out.fetch.error`, and leaves no certificates. Never throws.
void parse_ct_json(const std::string& body, const std::string& domain, facts::CtFacts& out);

/// Parses a status.io public status answer ({"result": {"status_overall", "incidents",
/// "maintenance": {"active", "upcoming"}}}) into `out`. On any surprise sets
/// `out.fetch.outcome` to "malformed" with the reason in `out.fetch.error`. Never throws.
void parse_status_json(const std::string& body, facts::StatusFacts& out);

/// Both outside sources of one check as a state machine on the engine's libcurl multi handle
/// (probe::Engine; every call on the engine's thread): the disk cache, then what another check of
/// the batch has or is fetching, then the network, each fetch with its own limit inside the
/// check's deadline.
class OutsideCheck {
public:
  /// `multi`: the engine's CURLM, which must outlive this object.
  OutsideCheck(OutsideRequest request, void* multi);
  ~OutsideCheck();
  OutsideCheck(const OutsideCheck&) = delete;
  OutsideCheck& operator=(const OutsideCheck&) = delete;

  void start();
  /// Takes what another check fetched meanwhile; at the deadline ends what is still open.
  /// Returns the latest time to call it again.
  std::chrono::steady_clock::time_point step(std::chrono::steady_clock::time_point now);
  bool done() const;
  /// Ends what is still open ("timeout") and moves the results out.
  void finish(facts::CtFacts& ct, facts::StatusFacts& status);

  class Impl;

private:
  std::unique_ptr<Impl> impl_;
};

} // namespace certdoctor::probe
