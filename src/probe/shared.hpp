#pragma once
// What many checks running at once in one process share: politeness towards the servers they
// ask (a query rate per DNS server, connections at a time and a connection rate per web
// address), the DNS answers every check would get alike (the delegation walk's referrals, the
// answers of shared parents and of the providers' nameservers), and the outside sources (CT
// once per registered domain, the CA's status page once). One object per process or batch,
// thread-safe, handed to every check through pipeline::CheckOptions; a lone check has none and
// runs exactly as before.
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "facts/outside.hpp"
#include "probe/dns_client.hpp"

namespace certdoctor::probe {

using SteadyClock = std::chrono::steady_clock;

/// The limits every check of a batch keeps together; 0 means no limit.
struct PolitenessLimits {
  /// Queries per second to one authoritative server address (queries without RD): the
  /// registries' and the providers' nameservers.
  double dns_qps = 50;
  /// Queries per second to one recursive resolver (queries with RD). The resolver is the
  /// operator's own and answers most questions from its cache: no limit by default.
  double resolver_qps = 0;
  /// Connections open at a time to one web address (ports 80 and 443 together).
  std::size_t web_connections = 8;
  /// New connections per second to one web address.
  double web_connects_per_s = 20;
};

/// A token bucket: `rate` tokens a second, at most `burst` saved up (at least one). Pure: the
/// caller passes the time, so that tests drive it with a clock of their own.
class TokenBucket {
 public:
  TokenBucket(double rate, double burst, SteadyClock::time_point now);
  /// Takes a token when there is one at `now` and returns zero; otherwise takes nothing and
  /// returns how long until the next token (always more than zero).
  SteadyClock::duration take(SteadyClock::time_point now);

 private:
  double rate_, burst_, tokens_;
  SteadyClock::time_point last_;
};

/// Per-destination limits, shared by every check of a batch; thread-safe.
class Politeness {
 public:
  explicit Politeness(PolitenessLimits limits);
  const PolitenessLimits& limits() const { return limits_; }

  /// May a query go to `server` now? Zero when it may (a token is taken), else how long to wait.
  SteadyClock::duration dns_send(const std::string& server, bool recursive, SteadyClock::time_point now);

  /// May a connection to `address` open now? Zero when it may: the slot is then held until
  /// web_close(address). Otherwise how long to wait before asking again.
  SteadyClock::duration web_open(const std::string& address, SteadyClock::time_point now);
  void web_close(const std::string& address);

  /// What was sent: queries per server, and the most connections ever open at once per address.
  std::map<std::string, std::size_t> dns_sent() const;
  std::map<std::string, std::size_t> web_peak() const;

 private:
  struct Web {
    std::optional<TokenBucket> rate;
    std::size_t open = 0, peak = 0;
  };
  PolitenessLimits limits_;
  mutable std::mutex mutex_;
  std::map<std::string, TokenBucket> dns_;
  std::map<std::string, std::size_t> dns_sent_;
  std::map<std::string, Web> web_;
};

/// How long a DNS response may be reused: the smallest TTL of its records, for a negative
/// answer the smaller of its SOA's TTL and MINIMUM (RFC 2308); nullopt when it is not to be
/// reused (no records, an RCODE other than NOERROR or NXDOMAIN, truncated).
std::optional<std::chrono::seconds> reuse_lifetime(const dns::Message& m);

/// `m` as a cache holding it for `age` would give it: every TTL lowered by the age, at least 0.
void age_ttls(dns::Message& m, std::chrono::seconds age);

/// DNS answers shared between checks; thread-safe. Two kinds of entries:
/// - the same question (server, name, type, flags): the same fact for every check that asks it;
/// - a referral from a server for a zone cut: the server gives it for every name under the cut
///   (RFC 1034 4.3.2), so it answers the walk of every domain below that cut, with the question's
///   name that of the asking check.
/// Only responses (NOERROR or NXDOMAIN) are shared, for their TTL; a timeout, a SERVFAIL or a
/// failure of another check's deadline is never handed to another check. At most `max_entries`
/// answers are kept (expired ones make room; when all are fresh, a new answer is not kept), so
/// that a long batch's memory stays bounded. 8,192 by default: the checks in flight ask a few
/// thousand questions of their own, the shared parents (TLDs, the DNS operators' zones and their
/// servers' addresses) a few hundred; 20,000 held 10 MiB more at 10,000 full checks and saved
/// under 1 % of the questions.
class AnswerCache {
 public:
  explicit AnswerCache(std::size_t max_entries = 8192);

