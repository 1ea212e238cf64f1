#include "rules/expr_tree.hpp"

#include <algorithm>

namespace certdoctor::rules {

namespace detail {

Spot locate(std::string_view text, std::size_t offset) {
  Spot s;
  offset = std::min(offset, text.size());
  std::size_t start = 0;
  for (std::size_t i = 0; i < offset; ++i) {
    if (text[i] == '\n') {
      ++s.line;
      start = i + 1;
    }
  }
  std::size_t end = text.find('\n', start);
  if (end == std::string_view::npos) end = text.size();
  s.multiline = text.find('\n') != std::string_view::npos;
  for (std::size_t i = start; i < offset; ++i) {
    if (!is_continuation(static_cast<unsigned char>(text[i]))) ++s.column;
  }
  std::string shown(text.substr(start, end - start));
  // One column per character, so the caret lines up.
  std::replace(shown.begin(), shown.end(), '\t', ' ');
  if (!shown.empty() && shown.back() == '\r') shown.pop_back();
  s.caret = shown + "\n" + std::string(s.column - 1, ' ') + "^ near here";
  return s;
}

} // namespace detail

using detail::locate;
using detail::Spot;

namespace {

std::string format_spot(const Spot& s, const std::string& message) {
  std::string where = s.multiline
      ? "line " + std::to_string(s.line) + ", column " + std::to_string(s.column)
      : "column " + std::to_string(s.column);
  return where + ": " + message + "\n" + s.caret;
}

} // namespace

// -----------------------------------------------------------------------------------------------
// Errors

PositionedError::PositionedError(std::string message, std::string_view expression, std::size_t offset)
    : PositionedError(std::move(message), locate(expression, offset)) {}

PositionedError::PositionedError(std::string message, Spot spot)
    : ConfigError(format_spot(spot, message)), message_(std::move(message)), line_(spot.line),
      column_(spot.column), caret_(std::move(spot.caret)) {}

PositionedError::PositionedError(const PositionedError& inner, std::string_view context)
    : ConfigError(std::string(context) + inner.what()), message_(inner.message_), line_(inner.line_),
      column_(inner.column_), caret_(inner.caret_) {}

} // namespace certdoctor::rules
