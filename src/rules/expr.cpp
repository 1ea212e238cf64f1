#include "rules/expr.hpp"

#include "util/text.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <limits>
#include <mutex>
#include <regex>
#include <set>

namespace certdoctor::rules {

using nlohmann::json;

namespace {

// Deeper trees are refused at parse time so that evaluating, checking and destroying a tree can
// recurse without risking the stack.
constexpr int kMaxDepth = 64;

// libstdc++'s std::regex matcher recurses once per subject character; a bounded subject keeps a
// hostile TXT record or name from exhausting the stack.
constexpr std::size_t kMaxRegexSubject = 4096;

// ---------------------------------------------------------------------------------------------
// Positions and diagnostics

struct Spot {
  std::size_t line = 1;
  std::size_t column = 1;
  std::string caret;
  bool multiline = false;
};

bool is_continuation(unsigned char c) { return (c & 0xC0) == 0x80; }

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

std::string format_spot(const Spot& s, const std::string& message) {
  std::string where = s.multiline
      ? "line " + std::to_string(s.line) + ", column " + std::to_string(s.column)
      : "column " + std::to_string(s.column);
  return where + ": " + message + "\n" + s.caret;
}

// ---------------------------------------------------------------------------------------------
// Tokens

enum class Tok {
  end, ident, number, string, lparen, rparen, lbracket, rbracket, comma, colon, dot,
  eq, ne, lt, le, gt, ge, plus, minus
};

struct Token {
  Tok kind = Tok::end;
  std::size_t pos = 0;
  std::string text;  // identifier name, or the source text of a literal
  json value;        // literal value
};

const char* keywords[] = {"and", "or", "not", "in", "true", "false", "null"};

bool is_keyword(std::string_view s) {
  return std::find(std::begin(keywords), std::end(keywords), s) != std::end(keywords);
}

bool ident_start(char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_'; }
bool ident_char(char c) { return ident_start(c) || (c >= '0' && c <= '9'); }
bool digit(char c) { return c >= '0' && c <= '9'; }

[[noreturn]] void syntax(std::string message, std::string_view text, std::size_t pos) {
  throw ExprError(std::move(message), text, pos);
}

std::vector<Token> tokenize(std::string_view text) {
  std::vector<Token> out;
  std::size_t i = 0;
  const std::size_t n = text.size();
  while (true) {
    while (i < n && (text[i] == ' ' || text[i] == '\t' || text[i] == '\n' || text[i] == '\r')) ++i;
    Token t;
    t.pos = i;
    if (i >= n) {
      out.push_back(std::move(t));
      return out;
    }
    const char c = text[i];
    if (ident_start(c)) {
      std::size_t j = i;
      while (j < n && ident_char(text[j])) ++j;
      t.kind = Tok::ident;
      t.text = std::string(text.substr(i, j - i));
      i = j;
    } else if (digit(c)) {
      std::size_t j = i;
      while (j < n && digit(text[j])) ++j;
      bool decimal = false;
      if (j + 1 < n && text[j] == '.' && digit(text[j + 1])) {
        decimal = true;
        ++j;
        while (j < n && digit(text[j])) ++j;
      }
      t.kind = Tok::number;
      t.text = std::string(text.substr(i, j - i));
      if (decimal) {
        double d = 0;
        auto r = std::from_chars(t.text.data(), t.text.data() + t.text.size(), d);
        if (r.ec != std::errc() || !std::isfinite(d)) syntax("number out of range", text, i);
        t.value = d;
      } else {
        std::int64_t v = 0;
        auto r = std::from_chars(t.text.data(), t.text.data() + t.text.size(), v);
        if (r.ec != std::errc()) syntax("number out of range", text, i);
        t.value = v;
      }
      i = j;
    } else if (c == '\'' || c == '"') {
      std::string value;
      std::size_t j = i + 1;
      bool closed = false;
      while (j < n) {
        char d = text[j];
        if (d == c) {
          closed = true;
          ++j;
          break;
        }
        if (d == '\\') {
          if (j + 1 >= n) break;
          char e = text[j + 1];
          switch (e) {
            case '\\': value += '\\'; break;
            case '\'': value += '\''; break;
            case '"': value += '"'; break;
            case 'n': value += '\n'; break;
            case 't': value += '\t'; break;
            default: {
              std::size_t len = 1;
              while (j + 1 + len < n && is_continuation(static_cast<unsigned char>(text[j + 1 + len]))) ++len;
              syntax("unknown escape '\\" + std::string(text.substr(j + 1, len)) + "' in string", text, j);
            }
          }
          j += 2;
          continue;
        }
        value += d;
        ++j;
      }
      if (!closed) syntax("unterminated string", text, i);
      t.kind = Tok::string;
      t.text = std::string(text.substr(i, j - i));
      t.value = std::move(value);
      i = j;
    } else {
      auto two = text.substr(i, 2);
      auto simple = [&](Tok k, std::size_t len) {
        t.kind = k;
        t.text = std::string(text.substr(i, len));
        i += len;
      };
      if (two == "==") simple(Tok::eq, 2);
      else if (two == "!=") simple(Tok::ne, 2);
      else if (two == "<=") simple(Tok::le, 2);
      else if (two == ">=") simple(Tok::ge, 2);
      else if (two == "&&") syntax("unexpected '&&'; use 'and'", text, i);
      else if (two == "||") syntax("unexpected '||'; use 'or'", text, i);
      else if (c == '<') simple(Tok::lt, 1);
      else if (c == '>') simple(Tok::gt, 1);
      else if (c == '(') simple(Tok::lparen, 1);
      else if (c == ')') simple(Tok::rparen, 1);
      else if (c == '[') simple(Tok::lbracket, 1);
      else if (c == ']') simple(Tok::rbracket, 1);
      else if (c == ',') simple(Tok::comma, 1);
      else if (c == ':') simple(Tok::colon, 1);
      else if (c == '.') simple(Tok::dot, 1);
      else if (c == '+') simple(Tok::plus, 1);
      else if (c == '-') simple(Tok::minus, 1);
      else if (c == '=') syntax("unexpected '='; use '==' to compare", text, i);
      else if (c == '!') syntax("unexpected '!'; use 'not'", text, i);
      else {
        std::size_t len = 1;
        while (i + len < n && is_continuation(static_cast<unsigned char>(text[i + len]))) ++len;
        syntax("unexpected character '" + std::string(text.substr(i, len)) + "'", text, i);
      }
    }
    out.push_back(std::move(t));
  }
}

std::string describe(const Token& t) {
  switch (t.kind) {
    case Tok::end: return "end of expression";
    case Tok::ident: return is_keyword(t.text) ? "'" + t.text + "'" : "identifier '" + t.text + "'";
    case Tok::number: return "number " + t.text;
    case Tok::string: return "string " + t.text;
    default: return "'" + t.text + "'";
  }
}

// ---------------------------------------------------------------------------------------------
// Syntax tree

enum class Kind { literal, list, var, field, index, not_, neg, and_, or_, add, compare, call, comprehension };
enum class Cmp { eq, ne, lt, le, gt, ge, in, not_in };
enum class Fn {
  len, empty, exists, lower, upper, join, first, last, sort, unique, starts_with, ends_with,
  matches, flatten, keys, str, number, min, max, concat, coalesce, if_,
  any, all, count, filter, map, find
};

struct FnInfo {
  const char* name;
  Fn fn;
  int min_args;
  int max_args;  // -1: any number
  const char* form;  // comprehensions: the form shown in errors
};

const FnInfo functions[] = {
    {"len", Fn::len, 1, 1, nullptr},
    {"empty", Fn::empty, 1, 1, nullptr},
    {"exists", Fn::exists, 1, 1, nullptr},
    {"lower", Fn::lower, 1, 1, nullptr},
    {"upper", Fn::upper, 1, 1, nullptr},
    {"join", Fn::join, 2, 2, nullptr},
    {"first", Fn::first, 1, 1, nullptr},
    {"last", Fn::last, 1, 1, nullptr},
    {"sort", Fn::sort, 1, 1, nullptr},
    {"unique", Fn::unique, 1, 1, nullptr},
    {"starts_with", Fn::starts_with, 2, 2, nullptr},
    {"ends_with", Fn::ends_with, 2, 2, nullptr},
    {"matches", Fn::matches, 2, 2, nullptr},
    {"flatten", Fn::flatten, 1, 1, nullptr},
    {"keys", Fn::keys, 1, 1, nullptr},
    {"str", Fn::str, 1, 1, nullptr},
    {"number", Fn::number, 1, 1, nullptr},
    {"min", Fn::min, 1, 1, nullptr},
    {"max", Fn::max, 1, 1, nullptr},
    {"concat", Fn::concat, 2, -1, nullptr},
    {"coalesce", Fn::coalesce, 1, -1, nullptr},
    {"if", Fn::if_, 3, 3, nullptr},
    {"any", Fn::any, 0, 0, "any(x in LIST: CONDITION)"},
    {"all", Fn::all, 0, 0, "all(x in LIST: CONDITION)"},
    {"count", Fn::count, 0, 0, "count(x in LIST: CONDITION)"},
    {"filter", Fn::filter, 0, 0, "filter(x in LIST: CONDITION)"},
    {"map", Fn::map, 0, 0, "map(x in LIST: VALUE)"},
    {"find", Fn::find, 0, 0, "find(x in LIST: CONDITION)"},
};

struct Node {
  Kind kind = Kind::literal;
  std::size_t pos = 0;
  int depth = 1;
  json value;                   // literal
  std::string name;             // variable, field, function or comprehension variable
  Fn fn = Fn::len;
  Cmp cmp = Cmp::eq;
  std::vector<char> signs;      // add: the operator before kids[i + 1]
  std::vector<std::size_t> op_pos;
  std::vector<std::unique_ptr<Node>> kids;
  std::shared_ptr<const std::regex> regex;  // matches() with a literal pattern
};

using NodePtr = std::unique_ptr<Node>;

const char* function_name(Fn fn) {
  for (const auto& f : functions) {
    if (f.fn == fn) return f.name;
  }
  return "?";
}

const char* regex_problem(std::regex_constants::error_type code) {
  namespace rc = std::regex_constants;
  switch (code) {
    case rc::error_collate: return "invalid collating element";
    case rc::error_ctype: return "invalid character class";
    case rc::error_escape: return "invalid escape";
    case rc::error_backref: return "invalid back reference";
    case rc::error_brack: return "unbalanced [ ]";
    case rc::error_paren: return "unbalanced ( )";
    case rc::error_brace: return "unbalanced { }";
    case rc::error_badbrace: return "invalid { } range";
    case rc::error_range: return "invalid character range";
    case rc::error_space: return "out of memory";
    case rc::error_badrepeat: return "nothing to repeat";
    case rc::error_complexity: return "too complex";
    case rc::error_stack: return "too complex";
    default: return "invalid";
  }
}

class Parser {
public:
  explicit Parser(std::string_view text) : text_(text), toks_(tokenize(text)) {}

  NodePtr parse() {
    NodePtr n = parse_or();
    if (peek().kind != Tok::end) fail("expected end of expression, got " + describe(peek()), peek().pos);
    return n;
  }

private:
  struct Nest {
    Parser& p;
    Nest(Parser& parser, std::size_t pos) : p(parser) {
      if (++p.nesting_ > kMaxDepth) p.too_deep(pos);
    }
    ~Nest() { --p.nesting_; }
  };

  [[noreturn]] void fail(std::string message, std::size_t pos) { syntax(std::move(message), text_, pos); }
  [[noreturn]] void too_deep(std::size_t pos) {
    fail("expression nested too deeply (more than " + std::to_string(kMaxDepth) + " levels)", pos);
  }

  const Token& peek(std::size_t k = 0) const { return toks_[std::min(i_ + k, toks_.size() - 1)]; }
  const Token& next() {
    const Token& t = toks_[i_];
    if (i_ + 1 < toks_.size()) ++i_;
    return t;
  }
  bool is_kw(const Token& t, std::string_view kw) const { return t.kind == Tok::ident && t.text == kw; }
  const Token& expect(Tok kind, const char* what) {
    if (peek().kind != kind) fail(std::string("expected ") + what + ", got " + describe(peek()), peek().pos);
    return next();
  }

  NodePtr make(Kind kind, std::size_t pos) {
    auto n = std::make_unique<Node>();
    n->kind = kind;
    n->pos = pos;
    return n;
  }
  // Call once a node's children are in place.
  NodePtr seal(NodePtr n) {
    int d = 0;
    for (const auto& k : n->kids) d = std::max(d, k->depth);
    n->depth = d + 1;
    if (n->depth > kMaxDepth) too_deep(n->pos);
    return n;
  }

  NodePtr parse_or() {
    Nest guard(*this, peek().pos);
    NodePtr first = parse_and();
    if (!is_kw(peek(), "or")) return first;
    NodePtr n = make(Kind::or_, first->pos);
    n->kids.push_back(std::move(first));
    while (is_kw(peek(), "or")) {
      next();
      n->kids.push_back(parse_and());
    }
    return seal(std::move(n));
  }

  NodePtr parse_and() {
    NodePtr first = parse_not();
    if (!is_kw(peek(), "and")) return first;
    NodePtr n = make(Kind::and_, first->pos);
    n->kids.push_back(std::move(first));
    while (is_kw(peek(), "and")) {
      next();
      n->kids.push_back(parse_not());
    }
    return seal(std::move(n));
  }

  NodePtr parse_not() {
    if (is_kw(peek(), "not")) {
      Nest guard(*this, peek().pos);
      NodePtr n = make(Kind::not_, next().pos);
      n->kids.push_back(parse_not());
      return seal(std::move(n));
    }
    return parse_compare();
  }

  std::optional<Cmp> compare_op() const {
    switch (peek().kind) {
      case Tok::eq: return Cmp::eq;
      case Tok::ne: return Cmp::ne;
      case Tok::lt: return Cmp::lt;
      case Tok::le: return Cmp::le;
      case Tok::gt: return Cmp::gt;
      case Tok::ge: return Cmp::ge;
      default: break;
    }
    if (is_kw(peek(), "in")) return Cmp::in;
    if (is_kw(peek(), "not")) return Cmp::not_in;
    return std::nullopt;
  }

  NodePtr parse_compare() {
    NodePtr left = parse_add();
    auto op = compare_op();
    if (!op) return left;
    const Token& op_tok = next();
    if (*op == Cmp::not_in) {
      if (!is_kw(peek(), "in")) fail("expected 'in' after 'not', got " + describe(peek()), peek().pos);
      next();
    }
    NodePtr n = make(Kind::compare, op_tok.pos);
    n->cmp = *op;
    n->kids.push_back(std::move(left));
    n->kids.push_back(parse_add());
    // (a < b) < c would compare a boolean with a number, which is never what the author meant.
    if (compare_op()) fail("comparisons cannot be chained; join them with 'and'", peek().pos);
    return seal(std::move(n));
  }

  NodePtr parse_add() {
    NodePtr first = parse_neg();
    if (peek().kind != Tok::plus && peek().kind != Tok::minus) return first;
    NodePtr n = make(Kind::add, first->pos);
    n->kids.push_back(std::move(first));
    while (peek().kind == Tok::plus || peek().kind == Tok::minus) {
      const Token& op = next();
      n->signs.push_back(op.kind == Tok::plus ? '+' : '-');
      n->op_pos.push_back(op.pos);
      n->kids.push_back(parse_neg());
    }
    return seal(std::move(n));
  }

  NodePtr parse_neg() {
    if (peek().kind == Tok::minus) {
      Nest guard(*this, peek().pos);
      NodePtr n = make(Kind::neg, next().pos);
      n->kids.push_back(parse_neg());
      return seal(std::move(n));
    }
    return parse_postfix();
  }

  NodePtr parse_postfix() {
    NodePtr n = parse_primary();
    while (true) {
      if (peek().kind == Tok::dot) {
        next();
        if (peek().kind != Tok::ident) fail("expected a field name after '.', got " + describe(peek()), peek().pos);
        const Token& f = next();
        NodePtr m = make(Kind::field, f.pos);
        m->name = f.text;
        m->kids.push_back(std::move(n));
        n = seal(std::move(m));
      } else if (peek().kind == Tok::lbracket) {
        const Token& open = next();
        NodePtr m = make(Kind::index, open.pos);
        m->kids.push_back(std::move(n));
        m->kids.push_back(parse_or());
        expect(Tok::rbracket, "']'");
        n = seal(std::move(m));
      } else {
        return n;
      }
    }
  }

  NodePtr parse_primary() {
    const Token& t = peek();
    switch (t.kind) {
      case Tok::number:
      case Tok::string: {
        NodePtr n = make(Kind::literal, t.pos);
        n->value = next().value;
        return n;
      }
      case Tok::lparen: {
        next();
        NodePtr n = parse_or();
        expect(Tok::rparen, "')'");
        return n;
      }
      case Tok::lbracket: {
        NodePtr n = make(Kind::list, next().pos);
        if (peek().kind != Tok::rbracket) {
          while (true) {
            n->kids.push_back(parse_or());
            if (peek().kind != Tok::comma) break;
            next();
          }
        }
        expect(Tok::rbracket, "',' or ']'");
        return seal(std::move(n));
      }
      case Tok::ident: {
        if (t.text == "true" || t.text == "false" || t.text == "null") {
          NodePtr n = make(Kind::literal, t.pos);
          n->value = t.text == "null" ? json(nullptr) : json(t.text == "true");
          next();
          return n;
        }
        if (is_keyword(t.text)) break;
        if (peek(1).kind == Tok::lparen) return parse_call();
        NodePtr n = make(Kind::var, t.pos);
        n->name = next().text;
        return n;
      }
      default: break;
    }
    fail("expected an expression, got " + describe(t), t.pos);
  }

  NodePtr parse_call() {
    const Token& name = next();
    next();  // '('
    const FnInfo* info = nullptr;
    for (const auto& f : functions) {
      if (name.text == f.name) info = &f;
    }
    if (!info) {
      std::vector<std::string> names;
      for (const auto& f : functions) names.emplace_back(f.name);
      fail("unknown function '" + name.text + "'" + did_you_mean(name.text, names), name.pos);
    }
    if (info->form) return parse_comprehension(*info, name.pos);

    NodePtr n = make(Kind::call, name.pos);
    n->fn = info->fn;
    n->name = name.text;
    if (peek().kind != Tok::rparen) {
      while (true) {
        n->kids.push_back(parse_or());
        if (peek().kind != Tok::comma) break;
        next();
      }
    }
    expect(Tok::rparen, "',' or ')'");
    const int got = static_cast<int>(n->kids.size());
    if (got < info->min_args || (info->max_args >= 0 && got > info->max_args)) {
      std::string want;
      if (info->max_args < 0) want = "at least " + std::to_string(info->min_args);
      else want = std::to_string(info->min_args);
      const bool plural = info->min_args != 1;
      fail(name.text + "() takes " + want + (plural ? " arguments" : " argument") + ", got " + std::to_string(got),
           name.pos);
    }
    if (info->fn == Fn::matches && n->kids[1]->kind == Kind::literal && n->kids[1]->value.is_string()) {
      try {
        n->regex = std::make_shared<const std::regex>(n->kids[1]->value.get<std::string>(), std::regex::ECMAScript);
      } catch (const std::regex_error& e) {
        fail(std::string("invalid regular expression: ") + regex_problem(e.code()), n->kids[1]->pos);
      }
    }
    return seal(std::move(n));
  }

  NodePtr parse_comprehension(const FnInfo& info, std::size_t pos) {
    auto form_error = [&]() { fail(std::string(info.name) + "() needs the form " + info.form, peek().pos); };
    if (peek().kind != Tok::ident || is_keyword(peek().text)) form_error();
    NodePtr n = make(Kind::comprehension, pos);
    n->fn = info.fn;
    n->name = next().text;
    if (!is_kw(peek(), "in")) form_error();
    next();
    n->kids.push_back(parse_or());
    if (peek().kind != Tok::colon) form_error();
    next();
    n->kids.push_back(parse_or());
    expect(Tok::rparen, "')'");
    return seal(std::move(n));
  }

  std::string_view text_;
  std::vector<Token> toks_;
  std::size_t i_ = 0;
  int nesting_ = 0;
};

// ---------------------------------------------------------------------------------------------
// Values

const char* type_name(const json& v) {
  switch (v.type()) {
    case json::value_t::null: return "null";
    case json::value_t::boolean: return "boolean";
    case json::value_t::number_integer:
    case json::value_t::number_unsigned:
    case json::value_t::number_float: return "number";
    case json::value_t::string: return "string";
    case json::value_t::array: return "list";
    case json::value_t::object: return "object";
    default: return "value";
  }
}

std::optional<std::int64_t> as_int(const json& v) {
  if (v.is_number_unsigned()) {
    auto u = v.get<std::uint64_t>();
    if (u > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) return std::nullopt;
    return static_cast<std::int64_t>(u);
  }
  if (v.is_number_integer()) return v.get<std::int64_t>();
  return std::nullopt;
}

// Three-way comparison of two numbers; nullopt when either is NaN.
std::optional<int> compare_numbers(const json& a, const json& b) {
  auto ia = as_int(a), ib = as_int(b);
  if (ia && ib) return *ia < *ib ? -1 : (*ia > *ib ? 1 : 0);
  const double da = a.get<double>(), db = b.get<double>();
  if (std::isnan(da) || std::isnan(db)) return std::nullopt;
  return da < db ? -1 : (da > db ? 1 : 0);
}

int type_rank(const json& v) {
  switch (v.type()) {
    case json::value_t::null: return 0;
    case json::value_t::boolean: return 1;
    case json::value_t::number_integer:
    case json::value_t::number_unsigned:
    case json::value_t::number_float: return 2;
    case json::value_t::string: return 3;
    case json::value_t::array: return 4;
    case json::value_t::object: return 5;
    default: return 6;
  }
}

// A total order (NaN after every other number) for sort(), unique(), min() and max().
int order(const json& a, const json& b) {
  const int ra = type_rank(a), rb = type_rank(b);
  if (ra != rb) return ra < rb ? -1 : 1;
  switch (ra) {
    case 1: return a.get<bool>() == b.get<bool>() ? 0 : (a.get<bool>() ? 1 : -1);
    case 2: {
      if (auto c = compare_numbers(a, b)) return *c;
      const bool na = std::isnan(a.get<double>()), nb = std::isnan(b.get<double>());
      return na == nb ? 0 : (na ? 1 : -1);
    }
    case 3: {
      int c = a.get_ref<const std::string&>().compare(b.get_ref<const std::string&>());
      return c < 0 ? -1 : (c > 0 ? 1 : 0);
    }
    case 4: {
      for (std::size_t i = 0; i < a.size() && i < b.size(); ++i) {
        if (int c = order(a[i], b[i])) return c;
      }
      return a.size() == b.size() ? 0 : (a.size() < b.size() ? -1 : 1);
    }
    case 5: {
      auto ia = a.begin(), ib = b.begin();
      for (; ia != a.end() && ib != b.end(); ++ia, ++ib) {
        int c = ia.key().compare(ib.key());
        if (c) return c < 0 ? -1 : 1;
        if (int d = order(ia.value(), ib.value())) return d;
      }
      return a.size() == b.size() ? 0 : (a.size() < b.size() ? -1 : 1);
    }
    default: return 0;
  }
}

std::size_t utf8_length(const std::string& s) {
  std::size_t n = 0;
  for (unsigned char c : s) {
    if (!is_continuation(c)) ++n;
  }
  return n;
}

std::string format_number(const json& v) {
  if (v.is_number_unsigned()) return std::to_string(v.get<std::uint64_t>());
  if (v.is_number_integer()) return std::to_string(v.get<std::int64_t>());
  const double d = v.get<double>();
  if (std::isnan(d)) return "nan";
  if (std::isinf(d)) return d < 0 ? "-inf" : "inf";
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof buf, d);
  return std::string(buf, r.ptr);
}

json parse_number(const std::string& s) {
  if (s.empty()) return nullptr;
  const char* b = s.data();
  const char* e = s.data() + s.size();
  std::int64_t i = 0;
  auto ri = std::from_chars(b, e, i);
  if (ri.ec == std::errc() && ri.ptr == e) return i;
  // from_chars would also accept "inf" and "nan"; a number here has digits only.
  for (char c : s) {
    if (!(digit(c) || c == '.' || c == '-' || c == '+' || c == 'e' || c == 'E')) return nullptr;
  }
  double d = 0;
  auto rd = std::from_chars(b, e, d);
  if (rd.ec == std::errc() && rd.ptr == e && std::isfinite(d)) return d;
  return nullptr;
}

// A value that is either borrowed from the view or a binding (no copy) or owned.
struct Val {
  const json* ref = nullptr;
  json own;
  const json& get() const { return ref ? *ref : own; }
  static Val borrow(const json* p) {
    Val v;
    v.ref = p;
    return v;
  }
  static Val owned(json j) {
    Val v;
    v.own = std::move(j);
    return v;
  }
};

const json& null_value() {
  static const json n;
  return n;
}

std::shared_ptr<const std::regex> cached_regex(const std::string& pattern) {
  static std::mutex mutex;
  static std::map<std::string, std::shared_ptr<const std::regex>> cache;
  std::lock_guard<std::mutex> lock(mutex);
  auto it = cache.find(pattern);
  if (it != cache.end()) return it->second;
  auto re = std::make_shared<const std::regex>(pattern, std::regex::ECMAScript);
  // Patterns built from data could be unbounded in number; keep the cache small.
  if (cache.size() >= 256) cache.clear();
  cache.emplace(pattern, re);
  return re;
}

} // namespace

// -----------------------------------------------------------------------------------------------
// Errors

ExprError::ExprError(std::string message, std::string_view expression, std::size_t offset)
    : ConfigError(format_spot(locate(expression, offset), message)), message_(std::move(message)) {
  Spot s = locate(expression, offset);
  line_ = s.line;
  column_ = s.column;
  caret_ = std::move(s.caret);
}

EvalError::EvalError(std::string message, std::string_view expression, std::size_t offset)
    : ConfigError(format_spot(locate(expression, offset), message)), message_(std::move(message)) {
  Spot s = locate(expression, offset);
  line_ = s.line;
  column_ = s.column;
  caret_ = std::move(s.caret);
}

EvalError::EvalError(const EvalError& inner, std::string_view context, std::string rule_id)
    : EvalError(std::string(context) + inner.what(), inner, std::move(rule_id)) {}

EvalError::EvalError(std::string what, const EvalError& inner, std::string rule_id)
    : ConfigError(what), message_(inner.message_), line_(inner.line_), column_(inner.column_),
      caret_(inner.caret_), rule_id_(std::move(rule_id)) {}

// -----------------------------------------------------------------------------------------------
// Helpers shared with the catalogue

bool truthy(const json& v) {
  switch (v.type()) {
    case json::value_t::null: return false;
    case json::value_t::boolean: return v.get<bool>();
    case json::value_t::number_integer: return v.get<std::int64_t>() != 0;
    case json::value_t::number_unsigned: return v.get<std::uint64_t>() != 0;
    case json::value_t::number_float: return v.get<double>() != 0.0;
    case json::value_t::string: return !v.get_ref<const std::string&>().empty();
    case json::value_t::array:
    case json::value_t::object: return !v.empty();
    default: return true;
  }
}

std::string to_text(const json& v) {
  switch (v.type()) {
    case json::value_t::null: return "";
    case json::value_t::boolean: return v.get<bool>() ? "true" : "false";
    case json::value_t::number_integer:
    case json::value_t::number_unsigned:
    case json::value_t::number_float: return format_number(v);
    case json::value_t::string: return v.get<std::string>();
    case json::value_t::array: {
      std::string out;
      for (std::size_t i = 0; i < v.size(); ++i) {
        if (i) out += ", ";
        out += v[i].is_structured() ? v[i].dump() : to_text(v[i]);
      }
      return out;
    }
    default: return v.dump();
  }
}

bool is_identifier(std::string_view text) {
  if (text.empty() || !ident_start(text[0])) return false;
  for (char c : text) {
    if (!ident_char(c)) return false;
  }
  return !is_keyword(text);
}

// -----------------------------------------------------------------------------------------------
// Evaluation

struct Expr::Impl {
  std::string text;
  NodePtr root;
};

namespace {

class Evaluator {
public:
  Evaluator(std::string_view text, const json& view, const std::vector<Binding>& bound) : text_(text), view_(view) {
    for (const auto& b : bound) vars_.emplace_back(b.name, b.value ? b.value : &null_value());
  }

