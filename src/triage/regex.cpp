#include "triage/regex.hpp"

#include <glib.h>

#include "util/error.hpp"

namespace certdoctor::triage {

std::vector<std::string> group_names(std::string_view p) {
  std::vector<std::string> out;
  for (std::size_t i = 0; i + 3 < p.size(); ++i) {
    if (p[i] == '\\') {
      ++i;
      continue;
    }
    if (p[i] != '(' || p[i + 1] != '?') continue;
    std::size_t j = i + 2;
    char close = '>';
    if (p[j] == 'P' && j + 1 < p.size() && p[j + 1] == '<') j += 2;
    else if (p[j] == '<' && j + 1 < p.size() && p[j + 1] != '=' && p[j + 1] != '!') j += 1;
    else if (p[j] == '\'') {
      j += 1;
      close = '\'';
    } else continue;
    std::size_t end = p.find(close, j);
    if (end == std::string_view::npos) break;
    out.emplace_back(p.substr(j, end - j));
    i = end;
  }
  return out;
}

Pattern::Pattern(const std::string& source, const std::string& where, bool multiline)
    : source_(source), names_(group_names(source)) {
  GError* err = nullptr;
  // No G_REGEX_OPTIMIZE: JIT-compiling every pattern costs more at start-up than it saves on one input.
  int flags = G_REGEX_CASELESS | G_REGEX_DUPNAMES;
  if (multiline) flags |= G_REGEX_MULTILINE;
  GRegex* re = g_regex_new(source.c_str(), static_cast<GRegexCompileFlags>(flags), static_cast<GRegexMatchFlags>(0), &err);
  if (!re) {
    std::string msg = err ? err->message : "invalid pattern";
    if (err) g_error_free(err);
    throw ConfigError(where + ": invalid pattern '" + source + "': " + msg);
  }
  regex_ = std::shared_ptr<void>(re, [](void* r) { g_regex_unref(static_cast<GRegex*>(r)); });
}

namespace {

Pattern::Match to_match(GMatchInfo* info, const std::vector<std::string>& names) {
  Pattern::Match m;
  int b = 0, e = 0;
  g_match_info_fetch_pos(info, 0, &b, &e);
  m.begin = static_cast<std::size_t>(b);
  m.end = static_cast<std::size_t>(e);
  for (const auto& n : names) {
    int nb = -1, ne = -1;
    if (!g_match_info_fetch_named_pos(info, n.c_str(), &nb, &ne) || nb < 0) continue;
    gchar* v = g_match_info_fetch_named(info, n.c_str());
    if (v && *v) m.groups[n] = v;
    g_free(v);
  }
  return m;
}

} // namespace

std::optional<Pattern::Match> Pattern::search(std::string_view text) const {
  auto all = search_all(text, 1);
  if (all.empty()) return std::nullopt;
  return all.front();
}

std::vector<Pattern::Match> Pattern::search_all(std::string_view text, std::size_t limit) const {
  std::vector<Match> out;
  if (limit == 0 || !g_utf8_validate(text.data(), static_cast<gssize>(text.size()), nullptr)) return out;
  GMatchInfo* info = nullptr;
  GError* err = nullptr;
  // GRegex needs the length; the text need not be NUL-terminated.
  g_regex_match_full(static_cast<GRegex*>(regex_.get()), text.data(), static_cast<gssize>(text.size()), 0,
                     static_cast<GRegexMatchFlags>(0), &info, &err);
  // A match-limit error (catastrophic backtracking on hostile input) ends the search quietly.
  while (info && g_match_info_matches(info) && out.size() < limit) {
    out.push_back(to_match(info, names_));
    if (!g_match_info_next(info, &err)) break;
  }
  if (err) g_error_free(err);
  if (info) g_match_info_free(info);
  return out;
}

} // namespace certdoctor::triage
