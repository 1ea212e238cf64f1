#pragma once
// The rules data shipped in rules/, loaded once for every unit test of the view: provider
// profiles and CA models, the address registries, and the rule catalogue.
#include <filesystem>

#include "rules/catalogue.hpp"
#include "view/address.hpp"
#include "view/data.hpp"

namespace certdoctor::test {

inline const std::filesystem::path& shipped_rules_dir() {
  static const std::filesystem::path dir = CERTDOCTOR_SOURCE_RULES_DIR;
  return dir;
}

inline const view::DataSet& shipped_data() {
  static const view::DataSet d = view::DataSet::load({shipped_rules_dir()});
  return d;
}

inline const view::address::AddressClassifier& classifier() {
  static const auto c = view::address::AddressClassifier::load({shipped_rules_dir() / "data"});
  return c;
}

inline const rules::Catalogue& catalogue() {
  static const rules::Catalogue c = rules::Catalogue::load({shipped_rules_dir()});
  return c;
}

} // namespace certdoctor::test
