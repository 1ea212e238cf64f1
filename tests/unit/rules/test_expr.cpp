#include <doctest/doctest.h>

#include <string>
#include <utility>
#include <vector>

#include "../printing.hpp"
#include "rules/expr.hpp"

using certdoctor::rules::Binding;
using certdoctor::rules::EvalError;
using certdoctor::rules::Expr;
using certdoctor::rules::ExprError;
using nlohmann::json;

namespace {

const json view = R"({
  "domain": {"ascii": "example.jp", "unicode": "例え.jp"},
  "names": [
    {"name": "example.jp", "role": "apex", "status": "ok",
     "addresses": [{"address": "203.0.113.10", "family": 4}, {"address": "2001:db8::1", "family": 6}]},
    {"name": "www.example.jp", "role": "www", "status": "nodata", "addresses": []}
  ],
  "total": 2, "ratio": 0.5, "big": 18446744073709551615, "flags": {"a": true, "b": false},
  "words": ["b", "a", "b", "c"], "nums": [3, 1.5, 2], "nested": [[1, 2], [3], null, [4]],
  "empty_list": [], "empty_obj": {}, "empty_str": "", "zero": 0, "nothing": null
})"_json;

json ev(std::string_view text, const std::vector<Binding>& bound = {}) { return Expr::parse(text).evaluate(view, bound); }

std::string parse_error(std::string_view text) {
  try {
    Expr::parse(text);
  } catch (const ExprError& e) {
    return e.what();
  }
  return "(no error)";
}

std::string eval_error(std::string_view text) {
  try {
    Expr::parse(text).evaluate(view);
  } catch (const EvalError& e) {
    return e.what();
  }
  return "(no error)";
}

} // namespace

