#include "util/error.hpp"

#include <algorithm>

namespace certdoctor {

namespace {
MessageRenderer& renderer() {
  static MessageRenderer r;
  return r;
}
} // namespace

void set_message_renderer(MessageRenderer r) { renderer() = std::move(r); }

std::string fill_message(std::string text, const Message& m) {
  // One pass over the text, so that a value holding "{...}" (echoed input) is never filled again.
  std::string out;
  std::size_t at = 0;
  while (at < text.size()) {
    const std::size_t open = text.find('{', at), close = open == std::string::npos ? open : text.find('}', open);
    if (close == std::string::npos) break;
    out.append(text, at, open - at);
    const std::string name = text.substr(open + 1, close - open - 1);
    const auto arg = std::find_if(m.args.begin(), m.args.end(), [&](const auto& a) { return a.first == name; });
    out += arg != m.args.end() ? arg->second : text.substr(open, close - open + 1);
    at = close + 1;
  }
  out.append(text, std::min(at, text.size()), std::string::npos);
  return out;
}

std::string render_message(const Message& m) {
  if (renderer()) {
    std::string text = renderer()(m);
    if (!text.empty()) return text;
  }
  std::string out = m.key;
  const char* sep = ": ";
  for (const auto& [name, value] : m.args) {
    out += sep + name + "=" + value;
    sep = ", ";
  }
  return out;
}

} // namespace certdoctor
