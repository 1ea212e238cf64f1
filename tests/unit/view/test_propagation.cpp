// Propagation (src/view/propagation): the resolver's cached answers against what the zone's
// authoritative servers say now, the time left until the cache runs out, and the rule over it.
#include <doctest/doctest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "shipped.hpp"
#include "facts/facts.hpp"
#include "rules/engine.hpp"
#include "view/derive.hpp"
#include "view/propagation.hpp"

using namespace certdoctor;
using nlohmann::json;

namespace {

const std::vector<std::string> kNames = {"example.jp", "www.example.jp"};
const std::vector<std::string> kServers = {"ns1.example.net", "ns2.example.net"};

facts::RecordFact rec(const std::string& name, const std::string& type, std::uint32_t ttl, const std::string& data) {
  return facts::RecordFact{name, type, ttl, data};
}

// A lookup with `records` in the answer (none: NODATA) and `authority`.
facts::Lookup lookup(const std::string& qname, const std::string& qtype, std::vector<facts::RecordFact> records,
                     bool authoritative, std::vector<facts::RecordFact> authority = {}) {
  facts::Lookup l;
  l.server = authoritative ? "192.0.2.101" : "192.0.2.53";
  l.qname = qname;
  l.qtype = qtype;
  l.recursion_desired = !authoritative;
  l.aa = authoritative;
  l.rcode = "NOERROR";
  l.outcome = records.empty() ? "nodata" : "answer";
  l.answer = std::move(records);
  l.authority = std::move(authority);
  return l;
}

const facts::RecordFact kZoneSoa = rec("example.jp", "SOA", 3600, "ns1.example.net. host.example.jp. 1 3600 900 604800 900");

/// example.jp and www.example.jp at 203.0.113.10 (TTL 300) through the resolver and at both
/// authoritative servers, no AAAA, no CAA; the parent's referral has NS TTL 86400.
facts::Facts agreeing() {
  facts::Facts f;
  f.collected_at = "2026-11-23T12:00:00Z";
  f.domain = f.domain_display = f.registered_domain = "example.jp";
  f.public_suffix = "jp";
  f.request.input = "example.jp";
  f.request.resolvers = {"192.0.2.53"};
  for (const auto& name : kNames) {
    facts::NameFacts n;
    n.name = n.display = name;
    n.role = name == "example.jp" ? "main" : "www";
    n.a = lookup(name, "A", {rec(name, "A", 300, "203.0.113.10")}, false);
    n.aaaa = lookup(name, "AAAA", {}, false, {kZoneSoa});
    n.caa = {lookup(name, "CAA", {}, false, {kZoneSoa})};
    if (name != "example.jp") n.caa.push_back(lookup("example.jp", "CAA", {}, false, {kZoneSoa}));
    n.caa.push_back(lookup("jp", "CAA", {}, false));
    f.names.push_back(std::move(n));
  }
  auto& d = f.delegation;
  d.zone = "example.jp";
  d.status = "delegated";
  d.parent_zone = "jp";
  d.parent_ns = d.child_ns = kServers;
  facts::Lookup referral = lookup("example.jp", "NS", {}, false);
  referral.recursion_desired = false;
  for (const auto& ns : kServers) referral.authority.push_back(rec("example.jp", "NS", 86400, ns));
  d.walk = {facts::WalkStep{".", {}}, facts::WalkStep{"jp", referral}};
  for (const auto& ns : kServers) {
    facts::ServerFacts s;
    s.name = ns;
    s.address = ns == kServers[0] ? "192.0.2.101" : "192.0.2.102";
    s.address_source = "glue";
    s.in_parent = s.in_child = true;
    s.soa = lookup("example.jp", "SOA", {kZoneSoa}, true);
    std::vector<facts::RecordFact> ns_records;
    for (const auto& n : kServers) ns_records.push_back(rec("example.jp", "NS", 3600, n));
    s.ns = lookup("example.jp", "NS", ns_records, true);
    for (const auto& name : kNames) {
      s.records.push_back(lookup(name, "A", {rec(name, "A", 300, "203.0.113.10")}, true));
      s.records.push_back(lookup(name, "AAAA", {}, true, {kZoneSoa}));
      s.records.push_back(lookup(name, "CAA", {}, true, {kZoneSoa}));
    }
    d.servers.push_back(std::move(s));
  }
  d.resolver_ns = lookup("example.jp", "NS", {rec("example.jp", "NS", 3000, kServers[0]), rec("example.jp", "NS", 3000, kServers[1])}, false);
  return f;
}

// Every authoritative answer for `name`/`type` replaced by `records` (none: NODATA with the SOA).
void zone_says(facts::Facts& f, const std::string& name, const std::string& type, std::vector<facts::RecordFact> records) {
  for (auto& s : f.delegation.servers)
    for (auto& l : s.records)
      if (l.qname == name && l.qtype == type) l = lookup(name, type, records, true, records.empty() ? std::vector{kZoneSoa} : std::vector<facts::RecordFact>{});
}

json view_of(const facts::Facts& f) {
  return view::derive(f, view::DeriveContext{test::shipped_data(), test::classifier()});
}

std::vector<rules::Finding> findings_of(const json& v, const std::string& id) {
  std::vector<rules::Finding> out;
  for (auto& f : rules::evaluate(test::catalogue(), v))
    if (f.id == id) out.push_back(f);
  return out;
}

} // namespace

