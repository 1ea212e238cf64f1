// libFuzzer target: any bytes through triage() with the real provider notices — the mail reader
// (GMime, header decoding, charset guessing, forwards) and everything after it.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "triage/triage.hpp"
#include "util/error.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace certdoctor;
  static view::DataSet set = view::DataSet::load({CERTDOCTOR_FUZZ_RULES_DIR});
  static triage::AcmeCatalogue acme = triage::AcmeCatalogue::load({CERTDOCTOR_FUZZ_RULES_DIR});
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  try {
    triage::triage(bytes, triage::TriageData{set, acme});
    if (triage::looks_like_mail(bytes)) triage::parse_mail(bytes);
  } catch (const Error&) {
    // A clear error is a valid outcome; anything else (a crash, a leak, a hang) is not.
  }
  return 0;
}