  Val eval(const Node& n) {
    switch (n.kind) {
      case Kind::literal: return Val::borrow(&n.value);
      case Kind::list: {
        json out = json::array();
        for (const auto& k : n.kids) out.push_back(eval(*k).get());
        return Val::owned(std::move(out));
      }
      case Kind::var: {
        for (auto it = vars_.rbegin(); it != vars_.rend(); ++it) {
          if (it->first == n.name) return Val::borrow(it->second);
        }
        if (view_.is_object()) {
          auto it = view_.find(n.name);
          if (it != view_.end()) return Val::borrow(&*it);
        }
        return Val::borrow(&null_value());
      }
      case Kind::field: {
        Val base = eval(*n.kids[0]);
        const json& b = base.get();
        if (!b.is_object()) return Val::borrow(&null_value());
        auto it = b.find(n.name);
        if (it == b.end()) return Val::borrow(&null_value());
        if (base.ref) return Val::borrow(&*it);
        return Val::owned(std::move(base.own[n.name]));
      }
      case Kind::index: return index(n);
      case Kind::not_: return boolean(!truthy(eval(*n.kids[0]).get()));
      case Kind::neg: return negate(n);
      case Kind::and_: {
        for (const auto& k : n.kids) {
          if (!truthy(eval(*k).get())) return boolean(false);
        }
        return boolean(true);
      }
      case Kind::or_: {
        for (const auto& k : n.kids) {
          if (truthy(eval(*k).get())) return boolean(true);
        }
        return boolean(false);
      }
      case Kind::add: return add(n);
      case Kind::compare: return boolean(compare(n));
      case Kind::call: return call(n);
      case Kind::comprehension: return comprehension(n);
    }
    return Val::borrow(&null_value());
  }

private:
  [[noreturn]] void fail(const Node& n, std::string message, std::size_t pos = std::string::npos) {
    throw EvalError(std::move(message), text_, pos == std::string::npos ? n.pos : pos);
  }

