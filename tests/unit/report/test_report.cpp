#include <doctest/doctest.h>

#include "report/report.hpp"

using namespace certdoctor;

TEST_CASE("report::display_width") {
  CHECK(report::display_width("abc") == 3);
  CHECK(report::display_width("日本語") == 6);
  CHECK(report::display_width("aあ") == 3);
  CHECK(report::display_width("") == 0);
  SUBCASE("invalid UTF-8 counts one column a byte") { CHECK(report::display_width(std::string("\xff\xfe", 2)) == 2); }
}

TEST_CASE("report::wrap") {
  SUBCASE("Latin text breaks at spaces") {
    auto lines = report::wrap("the quick brown fox jumps over the lazy dog", 20, 2);
    REQUIRE(lines.size() == 3);
    CHECK(lines[0] == "the quick brown fox");
    CHECK(lines[1] == "  jumps over the lazy");
    CHECK(lines[2] == "  dog");
  }
  SUBCASE("Japanese text breaks between characters and never passes the width") {
    std::string text = "証明書の更新に失敗しました。ネームサーバーの設定を確認してください。";
    auto lines = report::wrap(text, 24, 0);
    CHECK(lines.size() >= 3);
    for (const auto& l : lines) CHECK(report::display_width(l) <= 24);
    std::string joined;
    for (const auto& l : lines) joined += l;
    CHECK(joined == text);
  }
  SUBCASE("a word longer than the line stays whole") {
    auto lines = report::wrap(std::string(50, 'x') + " y", 30, 0);
    REQUIRE(lines.size() == 2);
    CHECK(lines[0] == std::string(50, 'x'));
  }
  SUBCASE("a short first word keeps its space") {
    auto lines = report::wrap("x error [id] title", 40, 4);
    CHECK(lines == std::vector<std::string>{"x error [id] title"});
  }
  SUBCASE("explicit newlines are kept") {
    auto lines = report::wrap("a\nb", 40, 0);
    CHECK(lines == std::vector<std::string>{"a", "b"});
  }
}

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
