#include "probe/dns_client.hpp"
#include "probe/shared.hpp"

#include "test_server.hpp"
#include "util/error.hpp"

#include <doctest/doctest.h>

#include <poll.h>

#include <algorithm>
#include <chrono>
#include <functional>
#include <memory>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

using namespace certdoctor;
using namespace certdoctor::probe;
using certdoctor::test::TestDnsServer;
using Status = DnsResult::Status;
using namespace std::chrono_literals;

namespace {

using Clock = std::chrono::steady_clock;

DnsServer local(const TestDnsServer& s, const std::string& address = "127.0.0.1") {
  return DnsServer{address, s.port()};
}

DnsClient::Options fast() {
  DnsClient::Options o;
  o.attempt_timeout = 300ms;
  o.tries = 2;
  return o;
}

// Runs one query to completion and returns its result.
DnsResult ask(DnsClient& client, const DnsServer& server, const std::string& qname,
              std::uint16_t qtype = dns::rrtype::A, dns::QueryFlags flags = {}) {
  std::vector<DnsResult> got;
  client.query(server, qname, qtype, flags, [&](DnsResult r) { got.push_back(std::move(r)); });
  client.run(Clock::now() + 5s);
  REQUIRE(got.size() == 1);
  return got[0];
}

std::string parse_error(std::string_view text) {
  try {
    (void)parse_server(text);
  } catch (const UsageError& e) {
    return e.what();
  }
  return "(no error)";
}

} // namespace

TEST_CASE("DnsServer::parse_server") {
  SUBCASE("forms") {
    CHECK(parse_server("192.0.2.1") == DnsServer{"192.0.2.1", 53});
    CHECK(parse_server("192.0.2.1:5353") == DnsServer{"192.0.2.1", 5353});
    CHECK(parse_server("2001:DB8:0::1") == DnsServer{"2001:db8::1", 53});
    CHECK(parse_server("[2001:db8::1]") == DnsServer{"2001:db8::1", 53});
    CHECK(parse_server("[2001:db8::1]:5353") == DnsServer{"2001:db8::1", 5353});
    CHECK(parse_server("::1") == DnsServer{"::1", 53});
  }
  SUBCASE("to_string") {
    CHECK(DnsServer{"192.0.2.1", 53}.to_string() == "192.0.2.1");
    CHECK(DnsServer{"192.0.2.1", 5353}.to_string() == "192.0.2.1:5353");
    CHECK(DnsServer{"2001:db8::1", 53}.to_string() == "2001:db8::1");
    CHECK(DnsServer{"2001:db8::1", 5353}.to_string() == "[2001:db8::1]:5353");
  }
  SUBCASE("errors") {
    const std::string usage =
        "expected an IPv4 or IPv6 address with an optional port, such as 192.0.2.1, "
        "192.0.2.1:5353, 2001:db8::1 or [2001:db8::1]:5353";
    CHECK(parse_error("") == "invalid DNS server \"\": " + usage);
    CHECK(parse_error("dns.example.jp") == "invalid DNS server \"dns.example.jp\": " + usage);
    CHECK(parse_error("192.0.2.300") == "invalid DNS server \"192.0.2.300\": " + usage);
    CHECK(parse_error("192.0.2.1:0") ==
          "invalid DNS server \"192.0.2.1:0\": port \"0\" is not a number from 1 to 65535");
    CHECK(parse_error("192.0.2.1:65536") ==
          "invalid DNS server \"192.0.2.1:65536\": port \"65536\" is not a number from 1 to 65535");
    CHECK(parse_error("192.0.2.1:") ==
          "invalid DNS server \"192.0.2.1:\": port \"\" is not a number from 1 to 65535");
    CHECK(parse_error("[2001:db8::1]:x") ==
          "invalid DNS server \"[2001:db8::1]:x\": port \"x\" is not a number from 1 to 65535");
    CHECK(parse_error("[2001:db8::1") == "invalid DNS server \"[2001:db8::1\": missing ']'; " + usage);
    CHECK(parse_error("[192.0.2.1]:53") ==
          "invalid DNS server \"[192.0.2.1]:53\": brackets are only for IPv6 addresses; " + usage);
    CHECK(parse_error("[2001:db8::1]53") == "invalid DNS server \"[2001:db8::1]53\": " + usage);
    CHECK(parse_error("fe80::1%eth0") == "invalid DNS server \"fe80::1%eth0\": " + usage);
  }
}