TEST_CASE("view::propagation: no difference between resolver and zone gives no entry") {
  const json v = view_of(agreeing());
  CHECK(v["propagation"].empty());
  for (const auto& n : v["names"]) CHECK_FALSE(n["propagation"]["pending"].get<bool>());
  CHECK(findings_of(v, "dns-not-propagated").empty());
}

TEST_CASE("view::propagation: a changed address still cached gives the resolver's TTL and the zone's") {
  facts::Facts f = agreeing();
  // The resolver still holds the old address for 120 s; the zone now gives the host at TTL 300.
  f.names[0].a = lookup("example.jp", "A", {rec("example.jp", "A", 120, "198.51.100.77")}, false);
  const json v = view_of(f);
  REQUIRE(v["propagation"].size() == 1);
  const json& e = v["propagation"][0];
  CHECK(e["name"] == "example.jp");
  CHECK(e["type"] == "A");
  CHECK(e["cached"] == json::array({"198.51.100.77"}));
  CHECK(e["zone"] == json::array({"203.0.113.10"}));
  CHECK(e["basis"] == "ttl");
  CHECK(e["remaining_seconds"] == 120);
  CHECK(e["visible_at"] == "2026-11-23T12:02:00Z");
  CHECK(e["longest_seconds"] == 300);
  CHECK(e["wait_minutes"] == 5);
  CHECK(e["latest_at"] == "2026-11-23T12:05:00Z");
  CHECK(e["servers"] == json(kServers));
  CHECK(v["names"][0]["propagation"]["pending"].get<bool>());
  CHECK(v["names"][0]["propagation"]["latest_at"] == "2026-11-23T12:05:00Z");
  CHECK_FALSE(v["names"][1]["propagation"]["pending"].get<bool>());

  const auto found = findings_of(v, "dns-not-propagated");
  REQUIRE(found.size() == 1);
  CHECK(found[0].variant == "changed");
  CHECK(found[0].severity == rules::Severity::warning);
  CHECK(found[0].arguments["latest_at"] == "2026-11-23T12:05:00Z");
  CHECK(found[0].arguments["minutes"] == 5);
  CHECK(found[0].arguments["cached"] == "198.51.100.77");
  CHECK(found[0].arguments["zone_answer"] == "203.0.113.10");
}

