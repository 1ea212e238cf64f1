#include "probe/dns_client.hpp"

#include "probe/shared.hpp"
#include "probe/address_policy.hpp"
#include "util/error.hpp"

#include <ares.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <deque>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

namespace certdoctor::probe {

namespace {

using Clock = std::chrono::steady_clock;

[[noreturn]] void bad_server(std::string_view text, const std::string& why) {
  std::string shown;
  for (unsigned char c : text)
    shown += (c < 0x20 || c > 0x7e) ? '?' : static_cast<char>(c);
  throw UsageError("invalid DNS server \"" + shown + "\": " + why);
}

// Returns the canonical text of an IP literal and its family, or family 0 if it is none.
std::pair<std::string, int> canonical_ip(const std::string& text) {
  unsigned char buf[sizeof(in6_addr)];
  char out[INET6_ADDRSTRLEN];
  if (inet_pton(AF_INET, text.c_str(), buf) == 1 && inet_ntop(AF_INET, buf, out, sizeof out))
    return {out, AF_INET};
  if (inet_pton(AF_INET6, text.c_str(), buf) == 1 && inet_ntop(AF_INET6, buf, out, sizeof out))
    return {out, AF_INET6};
  return {"", 0};
}

void init_library() {
  // ares_library_init is not thread-safe and reference-counted; one process-wide call suffices.
  static std::once_flag once;
  std::call_once(once, [] { ares_library_init(ARES_LIB_INIT_ALL); });
}

} // namespace

std::string DnsServer::to_string() const {
  bool v6 = address.find(':') != std::string::npos;
  if (port == 53)
    return address;
  return (v6 ? "[" + address + "]" : address) + ":" + std::to_string(port);
}

DnsServer parse_server(std::string_view text) {
  const std::string usage =
      "expected an IPv4 or IPv6 address with an optional port, such as 192.0.2.1, "
      "192.0.2.1:5353, 2001:db8::1 or [2001:db8::1]:5353";
  std::string host;
  std::string port_text;
  bool has_port = false;
  if (!text.empty() && text.front() == '[') {
    std::size_t close = text.find(']');
    if (close == std::string_view::npos)
      bad_server(text, "missing ']'; " + usage);
    host = std::string(text.substr(1, close - 1));
    std::string_view rest = text.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':')
        bad_server(text, usage);
      port_text = std::string(rest.substr(1));
      has_port = true;
    }
    if (host.find(':') == std::string::npos)
      bad_server(text, "brackets are only for IPv6 addresses; " + usage);
  } else if (std::count(text.begin(), text.end(), ':') == 1) {
    std::size_t colon = text.find(':');
    host = std::string(text.substr(0, colon));
    port_text = std::string(text.substr(colon + 1));
    has_port = true;
  } else {
    host = std::string(text);
  }

  auto [canonical, family] = canonical_ip(host);
  if (family == 0)
    bad_server(text, usage);

  DnsServer s;
  s.address = canonical;
  if (has_port) {
    unsigned long port = 0;
    bool ok = !port_text.empty() && port_text.size() <= 5;
    for (char c : port_text) {
      if (c < '0' || c > '9')
        ok = false;
      else
        port = port * 10 + static_cast<unsigned long>(c - '0');
    }
    if (!ok || port == 0 || port > 65535)
      bad_server(text, "port \"" + port_text + "\" is not a number from 1 to 65535");
    s.port = static_cast<std::uint16_t>(port);
  }
  return s;
}

std::string to_string(DnsResult::Status status) {
  switch (status) {
  case DnsResult::Status::response: return "response";
  case DnsResult::Status::timeout: return "timeout";
  case DnsResult::Status::connection_refused: return "connection_refused";
  case DnsResult::Status::malformed: return "malformed";
  case DnsResult::Status::error: return "error";
  case DnsResult::Status::not_sent: return "not_sent";
  case DnsResult::Status::not_allowed: return "not_allowed";
  }
  return "error";
}

// What the loop keeps of each client: its options, its deadline, its counters. Queries hold
// it, so a query of a client that is gone is dropped without its callback.
struct DnsClient::State {
  DnsClient::Options options;
  Clock::time_point deadline = Clock::time_point::max();
  std::size_t sent = 0;
  std::size_t shared_answers = 0;
  std::size_t pending = 0;  // queries whose callback has not run
  bool alive = true;
};

