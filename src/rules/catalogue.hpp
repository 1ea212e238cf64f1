#pragma once
// The rule catalogue: rules/*.yaml files loaded from one or more directories, later directories
// overlaying earlier ones, and the texts that explain each finding in several languages.
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "rules/expr.hpp"
#include "rules/finding.hpp"
#include "util/compact.hpp"

namespace certdoctor::rules {

/// An expression and the 1-based line of its file where it is written.
struct SourceExpr {
  Expr expr;
  int line = 0;

  bool operator==(const SourceExpr&) const = default;
};

/// A named piece of evidence: `name` is the placeholder the texts use.
struct Argument {
  std::string name;
  SourceExpr value;

  bool operator==(const Argument&) const = default;
};

/// A text template and its line.
struct Text {
  std::string value;
  int line = 0;

  bool operator==(const Text&) const = default;
};

struct LanguageVariant;

/// The texts of one rule in one language.
struct LanguageText {
  int line = 0;                     ///< line of the language key
  std::optional<Text> title;
  std::optional<int> remediation_line;  ///< line of the 'remediation' key, if present
  std::map<std::string, Text> remediation;  ///< "generic" and provider ids -> text
  /// `variants:` in a language: per variant name, a title and/or remediation that replace the
  /// base ones for findings of that variant (nested variants are not allowed).
  /// (A vector of a named struct, not of std::pair: a pair may not hold the incomplete
  /// LanguageText, and libstdc++'s pair fails to compile with clang when it does.)
  std::vector<LanguageVariant> variants;

  /// The texts of `variant`, or nullptr when this language has none for it.
  const LanguageText* variant(std::string_view name) const;

  bool operator==(const LanguageText&) const;
};

/// One entry of LanguageText::variants.
struct LanguageVariant {
  std::string name;
  LanguageText text;

  // Written out (catalogue.cpp), not defaulted: clang 14 crashes on a defaulted comparison through
  // the vector of this type that LanguageText holds.
  bool operator==(const LanguageVariant&) const;
};

/// A declared variant of a rule: a case with its own texts and possibly its own severity and
/// source document (when the case rests on another document than the rule).
struct VariantDef {
  std::optional<Severity> severity;  ///< absent: the rule's severity
  std::string source;                ///< empty: the rule's source; else its document for every provider
  std::map<std::string, std::string> sources;  ///< provider id or "generic" -> document id
  int line = 0;

  bool operator==(const VariantDef&) const = default;
};

/// One rule as written in a catalogue file.
struct Rule {
  std::string id;
  Severity severity = Severity::info;
  /// The document for every provider (`source: ID`, or the `generic` entry of a map).
  std::string source;
  /// `source:` as a map: "generic" and provider ids -> document id. A provider's own document
  /// is cited only for that provider, as its texts are used only for it.
  std::map<std::string, std::string> sources;
  std::optional<SourceExpr> each;  ///< with `as`: the rule is evaluated once per element
  std::string as;
  std::optional<SourceExpr> when;  ///< absent: always fires
  std::vector<Argument> arguments;
  std::optional<SourceExpr> variant;  ///< yields the variant name of a finding ("" or null: none)
  std::map<std::string, VariantDef> variants;  ///< declared variants
  std::map<std::string, LanguageText> text;  ///< language -> texts
  /// `follows_from: [ID...]`: rules whose finding, when present, explains this one (a lame
  /// delegation explains a SERVFAIL). The report puts this finding under that one.
  std::vector<std::string> follows_from;
  int follows_from_line = 0;
  std::string file;
  int line = 0;       ///< line where the rule starts
  int text_line = 0;  ///< line of the 'text' key

  bool operator==(const Rule&) const = default;
};

/// A rule id defined twice in one directory (lint reports it; the later definition is used).
struct DuplicateRule {
  std::string id;
  std::string file;
  int line = 0;
  std::string first_file;
  int first_line = 0;

  bool operator==(const DuplicateRule&) const = default;
};

/// The placeholders of a text template, in order, without repeats; `stray_brace` is the byte
/// offset of the first '{' or '}' that is neither a placeholder nor escaped as '{{' / '}}'.
struct Placeholders {
  std::vector<std::string> names;
  std::optional<std::size_t> stray_brace;
};

/// The prefix of placeholders that name a text of the provider profile ("{provider.retry}").
inline constexpr std::string_view provider_prefix = "provider.";

/// Scans a text template ("{name} has no address; use {{ and }} for braces"). A name is an
/// identifier or identifiers joined by '.' ("{provider.retry}").
Placeholders scan_placeholders(std::string_view text);

/// `text` with each {placeholder} replaced by to_text() of the argument of that name, each
/// {provider.X} by the string `provider_texts[X]` (texts of one language), a placeholder with no
/// value staying as written, and '{{' / '}}' turned into '{' / '}'. Filled-in values are not
/// scanned again.
std::string fill_placeholders(std::string_view text, const nlohmann::json& arguments,
                              const nlohmann::json& provider_texts = nlohmann::json());

/// The loaded rules, in catalogue order.
class Catalogue {
public:
  /// Loads every *.yaml directly in each directory (files in name order) whose top level is a map
  /// with a 'rules' key; other YAML files are ignored. A rule whose id was loaded from an earlier
  /// directory replaces it in place. Throws ConfigError "FILE:LINE: message" on a missing
  /// directory, a YAML syntax error, a malformed rule or an expression that does not parse.
  static Catalogue load(const std::vector<std::filesystem::path>& dirs);
  /// `base` with the rules of `dirs` laid over it, as if base's directories came first.
  static Catalogue load(Catalogue base, const std::vector<std::filesystem::path>& dirs);

  /// The loaded catalogue in the compact form (rules with their files and lines, expressions as
  /// text, duplicates), for the built-in data compiled into the binary; read() reads it back
  /// (each expression parsed when first used: Expr::deferred) and throws ConfigError on anything malformed.
  void write(CompactWriter& w) const;
  static Catalogue read(CompactReader& r);

  bool operator==(const Catalogue&) const = default;

  /// Rules in catalogue order: directories in the order given, files by name, rules in file order.
  const std::vector<Rule>& rules() const noexcept { return rules_; }

  /// The rule with this id, or nullptr.
  const Rule* find(std::string_view id) const;

  /// Ids defined more than once within one directory.
  const std::vector<DuplicateRule>& duplicates() const noexcept { return duplicates_; }

  /// The text `field` ("title" or "remediation") of the finding's rule in `lang`, with the
  /// placeholders filled from its arguments and {provider.X} from `provider_texts` (the provider
  /// profile's `texts:` map, {X: {en: ..., ja: ...}}). For remediation, the variant for `provider`
  /// when the rule has one, else 'generic'. Throws ConfigError for an unknown rule, language or field.
  std::string render(const Finding& finding, std::string_view lang, std::string_view field,
                     std::string_view provider, const nlohmann::json& provider_texts = nlohmann::json()) const;

private:
  std::vector<Rule> rules_;
  std::map<std::string, std::size_t, std::less<>> index_;
  std::vector<DuplicateRule> duplicates_;
};

} // namespace certdoctor::rules
