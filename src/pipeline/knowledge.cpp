#include "pipeline/knowledge.hpp"

#include <cstdlib>
#include <system_error>

#include <yaml-cpp/yaml.h>

#include "util/compact.hpp"
#include "util/error.hpp"
#include "util/yaml.hpp"

namespace certdoctor::pipeline {

namespace fs = std::filesystem;
using nlohmann::json;

fs::path base_rules_dir() {
  if (const char* env = std::getenv("CERTDOCTOR_RULES_DIR"); env && *env) return env;
  fs::path source = CERTDOCTOR_SOURCE_RULES_DIR;
  std::error_code ec;
  if (fs::is_directory(source, ec)) return source;
  return fs::path(CERTDOCTOR_DATA_DIR) / "rules";
}

fs::path reports_dir() {
  if (const char* env = std::getenv("CERTDOCTOR_REPORTS_DIR"); env && *env) return env;
  fs::path source = fs::path(CERTDOCTOR_SOURCE_RULES_DIR).parent_path() / "reports";
  std::error_code ec;
  if (fs::is_directory(source, ec)) return source;
  return fs::path(CERTDOCTOR_DATA_DIR) / "reports";
}

std::vector<fs::path> rules_dirs(const std::vector<std::string>& extra) {
  std::vector<fs::path> dirs{base_rules_dir()};
  for (const auto& d : extra) {
    std::error_code ec;
    if (!fs::is_directory(d, ec)) throw UsageError(Message{"rules-dir-missing", {{"value", d}}});
    dirs.emplace_back(d);
  }
  return dirs;
}

namespace {

std::vector<fs::path> data_dirs(const std::vector<fs::path>& dirs) {
  std::vector<fs::path> out;
  for (const auto& d : dirs) out.push_back(d / "data");
  return out;
}

json load_sources(json out, const std::vector<fs::path>& dirs) {
  for (const auto& d : dirs) {
    auto file = d / "sources.yaml";
    std::error_code ec;
    if (!fs::exists(file, ec)) continue;
    try {
      auto node = YAML::LoadFile(file.string());
      json sources = yaml_to_json(node["sources"]);
      if (!sources.is_object()) throw ConfigError(file.string() + ":1: expected a 'sources:' map");
      for (auto& [k, v] : sources.items()) out[k] = v;
    } catch (const YAML::Exception& e) {
      throw yaml_error(file, e);
    }
  }
  return out;
}

} // namespace

Knowledge Knowledge::from_files(const std::vector<std::string>& extra) {
  Knowledge k;
  k.dirs = rules_dirs(extra);
  k.data = view::DataSet::load(k.dirs);
  k.catalogue = rules::Catalogue::load(k.dirs);
  k.classifier = view::address::AddressClassifier::load(data_dirs(k.dirs));
  k.labels = report::Labels::load(reports_dir());
  k.sources = load_sources(json::object(), k.dirs);
  return k;
}

namespace {

// The first bytes of the built-in form; a form of another layout is refused, not misread.
constexpr std::string_view kFormMagic = "certdoctor rules data 2";

} // namespace

Knowledge::Knowledge(const std::vector<std::string>& extra, std::span<const std::uint8_t> built_in) : dirs(rules_dirs(extra)) {
  CompactReader form(built_in, "built-in rules data");
  if (form.get_string() != kFormMagic) form.fail("not the form this program writes");
  // Only --rules-dir directories are read from files; the built-in one is in `form`.
  const std::vector<fs::path> overlays(dirs.begin() + 1, dirs.end());
  try {
    catalogue = rules::Catalogue::load(rules::Catalogue::read(form), overlays);
    data = view::DataSet::load(view::DataSet::from_json(form.get_json()), overlays);
    classifier = view::address::AddressClassifier::load(view::address::AddressClassifier::from_json(form.get_json()),
                                                        data_dirs(overlays));
    labels = report::Labels::from_json(form.get_json());
    sources = load_sources(form.get_json(), overlays);
  } catch (const json::exception& e) {
    throw ConfigError(std::string("built-in rules data: ") + e.what());
  }
  if (!form.at_end()) form.fail("bytes after the end");
}

std::vector<std::uint8_t> Knowledge::built_in_form() const {
  CompactWriter w;
  w.put_string(kFormMagic);
  catalogue.write(w);
  w.put_json(data.to_json());
  w.put_json(classifier.to_json());
  w.put_json(labels.to_json());
  w.put_json(sources);
  return w.take();
}

bool Knowledge::same_data(const Knowledge& o) const {
  return data == o.data && catalogue == o.catalogue && classifier == o.classifier && labels == o.labels && sources == o.sources;
}


} // namespace certdoctor::pipeline
