#include "util/url.hpp"

#include <arpa/inet.h>

#include "util/text.hpp"

namespace certdoctor {

namespace {

bool hex_digit(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

} // namespace

bool Url::ip_literal() const {
  unsigned char buf[16];
  if (bracketed) return inet_pton(AF_INET6, host.c_str(), buf) == 1;
  // inet_pton(AF_INET) accepts exactly four decimal parts, as netip.ParseAddr does ("127.1" is a name).
  return inet_pton(AF_INET, host.c_str(), buf) == 1;
}

std::size_t Url::decoded_path_bytes() const {
  std::size_t n = 0;
  for (std::size_t i = 0; i < path.size(); ++i, ++n)
    if (path[i] == '%' && i + 2 < path.size() && hex_digit(path[i + 1]) && hex_digit(path[i + 2]))
      i += 2;
  return n;
}

std::optional<Url> parse_url(std::string_view url) {
  const auto sep = url.find("://");
  if (sep == std::string_view::npos || sep == 0) return std::nullopt;
  Url u;
  u.scheme = lower(url.substr(0, sep));
  std::string_view rest = url.substr(sep + 3);
  if (auto hash = rest.find('#'); hash != std::string_view::npos) rest = rest.substr(0, hash);
  const auto end = rest.find_first_of("/?");
  std::string_view authority = rest.substr(0, end);
  std::string_view tail = end == std::string_view::npos ? std::string_view{} : rest.substr(end);
  if (auto q = tail.find('?'); q != std::string_view::npos) {
    u.query = std::string(tail.substr(q + 1));
    tail = tail.substr(0, q);
  }
  u.path = std::string(tail);
  if (auto at = authority.rfind('@'); at != std::string_view::npos) authority = authority.substr(at + 1);
  std::string_view host = authority;
  if (!authority.empty() && authority.front() == '[') {
    const auto close = authority.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    host = authority.substr(1, close - 1);
    u.bracketed = true;
    std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return std::nullopt;
      u.port_text = std::string(after.substr(1));
    }
    // RFC 6874: a zone is written "%25zone" inside the brackets.
    if (auto pct = host.find('%'); pct != std::string_view::npos) {
      std::string_view zone = host.substr(pct + 1);
      if (zone.rfind("25", 0) == 0) zone = zone.substr(2);
      u.zone = std::string(zone);
      host = host.substr(0, pct);
    }
  } else if (auto colon = authority.rfind(':'); colon != std::string_view::npos) {
    host = authority.substr(0, colon);
    u.port_text = std::string(authority.substr(colon + 1));
  }
  u.host = lower(host);
  if (u.port_text.empty()) {
    u.port = u.scheme == "http" ? 80 : u.scheme == "https" ? 443 : 0;
  } else {
    if (u.port_text.size() > 5 || u.port_text.find_first_not_of("0123456789") != std::string::npos) return std::nullopt;
    u.port = std::stoi(u.port_text);
    if (u.port > 65535) return std::nullopt;
  }
  return u;
}

} // namespace certdoctor