TEST_CASE("rules::Expr::evaluate") {
  const std::vector<std::pair<std::string, json>> table = {
      // literals
      {"42", 42},
      {"4.25", 4.25},
      {"'single'", "single"},
      {R"("double")", "double"},
      {R"('it\'s \\ "q" \n')", "it's \\ \"q\" \n"},
      {R"("say \"hi\"")", "say \"hi\""},
      {"true", true},
      {"false", false},
      {"null", nullptr},
      {"[1, 'a', [true]]", R"([1, "a", [true]])"_json},
      {"[]", json::array()},
      // paths
      {"domain.ascii", "example.jp"},
      {"names[0].name", "example.jp"},
      {"names[-1].name", "www.example.jp"},
      {"names[-3]", nullptr},
      {"names[2]", nullptr},
      {"names[0].addresses[1].family", 6},
      {"domain['unicode']", "例え.jp"},
      {"domain.missing", nullptr},
      {"domain.ascii.deeper", nullptr},
      {"names.name", nullptr},
      {"undefined_fact.x.y[3]", nullptr},
      {"total[0]", nullptr},
      {"[10, 20][1]", 20},
      // arithmetic
      {"1 + 2", 3},
      {"10 - 3 - 2", 5},
      {"1.5 + 1", 2.5},
      {"-total", -2},
      {"- -3", 3},
      {"total + 1", 3},
      {"big + 1", 18446744073709551616.0},
      {"9223372036854775807 + 1", 9223372036854775808.0},
      {"'ab' + \"cd\"", "abcd"},
      {"[1] + [2, 3]", R"([1, 2, 3])"_json},
      {"(1 + 2) - (3 - 4)", 4},
      // comparisons
      {"1 == 1.0", true},
      {"total == 2", true},
      {"'a' != 'b'", true},
      {"names[0] == names[0]", true},
      {"null == nothing", true},
      {"1 < 2", true},
      {"2 <= 2", true},
      {"1.5 > 2", false},
      {"3 >= 2.5", true},
      {"'apple' < 'banana'", true},
      {"'b' > 'a'", true},
      {"1 < 'a'", false},
      {"'a' < 1", false},
      {"null < 1", false},
      {"null >= null", false},
      {"[1] < [2]", false},
      // membership
      {"'b' in words", true},
      {"'z' in words", false},
      {"'z' not in words", true},
      {"'ample' in domain.ascii", true},
      {"'ascii' in domain", true},
      {"'other' in domain", false},
      {"1 in 'a1'", false},
      {"'x' in nothing", false},
      {"2 in nums", true},
      // logic and truthiness
      {"true and false", false},
      {"1 and 'x' and [0]", true},
      {"0 or ''", false},
      {"nothing or empty_list or empty_obj or empty_str or zero", false},
      {"not empty_list", true},
      {"not flags", false},
      {"not 0.0", true},
      {"not 1 == 2", true},
      {"1 == 1 and 2 == 2 or false", true},
      {"false and undefined_function_is_never_called_anyway", false},
      // functions
      {"len(names)", 2},
      {"len('例え')", 2},
      {"len(flags)", 2},
      {"len(nothing)", 0},
      {"empty(empty_list)", true},
      {"empty(nothing)", true},
      {"empty('x')", false},
      {"exists(domain.ascii)", true},
      {"exists(domain.nope)", false},
      {"lower('ExAmple.JP')", "example.jp"},
      {"upper('www')", "WWW"},
      {"lower(nothing)", nullptr},
      {"join(words, '/')", "b/a/b/c"},
      {"join([1, 2.5, true, null, 'x'], ',')", "1,2.5,true,,x"},
      {"join(nothing, ',')", ""},
      {"first(words)", "b"},
      {"last(words)", "c"},
      {"first(empty_list)", nullptr},
      {"last(nothing)", nullptr},
      {"sort(words)", R"(["a", "b", "b", "c"])"_json},
      {"sort(nums)", R"([1.5, 2, 3])"_json},
      {"sort([true, 'a', 1, null])", R"([null, true, 1, "a"])"_json},
      {"unique(words)", R"(["b", "a", "c"])"_json},
      {"unique([1, 1.0, 2])", R"([1, 2])"_json},
      {"starts_with(domain.ascii, 'exa')", true},
      {"ends_with(domain.ascii, '.jp')", true},
      {"ends_with(nothing, '.jp')", false},
      {"matches(domain.ascii, '^[a-z]+\\\\.jp$')", true},
      {"matches('www.example.jp', 'example')", true},
      {"matches('abc', '^b')", false},
      {"matches(nothing, 'x')", false},
      {"matches('a+b', 'a' + '\\\\+')", true},
      {"flatten(nested)", R"([1, 2, 3, 4])"_json},
      {"flatten(map(n in names: n.addresses))[1].address", "2001:db8::1"},
      {"keys(flags)", R"(["a", "b"])"_json},
      {"keys(nothing)", json::array()},
      {"str(1.5)", "1.5"},
      {"str(total)", "2"},
      {"str(true)", "true"},
      {"str(nothing)", ""},
      {"str(words)", "b, a, b, c"},
      {"number('12')", 12},
      {"number('-1.25')", -1.25},
      {"number('12abc')", nullptr},
      {"number('nan')", nullptr},
      {"number(true)", 1},
      {"number(3.5)", 3.5},
      {"min(nums)", 1.5},
      {"max(nums)", 3},
      {"min(words)", "a"},
      {"max(empty_list)", nullptr},
      {"concat(words, [1], nothing)", R"(["b", "a", "b", "c", 1])"_json},
      {"coalesce(nothing, domain.nope, 'fallback', 1)", "fallback"},
      {"coalesce(nothing)", nullptr},
      // comprehensions
      {"any(n in names: n.status == 'nodata')", true},
      {"any(n in empty_list: true)", false},
      {"all(n in names: n.status == 'ok')", false},
      {"all(n in nothing: false)", true},
      {"count(n in names: len(n.addresses) == 0)", 1},
      {"filter(n in names: n.role == 'www')[0].name", "www.example.jp"},
      {"map(n in names: n.name)", R"(["example.jp", "www.example.jp"])"_json},
      {"map(a in names[0].addresses: a.family)", R"([4, 6])"_json},
      {"find(n in names: n.role == 'www').status", "nodata"},
      {"find(n in names: n.role == 'mail')", nullptr},
      {"map(x in [1, 2]: map(x in [3]: x))", R"([[3], [3]])"_json},
      {"map(names in [1]: names)", R"([1])"_json},
      {"any(n in names: any(a in n.addresses: a.family == 6 and n.role == 'apex'))", true},
      {"join(map(a in names[0].addresses: a.address), ', ')", "203.0.113.10, 2001:db8::1"},
  };
  for (const auto& row : table) {
    const auto& text = row.first;  // a named variable: clang 14 cannot capture a structured binding
    CAPTURE(text);
    CHECK(ev(text) == row.second);
  }

  SUBCASE("bound variables shadow the view and each other") {
    const json element = R"({"status": "bound"})"_json;
    const json other = "other";
    CHECK(ev("domain.status", {Binding{"domain", &element}}) == "bound");
    CHECK(ev("domain", {Binding{"domain", &element}, Binding{"domain", &other}}) == "other");
    CHECK(ev("any(domain in [1]: domain == 1)", {Binding{"domain", &element}}) == true);
  }

  SUBCASE("test() applies truthiness") {
    CHECK(Expr::parse("names").test(view));
    CHECK_FALSE(Expr::parse("empty_obj").test(view));
    CHECK_FALSE(Expr::parse("'x' + empty_str == 'y'").test(view));
  }

  SUBCASE("a view that is not an object has no facts") {
    CHECK(Expr::parse("names").evaluate(json::array()) == nullptr);
  }
}