  static Val boolean(bool b) { return Val::owned(json(b)); }

  Val index(const Node& n) {
    Val base = eval(*n.kids[0]);
    Val key = eval(*n.kids[1]);
    const json& b = base.get();
    const json& k = key.get();
    const json* found = nullptr;
    if (b.is_array()) {
      if (auto i = as_int(k)) {
        const auto size = static_cast<std::int64_t>(b.size());
        const std::int64_t at = *i < 0 ? size + *i : *i;
        if (at >= 0 && at < size) found = &b[static_cast<std::size_t>(at)];
      }
    } else if (b.is_object() && k.is_string()) {
      auto it = b.find(k.get_ref<const std::string&>());
      if (it != b.end()) found = &*it;
    }
    if (!found) return Val::borrow(&null_value());
    if (base.ref) return Val::borrow(found);
    return Val::owned(*found);
  }

  Val negate(const Node& n) {
    Val v = eval(*n.kids[0]);
    const json& x = v.get();
    if (!x.is_number()) fail(n, std::string("'-' needs a number, got ") + type_name(x));
    if (auto i = as_int(x); i && *i != std::numeric_limits<std::int64_t>::min()) return Val::owned(json(-*i));
    return Val::owned(json(-x.get<double>()));
  }

  static json arith(const json& a, const json& b, bool subtract) {
    auto ia = as_int(a), ib = as_int(b);
    std::int64_t r = 0;
    if (ia && ib && !(subtract ? __builtin_sub_overflow(*ia, *ib, &r) : __builtin_add_overflow(*ia, *ib, &r))) {
      return json(r);
    }
    const double da = a.get<double>(), db = b.get<double>();
    return json(subtract ? da - db : da + db);
  }