struct DnsLoop::Impl {
  struct Pending {
    std::shared_ptr<DnsClient::State> owner;
    DnsResult result;
    std::function<void(DnsResult)> cb;
    std::vector<std::uint8_t> packet;
    int attempts = 0;
    Clock::time_point first_sent{};
    std::optional<Clock::time_point> until;  // the query's own deadline, before the client's
    std::optional<std::string> server_zone;  // see DnsClient::query
    bool claimed = false;                    // asked on behalf of the shared answers
    std::vector<std::string> claim_keys;     // the shared entries that claim holds
    std::string wait_key;                    // the shared entry it waits for (in `later`)
    std::string waiting;                     // why it is not sent yet (batch limits)

    Clock::time_point deadline() const { return until ? std::min(*until, owner->deadline) : owner->deadline; }
  };

  struct Channel {
    ares_channel ch = nullptr;
    int active = 0;  // ares_send calls whose callback has not come yet
    // The IDs of those queries. c-ares matches an answer to the first query of its ID and drops it
    // when the question differs, so two queries in flight on one channel never share an ID.
    std::unordered_set<std::uint16_t> ids;
  };

  // The `arg` of one ares_send call. c-ares calls the callback exactly once per ares_send
  // (with ARES_ECANCELLED or ARES_EDESTRUCTION if need be), and the ticket is freed there.
  struct Ticket {
    Impl* impl;
    std::uint64_t id;
    Channel* channel;
    std::uint16_t qid;
  };

  Impl() { init_library(); }

  ~Impl() {
    destroying = true;
    // Questions asked for the shared answers are released, so that other checks ask them.
    for (auto* list : {&to_send, &done})
      for (auto& p : *list) release(p, nullptr);
    for (auto& [id, p] : in_flight) release(p, nullptr);
    for (auto& [t, p] : later) release(p, nullptr);
    for (auto& [key, q] : rate)
      for (auto& p : q.queue) release(p, nullptr);
    for (auto& [key, c] : channels)
      ares_destroy(c.ch);
  }

  static constexpr std::size_t max_idle_channels = 256;
  // One channel per server and attempt time, keyed by DnsServer::to_string() and the time.
  std::map<std::string, Channel> channels;
  std::set<Channel*> busy;                       // channels with queries in flight
  std::deque<Pending> to_send;                   // new queries and retries, not yet with c-ares
  std::unordered_map<std::uint64_t, Pending> in_flight; // keyed by Ticket::id
  Clock::time_point next_expiry = Clock::time_point::max();  // earliest deadline in flight
  std::deque<Pending> done;                      // results waiting for their callback
  // Waiting for another check's answer: woken when that check's query completes on this loop
  // (`waiters`, by the shared entry), else looked at again at the time of its key (an asker on
  // another loop).
  using Later = std::multimap<Clock::time_point, Pending>;
  Later later;
  std::unordered_multimap<std::string, Later::iterator> waiters;
  static constexpr std::chrono::milliseconds wait_recheck{100};
  struct RateQueue {
    std::deque<Pending> queue;
    Clock::time_point next{};  // when the server's rate gives the next token
  };
  std::map<std::string, RateQueue> rate;         // waiting for a server's query rate, by server
  Clock::time_point next_rate = Clock::time_point::max();
  std::uint64_t next_ticket = 1;
  std::random_device random;
  bool destroying = false;
  struct Watch {
    Channel* channel;
    ares_socket_t fd;
    short events;
  };
  std::vector<Watch> watches;                    // of the last prepare()

  void release(Pending& p, const DnsResult* result) {
    if (!p.claimed) return;
    p.claimed = false;
    p.owner->options.shared->answers.complete(p.result, p.server_zone, result, Clock::now());
    if (destroying) return;
    // The queries waiting for these entries ask again: the shared answer, or one of them asks.
    for (const auto& key : p.claim_keys) {
      auto [from, to] = waiters.equal_range(key);
      for (auto w = from; w != to; ++w) {
        to_send.push_back(std::move(w->second->second));
        later.erase(w->second);
      }
      waiters.erase(from, to);
    }
    p.claim_keys.clear();
  }

