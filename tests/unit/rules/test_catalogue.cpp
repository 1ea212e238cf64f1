#include <doctest/doctest.h>

#include <string>
#include <utility>
#include <vector>

#include "../printing.hpp"
#include "rules/catalogue.hpp"
#include "../temp_dir.hpp"

using certdoctor::ConfigError;
using certdoctor::rules::Catalogue;
using certdoctor::rules::Finding;
using certdoctor::rules::Severity;
using certdoctor::rules::scan_placeholders;
using nlohmann::json;

namespace {

const std::string fixtures = RULES_FIXTURES;

std::vector<std::string> ids(const Catalogue& c) {
  std::vector<std::string> out;
  for (const auto& r : c.rules()) out.push_back(r.id);
  return out;
}

// The error of loading a directory holding one file r.yaml with `content`, minus the file's path.
std::string load_error(const std::string& content) {
  TempDir dir;
  const std::string file = dir.write("r.yaml", content);
  try {
    Catalogue::load({dir.path()});
  } catch (const ConfigError& e) {
    const std::string what = e.what();
    if (what.rfind(file + ":", 0) != 0) return "(not prefixed with the file) " + what;
    return what.substr(file.size());
  }
  return "(no error)";
}

const std::string head = "rules:\n  - id: r1\n    severity: error\n    source: doc\n";
const std::string texts = "    text:\n      en:\n        title: t\n        remediation: {generic: g}\n";

} // namespace

TEST_CASE("rules::Catalogue::load") {
  SUBCASE("rule files in name order; other YAML files ignored") {
    const Catalogue c = Catalogue::load({fixtures + "/basic"});
    CHECK(ids(c) == std::vector<std::string>{"dns-no-address", "dns-not-delegated", "host-info", "host-count"});
    CHECK(c.duplicates().empty());

    const auto* r = c.find("dns-no-address");
    REQUIRE(r != nullptr);
    CHECK(r->severity == Severity::error);
    CHECK(r->source == "test-doc");
    CHECK(r->file == fixtures + "/basic/10-dns.yaml");
    CHECK(r->line == 3);
    REQUIRE(r->each.has_value());
    CHECK(r->each->expr.text() == "names");
    CHECK(r->each->line == 6);
    CHECK(r->as == "name");
    REQUIRE(r->when.has_value());
    CHECK(r->when->line == 8);
    REQUIRE(r->arguments.size() == 2);
    CHECK(r->arguments[0].name == "name");
    CHECK(r->arguments[0].value.expr.text() == "name.display");
    CHECK(r->arguments[0].value.line == 10);
    CHECK(r->arguments[1].name == "servers");
    CHECK(r->text_line == 12);
    REQUIRE(r->text.count("en") == 1);
    const auto& en = r->text.at("en");
    CHECK(en.line == 13);
    REQUIRE(en.title.has_value());
    CHECK(en.title->value == "{name} has no address");
    CHECK(en.title->line == 14);
    CHECK(en.remediation_line == 15);
    CHECK(en.remediation.size() == 2);
    CHECK(en.remediation.at("sakura").line == 17);

    const auto* info = c.find("host-info");
    REQUIRE(info != nullptr);
    CHECK_FALSE(info->each.has_value());
    CHECK_FALSE(info->when.has_value());
    CHECK(info->arguments.empty());
    CHECK(c.find("no-such-rule") == nullptr);
  }

  SUBCASE("a later directory replaces rules in place and adds new ones") {
    const Catalogue c = Catalogue::load({fixtures + "/basic", fixtures + "/overlay"});
    CHECK(ids(c) ==
          std::vector<std::string>{"dns-no-address", "dns-not-delegated", "host-info", "host-count", "overlay-extra"});
    const auto* r = c.find("dns-not-delegated");
    REQUIRE(r != nullptr);
    CHECK(r->severity == Severity::error);
    CHECK(r->source == "local-doc");
    CHECK(r->file == fixtures + "/overlay/10-dns.yaml");
    CHECK(c.duplicates().empty());
  }

  SUBCASE("the same id twice in one directory is recorded; the later one is used") {
    const Catalogue c = Catalogue::load({fixtures + "/lint"});
    REQUIRE(c.duplicates().size() == 1);
    const auto& d = c.duplicates()[0];
    CHECK(d.id == "lint-dup");
    CHECK(d.file == fixtures + "/lint/b.yaml");
    CHECK(d.line == 2);
    CHECK(d.first_file == fixtures + "/lint/a.yaml");
    CHECK(d.first_line == 65);
    CHECK(c.find("lint-dup")->file == fixtures + "/lint/b.yaml");
  }

  SUBCASE("an empty rules list and an empty directory") {
    TempDir dir;
    CHECK(Catalogue::load({dir.path()}).rules().empty());
    dir.write("empty.yaml", "rules:\n");
    CHECK(Catalogue::load({dir.path()}).rules().empty());
  }

  SUBCASE("a missing directory") {
    CHECK_THROWS_WITH_AS(Catalogue::load({fixtures + "/no-such-dir"}),
                         ("rule directory '" + fixtures + "/no-such-dir' does not exist").c_str(), ConfigError);
  }
}

