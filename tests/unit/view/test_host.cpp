// The hosting server learned from independent sources (view host.sources): --server-ip, the
// account's own name, forward-confirmed reverse DNS against the profile's server-name patterns,
// the addresses' own answers; then a-not-host, aaaa-not-host and host-unknown over such views.
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

const std::string kToken = "/.well-known/acme-challenge/tok";
const std::string kHost = "203.0.113.10", kHost6 = "2001:db8:10::10", kOther6 = "2001:db8:99::1";

using test::catalogue;
using test::classifier;
const view::DataSet& data() { return test::shipped_data(); }

facts::Lookup answer(const std::string& name, const std::string& type, std::vector<std::string> values) {
  facts::Lookup l;
  l.server = "192.0.2.53";
  l.qname = name;
  l.qtype = type;
  l.outcome = values.empty() ? "nodata" : "answer";
  l.rcode = "NOERROR";
  for (const auto& v : values) l.answer.push_back(facts::RecordFact{name, type, 300, v});
  return l;
}

/// example.jp (no www) at kHost and an AAAA `v6`, with Sakura named by --provider.
facts::Facts base(const std::string& v6 = kOther6) {
  facts::Facts f;
  f.collected_at = "2026-11-23T12:00:00Z";
  f.domain = f.domain_display = f.registered_domain = "example.jp";
  f.public_suffix = "jp";
  f.request.input = "example.jp";
  f.request.provider = "sakura";
  f.request.www = false;
  facts::NameFacts n;
  n.name = n.display = "example.jp";
  n.role = "main";
  n.a = answer("example.jp", "A", {kHost});
  n.aaaa = answer("example.jp", "AAAA", v6.empty() ? std::vector<std::string>{} : std::vector<std::string>{v6});
  f.names = {n};
  return f;
}

facts::ReverseFact reverse(const std::string& address, const std::string& ptr, const std::vector<std::string>& forward) {
  facts::ReverseFact r;
  r.address = address;
  r.ptr = answer("x.ip6.arpa", "PTR", {ptr});
  const std::string type = address.find(':') == std::string::npos ? "A" : "AAAA";
  r.forward = {answer(ptr, type, forward)};
  return r;
}

facts::HttpChallenge challenge(const std::string& address, const std::string& family, int status, const std::string& server,
                               const std::string& body) {
  facts::HttpChallenge c;
  c.name = "example.jp";
  c.family = family;
  c.address = address;
  c.url = "http://example.jp" + kToken;
  facts::HttpExchange h;
  h.url = c.url;
  h.address = address;
  h.outcome = "response";
  h.status = status;
  h.server = server;
  h.body_sha256 = body;
  c.hops = {h};
  c.stop = "answer";
  return c;
}

json view_of(const facts::Facts& f) { return view::derive(f, view::DeriveContext{data(), classifier()}); }

std::vector<std::string> fired(const json& v) {
  std::vector<std::string> out;
  for (const auto& fd : rules::evaluate(catalogue(), v))
    if (fd.id == "a-not-host" || fd.id == "aaaa-not-host" || fd.id == "host-unknown" || fd.id == "http-ip-discrepancy")
      out.push_back(fd.variant.empty() ? fd.id : fd.id + "/" + fd.variant);
  return out;
}

} // namespace

TEST_CASE("view::host: no source says anything") {
  const json v = view_of(base());
  CHECK(v["host"]["known"] == false);
  CHECK(v["host"]["sources"].empty());
  CHECK(fired(v) == std::vector<std::string>{"host-unknown"});
}

TEST_CASE("view::host: reverse DNS") {
  SUBCASE("a provider's server name that leads back names the server") {
    auto f = base();
    f.reverse = {reverse(kHost, "www3001.sakura.ne.jp.", {kHost})};
    const json v = view_of(f);
    CHECK(v["host"]["known"] == true);
    CHECK(v["host"]["source"] == "ptr");
    CHECK(v["host"]["addresses"] == json{kHost});
    CHECK(v["host"]["how"] == json{"PTR " + kHost + " www3001.sakura.ne.jp"});
    CHECK(v["names"][0]["off_host_aaaa"] == json{kOther6});
    CHECK(v["names"][0]["off_host_certainty"] == "certain");
    CHECK(fired(v) == std::vector<std::string>{"aaaa-not-host/answers"});
  }
  SUBCASE("a claimed name that does not lead back counts for nothing") {
    auto f = base();
    f.reverse = {reverse(kOther6, "www3001.sakura.ne.jp", {kHost6})};
    const json v = view_of(f);
    CHECK(v["host"]["known"] == false);
    REQUIRE(v["host"]["sources"].size() == 1);
    CHECK(v["host"]["sources"][0]["source"] == "ptr-unconfirmed");
    CHECK(v["host"]["sources"][0]["strength"] == "none");
    CHECK(fired(v) == std::vector<std::string>{"host-unknown"});
  }
  SUBCASE("a name of the provider that is no shared server (a VPS) does not name the server") {
    auto f = base();
    f.reverse = {reverse(kHost, "ik1-300-30001.vs.sakura.ne.jp", {kHost})};
    const json v = view_of(f);
    CHECK(v["host"]["known"] == false);
    CHECK(v["host"]["sources"][0]["source"] == "ptr-other");
  }
  SUBCASE("another host's name that leads back is evidence against the address") {
    auto f = base("");
    f.reverse = {reverse(kHost, "elsewhere.jp", {kHost})};
    const json v = view_of(f);
    CHECK(v["host"]["known"] == false);
    CHECK(v["host"]["not_host"] == json{kHost});
    CHECK(v["names"][0]["off_host_a"] == json{kHost});
    CHECK(v["names"][0]["off_host_certainty"] == "probable");
    CHECK(fired(v) == std::vector<std::string>{"a-not-host/ptr-other"});
    for (const auto& fd : rules::evaluate(catalogue(), v))
      if (fd.id == "a-not-host") {
        CHECK(fd.severity == rules::Severity::error);
        CHECK(fd.arguments["certainty"] == "probable");
        CHECK(fd.arguments["ptr"] == json{kHost + " elsewhere.jp"});
      }
  }
  SUBCASE("without a recognised provider, another name says nothing against") {
    auto f = base("");
    f.request.provider = "generic";
    f.reverse = {reverse(kHost, "elsewhere.jp", {kHost})};
    const json v = view_of(f);
    CHECK(v["host"]["not_host"].empty());
    CHECK(fired(v) == std::vector<std::string>{"host-unknown"});
  }
}