  // Takes a waiting query out of `later` and of the index of waiters.
  Pending take_later(Later::iterator it) {
    auto [from, to] = waiters.equal_range(it->second.wait_key);
    for (auto w = from; w != to; ++w)
      if (w->second == it) {
        waiters.erase(w);
        break;
      }
    Pending p = std::move(it->second);
    later.erase(it);
    p.wait_key.clear();
    return p;
  }

  void finish(Pending p, DnsResult::Status status, std::string error) {
    p.result.status = status;
    p.result.error = std::move(error);
    if (p.attempts > 0)
      p.result.elapsed_ms =
          std::chrono::duration<double, std::milli>(Clock::now() - p.first_sent).count();
    release(p, status == DnsResult::Status::response ? &p.result : nullptr);
    done.push_back(std::move(p));
  }

  // Returns the channel for `server` with this attempt time, creating it on first use; nullptr
  // with `error` set if c-ares refuses.
  Channel* channel_for(const DnsServer& server, std::chrono::milliseconds attempt_timeout, std::string& error) {
    std::string key = server.to_string() + "/" + std::to_string(attempt_timeout.count());
    auto it = channels.find(key);
    if (it != channels.end())
      return &it->second;
    // A long run meets many servers: channels with nothing in flight are closed before their
    // sockets add up.
    if (channels.size() >= max_idle_channels) {
      for (auto c = channels.begin(); c != channels.end();) {
        if (c->second.active == 0) {
          ares_destroy(c->second.ch);
          c = channels.erase(c);
        } else {
          ++c;
        }
      }
    }

    ares_options o{};
    // NOCHECKRESP hands SERVFAIL/REFUSED/NOTIMP responses to us instead of retrying them.
    // EDNS makes c-ares accept UDP responses up to ednspsz octets (not just 512) and retry a
    // FORMERR without OPT once without EDNS (RFC 6891 section 7). No IGNTC: truncated UDP
    // responses are retried over TCP (RFC 7766). STAYOPEN keeps the UDP socket between our
    // attempts, so that a late answer to an earlier attempt still arrives.
    o.flags = ARES_FLAG_NOCHECKRESP | ARES_FLAG_NOSEARCH | ARES_FLAG_EDNS | ARES_FLAG_STAYOPEN;
    o.timeout = static_cast<int>(std::min<long long>(attempt_timeout.count(), 3'600'000));
    o.tries = 1; // retries are ours, so that each attempt gets exactly attempt_timeout
    o.ednspsz = 4096;
    o.domains = nullptr;
    o.ndomains = 0;
    int mask = ARES_OPT_FLAGS | ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES | ARES_OPT_EDNSPSZ |
               ARES_OPT_NOROTATE | ARES_OPT_DOMAINS;
    ares_channel ch = nullptr;
    int rc = ares_init_options(&ch, &o, mask);
    if (rc != ARES_SUCCESS) {
      error = std::string("cannot set up c-ares: ") + ares_strerror(rc);
      return nullptr;
    }
    ares_addr_port_node node{};
    node.next = nullptr;
    node.udp_port = server.port;
    node.tcp_port = server.port;
    if (inet_pton(AF_INET, server.address.c_str(), &node.addr.addr4) == 1) {
      node.family = AF_INET;
    } else if (inet_pton(AF_INET6, server.address.c_str(), &node.addr.addr6) == 1) {
      node.family = AF_INET6;
    } else {
      ares_destroy(ch);
      error = "\"" + server.address + "\" is not an IP address";
      return nullptr;
    }
    rc = ares_set_servers_ports(ch, &node);
    if (rc != ARES_SUCCESS) {
      ares_destroy(ch);
      error = std::string("cannot set the DNS server: ") + ares_strerror(rc);
      return nullptr;
    }
    return &channels.emplace(key, Channel{ch, 0, {}}).first->second;
  }

  static void on_answer(void* arg, int status, int /*timeouts*/, unsigned char* abuf, int alen) {
    auto* ticket = static_cast<Ticket*>(arg);
    Impl* impl = ticket->impl;
    std::uint64_t id = ticket->id;
    Channel* channel = ticket->channel;
    const std::uint16_t qid = ticket->qid;
    delete ticket;
    if (impl->destroying)
      return;
    channel->ids.erase(qid);
    if (--channel->active == 0)
      impl->busy.erase(channel);
    // Exceptions must not unwind through c-ares; the only ones possible here are bad_alloc.
    try {
      impl->answered(id, status, abuf, alen);
    } catch (...) {
    }
  }

