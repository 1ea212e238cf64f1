#pragma once
// Small text helpers shared by every layer: ASCII case folding, shell-style globs and the
// "did you mean" hint that every closed set of names gets (rule keys, providers, CA models, facts).
#include <string>
#include <string_view>
#include <vector>

namespace certdoctor {

/// `text` with ASCII letters lower-cased; other bytes (UTF-8 included) unchanged.
std::string lower(std::string_view text);

/// True when `haystack` contains `needle`, ignoring ASCII case; false for an empty needle.
bool contains_nocase(std::string_view haystack, std::string_view needle);

/// True when `name` matches the shell-style `pattern` (`*` any run, `?` one byte), ignoring ASCII
/// case. Linear in practice: one backtrack point, no recursion on hostile input.
bool glob_match(std::string_view pattern, std::string_view name);

/// Optimal string alignment distance: Levenshtein with an adjacent transposition counting once
/// ("whne" -> "when" is 1).
std::size_t edit_distance(std::string_view a, std::string_view b);

/// The candidate closest to `word` when it is close enough to be a typo (at most 1 edit for words
/// of up to 3 characters, 2 up to 6, else 3), or "" when none is; `word` itself is never proposed.
std::string closest_name(std::string_view word, const std::vector<std::string>& candidates);

/// " (did you mean 'X'?)" with closest_name(), or "" when none is close.
std::string did_you_mean(std::string_view word, const std::vector<std::string>& candidates);

/// `text` made safe to echo in a message or a report line: C0 and C1 control characters, DEL and
/// bytes that are not UTF-8 written as \xNN (a tab as \t, a newline as \n), and cut after
/// `max_chars` characters with "..." so that a hostile input cannot flood a terminal or forge lines.
std::string printable(std::string_view text, std::size_t max_chars = 100);

} // namespace certdoctor
