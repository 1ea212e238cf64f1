#include "report/wrap.hpp"

#include <cstddef>

namespace certdoctor::report {

namespace {

struct CodePoint {
  char32_t cp;
  std::size_t begin, end;  // bytes of the text
};

// Decodes UTF-8; an invalid byte is one code point of its own (and one column wide).
std::vector<CodePoint> decode(const std::string& s) {
  std::vector<CodePoint> out;
  for (std::size_t i = 0; i < s.size();) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    std::size_t len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 1;
    if (i + len > s.size()) len = 1;
    for (std::size_t k = 1; k < len; ++k)
      if ((static_cast<unsigned char>(s[i + k]) & 0xc0) != 0x80) len = 1;
    char32_t cp = len == 1 ? c : len == 2 ? (c & 0x1f) : len == 3 ? (c & 0x0f) : (c & 0x07);
    for (std::size_t k = 1; k < len; ++k) cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3f);
    out.push_back({cp, i, i + len});
    i += len;
  }
  return out;
}

// East Asian Wide and Fullwidth ranges (UAX #11), enough for Japanese text.
bool wide(char32_t cp) {
  return (cp >= 0x1100 && cp <= 0x115f) || (cp >= 0x2e80 && cp <= 0x303e) || (cp >= 0x3041 && cp <= 0x33ff) ||
         (cp >= 0x3400 && cp <= 0x4dbf) || (cp >= 0x4e00 && cp <= 0x9fff) || (cp >= 0xa000 && cp <= 0xa4cf) ||
         (cp >= 0xac00 && cp <= 0xd7a3) || (cp >= 0xf900 && cp <= 0xfaff) || (cp >= 0xfe30 && cp <= 0xfe4f) ||
         (cp >= 0xff00 && cp <= 0xff60) || (cp >= 0xffe0 && cp <= 0xffe6) || (cp >= 0x20000 && cp <= 0x3fffd);
}

bool in(char32_t cp, std::u32string_view set) { return set.find(cp) != std::u32string_view::npos; }

// May not begin a line: closing brackets and quotes, punctuation, iteration marks, the long
// vowel mark, small kana (JIS X 4051 classes 2 to 6 and 11, as a word processor applies them).
bool no_line_start(char32_t cp) {
  return in(cp, U"、。，．・：；？！゛゜ヽヾゝゞ々〻ー‐゠–〜～）］｝〕〉》」』】〙〗〟’”｠»"
                U"ぁぃぅぇぉっゃゅょゎゕゖァィゥェォッャュョヮヵヶ…‥),.;:!?]}%") ||
         (cp >= 0x31f0 && cp <= 0x31ff);
}

// May not end a line: opening brackets and quotes.
bool no_line_end(char32_t cp) { return in(cp, U"（［｛〔〈《「『【〘〖〝‘“｟«([{"); }

// A katakana word (with its long vowel mark and middle dot) is never split.
bool katakana(char32_t cp) {
  return (cp >= 0x30a1 && cp <= 0x30fc) || (cp >= 0x31f0 && cp <= 0x31ff) || (cp >= 0xff66 && cp <= 0xff9f);
}

bool digit(char32_t cp) { return (cp >= '0' && cp <= '9') || (cp >= 0xff10 && cp <= 0xff19); }

// A bracketed label no wider than this stays on one line: 「ドメイン/SSL」→ one unit.
constexpr int kLabelMax = 30;

struct Unit {
  std::string text;
  int width = 0;
  bool space_before = false;  // separated from the previous unit by a space (dropped at a break)
  bool newline_before = false;
};

// Splits text into units that are never broken across lines.
std::vector<Unit> units_of(const std::string& text) {
  auto cps = decode(text);
  // Code points inside a short 「…」 or 『…』 or 【…】 label, where no break may fall.
  std::vector<bool> inside(cps.size(), false);
  for (std::size_t i = 0; i < cps.size(); ++i) {
    char32_t close = cps[i].cp == U'「' ? U'」' : cps[i].cp == U'『' ? U'』' : cps[i].cp == U'【' ? U'】' : 0;
    if (!close) continue;
    int w = 2;
    for (std::size_t j = i + 1; j < cps.size() && cps[j].cp != '\n' && w <= kLabelMax; ++j) {
      w += wide(cps[j].cp) ? 2 : 1;
      if (cps[j].cp == close) {
        if (w <= kLabelMax)
          for (std::size_t k = i + 1; k <= j; ++k) inside[k] = true;
        i = j;
        break;
      }
    }
  }
  std::vector<Unit> units;
  bool space = false, newline = false, open = false;
  for (std::size_t i = 0; i < cps.size(); ++i) {
    char32_t cp = cps[i].cp;
    if (cp == '\n') {
      newline = true;
      space = false;
      open = false;
      continue;
    }
    if (cp == ' ') {
      space = !newline || space;
      open = false;
      continue;
    }
    bool join = false;
    if (open && !space && !newline) {
      char32_t prev = cps[i - 1].cp;
      bool cjk = wide(prev) || wide(cp);
      join = !cjk || inside[i] || no_line_start(cp) || no_line_end(prev) || (katakana(prev) && katakana(cp)) ||
             (digit(prev) && wide(cp));
    }
    std::string ch = text.substr(cps[i].begin, cps[i].end - cps[i].begin);
    int w = wide(cp) ? 2 : 1;
    if (join) {
      units.back().text += ch;
      units.back().width += w;
    } else {
      units.push_back({ch, w, space, newline});
      space = newline = false;
    }
    open = true;
  }
  return units;
}

} // namespace

int display_width(const std::string& s) {
  int w = 0;
  for (const auto& c : decode(s)) w += wide(c.cp) ? 2 : 1;
  return w;
}

std::vector<std::string> wrap(const std::string& text, int width, int indent) {
  if (width > 0 && width < indent + 20) width = indent + 20;  // never wrap into a useless sliver
  const std::string pad(indent, ' ');
  std::vector<std::string> lines;
  std::string line;
  int line_w = 0;
  bool has_content = false;  // the current line holds a unit (not just the indent)
  auto flush = [&] {
    lines.push_back(line);
    line = pad;
    line_w = indent;
    has_content = false;
  };
  for (const auto& u : units_of(text)) {
    if (u.newline_before) flush();
    int sep = u.space_before && has_content ? 1 : 0;
    if (width > 0 && has_content && line_w + sep + u.width > width) {
      flush();
      sep = 0;
    }
    if (sep) line += ' ';
    line += u.text;
    line_w += sep + u.width;
    has_content = has_content || !u.text.empty();
  }
  lines.push_back(line);
  for (auto& l : lines)
    while (!l.empty() && l.back() == ' ') l.pop_back();
  return lines;
}

} // namespace certdoctor::report
