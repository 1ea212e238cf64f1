#include <doctest/doctest.h>

#include "rules/finding.hpp"
#include "util/error.hpp"

using certdoctor::ConfigError;
using certdoctor::rules::Finding;
using certdoctor::rules::Severity;
using nlohmann::json;

TEST_CASE("rules::Severity") {
  using certdoctor::rules::parse_severity;
  using certdoctor::rules::to_string;
  CHECK(to_string(Severity::info) == "info");
  CHECK(to_string(Severity::warning) == "warning");
  CHECK(to_string(Severity::error) == "error");
  CHECK(parse_severity("warning") == Severity::warning);
  CHECK_FALSE(parse_severity("Warning").has_value());
  CHECK(Severity::info < Severity::warning);
  CHECK(Severity::warning < Severity::error);
}

TEST_CASE("rules::Finding JSON") {
  const Finding f{"dns-no-address", Severity::error, {{"name", "www.example.jp"}}, "doc", ""};
  const json j = f;
  CHECK(j == R"({"id": "dns-no-address", "severity": "error", "arguments": {"name": "www.example.jp"},
                 "source": "doc"})"_json);
  CHECK(j.get<Finding>() == f);
  CHECK_THROWS_WITH_AS((R"({"id": "x", "severity": "fatal"})"_json).get<Finding>(),
                       "unknown severity 'fatal' in finding 'x'", ConfigError);
}