  enum class Claim { hit, ask, wait };
  struct Outcome {
    Claim claim = Claim::ask;
    std::optional<DnsResult> result;  // with `hit`: the shared answer, the question as asked
    /// With `wait`: the entry another check is asking; with `ask`: the entries this claim holds
    /// until complete(). A loop wakes the waiters of an entry when its asker completes.
    std::vector<std::string> keys;
  };
  /// Looks `question` up (its server, qname, qtype and flags). `server_zone`: the zone the
  /// server serves, for a delegation walk's NS question without recursion ("" the root; nullopt
  /// for any other question). hit: use the result. ask: send it, then call complete() once.
  /// wait: another check is asking the same; ask again when it completes (Outcome::keys).
  Outcome claim(const DnsResult& question, const std::optional<std::string>& server_zone, SteadyClock::time_point now);
  /// Ends an `ask`: the result when it came back (shared if it can be), nullptr otherwise.
  void complete(const DnsResult& question, const std::optional<std::string>& server_zone, const DnsResult* result,
                SteadyClock::time_point now);

  /// Answers handed out from the cache, and questions asked for the cache.
  std::size_t hits() const;
  std::size_t asked() const;

 private:
  using ByExpiry = std::multimap<SteadyClock::time_point, std::string>;
  struct Entry {
    bool pending = true;
    DnsResult result;
    SteadyClock::time_point stored, expires;
    std::optional<ByExpiry::iterator> expiry;  // a stored answer's place in by_expiry_
  };
  std::optional<DnsResult> fresh(const std::string& key, const std::string& qname, SteadyClock::time_point now);
  void store(const std::string& key, const DnsResult& r, SteadyClock::time_point now);
  void set_pending(const std::string& key);

  std::size_t max_entries_;
  mutable std::mutex mutex_;
  std::map<std::string, Entry> entries_;
  ByExpiry by_expiry_;  // stored answers by expiry: a full cache makes room from the front
  std::size_t hits_ = 0, asked_ = 0;
};

/// Results asked once per key (CT per registered domain, the status page per URL); thread-safe.
/// The first asker fetches; others wait for it until their own deadline.
template <class T>
class OnceTable {
 public:
  /// The shared value, or nullopt with `mine` true: fetch it and call put() (or drop()).
  /// nullopt with `mine` false: the deadline came while another check was fetching it.
  std::optional<T> get(const std::string& key, SteadyClock::time_point deadline, bool& mine) {
    std::unique_lock lock(mutex_);
    for (;;) {
      auto it = entries_.find(key);
      if (it == entries_.end() || (!it->second.pending && SteadyClock::now() >= it->second.expires)) {
        entries_[key] = Entry{};
        mine = true;
        return std::nullopt;
      }
      if (!it->second.pending) {
        mine = false;
        return it->second.value;
      }
      if (cv_.wait_until(lock, deadline) == std::cv_status::timeout) {
        mine = false;
        return std::nullopt;
      }
    }
  }
  /// The same without waiting: the value, `mine` (fetch it and put() or drop() it), or neither
  /// (another check is fetching it: ask again later).
  std::optional<T> take(const std::string& key, bool& mine) {
    std::lock_guard lock(mutex_);
    auto it = entries_.find(key);
    if (it == entries_.end() || (!it->second.pending && SteadyClock::now() >= it->second.expires)) {
      entries_[key] = Entry{};
      mine = true;
      return std::nullopt;
    }
    mine = false;
    if (!it->second.pending) return it->second.value;
    return std::nullopt;
  }
  void put(const std::string& key, T value, SteadyClock::duration lifetime) {
    std::lock_guard lock(mutex_);
    entries_[key] = Entry{false, std::move(value), SteadyClock::now() + lifetime};
    cv_.notify_all();
  }
  /// The fetch failed: the next asker fetches again.
  void drop(const std::string& key) {
    std::lock_guard lock(mutex_);
    entries_.erase(key);
    cv_.notify_all();
  }

 private:
  struct Entry {
    bool pending = true;
    T value{};
    SteadyClock::time_point expires{};
  };
  std::mutex mutex_;
  std::condition_variable cv_;
  std::map<std::string, Entry> entries_;
};

/// Everything the checks of one batch share.
class SharedProbes {
 public:
  explicit SharedProbes(PolitenessLimits limits = {}) : politeness(limits) {}
  Politeness politeness;
  AnswerCache answers;
  OnceTable<facts::CtFacts> ct;
  OnceTable<facts::StatusFacts> status;
};

} // namespace certdoctor::probe
