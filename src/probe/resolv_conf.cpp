#include "probe/resolv_conf.hpp"

#include "util/error.hpp"
#include "util/file.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace certdoctor::probe {

namespace {

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v'; }

std::string_view next_token(std::string_view& line) {
  std::size_t i = 0;
  while (i < line.size() && is_space(line[i]))
    ++i;
  std::size_t j = i;
  while (j < line.size() && !is_space(line[j]))
    ++j;
  std::string_view token = line.substr(i, j - i);
  line.remove_prefix(j);
  return token;
}


} // namespace

std::vector<DnsServer> parse_resolv_conf(std::string_view text) {
  std::vector<DnsServer> out;
  while (!text.empty()) {
    std::size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
    // resolv.conf(5): comment lines start with ';' or '#'; glibc also ignores what follows
    // the address on a nameserver line.
    std::string_view keyword = next_token(line);
    if (keyword != "nameserver")
      continue;
    std::string address(next_token(line));
    if (std::size_t pct = address.find('%'); pct != std::string::npos)
      address.erase(pct);
    try {
      out.push_back(parse_server(address));
    } catch (const UsageError&) {
      // glibc skips entries it cannot parse, and so do we.
    }
  }
  return out;
}

std::vector<DnsServer> system_resolvers(const std::string& path) {
  std::string text;
  if (!read_file(path, text))
    throw Error("cannot read the resolver list \"" + path + "\": " + std::strerror(errno) +
                "; use --resolver to name a DNS server");
  std::vector<DnsServer> servers = parse_resolv_conf(text);
  if (servers.empty())
    throw Error("no nameserver is listed in \"" + path + "\"; use --resolver to name a DNS server");
  return servers;
}

} // namespace certdoctor::probe