TEST_CASE("DnsClient::query answers") {
  TestDnsServer server;
  DnsClient client(fast());

  SUBCASE("normal answer, flags on the wire") {
    dns::QueryFlags f;
    f.recursion_desired = false;
    f.checking_disabled = true;
    f.dnssec_ok = true;
    f.edns_udp_size = 1400;
    DnsResult r = ask(client, local(server), "a.example.test", dns::rrtype::A, f);
    CHECK(r.status == Status::response);
    CHECK(r.error.empty());
    CHECK(r.server == local(server));
    CHECK(r.qname == "a.example.test");
    CHECK(r.qtype == dns::rrtype::A);
    CHECK(r.flags.edns_udp_size == 1400);
    CHECK(r.elapsed_ms > 0);
    CHECK(r.elapsed_ms < 5000);
    REQUIRE(r.response.has_value());
    CHECK(r.response->rcode == dns::rcode::NOERROR);
    CHECK(r.response->aa);
    CHECK_FALSE(r.response->rd);
    REQUIRE(r.response->answer.size() == 1);
    CHECK(r.response->answer[0].name == "a.example.test");
    CHECK(r.response->answer[0].data == "192.0.2.1");
    CHECK(client.queries_sent() == 1);
    CHECK(server.udp_queries() == 1);
    CHECK(server.tcp_queries() == 0);

    auto seen = server.queries();
    REQUIRE(seen.size() == 1);
    dns::Message q = dns::parse_message(seen[0]);
    CHECK_FALSE(q.rd);
    CHECK(q.cd);
    CHECK(q.edns_do);
    CHECK(q.has_edns);
    CHECK(q.edns_udp_size == 1400);
    CHECK(q.qname == "a.example.test");
  }
  SUBCASE("SERVFAIL, REFUSED and NXDOMAIN are responses, asked once") {
    DnsResult sf = ask(client, local(server), "servfail.example.test");
    CHECK(sf.status == Status::response);
    REQUIRE(sf.response.has_value());
    CHECK(sf.response->rcode == dns::rcode::SERVFAIL);
    REQUIRE(sf.response->extended_errors.size() == 1);
    CHECK(sf.response->extended_errors[0].code == 22);
    CHECK(sf.response->extended_errors[0].text == "no reachable authority");

    DnsResult rf = ask(client, local(server), "refused.example.test");
    CHECK(rf.status == Status::response);
    REQUIRE(rf.response.has_value());
    CHECK(rf.response->rcode == dns::rcode::REFUSED);

    DnsResult nx = ask(client, local(server), "nxdomain.example.test", dns::rrtype::CAA);
    CHECK(nx.status == Status::response);
    REQUIRE(nx.response.has_value());
    CHECK(nx.response->rcode == dns::rcode::NXDOMAIN);
    CHECK(nx.response->authority.size() == 1);

    CHECK(server.udp_queries() == 3);
    CHECK(client.queries_sent() == 3);
  }
  SUBCASE("truncated UDP answer is fetched again over TCP") {
    DnsResult r = ask(client, local(server), "big.example.test", dns::rrtype::TXT);
    CHECK(r.status == Status::response);
    REQUIRE(r.response.has_value());
    CHECK_FALSE(r.response->tc);
    CHECK(r.response->answer.size() == 200);
    CHECK(server.udp_queries() == 1);
    CHECK(server.tcp_queries() == 1);
  }
  SUBCASE("answers between 512 and the EDNS size stay on UDP") {
    DnsResult r = ask(client, local(server), "medium.example.test", dns::rrtype::TXT);
    CHECK(r.status == Status::response);
    REQUIRE(r.response.has_value());
    CHECK(r.response->answer.size() == 15);
    CHECK(server.udp_queries() == 1);
    CHECK(server.tcp_queries() == 0);
  }
  SUBCASE("malformed response") {
    DnsResult r = ask(client, local(server), "garbage.example.test");
    CHECK(r.status == Status::malformed);
    CHECK(r.error == "malformed response: answer record 1 (A): RDATA length 5, expected 4");
    CHECK_FALSE(r.response.has_value());
  }
  SUBCASE("a name that cannot be encoded is an error result") {
    DnsResult r = ask(client, local(server), "a..example.test");
    CHECK(r.status == Status::error);
    CHECK(r.error == "invalid domain name \"a..example.test\": empty label");
    CHECK(client.queries_sent() == 0);
    CHECK(r.elapsed_ms == 0);
  }
  SUBCASE("many queries at once") {
    std::vector<DnsResult> got;
    for (int i = 0; i < 50; ++i)
      client.query(local(server), "a" + std::string(i % 2 ? ".x.test" : ".y.test"), dns::rrtype::A, {},
                   [&](DnsResult r) { got.push_back(std::move(r)); });
    client.run(Clock::now() + 5s);
    REQUIRE(got.size() == 50);
    int ok = 0;
    for (const auto& r : got)
      ok += r.status == Status::response && r.response && r.response->answer.size() == 1;
    CHECK(ok == 50);
    CHECK(client.queries_sent() == 50);
    // Query IDs are random, not a constant or a counter.
    std::set<unsigned> ids;
    for (const auto& q : server.queries())
      ids.insert(static_cast<unsigned>(q[0] << 8 | q[1]));
    CHECK(ids.size() >= 45);
    CHECK_FALSE(ids.count(0) + ids.count(1) + ids.count(2) == 3);
  }
}

