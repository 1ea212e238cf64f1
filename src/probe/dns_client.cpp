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
#include <unordered_map>
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

struct DnsClient::Impl {
  struct Pending {
    DnsResult result;
    std::function<void(DnsResult)> cb;
    std::vector<std::uint8_t> packet;
    int attempts = 0;
    Clock::time_point first_sent{};
    std::optional<std::string> server_zone;  // see DnsClient::query
    bool claimed = false;                    // asked on behalf of the shared answers
    std::string waiting;                     // why it is not sent yet (batch limits)
  };

  // The `arg` of one ares_send call. c-ares calls the callback exactly once per ares_send
  // (with ARES_ECANCELLED or ARES_EDESTRUCTION if need be), and the ticket is freed there.
  struct Ticket {
    Impl* impl;
    std::uint64_t id;
  };

  explicit Impl(Options o) : options(o) {
    options.attempt_timeout = std::max(options.attempt_timeout, std::chrono::milliseconds(1));
    options.tries = std::max(options.tries, 1);
    init_library();
  }

  ~Impl() {
    destroying = true;
    // Questions asked for the shared answers are released, so that other checks ask them.
    if (options.shared) {
      for (auto* list : {&to_send, &done})
        for (auto& p : *list) release(p, nullptr);
      for (auto& [id, p] : in_flight) release(p, nullptr);
    }
    for (auto& [key, ch] : channels)
      ares_destroy(ch);
  }

  Options options;
  std::map<std::string, ares_channel> channels; // one per server, keyed by DnsServer::to_string()
  std::deque<Pending> to_send;                   // new queries and retries, not yet with c-ares
  std::unordered_map<std::uint64_t, Pending> in_flight; // keyed by Ticket::id
  std::deque<Pending> done;                      // results waiting for their callback
  std::uint64_t next_ticket = 1;
  std::random_device random;
  std::size_t sent = 0;
  std::size_t shared_answers = 0;
  bool destroying = false;

