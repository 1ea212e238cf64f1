#include "serve/http_util.hpp"

#include <arpa/inet.h>
#include <openssl/rand.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <stdexcept>
#include <vector>

namespace certdoctor::serve {

namespace {

int hex(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return std::string(s);
}

bool is_address(const std::string& text) {
  unsigned char buf[16];
  return inet_pton(AF_INET, text.c_str(), buf) == 1 || inet_pton(AF_INET6, text.c_str(), buf) == 1;
}

}  // namespace

std::optional<std::string> url_decode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '+') {
      out += ' ';
    } else if (c == '%') {
      if (i + 2 >= text.size()) return std::nullopt;
      const int hi = hex(text[i + 1]), lo = hex(text[i + 2]);
      if (hi < 0 || lo < 0) return std::nullopt;
      out += static_cast<char>(hi * 16 + lo);
      i += 2;
    } else {
      out += c;
    }
  }
  return out;
}

std::optional<std::map<std::string, std::string>> parse_form(std::string_view body) {
  std::map<std::string, std::string> out;
  while (!body.empty()) {
    const auto amp = body.find('&');
    const auto pair = body.substr(0, amp);
    body = amp == std::string_view::npos ? std::string_view() : body.substr(amp + 1);
    if (pair.empty()) continue;
    const auto eq = pair.find('=');
    auto name = url_decode(pair.substr(0, eq));
    auto value = url_decode(eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1));
    if (!name || !value) return std::nullopt;
    out.emplace(std::move(*name), std::move(*value));
  }
  return out;
}

std::string pick_lang(const std::string& query_lang, const std::string& accept_language) {
  if (query_lang == "ja" || query_lang == "en") return query_lang;
  std::string best;
  double best_q = 0;
  std::string_view rest = accept_language;
  while (!rest.empty()) {
    const auto comma = rest.find(',');
    std::string item = trim(rest.substr(0, comma));
    rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
    double q = 1;
    if (const auto semi = item.find(';'); semi != std::string::npos) {
      const std::string params = trim(std::string_view(item).substr(semi + 1));
      item = trim(std::string_view(item).substr(0, semi));
      if (params.rfind("q=", 0) == 0) q = std::strtod(params.c_str() + 2, nullptr);
    }
    std::transform(item.begin(), item.end(), item.begin(), [](unsigned char c) { return std::tolower(c); });
    const std::string primary = item.substr(0, item.find('-'));
    if ((primary == "ja" || primary == "en") && q > best_q) {
      best = primary;
      best_q = q;
    }
  }
  return best.empty() ? "ja" : best;
}

std::string client_address(const std::string& peer, const std::string& forwarded_for, bool trust_proxy) {
  if (!trust_proxy || forwarded_for.empty()) return peer;
  // The proxy appends the address it saw; anything else at the end was not written by it.
  const std::string_view all = forwarded_for;
  const auto comma = all.rfind(',');
  const std::string item = trim(comma == std::string_view::npos ? all : all.substr(comma + 1));
  return is_address(item) ? item : peer;
}

std::string random_id() {
  unsigned char bytes[16];
  if (RAND_bytes(bytes, sizeof bytes) != 1) throw std::runtime_error("no random bytes for a check id");
  static const char* alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  unsigned bits = 0, value = 0;
  for (unsigned char b : bytes) {
    value = (value << 8) | b;
    bits += 8;
    while (bits >= 6) {
      out += alphabet[(value >> (bits - 6)) & 63];
      bits -= 6;
    }
  }
  if (bits > 0) out += alphabet[(value << (6 - bits)) & 63];
  return out;
}

bool plausible_id(std::string_view id) {
  return id.size() == 22 && std::all_of(id.begin(), id.end(), [](char c) {
           return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_';
         });
}

std::optional<std::pair<std::string, int>> parse_listen(std::string_view text) {
  std::string address;
  std::string_view port;
  if (!text.empty() && text.front() == '[') {
    const auto close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':') return std::nullopt;
    address = std::string(text.substr(1, close - 1));
    port = text.substr(close + 2);
  } else {
    const auto colon = text.rfind(':');
    if (colon == std::string_view::npos || text.find(':') != colon) return std::nullopt;
    address = std::string(text.substr(0, colon));
    port = text.substr(colon + 1);
  }
  if (!is_address(address) || port.empty() || port.size() > 5) return std::nullopt;
  int p = 0;
  for (char c : port) {
    if (c < '0' || c > '9') return std::nullopt;
    p = p * 10 + (c - '0');
  }
  if (p < 1 || p > 65535) return std::nullopt;
  return std::make_pair(address, p);
}

}  // namespace certdoctor::serve
