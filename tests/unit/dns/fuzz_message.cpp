// libFuzzer entry point: parse_message must either return or throw ParseError, never crash.
#include "dns/message.hpp"

#include <cstddef>
#include <cstdint>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  try {
    certdoctor::dns::Message m = certdoctor::dns::parse_message({data, size});
    for (const auto& r : m.answer)
      (void)certdoctor::dns::parse_caa(r);
  } catch (const certdoctor::dns::ParseError&) {
  }
  return 0;
}
