#pragma once
// IP address literals as bytes: the one parser of the address registry (view) and the probe
// policy (probe).
#include <array>
#include <cstdint>
#include <string_view>

namespace certdoctor {

/// An address in network byte order: 4 bytes of IPv4 (the rest zero) or 16 of IPv6.
using IpBytes = std::array<std::uint8_t, 16>;

/// Parses an IPv4 or IPv6 literal (inet_pton: no zone ids, spaces or leading zeros in IPv4
/// octets, which keeps hostile text out); sets `family` to 4 or 6. False for anything else.
bool parse_ip(std::string_view text, int& family, IpBytes& bytes);

} // namespace certdoctor
