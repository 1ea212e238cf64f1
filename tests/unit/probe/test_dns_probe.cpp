// The DNS probe's pure parts: the reverse-DNS name of an address (gather_dns itself runs end to
// end in the lab, tests/lab).
#include <doctest/doctest.h>

#include "probe/dns_probe.hpp"

using namespace certdoctor;

TEST_CASE("probe::reverse_name") {
  CHECK(probe::reverse_name("203.0.113.10") == "10.113.0.203.in-addr.arpa");
  CHECK(probe::reverse_name("2001:db8:10::10") ==
        "0.1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.1.0.0.8.b.d.0.1.0.0.2.ip6.arpa");
  CHECK(probe::reverse_name("2001:DB8::1") ==
        "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa");
  CHECK(probe::reverse_name("example.jp").empty());
  CHECK(probe::reverse_name("203.0.113").empty());
  CHECK(probe::reverse_name("").empty());
}
