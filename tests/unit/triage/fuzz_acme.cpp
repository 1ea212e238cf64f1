// libFuzzer target: the ACME readers — problem documents, client logs, single error texts —
// with the real patterns of rules/acme-errors.yaml.
#include <cstddef>
#include <cstdint>
#include <string>

#include "triage/acme.hpp"
#include "util/error.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace certdoctor;
  static triage::AcmeCatalogue acme = triage::AcmeCatalogue::load({CERTDOCTOR_FUZZ_RULES_DIR});
  std::string text(reinterpret_cast<const char*>(data), size);
  try {
    triage::read_problem_json(acme, text);
    triage::read_client_log(acme, text);
    triage::classify_error(acme, text, text.substr(0, 40));
  } catch (const Error&) {
  }
  return 0;
}