TEST_CASE("view::host: the account's own name") {
  auto f = base();
  f.request.account = "labuser";
  facts::AccountFact acc;
  acc.provider = "sakura";
  acc.name = "labuser.sakura.ne.jp";
  acc.a = answer(acc.name, "A", {kHost});
  acc.aaaa = answer(acc.name, "AAAA", {kHost6});
  f.accounts = {acc};
  facts::AccountFact other = acc;
  other.provider = "xserver";
  other.name = "labuser.xsrv.jp";
  other.a = answer(other.name, "A", {"198.51.100.7"});
  f.accounts.push_back(other);
  const json v = view_of(f);
  CHECK(v["host"]["source"] == "account");
  // Only the recognised provider's name counts.
  CHECK(v["host"]["addresses"] == json{kHost, kHost6});
  CHECK(v["host"]["how"] == json{"--account: labuser.sakura.ne.jp"});
  CHECK(fired(v) == std::vector<std::string>{"aaaa-not-host/answers"});

  SUBCASE("--server-ip is the user's word and wins") {
    f.request.server_ips = {kOther6, kHost};
    const json w = view_of(f);
    CHECK(w["host"]["source"] == "option");
    CHECK(w["host"]["addresses"] == json{kOther6, kHost});
    CHECK(fired(w).empty());
  }
}

TEST_CASE("view::host: what the addresses answer") {
  auto f = base();
  f.web.probed = true;
  SUBCASE("an AAAA that answers unlike the A records is probably another server") {
    f.web.http = {challenge(kOther6, "ipv6", 404, "Apache", "aa"), challenge(kHost, "ipv4", 404, "nginx", "bb")};
    const json v = view_of(f);
    CHECK(v["names"][0]["off_host_aaaa"] == json{kOther6});
    CHECK(v["names"][0]["off_host_reason_aaaa"] == "answers-unlike");
    CHECK(v["names"][0]["answers_unlike"]["differences"] == json{"Server Apache / nginx", "body SHA-256"});
    const auto ids = fired(v);
    CHECK(std::find(ids.begin(), ids.end(), "aaaa-not-host/answers-unlike") != ids.end());
    CHECK(std::find(ids.begin(), ids.end(), "host-unknown") == ids.end());
    for (const auto& fd : rules::evaluate(catalogue(), v))
      if (fd.id == "aaaa-not-host") CHECK(fd.severity == rules::Severity::error);
  }
  SUBCASE("a different certificate on 443 is another server too") {
    f.web.http = {challenge(kOther6, "ipv6", 404, "nginx", "aa"), challenge(kHost, "ipv4", 404, "nginx", "aa")};
    facts::TlsProbe t6, t4;
    t6.name = t4.name = "example.jp";
    t6.address = kOther6;
    t4.address = kHost;
    t6.outcome = t4.outcome = "handshake";
    facts::CertificateFact c6, c4;
    c6.sha256 = "66";
    c4.sha256 = "44";
    t6.chain = {c6};
    t4.chain = {c4};
    f.web.tls = {t6, t4};
    const json v = view_of(f);
    CHECK(v["names"][0]["answers_unlike"]["differences"] == json{"certificate on 443"});
  }
  SUBCASE("alike answers say nothing") {
    f.web.http = {challenge(kOther6, "ipv6", 404, "nginx", "aa"), challenge(kHost, "ipv4", 404, "nginx", "aa")};
    const json v = view_of(f);
    CHECK(v["names"][0]["off_host"].empty());
    CHECK(fired(v) == std::vector<std::string>{"host-unknown"});
  }
  SUBCASE("no IPv6 answer at all is no evidence") {
    auto c = challenge(kOther6, "ipv6", 0, "", "");
    c.hops[0].outcome = "refused";
    c.stop = "failed";
    f.web.http = {c, challenge(kHost, "ipv4", 404, "nginx", "aa")};
    const json v = view_of(f);
    CHECK(v["names"][0]["off_host"].empty());
  }
}

TEST_CASE("view::host: old facts without the new sources still load and judge") {
  auto f = base();
  json j = f;
  j.erase("reverse");
  j.erase("accounts");
  j["request"].erase("account");
  const auto back = facts::parse_document(j.dump(), "old.json");
  CHECK(back.reverse.empty());
  CHECK(back.accounts.empty());
  CHECK(fired(view_of(back)) == std::vector<std::string>{"host-unknown"});
}
