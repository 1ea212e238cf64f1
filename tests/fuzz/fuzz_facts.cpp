// libFuzzer target: any bytes as a saved facts file, through what `explain --facts` does with it —
// the reader (facts::parse_document), the view and the rules over the real rules data. A facts file comes
// from a customer: the reader either takes it or refuses it with a UsageError, and what it takes
// survives a JSON round trip unchanged and is judged without a crash.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "facts/facts.hpp"
#include "rules/catalogue.hpp"
#include "rules/engine.hpp"
#include "util/error.hpp"
#include "view/address.hpp"
#include "view/data.hpp"
#include "view/derive.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace certdoctor;
  static const std::vector<std::filesystem::path> dirs{CERTDOCTOR_SOURCE_RULES_DIR};
  static const view::DataSet set = view::DataSet::load(dirs);
  static const rules::Catalogue catalogue = rules::Catalogue::load(dirs);
  static const auto classifier = view::address::AddressClassifier::load({dirs[0] / "data"});
  const std::string text(reinterpret_cast<const char*>(data), size);
  facts::Facts f;
  try {
    f = facts::parse_document(text, "input");
  } catch (const UsageError&) {
    return 0;  // refused with the reason: a valid outcome
  }
  // Nothing lost: what was read is written back and read again to the same document.
  const std::string once = nlohmann::json(f).dump();
  const std::string twice = nlohmann::json(facts::parse_document(once, "round trip")).dump();
  if (once != twice) {
    std::cerr << "facts changed in a round trip:\n" << once << "\n" << twice << "\n";
    std::abort();
  }
  try {
    const nlohmann::json v = view::derive(f, view::DeriveContext{set, classifier});
    (void)rules::evaluate(catalogue, v);
  } catch (const UsageError&) {
    // Facts naming a provider or CA the data does not know: refused with the reason.
  }
  return 0;
}
