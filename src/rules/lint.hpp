#pragma once
// Static checks of a rule catalogue against the shape of the view and the known providers.
#include <map>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "rules/catalogue.hpp"

namespace certdoctor::rules {

/// One problem in a catalogue file.
struct LintIssue {
  std::string file;
  int line = 0;
  std::string message;

  bool operator==(const LintIssue&) const = default;
};

/// "FILE:LINE: MESSAGE".
std::string to_string(const LintIssue& issue);

/// Every problem found, ordered by file and line: ids defined twice in one directory; paths in
/// 'each', 'when' and arguments that name no fact of `shape` (a sample view, see
/// Expr::check_shape); a missing language of `languages`, title, remediation or 'generic';
/// remediation variants for providers not in `known_providers`; placeholders that are not
/// arguments, and stray braces; placeholder sets of a field that differ between languages.
/// Here no provider profile has texts, so every {provider.X} is reported.
std::vector<LintIssue> lint(const Catalogue& catalogue, const nlohmann::json& shape,
                            const std::set<std::string>& known_providers,
                            const std::vector<std::string>& languages = {"en", "ja"});

/// The same, and {provider.X} placeholders checked against `provider_texts` (provider id -> the
/// profile's `texts:` map, {X: {en: ..., ja: ...}}): a provider's own remediation needs X in that
/// provider's profile, a 'generic' remediation in the generic profile and in every profile the
/// text stands in for (providers without their own remediation there), a title in every profile;
/// each in the text's language.
std::vector<LintIssue> lint(const Catalogue& catalogue, const nlohmann::json& shape,
                            const std::set<std::string>& known_providers,
                            const std::map<std::string, nlohmann::json>& provider_texts,
                            const std::vector<std::string>& languages = {"en", "ja"});

} // namespace certdoctor::rules
