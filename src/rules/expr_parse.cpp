#include "rules/expr_tree.hpp"

#include "util/text.hpp"

#include <algorithm>

namespace certdoctor::rules::detail {

using nlohmann::json;

namespace {

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

  [[noreturn]] void fail(std::string message, std::size_t pos) { throw ExprError(std::move(message), text_, pos); }
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

} // namespace

NodePtr parse_tree(std::string_view text) { return Parser(text).parse(); }

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

} // namespace certdoctor::rules::detail
