#include <curl/curl.h>
#include <doctest/doctest.h>

#include <chrono>
#include <filesystem>

#include "http_server.hpp"
#include "probe/cache.hpp"
#include "probe/curl_owner.hpp"
#include "probe/outside_probe.hpp"

using namespace certdoctor;
using namespace std::chrono_literals;

namespace {

// crt.sh's JSON: a precertificate and its certificate share a serial number; another CA; a name
// outside the domain that a text search can match.
const char* ct_sample = R"([
 {"issuer_ca_id":295815,"issuer_name":"C=US, O=Let's Encrypt, CN=R11","common_name":"example.jp",
  "name_value":"example.jp\nWWW.example.jp","id":15000000002,"entry_timestamp":"2026-11-20T10:00:01.123",
  "not_before":"2026-11-20T09:00:00","not_after":"2027-02-18T09:00:00","serial_number":"04AB","result_count":2},
 {"issuer_ca_id":295815,"issuer_name":"C=US, O=Let's Encrypt, CN=R11","common_name":"example.jp",
  "name_value":"www.example.jp\nexample.jp","id":15000000001,"entry_timestamp":"2026-11-20T10:00:00.500",
  "not_before":"2026-11-20T09:00:00","not_after":"2027-02-18T09:00:00","serial_number":"04ab","result_count":2},
 {"issuer_ca_id":1,"issuer_name":"C=US, O=Google Trust Services, CN=WR1","common_name":"shop.example.jp",
  "name_value":"shop.example.jp.","id":14000000000,"entry_timestamp":"2026-10-01T00:00:00",
  "not_before":"2026-10-01T00:00:00","not_after":"2026-12-30T00:00:00","serial_number":"77"},
 {"issuer_ca_id":295815,"issuer_name":"C=US, O=Let's Encrypt, CN=E6","common_name":"example.jp.evil.test",
  "name_value":"example.jp.evil.test","id":13000000000,"entry_timestamp":"2026-11-01T00:00:00",
  "not_before":"2026-11-01T00:00:00","not_after":"2027-01-30T00:00:00","serial_number":"99"},
 {"issuer_ca_id":295815,"issuer_name":"C=US, O=Let's Encrypt, CN=E6","common_name":"old.example.jp",
  "name_value":"old.example.jp","id":12000000000,"entry_timestamp":"2026-01-01T00:00:00",
  "not_before":null,"not_after":"2026-04-01T00:00:00","serial_number":null}
])";

const char* status_sample = R"({"result":{
  "status_overall":{"updated":"2026-11-23T11:00:00.000Z","status":"Partial Service Disruption","status_code":400},
  "status":[],
  "incidents":[{"_id":"inc1","name":"Delayed issuance","datetime_open":"2026-11-23T10:30:00.000Z","messages":[]}],
  "maintenance":{
    "active":[{"_id":"m1","name":"Database upgrade","datetime_planned_start":"2026-11-23T11:00:00.000Z"}],
    "upcoming":[{"_id":"m2","name":"Network work","datetime_planned_start":"2026-11-30T01:00:00+09:00"}]}}})";

facts::CtFacts parse_ct(const std::string& body) {
  facts::CtFacts ct;
  ct.fetch.outcome = "ok";
  probe::parse_ct_json(body, "example.jp", ct);
  return ct;
}

facts::StatusFacts parse_status(const std::string& body) {
  facts::StatusFacts s;
  s.fetch.outcome = "ok";
  probe::parse_status_json(body, s);
  return s;
}

} // namespace

TEST_CASE("probe::ct_query_url") {
  CHECK(probe::ct_query_url("https://crt.sh", "example.jp") == "https://crt.sh/?q=example.jp&output=json&deduplicate=Y");
  CHECK(probe::ct_query_url("http://127.0.0.1:8080/ct//", "xn--r8jz45g.jp") ==
        "http://127.0.0.1:8080/ct/?q=xn--r8jz45g.jp&output=json&deduplicate=Y");
  CHECK(probe::ct_query_url("https://crt.sh", "a&b=%") == "https://crt.sh/?q=a%26b%3D%25&output=json&deduplicate=Y");
}

