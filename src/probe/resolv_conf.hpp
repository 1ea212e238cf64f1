#pragma once
// The system's resolvers, from resolv.conf(5).
#include "probe/dns_client.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace certdoctor::probe {

/// Returns the servers of the "nameserver" lines of resolv.conf text, in order. Comments, other
/// keywords and addresses that are not IP literals are skipped; an IPv6 zone index ("%eth0")
/// is dropped.
std::vector<DnsServer> parse_resolv_conf(std::string_view text);

/// Returns the servers listed in the file at `path`. Throws Error naming the file if it cannot
/// be read or lists no server, suggesting --resolver.
std::vector<DnsServer> system_resolvers(const std::string& path = "/etc/resolv.conf");

} // namespace certdoctor::probe
