#include "probe/root_hints.hpp"

#include "dns/name.hpp"
#include "util/error.hpp"
#include "util/file.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <map>

namespace certdoctor::probe {

namespace {

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v'; }

std::vector<std::string> split(std::string_view line) {
  std::vector<std::string> out;
  std::size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && is_space(line[i]))
      ++i;
    std::size_t j = i;
    while (j < line.size() && !is_space(line[j]))
      ++j;
    if (j > i)
      out.emplace_back(line.substr(i, j - i));
    i = j;
  }
  return out;
}

std::string upper(std::string s) {
  for (char& c : s)
    if (c >= 'a' && c <= 'z')
      c = static_cast<char>(c - 'a' + 'A');
  return s;
}

bool all_digits(const std::string& s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}


} // namespace

std::vector<RootServer> parse_root_hints(std::string_view text, const std::string& filename) {
  struct Server {
    std::size_t ns_line = 0;
    RootServer server;
  };
  std::vector<Server> servers;
  struct Address {
    std::size_t line;
    std::string owner;
    std::string address;
  };
  std::vector<Address> addresses;

  std::size_t line_no = 0;
  while (!text.empty()) {
    ++line_no;
    std::size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
    if (std::size_t semi = line.find(';'); semi != std::string_view::npos)
      line = line.substr(0, semi);
    std::vector<std::string> t = split(line);
    if (t.empty())
      continue;

    const std::string where = filename + ":" + std::to_string(line_no) + ": ";
    auto fail = [&](const std::string& why) { throw ConfigError(where + why); };
    if (t.size() < 3)
      fail("expected \"OWNER [TTL] [CLASS] TYPE DATA\"");
    std::size_t i = 1;
    // RFC 1035 section 5.1: TTL and class are both optional and may come in either order.
    for (int k = 0; k < 2 && i < t.size(); ++k) {
      if (all_digits(t[i]))
        ++i;
      else if (upper(t[i]) == "IN")
        ++i;
      else if (upper(t[i]) == "CH" || upper(t[i]) == "HS" || upper(t[i]) == "CS")
        fail("class \"" + t[i] + "\" is not IN");
    }
    if (t.size() != i + 2)
      fail("expected \"OWNER [TTL] [CLASS] TYPE DATA\"");
    std::string type = upper(t[i]);
    const std::string& data = t[i + 1];

    auto name_of = [&](const std::string& n) {
      try {
        return dns::normalize(n);
      } catch (const UsageError& e) {
        fail(e.what());
      }
      return std::string();
    };

    if (type == "NS") {
      if (t[0] != ".")
        fail("NS record for \"" + t[0] + "\" instead of the root \".\"");
      std::string target = name_of(data);
      bool seen = std::any_of(servers.begin(), servers.end(),
                              [&](const Server& s) { return s.server.name == target; });
      if (!seen)
        servers.push_back({line_no, {target, {}}});
    } else if (type == "A" || type == "AAAA") {
      unsigned char buf[sizeof(in6_addr)];
      int family = type == "A" ? AF_INET : AF_INET6;
      if (inet_pton(family, data.c_str(), buf) != 1)
        fail("\"" + data + "\" is not an " + (type == "A" ? "IPv4" : "IPv6") + " address");
      char canonical[INET6_ADDRSTRLEN];
      inet_ntop(family, buf, canonical, sizeof canonical);
      addresses.push_back({line_no, name_of(t[0]), canonical});
    } else {
      fail("record type \"" + t[i] + "\" is not NS, A or AAAA");
    }
  }

  for (const Address& a : addresses) {
    auto it = std::find_if(servers.begin(), servers.end(),
                           [&](const Server& s) { return s.server.name == a.owner; });
    if (it == servers.end())
      throw ConfigError(filename + ":" + std::to_string(a.line) + ": address of \"" + a.owner +
                        "\", which no root NS record names");
    auto& list = it->server.addresses;
    if (std::find(list.begin(), list.end(), a.address) == list.end())
      list.push_back(a.address);
  }
  if (servers.empty())
    throw ConfigError(filename + ": no NS records for the root");
  std::vector<RootServer> out;
  for (Server& s : servers) {
    if (s.server.addresses.empty())
      throw ConfigError(filename + ":" + std::to_string(s.ns_line) + ": root server \"" +
                        s.server.name + "\" has no A or AAAA record");
    out.push_back(std::move(s.server));
  }
  return out;
}

std::vector<RootServer> builtin_root_servers() {
  // IANA root hints (https://www.iana.org/domains/root/files); b.root moved in November 2023.
  return {
      {"a.root-servers.net", {"198.41.0.4", "2001:503:ba3e::2:30"}},
      {"b.root-servers.net", {"170.247.170.2", "2801:1b8:10::b"}},
      {"c.root-servers.net", {"192.33.4.12", "2001:500:2::c"}},
      {"d.root-servers.net", {"199.7.91.13", "2001:500:2d::d"}},
      {"e.root-servers.net", {"192.203.230.10", "2001:500:a8::e"}},
      {"f.root-servers.net", {"192.5.5.241", "2001:500:2f::f"}},
      {"g.root-servers.net", {"192.112.36.4", "2001:500:12::d0d"}},
      {"h.root-servers.net", {"198.97.190.53", "2001:500:1::53"}},
      {"i.root-servers.net", {"192.36.148.17", "2001:7fe::53"}},
      {"j.root-servers.net", {"192.58.128.30", "2001:503:c27::2:30"}},
      {"k.root-servers.net", {"193.0.14.129", "2001:7fd::1"}},
      {"l.root-servers.net", {"199.7.83.42", "2001:500:9f::42"}},
      {"m.root-servers.net", {"202.12.27.33", "2001:dc3::35"}},
  };
}

std::vector<RootServer> load_root_hints(const std::string& path) {
  std::string text;
  if (!read_file(path, text))
    throw ConfigError("cannot read the root hints file \"" + path + "\": " + std::strerror(errno));
  return parse_root_hints(text, path);
}

} // namespace certdoctor::probe
