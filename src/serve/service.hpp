#pragma once
// `certdoctor serve`: the checks of the web page and the JSON API, without the HTTP server. A
// request (method, path, arguments, headers, body, client address) goes in, a response comes
// out; the checks run on a bounded pool of workers behind a bounded queue, each under its own
// deadline and the service's probe policy (no connection to an address the CA could not reach),
// and each result is kept in the history store, so that its link /r/ID stays valid. The HTTP
// server (daemon.hpp) only carries bytes.
//
// With a PostgreSQL history (--db postgresql://...) the queue is the database's (store/queue.hpp)
// instead of the process's: a check is an item with the ticket web:ID, its status is the item's
// state, its result the check the item's worker recorded, so that every front end on the database
// answers for every check, and `certdoctor worker` processes (and the service's own --workers, run
// as one pipeline::run_worker) drain it.
#include <atomic>
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
#include "serve/progress.hpp"
#include "store/queue.hpp"
#include "store/store.hpp"
#include "triage/triage.hpp"

namespace certdoctor::serve {

struct Config {
  std::string listen = "127.0.0.1:8080";
  std::string db;                 // history: a file or a postgresql:// URL; "" the default file
  bool lab = false;               // admit the documentation blocks (the lab's addresses)
  bool trust_proxy = false;       // the client is the last address of X-Forwarded-For
  std::size_t workers = 4;        // checks running at once (with a PostgreSQL queue, 0: only other workers)
  std::size_t queue = 32;         // checks waiting (with a PostgreSQL queue, its queued items); beyond: 429
  double poll_seconds = 0.25;     // with a PostgreSQL queue: the own workers' look at an empty queue
  std::size_t db_connections = 4; // with a PostgreSQL queue: requests reading or writing it at once
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
  bool script = false;  // an HTML page that loads /static/app.js (its policy admits the script)
};

/// The security headers of every response: a Content-Security-Policy admitting nothing but the
/// page's own style (by hash) and forms posted to the service itself, no referrer, no framing;
/// with `script`, also the service's own script (/static/app.js) and its requests to the service.
std::vector<std::pair<std::string, std::string>> security_headers(bool script = false);

/// A page the report renderers made (render_html, render_triage_html), as the service serves it:
/// their own policy (a <meta> that allows no form and no script, for a page saved to a file) gives
/// way to the service's, sent as a header; with `script`, the service's script is added.
std::string served(std::string html, bool script);

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
    std::string verdict;            // done: ok | warning | fail | incomplete
    std::shared_ptr<ProgressLog> progress = std::make_shared<ProgressLog>();  // the steps so far
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
  Response result_page(const std::string& id, const std::string& lang, const Request& request);
  Response api_get(const std::string& id);
  Response api_post(const Request& request);
  Response api_history(const std::string& name, const Request& request);
  Response api_triage(const Request& request, const std::string& lang);
  Response form_post(const Request& request, const std::string& lang);
  Response health();
  Response openapi();
  Response problem_json(const Problem& p);
  Response problem_html(const Problem& p, const std::string& lang);

  // pages.cpp: the pages beyond the form.
  Response script();
  Response api_progress(const std::string& id, const Request& request, const std::string& lang);
  std::string progress_section(const std::string& id, const Job& job, const std::string& lang, bool live);
  std::string status_text(const Job& job, const std::string& lang);
  Response running_page(const std::string& id, const std::shared_ptr<Job>& job, const std::string& lang, const std::string& nav);
  // After a finished report's header: "check again" and, with ?since=ID, what changed since then.
  std::string finished_extras(const std::string& id, const Request& request, const facts::Facts& now, const std::string& lang);
  Response again_post(const std::string& id, const Request& request, const std::string& lang);
  Response triage_form(const std::string& lang, const std::string& text, const std::optional<Problem>& problem, int status);
  Response triage_post(const Request& request, const std::string& lang);
  // Validates the input and queues a check; the job's id, or the problem.
  // `fresh`: a new check even when the same one was asked within the minute ("check again").
  std::variant<std::string, Problem> submit(const Input& input, const std::string& client, bool fresh = false);
  std::optional<Problem> validate(const Input& input, pipeline::CheckOptions& options);

  // With the PostgreSQL queue: the same, against the queue table; the id of the item added or of
  // an identical request's within the window.
  std::variant<std::string, Problem> submit_shared(const pipeline::CheckOptions& options, const std::string& ascii,
                                                   const std::string& key, bool fresh);

  // A job by id: in memory, else from the queue (with PostgreSQL) or the history (done); nullptr
  // when unknown.
  std::shared_ptr<Job> find(const std::string& id);
  std::shared_ptr<Job> find_shared(const std::string& id);
  std::string status_of(const std::string& id);
  // Calls f(queue) on a free connection of the PostgreSQL queue (waiting for one). When f throws
  // StoreError the connection is opened again (the server may have restarted) before the error
  // goes on, so that the next request finds a working one.
  template <class F>
  auto with_shared(F&& f) const {
    store::Queue* q = nullptr;
    {
      std::unique_lock lock(shared_mutex_);
      shared_cv_.wait(lock, [&] { return !shared_free_.empty(); });
      q = shared_free_.back();
      shared_free_.pop_back();
    }
    struct Back {
      const Service* s;
      store::Queue* q;
      ~Back() {
        {
          std::lock_guard lock(s->shared_mutex_);
          s->shared_free_.push_back(q);
        }
        s->shared_cv_.notify_one();
      }
    } back{this, q};
    try {
      return f(*q);
    } catch (const store::StoreError&) {
      back.q = reconnect(q);
      throw;
    }
  }
  // A new connection in place of `q` (the same one when the server cannot be reached).
  store::Queue* reconnect(store::Queue* q) const;
  // Keeps a job in memory, dropping the oldest finished ones beyond max_jobs (under mutex_).
  void remember(const std::shared_ptr<Job>& job);

  void work();
  void run_job(const std::shared_ptr<Job>& job);
  void drain_shared();  // the own workers on the PostgreSQL queue

  std::string message(const std::string& lang, const Problem& p) const;

  Config config_;
  const pipeline::Knowledge& k_;
  triage::AcmeCatalogue acme_;
  std::unique_ptr<store::Store> store_;
  // With PostgreSQL: connections to the queue, one request at a time on each (with_shared).
  mutable std::vector<std::unique_ptr<store::Queue>> shared_;
  mutable std::vector<store::Queue*> shared_free_;
  mutable std::mutex shared_mutex_;
  mutable std::condition_variable shared_cv_;
  std::unique_ptr<store::Queue> shared_worker_;  // the own workers' connection
  std::atomic<bool> stop_workers_{false};
  mutable std::mutex store_mutex_;
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
