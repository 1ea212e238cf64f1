#pragma once
// Asynchronous DNS queries to chosen servers over UDP, with TCP when a response is truncated,
// built on c-ares. Failures to get an answer are results, never exceptions.
#include "dns/message.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

struct pollfd;

namespace certdoctor::probe {

class SharedProbes;

/// A DNS server address: an IPv4 or IPv6 literal and a port.
struct DnsServer {
  std::string address;
  std::uint16_t port = 53;
  /// Returns "192.0.2.1", "192.0.2.1:5353", "2001:db8::1" or "[2001:db8::1]:5353".
  std::string to_string() const;
  bool operator==(const DnsServer&) const = default;
};

/// Parses "IP", "IP:PORT", "[IPv6]", "[IPv6]:PORT" or a plain IPv6 address; the address is
/// stored in canonical form. Throws UsageError naming the input if it is anything else.
DnsServer parse_server(std::string_view text);

/// The outcome of one query.
struct DnsResult {
  DnsServer server;
  std::string qname;
  std::uint16_t qtype = 0;
  dns::QueryFlags flags;
  enum class Status { response, timeout, connection_refused, malformed, error, not_sent, not_allowed };
  // not_sent: the deadline passed before the query was handed to the network.
  // not_allowed: the server's address is one the client's policy refuses (never sent).
  Status status = Status::error;
  /// What went wrong, for every status but `response`.
  std::string error;
  /// The parsed response whenever status is `response`, whatever its RCODE.
  std::optional<dns::Message> response;
  /// Time from sending the query to the outcome; 0 if it was never sent.
  double elapsed_ms = 0;
};

/// Returns "response", "timeout", "connection_refused", "malformed", "error", "not_sent" or
/// "not_allowed".
std::string to_string(DnsResult::Status status);

class DnsClient;

/// The sockets and queues of DNS queries: c-ares channels (one per server and attempt time),
/// the queries waiting to be sent, in flight and answered. Single-threaded. A DnsClient made
/// alone has a loop of its own; the clients of many checks share one (probe::Engine), each query
/// with its client's deadline, so that one check's deadline ends only its own queries.
class DnsLoop {
 public:
  DnsLoop();
  /// Cancels whatever is still pending; no callback is called.
  ~DnsLoop();
  DnsLoop(const DnsLoop&) = delete;
  DnsLoop& operator=(const DnsLoop&) = delete;

  /// Sends what may be sent, ends the queries whose deadline has passed (not sent, or timed
  /// out) and runs the callbacks of every completed query (which may queue more). Returns the
  /// latest time to call it again (a deadline, a batch limit's wait); c-ares' own timers are
  /// in prepare()'s timeout.
  std::chrono::steady_clock::time_point step();

  /// The sockets c-ares waits on, appended to `fds` (events POLLIN/POLLOUT), and `timeout_ms`
  /// lowered to c-ares' next timer. process() takes the same entries back with their revents.
  void prepare(std::vector<struct pollfd>& fds, int& timeout_ms);
  /// Lets c-ares read and write the ready sockets among `fds` (the entries prepare() added,
  /// from `first` on) and expire its timers.
  void process(const std::vector<struct pollfd>& fds, std::size_t first);

  /// No query waits to be sent, is in flight or awaits its callback.
  bool idle() const;

  struct Impl;

 private:
  friend class DnsClient;
  std::unique_ptr<Impl> impl_;
};

/// Sends queries to chosen servers and collects their results; single-threaded. A client made
/// alone is driven by run(); one made on a shared DnsLoop is driven by the loop's owner and ends
/// its queries by its own deadline (set_deadline).
class DnsClient {
public:
  struct Options {
    /// How long to wait for each attempt.
    std::chrono::milliseconds attempt_timeout{2000};
    /// Attempts per query before it completes with Status::timeout.
    int tries = 2;
    /// Shared with the other checks of a batch (shared.hpp): queries wait for the per-server
    /// rate, and an answer another check already has (or is asking for) is taken from it.
    /// nullptr for a lone check: every query is sent at once.
    std::shared_ptr<SharedProbes> shared;
    /// Which servers may be asked: "" for one that may, else why not (AddressPolicy::refusal).
    /// A query to a refused server completes with Status::not_allowed and no packet is sent.
    /// Unset: every server.
    std::function<std::string(const DnsServer& server)> refuse;
  };

  /// A client with a loop of its own, driven by run().
  explicit DnsClient(Options options);
  /// A client on `loop`, which must outlive it; its queries end by set_deadline's time.
  DnsClient(Options options, DnsLoop& loop);
  /// Cancels whatever is still pending; the callbacks of those queries are not called.
  ~DnsClient();
  DnsClient(const DnsClient&) = delete;
  DnsClient& operator=(const DnsClient&) = delete;

  /// Queues one query for `qname` (presentation format) to exactly this server, with these
  /// header bits and EDNS0 parameters. `cb` is called once, later, from inside run() (or the
  /// shared loop's step()); it may call query() again. A name that cannot be encoded completes
  /// with Status::error.
  /// `server_zone`, for a delegation walk's question without recursion: the zone the server
  /// serves ("" the root), so that its referral for a zone cut can answer the walks of other
  /// names below that cut in a batch.
  /// `deadline`: this query's own, earlier than the client's.
  void query(const DnsServer& server, std::string qname, std::uint16_t qtype, dns::QueryFlags flags,
             std::function<void(DnsResult)> cb, std::optional<std::string> server_zone = std::nullopt,
             std::optional<std::chrono::steady_clock::time_point> deadline = std::nullopt);

  /// Queries still open then complete with Status::timeout (in flight) or not_sent.
  void set_deadline(std::chrono::steady_clock::time_point deadline);

  /// For a client with a loop of its own: sends queued queries and processes I/O until nothing
  /// is pending or `deadline` passes; queries still pending then complete with Status::timeout.
  /// Exceptions thrown by callbacks propagate; calling run() again resumes.
  void run(std::chrono::steady_clock::time_point deadline);

  /// Queries whose callback has not run yet.
  std::size_t pending() const;
  /// Number of query packets handed to the network so far, retries included.
  std::size_t queries_sent() const;
  /// Number of queries answered by another check's answer (a batch's shared answers).
  std::size_t answers_shared() const;

  struct State;

private:
  std::unique_ptr<DnsLoop> own_;
  DnsLoop* loop_;
  std::shared_ptr<State> state_;
};

} // namespace certdoctor::probe
