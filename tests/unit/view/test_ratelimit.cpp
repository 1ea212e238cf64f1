#include <doctest/doctest.h>

#include "view/ratelimit.hpp"

using namespace certdoctor;

namespace {

const std::string now = "2026-11-23T12:00:00Z";
const std::int64_t now_s = *facts::parse_utc_time(now);
constexpr std::int64_t day = 86400;

facts::CtCertificate cert(std::vector<std::string> names, std::int64_t seconds_before_now, bool le = true) {
  facts::CtCertificate c;
  static int serial = 0;
  c.serial = std::to_string(++serial);
  c.names = std::move(names);
  c.not_before = facts::format_utc_time(now_s - seconds_before_now);
  c.lets_encrypt = le;
  c.issuer = le ? "C=US, O=Let's Encrypt, CN=R11" : "C=US, O=Other CA, CN=X";
  return c;
}

facts::CtFacts history() {
  facts::CtFacts ct;
  ct.query_domain = "example.jp";
  ct.fetch.outcome = "ok";
  return ct;
}

// `n` new certificates for distinct subdomains, the oldest 6 days before now, one hour apart.
void add_distinct(facts::CtFacts& ct, int n) {
  for (int i = 0; i < n; ++i) ct.certificates.push_back(cert({"h" + std::to_string(i) + ".example.jp"}, 6 * day - i * 3600));
}

const std::vector<std::string> wanted = {"example.jp", "www.example.jp"};

} // namespace

