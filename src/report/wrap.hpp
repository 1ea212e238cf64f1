#pragma once
// Line breaking for text reports: terminal columns (East Asian wide characters count two),
// breaks at spaces in Latin text and between characters in Japanese text, with the Japanese
// rules of line breaking (kinsoku shori, after JIS X 4051): no line starts with a closing mark or
// a small kana (、。」ー っ ...), no line ends with an opening mark (「（ ...), a katakana word, a
// number with its unit and a short bracketed label (「ドメイン/SSL」) are never split.
#include <string>
#include <vector>

namespace certdoctor::report {

/// Display width of UTF-8 text in terminal columns; invalid bytes count one column each.
int display_width(const std::string& utf8);

/// Wraps UTF-8 text to `width` columns; continuation lines start with `indent` spaces. Explicit
/// newlines are kept (the next line is indented too). A `width` of 0 or less breaks only at those newlines. A
/// unit wider than the line (a long URL) stays whole on a line of its own rather than broken.
std::vector<std::string> wrap(const std::string& text, int width, int indent);

} // namespace certdoctor::report
