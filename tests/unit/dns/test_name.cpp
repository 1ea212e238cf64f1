#include "dns/name.hpp"

#include "util/error.hpp"

#include <doctest/doctest.h>

#include <string>
#include <vector>

using namespace certdoctor;
using namespace certdoctor::dns;

namespace {

std::string usage_error(std::string_view input) {
  try {
    (void)normalize(input);
  } catch (const UsageError& e) {
    return e.what();
  }
  return "(no error)";
}

std::string encode_error(std::string_view input) {
  try {
    (void)encode_name(input);
  } catch (const UsageError& e) {
    return e.what();
  }
  return "(no error)";
}

} // namespace

TEST_CASE("Name::normalize") {
  SUBCASE("lower-cases and strips one trailing dot") {
    CHECK(normalize("WWW.Example.JP.") == "www.example.jp");
    CHECK(normalize("_acme-challenge.example.jp") == "_acme-challenge.example.jp");
    CHECK(normalize("xn--eckwd4c7c.xn--zckzah") == "xn--eckwd4c7c.xn--zckzah");
    CHECK(normalize("jp") == "jp");
  }
  SUBCASE("accepts a 63-character label and a 253-character name") {
    std::string l63(63, 'a');
    CHECK(normalize(l63 + ".jp") == l63 + ".jp");
    std::string n253 = l63 + "." + l63 + "." + l63 + "." + std::string(61, 'b');
    REQUIRE(n253.size() == 253);
    CHECK(normalize(n253 + ".") == n253);
  }
  SUBCASE("error messages") {
    CHECK(usage_error("") == "invalid domain name \"\": the name is empty");
    CHECK(usage_error(".") == "invalid domain name \".\": the name is empty");
    CHECK(usage_error("a..example.jp") == "invalid domain name \"a..example.jp\": empty label");
    CHECK(usage_error(".example.jp") == "invalid domain name \".example.jp\": empty label");
    CHECK(usage_error("example.jp..") == "invalid domain name \"example.jp..\": empty label");
    std::string l64(64, 'x');
    CHECK(usage_error(l64 + ".jp") == "invalid domain name \"" + l64 + ".jp\": label \"" + l64 +
                                          "\" is longer than 63 characters");
    std::string l63(63, 'a');
    std::string n254 = l63 + "." + l63 + "." + l63 + "." + std::string(62, 'b');
    REQUIRE(n254.size() == 254);
    CHECK(usage_error(n254) ==
          "invalid domain name \"" + n254 + "\": the name is longer than 253 characters");
    CHECK(usage_error("exa mple.jp") ==
          "invalid domain name \"exa mple.jp\": character ' ' is not allowed (only letters, "
          "digits, '-' and '_'; convert an IDN to its xn-- form first)");
    CHECK(usage_error("\xe4\xbe\x8b.jp") ==
          "invalid domain name \"\\xe4\\xbe\\x8b.jp\": character '\\xe4' is not allowed (only "
          "letters, digits, '-' and '_'; convert an IDN to its xn-- form first)");
    CHECK(usage_error("a/b.jp") ==
          "invalid domain name \"a/b.jp\": character '/' is not allowed (only letters, digits, "
          "'-' and '_'; convert an IDN to its xn-- form first)");
  }
}

TEST_CASE("Name::is_subdomain_or_equal") {
  CHECK(is_subdomain_or_equal("www.example.jp", "example.jp"));
  CHECK(is_subdomain_or_equal("example.jp", "example.jp"));
  CHECK(is_subdomain_or_equal("WWW.Example.JP.", "example.jp"));
  CHECK(is_subdomain_or_equal("example.jp", ""));
  CHECK(is_subdomain_or_equal("", ""));
  CHECK_FALSE(is_subdomain_or_equal("xexample.jp", "example.jp"));
  CHECK_FALSE(is_subdomain_or_equal("example.jp", "www.example.jp"));
  CHECK_FALSE(is_subdomain_or_equal("", "jp"));
  CHECK_FALSE(is_subdomain_or_equal("example.com", "jp"));
  // An escaped dot does not separate labels.
  CHECK_FALSE(is_subdomain_or_equal("a\\.example.jp", "example.jp.x"));
  CHECK_FALSE(is_subdomain_or_equal("www\\.example.jp", "example.jp"));
}

TEST_CASE("Name::parent") {
  CHECK(parent("www.example.jp") == "example.jp");
  CHECK(parent("example.jp.") == "jp");
  CHECK(parent("jp") == "");
  CHECK(parent("a\\.b.jp") == "jp");
  try {
    (void)parent("");
    FAIL("no exception");
  } catch (const UsageError& e) {
    CHECK(std::string(e.what()) == "the root name has no parent");
  }
}

TEST_CASE("Name::ancestors_to_tld") {
  CHECK(ancestors_to_tld("a.b.example.jp") ==
        std::vector<std::string>{"a.b.example.jp", "b.example.jp", "example.jp", "jp"});
  CHECK(ancestors_to_tld("jp.") == std::vector<std::string>{"jp"});
  CHECK(ancestors_to_tld("").empty());
}

TEST_CASE("Name::encode_name") {
  SUBCASE("labels and root") {
    CHECK(encode_name("www.Example.jp") ==
          std::vector<std::uint8_t>{3, 'w', 'w', 'w', 7, 'E', 'x', 'a', 'm', 'p', 'l', 'e', 2, 'j', 'p', 0});
    CHECK(encode_name("jp.") == std::vector<std::uint8_t>{2, 'j', 'p', 0});
    CHECK(encode_name("") == std::vector<std::uint8_t>{0});
    CHECK(encode_name(".") == std::vector<std::uint8_t>{0});
  }
  SUBCASE("escapes") {
    CHECK(encode_name("a\\.b.jp") == std::vector<std::uint8_t>{3, 'a', '.', 'b', 2, 'j', 'p', 0});
    CHECK(encode_name("\\000\\255") == std::vector<std::uint8_t>{2, 0, 255, 0});
    CHECK(encode_name("a\\.") == std::vector<std::uint8_t>{2, 'a', '.', 0});
  }
  SUBCASE("errors") {
    CHECK(encode_error("a..jp") == "invalid domain name \"a..jp\": empty label");
    CHECK(encode_error(std::string(64, 'a')) == "invalid domain name \"" + std::string(64, 'a') +
                                                    "\": label longer than 63 octets");
    std::string l63(63, 'a');
    std::string n = l63 + "." + l63 + "." + l63 + "." + l63;
    CHECK(encode_error(n) == "invalid domain name \"" + n +
                                 "\": the name is longer than 255 octets in wire format");
    CHECK(encode_error("a\\") == "invalid domain name \"a\\\\\": backslash at the end of the name");
    CHECK(encode_error("a\\12") == "invalid domain name \"a\\\\12\": \\DDD escape needs three digits");
    CHECK(encode_error("a\\256") == "invalid domain name \"a\\\\256\": \\DDD escape is larger than 255");
  }
}
