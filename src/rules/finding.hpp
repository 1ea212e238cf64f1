#pragma once
// A finding: one rule firing, with its severity and named arguments (the evidence). Texts are not
// part of it: the catalogue renders them in the requested language.
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace certdoctor::rules {

/// How bad a finding is; ordered, so `a < b` means a is milder.
enum class Severity { info, warning, error };

/// "info", "warning" or "error".
std::string_view to_string(Severity severity);

/// The severity named `text` ("info", "warning", "error"), or nullopt.
std::optional<Severity> parse_severity(std::string_view text);

/// One rule firing: for a rule with `each`, one per element for which `when` holds.
struct Finding {
  std::string id;
  Severity severity = Severity::info;
  nlohmann::json arguments = nlohmann::json::object();  ///< argument name -> value
  std::string source;                                   ///< id of the source document
  std::string variant;                                  ///< the rule's variant for this finding, or ""

  bool operator==(const Finding&) const = default;
};

/// {"id", "severity", "arguments", "source"}.
void to_json(nlohmann::json& j, const Finding& finding);
/// The inverse of to_json; throws ConfigError on an unknown severity.
void from_json(const nlohmann::json& j, Finding& finding);

} // namespace certdoctor::rules