  void answered(std::uint64_t id, int status, const unsigned char* abuf, int alen) {
    auto it = in_flight.find(id);
    if (it == in_flight.end())
      return; // already completed (the deadline passed); never deliver twice
    Pending p = std::move(it->second);
    in_flight.erase(it);
    using S = DnsResult::Status;
    const int tries = p.owner->options.tries;
    switch (status) {
    case ARES_SUCCESS:
      try {
        p.result.response = dns::parse_message(
            std::span<const std::uint8_t>(abuf, static_cast<std::size_t>(std::max(alen, 0))));
        finish(std::move(p), S::response, "");
      } catch (const dns::ParseError& e) {
        finish(std::move(p), S::malformed, std::string("malformed response: ") + e.what());
      }
      return;
    case ARES_ETIMEOUT:
      if (p.attempts < tries) {
        to_send.push_back(std::move(p)); // sent again by step(), outside c-ares
        return;
      }
    {
      std::string why = "no response after " + std::to_string(p.attempts) +
                        (p.attempts == 1 ? " try" : " tries") + " of " +
                        std::to_string(p.owner->options.attempt_timeout.count()) + " ms";
      finish(std::move(p), S::timeout, std::move(why));
      return;
    }
    case ARES_ECANCELLED:
      finish(std::move(p), S::timeout, "no response before the deadline");
      return;
    case ARES_ECONNREFUSED:
      // c-ares also reports this for an unreachable address, a socket it cannot open, and for
      // every query in flight to a server whose idle TCP connection the server closed; the
      // last is why it is worth another try.
      if (p.attempts < tries) {
        to_send.push_back(std::move(p));
        return;
      }
      finish(std::move(p), S::connection_refused, "connection refused or server unreachable");
      return;
    case ARES_EBADRESP:
      finish(std::move(p), S::malformed, "malformed response (rejected by c-ares)");
      return;
    default:
      finish(std::move(p), S::error, ares_strerror(status));
      return;
    }
  }

  // Ends a query whose deadline passed before it was sent, or in flight.
  void too_late(Pending p) {
    // A query never sent is not a silent server: the facts say so (outcome "not-sent"),
    // with what held it back when that was the batch's limits.
    if (p.attempts == 0)
      finish(std::move(p), DnsResult::Status::not_sent,
             p.waiting.empty() ? "not sent before the deadline" : "not sent before the deadline (" + p.waiting + ")");
    else finish(std::move(p), DnsResult::Status::timeout, "no response before the deadline");
  }

  static std::string rate_key(const Pending& p) {
    return p.result.server.to_string() + (p.result.flags.recursion_desired ? "|rd" : "");
  }

  // Hands one query to c-ares.
  void send(Pending p, Clock::time_point now) {
    std::string error;
    Channel* channel = channel_for(p.result.server, p.owner->options.attempt_timeout, error);
    if (channel == nullptr) {
      finish(std::move(p), DnsResult::Status::error, error);
      return;
    }
    // ares_send keeps the ID it is given; an unpredictable one guards against off-path
    // spoofing (RFC 5452 section 4.3), and none in flight on the channel has it. Retries keep
    // it when it is still free, so that a late answer to an earlier attempt still counts.
    std::uint16_t qid = static_cast<std::uint16_t>((p.packet[0] << 8) | p.packet[1]);
    if (p.attempts == 0 || channel->ids.count(qid)) {
      do
        qid = static_cast<std::uint16_t>(random());
      while (channel->ids.count(qid));
      p.packet[0] = static_cast<std::uint8_t>(qid >> 8);
      p.packet[1] = static_cast<std::uint8_t>(qid & 0xff);
    }
    if (p.attempts == 0) p.first_sent = now;
    channel->ids.insert(qid);
    ++p.attempts;
    ++p.owner->sent;
    next_expiry = std::min(next_expiry, p.deadline());
    std::uint64_t id = next_ticket++;
    // Registered before ares_send, which may call back at once (e.g. no route to the server).
    auto it = in_flight.emplace(id, std::move(p)).first;
    const std::vector<std::uint8_t>& packet = it->second.packet;
    ++channel->active;
    busy.insert(channel);
    ares_send(channel->ch, packet.data(), static_cast<int>(packet.size()), &Impl::on_answer,
              new Ticket{this, id, channel, qid});
  }

