#pragma once
// The outside sources of a diagnosis: Certificate Transparency (a crt.sh-compatible JSON search)
// for the registered domain's issuance history, and the CA's status page (status.io's public
// status JSON). Answers come from the disk cache while fresh, else from the network; whatever
// goes wrong is recorded in the facts' FetchFact, never thrown.
#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <thread>

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

/// Both outside sources, fetched concurrently on a worker thread so that the caller can run
/// the DNS probe meanwhile.
class OutsideProbe {
public:
  explicit OutsideProbe(OutsideRequest request);
  /// Lets a worker that is still busy (finish() not called, or gave up on it) end on its own.
  ~OutsideProbe();
  OutsideProbe(const OutsideProbe&) = delete;
  OutsideProbe& operator=(const OutsideProbe&) = delete;

  /// Starts the worker thread; later calls do nothing. Throws std::system_error when no
  /// thread can be started.
  void start();
  /// Waits for the worker (starting it when start() was not called) and stores the results;
  /// a second call stores the same results again.
  /// Returns by the request's deadline plus a quarter of a second even when the worker is stuck
  /// (a name lookup libcurl cannot abandon): the sources still open are then "timeout".
  void finish(facts::CtFacts& ct, facts::StatusFacts& status);

  struct State; // shared with the worker, which may outlive this object

private:
  OutsideRequest request_;
  std::shared_ptr<State> state_;
  std::thread worker_;
  bool started_ = false;
};

} // namespace certdoctor::probe
