#pragma once
// `certdoctor serve`: the checks of the web page and the JSON API, without the HTTP server. A
// request (method, path, arguments, headers, body, client address) goes in, a response comes
// out; the checks run on a bounded pool of workers behind a bounded queue, each under its own
// deadline and the service's probe policy (no connection to an address the CA could not reach),
// and each result is kept in the history store, so that its link /r/ID stays valid. The HTTP
// server (daemon.hpp) only carries bytes.
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include "facts/facts.hpp"
#include "pipeline/check.hpp"
#include "pipeline/knowledge.hpp"
#include "serve/limits.hpp"
#include "store/store.hpp"
#include "triage/triage.hpp"

namespace certdoctor::serve {

struct Config {
  std::string listen = "127.0.0.1:8080";
  std::string db;                 // history: a file or a postgresql:// URL; "" the default file
  bool lab = false;               // admit the documentation blocks (the lab's addresses)
  bool trust_proxy = false;       // the client is the last address of X-Forwarded-For
  std::size_t workers = 4;        // checks running at once
  std::size_t queue = 32;         // checks waiting; beyond: 429
  double client_per_minute = 6;   // checks one client address may start
  double client_burst = 6;
  double domain_per_minute = 2;   // checks of one domain
  double domain_burst = 4;
  std::size_t max_body = 8 * 1024;
  std::size_t max_triage_body = 64 * 1024;  // POST /api/v1/triage: a pasted mail or ACME error
  std::size_t triage_domains = 5;  // checks a triage queues at most
  std::size_t max_jobs = 2000;    // checks kept in memory (the store keeps them all)
  pipeline::CheckOptions defaults;  // resolvers, root hints, outside sources, --timeout, --ca
};

struct Request {
  std::string method;
  std::string path;
  std::map<std::string, std::string> args;     // the query string, decoded
  std::map<std::string, std::string> headers;  // names in lower case
  std::string body;
  bool body_too_large = false;
  std::string peer;                            // the connection's address
};

struct Response {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
};

/// The security headers of every response: a Content-Security-Policy admitting nothing but the
/// page's own style (by hash) and forms posted to the service itself, no referrer, no framing.
std::vector<std::pair<std::string, std::string>> security_headers();

class Service {
 public:
  /// Opens the history (throws store::StoreError) and starts the workers.
  Service(Config config, const pipeline::Knowledge& knowledge);
  /// Stops taking checks, lets the running ones end (each by its deadline) and joins the workers.
  ~Service();
  Service(const Service&) = delete;
  Service& operator=(const Service&) = delete;

  /// One request; never throws (an internal failure is a 500 with a JSON or HTML error).
  Response handle(const Request& request);

  struct Counts {
    std::size_t queued = 0, running = 0, done = 0;
  };
  Counts counts() const;
  const Config& config() const { return config_; }

  /// The language of an error message: a thread-local choice read by the message renderer that
  /// `install_messages` puts in place.
  static void install_messages(const pipeline::Knowledge& knowledge);

 private:
  struct Job {
    std::string id;
    std::string status = "queued";  // queued | running | done | failed
    pipeline::CheckOptions options;
    std::int64_t record_id = 0;
    std::optional<facts::Facts> facts;
    std::string error;              // failed: why (store or internal)
    std::chrono::steady_clock::time_point created;
    std::string key;                // identical requests share a job for a short while
  };
  struct Input {
    std::string domain;
    std::string www;                // "" (as usual), "yes", "no"
    std::string provider = "auto";
    std::string server_ip;
  };
  struct Problem {
    int status = 400;
    std::string code;               // the message key
    std::vector<std::pair<std::string, std::string>> args;
    int retry_after = 0;
  };

  Response route(const Request& request);
  Response form_page(const std::string& lang, const Input& input, const std::optional<Problem>& problem, int status);
  Response result_page(const std::string& id, const std::string& lang);
  Response api_get(const std::string& id);
  Response api_post(const Request& request);
  Response api_history(const std::string& name, const Request& request);
  Response api_triage(const Request& request, const std::string& lang);
  Response form_post(const Request& request, const std::string& lang);
  Response health();
  Response openapi();
  Response problem_json(const Problem& p);
  Response problem_html(const Problem& p, const std::string& lang);

  // Validates the input and queues a check; the job's id, or the problem.
  std::variant<std::string, Problem> submit(const Input& input, const std::string& client);
  std::optional<Problem> validate(const Input& input, pipeline::CheckOptions& options);

  // A job by id: in memory, else from the history (done); nullptr when unknown.
  std::shared_ptr<Job> find(const std::string& id);

  void work();
  void run_job(const std::shared_ptr<Job>& job);

  std::string message(const std::string& lang, const Problem& p) const;

  Config config_;
  const pipeline::Knowledge& k_;
  triage::AcmeCatalogue acme_;
  std::unique_ptr<store::Store> store_;
  std::mutex store_mutex_;
  TokenBuckets clients_;
  TokenBuckets domains_;

  mutable std::mutex mutex_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::deque<std::shared_ptr<Job>> queue_;
  std::map<std::string, std::shared_ptr<Job>> jobs_;
  std::deque<std::string> job_order_;
  std::map<std::string, std::string> recent_;  // request key -> job id
  std::size_t running_ = 0, done_ = 0;
  std::shared_ptr<probe::Engine> engine_;  // the probes of every worker's check
  std::vector<std::thread> workers_;
};

}  // namespace certdoctor::serve
