#pragma once
// The rule expression language: a small, total language over JSON values. An expression is parsed
// once into an immutable tree and evaluated many times against a view (see engine.hpp).
#include <cstddef>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "util/error.hpp"

namespace certdoctor::rules {

namespace detail {
struct Spot;
}

/// An error at a spot in an expression. what() is "column C: MESSAGE" (or "line L, column C:
/// MESSAGE" for an expression of several lines), then the offending line and a caret under the
/// column.
class PositionedError : public ConfigError {
public:
  /// The message alone, without position or caret.
  const std::string& message() const noexcept { return message_; }
  /// 1-based line of the bad spot inside the expression.
  std::size_t line() const noexcept { return line_; }
  /// 1-based column (in characters) of the bad spot within its line.
  std::size_t column() const noexcept { return column_; }
  /// Two lines: the expression line and "   ^ near here".
  const std::string& caret() const noexcept { return caret_; }

protected:
  /// `offset` is the byte offset of the bad spot in `expression`.
  PositionedError(std::string message, std::string_view expression, std::size_t offset);
  /// The position of `inner`, with `context` put in front of its text.
  PositionedError(const PositionedError& inner, std::string_view context);

private:
  PositionedError(std::string message, detail::Spot spot);
  std::string message_;
  std::size_t line_;
  std::size_t column_;
  std::string caret_;
};

/// A syntax error in an expression (Expr::parse).
class ExprError : public PositionedError {
public:
  /// `offset` is the byte offset of the bad spot in `expression`.
  ExprError(std::string message, std::string_view expression, std::size_t offset)
      : PositionedError(std::move(message), expression, offset) {}
};

/// A failure while evaluating (a wrong argument type, such as len(5)); the engine rethrows it
/// with the rule's file, line and id in front.
class EvalError : public PositionedError {
public:
  EvalError(std::string message, std::string_view expression, std::size_t offset)
      : PositionedError(std::move(message), expression, offset) {}
  /// `inner` with `context` ("FILE:LINE: in 'when' of rule 'ID', ") put in front of its text.
  EvalError(const EvalError& inner, std::string_view context, std::string rule_id)
      : PositionedError(inner, context), rule_id_(std::move(rule_id)) {}

  /// Id of the rule being evaluated; empty until the engine adds it.
  const std::string& rule_id() const noexcept { return rule_id_; }

private:
  std::string rule_id_;
};

/// A variable visible to an expression; `value` must outlive the evaluation.
struct Binding {
  std::string name;
  const nlohmann::json* value;
};

/// A problem found by Expr::check_shape: a path that names no fact.
struct ShapeIssue {
  std::string message;  ///< e.g. "unknown fact 'name.adresses' (did you mean 'name.addresses'?)"
  std::size_t column;   ///< 1-based column in the expression
};

/// A parsed expression; cheap to copy (the tree is shared and immutable).
class Expr {
public:
  /// Parses `text`; throws ExprError on a syntax error, an unknown function, a wrong number of
  /// arguments, an invalid literal regular expression or nesting deeper than 64 levels.
  static Expr parse(std::string_view text);

  /// An expression whose text parse() has already accepted (the built-in rules data, parsed when
  /// the build wrote it): the tree is parsed on first use, once, safely from several threads, so
  /// a command pays only for the expressions it evaluates.
  static Expr deferred(std::string text);

  /// The value of the expression. Identifiers resolve to `bound` (later entries shadow earlier
  /// ones), then to the keys of `view`; anything missing is null. Throws EvalError.
  nlohmann::json evaluate(const nlohmann::json& view, const std::vector<Binding>& bound = {}) const;
  /// evaluate() without a copy: a value the view or `bound` holds (a path such as `names`) is
  /// returned as a reference into them; a computed one is moved into `storage` and returned from
  /// there. The reference lives as long as the view, `bound` and `storage`.
  const nlohmann::json& evaluate(const nlohmann::json& view, const std::vector<Binding>& bound,
                                 nlohmann::json& storage) const;

  /// truthy(evaluate(view, bound)).
  bool test(const nlohmann::json& view, const std::vector<Binding>& bound = {}) const;

  /// The source text.
  const std::string& text() const;

  /// Whether the expression can give exactly `value` as a literal written in it: the expression is
  /// that literal, or an if() with such a branch (nested if() included). Other ways to compute the
  /// value are not looked at. Lint uses it for the '-' an argument gives for an absent value.
  bool yields_literal(const nlohmann::json& value) const;

  /// Every path rooted at a variable not bound by a comprehension, e.g. "name.addresses",
  /// "names[0].status", in order of first appearance, without repeats.
  std::vector<std::string> free_paths() const;

  /// Checks every path against `shape` (a sample view: every key present, every list holding one
  /// representative element; null means "anything"). `bound` gives the shape of variables bound
  /// outside the expression (the rule's `as`); a variable mapped to null is not checked.
  /// Comprehension variables take the element shape of their list. Returns the problems found.
  std::vector<ShapeIssue> check_shape(const nlohmann::json& shape,
                                      const std::map<std::string, nlohmann::json>& bound = {}) const;

  /// The shape of the expression's value given `shape` and `bound` as above, or nullopt when it
  /// cannot be told statically (used for the element shape of a rule's `each`).
  std::optional<nlohmann::json> infer_shape(const nlohmann::json& shape,
                                            const std::map<std::string, nlohmann::json>& bound = {}) const;

  /// Same source text (parsing is deterministic, so the same expression).
  bool operator==(const Expr& other) const { return text() == other.text(); }

  struct Impl;

private:
  explicit Expr(std::shared_ptr<const Impl> impl) : impl_(std::move(impl)) {}
  std::shared_ptr<const Impl> impl_;
};

/// Conditions: false, null, 0, "", [] and {} are false; everything else is true.
bool truthy(const nlohmann::json& value);

/// Text of a value for people: a string as is, a number in shortest form, true/false, null as "",
/// a list of values joined with ", ", an object as compact JSON.
std::string to_text(const nlohmann::json& value);

/// "null", "boolean", "number", "string", "list" or "object": a value's type as messages name it.
const char* type_name(const nlohmann::json& value);

/// True for [A-Za-z_][A-Za-z0-9_]* that is not a keyword (and, or, not, in, true, false, null).
bool is_identifier(std::string_view text);

} // namespace certdoctor::rules
