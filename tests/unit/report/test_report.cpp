#include <doctest/doctest.h>

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <limits>

#include "report/report.hpp"

using namespace certdoctor;

TEST_CASE("report::verdict_of") {
  using rules::Finding;
  using rules::Severity;
  CHECK(report::verdict_of({}, true) == "ok");
  CHECK(report::verdict_of({Finding{"x", Severity::info, {}, "", ""}}, true) == "ok");
  CHECK(report::verdict_of({Finding{"x", Severity::warning, {}, "", ""}}, true) == "warning");
  CHECK(report::verdict_of({Finding{"x", Severity::warning, {}, "", ""}, Finding{"y", Severity::error, {}, "", ""}}, true) == "fail");
  CHECK(report::verdict_of({Finding{"y", Severity::error, {}, "", ""}}, false) == "incomplete");
}

TEST_CASE("report::collected_jst") {
  CHECK(report::collected_jst("2026-11-20T05:03:00Z") == "2026-11-20 14:03 JST");
  CHECK(report::collected_jst("2026-12-31T20:30:00Z") == "2027-01-01 05:30 JST");  // across the year
  CHECK(report::collected_jst("yesterday") == "yesterday");
}

TEST_CASE("report::evidence_lines") {
  namespace fs = std::filesystem;
  fs::path dir = fs::temp_directory_path() / ("certdoctor-labels-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  std::ofstream(dir / "labels.yaml") << "labels:\n  en:\n    arguments:\n      name: Name\n      address: Address\n"
                                        "      stray: Other addresses\n      filter: ~\n  ja:\n    arguments:\n"
                                        "      name: 名前\n";
  const auto labels = report::Labels::load(dir);
  fs::remove_all(dir);
  const nlohmann::json evidence = {{"stray", {"2001:db8::1", "", "198.51.100.7"}}, {"address", "203.0.113.10"},
                                   {"name", "www.example.jp"}, {"filter", "国外IPアドレスフィルタ"},
                                   {"error", "-"}, {"hops", nlohmann::json::array()}, {"count", 3}, {"lame", ""}};
  using Lines = std::vector<std::pair<std::string, std::string>>;
  SUBCASE("labelled, name first, nothing empty, texts-only arguments left out") {
    CHECK(report::evidence_lines(evidence, labels, "en") ==
          Lines{{"Name", "www.example.jp"}, {"Address", "203.0.113.10"}, {"count", "3"},
                {"Other addresses", "2001:db8::1, 198.51.100.7"}});
  }
  SUBCASE("a language without the label shows the argument's name") {
    auto lines = report::evidence_lines(evidence, labels, "ja");
    REQUIRE(lines.size() == 5);  // the filter is not marked ~ in ja
    CHECK(lines[0] == std::pair<std::string, std::string>{"名前", "www.example.jp"});
    CHECK(lines[1].first == "address");
  }
}

TEST_CASE("report::paragraphs_of") {
  namespace fs = std::filesystem;
  fs::path dir = fs::temp_directory_path() / ("certdoctor-paragraphs-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  std::ofstream(dir / "r.yaml") << R"(rules:
  - id: a-not-host
    severity: error
    source: doc
    each: names
    as: n
    arguments: {name: n.name, stray: n.stray}
    text:
      en:
        title: "{name} points to {stray}"
        remediation: {generic: "Fix {name}; `dig {name}` shows it."}
      ja:
        title: "{name} が {stray} を指しています"
        remediation: {generic: "{name} を直してください。`dig {name}` で確認できます。"}
)";
  const auto catalogue = rules::Catalogue::load({dir});
  fs::remove_all(dir);
  using rules::Finding;
  using rules::Severity;
  auto finding = [](const std::string& name, const std::string& stray) {
    return Finding{"a-not-host", Severity::error, {{"name", name}, {"stray", stray}}, "doc", ""};
  };
  const std::vector<Finding> findings = {finding("example.jp", "192.0.2.9"), finding("www.example.jp", "192.0.2.9"),
                                         finding("shop.example.jp", "192.0.2.7")};
  auto rendered_in = [&](const std::string& lang) {
    std::vector<report::RenderedFinding> out;
    for (const auto& f : findings)
      out.push_back({f.id, "error", catalogue.render(f, lang, "title", "generic", {}),
                     catalogue.render(f, lang, "remediation", "generic", {}), f.arguments, f.source, "", ""});
    return out;
  };
  SUBCASE("the same finding for apex and www is one paragraph; another address stays apart") {
    auto p = report::paragraphs_of(findings, catalogue, rendered_in("en"), "en", "generic", {});
    REQUIRE(p.size() == 2);
    CHECK(p[0].title == "example.jp (and www.example.jp) points to 192.0.2.9");
    CHECK(p[0].remediation == "Fix example.jp (and www.example.jp); `dig example.jp` (and `dig www.example.jp`) shows it.");
    CHECK(p[0].evidence["name"] == nlohmann::json{"example.jp", "www.example.jp"});
    CHECK(p[1].title == "shop.example.jp points to 192.0.2.7");
  }
  SUBCASE("Japanese joins with 、") {
    auto p = report::paragraphs_of(findings, catalogue, rendered_in("ja"), "ja", "generic", {});
    REQUIRE(p.size() == 2);
    CHECK(p[0].title == "example.jp、www.example.jp が 192.0.2.9 を指しています");
    CHECK(p[0].remediation == "example.jp、www.example.jp を直してください。`dig example.jp`、`dig www.example.jp` で確認できます。");
  }
}

TEST_CASE("report::order_by_cause") {
  namespace fs = std::filesystem;
  fs::path dir = fs::temp_directory_path() / ("certdoctor-cause-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  auto rule = [](const std::string& id, const std::string& follows) {
    return "  - id: " + id + "\n    severity: error\n    source: doc\n" +
           (follows.empty() ? "" : "    follows_from: [" + follows + "]\n") +
           "    text: {en: {title: t, remediation: {generic: r}}}\n";
  };
  std::ofstream(dir / "r.yaml") << "rules:\n" + rule("ns-lame", "") + rule("dns-servfail", "ns-lame") +
                                        rule("caa-lookup-failed", "missing-rule, dns-servfail") + rule("other", "") +
                                        rule("loop-a", "loop-b") + rule("loop-b", "loop-a");
  const auto catalogue = rules::Catalogue::load({dir});
  fs::remove_all(dir);
  auto ids = [](const std::vector<report::RenderedFinding>& v) {
    std::vector<std::string> out;
    for (const auto& f : v) out.push_back(f.id + (f.follows.empty() ? "" : "<" + f.follows));
    return out;
  };
  auto finding = [](const std::string& id) { return report::RenderedFinding{id, "error", "", "", {}, "", "", ""}; };
  SUBCASE("what follows from a cause comes right after it, chains included") {
    std::vector<report::RenderedFinding> v = {finding("caa-lookup-failed"), finding("other"), finding("dns-servfail"),
                                              finding("ns-lame")};
    report::order_by_cause(v, catalogue);
    CHECK(ids(v) == std::vector<std::string>{"other", "ns-lame", "dns-servfail<ns-lame", "caa-lookup-failed<dns-servfail"});
  }
  SUBCASE("without its cause a finding stays where it was") {
    std::vector<report::RenderedFinding> v = {finding("dns-servfail"), finding("other")};
    report::order_by_cause(v, catalogue);
    CHECK(ids(v) == std::vector<std::string>{"dns-servfail", "other"});
  }
  SUBCASE("a cycle explains nothing") {
    std::vector<report::RenderedFinding> v = {finding("loop-a"), finding("other"), finding("loop-b")};
    report::order_by_cause(v, catalogue);
    REQUIRE(v.size() == 3);
    CHECK(v[1].id == "other");
    CHECK(v[0].id == "loop-a");
  }
}

TEST_CASE("report::render_ndjson: written as nlohmann's dump() writes the document") {
  report::Report r;
  r.domain = "example.jp";
  r.domain_display = "例え.jp";
  r.verdict = "ok";
  r.lang = "ja";
  std::string controls;
  for (int c = 0; c < 0x20; ++c) controls += static_cast<char>(c);
  r.facts = {{"controls", controls},
             {"quotes and slashes", "\"a\\b/c\" \x7f"},
             {"utf-8", "日本語 ü"},
             {"empty", {{"object", nlohmann::json::object()}, {"array", nlohmann::json::array()}, {"string", ""}}},
             {"numbers", {0, -1, 42, std::numeric_limits<std::int64_t>::min(), std::numeric_limits<std::uint64_t>::max(),
                          0.5, 1.0, -2.25e-7, 1e300, 12.345}},
             {"other", {true, false, nullptr}},
             {"nested", {{"b", {{"z", 1}, {"a", {1, 2, {{"k", "v"}}}}}}, {"a", "first"}}},
             {"\"key\"\twith\nescapes", "x"}};
  nlohmann::json expected = report::render_json(r);
  expected["line"] = 3;
  CHECK(report::render_ndjson(r, 3) == expected.dump());

  SUBCASE("invalid UTF-8 is refused as dump() refuses it") {
    r.facts = {{"bad", "\xff\xfe"}};
    CHECK_THROWS_AS(report::render_ndjson(r, 1), nlohmann::json::type_error);
    r.facts = nlohmann::json::object();
    r.domain = "bad\xc3";
    CHECK_THROWS_AS(report::render_ndjson(r, 1), nlohmann::json::type_error);
  }
}