TEST_CASE("view::propagation: a-not-host over a cached answer says the fix is made when the zone gives the host") {
  facts::Facts f = agreeing();
  f.request.server_ips = {"203.0.113.10"};
  f.names[0].a = lookup("example.jp", "A", {rec("example.jp", "A", 120, "198.51.100.77")}, false);
  json v = view_of(f);
  CHECK(v["names"][0]["propagation"]["zone_on_host"].get<bool>());
  auto found = findings_of(v, "a-not-host");
  REQUIRE(found.size() == 1);
  CHECK(found[0].variant == "fixed-pending");
  CHECK(found[0].arguments["latest_at"] == "2026-11-23T12:05:00Z");

  // The zone now gives another address that is not the host either: a plain a-not-host.
  zone_says(f, "example.jp", "A", {rec("example.jp", "A", 300, "198.51.100.78")});
  v = view_of(f);
  CHECK_FALSE(v["names"][0]["propagation"]["zone_on_host"].get<bool>());
  found = findings_of(v, "a-not-host");
  REQUIRE(found.size() == 1);
  CHECK(found[0].variant == "certain");
}

TEST_CASE("view::propagation: a record that was missing waits for the negative-caching time of the SOA") {
  facts::Facts f = agreeing();
  // The resolver cached "no AAAA" with the SOA at TTL 1200 left, more than MINIMUM 900:
  // RFC 2308 keeps a negative answer at most MINIMUM.
  f.names[1].aaaa = lookup("www.example.jp", "AAAA", {}, false,
                           {rec("example.jp", "SOA", 1200, "ns1.example.net. host.example.jp. 1 3600 900 604800 900")});
  zone_says(f, "www.example.jp", "AAAA", {rec("www.example.jp", "AAAA", 300, "2001:db8:10::10")});
  json v = view_of(f);
  REQUIRE(v["propagation"].size() == 1);
  CHECK(v["propagation"][0]["type"] == "AAAA");
  CHECK(v["propagation"][0]["cached_missing"].get<bool>());
  CHECK(v["propagation"][0]["basis"] == "negative-ttl");
  CHECK(v["propagation"][0]["remaining_seconds"] == 900);
  CHECK(v["propagation"][0]["longest_seconds"] == 900);  // the zone's SOA: min(3600, 900)
  CHECK(v["propagation"][0]["latest_at"] == "2026-11-23T12:15:00Z");
  auto found = findings_of(v, "dns-not-propagated");
  REQUIRE(found.size() == 1);
  CHECK(found[0].variant == "was-missing");

  // Less left in the resolver's cache than MINIMUM: the SOA's own (decremented) TTL counts.
  f.names[1].aaaa.authority[0].ttl = 42;
  v = view_of(f);
  REQUIRE(v["propagation"].size() == 1);
  CHECK(v["propagation"][0]["remaining_seconds"] == 42);
  CHECK(v["propagation"][0]["visible_at"] == "2026-11-23T12:00:42Z");
  CHECK(v["propagation"][0]["longest_seconds"] == 900);
}

TEST_CASE("view::propagation: a removed CAA record still cached at a level of the zone") {
  facts::Facts f = agreeing();
  const std::string forbids = "0 issue \"pki.goog\"";
  for (auto& n : f.names)
    for (auto& l : n.caa)
      if (l.qname == "example.jp") l = lookup("example.jp", "CAA", {rec("example.jp", "CAA", 200, forbids)}, false);
  const json v = view_of(f);
  REQUIRE(v["propagation"].size() == 1);  // one entry, though both names climb through example.jp
  CHECK(v["propagation"][0]["type"] == "CAA");
  CHECK(v["propagation"][0]["zone_missing"].get<bool>());
  CHECK(v["propagation"][0]["remaining_seconds"] == 200);
  // Both names are concerned: www.example.jp's CAA climb reaches example.jp.
  CHECK(v["names"][0]["propagation"]["pending"].get<bool>());
  CHECK(v["names"][1]["propagation"]["pending"].get<bool>());
  const auto found = findings_of(v, "dns-not-propagated");
  REQUIRE(found.size() == 1);
  CHECK(found[0].variant == "removed");
}

