#pragma once
// HTTP(S) GETs of several URLs at once on one libcurl multi handle, each with its own time limit
// inside one overall deadline, and a cap on the body size. Failures are returned as data.
#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "probe/curl_owner.hpp"

namespace certdoctor::probe {

/// One URL to fetch. Only http and https are followed (redirects included, at most 3).
struct FetchRequest {
  std::string url;
  std::chrono::milliseconds timeout{10000}; // for this transfer, cut further by the overall deadline
  std::size_t max_bytes = 8 * 1024 * 1024;   // a larger (decoded) body ends as "too-large"
};

/// What came back. `outcome`: "ok" (2xx), "http-error" (any other final status; body kept),
/// "timeout", "unreachable" (name resolution or connection failed), "too-large", or "error"
/// (anything else, including a refused scheme); `error` then says what happened.
struct FetchResult {
  std::string url;
  std::string outcome = "not-fetched";
  int http_status = 0;
  std::string content_type;
  std::string body;
  std::string error;
  double elapsed_ms = 0;
};

/// One GET on a libcurl multi handle someone else drives (probe::Engine, or fetch_all): the
/// transfer carries this object as its CurlOwner in CURLOPT_PRIVATE. Started at construction.
class Fetch : public CurlOwner {
 public:
  /// `multi`: a CURLM that outlives this object.
  Fetch(FetchRequest request, std::chrono::steady_clock::time_point deadline, void* multi);
  /// Removes the transfer from the multi handle.
  ~Fetch() override;
  Fetch(const Fetch&) = delete;
  Fetch& operator=(const Fetch&) = delete;
  bool done() const;
  /// Ends it if still open: "timeout" (`why` empty: the deadline) or "error" with `why`.
  void end(const std::string& why = "");
  const FetchResult& result() const { return result_; }
  void on_done(CURL* easy, CURLcode code) override;

  struct Transfer;

 private:
  void release();
  FetchRequest request_;
  FetchResult result_;
  void* multi_;
  std::unique_ptr<Transfer> t_;
};

/// libcurl's global initialisation, once per process; call before starting threads that use it.
void curl_global();

/// Fetches every request concurrently and returns one result per request, in order. Returns by
/// `deadline` (plus the time to tear the transfers down); transfers still open then end as
/// "timeout". Never throws for network conditions; throws std::bad_alloc only.
std::vector<FetchResult> fetch_all(const std::vector<FetchRequest>& requests,
                                   std::chrono::steady_clock::time_point deadline);

} // namespace certdoctor::probe