  // Sends the queries waiting for a server's rate, in order, while it gives tokens.
  void drain_rates(Clock::time_point now) {
    if (now < next_rate) return;
    next_rate = Clock::time_point::max();
    for (auto it = rate.begin(); it != rate.end();) {
      RateQueue& q = it->second;
      if (q.next > now) {
        next_rate = std::min(next_rate, q.next);
        ++it;
        continue;
      }
      while (!q.queue.empty()) {
        Pending& p = q.queue.front();
        if (!p.owner->alive) {
          release(p, nullptr);
          q.queue.pop_front();
          continue;
        }
        if (now >= p.deadline()) {
          too_late(std::move(p));
          q.queue.pop_front();
          continue;
        }
        const auto wait = p.owner->options.shared->politeness.dns_send(p.result.server.to_string(),
                                                                        p.result.flags.recursion_desired, now);
        if (wait > Clock::duration::zero()) {
          q.next = now + wait;
          next_rate = std::min(next_rate, q.next);
          break;
        }
        Pending ready = std::move(p);
        q.queue.pop_front();
        send(std::move(ready), now);
      }
      if (q.queue.empty()) it = rate.erase(it);
      else ++it;
    }
  }

  // Hands queued queries to c-ares, or ends them if their deadline has passed. In a batch, a
  // query may instead be answered by another check's answer, or wait: for that answer (looked
  // for again shortly), or for the server's rate (in the server's queue, in order, so that only
  // its first query is looked at until a token comes). Returns the time to look again.
  Clock::time_point flush() {
    const auto now = Clock::now();
    while (!later.empty() && later.begin()->first <= now) to_send.push_back(take_later(later.begin()));
    drain_rates(now);
    while (!to_send.empty()) {
      Pending p = std::move(to_send.front());
      to_send.pop_front();
      if (!p.owner->alive) {
        release(p, nullptr);
        continue;
      }
      if (now >= p.deadline()) {
        too_late(std::move(p));
        continue;
      }
      const DnsClient::Options& options = p.owner->options;
      if (options.shared) {
        if (p.attempts == 0 && !p.claimed) {
          auto o = options.shared->answers.claim(p.result, p.server_zone, now);
          if (o.claim == AnswerCache::Claim::hit) {
            p.result = std::move(*o.result);
            ++p.owner->shared_answers;
            done.push_back(std::move(p));
            continue;
          }
          if (o.claim == AnswerCache::Claim::wait) {
            p.waiting = "waiting for the same question asked by another check";
            next_expiry = std::min(next_expiry, p.deadline());
            p.wait_key = o.keys.empty() ? std::string() : std::move(o.keys.front());
            auto it = later.emplace(now + wait_recheck, std::move(p));
            if (!it->second.wait_key.empty()) waiters.emplace(it->second.wait_key, it);
            continue;
          }
          p.claimed = true;
          p.claim_keys = std::move(o.keys);
        }
        const std::string key = rate_key(p);
        auto queued = rate.find(key);
        const bool behind = queued != rate.end() && !queued->second.queue.empty();
        const auto wait = behind ? Clock::duration::zero()
                                 : options.shared->politeness.dns_send(p.result.server.to_string(),
                                                                       p.result.flags.recursion_desired, now);
        if (behind || wait > Clock::duration::zero()) {
          p.waiting = "waiting for the query rate limit of " + p.result.server.to_string();
          next_expiry = std::min(next_expiry, p.deadline());
          RateQueue& q = rate[key];
          if (!behind) {
            q.next = now + wait;
            next_rate = std::min(next_rate, q.next);
          }
          q.queue.push_back(std::move(p));
          continue;
        }
      }
      send(std::move(p), now);
    }
    return std::min(later.empty() ? Clock::time_point::max() : later.begin()->first, next_rate);
  }

