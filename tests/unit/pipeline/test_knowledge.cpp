#include <doctest/doctest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "../temp_dir.hpp"
#include "pipeline/knowledge.hpp"

using certdoctor::pipeline::Knowledge;
using certdoctor::pipeline::builtin_data;
namespace fs = std::filesystem;

namespace {

// Sets an environment variable for the scope, then removes it again.
struct ScopedEnv {
  const char* name;
  ScopedEnv(const char* n, const std::string& value) : name(n) { setenv(name, value.c_str(), 1); }
  ~ScopedEnv() { unsetenv(name); }
};

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

} // namespace

TEST_CASE("pipeline::Knowledge: the data compiled into the binary equals what the source tree's files give") {
  REQUIRE(std::getenv("CERTDOCTOR_RULES_DIR") == nullptr);
  REQUIRE(std::getenv("CERTDOCTOR_REPORTS_DIR") == nullptr);
  REQUIRE(!builtin_data().empty());
  const Knowledge files = Knowledge::from_files({});
  const Knowledge built_in({}, builtin_data());
  // Not an empty comparison: the catalogue, the profiles, the address blocks and the labels are there.
  REQUIRE(files.catalogue.rules().size() > 30);
  REQUIRE(files.data.providers().count("sakura") == 1);
  REQUIRE(files.classifier.classify("192.0.2.1").reserved);
  REQUIRE(files.labels.find("ja", "verdicts.fail") != nullptr);
  CHECK(built_in.same_data(files));
  CHECK(built_in.dirs == files.dirs);
  // The constructor the commands use takes the compiled-in data.
  CHECK(Knowledge(std::vector<std::string>{}).same_data(files));
}

TEST_CASE("pipeline::Knowledge: a --rules-dir overlay gives the same over the compiled-in data as over the files") {
  const std::vector<std::string> lab{CERTDOCTOR_LAB_RULES_DIR};
  const Knowledge files = Knowledge::from_files(lab);
  const Knowledge built_in(lab, builtin_data());
  CHECK(built_in.same_data(files));
  CHECK(built_in.dirs.size() == 2);
  CHECK(!built_in.same_data(Knowledge({}, builtin_data())));  // the lab's CDN range is there
}

TEST_CASE("pipeline::Knowledge: the compiled form keeps every line and text of the files") {
  TempDir tmp;
  const fs::path rules = tmp.path() / "rules";
  fs::copy(CERTDOCTOR_SOURCE_RULES_DIR, rules, fs::copy_options::recursive);
  const std::string reports = (fs::path(CERTDOCTOR_SOURCE_RULES_DIR).parent_path() / "reports").string();
  ScopedEnv r("CERTDOCTOR_RULES_DIR", rules.string());
  ScopedEnv l("CERTDOCTOR_REPORTS_DIR", reports);
  const Knowledge copy = Knowledge::from_files({});
  // Read back from its own compiled form, the copy is the same, file names included.
  const auto form = copy.built_in_form();
  CHECK(Knowledge({}, form).same_data(copy));
  // With the variables set, the commands' constructor parses those files.
  CHECK(Knowledge(std::vector<std::string>{}).same_data(copy));
  CHECK(!copy.same_data(Knowledge({}, builtin_data())));  // other file names

  // One line more at the top of a rule file moves every rule in it: the lines differ.
  const fs::path dns = rules / "dns.yaml";
  const std::string text = slurp(dns);
  std::ofstream(dns, std::ios::binary) << "# one line more\n" << text;
  CHECK(!Knowledge::from_files({}).same_data(copy));
  // One word of a text differs.
  std::ofstream(dns, std::ios::binary) << text;
  REQUIRE(Knowledge::from_files({}).same_data(copy));
  const fs::path sakura = rules / "providers" / "sakura.yaml";
  std::string profile = slurp(sakura);
  const auto at = profile.find("id: sakura");
  REQUIRE(at != std::string::npos);
  profile.insert(profile.find('\n', at), "\n  extra_field: 1");
  std::ofstream(sakura, std::ios::binary) << profile;
  CHECK(!Knowledge::from_files({}).same_data(copy));
}

TEST_CASE("pipeline::Knowledge: a damaged compiled form is refused, not misread") {
  const auto span = builtin_data();
  const std::vector<std::uint8_t> form(span.begin(), span.end());
  // Cut short anywhere (a few places across the catalogue, the data, the labels): a ConfigError.
  for (std::size_t n : {std::size_t{0}, std::size_t{10}, form.size() / 3, form.size() / 2, form.size() - 1}) {
    const std::vector<std::uint8_t> cut(form.begin(), form.begin() + static_cast<long>(n));
    CHECK_THROWS_WITH_AS(Knowledge({}, cut), doctest::Contains("built-in rules data"), certdoctor::ConfigError);
  }
  // Another layout (its first bytes differ) and trailing bytes.
  std::vector<std::uint8_t> other = form;
  other[5] ^= 1;
  CHECK_THROWS_WITH_AS(Knowledge({}, other), doctest::Contains("not the form"), certdoctor::ConfigError);
  std::vector<std::uint8_t> longer = form;
  longer.push_back(0);
  CHECK_THROWS_WITH_AS(Knowledge({}, longer), doctest::Contains("bytes after the end"), certdoctor::ConfigError);
}

TEST_CASE("pipeline::Knowledge: the expressions of the compiled form evaluate as those parsed from the files") {
  const Knowledge files = Knowledge::from_files({});
  const Knowledge built_in({}, builtin_data());
  REQUIRE(files.catalogue.rules().size() == built_in.catalogue.rules().size());
  // The view of an empty object: every expression evaluates (to the same value) or fails alike.
  const nlohmann::json view = nlohmann::json::object();
  std::size_t compared = 0;
  for (std::size_t i = 0; i < files.catalogue.rules().size(); ++i) {
    const auto& a = files.catalogue.rules()[i];
    const auto& b = built_in.catalogue.rules()[i];
    REQUIRE(a.arguments.size() == b.arguments.size());
    for (std::size_t j = 0; j < a.arguments.size(); ++j) {
      CHECK(a.arguments[j].value.expr.free_paths() == b.arguments[j].value.expr.free_paths());
      std::string ea, eb;
      nlohmann::json va, vb;
      try { va = a.arguments[j].value.expr.evaluate(view); } catch (const std::exception& e) { ea = e.what(); }
      try { vb = b.arguments[j].value.expr.evaluate(view); } catch (const std::exception& e) { eb = e.what(); }
      CHECK(va == vb);
      CHECK(ea == eb);
      ++compared;
    }
  }
  CHECK(compared > 100);
}
