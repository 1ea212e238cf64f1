#include "probe/address_policy.hpp"

#include <netinet/in.h>

#include <algorithm>
#include <cstring>

#include "util/ip.hpp"

namespace certdoctor::probe {

namespace {

using Bytes = IpBytes;

struct Block {
  std::uint8_t bytes[16];
  int length;
  const char* kind;
};

bool inside(const Bytes& address, const Block& b) {
  const int whole = b.length / 8;
  if (std::memcmp(address.data(), b.bytes, static_cast<std::size_t>(whole)) != 0) return false;
  const int rest = b.length % 8;
  if (rest == 0) return true;
  const auto mask = static_cast<std::uint8_t>(0xff << (8 - rest));
  return (address[whole] & mask) == (b.bytes[whole] & mask);
}

// The most specific block first: the first match decides. IPv4 blocks use the first 4 bytes.
// Every block of the IANA IPv4 Special-Purpose Address Registry is here (the CA refuses each one,
// Boulder iana.IsReservedAddr), plus multicast, the reserved class E and the metadata address.
constexpr Block kV4[] = {
    {{169, 254, 169, 254}, 32, "metadata"},
    {{255, 255, 255, 255}, 32, "broadcast"},
    {{0, 0, 0, 0}, 8, "this-network"},
    {{10, 0, 0, 0}, 8, "private"},
    {{100, 64, 0, 0}, 10, "shared"},
    {{127, 0, 0, 0}, 8, "loopback"},
    {{169, 254, 0, 0}, 16, "link-local"},
    {{172, 16, 0, 0}, 12, "private"},
    {{192, 0, 0, 0}, 24, "protocol-assignment"},
    {{192, 0, 2, 0}, 24, "documentation"},
    {{192, 31, 196, 0}, 24, "protocol-assignment"},
    {{192, 52, 193, 0}, 24, "protocol-assignment"},
    {{192, 88, 99, 0}, 24, "reserved"},
    {{192, 168, 0, 0}, 16, "private"},
    {{192, 175, 48, 0}, 24, "protocol-assignment"},
    {{198, 18, 0, 0}, 15, "benchmarking"},
    {{198, 51, 100, 0}, 24, "documentation"},
    {{203, 0, 113, 0}, 24, "documentation"},
    {{224, 0, 0, 0}, 4, "multicast"},
    {{240, 0, 0, 0}, 4, "reserved"},
};

// IPv6: the forms that carry an IPv4 address are handled before this table; everything outside
// 2000::/3 (global unicast) is refused after it.
constexpr Block kV6[] = {
    {{0xfe, 0x80}, 10, "link-local"},
    {{0xfe, 0xc0}, 10, "site-local"},
    {{0xfc}, 7, "private"},
    {{0xff}, 8, "multicast"},
    {{0x01, 0x00, 0, 0, 0, 0, 0, 0}, 64, "discard"},
    {{0x20, 0x01, 0x00, 0x00}, 32, "teredo"},
    {{0x20, 0x01, 0x0d, 0xb8}, 32, "documentation"},
    {{0x3f, 0xff}, 20, "documentation"},
    {{0x20, 0x01, 0x00}, 23, "protocol-assignment"},
    {{0x20, 0x02}, 16, "6to4"},
    {{0x26, 0x20, 0x00, 0x4f, 0x80, 0x00}, 48, "protocol-assignment"},
    {{0x5f, 0x00}, 16, "protocol-assignment"},
};

std::string v4_class(const std::uint8_t* four) {
  Bytes b{};
  std::copy(four, four + 4, b.begin());
  for (const auto& block : kV4)
    if (inside(b, block)) return block.kind;
  return "";
}

std::string v6_class(const Bytes& b) {
  const bool zero80 = std::all_of(b.begin(), b.begin() + 10, [](std::uint8_t x) { return x == 0; });
  // ::ffff:a.b.c.d (IPv4-mapped): the CA drops every one of them, whatever a.b.c.d is.
  if (zero80 && b[10] == 0xff && b[11] == 0xff) {
    const auto inner = v4_class(b.data() + 12);
    return inner.empty() ? "ipv4-mapped" : "ipv4-mapped " + inner;
  }
  if (zero80 && b[10] == 0 && b[11] == 0) {
    if (std::all_of(b.begin() + 12, b.end() - 1, [](std::uint8_t x) { return x == 0; })) {
      if (b[15] == 0) return "unspecified";
      if (b[15] == 1) return "loopback";
    }
    // ::a.b.c.d (IPv4-compatible, deprecated by RFC 4291).
    const auto inner = v4_class(b.data() + 12);
    return inner.empty() ? "ipv4-compatible" : "ipv4-compatible " + inner;
  }
  // 64:ff9b::/96 (NAT64, RFC 6052) and 64:ff9b:1::/48 (local NAT64, RFC 8215): a translator
  // would connect to the IPv4 address inside.
  if (b[0] == 0x00 && b[1] == 0x64 && b[2] == 0xff && b[3] == 0x9b) {
    const bool well_known = std::all_of(b.begin() + 4, b.begin() + 12, [](std::uint8_t x) { return x == 0; });
    if (well_known) {
      const auto inner = v4_class(b.data() + 12);
      return inner.empty() ? "nat64" : "nat64 " + inner;
    }
    return "nat64";
  }
  for (const auto& block : kV6)
    if (inside(b, block)) return block.kind;
  if ((b[0] & 0xe0) != 0x20) return "reserved";  // outside 2000::/3
  return "";
}

bool parse(std::string_view text, int& family, Bytes& bytes) {
  // "[2001:db8::1]" as libcurl writes IPv6 hosts.
  if (text.size() > 2 && text.front() == '[' && text.back() == ']') text = text.substr(1, text.size() - 2);
  return parse_ip(text, family, bytes);
}

std::string class_of(int family, const Bytes& bytes) { return family == 4 ? v4_class(bytes.data()) : v6_class(bytes); }

}  // namespace

const char* to_string(AddressPolicy::Mode mode) {
  switch (mode) {
    case AddressPolicy::Mode::open: return "open";
    case AddressPolicy::Mode::internet: return "internet";
    case AddressPolicy::Mode::lab: return "lab";
  }
  return "open";
}

std::string AddressPolicy::classify(std::string_view address) {
  int family = 0;
  Bytes bytes{};
  if (!parse(address, family, bytes)) return "not-an-address";
  return class_of(family, bytes);
}

std::string AddressPolicy::decide(int family, const Bytes& bytes) const {
  if (mode_ == Mode::open) return "";
  const auto kind = class_of(family, bytes);
  // The lab's servers sit in the documentation blocks, in their plain form only.
  if (mode_ == Mode::lab && kind == "documentation") return "";
  return kind;
}

std::string AddressPolicy::refusal(std::string_view address) const {
  if (mode_ == Mode::open) return "";
  int family = 0;
  Bytes bytes{};
  if (!parse(address, family, bytes)) return "not-an-address";
  return decide(family, bytes);
}

std::string AddressPolicy::refusal(const sockaddr* address, socklen_t length) const {
  if (mode_ == Mode::open) return "";
  if (address == nullptr) return "not-an-address";
  Bytes bytes{};
  if (address->sa_family == AF_INET && length >= static_cast<socklen_t>(sizeof(sockaddr_in))) {
    sockaddr_in in{};
    std::memcpy(&in, address, sizeof in);
    std::memcpy(bytes.data(), &in.sin_addr, 4);
    return decide(4, bytes);
  }
  if (address->sa_family == AF_INET6 && length >= static_cast<socklen_t>(sizeof(sockaddr_in6))) {
    sockaddr_in6 in6{};
    std::memcpy(&in6, address, sizeof in6);
    std::memcpy(bytes.data(), &in6.sin6_addr, 16);
    const auto kind = decide(6, bytes);
    if (kind.empty() && in6.sin6_scope_id != 0) return "link-local";
    return kind;
  }
  return "not-an-address";
}

std::string AddressPolicy::explain(const std::string& address, const std::string& refusal) {
  return "not connected: " + address + " is " + refusal + " (an address the CA cannot reach either)";
}

}  // namespace certdoctor::probe