  // Completes as timed out every query in flight whose deadline has passed (c-ares keeps asking
  // until its attempt's time; its late answer finds nothing and is dropped), and as not sent
  // every waiting one.
  void expire(Clock::time_point now) {
    if (now < next_expiry) return;
    next_expiry = Clock::time_point::max();
    for (auto it = in_flight.begin(); it != in_flight.end();) {
      const auto deadline = it->second.deadline();
      if (now >= deadline || !it->second.owner->alive) {
        Pending p = std::move(it->second);
        it = in_flight.erase(it);
        finish(std::move(p), DnsResult::Status::timeout, "no response before the deadline");
      } else {
        next_expiry = std::min(next_expiry, deadline);
        ++it;
      }
    }
    for (auto it = later.begin(); it != later.end();) {
      if (now >= it->second.deadline()) {
        auto next = std::next(it);
        too_late(take_later(it));
        it = next;
      } else {
        next_expiry = std::min(next_expiry, it->second.deadline());
        ++it;
      }
    }
    for (auto it = rate.begin(); it != rate.end();) {
      std::deque<Pending> kept;
      for (auto& p : it->second.queue) {
        if (now >= p.deadline()) {
          too_late(std::move(p));
        } else {
          next_expiry = std::min(next_expiry, p.deadline());
          kept.push_back(std::move(p));
        }
      }
      it->second.queue = std::move(kept);
      if (it->second.queue.empty()) it = rate.erase(it);
      else ++it;
    }
  }

  void deliver() {
    while (!done.empty()) {
      Pending p = std::move(done.front());
      done.pop_front();
      if (!p.owner->alive) continue;
      --p.owner->pending;
      if (p.cb)
        p.cb(std::move(p.result));
    }
  }

  static int ceil_ms(const timeval& tv) {
    long long ms = static_cast<long long>(tv.tv_sec) * 1000 + (tv.tv_usec + 999) / 1000;
    return static_cast<int>(std::clamp<long long>(ms, 0, 3'600'000));
  }

  Clock::time_point step() {
    while (true) {
      const Clock::time_point wake = flush();
      expire(Clock::now());
      if (!done.empty()) {
        deliver(); // callbacks may queue more queries
        continue;
      }
      return std::min(wake, next_expiry);
    }
  }

  void prepare(std::vector<pollfd>& fds, int& timeout_ms) {
    watches.clear();
    timeval maxtv{timeout_ms / 1000, (timeout_ms % 1000) * 1000};
    for (Channel* c : busy) {
      ares_socket_t socks[ARES_GETSOCK_MAXNUM];
      int bits = ares_getsock(c->ch, socks, ARES_GETSOCK_MAXNUM);
      for (int i = 0; i < ARES_GETSOCK_MAXNUM; ++i) {
        short events = 0;
        if (ARES_GETSOCK_READABLE(bits, i))
          events |= POLLIN;
        if (ARES_GETSOCK_WRITABLE(bits, i))
          events |= POLLOUT;
        if (events != 0) {
          watches.push_back({c, socks[i], events});
          fds.push_back({socks[i], events, 0});
        }
      }
      timeval tv{};
      timeval* t = ares_timeout(c->ch, &maxtv, &tv);
      if (t != nullptr)
        timeout_ms = std::min(timeout_ms, ceil_ms(*t));
    }
  }

