#include "rules/finding.hpp"

#include "util/error.hpp"

namespace certdoctor::rules {

using nlohmann::json;

std::string_view to_string(Severity severity) {
  switch (severity) {
    case Severity::info: return "info";
    case Severity::warning: return "warning";
    case Severity::error: return "error";
  }
  return "info";
}

std::optional<Severity> parse_severity(std::string_view text) {
  if (text == "info") return Severity::info;
  if (text == "warning") return Severity::warning;
  if (text == "error") return Severity::error;
  return std::nullopt;
}

void to_json(json& j, const Finding& finding) {
  j = json{{"id", finding.id},
           {"severity", std::string(to_string(finding.severity))},
           {"arguments", finding.arguments.is_null() ? json::object() : finding.arguments},
           {"source", finding.source}};
  if (!finding.variant.empty()) j["variant"] = finding.variant;
}

void from_json(const json& j, Finding& finding) {
  finding.id = j.at("id").get<std::string>();
  const auto severity = j.at("severity").get<std::string>();
  auto parsed = parse_severity(severity);
  if (!parsed) throw ConfigError("unknown severity '" + severity + "' in finding '" + finding.id + "'");
  finding.severity = *parsed;
  finding.arguments = j.contains("arguments") ? j.at("arguments") : json::object();
  finding.source = j.value("source", "");
  finding.variant = j.value("variant", "");
}

} // namespace certdoctor::rules
