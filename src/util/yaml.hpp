#pragma once
// YAML data read as JSON: the rule catalogue's data files, provider profiles, report labels; and
// the "FILE:LINE" that every message about a data file starts with.
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <yaml-cpp/yaml.h>

#include "util/error.hpp"

namespace certdoctor {

/// Converts a YAML node to JSON: scalars that read as integers, decimals, booleans or null become
/// those unless quoted; maps keep their keys as strings.
nlohmann::json yaml_to_json(const YAML::Node& node);

/// The strings of a JSON list read from data (other elements and non-lists give nothing).
std::vector<std::string> string_list(const nlohmann::json& list);

/// "FILE:LINE" of `node` in `file` (1-based line), to start a message about it.
std::string yaml_where(const std::filesystem::path& file, const YAML::Node& node);

/// A ConfigError "FILE:LINE: MESSAGE" for a YAML syntax or conversion error `e` in `file`.
ConfigError yaml_error(const std::filesystem::path& file, const YAML::Exception& e);

/// YAML::LoadFile(file); throws yaml_error() when the file is not valid YAML or cannot be read.
YAML::Node load_yaml_file(const std::filesystem::path& file);

} // namespace certdoctor
