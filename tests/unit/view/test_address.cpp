#include <doctest/doctest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "view/address.hpp"
#include "util/error.hpp"
#include "../temp_dir.hpp"

using namespace certdoctor::view::address;
namespace fs = std::filesystem;

namespace {

const fs::path kDataDir = fs::path(CERTDOCTOR_SOURCE_RULES_DIR) / "data";

const AddressClassifier& shipped() {
  static const AddressClassifier classifier = AddressClassifier::load({kDataDir});
  return classifier;
}

// A scratch directory removed when the test ends.
std::string load_error(const std::vector<fs::path>& dirs) {
  try {
    AddressClassifier::load(dirs);
  } catch (const certdoctor::ConfigError& e) {
    return e.what();
  }
  return "no error";
}

std::string special_error(const std::string& yaml) {
  TempDir dir;
  const auto file = dir.write("special-purpose.yaml", yaml);
  auto message = load_error({dir.path()});
  // Keep the assertions independent of the scratch directory's name.
  if (message.rfind(file, 0) == 0) message.replace(0, file.size(), "special-purpose.yaml");
  return message;
}

std::string cdn_error(const std::string& yaml) {
  TempDir dir;
  const auto file = dir.write("cdn-ranges.yaml", yaml);
  auto message = load_error({dir.path()});
  if (message.rfind(file, 0) == 0) message.replace(0, file.size(), "cdn-ranges.yaml");
  return message;
}

std::string entry(const std::string& fields) {
  return "special_purpose:\n  - {" + fields + "}\n";
}

}  // namespace

