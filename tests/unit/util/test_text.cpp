#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "util/text.hpp"

using namespace certdoctor;

TEST_CASE("text::lower") {
  CHECK(lower("WWW.Example.JP") == "www.example.jp");
  CHECK(lower("ドメイン/SSL") == "ドメイン/ssl");  // UTF-8 bytes are left alone
  CHECK(lower("") == "");
}

TEST_CASE("text::contains_nocase") {
  CHECK(contains_nocase("Server: SiteGuard_Lite", "siteguard"));
  CHECK_FALSE(contains_nocase("nginx", "apache"));
  CHECK_FALSE(contains_nocase("anything", ""));
}

TEST_CASE("text::glob_match") {
  CHECK(glob_match("*.dns.ne.jp", "ns1.DNS.ne.jp"));
  CHECK(glob_match("ns?.xserver.jp", "ns3.xserver.jp"));
  CHECK_FALSE(glob_match("ns?.xserver.jp", "ns10.xserver.jp"));
  CHECK_FALSE(glob_match("*.dns.ne.jp", "dns.ne.jp"));
  CHECK(glob_match("*@*.sakura.ad.jp", "info@mail.sakura.ad.jp"));
  // A hostile pattern against a long name ends quickly (one backtrack point).
  CHECK_FALSE(glob_match("*a*a*a*a*a*a*a*b", std::string(10000, 'a')));
}

TEST_CASE("text::edit_distance") {
  CHECK(edit_distance("when", "when") == 0);
  CHECK(edit_distance("whne", "when") == 1);  // a transposition counts once
  CHECK(edit_distance("sakra", "sakura") == 1);
  CHECK(edit_distance("", "abc") == 3);
}

TEST_CASE("text::did_you_mean") {
  const std::vector<std::string> keys = {"id", "severity", "source", "each", "as", "when", "arguments", "text"};
  CHECK(did_you_mean("whne", keys) == " (did you mean 'when'?)");
  CHECK(did_you_mean("severty", keys) == " (did you mean 'severity'?)");
  CHECK(did_you_mean("argument", keys) == " (did you mean 'arguments'?)");
  CHECK(did_you_mean("zzzzzzzz", keys) == "");
  CHECK(did_you_mean("x", keys) == "");
  CHECK(did_you_mean("when", keys) == "");  // the word itself is no suggestion
  CHECK(closest_name("xsrever", {"sakura", "xserver", "generic"}) == "xserver");
  CHECK(closest_name(std::string(100, 'a'), {"a"}) == "");
}

TEST_CASE("text::printable") {
  CHECK(printable("example.jp") == "example.jp");
  CHECK(printable("日本語.jp") == "日本語.jp");
  CHECK(printable("a\tb\nc") == "a\\tb\\nc");
  CHECK(printable("\x1b[2J") == "\\x1b[2J");
  CHECK(printable("\x7f") == "\\x7f");
  CHECK(printable("\xc2\x9b") == "\\xc2\\x9b");   // C1 control (CSI)
  CHECK(printable("\xff\xfe") == "\\xff\\xfe");   // not UTF-8
  CHECK(printable("\xe3\x81") == "\\xe3\\x81");   // truncated sequence
  CHECK(printable("\xed\xa0\x80") == "\\xed\\xa0\\x80");  // a surrogate
  CHECK(printable("abcdef", 3) == "abc...");
  CHECK(printable("日本語", 2) == "日本...");
  CHECK(printable("abc", 3) == "abc");
}
