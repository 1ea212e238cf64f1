// Whose failure a failed lookup is (src/view/derive): what each recursive resolver of the check
// did, and the rules over it — resolver-unavailable for our side, and no finding that blames the
// domain's DNS when the only evidence is our resolver failing.
#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

#include "shipped.hpp"
#include "facts/facts.hpp"
#include "rules/catalogue.hpp"
#include "rules/engine.hpp"
#include "view/address.hpp"
#include "view/data.hpp"
#include "view/derive.hpp"

using namespace certdoctor;
using nlohmann::json;

namespace {

const std::string kResolver = "192.0.2.53";

using test::catalogue;
using test::classifier;
const view::DataSet& data() { return test::shipped_data(); }

facts::Lookup lookup(const std::string& qname, const std::string& qtype, const std::string& outcome,
                     const std::string& server = kResolver) {
  facts::Lookup l;
  l.server = server;
  l.qname = qname;
  l.qtype = qtype;
  l.outcome = outcome;
  if (outcome == "answer") {
    l.rcode = "NOERROR";
    l.answer = {facts::RecordFact{qname, qtype, 300, qtype == "A" ? "203.0.113.10" : "0 issue \"letsencrypt.org\""}};
  } else if (outcome == "nodata") {
    l.rcode = "NOERROR";
  } else if (outcome == "servfail") {
    l.rcode = "SERVFAIL";
  } else if (outcome == "refused") {
    l.rcode = "REFUSED";
  }
  return l;
}

/// example.jp and www.example.jp, every recursive lookup ending as `names` (A and AAAA of both
/// names, CAA at each name) and `tld` (CAA at jp), delegated to two servers with glue that
/// answer and one without glue whose name did not resolve.
facts::Facts facts_with(const std::string& names, const std::string& tld, const std::string& server = kResolver) {
  facts::Facts f;
  f.collected_at = "2026-11-23T12:00:00Z";
  f.domain = f.domain_display = f.registered_domain = "example.jp";
  f.public_suffix = "jp";
  f.request.input = "example.jp";
  f.request.resolvers = {kResolver};
  f.request.timeout_s = 5;
  for (const std::string name : {"example.jp", "www.example.jp"}) {
    facts::NameFacts n;
    n.name = n.display = name;
    n.role = name == "example.jp" ? "main" : "www";
    n.a = lookup(name, "A", names, server);
    n.aaaa = lookup(name, "AAAA", names == "answer" ? "nodata" : names, server);
    n.caa = {lookup(name, "CAA", names == "answer" ? "nodata" : names, server)};
    if (name == "www.example.jp") n.caa.push_back(lookup("example.jp", "CAA", names == "answer" ? "nodata" : names, server));
    n.caa.push_back(lookup("jp", "CAA", tld, server));
    f.names.push_back(std::move(n));
  }
  f.delegation.zone = "example.jp";
  f.delegation.status = "delegated";
  f.delegation.parent_zone = "jp";
  f.delegation.parent_ns = {"ns1.example.net", "ns2.example.net", "ns3.example.org"};
  for (const std::string ns : {"ns1.example.net", "ns2.example.net"}) {
    facts::ServerFacts s;
    s.name = ns;
    s.address = ns == "ns1.example.net" ? "192.0.2.101" : "192.0.2.102";
    s.address_source = "glue";
    s.in_parent = s.in_child = true;
    s.soa = lookup("example.jp", "SOA", "answer", s.address);
    s.soa.recursion_desired = false;
    s.soa.aa = true;
    s.soa.answer = {facts::RecordFact{"example.jp", "SOA", 300, "ns1.example.net. host.example.jp. 1 2 3 4 5"}};
    f.delegation.servers.push_back(s);
  }
  facts::ServerFacts unresolved;
  unresolved.name = "ns3.example.org";
  unresolved.address_source = "unresolved";
  unresolved.in_parent = true;
  unresolved.soa.qname = "example.jp";
  unresolved.soa.outcome = "not-sent";
  unresolved.soa.recursion_desired = false;
  f.delegation.servers.push_back(unresolved);
  return f;
}

json view_of(const facts::Facts& f) { return view::derive(f, view::DeriveContext{data(), classifier()}); }

std::vector<std::string> fired(const json& view) {
  std::vector<std::string> out;
  for (const auto& f : rules::evaluate(catalogue(), view)) out.push_back(f.variant.empty() ? f.id : f.id + "/" + f.variant);
  return out;
}

bool has(const std::vector<std::string>& v, const std::string& s) { return std::find(v.begin(), v.end(), s) != v.end(); }

bool blames_domain_dns(const std::vector<std::string>& ids) {
  return std::any_of(ids.begin(), ids.end(), [](const std::string& id) {
    for (const char* blame : {"dns-servfail", "caa-lookup-failed", "ns-lame", "domain-nxdomain", "dnssec-bogus", "dns-no-address"})
      if (id.rfind(blame, 0) == 0) return true;
    return false;
  });
}

} // namespace