TEST_CASE("DnsClient::query failures") {
  SUBCASE("no answer: timeout after every try") {
    TestDnsServer server;
    DnsClient::Options o;
    o.attempt_timeout = 200ms;
    o.tries = 2;
    DnsClient client(o);
    auto start = Clock::now();
    DnsResult r = ask(client, local(server), "silent.example.test");
    double took = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
    CHECK(r.status == Status::timeout);
    CHECK(r.error == "no response after 2 tries of 200 ms");
    CHECK_FALSE(r.response.has_value());
    CHECK(server.udp_queries() == 2);
    CHECK(client.queries_sent() == 2);
    CHECK(took >= 350);
    CHECK(took < 200 * 2 + 2000);
    CHECK(r.elapsed_ms >= 350);
  }
  SUBCASE("a late answer to the first try still counts") {
    TestDnsServer server;
    DnsClient::Options o;
    o.attempt_timeout = 200ms; // "slow" answers after 300 ms, during the second try
    o.tries = 2;
    DnsClient client(o);
    DnsResult r = ask(client, local(server), "slow.example.test");
    CHECK(r.status == Status::response);
    CHECK(server.udp_queries() == 2);
    CHECK(r.elapsed_ms >= 250);
    CHECK(r.elapsed_ms < 400 + 1000);
    auto seen = server.queries();
    REQUIRE(seen.size() == 2);
    CHECK(seen[0] == seen[1]); // a retry is the same query, ID included
  }
  SUBCASE("nothing listening") {
    DnsClient client(fast());
    DnsServer nobody{"127.0.0.1", TestDnsServer::unused_port()};
    DnsResult r = ask(client, nobody, "a.example.test");
    bool refused_or_timeout = r.status == Status::connection_refused || r.status == Status::timeout;
    CHECK(refused_or_timeout);
    CHECK_FALSE(r.error.empty());
    CHECK(client.queries_sent() == 2);
    CHECK_FALSE(r.response.has_value());
  }
}

