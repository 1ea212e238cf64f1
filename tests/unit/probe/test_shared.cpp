// What the checks of a batch share (src/probe/shared): the token bucket, the per-destination
// limits and the answer cache, driven with a clock of the test's own; the cache's entries are
// real parsed responses. The sharing between live checks runs in the lab (tests/e2e/shared_probe.py).
#include <doctest/doctest.h>

#include <thread>

#include "probe/shared.hpp"

using namespace certdoctor;
using namespace std::chrono_literals;
using probe::SteadyClock;

namespace {

const SteadyClock::time_point t0{std::chrono::hours(1000)};

dns::Record rec(std::string name, std::uint16_t type, std::uint32_t ttl, std::string data) {
  dns::Record r;
  r.name = std::move(name);
  r.type = type;
  r.klass = 1;
  r.ttl = ttl;
  r.data = std::move(data);
  return r;
}

probe::DnsResult question(std::string server, std::string qname, std::uint16_t qtype, bool rd) {
  probe::DnsResult q;
  q.server = probe::DnsServer{std::move(server), 53};
  q.qname = std::move(qname);
  q.qtype = qtype;
  q.flags.recursion_desired = rd;
  return q;
}

probe::DnsResult answered(probe::DnsResult q, dns::Message m) {
  m.qr = true;
  m.qname = q.qname;
  m.qtype = q.qtype;
  q.status = probe::DnsResult::Status::response;
  q.response = std::move(m);
  q.elapsed_ms = 12.5;
  return q;
}

// The root's referral to jp, as the lab's root gives it for any name under jp.
dns::Message referral_to_jp() {
  dns::Message m;
  m.authority.push_back(rec("jp", dns::rrtype::NS, 172800, "a.dns.jp"));
  m.additional.push_back(rec("a.dns.jp", dns::rrtype::A, 172800, "192.0.2.2"));
  return m;
}

} // namespace

TEST_CASE("probe::TokenBucket: the rate and the burst, never more") {
  probe::TokenBucket b(10, 2, t0);
  CHECK(b.take(t0) == SteadyClock::duration::zero());
  CHECK(b.take(t0) == SteadyClock::duration::zero());
  const auto wait = b.take(t0);
  CHECK(wait > 99ms);
  CHECK(wait <= 100ms);
  CHECK(b.take(t0 + 50ms) > SteadyClock::duration::zero());
  CHECK(b.take(t0 + 100ms) == SteadyClock::duration::zero());

  // A greedy sender over ten seconds gets the rate times ten plus the burst, not one more.
  probe::TokenBucket greedy(50, 5, t0);
  int sent = 0;
  for (auto t = t0; t < t0 + 10s; t += 1ms)
    while (greedy.take(t) == SteadyClock::duration::zero()) ++sent;
  CHECK(sent <= 50 * 10 + 5);
  CHECK(sent >= 50 * 10 - 1);

  // A burst below one still lets one through.
  probe::TokenBucket slow(0.5, 0, t0);
  CHECK(slow.take(t0) == SteadyClock::duration::zero());
  CHECK(slow.take(t0 + 1s) > 900ms);
}

TEST_CASE("probe::Politeness: connections at a time and per second, per address") {
  probe::PolitenessLimits l;
  l.web_connections = 2;
  l.web_connects_per_s = 0;
  probe::Politeness p(l);
  CHECK(p.web_open("203.0.113.10", t0) == SteadyClock::duration::zero());
  CHECK(p.web_open("203.0.113.10", t0) == SteadyClock::duration::zero());
  CHECK(p.web_open("203.0.113.10", t0) > SteadyClock::duration::zero());  // a third waits
  CHECK(p.web_open("203.0.113.20", t0) == SteadyClock::duration::zero());  // another address does not
  p.web_close("203.0.113.10");
  CHECK(p.web_open("203.0.113.10", t0) == SteadyClock::duration::zero());
  p.web_close("203.0.113.99");  // never opened: nothing happens
  CHECK(p.web_peak().at("203.0.113.10") == 2);
  CHECK(p.web_peak().at("203.0.113.20") == 1);

  probe::PolitenessLimits r;
  r.web_connections = 0;
  r.web_connects_per_s = 10;
  probe::Politeness rate(r);
  CHECK(rate.web_open("203.0.113.10", t0) == SteadyClock::duration::zero());
  const auto wait = rate.web_open("203.0.113.10", t0);
  CHECK(wait > 90ms);
  CHECK(rate.web_open("203.0.113.10", t0 + wait) == SteadyClock::duration::zero());
}