TEST_CASE("rules::Catalogue::load errors") {
  const std::vector<std::pair<std::string, std::string>> table = {
      {"rules:\n  - id: x\n   when: a\n", ":3: end of sequence not found"},
      {"rules:\n  - id: [x\n", ":3: end of sequence flow not found"},
      {"a: b: c\n", ":1: illegal map value"},
      {"rules: 5\n", ":1: 'rules' must be a list"},
      {"rules: []\nrules: []\n", ":2: duplicate key 'rules'"},
      {"rules:\n  - just a string\n", ":2: each rule must be a map"},
      {"rules:\n  - severity: error\n", ":2: rule has no 'id'"},
      {"rules:\n  - id: Bad_Id\n", ":2: rule id 'Bad_Id' must match [a-z0-9-]+"},
      {"rules:\n  - id: [a]\n", ":2: rule id must be a string"},
      {head + "    whne: x\n" + texts, ":5: unknown key 'whne' in rule 'r1' (did you mean 'when'?)"},
      {head + "    colour: x\n", ":5: unknown key 'colour' in rule 'r1'"},
      {head + "    when: a\n    when: b\n", ":6: duplicate key 'when' in rule 'r1'"},
      {"rules:\n  - id: r1\n    source: doc\n", ":2: rule 'r1' has no 'severity'"},
      {"rules:\n  - id: r1\n    severity: eror\n", ":3: unknown severity 'eror' in rule 'r1' (did you mean 'error'?)"},
      {"rules:\n  - id: r1\n    severity: [error]\n", ":3: 'severity' in rule 'r1' must be a string"},
      {"rules:\n  - id: r1\n    severity: info\n", ":2: rule 'r1' has no 'source'"},
      {"rules:\n  - id: r1\n    severity: info\n    source: ''\n", ":2: rule 'r1' has no 'source'"},
      {"rules:\n  - id: r1\n    severity: info\n    source: {sakura: doc}\n",
       ":4: 'source' in rule 'r1' needs a 'generic' document, cited for every other provider"},
      {"rules:\n  - id: r1\n    severity: info\n    source: [doc]\n",
       ":4: 'source' in rule 'r1' must be a document id or a map of provider ids to document ids"},
      {head + "    each: names\n" + texts, ":5: 'each' in rule 'r1' needs 'as'"},
      {head + "    as: name\n" + texts, ":5: 'as' in rule 'r1' needs 'each'"},
      {head + "    each: names\n    as: my-name\n" + texts, ":6: 'as' in rule 'r1' must be an identifier, got 'my-name'"},
      {head + "    when:\n      - a\n", ":6: 'when' in rule 'r1' must be a string"},
      {head + "    when:\n", ":5: 'when' in rule 'r1' must be a string"},
      {head + "    arguments: [a]\n", ":5: 'arguments' in rule 'r1' must be a map"},
      {head + "    arguments:\n      my-arg: x\n", ":6: argument name 'my-arg' in rule 'r1' must match [A-Za-z_][A-Za-z0-9_]*"},
      {head + "    arguments:\n      a: x\n      a: y\n", ":7: duplicate argument 'a' in rule 'r1'"},
      {head + "    arguments:\n      a: [x]\n", ":6: argument 'a' in rule 'r1' must be a string"},
      {head, ":2: rule 'r1' has no 'text'"},
      {head + "    text: hello\n", ":5: 'text' in rule 'r1' must be a map of languages"},
      {head + "    text:\n      en: hello\n", ":6: 'text.en' in rule 'r1' must be a map"},
      {head + "    text:\n      en:\n        titel: t\n", ":7: unknown key 'titel' in text.en of rule 'r1' (did you mean 'title'?)"},
      {head + "    text:\n      en:\n        title: [t]\n", ":7: 'text.en.title' in rule 'r1' must be a string"},
      {head + "    text:\n      en:\n        remediation: fix it\n",
       ":7: 'text.en.remediation' in rule 'r1' must be a map with a 'generic' key"},
      {head + "    text:\n      en:\n        remediation:\n          generic: [x]\n",
       ":8: 'text.en.remediation.generic' in rule 'r1' must be a string"},
      {head + "    text:\n      en: {title: a}\n      en: {title: b}\n", ":7: duplicate language 'en' in rule 'r1'"},
      {head + "    when: \"name.x + lenn(y)\"\n" + texts,
       ":5: in 'when' of rule 'r1', column 10: unknown function 'lenn' (did you mean 'len'?)\n"
       "name.x + lenn(y)\n         ^ near here"},
      {head + "    each: names(\n    as: n\n" + texts,
       ":5: in 'each' of rule 'r1', column 1: unknown function 'names'\nnames(\n^ near here"},
      {head + "    arguments:\n      server: \"join(map(s in servers s.address), ', ')\"\n" + texts,
       ":6: in argument 'server' of rule 'r1', column 23: map() needs the form map(x in LIST: VALUE)\n"
       "join(map(s in servers s.address), ', ')\n                      ^ near here"},
      {head + "    when: |\n      a and\n      b ==\n" + texts,
       ":8: in 'when' of rule 'r1', line 3, column 1: expected an expression, got end of expression\n"
       "\n^ near here"},
      {head + "    when: |\n      a and\n        lenn(b)\n" + texts,
       ":7: in 'when' of rule 'r1', line 2, column 3: unknown function 'lenn' (did you mean 'len'?)\n"
       "  lenn(b)\n  ^ near here"},
  };
  for (const auto& row : table) {
    const auto& content = row.first;  // a named variable: clang 14 cannot capture a structured binding
    CAPTURE(content);
    CHECK(load_error(content) == row.second);
  }

  SUBCASE("errors are ConfigErrors naming the file") {
    TempDir dir;
    const std::string file = dir.write("10-bad.yaml", "rules:\n  - id: r1\n");
    CHECK_THROWS_WITH_AS(Catalogue::load({dir.path()}), (file + ":2: rule 'r1' has no 'severity'").c_str(),
                         ConfigError);
  }
}