TEST_CASE("AddressClassifier::classify") {
  const auto& c = shipped();

  SUBCASE("each kind") {
    struct Row {
      const char* address;
      const char* kind;
      const char* block;
      const char* name;
      bool global;
    };
    const Row rows[] = {
        {"0.1.2.3", "this-network", "0.0.0.0/8", "This network", false},
        {"0.0.0.0", "unspecified", "0.0.0.0/32", "This host on this network", false},
        {"::", "unspecified", "::/128", "Unspecified Address", false},
        {"10.20.30.40", "private", "10.0.0.0/8", "Private-Use", false},
        {"172.31.255.255", "private", "172.16.0.0/12", "Private-Use", false},
        {"192.168.1.1", "private", "192.168.0.0/16", "Private-Use", false},
        {"fd12:3456::1", "private", "fc00::/7", "Unique-Local", false},
        {"100.64.0.1", "shared", "100.64.0.0/10", "Shared Address Space", false},
        {"127.0.0.1", "loopback", "127.0.0.0/8", "Loopback", false},
        {"::1", "loopback", "::1/128", "Loopback Address", false},
        {"169.254.169.254", "link-local", "169.254.0.0/16", "Link Local", false},
        {"fe80::1", "link-local", "fe80::/10", "Link-Local Unicast", false},
        {"192.0.0.200", "protocol-assignment", "192.0.0.0/24", "IETF Protocol Assignments", false},
        {"64:ff9b::808:808", "transition", "64:ff9b::/96", "IPv4-IPv6 Translation", true},
        {"2002:c000:201::1", "transition", "2002::/16", "6to4", false},
        {"192.0.0.9", "anycast", "192.0.0.9/32", "Port Control Protocol Anycast", true},
        {"192.0.2.1", "documentation", "192.0.2.0/24", "Documentation (TEST-NET-1)", false},
        {"198.51.100.7", "documentation", "198.51.100.0/24", "Documentation (TEST-NET-2)", false},
        {"203.0.113.255", "documentation", "203.0.113.0/24", "Documentation (TEST-NET-3)", false},
        {"2001:db8::1", "documentation", "2001:db8::/32", "Documentation", false},
        {"3fff:fff::1", "documentation", "3fff::/20", "Documentation", false},
        {"198.19.255.1", "benchmarking", "198.18.0.0/15", "Benchmarking", false},
        {"2001:2::1", "benchmarking", "2001:2::/48", "Benchmarking", false},
        {"100::1", "discard", "100::/64", "Discard-Only Address Block", false},
        {"192.88.99.1", "deprecated", "192.88.99.0/24", "Deprecated (6to4 Relay Anycast)", false},
        {"240.0.0.1", "reserved", "240.0.0.0/4", "Reserved", false},
        {"255.255.255.254", "reserved", "240.0.0.0/4", "Reserved", false},
        {"255.255.255.255", "broadcast", "255.255.255.255/32", "Limited Broadcast", false},
        {"224.0.0.251", "multicast", "224.0.0.0/4", "Multicast", false},
        {"239.255.255.250", "multicast", "224.0.0.0/4", "Multicast", false},
        {"ff02::fb", "multicast", "ff00::/8", "Multicast", false},
    };
    for (const auto& row : rows) {
      CAPTURE(row.address);
      const auto got = c.classify(row.address);
      CHECK(got.valid);
      CHECK(got.reserved);
      CHECK(got.kind == row.kind);
      CHECK(got.block == row.block);
      CHECK(got.block_name == row.name);
      CHECK(got.global == row.global);
      CHECK_FALSE(got.v4_mapped);
    }
  }

  SUBCASE("ordinary addresses") {
    for (const auto* address : {"8.8.8.8", "1.1.1.1", "133.242.0.1", "2001:4860:4860::8888", "2400:8500::1"}) {
      CAPTURE(address);
      const auto got = c.classify(address);
      CHECK(got.valid);
      CHECK_FALSE(got.reserved);
      CHECK(got.global);
      CHECK(got.block.empty());
      CHECK(got.kind.empty());
      CHECK(got.cdn.empty());
    }
  }

  SUBCASE("family and RFC") {
    const auto v4 = c.classify("192.0.2.1");
    CHECK(v4.family == 4);
    CHECK(v4.rfc == "5737");
    const auto v6 = c.classify("2001:db8::1");
    CHECK(v6.family == 6);
    CHECK(v6.rfc == "3849");
  }

  SUBCASE("longest prefix wins") {
    CHECK(c.classify("192.0.0.8").block == "192.0.0.8/32");
    CHECK(c.classify("192.0.0.8").kind == "protocol-assignment");
    CHECK(c.classify("192.0.0.5").block == "192.0.0.0/29");
    CHECK(c.classify("192.0.0.5").kind == "transition");
    CHECK(c.classify("192.0.0.100").block == "192.0.0.0/24");
    CHECK(c.classify("192.0.0.170").block == "192.0.0.170/32");
    CHECK(c.classify("0.0.0.0").block == "0.0.0.0/32");
    CHECK(c.classify("0.0.0.1").block == "0.0.0.0/8");
    CHECK(c.classify("2001:1::1").block == "2001:1::1/128");
    CHECK(c.classify("2001:1::4").block == "2001::/23");
    CHECK(c.classify("2001:0:1::1").block == "2001::/32");
    CHECK(c.classify("2001:0:1::1").block_name == "TEREDO");
    CHECK(c.classify("2001:1ff::1").block == "2001::/23");
    CHECK(c.classify("2001:200::1").block.empty());
  }

  SUBCASE("IPv4-mapped IPv6 is classified as its IPv4 address") {
    const auto doc = c.classify("::ffff:192.0.2.1");
    CHECK(doc.valid);
    CHECK(doc.family == 6);
    CHECK(doc.v4_mapped);
    CHECK(doc.reserved);
    CHECK(doc.block == "192.0.2.0/24");
    CHECK(doc.kind == "documentation");

    const auto hex = c.classify("::ffff:c000:201");
    CHECK(hex.v4_mapped);
    CHECK(hex.block == "192.0.2.0/24");

    const auto loop = c.classify("::FFFF:127.0.0.1");
    CHECK(loop.kind == "loopback");

    const auto plain = c.classify("::ffff:8.8.8.8");
    CHECK(plain.v4_mapped);
    CHECK(plain.reserved);
    CHECK(plain.block == "::ffff:0:0/96");
    CHECK(plain.block_name == "IPv4-mapped Address");
    CHECK(plain.kind == "transition");

    const auto edge = c.classify("::ffff:104.16.0.1");
    CHECK(edge.cdn == "cloudflare");
    CHECK(edge.cdn_range == "104.16.0.0/13");

    // Not mapped: IPv4-compatible and NAT64 forms stay IPv6.
    CHECK_FALSE(c.classify("::192.0.2.1").v4_mapped);
    CHECK(c.classify("::192.0.2.1").block.empty());
    CHECK_FALSE(c.classify("64:ff9b::192.0.2.1").v4_mapped);
  }

  SUBCASE("invalid text") {
    const std::string with_nul("192.0.2.1\0", 10);
    const std::string long_text(1000, '1');
    for (const std::string& text :
         {std::string(), std::string("1.2.3"), std::string("256.1.1.1"), std::string(" 192.0.2.1"),
          std::string("192.0.2.1 "), std::string("fe80::1%eth0"), std::string("01.2.3.4"), std::string("example.jp"),
          std::string("192.0.2.0/24"), std::string("1.2.3.4.5"), std::string("::ffff:1.2.3.4.5"),
          std::string("2001:db8:::1"), std::string("[2001:db8::1]"), std::string("0x7f.0.0.1"), with_nul, long_text}) {
      CAPTURE(text);
      const auto got = c.classify(text);
      CHECK_FALSE(got.valid);
      CHECK(got.family == 0);
      CHECK_FALSE(got.reserved);
      CHECK(got.block.empty());
      CHECK(c.unreachable_for_ca(got, true));
    }
  }

  SUBCASE("CDN ranges") {
    struct Row {
      const char* address;
      const char* range;
    };
    const Row rows[] = {
        {"104.16.0.1", "104.16.0.0/13"},
        {"104.23.255.255", "104.16.0.0/13"},
        {"172.67.1.1", "172.64.0.0/13"},
        {"173.245.63.255", "173.245.48.0/20"},
        {"131.0.72.1", "131.0.72.0/22"},
        {"162.159.1.1", "162.158.0.0/15"},
        {"2606:4700::6810:84e5", "2606:4700::/32"},
        {"2a06:98c7::1", "2a06:98c0::/29"},
        {"2c0f:f248::1", "2c0f:f248::/32"},
    };
    for (const auto& row : rows) {
      CAPTURE(row.address);
      const auto got = c.classify(row.address);
      CHECK(got.cdn == "cloudflare");
      CHECK(got.cdn_name == "Cloudflare");
      CHECK(got.cdn_range == row.range);
      CHECK_FALSE(got.reserved);
      CHECK_FALSE(c.unreachable_for_ca(got, false));
    }
    CHECK(c.classify("104.24.0.0").cdn_range == "104.24.0.0/14");
    CHECK(c.classify("104.28.0.0").cdn.empty());
    CHECK(c.classify("2a06:98c8::1").cdn.empty());
    CHECK(c.classify("1.1.1.1").cdn.empty());
  }
}

