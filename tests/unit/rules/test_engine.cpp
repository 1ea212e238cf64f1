#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "../printing.hpp"
#include "rules/catalogue.hpp"
#include "rules/engine.hpp"
#include "../temp_dir.hpp"

using certdoctor::rules::Catalogue;
using certdoctor::rules::EvalError;
using certdoctor::rules::evaluate;
using certdoctor::rules::Finding;
using certdoctor::rules::Severity;
using nlohmann::json;

namespace {

const std::string fixtures = RULES_FIXTURES;

json sample_view() {
  return R"({
    "domain": {"ascii": "example.jp", "unicode": "例え.jp", "registered": "example.jp"},
    "names": [
      {"name": "example.jp", "display": "example.jp", "role": "apex", "status": "ok",
       "addresses": [{"address": "203.0.113.10"}], "servers": [{"address": "192.0.2.53"}]},
      {"name": "www.example.jp", "display": "www.example.jp", "role": "www", "status": "nodata",
       "addresses": [], "servers": [{"address": "192.0.2.53"}, {"address": "198.51.100.53"}]},
      {"name": "mail.example.jp", "display": "mail.example.jp", "role": "other", "status": "ok",
       "addresses": [], "servers": []}
    ],
    "delegation": {"status": "delegated"},
    "host": {"addresses": ["203.0.113.10", "203.0.113.11"]}
  })"_json;
}

std::vector<std::string> ids(const std::vector<Finding>& findings) {
  std::vector<std::string> out;
  for (const auto& f : findings) out.push_back(f.id);
  return out;
}

std::string eval_error(const std::string& rule_yaml, const json& view, std::string* file = nullptr) {
  TempDir dir;
  const std::string path = dir.write("r.yaml", rule_yaml);
  if (file) *file = path;
  const Catalogue c = Catalogue::load({dir.path()});
  try {
    evaluate(c, view);
  } catch (const EvalError& e) {
    CHECK(e.rule_id() == "bad");
    const std::string what = e.what();
    return what.rfind(path, 0) == 0 ? what.substr(path.size()) : what;
  }
  return "(no error)";
}

} // namespace

TEST_CASE("rules::evaluate") {
  const Catalogue c = Catalogue::load({fixtures + "/basic"});

  SUBCASE("fires once per matching element, in catalogue then element order") {
    const auto findings = evaluate(c, sample_view());
    CHECK(ids(findings) == std::vector<std::string>{"dns-no-address", "dns-no-address", "host-info", "host-count"});
    REQUIRE(findings.size() == 4);
    CHECK(findings[0] == Finding{"dns-no-address", Severity::error,
                                 {{"name", "www.example.jp"}, {"servers", {"192.0.2.53", "198.51.100.53"}}}, "test-doc", ""});
    CHECK(findings[1] == Finding{"dns-no-address", Severity::error,
                                 {{"name", "mail.example.jp"}, {"servers", json::array()}}, "test-doc", ""});
    CHECK(findings[2] == Finding{"host-info", Severity::info, json::object(), "test-doc", ""});
    CHECK(findings[3] == Finding{"host-count", Severity::info,
                                 {{"count", 2},
                                  {"addresses", {"203.0.113.10", "203.0.113.11"}},
                                  {"shared", true},
                                  {"ratio", 0.5},
                                  {"missing", nullptr}},
                                 "test-doc", ""});
  }

  SUBCASE("rules that do not hold do not fire") {
    json view = sample_view();
    view["names"] = json::array();
    view["delegation"]["status"] = "lame";
    view["host"]["addresses"] = {"203.0.113.10"};
    const auto findings = evaluate(c, view);
    CHECK(ids(findings) == std::vector<std::string>{"dns-not-delegated", "host-info"});
    REQUIRE(findings.size() == 2);
    CHECK(findings[0].arguments == json{{"domain", "例え.jp"}, {"status", "lame"}});
    CHECK(findings[0].severity == Severity::warning);
  }

  SUBCASE("missing facts are null, not errors") {
    const auto findings = evaluate(c, json::object());
    CHECK(ids(findings) == std::vector<std::string>{"dns-not-delegated", "host-info"});
  }

  SUBCASE("the overlay rule is evaluated in place of the replaced one") {
    const Catalogue overlaid = Catalogue::load({fixtures + "/basic", fixtures + "/overlay"});
    const auto findings = evaluate(overlaid, sample_view());
    CHECK(ids(findings) == std::vector<std::string>{"dns-no-address", "dns-no-address", "dns-not-delegated",
                                                    "host-info", "host-count", "overlay-extra"});
    CHECK(findings[2] == Finding{"dns-not-delegated", Severity::error, {{"domain", "example.jp"}}, "local-doc", ""});
  }
}

TEST_CASE("rules::evaluate errors") {
  const std::string texts = "    text:\n      en: {title: t, remediation: {generic: g}}\n";
  const json view = sample_view();
  CHECK(eval_error("rules:\n  - id: bad\n    severity: info\n    source: d\n    when: len(5) > 0\n" + texts, view) ==
        ":5: in 'when' of rule 'bad', column 1: len() needs a list, a string or an object, got number\n"
        "len(5) > 0\n^ near here");
  CHECK(eval_error("rules:\n  - id: bad\n    severity: info\n    source: d\n    each: domain\n    as: d\n" + texts,
                   view) ==
        ":5: in 'each' of rule 'bad', column 1: 'each' needs a list, got object\ndomain\n^ near here");
  CHECK(eval_error("rules:\n  - id: bad\n    severity: info\n    source: d\n    each: names\n    as: n\n"
                   "    arguments:\n      x: n.name + 1\n" + texts,
                   view) ==
        ":8: in argument 'x' of rule 'bad', column 8: '+' needs two numbers, two strings or two lists, got string "
        "and number\nn.name + 1\n       ^ near here");
}

TEST_CASE("rules::evaluate cites a provider's document only for that provider") {
  TempDir dir;
  const std::string texts = "    text:\n      en:\n        title: t\n        remediation:\n          generic: r\n";
  dir.write("r.yaml", "rules:\n  - id: r1\n    severity: info\n    source: {generic: rfc, xserver: xserver-doc}\n"
                      "    variant: \"'v'\"\n    variants:\n      v: {source: {generic: rfc-v, sakura: sakura-doc}}\n" + texts +
                      "  - id: r2\n    severity: info\n    source: {generic: rfc, xserver: xserver-doc}\n" + texts);
  const Catalogue c = Catalogue::load({dir.path()});
  auto sources = [&](const std::string& provider) {
    json view = sample_view();
    if (!provider.empty()) view["provider"] = {{"id", provider}};
    std::vector<std::string> out;
    for (const auto& f : evaluate(c, view)) out.push_back(f.id + ":" + f.source);
    return out;
  };
  CHECK(sources("xserver") == std::vector<std::string>{"r1:rfc-v", "r2:xserver-doc"});
  CHECK(sources("sakura") == std::vector<std::string>{"r1:sakura-doc", "r2:rfc"});
  CHECK(sources("generic") == std::vector<std::string>{"r1:rfc-v", "r2:rfc"});
  CHECK(sources("") == std::vector<std::string>{"r1:rfc-v", "r2:rfc"});
}