TEST_CASE("rules::Expr::parse errors") {
  const std::vector<std::pair<std::string, std::string>> table = {
      {"len(x", "column 6: expected ',' or ')', got end of expression\nlen(x\n     ^ near here"},
      {"lenn(x)", "column 1: unknown function 'lenn' (did you mean 'len'?)\nlenn(x)\n^ near here"},
      {"a and frobnicate(x)", "column 7: unknown function 'frobnicate'\na and frobnicate(x)\n      ^ near here"},
      {"a = b", "column 3: unexpected '='; use '==' to compare\na = b\n  ^ near here"},
      {"a && b", "column 3: unexpected '&&'; use 'and'\na && b\n  ^ near here"},
      {"!a", "column 1: unexpected '!'; use 'not'\n!a\n^ near here"},
      {"'abc", "column 1: unterminated string\n'abc\n^ near here"},
      {"'a\\qb'", "column 3: unknown escape '\\q' in string\n'a\\qb'\n  ^ near here"},
      {"a # b", "column 3: unexpected character '#'\na # b\n  ^ near here"},
      {"a < b < c", "column 7: comparisons cannot be chained; join them with 'and'\na < b < c\n      ^ near here"},
      {"a not b", "column 7: expected 'in' after 'not', got identifier 'b'\na not b\n      ^ near here"},
      {"1 2", "column 3: expected end of expression, got number 2\n1 2\n  ^ near here"},
      {"a b", "column 3: expected end of expression, got identifier 'b'\na b\n  ^ near here"},
      {"a.1", "column 3: expected a field name after '.', got number 1\na.1\n  ^ near here"},
      {"(a", "column 3: expected ')', got end of expression\n(a\n  ^ near here"},
      {"[1, 2", "column 6: expected ',' or ']', got end of expression\n[1, 2\n     ^ near here"},
      {"a[1", "column 4: expected ']', got end of expression\na[1\n   ^ near here"},
      {"and", "column 1: expected an expression, got 'and'\nand\n^ near here"},
      {"", "column 1: expected an expression, got end of expression\n\n^ near here"},
      {"1 + ", "column 5: expected an expression, got end of expression\n1 + \n    ^ near here"},
      {"len(1, 2)", "column 1: len() takes 1 argument, got 2\nlen(1, 2)\n^ near here"},
      {"join(x)", "column 1: join() takes 2 arguments, got 1\njoin(x)\n^ near here"},
      {"concat(x)", "column 1: concat() takes at least 2 arguments, got 1\nconcat(x)\n^ near here"},
      {"coalesce()", "column 1: coalesce() takes at least 1 argument, got 0\ncoalesce()\n^ near here"},
      {"any(names)", "column 10: any() needs the form any(x in LIST: CONDITION)\nany(names)\n         ^ near here"},
      {"map(n in names)", "column 15: map() needs the form map(x in LIST: VALUE)\nmap(n in names)\n              ^ near here"},
      {"count(in x: y)", "column 7: count() needs the form count(x in LIST: CONDITION)\ncount(in x: y)\n      ^ near here"},
      {"matches(x, '(a')", "column 12: invalid regular expression: unbalanced ( )\nmatches(x, '(a')\n           ^ near here"},
      {"99999999999999999999", "column 1: number out of range\n99999999999999999999\n^ near here"},
      {"'例え' + lenn(x)", "column 8: unknown function 'lenn' (did you mean 'len'?)\n'例え' + lenn(x)\n       ^ near here"},
      {"a and\n  lenn(b)", "line 2, column 3: unknown function 'lenn' (did you mean 'len'?)\n  lenn(b)\n  ^ near here"},
      {"a\tb", "column 3: expected end of expression, got identifier 'b'\na b\n  ^ near here"},
  };
  for (const auto& row : table) {
    const auto& text = row.first;  // a named variable: clang 14 cannot capture a structured binding
    CAPTURE(text);
    CHECK(parse_error(text) == row.second);
  }

  SUBCASE("accessors") {
    try {
      Expr::parse("a and\n  lenn(b)");
      FAIL("no error");
    } catch (const ExprError& e) {
      CHECK(e.message() == "unknown function 'lenn' (did you mean 'len'?)");
      CHECK(e.line() == 2);
      CHECK(e.column() == 3);
      CHECK(e.caret() == "  lenn(b)\n  ^ near here");
    }
  }

  SUBCASE("an ExprError is a ConfigError") {
    CHECK_THROWS_AS(Expr::parse("("), certdoctor::ConfigError);
  }

  SUBCASE("syntax and evaluation errors share their position") {
    CHECK_THROWS_AS(Expr::parse("("), certdoctor::rules::PositionedError);
    CHECK_THROWS_AS(Expr::parse("len(5)").evaluate(view), certdoctor::rules::PositionedError);
  }
}