TEST_CASE("AddressClassifier::unreachable_for_ca") {
  const auto& c = shipped();
  SUBCASE("public addresses are reachable") {
    CHECK_FALSE(c.unreachable_for_ca(c.classify("8.8.8.8"), false));
    CHECK_FALSE(c.unreachable_for_ca(c.classify("2001:4860:4860::8888"), false));
  }
  SUBCASE("every special block is unreachable outside lab mode") {
    for (const auto* address : {"192.0.2.1", "10.0.0.1", "fd00::1", "127.0.0.1", "0.0.0.0", "224.0.0.1", "169.254.0.1",
                                "100.64.0.1", "192.0.0.9", "64:ff9b::808:808", "2002::1"}) {
      CAPTURE(address);
      CHECK(c.unreachable_for_ca(c.classify(address), false));
    }
  }
  SUBCASE("lab mode reaches documentation and private blocks") {
    for (const auto* address : {"192.0.2.1", "198.51.100.1", "203.0.113.1", "2001:db8::1", "10.0.0.1", "172.16.0.1",
                                "192.168.0.1", "fd00::1"}) {
      CAPTURE(address);
      CHECK_FALSE(c.unreachable_for_ca(c.classify(address), true));
    }
  }
  SUBCASE("lab mode never reaches loopback, unspecified, multicast, link-local and the rest") {
    for (const auto* address : {"127.0.0.1", "::1", "0.0.0.0", "::", "0.1.2.3", "224.0.0.1", "ff02::1", "169.254.0.1",
                                "fe80::1", "255.255.255.255", "240.0.0.1", "100.64.0.1", "198.18.0.1"}) {
      CAPTURE(address);
      CHECK(c.unreachable_for_ca(c.classify(address), true));
    }
  }
  SUBCASE("IPv4-mapped addresses are never used") {
    CHECK(c.unreachable_for_ca(c.classify("::ffff:8.8.8.8"), false));
    CHECK(c.unreachable_for_ca(c.classify("::ffff:192.0.2.1"), true));
  }
}

