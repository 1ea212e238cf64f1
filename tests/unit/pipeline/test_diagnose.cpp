#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "pipeline/check.hpp"
#include "report/html.hpp"

using namespace certdoctor;

namespace {

// The facts of a saved facts file of the tests (tests/e2e/facts), read as `explain` reads it.
facts::Facts read_saved(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  REQUIRE(in);
  std::stringstream text;
  text << in.rdbuf();
  return facts::parse_document(text.str(), path);
}

// Calls fn(facts) for every saved facts file; returns how many there were.
template <class Fn>
std::size_t each_saved(Fn fn) {
  std::size_t n = 0;
  for (const auto& entry : std::filesystem::directory_iterator(CERTDOCTOR_SAVED_FACTS_DIR)) {
    if (entry.path().extension() != ".json") continue;
    CAPTURE(entry.path().string());
    fn(read_saved(entry.path().string()));
    ++n;
  }
  return n;
}

} // namespace

TEST_CASE("pipeline::diagnose: the HTML picture is made only when asked, and every other format is the same without it") {
  const pipeline::Knowledge k(std::vector<std::string>{CERTDOCTOR_LAB_RULES_DIR});
  // Saved facts of lab checks: one that passes, one with redirects and several addresses.
  for (const char* name : {"caa-ok.jp-4d6b5f23.json", "http-redirect-500.jp-4d6b5f23.json"}) {
    CAPTURE(name);
    const facts::Facts f = read_saved(std::string(CERTDOCTOR_SAVED_FACTS_DIR) + "/" + name);
    for (const std::string lang : {"ja", "en"}) {
      const auto with = pipeline::diagnose(f, k, lang);
      const auto without = pipeline::diagnose(f, k, lang, {.picture = false});
      CHECK(with.report.picture.is_object());
      CHECK(!with.report.picture.empty());
      CHECK(without.report.picture.is_null());
      CHECK(report::render_json(with.report) == report::render_json(without.report));
      CHECK(report::render_text(with.report, k.labels, 80, false) == report::render_text(without.report, k.labels, 80, false));
      CHECK(report::render_markdown(with.report, k.labels) == report::render_markdown(without.report, k.labels));
      CHECK(with.findings == without.findings);
      CHECK(report::render_html(with.report, k.labels).find("class=\"hops") != std::string::npos);
      // A page without its drawings is a caller's mistake, not a page.
      CHECK_THROWS_AS(report::render_html(without.report, k.labels), std::logic_error);
      CHECK_THROWS_AS(report::render_html_section(without.report, k.labels, "c0-"), std::logic_error);
    }
  }
}

TEST_CASE("report::render_ndjson: a batch's line is render_json's document with the line number, compact") {
  const pipeline::Knowledge k(std::vector<std::string>{});
  std::size_t compared = 0;
  each_saved([&](const facts::Facts& f) {
    for (const std::string lang : {"ja", "en"}) {
      const auto d = pipeline::diagnose(f, k, lang, {.picture = false});
      nlohmann::json expected = report::render_json(d.report);
      expected["line"] = compared + 1;
      CHECK(report::render_ndjson(d.report, compared + 1) == expected.dump());
      ++compared;
    }
  });
  CHECK(compared >= 200);  // every saved facts file, in both languages
}

TEST_CASE("pipeline::diagnose: with view_facts off, the report takes the view's facts and every output is the same") {
  const pipeline::Knowledge k(std::vector<std::string>{});
  const std::size_t compared = each_saved([&](const facts::Facts& f) {
    const auto kept = pipeline::diagnose(f, k, "en", {.picture = false});
    const auto taken = pipeline::diagnose(f, k, "en", {.picture = false, .view_facts = false});
    REQUIRE(kept.view.contains("facts"));
    CHECK(!taken.view.contains("facts"));
    CHECK(taken.report.facts == kept.view["facts"]);
    nlohmann::json view = kept.view;
    view.erase("facts");
    CHECK(taken.view == view);
    CHECK(report::render_json(taken.report) == report::render_json(kept.report));
    CHECK(report::render_ndjson(taken.report, 7) == report::render_ndjson(kept.report, 7));
    CHECK(report::render_text(taken.report, k.labels, 80, false) == report::render_text(kept.report, k.labels, 80, false));
  });
  CHECK(compared >= 100);  // every saved facts file
}