TEST_CASE("rules::Catalogue::render") {
  const Catalogue c = Catalogue::load({fixtures + "/basic"});
  Finding f{"dns-no-address", Severity::error, {{"name", "www.example.jp"}, {"servers", {"192.0.2.53", "198.51.100.53"}}},
            "test-doc", ""};

  SUBCASE("title in each language") {
    CHECK(c.render(f, "en", "title", "") == "www.example.jp has no address");
    CHECK(c.render(f, "ja", "title", "sakura") == "www.example.jp にアドレスがありません");
  }
  SUBCASE("the provider's remediation, else the generic one") {
    CHECK(c.render(f, "en", "remediation", "sakura") ==
          "Add an A record for www.example.jp in the Sakura control panel (asked 192.0.2.53, 198.51.100.53).");
    CHECK(c.render(f, "en", "remediation", "xserver") ==
          "Add an A record for www.example.jp (asked 192.0.2.53, 198.51.100.53).");
    CHECK(c.render(f, "en", "remediation", "") == "Add an A record for www.example.jp (asked 192.0.2.53, 198.51.100.53).");
    CHECK(c.render(f, "ja", "remediation", "sakura") ==
          "www.example.jp の A レコードを追加してください（192.0.2.53, 198.51.100.53 に問い合わせ）。");
  }
  SUBCASE("values of every type; escaped braces") {
    Finding count{"host-count", Severity::info,
                  {{"count", 2}, {"addresses", {"203.0.113.10", "203.0.113.11"}}, {"shared", true}, {"ratio", 0.5},
                   {"missing", nullptr}},
                  "test-doc", ""};
    CHECK(c.render(count, "en", "title", "") ==
          "2 addresses: 203.0.113.10, 203.0.113.11 (shared: true, ratio 0.5, missing '')");
    Finding deleg{"dns-not-delegated", Severity::warning, {{"domain", "example.jp"}, {"status", "lame"}}, "test-doc", ""};
    CHECK(c.render(deleg, "en", "remediation", "sakura") == "Register example.jp and set {its} name servers.");
  }
  SUBCASE("a placeholder without an argument stays as written") {
    Finding bare{"dns-no-address", Severity::error, json::object(), "test-doc", ""};
    CHECK(c.render(bare, "en", "title", "") == "{name} has no address");
  }
  SUBCASE("errors") {
    CHECK_THROWS_WITH_AS(c.render(f, "fr", "title", ""), "rule 'dns-no-address' has no text in 'fr'", ConfigError);
    CHECK_THROWS_WITH_AS(c.render(f, "en", "summary", ""),
                         "unknown text field 'summary' (expected 'title' or 'remediation')", ConfigError);
    Finding unknown{"no-such-rule", Severity::info, json::object(), "", ""};
    CHECK_THROWS_WITH_AS(c.render(unknown, "en", "title", ""), "no rule 'no-such-rule' in the catalogue", ConfigError);
  }
}