TEST_CASE("AddressClassifier::load") {
  SUBCASE("no directories, or directories without data, give no blocks") {
    TempDir empty;
    for (const auto& c : {AddressClassifier::load({}), AddressClassifier::load({empty.path()})}) {
      const auto got = c.classify("127.0.0.1");
      CHECK(got.valid);
      CHECK_FALSE(got.reserved);
      CHECK(got.kind.empty());
      // Let's Encrypt drops IPv4-mapped addresses even without data saying so.
      CHECK(c.classify("::ffff:8.8.8.8").reserved);
      CHECK(c.classify("::ffff:8.8.8.8").block.empty());
    }
  }

  SUBCASE("an empty file has no entries") {
    TempDir dir;
    dir.write("special-purpose.yaml", "");
    dir.write("cdn-ranges.yaml", "# nothing yet\n");
    const auto c = AddressClassifier::load({dir.path()});
    CHECK_FALSE(c.classify("192.0.2.1").reserved);
  }

  SUBCASE("later directories add entries") {
    TempDir lab;
    lab.write("special-purpose.yaml",
              "special_purpose:\n"
              "  - {block: 192.0.2.0/25, name: Lab servers, kind: private, rfc: \"1918\", global: false}\n"
              "  - {block: 198.51.100.0/24, name: Lab clients, kind: private, rfc: \"1918\", global: false}\n");
    lab.write("cdn-ranges.yaml",
              "cdn_ranges:\n"
              "  - {cdn: lab-cdn, name: Lab CDN, ranges: [192.0.2.128/25, \"2001:db8:cd::/48\"]}\n"
              "  - {cdn: cloudflare, name: Cloudflare, ranges: [104.16.1.0/24]}\n");
    const auto c = AddressClassifier::load({kDataDir, lab.path()});

    const auto inner = c.classify("192.0.2.1");
    CHECK(inner.block == "192.0.2.0/25");
    CHECK(inner.block_name == "Lab servers");
    CHECK(inner.kind == "private");

    const auto outer = c.classify("192.0.2.200");
    CHECK(outer.block == "192.0.2.0/24");
    CHECK(outer.kind == "documentation");
    CHECK(outer.cdn == "lab-cdn");
    CHECK(outer.cdn_name == "Lab CDN");
    CHECK(outer.cdn_range == "192.0.2.128/25");

    const auto same = c.classify("198.51.100.1");
    CHECK(same.block == "198.51.100.0/24");
    CHECK(same.block_name == "Lab clients");

    CHECK(c.classify("2001:db8:cd::1").cdn == "lab-cdn");
    CHECK(c.classify("104.16.1.1").cdn_range == "104.16.1.0/24");
    CHECK(c.classify("104.16.2.1").cdn_range == "104.16.0.0/13");
    CHECK(c.classify("127.0.0.1").kind == "loopback");

    // The order of directories decides which of two identical blocks describes an address.
    CHECK(AddressClassifier::load({lab.path(), kDataDir}).classify("198.51.100.1").block_name ==
          "Documentation (TEST-NET-2)");
  }
}

