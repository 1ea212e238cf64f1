#pragma once
// YAML data read as JSON: the rule catalogue's data files, provider profiles, report labels.
#include <nlohmann/json.hpp>
#include <yaml-cpp/yaml.h>

namespace certdoctor {

/// Converts a YAML node to JSON: scalars that read as integers, decimals, booleans or null become
/// those unless quoted; maps keep their keys as strings.
nlohmann::json yaml_to_json(const YAML::Node& node);

} // namespace certdoctor
