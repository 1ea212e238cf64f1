#pragma once
// All rules data a command needs, loaded before any network step so that a bad file fails fast:
// the rule catalogue, provider profiles and CA models, address classes, report labels and the
// source documents. Shared by check, explain, triage and rules lint.
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "report/report.hpp"
#include "view/address.hpp"
#include "rules/catalogue.hpp"
#include "view/data.hpp"

namespace certdoctor::pipeline {

/// The built-in rules directory: $CERTDOCTOR_RULES_DIR, the source tree's rules/ when the binary
/// runs from its build directory, else the installed data directory.
std::filesystem::path base_rules_dir();
/// The report templates directory, found the same way ($CERTDOCTOR_REPORTS_DIR).
std::filesystem::path reports_dir();

/// The built-in rules directory followed by `extra` (--rules-dir); throws UsageError for a
/// directory that does not exist.
std::vector<std::filesystem::path> rules_dirs(const std::vector<std::string>& extra);

struct Knowledge {
  std::vector<std::filesystem::path> dirs;
  view::DataSet data;
  rules::Catalogue catalogue;
  view::address::AddressClassifier classifier;
  report::Labels labels;
  nlohmann::json sources;

  /// The built-in rules directory with `extra` directories laid over it (--rules-dir).
  /// Throws UsageError for a missing directory, ConfigError for a malformed file.
  explicit Knowledge(const std::vector<std::string>& extra);
};

} // namespace certdoctor::pipeline