TEST_CASE("AddressClassifier::load errors") {
  SUBCASE("YAML syntax") {
    CHECK(special_error("special_purpose:\n  - {block: 192.0.2.0/24}}\n") ==
          "special-purpose.yaml:2: illegal flow end");
    CHECK(special_error("special_purpose:\n  - {block: \"192.0.2.0\\q\"}\n") ==
          "special-purpose.yaml:2: unknown escape character: q");
    CHECK(special_error("special_purpose:\n  - {block: 192.0.2.0/24, name: \"unterminated}\n") ==
          "special-purpose.yaml:3: end of map flow not found");
  }
  SUBCASE("top level") {
    CHECK(special_error("- 192.0.2.0/24\n") ==
          "special-purpose.yaml:1: expected a mapping with the key \"special_purpose\"");
    CHECK(special_error("cdn_ranges: []\n") ==
          "special-purpose.yaml:1: expected a mapping with the key \"special_purpose\"");
    CHECK(special_error("special_purpose: []\nextra: 1\n") ==
          "special-purpose.yaml:2: unknown key \"extra\" (expected \"special_purpose\")");
    CHECK(special_error("special_purpose: 5\n") == "special-purpose.yaml:1: \"special_purpose\" must be a sequence");
    CHECK(cdn_error("special_purpose: []\n") == "cdn-ranges.yaml:1: expected a mapping with the key \"cdn_ranges\"");
  }
  SUBCASE("entries") {
    CHECK(special_error("special_purpose:\n  - 192.0.2.0/24\n") ==
          "special-purpose.yaml:2: an entry must be a mapping");
    CHECK(special_error(entry("blok: 192.0.2.0/24, name: n, kind: private, rfc: 1, global: false")) ==
          "special-purpose.yaml:2: unknown key \"blok\" (did you mean \"block\"?)");
    CHECK(special_error(entry("block: 192.0.2.0/24, name: n, kind: private, rfc: 1, global: false, colour: red")) ==
          "special-purpose.yaml:2: unknown key \"colour\" (expected one of block, name, kind, rfc, global)");
    CHECK(special_error(entry("block: 192.0.2.0/24, name: n, kind: private, rfc: 1, global: false, name: m")) ==
          "special-purpose.yaml:2: duplicate key \"name\"");
    CHECK(special_error(entry("block: 192.0.2.0/24, name: n, kind: private, global: false")) ==
          "special-purpose.yaml:2: the entry has no \"rfc\"");
    CHECK(special_error(entry("block: 192.0.2.0/24, name: \"\", kind: private, rfc: 1, global: false")) ==
          "special-purpose.yaml:2: \"name\" must be a non-empty string");
    CHECK(special_error(entry("block: 192.0.2.0/24, name: [n], kind: private, rfc: 1, global: false")) ==
          "special-purpose.yaml:2: \"name\" must be a non-empty string");
    CHECK(special_error(entry("block: 192.0.2.0/24, name: n, kind: private, rfc: 1, global: yes")) ==
          "special-purpose.yaml:2: \"global\" must be true or false");
    CHECK(special_error(entry("block: 192.0.2.0/24, name: n, kind: documentaion, rfc: 1, global: false")) ==
          "special-purpose.yaml:2: unknown kind \"documentaion\" (did you mean \"documentation\"?)");
    CHECK(special_error(entry("block: 192.0.2.0/24, name: n, kind: weird, rfc: 1, global: false")) ==
          "special-purpose.yaml:2: unknown kind \"weird\" (expected one of this-network, unspecified, private, "
          "shared, loopback, link-local, protocol-assignment, transition, anycast, documentation, benchmarking, "
          "discard, deprecated, reserved, broadcast, multicast)");
  }
  SUBCASE("address blocks") {
    for (const auto* block : {"192.0.2.0/33", "192.0.2.0", "example/24", "192.0.2.0/024", "192.0.2.0/-1",
                              "2001:db8::/129", "192.0.2.0/ 24"}) {
      CAPTURE(block);
      CHECK(special_error(
                entry(std::string("block: \"") + block + "\", name: n, kind: private, rfc: 1, global: false")) ==
            std::string("special-purpose.yaml:2: invalid address block \"") + block + "\"");
    }
    CHECK(special_error(entry("block: 192.0.2.1/24, name: n, kind: private, rfc: 1, global: false")) ==
          "special-purpose.yaml:2: address block \"192.0.2.1/24\" has bits set after the prefix length "
          "(did you mean \"192.0.2.0/24\"?)");
    CHECK(special_error(entry("block: \"2001:db8::1/32\", name: n, kind: private, rfc: 1, global: false")) ==
          "special-purpose.yaml:2: address block \"2001:db8::1/32\" has bits set after the prefix length "
          "(did you mean \"2001:db8::/32\"?)");
    CHECK(special_error(entry("block: [192.0.2.0/24], name: n, kind: private, rfc: 1, global: false")) ==
          "special-purpose.yaml:2: an address block must be a string like \"192.0.2.0/24\"");
  }
  SUBCASE("CDN ranges") {
    CHECK(cdn_error("cdn_ranges:\n  - {cdn: Cloud Flare, name: Cloudflare, ranges: [104.16.0.0/13]}\n") ==
          "cdn-ranges.yaml:2: \"cdn\" must be lower-case letters, digits and hyphens");
    CHECK(cdn_error("cdn_ranges:\n  - {cdn: cf, name: Cloudflare, ranges: []}\n") ==
          "cdn-ranges.yaml:2: \"ranges\" must be a non-empty sequence of address blocks");
    CHECK(cdn_error("cdn_ranges:\n  - {cdn: cf, name: Cloudflare, range: [104.16.0.0/13]}\n") ==
          "cdn-ranges.yaml:2: unknown key \"range\" (did you mean \"ranges\"?)");
    CHECK(cdn_error("cdn_ranges:\n"
                    "  - cdn: cf\n"
                    "    name: Cloudflare\n"
                    "    ranges:\n"
                    "      - 104.16.0.0/13\n"
                    "      - 104.24.0.0/33\n") == "cdn-ranges.yaml:6: invalid address block \"104.24.0.0/33\"");
  }
  SUBCASE("unreadable") {
    TempDir dir;
    fs::create_directory(dir.path() / "special-purpose.yaml");
    CHECK(load_error({dir.path()}) == (dir.path() / "special-purpose.yaml").string() + ": not a regular file");
  }
  SUBCASE("the error names the directory that has the bad file") {
    TempDir bad;
    bad.write("cdn-ranges.yaml", "cdn_ranges: {}\n");
    CHECK(load_error({kDataDir, bad.path()}) ==
          (bad.path() / "cdn-ranges.yaml").string() + ":1: \"cdn_ranges\" must be a sequence");
  }
}

TEST_CASE("AddressClassifier shipped data") {
  // Every shipped block classifies its own network address as itself.
  const auto& c = shipped();
  for (const auto* block : {"192.0.0.0/29", "192.0.0.171/32", "192.31.196.0/24", "192.52.193.0/24", "192.175.48.0/24",
                            "2001:1::3/128", "2001:3::/32", "2001:4:112::/48", "2001:10::/28", "2001:20::/28",
                            "2001:30::/28", "2620:4f:8000::/48", "5f00::/16", "64:ff9b:1::/48", "100:0:0:1::/64"}) {
    CAPTURE(block);
    const std::string text(block);
    CHECK(c.classify(text.substr(0, text.find('/'))).block == text);
  }
}