TEST_CASE("rules::Expr::parse depth") {
  SUBCASE("64 levels are fine") {
    std::string ok = std::string(63, '(') + "1" + std::string(63, ')');
    CHECK(Expr::parse(ok).evaluate(view) == 1);
  }
  SUBCASE("hostile nesting is an error, not a stack overflow") {
    const std::string message = "expression nested too deeply (more than 64 levels)";
    for (const std::string& text : {std::string(100000, '(') + "1" + std::string(100000, ')'),
                                    std::string(100000, '['),
                                    [] {
                                      std::string s;
                                      for (int i = 0; i < 50000; ++i) s += "not ";
                                      return s + "x";
                                    }(),
                                    std::string(100000, '-') + "1",
                                    [] {
                                      std::string s = "a";
                                      for (int i = 0; i < 50000; ++i) s += ".b";
                                      return s;
                                    }(),
                                    [] {
                                      std::string s = "len(";
                                      for (int i = 0; i < 50000; ++i) s += "len(";
                                      return s;
                                    }()}) {
      try {
        Expr::parse(text);
        FAIL("no error");
      } catch (const ExprError& e) {
        CHECK(e.message() == message);
      }
    }
  }
  SUBCASE("long flat chains are not deep") {
    std::string sum = "0";
    for (int i = 0; i < 10000; ++i) sum += " + 1";
    CHECK(Expr::parse(sum).evaluate(view) == 10000);
    std::string ors = "false";
    for (int i = 0; i < 10000; ++i) ors += " or false";
    CHECK(Expr::parse(ors + " or true").evaluate(view) == true);
  }
}