TEST_CASE("view::derive_rate_limits") {
  const view::RateLimitPolicy policy;

  SUBCASE("every key is present when CT could not be read") {
    auto ct = history();
    ct.fetch.outcome = "timeout";
    add_distinct(ct, 60);
    const auto v = view::derive_rate_limits(ct, wanted, now, policy);
    CHECK(v == nlohmann::json{{"available", false},  {"domain_count", 0},  {"exact_count", 0},  {"is_renewal", false},
                              {"limited", false},    {"limit", ""},        {"retry_after", ""}, {"near", false},
                              {"near_limit", ""},    {"domain_limit", 50}, {"exact_limit", 5},  {"window_days", 7},
                              {"last_exact_issued", ""}});
    CHECK(view::derive_rate_limits(history(), wanted, "not a time", policy)["available"] == false);
  }

  SUBCASE("per registered domain: below, near, at and over the limit") {
    struct Case {
      int certs;
      bool limited;
      bool near;
      const char* retry_after;
    };
    const Case cases[] = {
        {0, false, false, ""},
        {39, false, false, ""},
        {40, false, true, ""},
        {49, false, true, ""},
        // At 50 the oldest (6 days ago) must leave the window: 7 days after it.
        {50, true, false, "2026-11-24T12:00:00Z"},
        // At 51 two must leave: the second oldest, one hour younger.
        {51, true, false, "2026-11-24T13:00:00Z"},
    };
    for (const auto& c : cases) {
      CAPTURE(c.certs);
      auto ct = history();
      add_distinct(ct, c.certs);
      const auto v = view::derive_rate_limits(ct, wanted, now, policy);
      CHECK(v["available"] == true);
      CHECK(v["domain_count"] == c.certs);
      CHECK(v["exact_count"] == 0);
      CHECK(v["is_renewal"] == false);
      CHECK(v["limited"] == c.limited);
      CHECK(v["limit"] == (c.limited ? "per-domain" : ""));
      CHECK(v["retry_after"] == c.retry_after);
      CHECK(v["near"] == c.near);
      CHECK(v["near_limit"] == (c.near ? "per-domain" : ""));
    }
  }

  SUBCASE("only Let's Encrypt certificates inside (now - 7 days, now] count") {
    auto ct = history();
    add_distinct(ct, 49);
    ct.certificates.push_back(cert({"other.example.jp"}, 3600, false));   // another CA
    ct.certificates.push_back(cert({"edge.example.jp"}, 7 * day));         // exactly 7 days: out
    ct.certificates.push_back(cert({"future.example.jp"}, -3600));         // after now: out
    auto logged = cert({"logged.example.jp"}, 0);
    logged.logged_at = logged.not_before;
    logged.not_before = "";
    ct.certificates.push_back(logged);                                     // at now, by log time: in
    const auto v = view::derive_rate_limits(ct, {"new.example.jp"}, now, policy);
    CHECK(v["domain_count"] == 50);
    CHECK(v["limited"] == true);
    CHECK(v["retry_after"] == "2026-11-24T12:00:00Z");
  }

  SUBCASE("a renewal within 120 days is exempt from the per-domain limit") {
    struct Case {
      std::int64_t previous_days;
      bool renewal;
    };
    for (const Case c : {Case{30, true}, Case{119, true}, Case{120, false}, Case{130, false}}) {
      CAPTURE(c.previous_days);
      auto ct = history();
      add_distinct(ct, 50);
      ct.certificates.push_back(cert(wanted, c.previous_days * day));
      const auto v = view::derive_rate_limits(ct, {"WWW.example.jp", "example.jp", "example.jp"}, now, policy);
      CHECK(v["is_renewal"] == c.renewal);
      CHECK(v["limited"] == !c.renewal);
      CHECK(v["limit"] == (c.renewal ? "" : "per-domain"));
      CHECK(v["last_exact_issued"] == facts::format_utc_time(now_s - c.previous_days * day));
      CHECK(v["exact_count"] == 0);
    }
  }

  SUBCASE("renewals in the window do not count as new certificates") {
    auto ct = history();
    add_distinct(ct, 45);
    for (int i = 0; i < 5; ++i) {
      const std::vector<std::string> names = {"r" + std::to_string(i) + ".example.jp"};
      ct.certificates.push_back(cert(names, 60 * day));
      ct.certificates.push_back(cert(names, 2 * day));
    }
    const auto v = view::derive_rate_limits(ct, {"new.example.jp"}, now, policy);
    CHECK(v["domain_count"] == 45);
    CHECK(v["limited"] == false);
    CHECK(v["near"] == true);
  }

  SUBCASE("per exact set: below, near, at and over, renewals included") {
    struct Case {
      int certs;
      bool limited;
      bool near;
      const char* retry_after;
    };
    const Case cases[] = {
        {3, false, false, ""},
        {4, false, true, ""},
        {5, true, false, "2026-11-24T12:00:00Z"},
        {6, true, false, "2026-11-25T12:00:00Z"},
    };
    for (const auto& c : cases) {
      CAPTURE(c.certs);
      auto ct = history();
      // One a day from 6 days ago; each after the first is itself a renewal.
      for (int i = 0; i < c.certs; ++i) ct.certificates.push_back(cert(wanted, (6 - i) * day));
      const auto v = view::derive_rate_limits(ct, wanted, now, policy);
      CHECK(v["exact_count"] == c.certs);
      CHECK(v["domain_count"] == 1);
      CHECK(v["is_renewal"] == true);
      CHECK(v["limited"] == c.limited);
      CHECK(v["limit"] == (c.limited ? "exact-set" : ""));
      CHECK(v["retry_after"] == c.retry_after);
      CHECK(v["near"] == c.near);
      CHECK(v["near_limit"] == (c.near ? "exact-set" : ""));
      CHECK(v["last_exact_issued"] == facts::format_utc_time(now_s - (6 - (c.certs - 1)) * day));
    }
  }

  SUBCASE("a superset or subset of the names is not the exact set") {
    auto ct = history();
    for (int i = 0; i < 5; ++i) ct.certificates.push_back(cert({"example.jp"}, day + i));
    for (int i = 0; i < 5; ++i) ct.certificates.push_back(cert({"example.jp", "www.example.jp", "x.example.jp"}, day + i));
    const auto v = view::derive_rate_limits(ct, wanted, now, policy);
    CHECK(v["exact_count"] == 0);
    CHECK(v["limited"] == false);
    CHECK(v["is_renewal"] == false);
  }

  SUBCASE("both limits: the later time to retry is reported") {
    auto ct = history();
    add_distinct(ct, 50); // per-domain fits again at 2026-11-24T12:00:00Z
    for (int i = 0; i < 5; ++i) ct.certificates.push_back(cert({"example.jp"}, 3 * day - i));
    const auto v = view::derive_rate_limits(ct, {"example.jp"}, now, policy);
    CHECK(v["is_renewal"] == true);
    CHECK(v["limit"] == "exact-set");
    CHECK(v["retry_after"] == "2026-11-27T12:00:00Z");
  }

  SUBCASE("the policy's numbers are used") {
    view::RateLimitPolicy small;
    small.per_domain = 2;
    small.per_exact_set = 1;
    small.window_days = 1;
    auto ct = history();
    ct.certificates.push_back(cert({"a.example.jp"}, 3600));
    ct.certificates.push_back(cert({"b.example.jp"}, 7200));
    const auto v = view::derive_rate_limits(ct, {"c.example.jp"}, now, small);
    CHECK(v["limited"] == true);
    CHECK(v["retry_after"] == "2026-11-24T10:00:00Z");
    CHECK(v["domain_limit"] == 2);
    CHECK(v["exact_limit"] == 1);
    CHECK(v["window_days"] == 1);
  }
}

