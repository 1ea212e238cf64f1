#include "rules/expr_tree.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>

namespace certdoctor::rules {

namespace detail {

namespace {

const char* keywords[] = {"and", "or", "not", "in", "true", "false", "null"};

bool ident_start(char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_'; }
bool ident_char(char c) { return ident_start(c) || (c >= '0' && c <= '9'); }

[[noreturn]] void syntax(std::string message, std::string_view text, std::size_t pos) {
  throw ExprError(std::move(message), text, pos);
}

} // namespace

bool is_keyword(std::string_view s) {
  return std::find(std::begin(keywords), std::end(keywords), s) != std::end(keywords);
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

} // namespace detail

using detail::ident_char;
using detail::ident_start;
using detail::is_keyword;

bool is_identifier(std::string_view text) {
  if (text.empty() || !ident_start(text[0])) return false;
  for (char c : text) {
    if (!ident_char(c)) return false;
  }
  return !is_keyword(text);
}

} // namespace certdoctor::rules