TEST_CASE("probe::Politeness: queries per second to a nameserver; the resolver apart") {
  probe::PolitenessLimits l;
  l.dns_qps = 10;
  probe::Politeness p(l);
  CHECK(p.dns_send("192.0.2.2", false, t0) == SteadyClock::duration::zero());
  CHECK(p.dns_send("192.0.2.2", false, t0) > SteadyClock::duration::zero());
  CHECK(p.dns_send("192.0.2.1", false, t0) == SteadyClock::duration::zero());
  for (int i = 0; i < 100; ++i) CHECK(p.dns_send("192.0.2.53", true, t0) == SteadyClock::duration::zero());
  CHECK(p.dns_sent().at("192.0.2.2") == 1);  // the query that waited was not counted
  CHECK(p.dns_sent().at("192.0.2.53") == 100);
}

TEST_CASE("probe::reuse_lifetime and age_ttls") {
  dns::Message a;
  a.answer.push_back(rec("example.jp", dns::rrtype::A, 300, "203.0.113.10"));
  a.answer.push_back(rec("example.jp", dns::rrtype::A, 120, "203.0.113.11"));
  CHECK(probe::reuse_lifetime(a) == 120s);
  probe::age_ttls(a, 200s);
  CHECK(a.answer[0].ttl == 100);
  CHECK(a.answer[1].ttl == 0);

  dns::Message negative;
  negative.rcode = dns::rcode::NXDOMAIN;
  negative.authority.push_back(rec("jp", dns::rrtype::SOA, 900, "a.dns.jp root.dns.jp 1 3600 900 1814400 60"));
  CHECK(probe::reuse_lifetime(negative) == 60s);

  dns::Message servfail;
  servfail.rcode = dns::rcode::SERVFAIL;
  servfail.authority = negative.authority;
  CHECK_FALSE(probe::reuse_lifetime(servfail));
  CHECK_FALSE(probe::reuse_lifetime(dns::Message{}));  // nothing to time it by
  dns::Message zero;
  zero.answer.push_back(rec("example.jp", dns::rrtype::A, 0, "203.0.113.10"));
  CHECK_FALSE(probe::reuse_lifetime(zero));
}

TEST_CASE("probe::AnswerCache: the same question to the same server, once within the TTL") {
  probe::AnswerCache cache;
  using C = probe::AnswerCache::Claim;
  const auto q = question("192.0.2.53", "ns1.dns.ne.jp", dns::rrtype::A, true);
  CHECK(cache.claim(q, std::nullopt, t0).claim == C::ask);
  CHECK(cache.claim(q, std::nullopt, t0).claim == C::wait);  // asked by another check: wait
  // Another server, other flags, another type: another question.
  CHECK(cache.claim(question("192.0.2.54", "ns1.dns.ne.jp", dns::rrtype::A, true), std::nullopt, t0).claim == C::ask);
  CHECK(cache.claim(question("192.0.2.53", "ns1.dns.ne.jp", dns::rrtype::A, false), std::nullopt, t0).claim == C::ask);
  CHECK(cache.claim(question("192.0.2.53", "ns1.dns.ne.jp", dns::rrtype::AAAA, true), std::nullopt, t0).claim == C::ask);

  dns::Message m;
  m.answer.push_back(rec("ns1.dns.ne.jp", dns::rrtype::A, 300, "192.0.2.11"));
  const auto r = answered(q, m);
  cache.complete(q, std::nullopt, &r, t0);
  auto hit = cache.claim(q, std::nullopt, t0 + 100s);
  REQUIRE(hit.claim == C::hit);
  REQUIRE(hit.result->response);
  CHECK(hit.result->response->answer.at(0).ttl == 200);  // aged as a cache ages it
  CHECK(hit.result->response->answer.at(0).data == "192.0.2.11");
  CHECK(hit.result->server == q.server);
  CHECK(hit.result->elapsed_ms == 12.5);
  CHECK(cache.claim(q, std::nullopt, t0 + 300s).claim == C::ask);  // expired: asked again
  CHECK(cache.hits() == 1);
}

