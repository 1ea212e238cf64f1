#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "report/wrap.hpp"

using namespace certdoctor;
using Lines = std::vector<std::string>;

namespace {

std::string joined(const Lines& lines) {
  std::string out;
  for (const auto& l : lines) out += l;
  return out;
}

// The first character (code point) of a line, after its indent.
std::string first_char(const std::string& line) {
  std::size_t i = line.find_first_not_of(' ');
  if (i == std::string::npos) return "";
  unsigned char c = static_cast<unsigned char>(line[i]);
  std::size_t len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : 4;
  return line.substr(i, len);
}

std::string last_char(const std::string& line) {
  std::size_t i = line.size();
  while (i > 0 && (static_cast<unsigned char>(line[i - 1]) & 0xc0) == 0x80) --i;
  return i > 0 ? line.substr(i - 1) : "";
}

} // namespace

TEST_CASE("report::display_width") {
  CHECK(report::display_width("abc") == 3);
  CHECK(report::display_width("日本語") == 6);
  CHECK(report::display_width("aあ") == 3);
  CHECK(report::display_width("") == 0);
  SUBCASE("invalid UTF-8 counts one column a byte") { CHECK(report::display_width(std::string("\xff\xfe", 2)) == 2); }
  SUBCASE("a truncated sequence counts its bytes") { CHECK(report::display_width(std::string("\xe6\x97", 2)) == 2); }
}

TEST_CASE("report::wrap Latin text") {
  SUBCASE("breaks at spaces, continuation lines indented") {
    auto lines = report::wrap("the quick brown fox jumps over the lazy dog", 20, 2);
    CHECK(lines == Lines{"the quick brown fox", "  jumps over the lazy", "  dog"});
  }
  SUBCASE("a word longer than the line stays whole") {
    auto lines = report::wrap(std::string(50, 'x') + " y", 30, 0);
    CHECK(lines == Lines{std::string(50, 'x'), "y"});
  }
  SUBCASE("a URL is never broken") {
    std::string url = "https://help.sakura.ad.jp/domain/2207/?tab=ssl-renewal";
    auto lines = report::wrap("see " + url + " for the steps", 30, 0);
    CHECK(lines == Lines{"see", url, "for the steps"});
  }
  SUBCASE("a short first word keeps its space") {
    CHECK(report::wrap("x error [id] title", 40, 4) == Lines{"x error [id] title"});
  }
  SUBCASE("explicit newlines are kept and indented") {
    CHECK(report::wrap("a\nb", 40, 0) == Lines{"a", "b"});
    CHECK(report::wrap("a\nb", 40, 2) == Lines{"a", "  b"});
  }
  SUBCASE("width 0 breaks only at newlines") {
    std::string long_text(300, 'a');
    long_text += " b c";
    CHECK(report::wrap(long_text, 0, 4) == Lines{long_text});
    CHECK(report::wrap("a b\nc", 0, 2) == Lines{"a b", "  c"});
    CHECK(report::wrap("a b", -2, 2) == Lines{"a b"});
  }
  SUBCASE("an absurdly small width still leaves 20 columns") {
    auto lines = report::wrap("one two three four five six seven", 5, 0);
    for (const auto& l : lines) CHECK(report::display_width(l) <= 20);
    CHECK(lines.size() == 2);
  }
  SUBCASE("empty text is one empty line") { CHECK(report::wrap("", 40, 2) == Lines{""}); }
}

TEST_CASE("report::wrap Japanese text") {
  SUBCASE("breaks between characters, never past the width, nothing lost") {
    std::string text = "証明書の更新に失敗しました。ネームサーバーの設定を確認してください。";
    auto lines = report::wrap(text, 24, 0);
    CHECK(lines.size() >= 3);
    for (const auto& l : lines) CHECK(report::display_width(l) <= 24);
    CHECK(joined(lines) == text);
  }
  SUBCASE("no line starts with a closing mark, a small kana or the long vowel mark") {
    // At every width from 20 to 40 columns, whatever falls at the line end.
    std::string text = "自動更新は、有効期限の約20日前に行われます。「更新」を押したあと、ちょっと待ってください。"
                       "ネームサーバー（DNS）を戻すと、キャッシュが消えるまで数時間かかることがあります。";
    for (int width = 20; width <= 40; ++width) {
      CAPTURE(width);
      auto lines = report::wrap(text, width, 0);
      CHECK(joined(lines) == text);
      for (std::size_t i = 0; i < lines.size(); ++i) {
        CAPTURE(lines[i]);
        CHECK(report::display_width(lines[i]) <= width);
        if (i == 0) continue;
        for (const char* bad : {"、", "。", "」", "）", "ー", "っ", "ょ", "ッ", "ャ"}) CHECK(first_char(lines[i]) != bad);
        for (const char* bad : {"「", "（"}) CHECK(last_char(lines[i - 1]) != bad);
      }
    }
  }
  SUBCASE("a katakana word is never split") {
    for (int width = 20; width <= 30; ++width) {
      CAPTURE(width);
      auto lines = report::wrap("確認の結果、ネームサーバーがクラウドフレアに変わっていました。", width, 0);
      bool whole = false;
      for (const auto& l : lines) {
        if (l.find("ネームサーバー") != std::string::npos) whole = true;
        CHECK(l.find("ネーム") == l.find("ネームサーバー"));
      }
      CHECK(whole);
    }
  }
  SUBCASE("a number keeps its unit") {
    for (int width = 20; width <= 30; ++width) {
      CAPTURE(width);
      auto lines = report::wrap("あいうえおかきくけこさしすせそ残り20日で期限が切れます。", width, 0);
      bool found = false;
      for (const auto& l : lines) found = found || l.find("20日") != std::string::npos;
      CHECK(found);
    }
  }
  SUBCASE("a panel label stays on one line") {
    std::string text = "コントロールパネルで「ドメイン/SSL」→「SSL設定」→「更新手続きへ進む」の順に開いてください。";
    for (int width = 20; width <= 60; ++width) {
      CAPTURE(width);
      auto lines = report::wrap(text, width, 2);
      CHECK(joined(lines).find("「ドメイン/SSL」") != std::string::npos);  // nothing lost or reordered
      int seen = 0;
      for (const auto& l : lines) {
        if (l.find("「ドメイン/SSL」") != std::string::npos) ++seen;
        if (l.find("「更新手続きへ進む」") != std::string::npos) ++seen;
      }
      CHECK(seen == 2);
    }
  }
  SUBCASE("a label longer than the limit may break inside") {
    std::string label = "「" + std::string(40, 'a') + " " + std::string(10, 'b') + "」";
    auto lines = report::wrap(label, 30, 0);
    CHECK(lines.size() >= 2);
  }
  SUBCASE("Japanese and Latin mixed: a Latin word is whole, nothing lost but the space at a break") {
    std::string text = "Let's Encryptの証明書は有効期限が90日で、certdoctorが確認します。";
    for (int width = 20; width <= 30; ++width) {
      CAPTURE(width);
      auto lines = report::wrap(text, width, 0);
      std::string all;
      for (const auto& l : lines) {
        CHECK(report::display_width(l) <= width);
        CHECK((l.find("certdoc") == std::string::npos || l.find("certdoctor") != std::string::npos));
        all += l + " ";
      }
      std::string squeezed, expected;
      for (char c : all) if (c != ' ') squeezed += c;
      for (char c : text) if (c != ' ') expected += c;
      CHECK(squeezed == expected);
    }
  }
}
