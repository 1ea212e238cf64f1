#pragma once
// Private to src/rules: the syntax tree of an expression and what the stages of the language share
// (expr_position, expr_tokenize, expr_parse, expr_values, expr_evaluate, expr_shape). Nothing
// outside src/rules includes it; the contract is expr.hpp.
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <regex>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "rules/expr.hpp"

namespace certdoctor::rules::detail {

// Deeper trees are refused at parse time so that evaluating, checking and destroying a tree can
// recurse without risking the stack.
constexpr int kMaxDepth = 64;

// ---------------------------------------------------------------------------------------------
// Positions (expr_position.cpp)

/// Where a byte offset falls in an expression, and the line to show under a caret.
struct Spot {
  std::size_t line = 1;
  std::size_t column = 1;
  std::string caret;
  bool multiline = false;
};

/// True for the second and later bytes of a UTF-8 character.
inline bool is_continuation(unsigned char c) { return (c & 0xC0) == 0x80; }

/// The line, column (in characters) and caret lines of `offset` in `text`.
Spot locate(std::string_view text, std::size_t offset);

// ---------------------------------------------------------------------------------------------
// Tokens (expr_tokenize.cpp)

enum class Tok {
  end, ident, number, string, lparen, rparen, lbracket, rbracket, comma, colon, dot,
  eq, ne, lt, le, gt, ge, plus, minus
};

struct Token {
  Tok kind = Tok::end;
  std::size_t pos = 0;
  std::string text;     // identifier name, or the source text of a literal
  nlohmann::json value; // literal value
};

inline bool digit(char c) { return c >= '0' && c <= '9'; }

/// True for and, or, not, in, true, false and null.
bool is_keyword(std::string_view s);

/// The tokens of `text`, ending with one Tok::end; throws ExprError on a bad character, string,
/// escape or number.
std::vector<Token> tokenize(std::string_view text);

/// A token as error messages name it: "identifier 'x'", "number 42", "end of expression".
std::string describe(const Token& t);

// ---------------------------------------------------------------------------------------------
// Syntax tree (built by expr_parse.cpp)

enum class Kind { literal, list, var, field, index, not_, neg, and_, or_, add, compare, call, comprehension };
enum class Cmp { eq, ne, lt, le, gt, ge, in, not_in };
enum class Fn {
  len, empty, exists, lower, upper, join, first, last, sort, unique, starts_with, ends_with,
  matches, flatten, keys, str, number, min, max, concat, coalesce, if_,
  any, all, count, filter, map, find
};

struct Node {
  Kind kind = Kind::literal;
  std::size_t pos = 0;
  int depth = 1;
  nlohmann::json value;         // literal
  std::string name;             // variable, field, function or comprehension variable
  Fn fn = Fn::len;
  Cmp cmp = Cmp::eq;
  std::vector<char> signs;      // add: the operator before kids[i + 1]
  std::vector<std::size_t> op_pos;
  std::vector<std::unique_ptr<Node>> kids;
  std::shared_ptr<const std::regex> regex;  // matches() with a literal pattern
};

using NodePtr = std::unique_ptr<Node>;

/// The tree of `text`; throws ExprError (see Expr::parse).
NodePtr parse_tree(std::string_view text);

/// The name `fn` is called by in expressions.
const char* function_name(Fn fn);

/// A short phrase for a std::regex error code ("unbalanced ( )").
const char* regex_problem(std::regex_constants::error_type code);

// ---------------------------------------------------------------------------------------------
// Values (expr_values.cpp)

/// An integer value as int64; nullopt for floats and for unsigned values beyond int64.
std::optional<std::int64_t> as_int(const nlohmann::json& v);

/// Three-way comparison of two numbers; nullopt when either is NaN.
std::optional<int> compare_numbers(const nlohmann::json& a, const nlohmann::json& b);

/// A total order (NaN after every other number) for sort(), unique(), min() and max().
int order(const nlohmann::json& a, const nlohmann::json& b);

/// Length in characters of a UTF-8 string.
std::size_t utf8_length(const std::string& s);

/// The number written in `s`, or null when `s` is not a finite number in plain digits.
nlohmann::json parse_number(const std::string& s);

// ---------------------------------------------------------------------------------------------
// Stages over a tree (expr_evaluate.cpp, expr_shape.cpp); `text` is the source, for positions.

/// See Expr::evaluate.
nlohmann::json evaluate_tree(const Node& root, std::string_view text, const nlohmann::json& view,
                             const std::vector<Binding>& bound);
/// See Expr::evaluate with storage.
const nlohmann::json& evaluate_tree(const Node& root, std::string_view text, const nlohmann::json& view,
                                    const std::vector<Binding>& bound, nlohmann::json& storage);

/// See Expr::test.
bool test_tree(const Node& root, std::string_view text, const nlohmann::json& view,
               const std::vector<Binding>& bound);

/// See Expr::free_paths.
std::vector<std::string> free_paths(const Node& root);

/// The shape of the tree's value (null when unknown); each path that names no fact is added to
/// `issues` when it is not null. See Expr::check_shape.
nlohmann::json infer_shape(const Node& root, std::string_view text, const nlohmann::json& shape,
                           const std::map<std::string, nlohmann::json>& bound, std::vector<ShapeIssue>* issues);

} // namespace certdoctor::rules::detail