TEST_CASE("view::derive resolvers: a resolver where nothing listens is our failure") {
  const json v = view_of(facts_with("connection-refused", "connection-refused"));
  CHECK_FALSE(v["resolvers"]["usable"].get<bool>());
  CHECK(v["resolvers"]["cause"] == "no-answer");
  REQUIRE(v["resolvers"]["asked"].size() == 1);
  CHECK(v["resolvers"]["asked"][0]["behaviour"] == "unreachable");
  CHECK(v["resolvers"]["tried"] == json::array({"192.0.2.53: unreachable"}));
  CHECK_FALSE(v["diagnosis"]["complete"].get<bool>());
  for (const auto& n : v["names"]) {
    CHECK(n["status"] == "unknown");
    CHECK(n["failures"].empty());
    CHECK(n["caa"]["verdict"] == "not-checked");
  }
  // The nameserver our resolver could not look up was never asked: not lame.
  CHECK(v["delegation"]["lame_servers"].empty());
  const auto ids = fired(v);
  CHECK(has(ids, "resolver-unavailable/no-answer"));
  CHECK_FALSE(blames_domain_dns(ids));
}

TEST_CASE("view::derive resolvers: a resolver that times out on every question") {
  const json v = view_of(facts_with("timeout", "timeout"));
  CHECK(v["resolvers"]["asked"][0]["behaviour"] == "timeout");
  const auto ids = fired(v);
  CHECK(has(ids, "resolver-unavailable/no-answer"));
  CHECK_FALSE(blames_domain_dns(ids));
}

TEST_CASE("view::derive resolvers: a resolver that refuses is never evidence about the domain") {
  SUBCASE("refuses everything") {
    const json v = view_of(facts_with("refused", "refused"));
    CHECK(v["resolvers"]["cause"] == "refused");
    CHECK(v["resolvers"]["asked"][0]["behaviour"] == "refused");
    const auto ids = fired(v);
    CHECK(has(ids, "resolver-unavailable/refused"));
    CHECK_FALSE(blames_domain_dns(ids));
  }
  SUBCASE("refuses the domain but answers the TLD (an authoritative server asked as a resolver)") {
    const json v = view_of(facts_with("refused", "nodata"));
    CHECK_FALSE(v["resolvers"]["usable"].get<bool>());
    const auto ids = fired(v);
    CHECK(has(ids, "resolver-unavailable/refused"));
    CHECK_FALSE(blames_domain_dns(ids));
  }
}

TEST_CASE("view::derive resolvers: SERVFAIL for the domain while the TLD answers is the domain's") {
  const json v = view_of(facts_with("servfail", "nodata"));
  CHECK(v["resolvers"]["usable"].get<bool>());
  CHECK(v["resolvers"]["asked"][0]["behaviour"] == "answered");
  CHECK(v["diagnosis"]["complete"].get<bool>());
  CHECK(v["names"][0]["status"] == "servfail");
  CHECK(v["names"][0]["failures"].size() == 2);
  const auto ids = fired(v);
  CHECK_FALSE(has(ids, "resolver-unavailable/no-answer"));
  CHECK(std::count_if(ids.begin(), ids.end(), [](const std::string& id) { return id.rfind("dns-servfail", 0) == 0; }) == 2);
  CHECK(std::any_of(ids.begin(), ids.end(), [](const std::string& id) { return id.rfind("caa-lookup-failed", 0) == 0; }));
  // The unresolved nameserver counts as lame once the resolver is known to work.
  CHECK(v["delegation"]["lame_servers"].size() == 1);
}