TEST_CASE("probe::AnswerCache: a full cache makes room from the earliest expired answer, never drops a fresh one") {
  probe::AnswerCache cache(3);
  using C = probe::AnswerCache::Claim;
  auto put = [&](const std::string& name, std::uint32_t ttl, SteadyClock::time_point now) {
    const auto q = question("192.0.2.53", name, dns::rrtype::A, true);
    REQUIRE(cache.claim(q, std::nullopt, now).claim == C::ask);
    dns::Message m;
    m.answer.push_back(rec(name, dns::rrtype::A, ttl, "192.0.2.11"));
    const auto r = answered(q, m);
    cache.complete(q, std::nullopt, &r, now);
    return q;
  };
  const auto a = put("a.jp", 100, t0);
  const auto b = put("b.jp", 300, t0);
  const auto c = put("c.jp", 200, t0);
  // Full of fresh answers: a fourth is answered, not kept, and the others stay.
  const auto d = put("d.jp", 500, t0 + 10s);
  CHECK(cache.claim(d, std::nullopt, t0 + 20s).claim == C::ask);
  cache.complete(d, std::nullopt, nullptr, t0 + 20s);
  CHECK(cache.claim(a, std::nullopt, t0 + 20s).claim == C::hit);
  CHECK(cache.claim(b, std::nullopt, t0 + 20s).claim == C::hit);
  CHECK(cache.claim(c, std::nullopt, t0 + 20s).claim == C::hit);
  // a.jp has expired: the next answer takes its place; b.jp and c.jp, still fresh, stay.
  const auto e = put("e.jp", 500, t0 + 150s);
  CHECK(cache.claim(e, std::nullopt, t0 + 160s).claim == C::hit);
  CHECK(cache.claim(b, std::nullopt, t0 + 160s).claim == C::hit);
  CHECK(cache.claim(c, std::nullopt, t0 + 160s).claim == C::hit);
  // An answer asked again after it expired replaces its own entry.
  const auto c2 = put("c.jp", 600, t0 + 250s);
  CHECK(cache.claim(c2, std::nullopt, t0 + 400s).claim == C::hit);
  CHECK(cache.claim(e, std::nullopt, t0 + 400s).claim == C::hit);
}

TEST_CASE("probe::AnswerCache: failures and SERVFAIL are never handed on") {
  probe::AnswerCache cache;
  using C = probe::AnswerCache::Claim;
  const auto q = question("192.0.2.53", "jp", dns::rrtype::CAA, true);
  CHECK(cache.claim(q, std::nullopt, t0).claim == C::ask);
  auto timeout = q;
  timeout.status = probe::DnsResult::Status::timeout;  // e.g. the first check's deadline
  cache.complete(q, std::nullopt, &timeout, t0);
  CHECK(cache.claim(q, std::nullopt, t0).claim == C::ask);  // the next check asks itself
  dns::Message sf;
  sf.rcode = dns::rcode::SERVFAIL;
  sf.authority.push_back(rec("jp", dns::rrtype::SOA, 900, "a.dns.jp root.dns.jp 1 3600 900 1814400 900"));
  const auto r = answered(q, sf);
  cache.complete(q, std::nullopt, &r, t0);
  CHECK(cache.claim(q, std::nullopt, t0).claim == C::ask);
  cache.complete(q, std::nullopt, nullptr, t0);  // abandoned (the asking check ended)
  CHECK(cache.claim(q, std::nullopt, t0).claim == C::ask);
}

