#include "probe/fetch.hpp"

#include <algorithm>
#include <memory>
#include <mutex>

#include <curl/curl.h>

#include "probe/curl_owner.hpp"

namespace certdoctor::probe {

using Clock = std::chrono::steady_clock;

struct Fetch::Transfer {
  const FetchRequest* request = nullptr;
  FetchResult* result = nullptr;
  CURL* easy = nullptr;
  bool too_large = false;
  bool done = false;
  Clock::time_point started;
  char error_buffer[CURL_ERROR_SIZE] = {};
};

namespace {

using Transfer = Fetch::Transfer;

std::size_t on_body(char* data, std::size_t size, std::size_t count, void* user) {
  auto* t = static_cast<Transfer*>(user);
  const std::size_t n = size * count;
  if (t->result->body.size() + n > t->request->max_bytes) {
    t->too_large = true;
    return 0; // a short write makes libcurl abort the transfer with CURLE_WRITE_ERROR
  }
  t->result->body.append(data, n);
  return n;
}

double ms_since(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

void classify(Transfer& t, CURLcode code) {
  FetchResult& r = *t.result;
  long status = 0;
  curl_easy_getinfo(t.easy, CURLINFO_RESPONSE_CODE, &status);
  r.http_status = static_cast<int>(status);
  char* type = nullptr;
  if (curl_easy_getinfo(t.easy, CURLINFO_CONTENT_TYPE, &type) == CURLE_OK && type) r.content_type = type;
  const std::string detail = t.error_buffer[0] ? t.error_buffer : curl_easy_strerror(code);
  switch (code) {
  case CURLE_OK:
    if (status >= 200 && status < 300) {
      r.outcome = "ok";
    } else {
      r.outcome = "http-error";
      r.error = "HTTP status " + std::to_string(status);
    }
    return;
  case CURLE_OPERATION_TIMEDOUT:
    r.outcome = "timeout";
    break;
  case CURLE_COULDNT_RESOLVE_HOST:
  case CURLE_COULDNT_RESOLVE_PROXY:
  case CURLE_COULDNT_CONNECT:
    r.outcome = "unreachable";
    break;
  case CURLE_FILESIZE_EXCEEDED:
    r.outcome = "too-large";
    break;
  case CURLE_WRITE_ERROR:
    r.outcome = t.too_large ? "too-large" : "error";
    break;
  default:
    r.outcome = "error";
    break;
  }
  // A partial body is never mistaken for an answer.
  r.body.clear();
  if (r.outcome == "too-large") r.error = "response larger than " + std::to_string(t.request->max_bytes) + " bytes";
  else r.error = detail;
}

struct MultiDeleter {
  void operator()(CURLM* m) const { curl_multi_cleanup(m); }
};

} // namespace

void curl_global() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

Fetch::Fetch(FetchRequest request, Clock::time_point deadline, void* multi)
    : request_(std::move(request)), multi_(multi), t_(std::make_unique<Transfer>()) {
  curl_global();
  result_.url = request_.url;
  Transfer& t = *t_;
  t.request = &request_;
  t.result = &result_;
  t.started = Clock::now();
  const auto remaining = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - t.started);
  const auto limit = std::min(request_.timeout, remaining);
  if (limit.count() <= 0) {
    result_.outcome = "timeout";
    result_.error = "no time left before the deadline";
    t.done = true;
    return;
  }
  t.easy = curl_easy_init();
  if (!t.easy) {
    result_.outcome = "error";
    result_.error = "cannot initialise libcurl";
    t.done = true;
    return;
  }
  CURL* e = t.easy;
  curl_easy_setopt(e, CURLOPT_URL, request_.url.c_str());
  // Only web URLs: a --ct-url of file:// or a redirect to gopher:// must not be followed.
  curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 1L);
  curl_easy_setopt(e, CURLOPT_MAXREDIRS, 3L);
  // Signals are not thread-safe; the probe runs on its own thread.
  curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, static_cast<long>(limit.count()));
  curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(limit.count()));
  curl_easy_setopt(e, CURLOPT_MAXFILESIZE_LARGE, static_cast<curl_off_t>(request_.max_bytes));
  curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "");
  curl_easy_setopt(e, CURLOPT_USERAGENT, "certdoctor/" CERTDOCTOR_VERSION);
  curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(e, CURLOPT_WRITEDATA, &t);
  curl_easy_setopt(e, CURLOPT_ERRORBUFFER, t.error_buffer);
  curl_easy_setopt(e, CURLOPT_PRIVATE, static_cast<CurlOwner*>(this));
  if (curl_multi_add_handle(static_cast<CURLM*>(multi_), e) != CURLM_OK) {
    result_.outcome = "error";
    result_.error = "cannot start the transfer";
    t.done = true;
    curl_easy_cleanup(e);
    t.easy = nullptr;
  }
}

Fetch::~Fetch() { release(); }

void Fetch::release() {
  if (!t_->easy) return;
  curl_multi_remove_handle(static_cast<CURLM*>(multi_), t_->easy);
  curl_easy_cleanup(t_->easy);
  t_->easy = nullptr;
}

bool Fetch::done() const { return t_->done; }

void Fetch::on_done(CURL* easy, CURLcode code) {
  if (easy != t_->easy || t_->done) return;
  classify(*t_, code);
  result_.elapsed_ms = ms_since(t_->started);
  t_->done = true;
  release();
}

void Fetch::end(const std::string& why) {
  if (t_->done) return;
  t_->done = true;
  result_.outcome = why.empty() ? "timeout" : "error";
  result_.error = why.empty() ? "no complete answer before the deadline" : why;
  result_.body.clear();
  result_.elapsed_ms = ms_since(t_->started);
  release();
}

std::vector<FetchResult> fetch_all(const std::vector<FetchRequest>& requests, Clock::time_point deadline) {
  curl_global();
  std::vector<FetchResult> results(requests.size());
  std::unique_ptr<CURLM, MultiDeleter> multi(curl_multi_init());
  if (!multi) {
    for (std::size_t i = 0; i < requests.size(); ++i) {
      results[i].url = requests[i].url;
      results[i].outcome = "error";
      results[i].error = "cannot initialise libcurl";
    }
    return results;
  }
  std::vector<std::unique_ptr<Fetch>> fetches;
  for (const auto& r : requests) fetches.push_back(std::make_unique<Fetch>(r, deadline, multi.get()));
  bool multi_failed = false;
  for (;;) {
    int running = 0;
    if (curl_multi_perform(multi.get(), &running) != CURLM_OK) {
      multi_failed = true;
      break;
    }
    hand_back_done(multi.get());
    if (std::all_of(fetches.begin(), fetches.end(), [](const auto& f) { return f->done(); })) break;
    const auto now = Clock::now();
    if (now >= deadline) break;
    // curl_multi_poll also wakes for libcurl's own timers, so each transfer's limit is kept.
    const auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now).count();
    curl_multi_poll(multi.get(), nullptr, 0, static_cast<int>(std::clamp<long long>(wait, 1, 1000)), nullptr);
  }
  for (std::size_t i = 0; i < fetches.size(); ++i) {
    fetches[i]->end(multi_failed ? "libcurl failed" : "");
    results[i] = fetches[i]->result();
  }
  return results;
}

} // namespace certdoctor::probe
