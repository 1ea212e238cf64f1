#pragma once
// Two error tiers, as in ccache: Error is for conditions a caller may handle;
// Fatal is printed by main() as "certdoctor: error: ..." and ends the program.
#include <functional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace certdoctor {

/// A message a person reads, by its key in reports/labels.yaml `errors:` (one text per language)
/// and the values of its {placeholders}. The words are data, not code.
struct Message {
  std::string key;
  std::vector<std::pair<std::string, std::string>> args;
};

/// Renders a message in the language of this run; returns "" for a key it does not know. main()
/// installs one that reads reports/labels.yaml in the language of --lang or the locale.
using MessageRenderer = std::function<std::string(const Message&)>;
void set_message_renderer(MessageRenderer renderer);
/// The message in the installed renderer's words; without a renderer or for an unknown key, the
/// key followed by its arguments ("domain-port: input='a.jp:80', host=a.jp").
std::string render_message(const Message& m);
/// Fills {name} placeholders of a text with a message's arguments.
std::string fill_message(std::string text, const Message& m);

/// A recoverable failure with a message meant for a person (names the input and the fix).
class Error : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
  explicit Error(const Message& m) : std::runtime_error(render_message(m)) {}
};

/// A usage or input error: main() prints it and exits with status 2.
class UsageError : public Error {
public:
  using Error::Error;
};

/// Bad configuration or rule data: main() prints it and exits with status 2.
class ConfigError : public Error {
public:
  using Error::Error;
};

} // namespace certdoctor