TEST_CASE("probe::AnswerCache: a referral answers the walk of every name below its cut") {
  probe::AnswerCache cache;
  using C = probe::AnswerCache::Claim;
  const auto a = question("192.0.2.1", "healthy-sakura.jp", dns::rrtype::NS, false);
  const auto b = question("192.0.2.1", "healthy-xserver.jp", dns::rrtype::NS, false);
  const auto c = question("192.0.2.1", "example.com", dns::rrtype::NS, false);
  const std::optional<std::string> root = std::string();
  CHECK(cache.claim(a, root, t0).claim == C::ask);
  CHECK(cache.claim(b, root, t0).claim == C::wait);  // the root's answer for jp is on its way
  CHECK(cache.claim(c, root, t0).claim == C::ask);   // com is another cut
  const auto ra = answered(a, referral_to_jp());
  cache.complete(a, root, &ra, t0);
  auto hit = cache.claim(b, root, t0 + 2s);
  REQUIRE(hit.claim == C::hit);
  CHECK(hit.result->qname == "healthy-xserver.jp");  // the asking check's question
  CHECK(hit.result->response->qname == "healthy-xserver.jp");
  CHECK(hit.result->response->authority.at(0).name == "jp");
  CHECK(hit.result->response->authority.at(0).ttl == 172798);
  CHECK(hit.result->response->additional.at(0).data == "192.0.2.2");
  // Another server's walk, or a question with recursion, is not answered by it.
  CHECK(cache.claim(question("192.0.2.9", "healthy-xserver.jp", dns::rrtype::NS, false), root, t0).claim == C::ask);
  CHECK(cache.claim(question("192.0.2.1", "healthy-xserver.jp", dns::rrtype::NS, true), std::nullopt, t0).claim == C::ask);

  // The registry refers each domain to its own cut: the walks of two domains do not wait for each other.
  const std::optional<std::string> jp = std::string("jp");
  const auto x = question("192.0.2.2", "a.co.jp", dns::rrtype::NS, false);
  const auto y = question("192.0.2.2", "b.co.jp", dns::rrtype::NS, false);
  CHECK(cache.claim(question("192.0.2.2", "healthy-sakura.jp", dns::rrtype::NS, false), jp, t0).claim == C::ask);
  CHECK(cache.claim(question("192.0.2.2", "healthy-xserver.jp", dns::rrtype::NS, false), jp, t0).claim == C::ask);
  CHECK(cache.claim(x, jp, t0).claim == C::ask);
  CHECK(cache.claim(y, jp, t0).claim == C::wait);  // both may be referred to co.jp
  dns::Message to_a;
  to_a.authority.push_back(rec("a.co.jp", dns::rrtype::NS, 86400, "ns1.dns.ne.jp"));
  const auto rx = answered(x, to_a);
  cache.complete(x, jp, &rx, t0);
  CHECK(cache.claim(y, jp, t0).claim == C::ask);  // a.co.jp's cut says nothing of b.co.jp
  cache.complete(y, jp, nullptr, t0);              // (its check ended without an answer)
  // An authoritative answer is no referral.
  const auto z = question("192.0.2.2", "c.co.jp", dns::rrtype::NS, false);
  CHECK(cache.claim(z, jp, t0 + 1s).claim == C::ask);
  dns::Message aa = to_a;
  aa.aa = true;
  aa.authority[0].name = "co.jp";
  const auto rz = answered(z, aa);
  cache.complete(z, jp, &rz, t0 + 1s);
  CHECK(cache.claim(question("192.0.2.2", "d.co.jp", dns::rrtype::NS, false), jp, t0 + 1s).claim == C::ask);
}

TEST_CASE("probe::OnceTable: asked once, others wait for it until their own deadline") {
  probe::OnceTable<int> t;
  bool mine = false;
  CHECK_FALSE(t.get("example.jp", SteadyClock::now() + 1s, mine));
  CHECK(mine);
  // While it is fetched, another asker waits, and gives up at its deadline.
  CHECK_FALSE(t.get("example.jp", SteadyClock::now() + 20ms, mine));
  CHECK_FALSE(mine);
  std::thread later([&] {
    std::this_thread::sleep_for(20ms);
    t.put("example.jp", 42, 1h);
  });
  auto v = t.get("example.jp", SteadyClock::now() + 5s, mine);
  later.join();
  REQUIRE(v);
  CHECK(*v == 42);
  CHECK_FALSE(mine);
  // A failed fetch is dropped: the next asker fetches.
  CHECK_FALSE(t.get("other.jp", SteadyClock::now() + 1s, mine));
  t.drop("other.jp");
  CHECK_FALSE(t.get("other.jp", SteadyClock::now() + 1s, mine));
  CHECK(mine);
}