TEST_CASE("rules::scan_placeholders") {
  using certdoctor::rules::scan_placeholders;
  auto p = scan_placeholders("{a} and {b_2} and {a}, {{literal}} }} {{");
  CHECK(p.names == std::vector<std::string>{"a", "b_2"});
  CHECK_FALSE(p.stray_brace.has_value());
  CHECK(scan_placeholders("x {a").stray_brace == 2u);
  CHECK(scan_placeholders("x } y").stray_brace == 2u);
  CHECK(scan_placeholders("{ a }").stray_brace == 0u);
  CHECK(scan_placeholders("{}").stray_brace == 0u);
  CHECK(scan_placeholders("{1a}").stray_brace == 0u);
  CHECK(scan_placeholders("").names.empty());
}

TEST_CASE("rules::fill_placeholders") {
  using certdoctor::rules::fill_placeholders;
  const json args = {{"a", "x"}, {"n", 3}, {"list", {1, "b"}}};
  CHECK(fill_placeholders("{a}-{n}-{list}", args) == "x-3-1, b");
  CHECK(fill_placeholders("{{a}} {{{a}}}", args) == "{a} {x}");
  CHECK(fill_placeholders("{zz} { a } {a", args) == "{zz} { a } {a");
  CHECK(fill_placeholders("{a}", json()) == "{a}");
}

TEST_CASE("Catalogue::render: {provider.X} from the profile's texts") {
  const Catalogue c = Catalogue::load({fixtures + "/provider-texts"});
  Finding f;
  f.id = "www-missing";
  f.arguments = {{"name", "www.example.jp"}};
  const json sakura = {{"retry", {{"en", "Apply again: {name}."}, {"ja", "再申請してください。"}}},
                       {"renew_path", {{"en", "SSL設定"}, {"ja", "「SSL設定」"}}}};
  // The profile's words are inserted as written: placeholders in them are not filled.
  CHECK(c.render(f, "en", "remediation", "sakura", sakura) == "Add www.example.jp at SSL設定. Apply again: {name}.");
  CHECK(c.render(f, "ja", "remediation", "sakura", sakura) ==
        "「SSL設定」 で www.example.jp を追加してください。再申請してください。");
  // A text the profile lacks (or no texts at all) stays as written, as an unknown argument does.
  CHECK(c.render(f, "en", "remediation", "xserver", json{{"renew_path", sakura["renew_path"]}}) ==
        "Add www.example.jp. {provider.retry}");
  CHECK(c.render(f, "en", "remediation", "sakura") == "Add www.example.jp at {provider.renew_path}. {provider.retry}");
}

TEST_CASE("scan_placeholders: dotted names") {
  CHECK(scan_placeholders("{provider.retry} and {name}").names == std::vector<std::string>{"provider.retry", "name"});
  CHECK(scan_placeholders("{provider.}").stray_brace == 0u);
  CHECK(scan_placeholders("{.retry}").stray_brace == 0u);
  CHECK(scan_placeholders("{a.b.c}").names == std::vector<std::string>{"a.b.c"});
}
