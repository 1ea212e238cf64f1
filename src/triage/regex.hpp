#pragma once
// PCRE patterns from rules data, through GLib's GRegex (which GMime already brings): compiled
// once, matched case-insensitively, with named groups as the evidence of a match.
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace certdoctor::triage {

/// One compiled pattern. Copyable (shares the compiled form); matching is thread-safe.
class Pattern {
 public:
  /// Compiles `source`; throws ConfigError with `where` and GLib's message when it is invalid.
  Pattern(const std::string& source, const std::string& where, bool multiline = false);

  struct Match {
    std::size_t begin = 0, end = 0;              // byte offsets of the whole match
    std::map<std::string, std::string> groups;   // named groups that took part, by name
  };
  /// The first match in `text`, or nothing. Invalid UTF-8 never matches (GRegex is told the
  /// text is raw bytes only for patterns without Unicode classes, so callers pass valid UTF-8).
  std::optional<Match> search(std::string_view text) const;
  /// Every non-overlapping match, at most `limit`.
  std::vector<Match> search_all(std::string_view text, std::size_t limit = 64) const;

  const std::string& source() const { return source_; }
  const std::vector<std::string>& names() const { return names_; }

 private:
  std::string source_;
  std::vector<std::string> names_;
  std::shared_ptr<void> regex_;  // GRegex*
};

/// The names of the named groups in a PCRE pattern, in order: (?<n>...), (?P<n>...), (?'n'...).
std::vector<std::string> group_names(std::string_view pattern);

} // namespace certdoctor::triage