TEST_CASE("rules::Expr::evaluate errors") {
  const std::vector<std::pair<std::string, std::string>> table = {
      {"len(5)", "column 1: len() needs a list, a string or an object, got number\nlen(5)\n^ near here"},
      {"empty(true)", "column 1: empty() needs a list, a string or an object, got boolean\nempty(true)\n^ near here"},
      {"'a' + 1", "column 5: '+' needs two numbers, two strings or two lists, got string and number\n'a' + 1\n    ^ near here"},
      {"1 + 2 - 'x'",
       "column 7: '-' needs two numbers, got number and string\n1 + 2 - 'x'\n      ^ near here"},
      {"nothing + 1", "column 9: '+' needs two numbers, two strings or two lists, got null and number\nnothing + 1\n        ^ near here"},
      {"-'x'", "column 1: '-' needs a number, got string\n-'x'\n^ near here"},
      {"lower(1)", "column 1: lower() needs a string, got number\nlower(1)\n^ near here"},
      {"join('a', ',')", "column 1: join() needs a list as its first argument, got string\njoin('a', ',')\n^ near here"},
      {"join(words, 1)", "column 1: join() needs a string as its second argument, got number\njoin(words, 1)\n^ near here"},
      {"first(domain)", "column 1: first() needs a list, got object\nfirst(domain)\n^ near here"},
      {"sort(1)", "column 1: sort() needs a list, got number\nsort(1)\n^ near here"},
      {"starts_with(1, 'a')", "column 1: starts_with() needs a string as its first argument, got number\nstarts_with(1, 'a')\n^ near here"},
      {"ends_with('a', nothing)", "column 1: ends_with() needs a string as its second argument, got null\nends_with('a', nothing)\n^ near here"},
      {"matches('a', 1)", "column 1: matches() needs a string as its second argument, got number\nmatches('a', 1)\n^ near here"},
      {"matches('a', '(' + 'b')", "column 14: invalid regular expression: unbalanced ( )\nmatches('a', '(' + 'b')\n             ^ near here"},
      {"keys(words)", "column 1: keys() needs an object, got list\nkeys(words)\n^ near here"},
      {"number(words)", "column 1: number() needs a string, a number or a boolean, got list\nnumber(words)\n^ near here"},
      {"min(['a', 1])", "column 1: min() needs a list of numbers or a list of strings\nmin(['a', 1])\n^ near here"},
      {"concat(words, 'x')", "column 1: concat() needs lists, got string\nconcat(words, 'x')\n^ near here"},
      {"any(x in domain: x)", "column 1: any() needs a list after 'in', got object\nany(x in domain: x)\n^ near here"},
      {"count(x in 'abc': x)", "column 1: count() needs a list after 'in', got string\ncount(x in 'abc': x)\n^ near here"},
  };
  for (const auto& row : table) {
    const auto& text = row.first;  // a named variable: clang 14 cannot capture a structured binding
    CAPTURE(text);
    CHECK(eval_error(text) == row.second);
  }

  SUBCASE("regular expressions over long subjects are refused") {
    const json long_view = {{"txt", std::string(5000, 'a')}};
    CHECK_THROWS_WITH_AS(Expr::parse("matches(txt, 'a*')").evaluate(long_view),
                         "column 1: matches() subject is longer than 4096 bytes\nmatches(txt, 'a*')\n^ near here",
                         EvalError);
    const json ok_view = {{"txt", std::string(4096, 'a')}};
    CHECK(Expr::parse("matches(txt, '^a*$')").evaluate(ok_view) == true);
  }

  SUBCASE("the rule context is put in front") {
    try {
      Expr::parse("len(5)").evaluate(view);
      FAIL("no error");
    } catch (const EvalError& inner) {
      EvalError outer(inner, "rules/x.yaml:3: in 'when' of rule 'r', ", "r");
      CHECK(std::string(outer.what()) ==
            "rules/x.yaml:3: in 'when' of rule 'r', column 1: len() needs a list, a string or an object, got number\n"
            "len(5)\n^ near here");
      CHECK(outer.rule_id() == "r");
      CHECK(outer.message() == "len() needs a list, a string or an object, got number");
      CHECK(outer.column() == 1);
    }
  }
}

TEST_CASE("rules::Expr::free_paths") {
  CHECK(Expr::parse("len(name.addresses) > 0 and any(s in name.servers: s.ok and s.x == domain.ascii) and "
                    "names[0].status == 'ok' and domain[x] and names[-1] and name.addresses")
            .free_paths() == std::vector<std::string>{"name.addresses", "name.servers", "domain.ascii",
                                                      "names[0].status", "domain", "x", "names[-1]"});
  CHECK(Expr::parse("map(n in names: n.name)").free_paths() == std::vector<std::string>{"names"});
  CHECK(Expr::parse("1 + 2").free_paths().empty());
  CHECK(Expr::parse("domain['ascii']").free_paths() == std::vector<std::string>{"domain[\"ascii\"]"});
}