  void process(const std::vector<pollfd>& fds, std::size_t first) {
    // A channel with no ready socket still gets called, so that c-ares expires its timers.
    std::set<Channel*> touched;
    for (std::size_t i = 0; i < watches.size() && first + i < fds.size(); ++i) {
      short re = fds[first + i].revents;
      if (re == 0)
        continue;
      bool err = re & (POLLERR | POLLHUP | POLLNVAL);
      ares_socket_t r = ((re & POLLIN) || err) && (watches[i].events & POLLIN) ? watches[i].fd : ARES_SOCKET_BAD;
      ares_socket_t w = ((re & POLLOUT) || err) && (watches[i].events & POLLOUT) ? watches[i].fd : ARES_SOCKET_BAD;
      if (r == ARES_SOCKET_BAD && w == ARES_SOCKET_BAD)
        continue;
      touched.insert(watches[i].channel);
      ares_process_fd(watches[i].channel->ch, r, w);
    }
    // A copy: callbacks from c-ares change `busy`.
    const std::vector<Channel*> channels_busy(busy.begin(), busy.end());
    for (Channel* c : channels_busy)
      if (!touched.count(c))
        ares_process_fd(c->ch, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
    watches.clear();
  }

  // Waits for socket activity or a timeout (at most until `until`) and lets c-ares process it.
  void wait_and_process(Clock::time_point until) {
    auto left = std::chrono::ceil<std::chrono::milliseconds>(until - Clock::now()).count();
    int timeout_ms = static_cast<int>(std::clamp<long long>(left, 0, 3'600'000));
    std::vector<pollfd> fds;
    prepare(fds, timeout_ms);
    int n = ::poll(fds.data(), fds.size(), timeout_ms);
    if (n < 0)
      for (auto& f : fds) f.revents = 0; // treated as a timeout; c-ares then handles its own timers
    process(fds, 0);
  }

  bool idle() const { return to_send.empty() && in_flight.empty() && done.empty() && later.empty() && rate.empty(); }
};

DnsLoop::DnsLoop() : impl_(std::make_unique<Impl>()) {}

DnsLoop::~DnsLoop() = default;

std::chrono::steady_clock::time_point DnsLoop::step() { return impl_->step(); }

void DnsLoop::prepare(std::vector<pollfd>& fds, int& timeout_ms) { impl_->prepare(fds, timeout_ms); }

void DnsLoop::process(const std::vector<pollfd>& fds, std::size_t first) { impl_->process(fds, first); }

bool DnsLoop::idle() const { return impl_->idle(); }

namespace {

std::shared_ptr<DnsClient::State> make_state(DnsClient::Options o) {
  auto s = std::make_shared<DnsClient::State>();
  o.attempt_timeout = std::max(o.attempt_timeout, std::chrono::milliseconds(1));
  o.tries = std::max(o.tries, 1);
  s->options = std::move(o);
  return s;
}

} // namespace

DnsClient::DnsClient(Options options)
    : own_(std::make_unique<DnsLoop>()), loop_(own_.get()), state_(make_state(std::move(options))) {}

DnsClient::DnsClient(Options options, DnsLoop& loop) : loop_(&loop), state_(make_state(std::move(options))) {}

DnsClient::~DnsClient() {
  // On a shared loop, this client's queries are dropped as the loop meets them (their shared
  // questions released); a loop of its own goes with it.
  state_->alive = false;
}

void DnsClient::query(const DnsServer& server, std::string qname, std::uint16_t qtype,
                      dns::QueryFlags flags, std::function<void(DnsResult)> cb,
                      std::optional<std::string> server_zone,
                      std::optional<std::chrono::steady_clock::time_point> deadline) {
  DnsLoop::Impl& d = *loop_->impl_;
  DnsLoop::Impl::Pending p;
  p.owner = state_;
  p.until = deadline;
  p.server_zone = std::move(server_zone);
  p.result.server = server;
  p.result.qname = std::move(qname);
  p.result.qtype = qtype;
  p.result.flags = flags;
  p.cb = std::move(cb);
  ++state_->pending;
  try {
    p.packet = dns::build_query(0, p.result.qname, qtype, flags); // ID set when sent
  } catch (const Error& e) {
    d.finish(std::move(p), DnsResult::Status::error, e.what());
    return;
  }
  if (state_->options.refuse) {
    if (auto why = state_->options.refuse(server); !why.empty()) {
      d.finish(std::move(p), DnsResult::Status::not_allowed, AddressPolicy::explain(server.address, why));
      return;
    }
  }
  d.to_send.push_back(std::move(p));
}

void DnsClient::set_deadline(std::chrono::steady_clock::time_point deadline) {
  state_->deadline = deadline;
  loop_->impl_->next_expiry = std::min(loop_->impl_->next_expiry, deadline);
}

void DnsClient::run(std::chrono::steady_clock::time_point deadline) {
  DnsLoop::Impl& d = *loop_->impl_;
  set_deadline(deadline);
  while (true) {
    const Clock::time_point wake = d.step();
    if (d.idle())
      return;
    d.wait_and_process(std::min(deadline, wake));
  }
}

std::size_t DnsClient::pending() const { return state_->pending; }

std::size_t DnsClient::queries_sent() const { return state_->sent; }

std::size_t DnsClient::answers_shared() const { return state_->shared_answers; }

} // namespace certdoctor::probe