TEST_CASE("DnsClient::run chaining and deadline") {
  TestDnsServer server;

  SUBCASE("a callback may issue further queries") {
    DnsClient client(fast());
    std::vector<std::string> order;
    client.query(local(server), "a.one.test", dns::rrtype::A, {}, [&](DnsResult r) {
      order.push_back(r.qname + " " + to_string(r.status));
      client.query(local(server), "servfail.two.test", dns::rrtype::A, {}, [&](DnsResult r2) {
        order.push_back(r2.qname + " " + to_string(r2.status) + " " +
                        dns::rcode_name(r2.response ? r2.response->rcode : -1));
        client.query(local(server), "big.three.test", dns::rrtype::TXT, {}, [&](DnsResult r3) {
          order.push_back(r3.qname + " " + std::to_string(r3.response ? r3.response->answer.size() : 0));
        });
      });
    });
    client.run(Clock::now() + 5s);
    CHECK(order == std::vector<std::string>{"a.one.test response", "servfail.two.test response SERVFAIL",
                                            "big.three.test 200"});
    CHECK(client.queries_sent() == 3);
  }
  SUBCASE("the deadline cuts pending queries, each delivered once") {
    DnsClient::Options o;
    o.attempt_timeout = 5000ms;
    o.tries = 3;
    DnsClient client(o);
    std::vector<DnsResult> got;
    int late_callbacks = 0;
    client.query(local(server), "silent.one.test", dns::rrtype::A, {}, [&](DnsResult r) {
      got.push_back(r);
      // Issued after the deadline: completes at once without being sent.
      client.query(local(server), "a.late.test", dns::rrtype::A, {}, [&](DnsResult r2) {
        ++late_callbacks;
        got.push_back(r2);
      });
    });
    client.query(local(server), "a.two.test", dns::rrtype::A, {}, [&](DnsResult r) { got.push_back(r); });
    client.query(local(server), "slow.three.test", dns::rrtype::A, {}, [&](DnsResult r) { got.push_back(r); });
    auto start = Clock::now();
    client.run(start + 600ms);
    double took = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
    CHECK(took >= 550);
    CHECK(took < 3000);
    REQUIRE(got.size() == 4);
    CHECK(got[0].qname == "a.two.test");
    CHECK(got[0].status == Status::response);
    CHECK(got[1].qname == "slow.three.test");
    CHECK(got[1].status == Status::response);
    CHECK(got[2].qname == "silent.one.test");
    CHECK(got[2].status == Status::timeout);
    CHECK(got[2].error == "no response before the deadline");
    CHECK(got[3].qname == "a.late.test");
    CHECK(got[3].status == Status::not_sent);
    CHECK(got[3].error == "not sent before the deadline");
    CHECK(late_callbacks == 1);
    CHECK(client.queries_sent() == 3);

    // Nothing is left to run; a second run returns at once and calls nothing.
    client.run(Clock::now() + 5s);
    CHECK(got.size() == 4);
  }
  SUBCASE("a deadline already past sends nothing") {
    DnsClient client(fast());
    std::vector<DnsResult> got;
    client.query(local(server), "a.test", dns::rrtype::A, {}, [&](DnsResult r) { got.push_back(r); });
    client.run(Clock::now() - 1s);
    REQUIRE(got.size() == 1);
    CHECK(got[0].status == Status::not_sent);
    CHECK(client.queries_sent() == 0);
    CHECK(server.udp_queries() == 0);
  }
  SUBCASE("an exception from a callback leaves run() resumable") {
    DnsClient client(fast());
    std::vector<DnsResult> got;
    client.query(local(server), "silent.test", dns::rrtype::A, {}, [&](DnsResult r) { got.push_back(r); });
    client.query(local(server), "a.test", dns::rrtype::A, {}, [&](DnsResult) { throw std::runtime_error("stop"); });
    CHECK_THROWS_AS(client.run(Clock::now() + 5s), std::runtime_error);
    CHECK(got.empty());
    client.run(Clock::now() + 5s);
    REQUIRE(got.size() == 1);
    CHECK(got[0].status == Status::timeout);
    CHECK(got[0].error == "no response after 2 tries of 300 ms");
  }
  SUBCASE("destroying the client with queries in flight calls nothing") {
    int calls = 0;
    {
      DnsClient client(fast());
      client.query(local(server), "silent.test", dns::rrtype::A, {}, [&](DnsResult) { ++calls; });
      client.query(local(server), "slow.test", dns::rrtype::A, {}, [&](DnsResult) { ++calls; });
      client.query(local(server), "a.test", dns::rrtype::A, {}, [&](DnsResult) { throw std::runtime_error("stop"); });
      CHECK_THROWS_AS(client.run(Clock::now() + 5s), std::runtime_error);
      CHECK(client.queries_sent() == 3);
      client.query(local(server), "a.test", dns::rrtype::A, {}, [&](DnsResult) { ++calls; });
    }
    CHECK(calls == 0);
  }
  SUBCASE("several servers at once") {
    TestDnsServer second;
    DnsClient client(fast());
    std::vector<std::string> got;
    client.query(local(server), "a.test", dns::rrtype::A, {}, [&](DnsResult r) { got.push_back(r.server.to_string()); });
    client.query(local(second), "a.test", dns::rrtype::A, {}, [&](DnsResult r) { got.push_back(r.server.to_string()); });
    client.run(Clock::now() + 5s);
    REQUIRE(got.size() == 2);
    CHECK(server.udp_queries() == 1);
    CHECK(second.udp_queries() == 1);
  }
}

