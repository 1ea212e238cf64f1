#include <doctest/doctest.h>

#include "triage/acme.hpp"
#include "triage/regex.hpp"
#include "util/error.hpp"

using namespace certdoctor;
using namespace certdoctor::triage;

namespace {
const AcmeCatalogue& catalogue() {
  static AcmeCatalogue c = AcmeCatalogue::load({CERTDOCTOR_SOURCE_RULES_DIR});
  return c;
}
} // namespace

TEST_CASE("triage::group_names") {
  CHECK(group_names("(?<a>x)(?P<b>y)(?'c'z)(?:n)(?=l)(?<!m)\\(?<d>") == std::vector<std::string>{"a", "b", "c"});
}

TEST_CASE("triage::Pattern") {
  Pattern p("(?<host>[a-z.]+):(?<port>\\d+)?", "test:1");
  auto m = p.search("to Example.JP: now");
  REQUIRE(m);
  CHECK(m->groups.at("host") == "Example.JP");
  CHECK_FALSE(m->groups.count("port"));
  CHECK_FALSE(p.search(std::string("\xff\xfe:1", 4)));
  CHECK_THROWS_AS(Pattern("(", "f.yaml:3"), ConfigError);
}

TEST_CASE("triage::classify_error") {
  SUBCASE("timeout during connect") {
    auto c = classify_error(catalogue(),
                            "203.0.113.1: Fetching http://a.jp/.well-known/acme-challenge/x: Timeout during connect (likely firewall problem)",
                            "urn:ietf:params:acme:error:connection");
    CHECK(c.finding == "http-unreachable");
    CHECK(c.type == "connection");
    CHECK(c.evidence["address"] == "203.0.113.1");
    CHECK(c.evidence["url"] == "http://a.jp/.well-known/acme-challenge/x");
    CHECK(c.domain == "a.jp");
  }
  SUBCASE("secondary validation unwraps to the inner cause") {
    auto c = classify_error(catalogue(), "During secondary validation: CAA record for b.jp prevents issuance");
    CHECK(c.finding == "caa-forbids");
    CHECK(c.evidence["perspective"] == "secondary");
    CHECK(c.domain == "b.jp");
  }
  SUBCASE("rate limit with its retry-after in RFC 3339") {
    auto c = classify_error(catalogue(),
                            "too many certificates (5) already issued for this exact set of domains in the last 168h0m0s, "
                            "retry after 2025-01-02 03:04:05 UTC: see https://letsencrypt.org/docs/rate-limits/");
    CHECK(c.finding == "rate-limited");
    CHECK(c.evidence["retry_after"] == "2025-01-02T03:04:05Z");
    CHECK(c.evidence["limit"] == "exact-set");
  }
  SUBCASE("403 is an access restriction, 404 an unexpected answer") {
    CHECK(classify_error(catalogue(), "Invalid response from http://c.jp/.well-known/acme-challenge/t: 403").finding ==
          "http-access-restricted");
    CHECK(classify_error(catalogue(), "Invalid response from http://c.jp/.well-known/acme-challenge/t: 404").finding == "http-error");
  }
  SUBCASE("SERVFAIL on CAA is not a plain DNS failure") {
    CHECK(classify_error(catalogue(), "DNS problem: SERVFAIL looking up CAA for d.jp - the domain's nameservers may be malfunctioning")
              .finding == "caa-lookup-failed");
    CHECK(classify_error(catalogue(), "DNS problem: SERVFAIL looking up A for d.jp").finding == "dns-servfail");
  }
  SUBCASE("unknown text") {
    auto c = classify_error(catalogue(), "something else entirely");
    CHECK(c.finding.empty());
    CHECK(c.rule == "unmapped");
  }
}

TEST_CASE("triage::read_problem_json") {
  auto r = read_problem_json(catalogue(), R"({"type":"urn:ietf:params:acme:error:dns","detail":"x","subproblems":[
    {"type":"urn:ietf:params:acme:error:dns","detail":"DNS problem: NXDOMAIN looking up A for e.jp","identifier":{"type":"dns","value":"e.jp"}}]})");
  REQUIRE(r);
  REQUIRE(r->causes.size() == 1);
  CHECK(r->causes[0].finding == "domain-nxdomain");
  CHECK(r->domains == std::vector<std::string>{"e.jp"});
  CHECK_FALSE(read_problem_json(catalogue(), R"({"level":"info"})"));
  CHECK_FALSE(read_problem_json(catalogue(), "{not json"));
}

TEST_CASE("triage::read_client_log") {
  auto r = read_client_log(catalogue(),
                           "2025/03/13 01:02:09 [INFO] [f.jp] acme: Obtaining bundled SAN certificate\n"
                           "[f.jp] acme: error: 400 :: urn:ietf:params:acme:error:connection :: 1.2.3.4: Fetching "
                           "http://f.jp/.well-known/acme-challenge/t: Connection refused\n");
  REQUIRE(r);
  CHECK(r->client == "lego");
  REQUIRE(r->causes.size() == 1);
  CHECK(r->causes[0].evidence["reason"] == "refused");
  CHECK(r->domains == std::vector<std::string>{"f.jp"});
  CHECK_FALSE(read_client_log(catalogue(), "nothing to see here\n"));
}

TEST_CASE("triage::rfc3339") {
  CHECK(rfc3339("2025-01-02 03:04:05 UTC") == "2025-01-02T03:04:05Z");
  CHECK(rfc3339("soon") == "soon");
}