TEST_CASE("probe::parse_ct_json") {
  SUBCASE("a good answer") {
    const auto ct = parse_ct(ct_sample);
    CHECK(ct.fetch.outcome == "ok");
    REQUIRE(ct.certificates.size() == 3);
    const auto& le = ct.certificates[0];
    CHECK(le.serial == "04ab");
    CHECK(le.issuer == "C=US, O=Let's Encrypt, CN=R11");
    CHECK(le.lets_encrypt);
    CHECK(le.names == std::vector<std::string>{"example.jp", "www.example.jp"});
    CHECK(le.not_before == "2026-11-20T09:00:00Z");
    CHECK(le.not_after == "2027-02-18T09:00:00Z");
    CHECK(le.logged_at == "2026-11-20T10:00:00Z");
    const auto& other = ct.certificates[1];
    CHECK(other.serial == "77");
    CHECK_FALSE(other.lets_encrypt);
    CHECK(other.names == std::vector<std::string>{"shop.example.jp"});
    const auto& old = ct.certificates[2];
    CHECK(old.serial == "crtsh-id:12000000000");
    CHECK(old.not_before == "");
    CHECK(old.logged_at == "2026-01-01T00:00:00Z");
    CHECK(old.lets_encrypt);
  }
  SUBCASE("an empty history") {
    const auto ct = parse_ct("[]");
    CHECK(ct.fetch.outcome == "ok");
    CHECK(ct.certificates.empty());
  }
  SUBCASE("surprises are malformed, never thrown") {
    struct Case {
      const char* body;
      const char* error;
    };
    const Case cases[] = {
        {"<html>crt.sh is down</html>", "the answer is not JSON"},
        {"", "the answer is not JSON"},
        {R"({"error":"busy"})", "the answer is not a JSON array"},
        {"[1]", "entry 0 is not an object"},
        {R"([{"name_value":7}])", "entry 0: \"name_value\" is not a string"},
        {R"([{"name_value":"a.example.jp","id":"x"}])", "entry 0: \"id\" is not an integer"},
        {R"([{"name_value":"a.example.jp","not_before":"yesterday"}])", "entry 0: \"not_before\" is not a time: yesterday"},
        {R"([{"name_value":"a.example.jp","not_before":"2026-02-30T00:00:00"}])",
         "entry 0: \"not_before\" is not a time: 2026-02-30T00:00:00"},
        {R"([{"name_value":"a.example.jp"},{"serial_number":[]}])", "entry 1: \"serial_number\" is not a string"},
        {"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]", "entry 0 is not an object"},
    };
    for (const auto& c : cases) {
      CAPTURE(c.body);
      const auto ct = parse_ct(c.body);
      CHECK(ct.fetch.outcome == "malformed");
      CHECK(ct.fetch.error == c.error);
      CHECK(ct.certificates.empty());
    }
  }
  SUBCASE("only the newest certificates are kept") {
    std::string body = "[";
    for (std::size_t i = 0; i < probe::max_ct_certificates + 5; ++i) {
      if (i) body += ",";
      const int day = 1 + static_cast<int>(i % 28);
      body += R"({"issuer_name":"O=Let's Encrypt","name_value":"a.example.jp","serial_number":")" + std::to_string(i) +
              R"(","not_before":"2020-01-)" + (day < 10 ? "0" : "") + std::to_string(day) + R"(T00:00:00"})";
    }
    body += "]";
    const auto ct = parse_ct(body);
    CHECK(ct.fetch.outcome == "ok");
    CHECK(ct.certificates.size() == probe::max_ct_certificates);
    CHECK(ct.certificates.front().not_before == "2020-01-28T00:00:00Z");
  }
}

TEST_CASE("probe::parse_status_json") {
  SUBCASE("a good answer") {
    const auto s = parse_status(status_sample);
    CHECK(s.fetch.outcome == "ok");
    CHECK(s.overall_code == 400);
    CHECK(s.overall_status == "Partial Service Disruption");
    REQUIRE(s.incidents.size() == 3);
    CHECK(s.incidents[0].id == "inc1");
    CHECK(s.incidents[0].name == "Delayed issuance");
    CHECK(s.incidents[0].kind == "incident");
    CHECK(s.incidents[0].started == "2026-11-23T10:30:00Z");
    CHECK(s.incidents[1].kind == "maintenance-active");
    CHECK(s.incidents[1].name == "Database upgrade");
    CHECK(s.incidents[2].kind == "maintenance-upcoming");
    CHECK(s.incidents[2].started == "2026-11-29T16:00:00Z");
  }
  SUBCASE("a calm answer with no lists") {
    const auto s = parse_status(R"({"result":{"status_overall":{"status":"Operational","status_code":100}}})");
    CHECK(s.fetch.outcome == "ok");
    CHECK(s.overall_code == 100);
    CHECK(s.incidents.empty());
  }
  SUBCASE("surprises are malformed, never thrown") {
    struct Case {
      const char* body;
      const char* error;
    };
    const Case cases[] = {
        {"{", "the answer is not JSON"},
        {"[]", "the answer is not a JSON object"},
        {R"({"result":[]})", "no \"result\" object"},
        {R"({"result":{}})", "no \"result.status_overall\" object"},
        {R"({"result":{"status_overall":{"status_code":"100"}}})", "\"result.status_overall.status_code\" is not an integer"},
        {R"({"result":{"status_overall":{"status_code":100000}}})", "\"result.status_overall.status_code\" is out of range"},
        {R"({"result":{"status_overall":{"status_code":100,"status":1}}})",
         "result.status_overall: \"status\" is not a string"},
        {R"({"result":{"status_overall":{"status_code":100},"incidents":{}}})", "/incidents is not an array"},
        {R"({"result":{"status_overall":{"status_code":100},"incidents":[3]}})", "/incidents/0 is not an object"},
        {R"({"result":{"status_overall":{"status_code":100},"incidents":[{"name":false}]}})",
         "/incidents/0: \"name\" is not a string"},
        {R"({"result":{"status_overall":{"status_code":100},"maintenance":[]}})", "\"result.maintenance\" is not an object"},
        {R"({"result":{"status_overall":{"status_code":100},"maintenance":{"active":"no"}}})",
         "/maintenance/active is not an array"},
    };
    for (const auto& c : cases) {
      CAPTURE(c.body);
      const auto s = parse_status(c.body);
      CHECK(s.fetch.outcome == "malformed");
      CHECK(s.fetch.error == c.error);
      CHECK(s.incidents.empty());
    }
  }
}