TEST_CASE("DnsClient::query over IPv6") {
  if (!TestDnsServer::ipv6_available()) {
    MESSAGE("no IPv6 loopback here; skipped");
    return;
  }
  TestDnsServer server("::1");
  DnsClient client(fast());
  DnsServer s = parse_server("[::1]:" + std::to_string(server.port()));
  DnsResult r = ask(client, s, "a.example.test");
  CHECK(r.status == Status::response);
  REQUIRE(r.response.has_value());
  CHECK(r.response->answer.size() == 1);
  DnsResult big = ask(client, s, "big.example.test", dns::rrtype::TXT);
  CHECK(big.status == Status::response);
  REQUIRE(big.response.has_value());
  CHECK(big.response->answer.size() == 200);
  CHECK(server.tcp_queries() == 1);
}

// In a batch (SharedProbes): one question asked once for every client, the server's query rate
// kept, and a query the deadline finds waiting for that rate recorded as not sent (our side).
TEST_CASE("DnsClient: clients sharing SharedProbes ask the same question once") {
  TestDnsServer server;
  auto shared = std::make_shared<SharedProbes>();
  auto options = fast();
  options.attempt_timeout = 2s;  // longer than the slow answer's 300 ms: one packet
  options.shared = shared;
  DnsClient first(options), second(options);
  dns::QueryFlags flags;
  flags.recursion_desired = false;
  std::vector<DnsResult> a, b;
  // "slow": the answer comes after 300 ms, so the second client asks while the first waits.
  first.query(local(server), "slow.example", dns::rrtype::A, flags, [&](DnsResult r) { a.push_back(std::move(r)); });
  std::thread t([&] { first.run(Clock::now() + 5s); });
  std::this_thread::sleep_for(50ms);
  second.query(local(server), "slow.example", dns::rrtype::A, flags, [&](DnsResult r) { b.push_back(std::move(r)); });
  second.run(Clock::now() + 5s);
  t.join();
  REQUIRE(a.size() == 1);
  REQUIRE(b.size() == 1);
  CHECK(server.udp_queries() == 1);
  CHECK(first.queries_sent() == 1);
  CHECK(second.queries_sent() == 0);
  CHECK(second.answers_shared() == 1);
  CHECK(b[0].status == Status::response);
  REQUIRE(b[0].response);
  REQUIRE(b[0].response->answer.size() == 1);
  CHECK(b[0].response->answer[0].data == "192.0.2.1");
  CHECK(b[0].server == local(server));
  // Later, within the TTL: from the shared answers, no packet.
  DnsClient third(options);
  CHECK(ask(third, local(server), "slow.example", dns::rrtype::A, flags).status == Status::response);
  CHECK(server.udp_queries() == 1);
  // Another question, or the same one with other flags, is asked.
  CHECK(ask(third, local(server), "slow.example", dns::rrtype::A, {}).status == Status::response);
  CHECK(server.udp_queries() == 2);
  // A failure is not shared: each client learns it for itself.
  DnsClient fourth(options), fifth(options);
  CHECK(ask(fourth, local(server), "servfail.example").status == Status::response);
  CHECK(ask(fifth, local(server), "servfail.example").status == Status::response);
  CHECK(fifth.queries_sent() == 1);
}