TEST_CASE("view::derive resolvers: SERVFAIL to everything, the TLD included, is the resolver's") {
  const json v = view_of(facts_with("servfail", "servfail"));
  CHECK(v["resolvers"]["asked"][0]["behaviour"] == "servfail");
  const auto ids = fired(v);
  CHECK(has(ids, "resolver-unavailable/no-answer"));
  CHECK_FALSE(blames_domain_dns(ids));
}

TEST_CASE("view::derive resolvers: questions the deadline kept from being sent") {
  SUBCASE("sent to no server at all") {
    const json v = view_of(facts_with("not-sent", "not-sent", ""));
    CHECK(v["resolvers"]["cause"] == "deadline");
    CHECK(v["resolvers"]["asked"][0]["behaviour"] == "not-asked");
    CHECK(v["resolvers"]["asked"][0]["questions"] == 0);
    const auto ids = fired(v);
    CHECK(has(ids, "resolver-unavailable/deadline"));
    CHECK_FALSE(blames_domain_dns(ids));
  }
  SUBCASE("queued for the resolver, never sent") {
    const json v = view_of(facts_with("not-sent", "not-sent"));
    CHECK(v["resolvers"]["cause"] == "deadline");
    const auto ids = fired(v);
    CHECK(has(ids, "resolver-unavailable/deadline"));
    CHECK_FALSE(blames_domain_dns(ids));
  }
}

TEST_CASE("view::derive resolvers: no resolver configured") {
  auto f = facts_with("error", "error", "");
  f.request.resolvers.clear();
  const json v = view_of(f);
  CHECK(v["resolvers"]["cause"] == "none-configured");
  CHECK(v["resolvers"]["tried"].empty());
  const auto ids = fired(v);
  CHECK(has(ids, "resolver-unavailable/none-configured"));
  CHECK_FALSE(blames_domain_dns(ids));
}

TEST_CASE("view::derive resolvers: a healthy resolver fires nothing of ours") {
  const json v = view_of(facts_with("answer", "nodata"));
  CHECK(v["resolvers"]["usable"].get<bool>());
  CHECK(v["resolvers"]["cause"] == "");
  CHECK(v["diagnosis"]["complete"].get<bool>());
  const auto ids = fired(v);
  CHECK_FALSE(std::any_of(ids.begin(), ids.end(), [](const std::string& id) { return id.rfind("resolver-unavailable", 0) == 0; }));
}

TEST_CASE("view::derive resolvers: a dead first resolver and a working second one") {
  auto f = facts_with("answer", "nodata", "192.0.2.54");
  f.request.resolvers = {kResolver, "192.0.2.54"};
  const json v = view_of(f);
  CHECK(v["resolvers"]["usable"].get<bool>());
  REQUIRE(v["resolvers"]["asked"].size() == 2);
  CHECK(v["resolvers"]["asked"][0]["behaviour"] == "not-asked");
  CHECK(v["resolvers"]["asked"][1]["behaviour"] == "answered");
}

TEST_CASE("view::derive resolvers: nameservers elsewhere are not judged against names we could not look up") {
  auto f = facts_with("connection-refused", "connection-refused");
  f.request.provider = "xserver";
  const auto dead = fired(view_of(f));
  CHECK(has(dead, "resolver-unavailable/no-answer"));
  CHECK_FALSE(std::any_of(dead.begin(), dead.end(), [](const std::string& id) { return id.rfind("ns-not-provider", 0) == 0; }));
  auto healthy = facts_with("answer", "nodata");
  healthy.request.provider = "xserver";
  const auto ids = fired(view_of(healthy));
  CHECK(std::any_of(ids.begin(), ids.end(), [](const std::string& id) { return id.rfind("ns-not-provider", 0) == 0; }));
}

// Our own overload: single questions that our side did not complete while the resolver answered
// the rest (a busy machine, a batch's deadline or per-server limit). None of them is a finding
// against the domain; the diagnosis is incomplete and names them.
namespace {

bool fires(const std::vector<std::string>& ids, const std::string& id) {
  return std::any_of(ids.begin(), ids.end(), [&](const std::string& x) { return x == id || x.rfind(id + "/", 0) == 0; });
}

/// facts_with("answer", "nodata") delegated to its two answering servers only.
facts::Facts healthy() {
  auto f = facts_with("answer", "nodata");
  f.delegation.servers.pop_back();
  f.delegation.parent_ns = {"ns1.example.net", "ns2.example.net"};
  return f;
}

} // namespace

