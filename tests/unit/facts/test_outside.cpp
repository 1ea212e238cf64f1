#include <doctest/doctest.h>

#include "facts/outside.hpp"

using namespace certdoctor;

TEST_CASE("facts::parse_utc_time") {
  CHECK(facts::parse_utc_time("1970-01-01T00:00:00Z") == 0);
  CHECK(facts::parse_utc_time("2026-11-23T12:00:00Z") == 1795435200);
  CHECK(facts::parse_utc_time("2026-11-23T12:00:00") == 1795435200);
  CHECK(facts::parse_utc_time("2026-11-23 12:00:00.999") == 1795435200);
  CHECK(facts::parse_utc_time("2026-11-23T21:00:00+09:00") == 1795435200);
  CHECK(facts::parse_utc_time("2026-11-23T11:30:00-00:30") == 1795435200);
  CHECK(facts::parse_utc_time("2024-02-29T00:00:00Z") == 1709164800);
  CHECK(facts::parse_utc_time("1969-12-31T23:59:59Z") == -1);
  for (const char* bad : {"", "2026-11-23", "2026-11-23T12:00:00ZZ", "2026-13-01T00:00:00Z", "2025-02-29T00:00:00Z",
                          "2026-11-23T24:00:00Z", "2026-11-23T12:00:00.Z", "2026-11-23T12:00:00+0900",
                          "２０２６-11-23T12:00:00Z", "2026/11/23T12:00:00Z"}) {
    CAPTURE(bad);
    CHECK_FALSE(facts::parse_utc_time(bad));
  }
}

TEST_CASE("facts::format_utc_time") {
  CHECK(facts::format_utc_time(0) == "1970-01-01T00:00:00Z");
  CHECK(facts::format_utc_time(1795435200) == "2026-11-23T12:00:00Z");
  CHECK(facts::format_utc_time(1709164800 + 86399) == "2024-02-29T23:59:59Z");
  CHECK(facts::format_utc_time(-1) == "1969-12-31T23:59:59Z");
}

TEST_CASE("facts::outside JSON") {
  SUBCASE("round trip") {
    facts::CtFacts ct;
    ct.query_domain = "example.jp";
    ct.fetch = {"https://crt.sh/?q=example.jp", "ok", 200, true, "2026-11-23T12:00:00Z", 12.5, ""};
    ct.certificates = {{"04ab", "C=US, O=Let's Encrypt, CN=R11", "2026-11-20T09:00:00Z", "2027-02-18T09:00:00Z",
                        "2026-11-20T10:00:00Z", {"example.jp", "www.example.jp"}, true}};
    const nlohmann::json j = ct;
    CHECK(j["fetch"]["outcome"] == "ok");
    CHECK(j["certificates"][0]["lets_encrypt"] == true);
    const auto back = j.get<facts::CtFacts>();
    CHECK(nlohmann::json(back) == j);

    facts::StatusFacts s;
    s.fetch.outcome = "timeout";
    s.overall_code = 200;
    s.overall_status = "Planned Maintenance";
    s.incidents = {{"m1", "Database upgrade", "active", "2026-11-23T11:00:00Z", "maintenance-active"}};
    const nlohmann::json js = s;
    CHECK(js["incidents"][0]["kind"] == "maintenance-active");
    CHECK(nlohmann::json(js.get<facts::StatusFacts>()) == js);
  }
  SUBCASE("missing keys keep their defaults") {
    const auto ct = nlohmann::json::parse(R"({"certificates":[{"serial":"1"}]})").get<facts::CtFacts>();
    CHECK(ct.fetch.outcome == "not-fetched");
    CHECK(ct.certificates.at(0).serial == "1");
    CHECK_FALSE(ct.certificates.at(0).lets_encrypt);
    const auto s = nlohmann::json::parse(R"({"fetch":{"outcome":null}})").get<facts::StatusFacts>();
    CHECK(s.fetch.outcome == "not-fetched");
    CHECK(s.overall_code == 0);
  }
}