  void release(Pending& p, const DnsResult* result) {
    if (!p.claimed) return;
    p.claimed = false;
    options.shared->answers.complete(p.result, p.server_zone, result, Clock::now());
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

  // Returns the channel for `server`, creating it on first use; nullptr with `error` set if
  // c-ares refuses.
  ares_channel channel_for(const DnsServer& server, std::string& error) {
    std::string key = server.to_string();
    auto it = channels.find(key);
    if (it != channels.end())
      return it->second;

    ares_options o{};
    // NOCHECKRESP hands SERVFAIL/REFUSED/NOTIMP responses to us instead of retrying them.
    // EDNS makes c-ares accept UDP responses up to ednspsz octets (not just 512) and retry a
    // FORMERR without OPT once without EDNS (RFC 6891 section 7). No IGNTC: truncated UDP
    // responses are retried over TCP (RFC 7766). STAYOPEN keeps the UDP socket between our
    // attempts, so that a late answer to an earlier attempt still arrives.
    o.flags = ARES_FLAG_NOCHECKRESP | ARES_FLAG_NOSEARCH | ARES_FLAG_EDNS | ARES_FLAG_STAYOPEN;
    o.timeout = static_cast<int>(std::min<long long>(options.attempt_timeout.count(), 3'600'000));
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
    channels.emplace(key, ch);
    return ch;
  }

  static void on_answer(void* arg, int status, int /*timeouts*/, unsigned char* abuf, int alen) {
    auto* ticket = static_cast<Ticket*>(arg);
    Impl* impl = ticket->impl;
    std::uint64_t id = ticket->id;
    delete ticket;
    if (impl->destroying)
      return;
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
      if (p.attempts < options.tries) {
        to_send.push_back(std::move(p)); // sent again by run(), outside c-ares
        return;
      }
    {
      std::string why = "no response after " + std::to_string(p.attempts) +
                        (p.attempts == 1 ? " try" : " tries") + " of " +
                        std::to_string(options.attempt_timeout.count()) + " ms";
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
      if (p.attempts < options.tries) {
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

  // Hands queued queries to c-ares, or times them out if the deadline has passed. In a batch,
  // a query may instead be answered by another check's answer, or wait (for that answer, or for
  // the server's rate): it then stays queued, and the time to look again is returned.
  Clock::time_point flush(bool late) {
    Clock::time_point wake = Clock::time_point::max();
    std::deque<Pending> later;
    while (!to_send.empty()) {
      Pending p = std::move(to_send.front());
      to_send.pop_front();
      if (late) {
        // A query never sent is not a silent server: the facts say so (outcome "not-sent"),
        // with what held it back when that was the batch's limits.
        if (p.attempts == 0)
          finish(std::move(p), DnsResult::Status::not_sent,
                 p.waiting.empty() ? "not sent before the deadline" : "not sent before the deadline (" + p.waiting + ")");
        else finish(std::move(p), DnsResult::Status::timeout, "no response before the deadline");
        continue;
      }
      if (options.shared) {
        const auto now = Clock::now();
        if (p.attempts == 0 && !p.claimed) {
          auto o = options.shared->answers.claim(p.result, p.server_zone, now);
          if (o.claim == AnswerCache::Claim::hit) {
            p.result = std::move(*o.result);
            ++shared_answers;
            done.push_back(std::move(p));
            continue;
          }
          if (o.claim == AnswerCache::Claim::wait) {
            p.waiting = "waiting for the same question asked by another check";
            wake = std::min(wake, now + std::chrono::milliseconds(2));
            later.push_back(std::move(p));
            continue;
          }
          p.claimed = true;
        }
        if (auto wait = options.shared->politeness.dns_send(p.result.server.to_string(), p.result.flags.recursion_desired, now);
            wait > Clock::duration::zero()) {
          p.waiting = "waiting for the query rate limit of " + p.result.server.to_string();
          wake = std::min(wake, now + wait);
          later.push_back(std::move(p));
          continue;
        }
      }
      std::string error;
      ares_channel ch = channel_for(p.result.server, error);
      if (ch == nullptr) {
        finish(std::move(p), DnsResult::Status::error, error);
        continue;
      }
      if (p.attempts == 0) {
        // ares_send keeps the ID it is given; an unpredictable one guards against off-path
        // spoofing (RFC 5452 section 4.3). Retries keep it, so that a late answer to an
        // earlier attempt still counts.
        std::uint16_t qid = static_cast<std::uint16_t>(random());
        p.packet[0] = static_cast<std::uint8_t>(qid >> 8);
        p.packet[1] = static_cast<std::uint8_t>(qid & 0xff);
        p.first_sent = Clock::now();
      }
      ++p.attempts;
      ++sent;
      std::uint64_t id = next_ticket++;
      // Registered before ares_send, which may call back at once (e.g. no route to the server).
      auto it = in_flight.emplace(id, std::move(p)).first;
      const std::vector<std::uint8_t>& packet = it->second.packet;
      ares_send(ch, packet.data(), static_cast<int>(packet.size()), &Impl::on_answer,
                new Ticket{this, id});
    }
    to_send = std::move(later);
    return wake;
  }

  // Completes everything in flight as timed out.
  void cancel_all() {
    for (auto& [key, ch] : channels)
      ares_cancel(ch);
    // ares_cancel has called back for every query; anything left would be a c-ares surprise.
    while (!in_flight.empty()) {
      auto node = in_flight.extract(in_flight.begin());
      finish(std::move(node.mapped()), DnsResult::Status::timeout, "no response before the deadline");
    }
  }

  void deliver() {
    while (!done.empty()) {
      Pending p = std::move(done.front());
      done.pop_front();
      if (p.cb)
        p.cb(std::move(p.result));
    }
  }

  static int ceil_ms(const timeval& tv) {
    long long ms = static_cast<long long>(tv.tv_sec) * 1000 + (tv.tv_usec + 999) / 1000;
    return static_cast<int>(std::clamp<long long>(ms, 0, 3'600'000));
  }

  // Waits for socket activity or a timeout (at most until `deadline`) and lets c-ares process it.
  void wait_and_process(Clock::time_point deadline) {
    auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now()).count();
    int timeout_ms = static_cast<int>(std::clamp<long long>(left, 0, 3'600'000));
    timeval maxtv{timeout_ms / 1000, (timeout_ms % 1000) * 1000};

    struct Watch {
      ares_channel ch;
      ares_socket_t fd;
      short events;
    };
    std::vector<Watch> watches;
    for (auto& [key, ch] : channels) {
      ares_socket_t socks[ARES_GETSOCK_MAXNUM];
      int bits = ares_getsock(ch, socks, ARES_GETSOCK_MAXNUM);
      for (int i = 0; i < ARES_GETSOCK_MAXNUM; ++i) {
        short events = 0;
        if (ARES_GETSOCK_READABLE(bits, i))
          events |= POLLIN;
        if (ARES_GETSOCK_WRITABLE(bits, i))
          events |= POLLOUT;
        if (events != 0)
          watches.push_back({ch, socks[i], events});
      }
      timeval tv{};
      timeval* t = ares_timeout(ch, &maxtv, &tv);
      if (t != nullptr)
        timeout_ms = std::min(timeout_ms, ceil_ms(*t));
    }

    std::vector<pollfd> fds;
    fds.reserve(watches.size());
    for (const Watch& w : watches)
      fds.push_back({w.fd, w.events, 0});
    int n = ::poll(fds.data(), fds.size(), timeout_ms);
    if (n < 0 && errno != EINTR)
      n = 0; // treated as a timeout; c-ares then handles its own timers

    // A channel with no ready socket still gets called, so that c-ares expires its timers.
    std::map<ares_channel, bool> touched;
    for (std::size_t i = 0; i < fds.size(); ++i) {
      short re = fds[i].revents;
      if (re == 0)
        continue;
      bool err = re & (POLLERR | POLLHUP | POLLNVAL);
      ares_socket_t r = ((re & POLLIN) || err) && (watches[i].events & POLLIN) ? fds[i].fd : ARES_SOCKET_BAD;
      ares_socket_t w = ((re & POLLOUT) || err) && (watches[i].events & POLLOUT) ? fds[i].fd : ARES_SOCKET_BAD;
      if (r == ARES_SOCKET_BAD && w == ARES_SOCKET_BAD)
        continue;
      ares_process_fd(watches[i].ch, r, w);
      touched[watches[i].ch] = true;
    }
    for (auto& [key, ch] : channels)
      if (!touched.count(ch))
        ares_process_fd(ch, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
  }
};

DnsClient::DnsClient(Options options) : impl_(std::make_unique<Impl>(options)) {}

DnsClient::~DnsClient() = default;

void DnsClient::query(const DnsServer& server, std::string qname, std::uint16_t qtype,
                      dns::QueryFlags flags, std::function<void(DnsResult)> cb,
                      std::optional<std::string> server_zone) {
  Impl::Pending p;
  p.server_zone = std::move(server_zone);
  p.result.server = server;
  p.result.qname = std::move(qname);
  p.result.qtype = qtype;
  p.result.flags = flags;
  p.cb = std::move(cb);
  try {
    p.packet = dns::build_query(0, p.result.qname, qtype, flags); // ID set when sent
  } catch (const Error& e) {
    impl_->finish(std::move(p), DnsResult::Status::error, e.what());
    return;
  }
  if (impl_->options.refuse) {
    if (auto why = impl_->options.refuse(server); !why.empty()) {
      impl_->finish(std::move(p), DnsResult::Status::not_allowed, AddressPolicy::explain(server.address, why));
      return;
    }
  }
  impl_->to_send.push_back(std::move(p));
}

void DnsClient::run(std::chrono::steady_clock::time_point deadline) {
  Impl& d = *impl_;
  while (true) {
    bool late = Clock::now() >= deadline;
    // What flush leaves queued waits for the batch's limits or another check's answer.
    const Clock::time_point wake = d.flush(late);
    if (late && !d.in_flight.empty())
      d.cancel_all();
    if (!d.done.empty()) {
      d.deliver(); // callbacks may queue more queries
      continue;
    }
    if (d.in_flight.empty() && d.to_send.empty())
      return;
    d.wait_and_process(std::min(deadline, wake));
  }
}

std::size_t DnsClient::queries_sent() const { return impl_->sent; }

std::size_t DnsClient::answers_shared() const { return impl_->shared_answers; }

} // namespace certdoctor::probe
