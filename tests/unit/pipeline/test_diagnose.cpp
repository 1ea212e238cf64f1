#include <doctest/doctest.h>

#include <fstream>
#include <sstream>
#include <stdexcept>

#include "pipeline/check.hpp"
#include "report/html.hpp"

using namespace certdoctor;

TEST_CASE("pipeline::diagnose: the HTML picture is made only when asked, and every other format is the same without it") {
  const pipeline::Knowledge k(std::vector<std::string>{CERTDOCTOR_LAB_RULES_DIR});
  // Saved facts of lab checks: one that passes, one with redirects and several addresses.
  for (const char* name : {"caa-ok.jp-4d6b5f23.json", "http-redirect-500.jp-4d6b5f23.json"}) {
    CAPTURE(name);
    std::ifstream in(std::string(CERTDOCTOR_SAVED_FACTS_DIR) + "/" + name, std::ios::binary);
    REQUIRE(in);
    std::stringstream text;
    text << in.rdbuf();
    const facts::Facts f = facts::parse_document(text.str(), name);
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