TEST_CASE("view::derive_ca_status") {
  SUBCASE("unread") {
    facts::StatusFacts s;
    s.fetch.outcome = "malformed";
    s.overall_code = 500;
    CHECK(view::derive_ca_status(s) == nlohmann::json{{"available", false},   {"outage", false},
                                                        {"degraded", false},    {"maintenance", false},
                                                        {"incident_title", ""}, {"incident_started", ""},
                                                        {"overall_status", ""}, {"overall_code", 0},
                                                        {"upcoming_maintenance", nlohmann::json::array()}});
  }
  SUBCASE("each status code") {
    struct Case {
      int code;
      bool outage, degraded, maintenance;
    };
    const Case cases[] = {{100, false, false, false}, {200, false, false, true}, {300, false, true, false},
                          {400, true, false, false},  {500, true, false, false}, {600, true, false, false}};
    for (const auto& c : cases) {
      CAPTURE(c.code);
      facts::StatusFacts s;
      s.fetch.outcome = "ok";
      s.overall_code = c.code;
      s.overall_status = "text";
      const auto v = view::derive_ca_status(s);
      CHECK(v["available"] == true);
      CHECK(v["outage"] == c.outage);
      CHECK(v["degraded"] == c.degraded);
      CHECK(v["maintenance"] == c.maintenance);
      CHECK(v["overall_code"] == c.code);
      CHECK(v["overall_status"] == "text");
      CHECK(v["incident_title"] == "");
    }
  }
  SUBCASE("an open incident is an outage whatever the code; maintenance is listed") {
    facts::StatusFacts s;
    s.fetch.outcome = "ok";
    s.overall_code = 100;
    s.incidents = {{"m2", "Network work", "", "2026-11-30T01:00:00Z", "maintenance-upcoming"},
                   {"m1", "Database upgrade", "", "2026-11-23T11:00:00Z", "maintenance-active"},
                   {"i1", "Delayed issuance", "", "2026-11-23T10:30:00Z", "incident"}};
    auto v = view::derive_ca_status(s);
    CHECK(v["outage"] == true);
    CHECK(v["maintenance"] == true);
    CHECK(v["incident_title"] == "Delayed issuance");
    CHECK(v["incident_started"] == "2026-11-23T10:30:00Z");
    CHECK(v["upcoming_maintenance"] ==
          nlohmann::json::array({{{"title", "Network work"}, {"started", "2026-11-30T01:00:00Z"}}}));
    s.incidents.pop_back();
    v = view::derive_ca_status(s);
    CHECK(v["outage"] == false);
    CHECK(v["maintenance"] == true);
    CHECK(v["incident_title"] == "Database upgrade");
    CHECK(v["incident_started"] == "2026-11-23T11:00:00Z");
  }
}
