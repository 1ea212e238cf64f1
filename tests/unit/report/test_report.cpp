#include <doctest/doctest.h>

#include "report/report.hpp"

using namespace certdoctor;

TEST_CASE("report::verdict_of") {
  using rules::Finding;
  using rules::Severity;
  CHECK(report::verdict_of({}, true) == "ok");
  CHECK(report::verdict_of({Finding{"x", Severity::info, {}, "", ""}}, true) == "ok");
  CHECK(report::verdict_of({Finding{"x", Severity::warning, {}, "", ""}}, true) == "warning");
  CHECK(report::verdict_of({Finding{"x", Severity::warning, {}, "", ""}, Finding{"y", Severity::error, {}, "", ""}}, true) == "fail");
  CHECK(report::verdict_of({Finding{"y", Severity::error, {}, "", ""}}, false) == "incomplete");
}

TEST_CASE("report::collected_jst") {
  CHECK(report::collected_jst("2026-11-20T05:03:00Z") == "2026-11-20 14:03 JST");
  CHECK(report::collected_jst("2026-12-31T20:30:00Z") == "2027-01-01 05:30 JST");  // across the year
  CHECK(report::collected_jst("yesterday") == "yesterday");
}
