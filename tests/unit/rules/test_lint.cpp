#include <doctest/doctest.h>

#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include "../printing.hpp"
#include "rules/lint.hpp"

using certdoctor::rules::Catalogue;
using certdoctor::rules::lint;
using certdoctor::rules::LintIssue;
using nlohmann::json;

namespace {

const std::string fixtures = RULES_FIXTURES;

const json shape = R"({
  "domain": {"ascii": "", "unicode": "", "registered": ""},
  "provider": {"id": "", "source": ""},
  "names": [{"name": "", "display": "", "role": "", "status": "",
             "addresses": [{"address": "", "family": 4, "is_host": true, "reserved": false}],
             "servers": [{"address": ""}]}],
  "delegation": {"status": "", "parent_ns": [""], "child_ns": [""]},
  "host": {"addresses": [""], "source": ""}
})"_json;

const std::set<std::string> providers = {"sakura", "xserver"};

// Issues as "BASENAME:LINE: MESSAGE" to keep the expectations short.
std::vector<std::string> lines(const std::vector<LintIssue>& issues) {
  std::vector<std::string> out;
  for (const auto& i : issues) {
    LintIssue shortened = i;
    shortened.file = std::filesystem::path(i.file).filename().string();
    out.push_back(to_string(shortened));
  }
  return out;
}

} // namespace

TEST_CASE("rules::lint") {
  SUBCASE("a clean catalogue has no issues") {
    CHECK(lines(lint(Catalogue::load({fixtures + "/basic"}), shape, providers)).empty());
    CHECK(lines(lint(Catalogue::load({fixtures + "/basic", fixtures + "/overlay"}), shape, providers)).empty());
  }

  SUBCASE("every check") {
    const Catalogue c = Catalogue::load({fixtures + "/lint"});
    const std::vector<std::string> expected = {
        "a.yaml:17: rule 'lint-facts', each: unknown fact 'nmes' (did you mean 'names'?)",
        "a.yaml:19: rule 'lint-facts', when: unknown fact 'domain.asci' (did you mean 'domain.ascii'?)",
        "a.yaml:19: rule 'lint-facts', when: unknown fact 'names[0].adresses' (did you mean 'names[0].addresses'?)",
        "a.yaml:21: rule 'lint-facts', argument 'roles': unknown fact 'n.rol' (did you mean 'n.role'?)",
        "a.yaml:22: rule 'lint-facts', argument 'status': 'names' is a list; it has no field 'status'",
        "a.yaml:31: rule 'lint-each-scalar', each: the value is a string, not a list",
        "a.yaml:46: rule 'lint-texts': text.en.title: placeholder {nmae} is not an argument (did you mean 'name'?)",
        "a.yaml:49: rule 'lint-texts': text.en.remediation: unknown provider 'sakra' (did you mean 'sakura'?)",
        "a.yaml:50: rule 'lint-texts': text.en.remediation.xserver: unmatched '}' at column 12 (write '}}' for a "
        "literal brace)",
        "a.yaml:52: rule 'lint-texts': placeholders of text.ja.title {name, server} differ from text.en.title "
        "{name, nmae}",
        "a.yaml:53: rule 'lint-texts': text.ja.remediation has no 'generic'",
        "a.yaml:55: rule 'lint-texts': text.fr has no 'remediation'",
        "a.yaml:56: rule 'lint-texts': text.fr.title: unmatched '{' at column 1 (write '{{' for a literal brace)",
        "a.yaml:56: rule 'lint-texts': placeholders of text.fr.title {} differ from text.en.title {name, nmae}",
        "a.yaml:61: rule 'lint-missing' has no text in 'ja'",
        "a.yaml:62: rule 'lint-missing': text.en has no 'title'",
        "b.yaml:2: duplicate rule id 'lint-dup' (also defined at " + fixtures + "/lint/a.yaml:65)",
    };
    CHECK(lines(lint(c, shape, providers)) == expected);
  }

  SUBCASE("the languages to require are a parameter") {
    const Catalogue c = Catalogue::load({fixtures + "/basic"});
    const auto issues = lines(lint(c, shape, providers, {"en", "ja", "ko"}));
    CHECK(issues == std::vector<std::string>{
                        "10-dns.yaml:12: rule 'dns-no-address' has no text in 'ko'",
                        "10-dns.yaml:30: rule 'dns-not-delegated' has no text in 'ko'",
                        "20-host.yaml:5: rule 'host-info' has no text in 'ko'",
                        "20-host.yaml:20: rule 'host-count' has no text in 'ko'",
                    });
  }

  SUBCASE("providers not known to the caller") {
    const Catalogue c = Catalogue::load({fixtures + "/basic"});
    CHECK(lines(lint(c, shape, {"xserver"})) ==
          std::vector<std::string>{"10-dns.yaml:17: rule 'dns-no-address': text.en.remediation: unknown provider "
                                   "'sakura'"});
  }

  SUBCASE("a text quoting an argument that is '-' when absent, in a rule without variants") {
    const Catalogue c = Catalogue::load({fixtures + "/dashes"});
    const std::string fix = " is '-' when the value is absent; give that case a variant with its own words "
                            "(variant:, variants:) or leave the value to the evidence";
    CHECK(lines(lint(c, shape, providers)) ==
          std::vector<std::string>{
              "a.yaml:11: rule 'dash-in-text': text.en.title: {source}" + fix,
              "a.yaml:11: rule 'dash-in-text': text.en.remediation.generic: {nested}" + fix,
              "a.yaml:12: rule 'dash-in-text': text.ja.title: {source}" + fix,
              "a.yaml:12: rule 'dash-in-text': text.ja.remediation.generic: {nested}" + fix,
          });
  }

  SUBCASE("facts missing from the shape") {
    json small = shape;
    small["names"][0].erase("servers");
    const Catalogue c = Catalogue::load({fixtures + "/basic"});
    CHECK(lines(lint(c, small, providers)) ==
          std::vector<std::string>{"10-dns.yaml:11: rule 'dns-no-address', argument 'servers': unknown fact "
                                   "'name.servers'"});
  }
}

