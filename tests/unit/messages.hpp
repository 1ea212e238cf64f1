#pragma once
// The English words of the error messages (reports/labels.yaml errors:) installed for a test
// binary, as main() installs them, so that a unit test checks the message a user reads.
#include <filesystem>
#include <memory>

#include <yaml-cpp/yaml.h>

#include "util/error.hpp"
#include "util/yaml.hpp"

namespace certdoctor::test {

inline bool install_english_messages() {
  const auto file = std::filesystem::path(CERTDOCTOR_SOURCE_RULES_DIR).parent_path() / "reports" / "labels.yaml";
  auto errors = std::make_shared<nlohmann::json>(yaml_to_json(YAML::LoadFile(file.string())["labels"]["en"]["errors"]));
  set_message_renderer([errors](const Message& m) -> std::string {
    if (!errors->contains(m.key)) return "";
    return fill_message((*errors)[m.key].get<std::string>(), m);
  });
  return true;
}

} // namespace certdoctor::test
