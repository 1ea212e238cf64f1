// libFuzzer target: any bytes as the domain a person typed (util/domain: IDNA2008 with libidn2,
// the Public Suffix List with libpsl). parse_domain either returns a valid host name or throws a
// UsageError whose message is safe to print; what it returns parses again to itself.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <iostream>
#include <string>

#include "util/domain.hpp"
#include "util/error.hpp"

namespace {

[[noreturn]] void fail(const std::string& what, const std::string& input) {
  std::cerr << what << " (input of " << input.size() << " bytes)\n";
  std::abort();
}

bool is_host_name(const std::string& s) {
  if (s.empty() || s.size() > 253 || s.front() == '.' || s.back() == '.') return false;
  for (unsigned char c : s)
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.')) return false;
  return s.find("..") == std::string::npos;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace certdoctor;
  const std::string input(reinterpret_cast<const char*>(data), size);
  DomainName d;
  try {
    d = parse_domain(input);
  } catch (const UsageError& e) {
    // The message echoes the input: no control character may reach the terminal, and its length
    // stays bounded whatever the input's.
    const std::string message = e.what();
    for (unsigned char c : message)
      if (c < 0x20 || c == 0x7F) fail("control character in the message: " + message, input);
    if (message.size() > 1200) fail("message of " + std::to_string(message.size()) + " bytes", input);
    return 0;
  }
  if (!is_host_name(d.ascii)) fail("not a host name: " + d.ascii, input);
  if (d.registered.empty() || d.public_suffix.empty()) fail("no registered domain or suffix: " + d.ascii, input);
  if (d.ascii.size() < d.registered.size() ||
      d.ascii.compare(d.ascii.size() - d.registered.size(), d.registered.size(), d.registered) != 0)
    fail("registered domain " + d.registered + " is not a suffix of " + d.ascii, input);
  try {
    if (parse_domain(d.ascii).ascii != d.ascii) fail("A-label form does not parse to itself: " + d.ascii, input);
    if (parse_domain(d.unicode).ascii != d.ascii) fail("U-label form does not parse back: " + d.ascii, input);
  } catch (const UsageError& e) {
    fail(std::string("a parsed name is refused when parsed again: ") + e.what(), input);
  }
  (void)has_icann_suffix(d.ascii);
  return 0;
}
