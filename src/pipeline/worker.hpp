#pragma once
// Checks taken from a queue (store/queue.hpp) by a worker: what a queue item keeps of a check's
// options, enqueueing, and the worker's loop (lease, check as `check` does, record, renew the
// leases meanwhile). `certdoctor enqueue`, `worker` and `queue` only parse options and print.
#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "pipeline/check.hpp"
#include "pipeline/knowledge.hpp"
#include "pipeline/record.hpp"
#include "store/queue.hpp"

namespace certdoctor::pipeline {

/// The per-domain part of a check's options, as a queue item keeps it: domain, and provider,
/// server_ips, account, www / no_www where they differ from `check`'s defaults, and the probe
/// policy when it is not `open` ("internet" or "lab": the service's; a worker applies it over its
/// own, so that a check the service accepted never connects where the service would not).
nlohmann::json queued_options(const CheckOptions&);
/// `base` (the worker's own options: resolvers, timeout, CA ...) with an item's per-domain
/// options laid over it. Throws UsageError for an item whose options are not of that form.
CheckOptions options_of(const store::Leased&, const CheckOptions& base);

/// What a check from `item` is recorded with: `base`, and the item's own ticket, and "source" and
/// "user" of its options where it has them (an item `serve` queued is recorded as the service's).
RecordOptions record_options_of(const store::Leased& item, const RecordOptions& base);

/// Enqueues one item per check; returns their ids.
std::vector<std::int64_t> enqueue(store::Queue&, const std::vector<CheckOptions>&);

struct WorkerOptions {
  std::string id;                     ///< who leases (shown in the queue); "" for host:pid
  std::size_t concurrency = 4;        ///< checks at once
  std::int64_t lease_seconds = 120;   ///< renewed every third of it while a check runs
  int max_attempts = 3;               ///< leases of one item before it ends failed
  bool once = false;                  ///< return when nothing is queued or running any more
  double idle_seconds = 2;            ///< how long to wait when nothing can be leased
  CheckOptions base;                  ///< the options of every check, under each item's own
  RecordOptions record;               ///< user, ticket, source ("worker")
};

/// The default worker id: host name and process id.
std::string default_worker_id();

/// What happened to one item, for the front end to print.
struct WorkerEvent {
  enum Kind { started, done, failed, retry, lost } kind = started;
  std::int64_t item = 0;
  std::string domain;
  int attempts = 0;
  std::int64_t check_id = 0;  ///< done
  std::string verdict;        ///< done
  std::vector<std::string> finding_ids;  ///< done
  std::string reason;         ///< failed, retry
  bool permanent = false;     ///< failed: the item's input cannot be checked (no attempt would help)
};

struct WorkerStats {
  std::size_t done = 0, failed = 0, retried = 0, lost = 0;
};

/// Drains the queue: leases up to `concurrency` items, runs each check (its probes on one
/// probe::Engine for all of them, diagnosis on a small pool: CheckRunner), records it and marks the item done in one transaction (Queue::complete),
/// renewing the leases while the checks run. An item whose lease was lost to another worker is
/// not recorded (the other one records it). When `stop` becomes true no more items are leased
/// and the function returns once the checks it holds are recorded; with `once` it returns when
/// nothing is queued or running in the queue. Throws store::StoreError when the database fails
/// (after the checks running have ended; their leases then run out and go back to the queue).
WorkerStats run_worker(store::Queue&, const Knowledge&, const WorkerOptions&, const std::atomic<bool>& stop,
                       const std::function<void(const WorkerEvent&)>& on_event);

} // namespace certdoctor::pipeline