TEST_CASE("rules::to_string(LintIssue)") {
  CHECK(certdoctor::rules::to_string(LintIssue{"rules/dns.yaml", 12, "message"}) == "rules/dns.yaml:12: message");
}

TEST_CASE("rules::lint: {provider.X} placeholders") {
  const Catalogue c = Catalogue::load({fixtures + "/provider-texts"});
  const std::set<std::string> three = {"generic", "sakura", "xserver"};
  auto text = [](const char* en, const char* ja) { return json{{"en", en}, {"ja", ja}}; };
  std::map<std::string, json> texts = {
      {"generic", {{"retry", text("Renew again.", "もう一度更新してください。")}}},
      {"sakura", {{"retry", text("Apply again.", "再申請してください。")}, {"renew_path", text("SSL設定", "「SSL設定」")}}},
      {"xserver", {{"retry", text("Press 更新.", "「更新」を押してください。")}}},
  };

  SUBCASE("every profile a text is for has the text in its language") {
    CHECK(lines(lint(c, shape, three, texts)).empty());
  }

  SUBCASE("a profile that lacks a text fails, per language and per text") {
    texts["sakura"].erase("retry");
    texts["xserver"]["retry"].erase("ja");
    const std::vector<std::string> expected = {
        "texts.yaml:16: rule 'www-missing': text.en.remediation.sakura: {provider.retry}: the profile of provider "
        "'sakura' has no texts.retry.en",
        "texts.yaml:22: rule 'www-missing': text.ja.remediation.sakura: {provider.retry}: the profile of provider "
        "'sakura' has no texts.retry.ja",
        "texts.yaml:23: rule 'www-missing': text.ja.remediation.xserver: {provider.retry}: the profile of provider "
        "'xserver' has no texts.retry.ja",
        // A title is shown for every provider.
        "texts.yaml:32: rule 'generic-uses-provider': text.en.title: {provider.retry}: the profile of provider "
        "'sakura' has no texts.retry.en",
        "texts.yaml:37: rule 'generic-uses-provider': text.ja.title: {provider.retry}: the profile of provider "
        "'sakura' has no texts.retry.ja",
        "texts.yaml:37: rule 'generic-uses-provider': text.ja.title: {provider.retry}: the profile of provider "
        "'xserver' has no texts.retry.ja",
        // 'generic' stands in for xserver here (it has no text of its own), not for sakura.
        "texts.yaml:39: rule 'generic-uses-provider': text.ja.remediation.generic: {provider.retry}: the profile of "
        "provider 'xserver' has no texts.retry.ja",
    };
    CHECK(lines(lint(c, shape, three, texts)) == expected);
  }

  SUBCASE("a generic text may use them only when the generic profile defines them") {
    texts["generic"] = json::object();
    const auto issues = lines(lint(c, shape, three, texts));
    CHECK(std::count_if(issues.begin(), issues.end(), [](const std::string& s) {
            return s.find("remediation.generic: {provider.retry}: the profile of provider 'generic'") != std::string::npos;
          }) == 2);
  }

  SUBCASE("without profile texts every use is reported") {
    CHECK(lines(lint(c, shape, three)).size() == 18);
  }
}
