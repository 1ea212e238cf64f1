#include "serve/http_util.hpp"

#include <doctest/doctest.h>

#include <set>

using namespace certdoctor::serve;

TEST_CASE("serve::url_decode and parse_form") {
  CHECK(url_decode("a+b%20c%2Fd") == std::optional<std::string>("a b c/d"));
  CHECK(url_decode("%E6%97%A5%E6%9C%AC") == std::optional<std::string>("日本"));
  CHECK(!url_decode("%G1"));
  CHECK(!url_decode("%4"));
  CHECK(!url_decode("abc%"));
  CHECK(url_decode("%00") == std::optional<std::string>(std::string(1, '\0')));
  auto f = parse_form("domain=example.jp&www=yes&&domain=second&empty=&flag");
  REQUIRE(f);
  CHECK(f->at("domain") == "example.jp");
  CHECK(f->at("www") == "yes");
  CHECK(f->at("empty") == "");
  CHECK(f->at("flag") == "");
  CHECK(!parse_form("a=%zz"));
  CHECK(parse_form("")->empty());
}

TEST_CASE("serve::pick_lang") {
  CHECK(pick_lang("en", "ja") == "en");
  CHECK(pick_lang("ja", "en") == "ja");
  CHECK(pick_lang("fr", "en-US,en;q=0.9") == "en");
  CHECK(pick_lang("", "ja-JP,ja;q=0.9,en;q=0.8") == "ja");
  CHECK(pick_lang("", "en;q=0.5, ja;q=0.8") == "ja");
  CHECK(pick_lang("", "fr-FR, en;q=0.3") == "en");
  CHECK(pick_lang("", "") == "ja");
  CHECK(pick_lang("", "de, fr") == "ja");
  CHECK(pick_lang("", ";;;,,,q=") == "ja");
}

TEST_CASE("serve::client_address") {
  CHECK(client_address("192.0.2.1", "198.51.100.9", false) == "192.0.2.1");
  CHECK(client_address("192.0.2.1", "198.51.100.9", true) == "198.51.100.9");
  CHECK(client_address("192.0.2.1", "1.2.3.4, 198.51.100.9", true) == "198.51.100.9");
  CHECK(client_address("192.0.2.1", "1.2.3.4, 2001:db8::9 ", true) == "2001:db8::9");
  // A forged or broken last entry: the proxy did not write it; the peer is the client.
  CHECK(client_address("192.0.2.1", "1.2.3.4, evil", true) == "192.0.2.1");
  CHECK(client_address("192.0.2.1", "", true) == "192.0.2.1");
}

TEST_CASE("serve::random_id and plausible_id") {
  std::set<std::string> seen;
  for (int i = 0; i < 200; ++i) {
    const auto id = random_id();
    CHECK(plausible_id(id));
    seen.insert(id);
  }
  CHECK(seen.size() == 200);
  CHECK_FALSE(plausible_id(""));
  CHECK_FALSE(plausible_id("../../../../etc/passwd"));
  CHECK_FALSE(plausible_id("abcdefghijklmnopqrstu<"));
  CHECK_FALSE(plausible_id("123"));
}

TEST_CASE("serve::parse_listen") {
  CHECK(parse_listen("127.0.0.1:8080") == std::optional(std::pair<std::string, int>("127.0.0.1", 8080)));
  CHECK(parse_listen("[::1]:80") == std::optional(std::pair<std::string, int>("::1", 80)));
  CHECK(parse_listen("[::]:8080") == std::optional(std::pair<std::string, int>("::", 8080)));
  CHECK(!parse_listen("localhost:8080"));
  CHECK(!parse_listen("127.0.0.1"));
  CHECK(!parse_listen("127.0.0.1:0"));
  CHECK(!parse_listen("127.0.0.1:65536"));
  CHECK(!parse_listen("::1:80"));
  CHECK(!parse_listen("[::1]"));
  CHECK(!parse_listen("127.0.0.1:80x"));
}
