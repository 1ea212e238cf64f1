#include <doctest/doctest.h>

#include <set>
#include <string>

#include "rules/catalogue.hpp"
#include "rules/engine.hpp"
#include "rules/lint.hpp"
#include "../temp_dir.hpp"

using certdoctor::ConfigError;
using certdoctor::rules::Catalogue;
using certdoctor::rules::evaluate;
using certdoctor::rules::lint;
using certdoctor::rules::Severity;
using nlohmann::json;

namespace {

const char* variant_rule = R"yaml(rules:
  - id: ns-other
    severity: error
    source: doc
    variant: "if(on_host, 'fine', 'broken')"
    variants:
      fine: {severity: info, source: other-doc}
      broken: {}
    arguments:
      zone: zone
    text:
      en:
        title: "{zone} uses other nameservers"
        remediation: {generic: "Base advice for {zone}.", sakura: "Sakura base advice for {zone}."}
        variants:
          fine: {title: "{zone} uses other nameservers, and that is fine", remediation: {generic: "Nothing to do for {zone}."}}
      ja:
        title: "{zone} は別のネームサーバーです"
        remediation: {generic: "{zone} の基本の対処。", sakura: "{zone} のさくら向けの対処。"}
        variants:
          fine: {title: "{zone} は別のネームサーバーですが問題ありません", remediation: {generic: "{zone} は対処不要です。"}}
)yaml";

} // namespace

TEST_CASE("rules::evaluate variants") {
  TempDir dir;
  dir.write("r.yaml", variant_rule);
  const Catalogue c = Catalogue::load({dir.path()});

  SUBCASE("the variant's severity and texts replace the base ones") {
    auto findings = evaluate(c, json{{"on_host", true}, {"zone", "example.jp"}});
    REQUIRE(findings.size() == 1);
    CHECK(findings[0].variant == "fine");
    CHECK(findings[0].severity == Severity::info);
    CHECK(findings[0].source == "other-doc");
    CHECK(c.render(findings[0], "en", "title", "generic") == "example.jp uses other nameservers, and that is fine");
    CHECK(c.render(findings[0], "ja", "remediation", "sakura") == "example.jp は対処不要です。");
  }
  SUBCASE("a variant without its own text falls back to the base texts and severity") {
    auto findings = evaluate(c, json{{"on_host", false}, {"zone", "example.jp"}});
    REQUIRE(findings.size() == 1);
    CHECK(findings[0].variant == "broken");
    CHECK(findings[0].severity == Severity::error);
    CHECK(findings[0].source == "doc");
    CHECK(c.render(findings[0], "en", "title", "generic") == "example.jp uses other nameservers");
    CHECK(c.render(findings[0], "en", "remediation", "sakura") == "Sakura base advice for example.jp.");
  }
  SUBCASE("lint accepts it") {
    json shape{{"on_host", true}, {"zone", ""}};
    CHECK(lint(c, shape, {"sakura"}).empty());
  }
}

TEST_CASE("rules::Catalogue::load variant errors") {
  TempDir dir;
  SUBCASE("variant without variants") {
    dir.write("r.yaml", "rules:\n  - id: x\n    severity: info\n    source: d\n    variant: \"'a'\"\n"
                        "    text: {en: {title: t, remediation: {generic: g}}}\n");
    CHECK_THROWS_WITH_AS(Catalogue::load({dir.path()}),
                         ((dir.path() / "r.yaml").string() + ":2: rule 'x' needs both 'variant' and 'variants', or neither").c_str(),
                         ConfigError);
  }
  SUBCASE("unknown severity in a variant") {
    dir.write("r.yaml", "rules:\n  - id: x\n    severity: info\n    source: d\n    variant: \"'a'\"\n"
                        "    variants:\n      a: {severity: eror}\n    text: {en: {title: t, remediation: {generic: g}}}\n");
    CHECK_THROWS_WITH_AS(Catalogue::load({dir.path()}), doctest::Contains(":7: unknown severity 'eror' in variant 'a'"),
                         ConfigError);
  }
  SUBCASE("a variant name the rule does not declare is an evaluation error") {
    dir.write("r.yaml", "rules:\n  - id: x\n    severity: info\n    source: d\n    variant: \"'b'\"\n"
                        "    variants:\n      a: {}\n    text: {en: {title: t, remediation: {generic: g}}}\n");
    const Catalogue c = Catalogue::load({dir.path()});
    CHECK_THROWS_WITH_AS(evaluate(c, json::object()), doctest::Contains("'variant' yielded 'b', which 'variants' does not declare"),
                         ConfigError);
  }
  SUBCASE("lint: undeclared text variant and placeholder mismatch") {
    dir.write("r.yaml", "rules:\n  - id: x\n    severity: info\n    source: d\n    variant: \"'a'\"\n"
                        "    variants:\n      a: {}\n    arguments: {n: zone}\n"
                        "    text:\n"
                        "      en: {title: t, remediation: {generic: g}, variants: {a: {title: '{n} a'}, z: {title: z}}}\n"
                        "      ja: {title: t, remediation: {generic: g}, variants: {a: {title: 'a'}}}\n");
    const Catalogue c = Catalogue::load({dir.path()});
    auto issues = lint(c, json{{"zone", ""}}, {});
    std::set<std::string> messages;
    for (const auto& i : issues) messages.insert(i.message);
    CHECK(messages.count("rule 'x': text.en.variants: 'z' is not declared in 'variants'") == 1);
    CHECK(messages.count("rule 'x': placeholders of text.ja.variants.a.title {} differ from text.en.variants.a.title {n}") == 1);
  }
}
