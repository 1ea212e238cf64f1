#include "util/domain.hpp"

#include "util/text.hpp"

#include <arpa/inet.h>
#include <idn2.h>
#include <libpsl.h>

#include <algorithm>
#include <cstdlib>
#include <memory>

#include "util/error.hpp"

namespace certdoctor {

namespace {

struct FreeDeleter {
  void operator()(char* p) const { std::free(p); }
};
using CString = std::unique_ptr<char, FreeDeleter>;

const psl_ctx_t* psl() {
  // psl_latest prefers the system's list (package publicsuffix) when newer than the built-in one.
  static const psl_ctx_t* ctx = [] {
    const psl_ctx_t* c = psl_latest(nullptr);
    return c ? c : psl_builtin();
  }();
  return ctx;
}

bool is_ldh_label(const std::string& label) {
  if (label.empty() || label.size() > 63) return false;
  if (label.front() == '-' || label.back() == '-') return false;
  return std::all_of(label.begin(), label.end(), [](unsigned char c) {
    return std::isalnum(c) || c == '-' || c == '_';
  });
}

} // namespace

void psl_split(const std::string& ascii, std::string& registered, std::string& suffix) {
  const char* reg = psl_registrable_domain(psl(), ascii.c_str());
  registered = reg ? reg : "";
  const char* suf = psl_unregistrable_domain(psl(), ascii.c_str());
  suffix = suf ? suf : "";
}

DomainName parse_domain(const std::string& raw) {
  std::string input = raw;
  while (!input.empty() && std::isspace(static_cast<unsigned char>(input.back()))) input.pop_back();
  while (!input.empty() && std::isspace(static_cast<unsigned char>(input.front()))) input.erase(input.begin());
  const std::string shown = "'" + printable(raw) + "'";
  if (input.empty()) throw UsageError(Message{"domain-empty", {}});
  if (input.size() > 1024) throw UsageError(Message{"domain-too-long", {{"input", shown}}});
  if (input.find("://") != std::string::npos) {
    std::string host = input.substr(input.find("://") + 3);
    host = host.substr(0, host.find_first_of("/:?#"));
    throw UsageError(Message{"domain-url", {{"input", shown}, {"host", printable(host)}}});
  }
  if (input.find('@') != std::string::npos)
    throw UsageError(Message{"domain-email", {{"input", shown}}});
  if (input.rfind("*.", 0) == 0)
    throw UsageError(Message{"domain-wildcard", {{"input", shown}, {"host", printable(input.substr(2))}}});
  unsigned char buf[16];
  if (inet_pton(AF_INET, input.c_str(), buf) == 1 || inet_pton(AF_INET6, input.c_str(), buf) == 1)
    throw UsageError(Message{"domain-ip", {{"input", shown}}});
  if (const auto slash = input.find_first_of("/?#"); slash != std::string::npos && slash > 0)
    throw UsageError(Message{"domain-path", {{"input", shown}, {"host", printable(input.substr(0, slash))}}});
  if (const auto colon = input.rfind(':'); colon != std::string::npos && colon > 0 && colon + 1 < input.size() &&
      input.find_first_not_of("0123456789", colon + 1) == std::string::npos)
    throw UsageError(Message{"domain-port", {{"input", shown}, {"host", printable(input.substr(0, colon))}}});
  if (input.size() > 1 && input.back() == '.') input.pop_back();
  if (input.front() == '.' || input.find("..") != std::string::npos)
    throw UsageError(Message{"domain-empty-label", {{"input", shown}}});
  if (input.find('_') != std::string::npos)
    throw UsageError(Message{"domain-underscore", {{"input", shown}}});
  for (unsigned char c : input)
    if (c < 0x20 || c == 0x7F || c == ' ')
      throw UsageError(Message{"domain-space", {{"input", shown}}});

  char* out = nullptr;
  int rc = idn2_to_ascii_8z(input.c_str(), &out, IDN2_NFC_INPUT | IDN2_NONTRANSITIONAL);
  if (rc != IDN2_OK) {
    // Labels IDNA2008 refuses (disallowed code points, bad joiners) still deserve a precise message.
    throw UsageError(Message{"domain-invalid", {{"input", shown}, {"detail", idn2_strerror(rc)}}});
  }
  CString ascii_owner(out);
  std::string ascii = lower(out);
  if (ascii.size() > 253) throw UsageError(Message{"domain-too-long", {{"input", shown}}});
  std::size_t start = 0;
  int labels = 0;
  while (true) {
    std::size_t dot = ascii.find('.', start);
    std::string label = ascii.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    if (!is_ldh_label(label))
      throw UsageError(Message{"domain-label", {{"input", shown}, {"label", printable(label)}}});
    ++labels;
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  if (labels < 2) throw UsageError(Message{"domain-tld", {{"input", shown}, {"tld", ascii}}});
  // Names Let's Encrypt refuses before any validation (Boulder's policy): the TLD must be one that
  // IANA delegated, which no all-digit label is; private-use and special-use names (RFC 6761,
  // RFC 8375, .internal) are not in the public DNS.
  const std::string tld = ascii.substr(ascii.rfind('.') + 1);
  if (tld.find_first_not_of("0123456789") == std::string::npos)
    throw UsageError(Message{"domain-numeric-tld", {{"input", shown}}});
  for (const char* priv : {"local", "internal", "lan", "localhost", "home", "corp", "test", "invalid", "example", "onion"})
    if (tld == priv)
      throw UsageError(Message{"domain-private", {{"input", shown}, {"tld", tld}}});
  if (ascii.size() >= 9 && ascii.compare(ascii.size() - 9, 9, "home.arpa") == 0)
    throw UsageError(Message{"domain-home-arpa", {{"input", shown}}});

  DomainName d;
  d.ascii = ascii;
  char* uni = nullptr;
  if (idn2_to_unicode_8z8z(ascii.c_str(), &uni, 0) == IDN2_OK && uni) {
    d.unicode = uni;
    std::free(uni);
  } else {
    d.unicode = ascii;
  }
  // An xn-- label typed as is passes idn2_to_ascii unchecked; it must decode to a name that
  // IDNA2008 allows and that encodes back to the same label, as Let's Encrypt requires.
  if (ascii.rfind("xn--", 0) == 0 || ascii.find(".xn--") != std::string::npos) {
    char* again = nullptr;
    const int back = d.unicode == ascii ? IDN2_PUNYCODE_BAD_INPUT
                                        : idn2_to_ascii_8z(d.unicode.c_str(), &again, IDN2_NFC_INPUT | IDN2_NONTRANSITIONAL);
    CString again_owner(again);
    if (back != IDN2_OK || lower(again) != ascii)
      throw UsageError(Message{"domain-xn", {{"input", shown}}});
  }
  psl_split(ascii, d.registered, d.public_suffix);
  if (d.registered.empty())
    throw UsageError(Message{"domain-public-suffix", {{"input", shown}, {"suffix", ascii}}});
  return d;
}

bool has_icann_suffix(const std::string& host) {
  if (host.empty() || host.back() == '.') return false;
  const auto dot = host.rfind('.');
  const std::string tld = dot == std::string::npos ? host : host.substr(dot + 1);
  return psl_is_public_suffix2(psl(), tld.c_str(), PSL_TYPE_ICANN | PSL_TYPE_NO_STAR_RULE) != 0;
}

} // namespace certdoctor