namespace {

// Runs one check's outside sources to the end on a multi handle of its own, driven as the engine
// drives its own (transfers handed back to their CurlOwner, step() at least every 20 ms).
void run_outside(const probe::OutsideRequest& request, facts::CtFacts& ct, facts::StatusFacts& status) {
  CURLM* multi = curl_multi_init();
  REQUIRE(multi);
  {
    probe::OutsideCheck outside(request, multi);
    outside.start();
    for (;;) {
      int running = 0;
      curl_multi_perform(multi, &running);
      probe::hand_back_done(multi);
      outside.step(std::chrono::steady_clock::now());
      if (outside.done()) break;
      curl_multi_poll(multi, nullptr, 0, 20, nullptr);
    }
    outside.finish(ct, status);
  }
  curl_multi_cleanup(multi);
}

} // namespace

TEST_CASE("probe::OutsideCheck") {
  test::TestHttpServer server;
  server.serve("/ct", ct_sample);
  server.serve("/status.json", status_sample);
  std::string pattern = (std::filesystem::temp_directory_path() / "certdoctor-outside-XXXXXX").string();
  REQUIRE(mkdtemp(pattern.data()));
  const std::string cache_dir = pattern;

  probe::OutsideRequest request;
  request.registered_domain = "example.jp";
  request.ct_url = server.url("/ct");
  request.status_url = server.url("/status.json");
  request.cache_dir = cache_dir;

  SUBCASE("fetches both, then answers from the cache") {
    request.deadline = std::chrono::steady_clock::now() + 5s;
    facts::CtFacts ct;
    facts::StatusFacts status;
    run_outside(request, ct, status);
    CHECK(ct.query_domain == "example.jp");
    CHECK(ct.fetch.url == server.url("/ct/?q=example.jp&output=json&deduplicate=Y"));
    CHECK(ct.fetch.outcome == "ok");
    CHECK(ct.fetch.http_status == 200);
    CHECK_FALSE(ct.fetch.from_cache);
    CHECK(ct.fetch.fetched_at.size() == 20);
    CHECK(ct.certificates.size() == 3);
    CHECK(status.fetch.outcome == "ok");
    CHECK(status.overall_code == 400);
    CHECK(server.hits("/ct") == 1);
    CHECK(server.hits("/status.json") == 1);

    facts::CtFacts ct2;
    facts::StatusFacts status2;
    run_outside(request, ct2, status2);
    CHECK(ct2.fetch.from_cache);
    CHECK(ct2.fetch.outcome == "ok");
    CHECK(ct2.fetch.fetched_at == ct.fetch.fetched_at);
    CHECK(ct2.certificates.size() == 3);
    CHECK(status2.fetch.from_cache);
    CHECK(status2.incidents.size() == 3);
    CHECK(server.hits("/ct") == 1);
    CHECK(server.hits("/status.json") == 1);

    request.use_cache = false;
    facts::CtFacts ct3;
    run_outside(request, ct3, status2);
    CHECK_FALSE(ct3.fetch.from_cache);
    CHECK(ct3.certificates.size() == 3);
    CHECK(server.hits("/ct") == 2);
  }

  SUBCASE("hanging sources end at the deadline") {
    request.ct_url = server.url("/silent");
    request.status_url = server.url("/slow");
    const auto start = std::chrono::steady_clock::now();
    request.deadline = start + 1s;
    facts::CtFacts ct;
    facts::StatusFacts status;
    run_outside(request, ct, status);
    CHECK(std::chrono::steady_clock::now() - start < 1800ms);
    CHECK(ct.fetch.outcome == "timeout");
    CHECK(status.fetch.outcome == "timeout");
    CHECK(ct.certificates.empty());
  }

  SUBCASE("garbage is malformed and not cached; disabled sources are not asked") {
    server.serve("/bad", "<html>");
    request.ct_url = server.url("/bad");
    request.status_url = "none";
    request.deadline = std::chrono::steady_clock::now() + 5s;
    facts::CtFacts ct;
    facts::StatusFacts status;
    run_outside(request, ct, status);
    CHECK(ct.fetch.outcome == "malformed");
    CHECK(ct.fetch.error == "the answer is not JSON");
    CHECK(status.fetch.outcome == "disabled");
    CHECK(status.fetch.url == "");
    CHECK_FALSE(probe::Cache(cache_dir).get(ct.fetch.url, 3600s, std::chrono::system_clock::now()));
  }

  std::error_code ec;
  std::filesystem::remove_all(cache_dir, ec);
}
