#pragma once
// The root name servers: built in, or from a root hints file (named.root).
#include <string>
#include <string_view>
#include <vector>

namespace certdoctor::probe {

/// One root name server: its name ("a.root-servers.net") and IP address literals.
struct RootServer {
  std::string name;
  std::vector<std::string> addresses;
};

/// Parses root hints in the named.root format: ". NS name" lines and "name A/AAAA address"
/// lines, each with optional TTL and class IN, ';' starting a comment. Returns the servers in
/// the order of their NS records, addresses in file order. Throws ConfigError "FILE:LINE: why"
/// (`filename` is only used in messages).
std::vector<RootServer> parse_root_hints(std::string_view text, const std::string& filename);

/// Returns the 13 IANA root servers a..m.root-servers.net with their IPv4 and IPv6 addresses.
std::vector<RootServer> builtin_root_servers();

/// Reads and parses the root hints file at `path`. Throws ConfigError if it cannot be read or
/// is not valid.
std::vector<RootServer> load_root_hints(const std::string& path);

} // namespace certdoctor::probe