TEST_CASE("view::derive unfinished: www's questions timed out at our resolver while the main name answered") {
  for (const std::string outcome : {"timeout", "not-sent", "error"}) {
    CAPTURE(outcome);
    auto f = healthy();
    f.names[1].a = lookup("www.example.jp", "A", outcome);
    f.names[1].aaaa = lookup("www.example.jp", "AAAA", outcome);
    const json v = view_of(f);
    CHECK(v["resolvers"]["usable"].get<bool>());
    CHECK(v["names"][0]["status"] == "ok");
    CHECK(v["names"][1]["status"] == "unknown");
    CHECK(v["names"][1]["failures"].empty());
    CHECK_FALSE(v["diagnosis"]["complete"].get<bool>());
    CHECK(v["diagnosis"]["unfinished"].size() == 2);
    CHECK(v["diagnosis"]["unfinished"][0] == "A www.example.jp @192.0.2.53: " + outcome);
    const auto ids = fired(v);
    CHECK(fires(ids, "check-unfinished"));
    CHECK_FALSE(fires(ids, "www-not-covered"));
    CHECK_FALSE(blames_domain_dns(ids));
  }
}

TEST_CASE("view::derive unfinished: an address known, the other family's question unfinished") {
  auto f = healthy();
  f.names[0].aaaa = lookup("example.jp", "AAAA", "timeout");
  const json v = view_of(f);
  CHECK(v["names"][0]["status"] == "ok");
  CHECK(v["names"][0]["failures"].empty());
  // Whether an AAAA the CA would dial first exists is not known.
  CHECK_FALSE(v["diagnosis"]["complete"].get<bool>());
  const auto ids = fired(v);
  CHECK(fires(ids, "check-unfinished"));
  CHECK_FALSE(fires(ids, "dns-servfail"));
}

TEST_CASE("view::derive unfinished: NODATA for A and no answer for AAAA is not 'no address'") {
  auto f = healthy();
  f.names[0].a = lookup("example.jp", "A", "nodata");
  f.names[0].aaaa = lookup("example.jp", "AAAA", "timeout");
  const json v = view_of(f);
  CHECK(v["names"][0]["status"] == "unknown");
  const auto ids = fired(v);
  CHECK_FALSE(fires(ids, "dns-no-address"));
  CHECK(fires(ids, "check-unfinished"));
  // The same with both answered is the domain's: no address.
  f.names[0].aaaa = lookup("example.jp", "AAAA", "nodata");
  CHECK(fires(fired(view_of(f)), "dns-no-address"));
}

TEST_CASE("view::derive unfinished: a CAA level not sent (another check's question in flight at the deadline)") {
  auto f = healthy();
  for (auto& n : f.names) {
    n.caa.back() = lookup("jp", "CAA", "not-sent");
    n.caa.back().error = "not sent before the deadline (waiting for the same question asked by another check)";
  }
  const json v = view_of(f);
  for (const auto& n : v["names"]) {
    CHECK(n["caa"]["verdict"] == "not-checked");
    CHECK(n["caa"]["reason"] == "lookup-unfinished");
  }
  CHECK_FALSE(v["diagnosis"]["complete"].get<bool>());
  CHECK(v["diagnosis"]["unfinished"] == json::array({"CAA jp @192.0.2.53: not-sent"}));
  const auto ids = fired(v);
  CHECK_FALSE(fires(ids, "caa-lookup-failed"));
  CHECK(fires(ids, "check-unfinished"));
  // A SERVFAIL at the same level is the domain's (Boulder fails issuance on it).
  for (auto& n : f.names) n.caa.back() = lookup("jp", "CAA", "servfail");
  f.names[0].caa.back() = lookup("jp", "CAA", "servfail");
  const auto servfail = fired(view_of(f));
  CHECK(fires(servfail, "caa-lookup-failed"));
}

TEST_CASE("view::derive unfinished: a CAA level unfinished above the relevant set decides nothing") {
  auto f = healthy();
  // example.jp holds CAA records: the climb stops there, the TLD's question does not matter.
  f.names[0].caa[0] = lookup("example.jp", "CAA", "answer");
  f.names[1].caa[1] = lookup("example.jp", "CAA", "answer");
  for (auto& n : f.names) n.caa.back() = lookup("jp", "CAA", "timeout");
  const json v = view_of(f);
  CHECK(v["names"][0]["caa"]["verdict"] == "permitted");
  CHECK(v["diagnosis"]["complete"].get<bool>());
}

