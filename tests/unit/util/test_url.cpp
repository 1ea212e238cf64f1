#include <doctest/doctest.h>

#include <string>

#include "util/url.hpp"

using namespace certdoctor;

TEST_CASE("url::parse_url") {
  SUBCASE("scheme, host, default port, path and query") {
    auto u = parse_url("HTTP://Example.COM/a/b?x=1#frag");
    REQUIRE(u);
    CHECK(u->scheme == "http");
    CHECK(u->host == "example.com");
    CHECK(u->port == 80);
    CHECK(u->port_text == "");
    CHECK(u->path == "/a/b");
    CHECK(u->query == "x=1");
    CHECK(parse_url("https://example.com")->port == 443);
    CHECK(parse_url("https://example.com")->path == "");
    CHECK(parse_url("gopher://example.com")->port == 0);
  }
  SUBCASE("explicit ports as written") {
    auto u = parse_url("https://example.com:80/x");
    REQUIRE(u);
    CHECK(u->port == 80);
    CHECK(u->port_text == "80");
    CHECK(parse_url("http://example.com:8080")->port == 8080);
    CHECK_FALSE(parse_url("http://example.com:http/"));
    CHECK_FALSE(parse_url("http://example.com:99999/"));
  }
  SUBCASE("IPv6 literals and zones") {
    auto u = parse_url("http://[2001:DB8::1]:443/ok");
    REQUIRE(u);
    CHECK(u->host == "2001:db8::1");
    CHECK(u->bracketed);
    CHECK(u->port == 443);
    CHECK(u->ip_literal());
    auto z = parse_url("http://[fe80::1%25eth0]/");
    REQUIRE(z);
    CHECK(z->host == "fe80::1");
    CHECK(z->zone == "eth0");
    CHECK_FALSE(parse_url("http://[::1/"));
  }
  SUBCASE("IPv4 literals as netip.ParseAddr reads them") {
    CHECK(parse_url("http://127.0.0.1/ok")->ip_literal());
    CHECK_FALSE(parse_url("http://127.1/")->ip_literal());
    CHECK_FALSE(parse_url("https://10.10.10.*")->ip_literal());
    CHECK_FALSE(parse_url("http://example.com/")->ip_literal());
  }
  SUBCASE("what Boulder checks is kept: an empty host, a trailing dot, user information dropped") {
    auto e = parse_url("https:///who/needs/a/hostname?not=me");
    REQUIRE(e);
    CHECK(e->host == "");
    CHECK(e->path == "/who/needs/a/hostname");
    CHECK(parse_url("http://example.com./")->host == "example.com.");
    CHECK(parse_url("http://user:pw@example.com/")->host == "example.com");
  }
  SUBCASE("decoded path length") {
    CHECK(parse_url("http://h/abc")->decoded_path_bytes() == 4);
    CHECK(parse_url("http://h/%41%42")->decoded_path_bytes() == 3);
    CHECK(parse_url("http://h/%4")->decoded_path_bytes() == 3);
  }
  SUBCASE("not a URL") {
    CHECK_FALSE(parse_url("/relative/path"));
    CHECK_FALSE(parse_url("example.com"));
  }
}
