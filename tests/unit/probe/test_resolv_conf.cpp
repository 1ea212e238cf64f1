#include "probe/resolv_conf.hpp"

#include "util/error.hpp"

#include <doctest/doctest.h>

#include <cstdio>
#include <fstream>
#include <string>
#include <unistd.h>

using namespace certdoctor;
using namespace certdoctor::probe;

namespace {

std::string resolvers_error(const std::string& path) {
  try {
    (void)system_resolvers(path);
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

std::string temp_file(const std::string& content) {
  char path[] = "/tmp/certdoctor-resolv-XXXXXX";
  int fd = ::mkstemp(path);
  REQUIRE(fd >= 0);
  ::close(fd);
  std::ofstream(path) << content;
  return path;
}

} // namespace

TEST_CASE("ResolvConf::parse_resolv_conf") {
  SUBCASE("nameserver lines in order, others ignored") {
    auto servers = parse_resolv_conf(
        "# generated\n"
        "; also a comment\n"
        "search example.jp\n"
        "options edns0 trust-ad rotate\n"
        "nameserver 192.0.2.53\n"
        "  nameserver\t2001:DB8::53   # trailing words are ignored\n"
        "#nameserver 198.51.100.1\n"
        "nameserver fe80::1%eth0\n"
        "nameserver resolver.example.jp\n"
        "nameserver\n"
        "domain example.jp\n"
        "nameserver 203.0.113.9\r\n"
        "nameserver 127.0.0.53");
    REQUIRE(servers.size() == 5);
    CHECK(servers[0] == DnsServer{"192.0.2.53", 53});
    CHECK(servers[1] == DnsServer{"2001:db8::53", 53});
    CHECK(servers[2] == DnsServer{"fe80::1", 53});
    CHECK(servers[3] == DnsServer{"203.0.113.9", 53});
    CHECK(servers[4] == DnsServer{"127.0.0.53", 53});
  }
  SUBCASE("nothing listed") {
    CHECK(parse_resolv_conf("").empty());
    CHECK(parse_resolv_conf("search example.jp\n# nameserver 192.0.2.1\n").empty());
  }
}

TEST_CASE("ResolvConf::system_resolvers") {
  SUBCASE("reads a file") {
    std::string path = temp_file("nameserver 192.0.2.1\nnameserver ::1\n");
    auto servers = system_resolvers(path);
    std::remove(path.c_str());
    REQUIRE(servers.size() == 2);
    CHECK(servers[0].to_string() == "192.0.2.1");
    CHECK(servers[1].to_string() == "::1");
  }
  SUBCASE("missing file") {
    CHECK(resolvers_error("/nonexistent/resolv.conf") ==
          "cannot read the resolver list \"/nonexistent/resolv.conf\": No such file or directory; "
          "use --resolver to name a DNS server");
  }
  SUBCASE("a directory") {
    CHECK(resolvers_error("/") ==
          "cannot read the resolver list \"/\": Is a directory; use --resolver to name a DNS server");
  }
  SUBCASE("no nameserver line") {
    std::string path = temp_file("search example.jp\n");
    std::string error = resolvers_error(path);
    std::remove(path.c_str());
    CHECK(error == "no nameserver is listed in \"" + path + "\"; use --resolver to name a DNS server");
  }
}