  Val add(const Node& n) {
    json acc = eval(*n.kids[0]).get();
    for (std::size_t i = 1; i < n.kids.size(); ++i) {
      Val rv = eval(*n.kids[i]);
      const json& r = rv.get();
      const bool plus = n.signs[i - 1] == '+';
      if (acc.is_number() && r.is_number()) {
        acc = arith(acc, r, !plus);
      } else if (plus && acc.is_string() && r.is_string()) {
        acc.get_ref<std::string&>() += r.get_ref<const std::string&>();
      } else if (plus && acc.is_array() && r.is_array()) {
        acc.insert(acc.end(), r.begin(), r.end());
      } else if (plus) {
        fail(n, std::string("'+' needs two numbers, two strings or two lists, got ") + type_name(acc) + " and " +
                    type_name(r), n.op_pos[i - 1]);
      } else {
        fail(n, std::string("'-' needs two numbers, got ") + type_name(acc) + " and " + type_name(r),
             n.op_pos[i - 1]);
      }
    }
    return Val::owned(std::move(acc));
  }

  static bool contains(const json& item, const json& in) {
    if (in.is_array()) return std::any_of(in.begin(), in.end(), [&](const json& e) { return e == item; });
    if (in.is_string()) {
      return item.is_string() &&
             in.get_ref<const std::string&>().find(item.get_ref<const std::string&>()) != std::string::npos;
    }
    if (in.is_object()) return item.is_string() && in.contains(item.get_ref<const std::string&>());
    return false;
  }

