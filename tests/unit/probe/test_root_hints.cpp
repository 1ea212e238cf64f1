#include "probe/root_hints.hpp"

#include "util/error.hpp"

#include <doctest/doctest.h>

#include <fstream>
#include <string>

using namespace certdoctor;
using namespace certdoctor::probe;

namespace {

std::string hints_error(const std::string& text) {
  try {
    (void)parse_root_hints(text, "hints.txt");
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "(no error)";
}

} // namespace

TEST_CASE("RootHints::parse_root_hints") {
  SUBCASE("named.root format") {
    auto servers = parse_root_hints(
        ";       This file holds the information on root name servers\n"
        ";\n"
        ".                        3600000      NS    A.ROOT-SERVERS.NET.\n"
        "A.ROOT-SERVERS.NET.      3600000      A     198.41.0.4\n"
        "A.ROOT-SERVERS.NET.      3600000      AAAA  2001:0503:ba3e::2:30\n"
        "; comment\n"
        ". IN 3600000 NS b.root-servers.net. ; trailing comment\n"
        "b.root-servers.net. IN A 170.247.170.2\n"
        "\n"
        ".\tNS\tz.example.\n"
        "z.example AAAA 2001:db8::53\n"
        ". 3600000 NS a.root-servers.net.\n"
        "a.root-servers.net. A 198.41.0.4\n",
        "named.root");
    REQUIRE(servers.size() == 3);
    CHECK(servers[0].name == "a.root-servers.net");
    CHECK(servers[0].addresses == std::vector<std::string>{"198.41.0.4", "2001:503:ba3e::2:30"});
    CHECK(servers[1].name == "b.root-servers.net");
    CHECK(servers[1].addresses == std::vector<std::string>{"170.247.170.2"});
    CHECK(servers[2].name == "z.example");
    CHECK(servers[2].addresses == std::vector<std::string>{"2001:db8::53"});
  }
  SUBCASE("errors name the file and line") {
    CHECK(hints_error(". NS\n") == "hints.txt:1: expected \"OWNER [TTL] [CLASS] TYPE DATA\"");
    CHECK(hints_error("\n. 1 IN NS a. extra\n") ==
          "hints.txt:2: expected \"OWNER [TTL] [CLASS] TYPE DATA\"");
    CHECK(hints_error(". CH NS a.\n") == "hints.txt:1: class \"CH\" is not IN");
    CHECK(hints_error(". 1 MX a.\n") == "hints.txt:1: record type \"MX\" is not NS, A or AAAA");
    CHECK(hints_error("jp. NS a.\n") == "hints.txt:1: NS record for \"jp.\" instead of the root \".\"");
    CHECK(hints_error(". NS a..b.\n") == "hints.txt:1: invalid domain name \"a..b.\": empty label");
    CHECK(hints_error(". NS a.\na. A 2001:db8::1\n") ==
          "hints.txt:2: \"2001:db8::1\" is not an IPv4 address");
    CHECK(hints_error(". NS a.\na. AAAA 192.0.2.1\n") ==
          "hints.txt:2: \"192.0.2.1\" is not an IPv6 address");
    CHECK(hints_error(". NS a.\na. A 192.0.2.1\nb. A 192.0.2.2\n") ==
          "hints.txt:3: address of \"b\", which no root NS record names");
    CHECK(hints_error("; empty\n") == "hints.txt: no NS records for the root");
    CHECK(hints_error(". NS a.\na. A 192.0.2.1\n. NS b.\n") ==
          "hints.txt:3: root server \"b\" has no A or AAAA record");
  }
}

TEST_CASE("RootHints::builtin_root_servers") {
  auto servers = builtin_root_servers();
  REQUIRE(servers.size() == 13);
  for (std::size_t i = 0; i < servers.size(); ++i) {
    CHECK(servers[i].name == std::string(1, static_cast<char>('a' + i)) + ".root-servers.net");
    CHECK(servers[i].addresses.size() == 2);
  }
  CHECK(servers[0].addresses == std::vector<std::string>{"198.41.0.4", "2001:503:ba3e::2:30"});
  CHECK(servers[1].addresses == std::vector<std::string>{"170.247.170.2", "2801:1b8:10::b"});
  CHECK(servers[12].addresses == std::vector<std::string>{"202.12.27.33", "2001:dc3::35"});

  // Debian's dns-root-data copy of the IANA file, when installed, must agree.
  const std::string iana = "/usr/share/dns/root.hints";
  if (std::ifstream(iana).good()) {
    auto from_file = load_root_hints(iana);
    REQUIRE(from_file.size() == servers.size());
    for (std::size_t i = 0; i < servers.size(); ++i) {
      CHECK(from_file[i].name == servers[i].name);
      CHECK(from_file[i].addresses == servers[i].addresses);
    }
  } else {
    MESSAGE("no " << iana << "; comparison with the IANA file skipped");
  }
}

TEST_CASE("RootHints::load_root_hints") {
  try {
    (void)load_root_hints("/nonexistent/named.root");
    FAIL("no exception");
  } catch (const ConfigError& e) {
    CHECK(std::string(e.what()) ==
          "cannot read the root hints file \"/nonexistent/named.root\": No such file or directory");
  }
}