TEST_CASE("rules::Expr::check_shape") {
  const json shape = R"({
    "domain": {"ascii": "", "unicode": ""},
    "names": [{"name": "", "status": "", "addresses": [{"address": "", "family": 4}], "extra": null}],
    "hosts": []
  })"_json;
  auto issues = [&](std::string_view text, const std::map<std::string, json>& bound = {}) {
    std::vector<std::string> out;
    for (const auto& i : Expr::parse(text).check_shape(shape, bound)) {
      out.push_back(std::to_string(i.column) + ": " + i.message);
    }
    return out;
  };
  using V = std::vector<std::string>;
  CHECK(issues("domain.ascii == 'x' and len(names) > 0") == V{});
  CHECK(issues("domain.asci") == V{"8: unknown fact 'domain.asci' (did you mean 'domain.ascii'?)"});
  CHECK(issues("nmes") == V{"1: unknown fact 'nmes' (did you mean 'names'?)"});
  CHECK(issues("domain.zzzzzz") == V{"8: unknown fact 'domain.zzzzzz'"});
  CHECK(issues("any(n in names: n.adresses)") == V{"19: unknown fact 'n.adresses' (did you mean 'n.addresses'?)"});
  CHECK(issues("names[0].addresses[0].famly") ==
        V{"23: unknown fact 'names[0].addresses[0].famly' (did you mean 'names[0].addresses[0].family'?)"});
  CHECK(issues("names.status") == V{"7: 'names' is a list; it has no field 'status'"});
  CHECK(issues("domain.ascii.x") == V{"14: 'domain.ascii' is a string; it has no field 'x'"});
  CHECK(issues("first(names).nme") == V{"14: unknown field 'nme' (did you mean 'name'?)"});
  CHECK(issues("map(a in flatten(map(n in names: n.addresses)): a.adress)") ==
        V{"51: unknown fact 'a.adress' (did you mean 'a.address'?)"});
  CHECK(issues("find(n in filter(m in names: m.status == 'ok'): true).stauts") ==
        V{"55: unknown field 'stauts' (did you mean 'status'?)"});
  SUBCASE("unknown shapes are not checked") {
    CHECK(issues("names[0].extra.anything.goes") == V{});
    CHECK(issues("any(h in hosts: h.whatever)") == V{});
    CHECK(issues("any(x in [1, 2]: x.y)") == V{"20: 'x' is a number; it has no field 'y'"});
  }
  SUBCASE("variables bound outside") {
    CHECK(issues("name.status == 'ok' and len(name.adresses) == 0", {{"name", shape["names"][0]}}) ==
          V{"34: unknown fact 'name.adresses' (did you mean 'name.addresses'?)"});
    CHECK(issues("nme.status", {{"name", shape["names"][0]}}) == V{"1: unknown fact 'nme' (did you mean 'name'?)"});
    CHECK(issues("name.anything", {{"name", nullptr}}) == V{});
  }
  SUBCASE("infer_shape") {
    CHECK(Expr::parse("names").infer_shape(shape) == shape["names"]);
    CHECK(Expr::parse("flatten(map(n in names: n.addresses))").infer_shape(shape) == shape["names"][0]["addresses"]);
    CHECK_FALSE(Expr::parse("nothing_here").infer_shape(shape).has_value());
  }
}

TEST_CASE("rules::to_text") {
  using certdoctor::rules::to_text;
  CHECK(to_text("abc") == "abc");
  CHECK(to_text(3) == "3");
  CHECK(to_text(0.1) == "0.1");
  CHECK(to_text(2.0) == "2");
  CHECK(to_text(true) == "true");
  CHECK(to_text(nullptr) == "");
  CHECK(to_text(R"(["a", 1, [2]])"_json) == "a, 1, [2]");
  CHECK(to_text(R"({"k": 1})"_json) == R"({"k":1})");
}

TEST_CASE("rules::type_name") {
  using certdoctor::rules::type_name;
  CHECK(std::string(type_name(nullptr)) == "null");
  CHECK(std::string(type_name(true)) == "boolean");
  CHECK(std::string(type_name(1.5)) == "number");
  CHECK(std::string(type_name("x")) == "string");
  CHECK(std::string(type_name(json::array())) == "list");
  CHECK(std::string(type_name(json::object())) == "object");
}

TEST_CASE("rules::is_identifier") {
  using certdoctor::rules::is_identifier;
  CHECK(is_identifier("name"));
  CHECK(is_identifier("_x1"));
  CHECK_FALSE(is_identifier("1x"));
  CHECK_FALSE(is_identifier("my-name"));
  CHECK_FALSE(is_identifier("in"));
  CHECK_FALSE(is_identifier(""));
}
