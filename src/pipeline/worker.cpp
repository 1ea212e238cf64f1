#include "pipeline/worker.hpp"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <list>
#include <memory>
#include <mutex>
#include <thread>

#include "pipeline/runner.hpp"
#include "util/error.hpp"

namespace certdoctor::pipeline {

using nlohmann::json;

json queued_options(const CheckOptions& c) {
  const CheckOptions defaults;
  json o = {{"domain", c.domain}};
  if (c.provider != defaults.provider) o["provider"] = c.provider;
  if (!c.server_ips.empty()) o["server_ips"] = c.server_ips;
  if (!c.account.empty()) o["account"] = c.account;
  if (c.www) o["www"] = true;
  if (c.no_www) o["no_www"] = true;
  if (c.policy != probe::AddressPolicy::Mode::open) o["policy"] = c.policy == probe::AddressPolicy::Mode::lab ? "lab" : "internet";
  return o;
}

CheckOptions options_of(const store::Leased& item, const CheckOptions& base) {
  CheckOptions c = base;
  c.domain = item.domain;
  const json& o = item.options;
  const auto bad = [&](const char* key) {
    return UsageError(Message{"queue-item-invalid", {{"item", std::to_string(item.id)}, {"key", key}}});
  };
  const auto text = [&](const char* key, std::string& into) {
    if (!o.contains(key)) return;
    if (!o[key].is_string()) throw bad(key);
    into = o[key].get<std::string>();
  };
  const auto flag = [&](const char* key, bool& into) {
    if (!o.contains(key)) return;
    if (!o[key].is_boolean()) throw bad(key);
    into = o[key].get<bool>();
  };
  text("provider", c.provider);
  text("account", c.account);
  flag("www", c.www);
  flag("no_www", c.no_www);
  if (o.contains("server_ips")) {
    if (!o["server_ips"].is_array()) throw bad("server_ips");
    c.server_ips.clear();
    for (const auto& ip : o["server_ips"]) {
      if (!ip.is_string()) throw bad("server_ips");
      c.server_ips.push_back(ip.get<std::string>());
    }
  }
  if (o.contains("policy")) {
    // The service's policy: the stricter of it and the worker's own; reserved addresses count as
    // the service counts them (admitted in the lab only).
    if (!o["policy"].is_string()) throw bad("policy");
    const std::string p = o["policy"].get<std::string>();
    if (p != "internet" && p != "lab") throw bad("policy");
    using Mode = probe::AddressPolicy::Mode;
    const Mode want = p == "lab" ? Mode::lab : Mode::internet;
    if (c.policy != Mode::internet) c.policy = want;
    c.allow_reserved = c.policy == Mode::lab;
  }
  // An item's www choice replaces the worker's.
  if (o.contains("www") || o.contains("no_www")) {
    c.www = o.value("www", false);
    c.no_www = o.value("no_www", false);
  }
  return c;
}

RecordOptions record_options_of(const store::Leased& item, const RecordOptions& base) {
  RecordOptions r = base;
  if (!item.ticket.empty()) r.ticket = item.ticket;
  for (auto [key, into] : {std::pair{"source", &r.source}, std::pair{"user", &r.user}})
    if (item.options.contains(key) && item.options[key].is_string()) *into = item.options[key].get<std::string>();
  return r;
}

std::vector<std::int64_t> enqueue(store::Queue& q, const std::vector<CheckOptions>& checks) {
  std::vector<store::NewItem> items;
  items.reserve(checks.size());
  for (const auto& c : checks) {
    store::NewItem item;
    item.domain = c.domain;
    item.options = queued_options(c);
    items.push_back(std::move(item));
  }
  return q.enqueue(items);
}

std::string default_worker_id() {
  char host[256] = {};
  if (gethostname(host, sizeof host - 1) != 0 || !*host) std::snprintf(host, sizeof host, "worker");
  return std::string(host) + ":" + std::to_string(getpid());
}

namespace {

using Clock = std::chrono::steady_clock;

// One check on the engine; the loop's thread does every database call.
struct Job {
  store::Leased item;
  bool finished = false;  // under the mutex
  bool lost = false;
  std::optional<store::Record> record;
  std::string error;
  bool permanent = false;
};

} // namespace

WorkerStats run_worker(store::Queue& q, const Knowledge& k, const WorkerOptions& o, const std::atomic<bool>& stop,
                       const std::function<void(const WorkerEvent&)>& on_event) {
  const std::string id = o.id.empty() ? default_worker_id() : o.id;
  const std::size_t concurrency = std::max<std::size_t>(1, o.concurrency);
  const auto renew_every = std::chrono::milliseconds(std::max<std::int64_t>(1000, o.lease_seconds * 1000 / 3));
  const auto idle = std::chrono::milliseconds(static_cast<std::int64_t>(std::max(0.05, o.idle_seconds) * 1000));
  WorkerStats stats;
  std::mutex m;
  std::condition_variable cv;
  std::list<std::unique_ptr<Job>> jobs;
  auto next_renew = Clock::now() + renew_every;
  // Every leased check's probes on one engine, its diagnosis and record on the runner's pool.
  CheckRunner runner(k, o.base.engine);

  const auto event = [&](WorkerEvent::Kind kind, const Job& j) {
    WorkerEvent e;
    e.kind = kind;
    e.item = j.item.id;
    e.domain = j.item.domain;
    e.attempts = j.item.attempts;
    return e;
  };

  const auto start = [&](store::Leased item) {
    auto job = std::make_unique<Job>();
    job->item = std::move(item);
    Job* j = job.get();
    on_event(event(WorkerEvent::started, *j));
    jobs.push_back(std::move(job));
    // The job's end, on the runner's pool: diagnosis and the record, then the loop's thread is told.
    const auto settle_job = [&, j](std::optional<store::Record> record, std::string error, bool permanent) {
      std::lock_guard lock(m);
      j->record = std::move(record);
      j->error = std::move(error);
      j->permanent = permanent;
      j->finished = true;
      cv.notify_all();
    };
    CheckOptions c;
    try {
      c = options_of(j->item, o.base);
      validate(c, k);
    } catch (const UsageError& e) {  // the item's own input: it will not get better
      settle_job(std::nullopt, e.what(), true);
      return;
    } catch (const std::exception& e) {
      settle_job(std::nullopt, e.what(), false);
      return;
    }
    runner.submit(c, [&, j, settle_job](facts::Facts* f, std::exception_ptr failure) {
      std::optional<store::Record> record;
      std::string error;
      bool permanent = false;
      try {
        if (!f) std::rethrow_exception(failure);
        const Diagnosis d = diagnose(*f, k, "en", DiagnoseOptions{.picture = false});  // recorded, not rendered
        record = record_of(*f, d.view, d.findings, d.report.verdict, k, record_options_of(j->item, o.record));
      } catch (const UsageError& e) {  // the item's own input: it will not get better
        error = e.what();
        permanent = true;
      } catch (const std::exception& e) {
        error = e.what();
      }
      settle_job(std::move(record), std::move(error), permanent);
    });
  };

  // Records (or returns) a finished check's item. Database calls only here, on this thread.
  const auto settle = [&](Job& j) {
    if (j.record) {
      if (auto check_id = q.complete(j.item, *j.record)) {
        auto e = event(WorkerEvent::done, j);
        e.check_id = *check_id;
        e.verdict = j.record->verdict;
        e.finding_ids = j.record->finding_ids;
        ++stats.done;
        on_event(e);
        return;
      }
    } else if (q.fail(j.item, j.error, j.permanent, o.max_attempts)) {
      const bool final = j.permanent || j.item.attempts >= o.max_attempts;
      auto e = event(final ? WorkerEvent::failed : WorkerEvent::retry, j);
      e.reason = j.error;
      e.permanent = j.permanent;
      ++(final ? stats.failed : stats.retried);
      on_event(e);
      return;
    }
    ++stats.lost;  // another worker took the item when this one's lease ran out: it records it
    on_event(event(WorkerEvent::lost, j));
  };


  try {
    for (;;) {
      // The checks that ended.
      std::vector<std::unique_ptr<Job>> ended;
      {
        std::lock_guard lock(m);
        for (auto it = jobs.begin(); it != jobs.end();)
          if ((*it)->finished) {
            ended.push_back(std::move(*it));
            it = jobs.erase(it);
          } else {
            ++it;
          }
      }
      for (auto& j : ended) settle(*j);
      bool nothing_to_lease = false;
      if (!stop && jobs.size() < concurrency) {
        auto got = q.lease(id, concurrency - jobs.size(), o.lease_seconds, o.max_attempts);
        nothing_to_lease = got.empty();
        for (auto& item : got) start(std::move(item));
      }
      if (jobs.empty()) {
        if (stop) break;
        if (nothing_to_lease && o.once) {
          // Done when nothing is left that could come back: no item queued, none running
          // elsewhere (a running item whose worker died returns when its lease runs out).
          const auto n = q.counts();
          if (n.at("queued") == 0 && n.at("running") == 0) break;
        }
      }
      if (Clock::now() >= next_renew) {
        std::vector<store::Leased> held;
        {
          std::lock_guard lock(m);
          for (const auto& j : jobs)
            if (!j->lost) held.push_back(j->item);
        }
        const auto kept = q.renew(held, o.lease_seconds);
        std::lock_guard lock(m);
        for (auto& j : jobs)
          if (std::find(kept.begin(), kept.end(), j->item.id) == kept.end()) j->lost = true;
        next_renew = Clock::now() + renew_every;
      }
      // Wait for a check to end, the next renewal, or (with room for more) the next look at the queue.
      std::unique_lock lock(m);
      auto until = next_renew;
      if (jobs.size() < concurrency && !stop) until = std::min(until, Clock::now() + (nothing_to_lease ? idle : std::chrono::milliseconds(0)));
      cv.wait_until(lock, until, [&] {
        return std::any_of(jobs.begin(), jobs.end(), [](const auto& j) { return j->finished; });
      });
    }
  } catch (...) {
    runner.drain();
    throw;
  }
  runner.drain();
  return stats;
}

} // namespace certdoctor::pipeline
