#include <doctest/doctest.h>

#include "util/domain.hpp"
#include "util/error.hpp"
#include "../messages.hpp"

namespace {
const bool messages_installed = certdoctor::test::install_english_messages();
}

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
  SUBCASE("an xn-- label that is no valid IDNA2008 name is refused") {
    // Found by fuzz_domain: it decodes to parenthesized ideographs (U+3229...), which IDNA2008
    // disallows, so the label does not encode back to itself.
    CHECK_THROWS_WITH_AS(parse_domain("xn--eckwd41cxamplexn.j7jppc.xkzah"),
                         "'xn--eckwd41cxamplexn.j7jppc.xkzah' has an xn-- label that is no valid internationalized "
                         "name (IDNA2008): Let's Encrypt refuses it; check the name, or type it in its Unicode form",
                         UsageError);
    CHECK_THROWS_AS(parse_domain("www.xn--eckwd41cxamplexn.jp"), UsageError);
    CHECK_THROWS_AS(parse_domain("xn--zz.jp"), UsageError);
    CHECK(parse_domain("www.xn--wgv71a119e.jp").unicode == "www.日本語.jp");
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
  SUBCASE("specific hints for what people paste") {
    CHECK_THROWS_WITH_AS(parse_domain("a..b.jp"),
                         "'a..b.jp' has an empty label (two dots in a row, or a leading dot): remove the extra dot",
                         UsageError);
    CHECK_THROWS_WITH_AS(parse_domain("example.jp:8080"),
                         "'example.jp:8080' has a port: HTTP-01 validation always uses port 80, so give the name "
                         "alone, e.g. certdoctor check example.jp",
                         UsageError);
    CHECK_THROWS_WITH_AS(parse_domain("example.jp/index.html"),
                         "'example.jp/index.html' has a path after the name: give the host name alone, e.g. "
                         "certdoctor check example.jp",
                         UsageError);
    CHECK_THROWS_WITH_AS(parse_domain("_acme.example.jp"),
                         "'_acme.example.jp' contains an underscore: Let's Encrypt issues certificates only for host "
                         "names of letters, digits and hyphens",
                         UsageError);
    CHECK_THROWS_WITH_AS(parse_domain("nas.local"),
                         "'nas.local' ends in .local, a name for private or special use that is not in the public "
                         "DNS: Let's Encrypt cannot validate it; give the public domain of the site",
                         UsageError);
    CHECK_THROWS_AS(parse_domain("intranet.internal"), UsageError);
    CHECK_THROWS_AS(parse_domain("printer.lan"), UsageError);
    CHECK_THROWS_AS(parse_domain("router.home.arpa"), UsageError);
    CHECK_THROWS_WITH_AS(parse_domain("example.123"),
                         "'example.123' ends in an all-digit label, which is no top-level domain: check the name",
                         UsageError);
  }
  SUBCASE("echoed input is escaped and cut") {
    CHECK_THROWS_WITH_AS(parse_domain("bad\x1b[31m.jp"),
                         "'bad\\x1b[31m.jp' contains a space or a control character: a domain name has letters, "
                         "digits, hyphens and dots",
                         UsageError);
    try {
      parse_domain(std::string(600, 'a') + "/x");
      FAIL("no error");
    } catch (const UsageError& e) {
      CHECK(std::string(e.what()).size() < 400);
      CHECK(std::string(e.what()).find("...") != std::string::npos);
    }
  }
}
