#include "pipeline/knowledge.hpp"

#include <cstdlib>
#include <system_error>

#include <yaml-cpp/yaml.h>

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

json load_sources(const std::vector<fs::path>& dirs) {
  json out = json::object();
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

Knowledge::Knowledge(const std::vector<std::string>& extra)
      : dirs(rules_dirs(extra)),
        data(view::DataSet::load(dirs)),
        catalogue(rules::Catalogue::load(dirs)),
        classifier(view::address::AddressClassifier::load(data_dirs(dirs))),
        labels(report::Labels::load(reports_dir())),
        sources(load_sources(dirs)) {}


} // namespace certdoctor::pipeline
