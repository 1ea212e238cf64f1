#pragma once
// All rules data a command needs, loaded before any network step so that a bad file fails fast:
// the rule catalogue, provider profiles and CA models, address classes, report labels and the
// source documents. Shared by check, explain, triage and rules lint.
#include <cstdint>
#include <filesystem>
#include <span>
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

/// The built-in rules data in the form compiled into the binary (see Knowledge::built_in_form);
/// defined by the file the build generates from rules/ and reports/ (src/pipeline/make_builtin.cpp).
std::span<const std::uint8_t> builtin_data();

struct Knowledge {
  /// The built-in rules directory followed by the --rules-dir directories. The built-in data
  /// itself may come from the binary; lint and triage read the built-in directory's other files.
  std::vector<std::filesystem::path> dirs;
  view::DataSet data;
  rules::Catalogue catalogue;
  view::address::AddressClassifier classifier;
  report::Labels labels;
  nlohmann::json sources;

  /// The built-in rules data with `extra` directories laid over it (--rules-dir; parsed from YAML).
  /// The built-in data is the one compiled into the binary, unless $CERTDOCTOR_RULES_DIR or
  /// $CERTDOCTOR_REPORTS_DIR names other directories: then those are parsed.
  /// Throws UsageError for a missing directory, ConfigError for a malformed file.
  explicit Knowledge(const std::vector<std::string>& extra);
  /// `built_in` (what built_in_form() gave) with `extra` laid over it.
  Knowledge(const std::vector<std::string>& extra, std::span<const std::uint8_t> built_in);
  /// Every file parsed from YAML: base_rules_dir() and reports_dir(), then `extra`. `rules lint`
  /// uses it, so that every message names the file and line it is about.
  static Knowledge from_files(const std::vector<std::string>& extra);

  /// The loaded data (not `dirs`) in a compact form (util/compact.hpp) that the constructor reads back
  /// without any YAML parsing: the build compiles it into the binary.
  std::vector<std::uint8_t> built_in_form() const;

  /// The same loaded data (not `dirs`).
  bool same_data(const Knowledge& other) const;

private:
  Knowledge() = default;
};

} // namespace certdoctor::pipeline