TEST_CASE("view::derive unfinished: delegated servers our side did not hear from") {
  SUBCASE("one server's SOA timed out while the other answered: not lame, nothing unfinished that matters") {
    auto f = healthy();
    f.delegation.servers[1].soa = lookup("example.jp", "SOA", "timeout", "192.0.2.102");
    f.delegation.servers[1].soa.recursion_desired = false;
    const json v = view_of(f);
    CHECK(v["delegation"]["lame_servers"].empty());
    CHECK(v["delegation"]["unfinished"].size() == 1);
    CHECK(v["diagnosis"]["complete"].get<bool>());
    CHECK_FALSE(fires(fired(v), "ns-lame"));
  }
  SUBCASE("every server's questions not sent (the batch's per-server limit at the deadline)") {
    auto f = healthy();
    for (auto& s : f.delegation.servers) {
      s.soa.outcome = "not-sent";
      s.soa.aa = false;
      s.soa.answer.clear();
    }
    const json v = view_of(f);
    CHECK(v["delegation"]["lame_servers"].empty());
    CHECK_FALSE(v["delegation"]["all_lame"].get<bool>());
    CHECK_FALSE(v["diagnosis"]["complete"].get<bool>());
    const auto ids = fired(v);
    CHECK_FALSE(fires(ids, "ns-lame"));
    CHECK(fires(ids, "check-unfinished"));
  }
  SUBCASE("every server timed out while our resolver got the names' answers from them") {
    auto f = healthy();
    for (auto& s : f.delegation.servers) {
      s.soa.outcome = "timeout";
      s.soa.aa = false;
      s.soa.answer.clear();
    }
    const json v = view_of(f);
    CHECK(v["delegation"]["lame_servers"].empty());
    CHECK_FALSE(v["diagnosis"]["complete"].get<bool>());
    CHECK_FALSE(fires(fired(v), "ns-lame"));
  }
  SUBCASE("every server timed out and the resolver SERVFAILs: the domain's (lame, dns-servfail)") {
    auto f = facts_with("servfail", "nodata");
    f.delegation.servers.pop_back();
    for (auto& s : f.delegation.servers) {
      s.soa.outcome = "timeout";
      s.soa.aa = false;
      s.soa.answer.clear();
    }
    const json v = view_of(f);
    CHECK(v["delegation"]["lame_servers"].size() == 2);
    CHECK(v["diagnosis"]["complete"].get<bool>());
    const auto ids = fired(v);
    CHECK(fires(ids, "ns-lame"));
    CHECK(fires(ids, "dns-servfail"));
    CHECK_FALSE(fires(ids, "check-unfinished"));
  }
  SUBCASE("a server whose name our resolver did not answer for is not judged; one that does not exist is lame") {
    auto f = facts_with("answer", "nodata");
    f.delegation.servers.back().soa.error = "the nameserver's name does not resolve (timeout)";
    json v = view_of(f);
    CHECK(v["delegation"]["lame_servers"].empty());
    CHECK(v["delegation"]["unfinished"] == json::array({"A ns3.example.org: timeout"}));
    f.delegation.servers.back().soa.error = "the nameserver's name does not resolve (nxdomain)";
    v = view_of(f);
    CHECK(v["delegation"]["lame_servers"].size() == 1);
  }
}

TEST_CASE("view::derive unfinished: every server timed out and our resolver gave no verdict either") {
  auto f = healthy();
  for (auto& n : f.names) {
    n.a = lookup(n.name, "A", "timeout");
    n.aaaa = lookup(n.name, "AAAA", "timeout");
  }
  for (auto& s : f.delegation.servers) {
    s.soa.outcome = "timeout";
    s.soa.aa = false;
    s.soa.answer.clear();
  }
  const json v = view_of(f);
  CHECK(v["delegation"]["lame_servers"].empty());
  CHECK_FALSE(v["diagnosis"]["complete"].get<bool>());
  const auto ids = fired(v);
  CHECK_FALSE(blames_domain_dns(ids));
  CHECK(fires(ids, "check-unfinished"));
}