  bool compare(const Node& n) {
    Val lv = eval(*n.kids[0]);
    Val rv = eval(*n.kids[1]);
    const json& a = lv.get();
    const json& b = rv.get();
    switch (n.cmp) {
      case Cmp::eq: return a == b;
      case Cmp::ne: return a != b;
      case Cmp::in: return contains(a, b);
      case Cmp::not_in: return !contains(a, b);
      default: break;
    }
    int c = 0;
    if (a.is_number() && b.is_number()) {
      auto r = compare_numbers(a, b);
      if (!r) return false;
      c = *r;
    } else if (a.is_string() && b.is_string()) {
      c = a.get_ref<const std::string&>().compare(b.get_ref<const std::string&>());
    } else {
      return false;
    }
    switch (n.cmp) {
      case Cmp::lt: return c < 0;
      case Cmp::le: return c <= 0;
      case Cmp::gt: return c > 0;
      case Cmp::ge: return c >= 0;
      default: return false;
    }
  }

  // The list a function or comprehension walks; null counts as the empty list.
  const json& list_arg(const Node& n, const json& v, const char* what) {
    if (v.is_null()) return empty_list();
    if (!v.is_array()) fail(n, n.name + "() needs a list" + what + ", got " + type_name(v));
    return v;
  }

  static const json& empty_list() {
    static const json e = json::array();
    return e;
  }

