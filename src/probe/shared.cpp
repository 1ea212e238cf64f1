#include "probe/shared.hpp"

#include <algorithm>
#include <limits>
#include <sstream>

#include "dns/name.hpp"

namespace certdoctor::probe {

namespace {

// How long a check waits before asking again for a connection slot that is taken: slots come
// free when another check's request ends, which the limit cannot foresee.
constexpr auto slot_retry = std::chrono::milliseconds(5);

std::string question_key(const DnsResult& q) {
  std::string key = "Q|" + q.server.to_string() + "|" + q.qname + "|" + std::to_string(q.qtype) + "|";
  key += q.flags.recursion_desired ? 'r' : '-';
  key += q.flags.checking_disabled ? 'c' : '-';
  key += q.flags.dnssec_ok ? 'd' : '-';
  return key + std::to_string(q.flags.edns_udp_size);
}

// The zone cut a server of `server_zone` refers `qname` to, if it refers it at all: the child
// of `server_zone` on the way to `qname`. "" when `qname` is not below `server_zone`.
std::string expected_cut(const std::string& qname, const std::string& server_zone) {
  if (qname == server_zone || !dns::is_subdomain_or_equal(qname, server_zone)) return "";
  const std::size_t keep = server_zone.empty() ? 0 : server_zone.size() + 1;
  const std::string head = qname.substr(0, qname.size() - keep);  // the labels below the zone
  const std::size_t dot = head.rfind('.');
  return dot == std::string::npos ? qname : qname.substr(dot + 1);
}

// The cut a response refers to: a referral (NOERROR, not authoritative, no answer, NS records in
// the authority section) whose cut lies below `server_zone` and at or above `qname`.
std::optional<std::string> referral_cut(const dns::Message& m, const std::string& qname, const std::string& server_zone) {
  if (m.rcode != dns::rcode::NOERROR || m.aa || m.tc || !m.answer.empty()) return std::nullopt;
  std::optional<std::string> cut;
  for (const auto& r : m.authority) {
    if (r.type != dns::rrtype::NS) continue;
    if (cut && *cut != r.name) return std::nullopt;  // two cuts: not a referral to share
    cut = r.name;
  }
  if (!cut || *cut == server_zone || !dns::is_subdomain_or_equal(*cut, server_zone) ||
      !dns::is_subdomain_or_equal(qname, *cut))
    return std::nullopt;
  return cut;
}

std::uint32_t soa_minimum(const std::string& data) {
  const std::size_t space = data.rfind(' ');
  try {
    return static_cast<std::uint32_t>(std::stoul(space == std::string::npos ? data : data.substr(space + 1)));
  } catch (const std::exception&) {
    return 0;
  }
}

} // namespace

// --- politeness ------------------------------------------------------------------------------

TokenBucket::TokenBucket(double rate, double burst, SteadyClock::time_point now)
    : rate_(rate), burst_(std::max(1.0, burst)), tokens_(std::max(1.0, burst)), last_(now) {}

SteadyClock::duration TokenBucket::take(SteadyClock::time_point now) {
  if (now > last_) {
    tokens_ = std::min(burst_, tokens_ + rate_ * std::chrono::duration<double>(now - last_).count());
    last_ = now;
  }
  if (tokens_ >= 1) {
    tokens_ -= 1;
    return SteadyClock::duration::zero();
  }
  const auto wait = std::chrono::duration_cast<SteadyClock::duration>(std::chrono::duration<double>((1 - tokens_) / rate_));
  return std::max(wait, SteadyClock::duration(1));
}

Politeness::Politeness(PolitenessLimits limits) : limits_(limits) {}

SteadyClock::duration Politeness::dns_send(const std::string& server, bool recursive, SteadyClock::time_point now) {
  const double rate = recursive ? limits_.resolver_qps : limits_.dns_qps;
  std::lock_guard lock(mutex_);
  if (rate > 0) {
    const std::string key = (recursive ? "rd|" : "auth|") + server;
    auto it = dns_.find(key);
    if (it == dns_.end()) it = dns_.emplace(key, TokenBucket(rate, rate / 10, now)).first;
    if (auto wait = it->second.take(now); wait > SteadyClock::duration::zero()) return wait;
  }
  ++dns_sent_[server];
  return SteadyClock::duration::zero();
}

SteadyClock::duration Politeness::web_open(const std::string& address, SteadyClock::time_point now) {
  std::lock_guard lock(mutex_);
  Web& w = web_[address];
  if (limits_.web_connections > 0 && w.open >= limits_.web_connections) return slot_retry;
  if (limits_.web_connects_per_s > 0) {
    if (!w.rate) w.rate.emplace(limits_.web_connects_per_s, limits_.web_connects_per_s / 10, now);
    if (auto wait = w.rate->take(now); wait > SteadyClock::duration::zero()) return wait;
  }
  ++w.open;
  w.peak = std::max(w.peak, w.open);
  return SteadyClock::duration::zero();
}

void Politeness::web_close(const std::string& address) {
  std::lock_guard lock(mutex_);
  auto it = web_.find(address);
  if (it != web_.end() && it->second.open > 0) --it->second.open;
}

std::map<std::string, std::size_t> Politeness::dns_sent() const {
  std::lock_guard lock(mutex_);
  return dns_sent_;
}

std::map<std::string, std::size_t> Politeness::web_peak() const {
  std::lock_guard lock(mutex_);
  std::map<std::string, std::size_t> out;
  for (const auto& [address, w] : web_) out[address] = w.peak;
  return out;
}

// --- answers ---------------------------------------------------------------------------------

std::optional<std::chrono::seconds> reuse_lifetime(const dns::Message& m) {
  if ((m.rcode != dns::rcode::NOERROR && m.rcode != dns::rcode::NXDOMAIN) || m.tc) return std::nullopt;
  std::uint32_t ttl = std::numeric_limits<std::uint32_t>::max();
  bool any = false;
  for (const auto* section : {&m.answer, &m.authority, &m.additional})
    for (const auto& r : *section) {
      any = true;
      ttl = std::min(ttl, r.ttl);
      // A negative answer lives no longer than its SOA's MINIMUM (RFC 2308 section 5).
      if (m.answer.empty() && r.type == dns::rrtype::SOA) ttl = std::min(ttl, soa_minimum(r.data));
    }
  if (!any || ttl == 0) return std::nullopt;
  return std::chrono::seconds(ttl);
}

void age_ttls(dns::Message& m, std::chrono::seconds age) {
  const auto by = static_cast<std::uint64_t>(std::max<long long>(0, age.count()));
  for (auto* section : {&m.answer, &m.authority, &m.additional})
    for (auto& r : *section) r.ttl = r.ttl > by ? static_cast<std::uint32_t>(r.ttl - by) : 0;
}

AnswerCache::AnswerCache(std::size_t max_entries) : max_entries_(max_entries) {}

std::optional<DnsResult> AnswerCache::fresh(const std::string& key, const std::string& qname, SteadyClock::time_point now) {
  auto it = entries_.find(key);
  if (it == entries_.end() || it->second.pending || now >= it->second.expires) return std::nullopt;
  DnsResult r = it->second.result;
  r.qname = qname;
  if (r.response) {
    r.response->qname = qname;
    age_ttls(*r.response, std::chrono::floor<std::chrono::seconds>(now - it->second.stored));
  }
  ++hits_;
  return r;
}

AnswerCache::Outcome AnswerCache::claim(const DnsResult& q, const std::optional<std::string>& server_zone,
                                        SteadyClock::time_point now) {
  const std::string key = question_key(q);
  std::lock_guard lock(mutex_);
  if (auto r = fresh(key, q.qname, now)) return {Claim::hit, std::move(r), {}};
  if (auto it = entries_.find(key); it != entries_.end() && it->second.pending) return {Claim::wait, std::nullopt, {key}};
  std::string in_flight;
  if (server_zone) {
    const std::string server = q.server.to_string();
    const std::string top = expected_cut(q.qname, *server_zone);
    if (!top.empty()) {
      // A referral this server gave for any cut between its zone and the name answers it.
      for (const auto& cut : dns::ancestors_to_tld(q.qname)) {
        if (auto r = fresh("R|" + server + "|" + cut, q.qname, now)) return {Claim::hit, std::move(r), {}};
        if (cut == top) break;
      }
      in_flight = "F|" + server + "|" + top;
      if (auto it = entries_.find(in_flight); it != entries_.end() && it->second.pending)
        return {Claim::wait, std::nullopt, {in_flight}};
      set_pending(in_flight);
    }
  }
  set_pending(key);
  ++asked_;
  Outcome o{Claim::ask, std::nullopt, {key}};
  if (!in_flight.empty()) o.keys.push_back(std::move(in_flight));
  return o;
}

void AnswerCache::set_pending(const std::string& key) {
  Entry& e = entries_[key];
  if (e.expiry) by_expiry_.erase(*e.expiry);
  e = Entry{};
}

void AnswerCache::store(const std::string& key, const DnsResult& r, SteadyClock::time_point now) {
  const auto lifetime = reuse_lifetime(*r.response);
  if (!lifetime) return;
  // Expired answers make room, earliest first; when every answer is fresh, this one is not kept.
  while (entries_.size() >= max_entries_ && !by_expiry_.empty() && by_expiry_.begin()->first <= now) {
    entries_.erase(by_expiry_.begin()->second);
    by_expiry_.erase(by_expiry_.begin());
  }
  if (entries_.size() >= max_entries_ && !entries_.count(key)) return;
  Entry& e = entries_[key];
  if (e.expiry) by_expiry_.erase(*e.expiry);
  e.pending = false;
  e.result = r;
  e.stored = now;
  e.expires = now + *lifetime;
  e.expiry = by_expiry_.emplace(e.expires, key);
}

void AnswerCache::complete(const DnsResult& q, const std::optional<std::string>& server_zone, const DnsResult* result,
                           SteadyClock::time_point now) {
  const std::string key = question_key(q);
  std::lock_guard lock(mutex_);
  if (auto it = entries_.find(key); it != entries_.end() && it->second.pending) entries_.erase(it);
  const std::string server = q.server.to_string();
  if (server_zone) {
    const std::string top = expected_cut(q.qname, *server_zone);
    if (!top.empty())
      if (auto it = entries_.find("F|" + server + "|" + top); it != entries_.end() && it->second.pending)
        entries_.erase(it);
  }
  if (!result || result->status != DnsResult::Status::response || !result->response) return;
  store(key, *result, now);
  if (server_zone)
    if (auto cut = referral_cut(*result->response, q.qname, *server_zone)) store("R|" + server + "|" + *cut, *result, now);
}

std::size_t AnswerCache::hits() const {
  std::lock_guard lock(mutex_);
  return hits_;
}

std::size_t AnswerCache::asked() const {
  std::lock_guard lock(mutex_);
  return asked_;
}

} // namespace certdoctor::probe
