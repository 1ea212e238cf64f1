#include <doctest/doctest.h>

#include "util/domain.hpp"
#include "util/error.hpp"

using namespace certdoctor;

TEST_CASE("parse_domain") {
  SUBCASE("ASCII, case and trailing dot") {
    auto d = parse_domain("WWW.Example.JP.");
    CHECK(d.ascii == "www.example.jp");
    CHECK(d.registered == "example.jp");
    CHECK(d.public_suffix == "jp");
  }
  SUBCASE("IDN in both forms") {
    auto d = parse_domain("日本語.jp");
    CHECK(d.ascii == "xn--wgv71a119e.jp");
    CHECK(d.unicode == "日本語.jp");
    CHECK(d.registered == "xn--wgv71a119e.jp");
    auto back = parse_domain("xn--wgv71a119e.jp");
    CHECK(back.unicode == "日本語.jp");
  }
  SUBCASE("second-level public suffixes") {
    auto d = parse_domain("shop.example.co.jp");
    CHECK(d.registered == "example.co.jp");
    CHECK(d.public_suffix == "co.jp");
  }
  SUBCASE("errors name the input and the fix") {
    CHECK_THROWS_WITH_AS(parse_domain("https://example.jp/path"),
                         "'https://example.jp/path' is a URL, not a domain: pass the host name alone, e.g. "
                         "certdoctor check example.jp",
                         UsageError);
    CHECK_THROWS_WITH_AS(parse_domain("co.jp"),
                         "'co.jp' is a public suffix (like co.jp): nobody can get a certificate for it; give a "
                         "domain registered under it, e.g. example.co.jp",
                         UsageError);
    CHECK_THROWS_WITH_AS(parse_domain("jp"), "'jp' is a top-level domain: give a domain under it, e.g. example.jp",
                         UsageError);
    CHECK_THROWS_AS(parse_domain("*.example.jp"), UsageError);
    CHECK_THROWS_AS(parse_domain("203.0.113.10"), UsageError);
    CHECK_THROWS_AS(parse_domain("a..b.jp"), UsageError);
    CHECK_THROWS_AS(parse_domain("-bad.jp"), UsageError);
    CHECK_THROWS_AS(parse_domain(std::string(300, 'a') + ".jp"), UsageError);
    CHECK_THROWS_AS(parse_domain(""), UsageError);
    CHECK_THROWS_AS(parse_domain("user@example.jp"), UsageError);
  }
}