TEST_CASE("DnsClient: a batch's query rate per server") {
  TestDnsServer server;
  PolitenessLimits limits;
  limits.dns_qps = 10;  // a burst of one, then one query every 100 ms
  auto shared = std::make_shared<SharedProbes>(limits);
  auto options = fast();
  options.shared = shared;
  DnsClient client(options);
  dns::QueryFlags flags;
  flags.recursion_desired = false;
  std::vector<DnsResult> got;
  for (int i = 0; i < 5; ++i)
    client.query(local(server), "a.n" + std::to_string(i) + ".example", dns::rrtype::A, flags,
                 [&](DnsResult r) { got.push_back(std::move(r)); });
  const auto start = Clock::now();
  client.run(start + 5s);
  const auto took = Clock::now() - start;
  REQUIRE(got.size() == 5);
  for (const auto& r : got) CHECK(r.status == Status::response);
  CHECK(took >= 390ms);
  CHECK(server.udp_queries() == 5);

  // Questions with recursion go to a resolver, which has no limit by default.
  DnsClient resolver_client(options);
  dns::QueryFlags rd;
  for (int i = 0; i < 5; ++i)
    resolver_client.query(local(server), "a.r" + std::to_string(i) + ".example", dns::rrtype::A, rd, [](DnsResult) {});
  const auto start_rd = Clock::now();
  resolver_client.run(start_rd + 5s);
  CHECK(Clock::now() - start_rd < 300ms);

  // The deadline comes while queries wait for the rate: not sent, and why.
  limits.dns_qps = 1;
  auto slow = std::make_shared<SharedProbes>(limits);
  options.shared = slow;
  DnsClient late(options);
  std::vector<DnsResult> out;
  for (int i = 0; i < 3; ++i)
    late.query(local(server), "a.d" + std::to_string(i) + ".example", dns::rrtype::A, flags,
               [&](DnsResult r) { out.push_back(std::move(r)); });
  late.run(Clock::now() + 300ms);
  REQUIRE(out.size() == 3);
  int not_sent = 0;
  for (const auto& r : out)
    if (r.status == Status::not_sent) {
      ++not_sent;
      CHECK(r.error.find("query rate limit") != std::string::npos);
    }
  CHECK(not_sent == 2);
  CHECK(late.queries_sent() == 1);
}

namespace {

// Drives a shared loop as probe::Engine does (step, one poll, process) until `done` or 10 s.
void drive(DnsLoop& loop, const std::function<bool()>& done) {
  const auto give_up = Clock::now() + 10s;
  while (!done() && Clock::now() < give_up) {
    const auto wake = loop.step();
    if (done()) break;
    std::vector<pollfd> fds;
    int timeout_ms = 50;
    if (wake != Clock::time_point::max())
      timeout_ms = static_cast<int>(std::clamp<long long>(
          std::chrono::ceil<std::chrono::milliseconds>(wake - Clock::now()).count(), 0, 50));
    loop.prepare(fds, timeout_ms);
    if (::poll(fds.data(), fds.size(), timeout_ms) < 0)
      for (auto& f : fds) f.revents = 0;
    loop.process(fds, 0);
  }
}

// Options of the checks of one batch: shared answers, one packet per question (2 s attempts).
DnsClient::Options sharing(std::shared_ptr<SharedProbes> shared) {
  auto options = fast();
  options.attempt_timeout = 2s;
  options.shared = std::move(shared);
  return options;
}

dns::QueryFlags no_recursion() {
  dns::QueryFlags flags;
  flags.recursion_desired = false;
  return flags;
}

} // namespace

TEST_CASE("DnsLoop: clients of several checks on one loop, each under its own deadline") {
  TestDnsServer server;
  DnsLoop loop;
  DnsClient::Options slow_tries;
  slow_tries.attempt_timeout = 5000ms;
  slow_tries.tries = 2;
  // A: a short deadline and a server that never answers; B: a long deadline, a slow answer.
  DnsClient::Options patient;
  patient.attempt_timeout = 2000ms;
  DnsClient a(slow_tries, loop), b(patient, loop);
  const auto start = Clock::now();
  a.set_deadline(start + 400ms);
  b.set_deadline(start + 5s);
  std::vector<DnsResult> got_a, got_b;
  a.query(local(server), "silent.a.test", dns::rrtype::A, {}, [&](DnsResult r) { got_a.push_back(r); });
  b.query(local(server), "slow.b.test", dns::rrtype::A, {}, [&](DnsResult r) { got_b.push_back(r); });
  b.query(local(server), "a.b.test", dns::rrtype::A, {}, [&](DnsResult r) { got_b.push_back(r); });
  CHECK(a.pending() == 1);
  CHECK(b.pending() == 2);
  double a_done_ms = 0;
  drive(loop, [&] {
    if (a.pending() == 0 && a_done_ms == 0)
      a_done_ms = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
    return a.pending() == 0 && b.pending() == 0;
  });
  REQUIRE(got_a.size() == 1);
  REQUIRE(got_b.size() == 2);
  // A ends at its own deadline, long before its 5 s attempt: a timeout on our side.
  CHECK(got_a[0].status == Status::timeout);
  CHECK(got_a[0].error == "no response before the deadline");
  CHECK(a_done_ms >= 390);
  CHECK(a_done_ms < 2000);
  // B is untouched by A's deadline: both answered.
  CHECK(got_b[0].status == Status::response);
  CHECK(got_b[1].status == Status::response);
  CHECK(a.queries_sent() == 1);
  CHECK(b.queries_sent() == 2);
  CHECK(loop.idle());
}

