#include <doctest/doctest.h>

#include <chrono>

#include "http_server.hpp"
#include "probe/fetch.hpp"

using namespace certdoctor;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

namespace {

double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

} // namespace

TEST_CASE("probe::fetch_all") {
  test::TestHttpServer server;
  server.serve("/data", R"({"ok":true})");

  SUBCASE("answers, HTTP errors, refused schemes and closed ports, concurrently") {
    const std::string closed = "http://127.0.0.1:" + std::to_string(test::closed_port()) + "/";
    const auto results = probe::fetch_all({{server.url("/data"), 3s}, {server.url("/500"), 3s}, {closed, 3s},
                                           {"ftp://127.0.0.1/x", 3s}, {server.url("/to-file"), 3s},
                                           {server.url("/nothing"), 3s}},
                                          Clock::now() + 5s);
    REQUIRE(results.size() == 6);
    CHECK(results[0].url == server.url("/data"));
    CHECK(results[0].outcome == "ok");
    CHECK(results[0].http_status == 200);
    CHECK(results[0].body == R"({"ok":true})");
    CHECK(results[0].content_type == "application/json");
    CHECK(results[0].error == "");
    CHECK(results[1].outcome == "http-error");
    CHECK(results[1].http_status == 500);
    CHECK(results[1].body == "oops");
    CHECK(results[1].error == "HTTP status 500");
    CHECK(results[2].outcome == "unreachable");
    CHECK(results[2].http_status == 0);
    CHECK(results[3].outcome == "error");
    CHECK(results[3].error == "Protocol \"ftp\" not supported or disabled in libcurl");
    CHECK(results[4].outcome == "error");
    CHECK(results[4].body == "");
    CHECK(results[5].outcome == "http-error");
    CHECK(results[5].http_status == 404);
  }

  SUBCASE("the overall deadline holds against a trickling and a silent server") {
    const auto start = Clock::now();
    const auto results = probe::fetch_all({{server.url("/slow"), 30s}, {server.url("/silent"), 30s},
                                           {server.url("/data"), 30s}},
                                          start + 1500ms);
    const double took = seconds_since(start);
    CHECK(took >= 1.4);
    CHECK(took < 2.5);
    REQUIRE(results.size() == 3);
    CHECK(results[0].outcome == "timeout");
    CHECK(results[0].body == "");
    CHECK(results[1].outcome == "timeout");
    CHECK(results[2].outcome == "ok");
    CHECK(results[2].elapsed_ms < 1000);
  }

  SUBCASE("each transfer's own limit holds inside a later deadline") {
    const auto start = Clock::now();
    const auto results = probe::fetch_all({{server.url("/slow"), 500ms}, {server.url("/data"), 500ms}}, start + 10s);
    CHECK(seconds_since(start) < 1.5);
    CHECK(results[0].outcome == "timeout");
    CHECK(results[0].elapsed_ms >= 400);
    CHECK(results[1].outcome == "ok");
  }

  SUBCASE("a deadline already past fetches nothing") {
    const auto results = probe::fetch_all({{server.url("/data"), 1s}}, Clock::now() - 1s);
    CHECK(results[0].outcome == "timeout");
    CHECK(results[0].error == "no time left before the deadline");
    CHECK(server.hits("/data") == 0);
  }

  SUBCASE("bodies over the cap end as too-large, with or without Content-Length") {
    const auto results = probe::fetch_all({{server.url("/big"), 5s, 1024 * 1024}, {server.url("/big-close"), 5s, 1024 * 1024},
                                           {server.url("/data"), 5s, 4}},
                                          Clock::now() + 8s);
    for (const auto& r : results) {
      CAPTURE(r.url);
      CHECK(r.outcome == "too-large");
      CHECK(r.body == "");
    }
    CHECK(results[0].error == "response larger than 1048576 bytes");
    CHECK(results[2].error == "response larger than 4 bytes");
  }
}