  const std::string* string_arg(const Node& n, const json& v, const char* what) {
    if (v.is_null()) return nullptr;
    if (!v.is_string()) fail(n, n.name + "() needs a string" + what + ", got " + type_name(v));
    return &v.get_ref<const std::string&>();
  }

  Val call(const Node& n) {
    // if(COND, A, B) evaluates only the branch it returns.
    if (n.fn == Fn::if_) return truthy(eval(*n.kids[0]).get()) ? eval(*n.kids[1]) : eval(*n.kids[2]);
    if (n.fn == Fn::coalesce) {
      for (const auto& k : n.kids) {
        Val v = eval(*k);
        if (!v.get().is_null()) return v;
      }
      return Val::borrow(&null_value());
    }
    std::vector<Val> args;
    args.reserve(n.kids.size());
    for (const auto& k : n.kids) args.push_back(eval(*k));
    const json& a = args[0].get();
    switch (n.fn) {
      case Fn::len:
      case Fn::empty: {
        std::size_t size = 0;
        if (a.is_string()) size = utf8_length(a.get_ref<const std::string&>());
        else if (a.is_array() || a.is_object()) size = a.size();
        else if (!a.is_null()) fail(n, n.name + "() needs a list, a string or an object, got " + type_name(a));
        return n.fn == Fn::len ? Val::owned(json(size)) : boolean(size == 0);
      }
      case Fn::exists: return boolean(!a.is_null());
      case Fn::lower:
      case Fn::upper: {
        const std::string* s = string_arg(n, a, "");
        if (!s) return Val::borrow(&null_value());
        std::string out = *s;
        // ASCII only: names are compared in their A-label (punycode) form.
        for (char& c : out) {
          if (n.fn == Fn::lower && c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
          if (n.fn == Fn::upper && c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
        }
        return Val::owned(json(std::move(out)));
      }
      case Fn::join: {
        const json& list = list_arg(n, a, " as its first argument");
        const json& sep = args[1].get();
        if (!sep.is_string()) fail(n, "join() needs a string as its second argument, got " + std::string(type_name(sep)));
        std::string out;
        for (std::size_t i = 0; i < list.size(); ++i) {
          if (i) out += sep.get_ref<const std::string&>();
          out += list[i].is_structured() ? list[i].dump() : to_text(list[i]);
        }
        return Val::owned(json(std::move(out)));
      }
      case Fn::first:
      case Fn::last: {
        const json& list = list_arg(n, a, "");
        if (list.empty()) return Val::borrow(&null_value());
        return Val::owned(n.fn == Fn::first ? list.front() : list.back());
      }
      case Fn::sort: {
        json out = list_arg(n, a, "");
        std::stable_sort(out.begin(), out.end(), [](const json& x, const json& y) { return order(x, y) < 0; });
        return Val::owned(std::move(out));
      }
      case Fn::unique: {
        const json& list = list_arg(n, a, "");
        // Sorting indices keeps this O(n log n) and the first occurrence of each value in place.
        std::vector<std::size_t> idx(list.size());
        for (std::size_t i = 0; i < idx.size(); ++i) idx[i] = i;
        std::stable_sort(idx.begin(), idx.end(), [&](std::size_t x, std::size_t y) { return order(list[x], list[y]) < 0; });
        std::vector<bool> keep(list.size(), false);
        for (std::size_t i = 0; i < idx.size(); ++i) {
          if (i == 0 || order(list[idx[i - 1]], list[idx[i]]) != 0) keep[idx[i]] = true;
        }
        json out = json::array();
        for (std::size_t i = 0; i < list.size(); ++i) {
          if (keep[i]) out.push_back(list[i]);
        }
        return Val::owned(std::move(out));
      }
      case Fn::starts_with:
      case Fn::ends_with: {
        const std::string* s = string_arg(n, a, " as its first argument");
        const json& p = args[1].get();
        if (!p.is_string()) fail(n, n.name + "() needs a string as its second argument, got " + type_name(p));
        if (!s) return boolean(false);
        const std::string& ps = p.get_ref<const std::string&>();
        return boolean(n.fn == Fn::starts_with ? std::string_view(*s).starts_with(ps) : std::string_view(*s).ends_with(ps));
      }
      case Fn::matches: {
        const std::string* s = string_arg(n, a, " as its first argument");
        const json& p = args[1].get();
        if (!p.is_string()) fail(n, "matches() needs a string as its second argument, got " + std::string(type_name(p)));
        if (!s) return boolean(false);
        if (s->size() > kMaxRegexSubject) {
          fail(n, "matches() subject is longer than " + std::to_string(kMaxRegexSubject) + " bytes");
        }
        std::shared_ptr<const std::regex> re = n.regex;
        if (!re) {
          try {
            re = cached_regex(p.get_ref<const std::string&>());
          } catch (const std::regex_error& e) {
            fail(n, std::string("invalid regular expression: ") + regex_problem(e.code()), n.kids[1]->pos);
          }
        }
        try {
          return boolean(std::regex_search(*s, *re));
        } catch (const std::regex_error& e) {
          fail(n, std::string("regular expression failed: ") + regex_problem(e.code()));
        }
      }
      case Fn::flatten: {
        const json& list = list_arg(n, a, "");
        json out = json::array();
        for (const auto& e : list) {
          if (e.is_array()) out.insert(out.end(), e.begin(), e.end());
          else if (!e.is_null()) out.push_back(e);
        }
        return Val::owned(std::move(out));
      }
      case Fn::keys: {
        json out = json::array();
        if (a.is_object()) {
          for (auto it = a.begin(); it != a.end(); ++it) out.push_back(it.key());
        } else if (!a.is_null()) {
          fail(n, "keys() needs an object, got " + std::string(type_name(a)));
        }
        return Val::owned(std::move(out));
      }
      case Fn::str: return Val::owned(json(to_text(a)));
      case Fn::number: {
        if (a.is_number() || a.is_null()) return Val::owned(a);
        if (a.is_boolean()) return Val::owned(json(a.get<bool>() ? 1 : 0));
        if (a.is_string()) return Val::owned(parse_number(a.get_ref<const std::string&>()));
        fail(n, "number() needs a string, a number or a boolean, got " + std::string(type_name(a)));
      }
      case Fn::min:
      case Fn::max: {
        const json& list = list_arg(n, a, "");
        if (list.empty()) return Val::borrow(&null_value());
        const bool numbers = list[0].is_number();
        for (const auto& e : list) {
          if (!(numbers ? e.is_number() : e.is_string())) {
            fail(n, n.name + "() needs a list of numbers or a list of strings");
          }
        }
        auto cmp = [](const json& x, const json& y) { return order(x, y) < 0; };
        return Val::owned(n.fn == Fn::min ? *std::min_element(list.begin(), list.end(), cmp)
                                          : *std::max_element(list.begin(), list.end(), cmp));
      }
      case Fn::concat: {
        json out = json::array();
        for (const auto& v : args) {
          if (!v.get().is_null() && !v.get().is_array()) {
            fail(n, "concat() needs lists, got " + std::string(type_name(v.get())));
          }
          const json& list = v.get().is_null() ? empty_list() : v.get();
          out.insert(out.end(), list.begin(), list.end());
        }
        return Val::owned(std::move(out));
      }
      default: break;
    }
    return Val::borrow(&null_value());
  }

  Val comprehension(const Node& n) {
    Val lv = eval(*n.kids[0]);
    const json& v = lv.get();
    if (!v.is_null() && !v.is_array()) {
      fail(n, std::string(function_name(n.fn)) + "() needs a list after 'in', got " + type_name(v));
    }
    const json& list = v.is_null() ? empty_list() : v;
    const Node& body = *n.kids[1];
    json out = n.fn == Fn::filter || n.fn == Fn::map ? json::array() : json();
    std::int64_t counted = 0;
    for (const auto& e : list) {
      vars_.emplace_back(n.name, &e);
      Val r = eval(body);
      vars_.pop_back();
      switch (n.fn) {
        case Fn::any:
          if (truthy(r.get())) return boolean(true);
          break;
        case Fn::all:
          if (!truthy(r.get())) return boolean(false);
          break;
        case Fn::count:
          if (truthy(r.get())) ++counted;
          break;
        case Fn::filter:
          if (truthy(r.get())) out.push_back(e);
          break;
        case Fn::map: out.push_back(r.get()); break;
        case Fn::find:
          if (truthy(r.get())) return Val::owned(e);
          break;
        default: break;
      }
    }
    switch (n.fn) {
      case Fn::any: return boolean(false);
      case Fn::all: return boolean(true);
      case Fn::count: return Val::owned(json(counted));
      case Fn::filter:
      case Fn::map: return Val::owned(std::move(out));
      default: return Val::borrow(&null_value());
    }
  }

  std::string_view text_;
  const json& view_;
  std::vector<std::pair<std::string_view, const json*>> vars_;
};

// -----------------------------------------------------------------------------------------------
// Static analysis

// "name.addresses[0]" for a chain of fields and literal indexes from a variable, else nullopt.
std::optional<std::string> path_text(const Node& n) {
  switch (n.kind) {
    case Kind::var: return n.name;
    case Kind::field: {
      auto base = path_text(*n.kids[0]);
      if (!base) return std::nullopt;
      return *base + "." + n.name;
    }
    case Kind::index: {
      auto base = path_text(*n.kids[0]);
      const Node& k = *n.kids[1];
      if (!base) return std::nullopt;
      if (k.kind == Kind::literal && k.value.is_number_integer()) return *base + "[" + k.value.dump() + "]";
      if (k.kind == Kind::literal && k.value.is_string()) return *base + "[" + k.value.dump() + "]";
      if (k.kind == Kind::neg && k.kids[0]->kind == Kind::literal && k.kids[0]->value.is_number_integer()) {
        return *base + "[-" + k.kids[0]->value.dump() + "]";
      }
      return std::nullopt;
    }
    default: return std::nullopt;
  }
}

const Node& path_root(const Node& n) {
  const Node* p = &n;
  while (p->kind == Kind::field || p->kind == Kind::index) p = p->kids[0].get();
  return *p;
}

void collect_free(const Node& n, std::vector<std::string>& bound, std::vector<std::string>& out) {
  if (n.kind == Kind::var || n.kind == Kind::field || n.kind == Kind::index) {
    if (auto p = path_text(n)) {
      const std::string& root = path_root(n).name;
      if (std::find(bound.begin(), bound.end(), root) == bound.end() &&
          std::find(out.begin(), out.end(), *p) == out.end()) {
        out.push_back(*p);
      }
      return;
    }
  }
  if (n.kind == Kind::comprehension) {
    collect_free(*n.kids[0], bound, out);
    bound.push_back(n.name);
    collect_free(*n.kids[1], bound, out);
    bound.pop_back();
    return;
  }
  for (const auto& k : n.kids) collect_free(*k, bound, out);
}

class ShapeChecker {
public:
  ShapeChecker(std::string_view text, const json& shape, const std::map<std::string, json>& bound,
               std::vector<ShapeIssue>* issues)
      : text_(text), shape_(shape), issues_(issues) {
    for (const auto& [name, s] : bound) vars_.emplace_back(name, s);
  }

  // The shape of a node's value; null when unknown.
  json infer(const Node& n) {
    switch (n.kind) {
      case Kind::literal: return n.value;
      case Kind::list: {
        json out = json::array();
        for (const auto& k : n.kids) {
          json s = infer(*k);
          if (out.empty()) out.push_back(std::move(s));
        }
        return out;
      }
      case Kind::var: {
        for (auto it = vars_.rbegin(); it != vars_.rend(); ++it) {
          if (it->first == n.name) return it->second;
        }
        if (!shape_.is_object()) return nullptr;
        auto it = shape_.find(n.name);
        if (it != shape_.end()) return *it;
        std::vector<std::string> names;
        for (const auto& [k, v] : vars_) names.push_back(k);
        for (auto i = shape_.begin(); i != shape_.end(); ++i) names.push_back(i.key());
        report(n, "unknown fact '" + n.name + "'" + did_you_mean(n.name, names));
        return nullptr;
      }
      case Kind::field: return member(n, infer(*n.kids[0]), n.name);
      case Kind::index: {
        json base = infer(*n.kids[0]);
        const Node& k = *n.kids[1];
        infer(k);
        if (base.is_array()) return base.empty() ? json() : base[0];
        if (base.is_object() && k.kind == Kind::literal && k.value.is_string()) {
          return member(n, base, k.value.get<std::string>());
        }
        if (base.is_null() || base.is_object()) return nullptr;
        report(n, describe_base(*n.kids[0]) + " is a " + type_name(base) + "; it cannot be indexed");
        return nullptr;
      }
      case Kind::not_:
      case Kind::and_:
      case Kind::or_:
      case Kind::compare:
        for (const auto& k : n.kids) infer(*k);
        return true;
      case Kind::neg:
        infer(*n.kids[0]);
        return 0;
      case Kind::add: {
        json first;
        for (std::size_t i = 0; i < n.kids.size(); ++i) {
          json s = infer(*n.kids[i]);
          if (i == 0) first = std::move(s);
        }
        return first;
      }
      case Kind::call: return call(n);
      case Kind::comprehension: {
        json list = infer(*n.kids[0]);
        json elem = list.is_array() && !list.empty() ? list[0] : json();
        vars_.emplace_back(n.name, elem);
        json body = infer(*n.kids[1]);
        vars_.pop_back();
        switch (n.fn) {
          case Fn::any:
          case Fn::all: return true;
          case Fn::count: return 0;
          case Fn::filter: return list.is_array() ? list : json();
          case Fn::map: return json::array({body});
          case Fn::find: return elem;
          default: return nullptr;
        }
      }
    }
    return nullptr;
  }

private:
  void report(const Node& n, std::string message) {
    if (issues_) issues_->push_back({std::move(message), locate(text_, n.pos).column});
  }

  static std::string describe_base(const Node& base) {
    auto p = path_text(base);
    return p ? "'" + *p + "'" : "the value";
  }

  json member(const Node& n, const json& base, const std::string& key) {
    if (base.is_null()) return nullptr;
    if (base.is_object()) {
      auto it = base.find(key);
      if (it != base.end()) return *it;
      std::vector<std::string> names;
      for (auto i = base.begin(); i != base.end(); ++i) names.push_back(i.key());
      auto p = path_text(*n.kids[0]);
      if (p) {
        const std::string c = closest_name(key, names);
        report(n, "unknown fact '" + *p + "." + key + "'" + (c.empty() ? "" : " (did you mean '" + *p + "." + c + "'?)"));
      } else {
        report(n, "unknown field '" + key + "'" + did_you_mean(key, names));
      }
      return nullptr;
    }
    std::string what = describe_base(*n.kids[0]);
    report(n, what + " is a " + type_name(base) + "; it has no field '" + key + "'");
    return nullptr;
  }

  static json element(const json& list) { return list.is_array() && !list.empty() ? list[0] : json(); }

  json call(const Node& n) {
    std::vector<json> args;
    for (const auto& k : n.kids) args.push_back(infer(*k));
    switch (n.fn) {
      case Fn::len:
      case Fn::number: return 0;
      case Fn::empty:
      case Fn::exists:
      case Fn::starts_with:
      case Fn::ends_with:
      case Fn::matches: return true;
      case Fn::lower:
      case Fn::upper:
      case Fn::join:
      case Fn::str: return "";
      case Fn::first:
      case Fn::last:
      case Fn::min:
      case Fn::max: return element(args[0]);
      case Fn::sort:
      case Fn::unique: return args[0].is_array() ? args[0] : json();
      case Fn::flatten: {
        json e = element(args[0]);
        return e.is_array() ? e : (args[0].is_array() ? args[0] : json());
      }
      case Fn::keys: return json::array({""});
      case Fn::if_: return !args[1].is_null() ? args[1] : args[2];
      case Fn::concat:
      case Fn::coalesce:
        for (const auto& a : args) {
          if (!a.is_null() && !(n.fn == Fn::concat && a.is_array() && a.empty())) return a;
        }
        return nullptr;
      default: return nullptr;
    }
  }

  std::string_view text_;
  const json& shape_;
  std::vector<ShapeIssue>* issues_;
  std::vector<std::pair<std::string, json>> vars_;
};

} // namespace

// -----------------------------------------------------------------------------------------------
// Expr

Expr Expr::parse(std::string_view text) {
  auto impl = std::make_shared<Impl>();
  impl->text = std::string(text);
  impl->root = Parser(impl->text).parse();
  return Expr(std::move(impl));
}

json Expr::evaluate(const json& view, const std::vector<Binding>& bound) const {
  Evaluator ev(impl_->text, view, bound);
  Val v = ev.eval(*impl_->root);
  return v.ref ? *v.ref : std::move(v.own);
}

bool Expr::test(const json& view, const std::vector<Binding>& bound) const {
  Evaluator ev(impl_->text, view, bound);
  return truthy(ev.eval(*impl_->root).get());
}

const std::string& Expr::text() const { return impl_->text; }

std::vector<std::string> Expr::free_paths() const {
  std::vector<std::string> bound, out;
  collect_free(*impl_->root, bound, out);
  return out;
}

std::vector<ShapeIssue> Expr::check_shape(const json& shape, const std::map<std::string, json>& bound) const {
  std::vector<ShapeIssue> issues;
  ShapeChecker(impl_->text, shape, bound, &issues).infer(*impl_->root);
  return issues;
}

std::optional<json> Expr::infer_shape(const json& shape, const std::map<std::string, json>& bound) const {
  json s = ShapeChecker(impl_->text, shape, bound, nullptr).infer(*impl_->root);
  if (s.is_null()) return std::nullopt;
  return s;
}

} // namespace certdoctor::rules
