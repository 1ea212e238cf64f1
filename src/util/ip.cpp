#include "util/ip.hpp"

#include <arpa/inet.h>

#include <string>

namespace certdoctor {

bool parse_ip(std::string_view text, int& family, IpBytes& bytes) {
  if (text.empty() || text.size() > 45 || text.find('\0') != std::string_view::npos) return false;
  const std::string copy(text);
  bytes.fill(0);
  if (inet_pton(AF_INET, copy.c_str(), bytes.data()) == 1) {
    family = 4;
    return true;
  }
  if (inet_pton(AF_INET6, copy.c_str(), bytes.data()) == 1) {
    family = 6;
    return true;
  }
  return false;
}

} // namespace certdoctor
