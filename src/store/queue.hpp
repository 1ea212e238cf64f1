#pragma once
// A queue of checks to run, in the history's PostgreSQL database: several `certdoctor worker`
// processes, on one machine or many, take items from it. Each item is a domain and its
// per-domain options; a worker leases items (FOR UPDATE SKIP LOCKED, so two workers never take
// the same row), renews the lease while it checks them, and completes each by recording the check
// and marking the item done in one transaction, only while it still holds the lease. An item
// whose lease ran out (its worker crashed or hung) goes back to the others; an item that fails
// too often ends `failed` with the reason.
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "store/store.hpp"

namespace certdoctor::store {

/// An item to enqueue: the domain and its per-domain options (a JSON object the worker lays over
/// its own options; see pipeline/worker.hpp).
struct NewItem {
  std::string domain;
  nlohmann::json options = nlohmann::json::object();
  std::string ticket{};     ///< the record's ticket, unique among items (serve: web:ID); "" for none
  std::string request_key{};  ///< the request it answers (serve: identical requests share an item); "" for none
};

/// An item as a worker leased it.
struct Leased {
  std::int64_t id = 0;
  std::string domain;
  nlohmann::json options = nlohmann::json::object();
  int attempts = 0;              ///< this lease included
  std::string token;             ///< the lease's own token: complete, renew and fail name it
  std::int64_t lease_until = 0;  ///< server time, Unix seconds
  std::string ticket;            ///< the item's ticket ("" for none): its record carries it
};

/// One item with its state, as `certdoctor queue --list` shows it.
struct QueueRow {
  std::int64_t id = 0;
  std::string domain;
  std::string state;  ///< queued | running | done | failed
  int attempts = 0;
  std::string leased_by;
  std::optional<std::int64_t> lease_until;
  std::optional<std::int64_t> check_id;
  std::string last_error;
  std::string ticket;
};

/// The states an item goes through, in order.
inline const std::vector<std::string>& queue_states() {
  static const std::vector<std::string> states = {"queued", "running", "done", "failed"};
  return states;
}

class Queue {
public:
  virtual ~Queue() = default;
  /// Adds the items in one transaction; returns their ids in order.
  virtual std::vector<std::int64_t> enqueue(const std::vector<NewItem>&) = 0;
  /// Leases up to `count` items for `lease_seconds` to `worker`: queued items, and running ones
  /// whose lease ran out, oldest first. Before that, a running item whose lease ran out after
  /// `max_attempts` leases ends failed (its checks never finished). Each leased item counts an
  /// attempt.
  virtual std::vector<Leased> lease(const std::string& worker, std::size_t count, std::int64_t lease_seconds,
                                    int max_attempts) = 0;
  /// Extends the leases still held (same token, still running) to now + `lease_seconds`; returns
  /// the ids whose lease was extended (an id missing from it was lost to another worker).
  virtual std::vector<std::int64_t> renew(const std::vector<Leased>&, std::int64_t lease_seconds) = 0;
  /// Records the check and marks the item done in one transaction, only if the lease is still
  /// this one; returns the check's id, or nullopt (nothing recorded) when the lease was lost.
  virtual std::optional<std::int64_t> complete(const Leased&, const Record&) = 0;
  /// A check that could not be made: the item goes back to the queue with the reason, or ends
  /// failed when `permanent` or after `max_attempts` attempts. False when the lease was lost.
  virtual bool fail(const Leased&, const std::string& reason, bool permanent, int max_attempts) = 0;
  /// How many items are in each state (every state present, 0 when none).
  virtual std::map<std::string, std::int64_t> counts() = 0;
  /// The items in `state` ("" for all), oldest first, at most `limit` (0: all).
  virtual std::vector<QueueRow> items(const std::string& state, std::size_t limit) = 0;
  /// The item with this ticket, or nullopt.
  virtual std::optional<QueueRow> item_by_ticket(const std::string& ticket) = 0;
  /// How many items wait to be leased (state queued).
  virtual std::int64_t pending() = 0;
  /// The ticket of the newest item for `request_key` enqueued within the last `within_seconds`
  /// (server time) that did not fail, or nullopt.
  virtual std::optional<std::string> recent(const std::string& request_key, std::int64_t within_seconds) = 0;
  /// Adds `item` unless recent(item.request_key, within_seconds) finds one, in one transaction
  /// that holds a lock on the key, so that identical requests at two front ends at once share one
  /// item; returns the ticket of the item added or found.
  virtual std::string enqueue_once(const NewItem& item, std::int64_t within_seconds) = 0;
  /// Deletes the items in `state` (done or failed); returns how many.
  virtual std::size_t clear(const std::string& state) = 0;
  /// The history in the same database (the records complete() made).
  virtual Store& history() = 0;
  virtual std::string where() const = 0;
};

/// Opens the queue in the PostgreSQL database `db` (migrating its schema as store::open does).
/// Throws StoreError for anything else (an SQLite file has no queue: workers on several machines
/// need one server), naming the input and the fix.
std::unique_ptr<Queue> open_queue(const std::string& db);

/// A new random lease token (128 bits, hex).
std::string new_token();

} // namespace certdoctor::store
