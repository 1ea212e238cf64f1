// The probe policy of the service: which addresses a check may connect to, every class and the
// IPv6 forms that carry an IPv4 address; and the DNS client refusing a server the policy refuses.
#include "probe/address_policy.hpp"
#include "probe/dns_client.hpp"

#include "test_server.hpp"

#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <chrono>
#include <cstring>
#include <fstream>
#include <regex>
#include <string>
#include <vector>

using namespace certdoctor::probe;
using certdoctor::test::TestDnsServer;
using Mode = AddressPolicy::Mode;
using namespace std::chrono_literals;

namespace {

struct Case {
  const char* address;
  const char* kind;  // "" = public
};

// One address of every class, with the class the policy names.
const std::vector<Case> kCases = {
    {"8.8.8.8", ""},
    {"1.1.1.1", ""},
    {"203.0.112.255", ""},
    {"2606:4700::1111", ""},
    {"2a00:1450:4001::1", ""},
    {"127.0.0.1", "loopback"},
    {"127.255.255.254", "loopback"},
    {"::1", "loopback"},
    {"0.0.0.0", "this-network"},
    {"0.1.2.3", "this-network"},
    {"::", "unspecified"},
    {"10.0.0.1", "private"},
    {"172.16.0.1", "private"},
    {"172.31.255.255", "private"},
    {"192.168.1.1", "private"},
    {"fd00::1", "private"},
    {"fc00::1", "private"},
    {"100.64.0.1", "shared"},
    {"100.127.255.254", "shared"},
    {"169.254.169.254", "metadata"},
    {"169.254.0.1", "link-local"},
    {"fe80::1", "link-local"},
    {"febf::1", "link-local"},
    {"fec0::1", "site-local"},
    {"192.0.2.1", "documentation"},
    {"198.51.100.7", "documentation"},
    {"203.0.113.10", "documentation"},
    {"2001:db8::1", "documentation"},
    {"3fff::1", "documentation"},
    {"224.0.0.1", "multicast"},
    {"239.255.255.250", "multicast"},
    {"ff02::1", "multicast"},
    {"240.0.0.1", "reserved"},
    {"255.255.255.255", "broadcast"},
    {"198.18.0.1", "benchmarking"},
    {"192.0.0.1", "protocol-assignment"},
    {"192.88.99.1", "reserved"},
    {"100::1", "discard"},
    {"2001::1", "teredo"},
    {"2001:2::1", "protocol-assignment"},
    {"2002:7f00:1::1", "6to4"},
    {"4000::1", "reserved"},
    {"::ffff:127.0.0.1", "ipv4-mapped loopback"},
    {"::ffff:7f00:1", "ipv4-mapped loopback"},
    {"::ffff:169.254.169.254", "ipv4-mapped metadata"},
    {"::ffff:10.1.2.3", "ipv4-mapped private"},
    {"::ffff:192.0.2.1", "ipv4-mapped documentation"},
    {"::ffff:8.8.8.8", "ipv4-mapped"},
    {"::127.0.0.1", "ipv4-compatible loopback"},
    {"::8.8.8.8", "ipv4-compatible"},
    {"64:ff9b::127.0.0.1", "nat64 loopback"},
    {"64:ff9b::a9fe:a9fe", "nat64 metadata"},
    {"64:ff9b::10.0.0.1", "nat64 private"},
    {"64:ff9b::8.8.8.8", "nat64"},
    {"64:ff9b:1::1", "nat64"},
    {"[::1]", "loopback"},
    {"localhost", "not-an-address"},
    {"127.1", "not-an-address"},
    {"0x7f.0.0.1", "not-an-address"},
    {"2130706433", "not-an-address"},
    {"fe80::1%eth0", "not-an-address"},
    {" 8.8.8.8", "not-an-address"},
    {"", "not-an-address"},
};

sockaddr_in v4(const char* text) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  REQUIRE(inet_pton(AF_INET, text, &a.sin_addr) == 1);
  return a;
}

sockaddr_in6 v6(const char* text, unsigned scope = 0) {
  sockaddr_in6 a{};
  a.sin6_family = AF_INET6;
  a.sin6_scope_id = scope;
  REQUIRE(inet_pton(AF_INET6, text, &a.sin6_addr) == 1);
  return a;
}

}  // namespace

TEST_CASE("probe::AddressPolicy classes") {
  for (const auto& c : kCases) {
    CAPTURE(c.address);
    CHECK(AddressPolicy::classify(c.address) == c.kind);
  }
}

TEST_CASE("probe::AddressPolicy internet refuses every special class") {
  const AddressPolicy open(Mode::open), internet(Mode::internet);
  CHECK_FALSE(open.restricts());
  CHECK(internet.restricts());
  for (const auto& c : kCases) {
    CAPTURE(c.address);
    CHECK(open.refusal(c.address).empty());
    CHECK(internet.refusal(c.address) == c.kind);
  }
}