TEST_CASE("view::propagation: a nameserver change waits for the parent's NS TTL") {
  facts::Facts f = agreeing();
  // The resolver still uses the old provider's nameservers; the registry and the new servers
  // name ns1/ns2.example.net.
  f.delegation.resolver_ns = lookup("example.jp", "NS", {rec("example.jp", "NS", 250, "ns1.old.example"), rec("example.jp", "NS", 250, "ns2.old.example")}, false);
  json v = view_of(f);
  REQUIRE(v["propagation"].size() == 1);
  const json& e = v["propagation"][0];
  CHECK(e["type"] == "NS");
  CHECK(e["cached"] == json::array({"ns1.old.example", "ns2.old.example"}));
  CHECK(e["zone"] == json(kServers));
  CHECK(e["basis"] == "parent-ns-ttl");
  CHECK(e["remaining_seconds"] == 86400);
  CHECK(e["wait_hours"] == 24);
  CHECK(e["latest_at"] == "2026-11-24T12:00:00Z");
  for (const auto& n : v["names"]) CHECK(n["propagation"]["pending"].get<bool>());
  const auto found = findings_of(v, "dns-not-propagated");
  REQUIRE(found.size() == 1);
  CHECK(found[0].variant == "nameservers");
  CHECK(found[0].arguments["hours"] == 24);

  // The resolver's set is the one the delegated servers serve themselves (the parent and the
  // zone disagree, a standing mismatch): nothing is propagating.
  for (auto& s : f.delegation.servers)
    s.ns = lookup("example.jp", "NS", {rec("example.jp", "NS", 3600, "ns1.old.example"), rec("example.jp", "NS", 3600, "ns2.old.example")}, true);
  v = view_of(f);
  CHECK(v["propagation"].empty());
}

TEST_CASE("view::propagation: nothing is compared without a single answer of the zone or a usable resolver") {
  SUBCASE("the authoritative servers disagree") {
    facts::Facts f = agreeing();
    f.names[0].a = lookup("example.jp", "A", {rec("example.jp", "A", 120, "198.51.100.77")}, false);
    f.delegation.servers[1].records[0] = lookup("example.jp", "A", {rec("example.jp", "A", 300, "198.51.100.77")}, true);
    CHECK(view_of(f)["propagation"].empty());
  }
  SUBCASE("a server without authority is not the zone") {
    facts::Facts f = agreeing();
    f.names[0].a = lookup("example.jp", "A", {rec("example.jp", "A", 120, "198.51.100.77")}, false);
    for (auto& s : f.delegation.servers) s.records[0].aa = false;
    CHECK(view_of(f)["propagation"].empty());
  }
  SUBCASE("facts written before the zone's records were asked") {
    facts::Facts f = agreeing();
    f.names[0].a = lookup("example.jp", "A", {rec("example.jp", "A", 120, "198.51.100.77")}, false);
    for (auto& s : f.delegation.servers) s.records.clear();
    f.delegation.resolver_ns = facts::Lookup{};
    CHECK(view_of(f)["propagation"].empty());
  }
  SUBCASE("the resolver failed") {
    facts::Facts f = agreeing();
    f.names[0].a.outcome = "servfail";
    f.names[0].a.rcode = "SERVFAIL";
    f.names[0].a.answer.clear();
    CHECK(view_of(f)["propagation"].empty());
  }
  SUBCASE("a CNAME the resolver followed to another zone is the same answer") {
    facts::Facts f = agreeing();
    f.names[1].a = lookup("www.example.jp", "A", {rec("www.example.jp", "CNAME", 300, "host.example.net."), rec("host.example.net", "A", 60, "203.0.113.10")}, false);
    zone_says(f, "www.example.jp", "A", {rec("www.example.jp", "CNAME", 300, "host.example.net")});
    CHECK(view_of(f)["propagation"].empty());
  }
}