TEST_CASE("DnsLoop: a client that goes away takes its questions with it, the others go on") {
  TestDnsServer server;
  DnsLoop loop;
  auto gone = std::make_unique<DnsClient>(fast(), loop);
  DnsClient stays(fast(), loop);
  gone->set_deadline(Clock::now() + 5s);
  stays.set_deadline(Clock::now() + 5s);
  int gone_callbacks = 0;
  std::vector<DnsResult> got;
  gone->query(local(server), "slow.gone.test", dns::rrtype::A, {}, [&](DnsResult) { ++gone_callbacks; });
  gone->query(local(server), "a.gone.test", dns::rrtype::A, {}, [&](DnsResult) { ++gone_callbacks; });
  stays.query(local(server), "slow.stays.test", dns::rrtype::A, {}, [&](DnsResult r) { got.push_back(r); });
  loop.step();  // everything sent
  gone.reset();
  drive(loop, [&] { return stays.pending() == 0 && loop.idle(); });
  CHECK(gone_callbacks == 0);
  REQUIRE(got.size() == 1);
  CHECK(got[0].status == Status::response);
}

TEST_CASE("DnsLoop: a check waiting for another's identical question is answered in the step its answer comes") {
  TestDnsServer server;
  DnsLoop loop;
  const auto options = sharing(std::make_shared<SharedProbes>());
  const auto flags = no_recursion();
  DnsClient asker(options, loop), waiter(options, loop);
  asker.set_deadline(Clock::now() + 5s);
  waiter.set_deadline(Clock::now() + 5s);
  std::vector<DnsResult> a, b;
  // "slow": answered after 300 ms; the waiter's question finds the asker's in flight.
  asker.query(local(server), "slow.example", dns::rrtype::A, flags, [&](DnsResult r) { a.push_back(std::move(r)); });
  loop.step();
  waiter.query(local(server), "slow.example", dns::rrtype::A, flags, [&](DnsResult r) { b.push_back(std::move(r)); });
  loop.step();
  CHECK(waiter.pending() == 1);
  // Woken by the answer, not by looking again later: never a step with the one answered and
  // the other still waiting.
  bool apart = false;
  drive(loop, [&] {
    if (a.size() != b.size()) apart = true;
    return !a.empty() && !b.empty();
  });
  CHECK_FALSE(apart);
  REQUIRE(a.size() == 1);
  REQUIRE(b.size() == 1);
  CHECK(b[0].status == Status::response);
  CHECK(server.udp_queries() == 1);
  CHECK(waiter.queries_sent() == 0);
  CHECK(waiter.answers_shared() == 1);
  CHECK(loop.idle());
}

TEST_CASE("DnsLoop: when the check asking a shared question ends without an answer, a waiting check asks it itself") {
  TestDnsServer server;
  DnsLoop loop;
  const auto options = sharing(std::make_shared<SharedProbes>());
  const auto flags = no_recursion();
  DnsClient asker(options, loop), waiter(options, loop);
  const auto start = Clock::now();
  asker.set_deadline(start + 200ms);  // ends its question unanswered, at its own deadline
  waiter.set_deadline(start + 1s);
  std::vector<DnsResult> a, b;
  asker.query(local(server), "silent.example", dns::rrtype::A, flags, [&](DnsResult r) { a.push_back(std::move(r)); });
  loop.step();
  waiter.query(local(server), "silent.example", dns::rrtype::A, flags, [&](DnsResult r) { b.push_back(std::move(r)); });
  loop.step();
  CHECK(waiter.queries_sent() == 0);
  std::size_t waiter_sent_when_asker_ended = 99;
  drive(loop, [&] {
    if (!a.empty() && waiter_sent_when_asker_ended == 99) waiter_sent_when_asker_ended = waiter.queries_sent();
    return !b.empty();
  });
  REQUIRE(a.size() == 1);
  CHECK(a[0].status == Status::timeout);
  // The asker's timeout is not handed on: the waiter asked the server itself, at once.
  CHECK(waiter_sent_when_asker_ended == 1);
  REQUIRE(b.size() == 1);
  CHECK(b[0].status == Status::timeout);
  CHECK(waiter.queries_sent() == 1);
  CHECK(server.udp_queries() == 2);
}