TEST_CASE("probe::AddressPolicy lab admits the documentation blocks and nothing else") {
  const AddressPolicy lab(Mode::lab);
  for (const auto& c : kCases) {
    CAPTURE(c.address);
    const std::string kind = c.kind;
    if (kind == "documentation")
      CHECK(lab.refusal(c.address).empty());
    else
      CHECK(lab.refusal(c.address) == kind);
  }
  // The lab's own addresses pass; their mapped and NAT64 forms do not.
  CHECK(lab.refusal("203.0.113.10").empty());
  CHECK(lab.refusal("2001:db8:10::10").empty());
  CHECK(lab.refusal("::ffff:203.0.113.10") == "ipv4-mapped documentation");
  CHECK(lab.refusal("64:ff9b::203.0.113.10") == "nat64 documentation");
  for (const char* never : {"127.0.0.1", "::1", "10.0.0.1", "192.168.0.1", "169.254.169.254", "fe80::1", "100.64.0.1"}) {
    CAPTURE(never);
    CHECK_FALSE(lab.refusal(never).empty());
  }
}

TEST_CASE("probe::AddressPolicy socket addresses") {
  const AddressPolicy internet(Mode::internet), lab(Mode::lab);
  auto check4 = [&](const AddressPolicy& p, const char* text) {
    const auto a = v4(text);
    return p.refusal(reinterpret_cast<const sockaddr*>(&a), sizeof a);
  };
  auto check6 = [&](const AddressPolicy& p, const char* text, unsigned scope = 0) {
    const auto a = v6(text, scope);
    return p.refusal(reinterpret_cast<const sockaddr*>(&a), sizeof a);
  };
  CHECK(check4(internet, "8.8.8.8").empty());
  CHECK(check4(internet, "127.0.0.1") == "loopback");
  CHECK(check4(internet, "169.254.169.254") == "metadata");
  CHECK(check4(lab, "192.0.2.53").empty());
  CHECK(check4(lab, "10.1.1.1") == "private");
  CHECK(check6(internet, "2606:4700::1111").empty());
  CHECK(check6(internet, "::ffff:127.0.0.1") == "ipv4-mapped loopback");
  CHECK(check6(internet, "64:ff9b::7f00:1") == "nat64 loopback");
  CHECK(check6(lab, "2001:db8::53").empty());
  // A scoped address is refused even when the address itself would pass.
  CHECK(check6(lab, "2001:db8::53", 2) == "link-local");
  CHECK(check6(internet, "fe80::1", 2) == "link-local");
  // A short length, another family, nothing at all.
  const auto a = v4("8.8.8.8");
  CHECK(internet.refusal(reinterpret_cast<const sockaddr*>(&a), 4) == "not-an-address");
  sockaddr unix_family{};
  unix_family.sa_family = AF_UNIX;
  CHECK(internet.refusal(&unix_family, sizeof unix_family) == "not-an-address");
  CHECK(internet.refusal(nullptr, 0) == "not-an-address");
  CHECK(AddressPolicy(Mode::open).refusal(nullptr, 0).empty());
}

TEST_CASE("probe::AddressPolicy refuses every block of the special-purpose registry") {
  // rules/data/special-purpose.yaml is the registry the view classifies with; the policy's table
  // is code, and must refuse the first address of every block listed there.
  std::ifstream in(std::string(CERTDOCTOR_SOURCE_RULES_DIR) + "/data/special-purpose.yaml");
  REQUIRE(in);
  const std::regex block(R"re(block:\s*"?([0-9a-fA-F:.]+)/(\d+)"?)re");
  const AddressPolicy internet(Mode::internet);
  int seen = 0;
  for (std::string line; std::getline(in, line);) {
    std::smatch m;
    if (!std::regex_search(line, m, block)) continue;
    ++seen;
    CAPTURE(line);
    CHECK_FALSE(internet.refusal(m[1].str()).empty());
  }
  CHECK(seen > 40);
}

TEST_CASE("probe::DnsClient refuses a server its policy refuses") {
  TestDnsServer server;
  DnsClient::Options o;
  o.attempt_timeout = 300ms;
  o.tries = 2;
  const AddressPolicy internet(Mode::internet);
  o.refuse = [&](const DnsServer& s) { return internet.refusal(s.address); };
  DnsClient client(o);
  std::vector<DnsResult> got;
  client.query(DnsServer{"127.0.0.1", server.port()}, "a.example.test", 1, {}, [&](DnsResult r) { got.push_back(r); });
  client.run(std::chrono::steady_clock::now() + 5s);
  REQUIRE(got.size() == 1);
  CHECK(got[0].status == DnsResult::Status::not_allowed);
  CHECK(to_string(got[0].status) == "not_allowed");
  CHECK(got[0].error.find("127.0.0.1 is loopback") != std::string::npos);
  CHECK(client.queries_sent() == 0);
  CHECK(server.udp_queries() == 0);

  // The same server without the policy is asked: the test server is real.
  DnsClient open(DnsClient::Options{});
  std::vector<DnsResult> got2;
  open.query(DnsServer{"127.0.0.1", server.port()}, "a.example.test", 1, {}, [&](DnsResult r) { got2.push_back(r); });
  open.run(std::chrono::steady_clock::now() + 5s);
  REQUIRE(got2.size() == 1);
  CHECK(got2[0].status == DnsResult::Status::response);
  CHECK(server.udp_queries() >= 1);
}
