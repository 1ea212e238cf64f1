#include "util/yaml.hpp"

#include <cctype>
#include <exception>

namespace certdoctor {

nlohmann::json yaml_to_json(const YAML::Node& node) {
  switch (node.Type()) {
  case YAML::NodeType::Null:
  case YAML::NodeType::Undefined: return nullptr;
  case YAML::NodeType::Sequence: {
    auto arr = nlohmann::json::array();
    for (const auto& item : node) arr.push_back(yaml_to_json(item));
    return arr;
  }
  case YAML::NodeType::Map: {
    auto obj = nlohmann::json::object();
    for (const auto& kv : node) obj[kv.first.as<std::string>()] = yaml_to_json(kv.second);
    return obj;
  }
  case YAML::NodeType::Scalar: break;
  }
  const std::string& s = node.Scalar();
  // A quoted scalar stays a string ("0" is a label, 0 is a number).
  if (node.Tag() == "!") return s;
  if (s == "true" || s == "false") return s == "true";
  if (s == "null" || s == "~") return nullptr;
  if (!s.empty() && (std::isdigit(static_cast<unsigned char>(s[0])) || s[0] == '-')) {
    std::size_t used = 0;
    try {
      long long i = std::stoll(s, &used);
      if (used == s.size()) return i;
      double d = std::stod(s, &used);
      if (used == s.size()) return d;
    } catch (const std::exception&) {
    }
  }
  return s;
}

std::string yaml_where(const std::filesystem::path& file, const YAML::Node& node) {
  return file.string() + ":" + std::to_string(node.Mark().line + 1);
}

ConfigError yaml_error(const std::filesystem::path& file, const YAML::Exception& e) {
  return ConfigError(file.string() + ":" + std::to_string(e.mark.line + 1) + ": " + e.msg);
}

YAML::Node load_yaml_file(const std::filesystem::path& file) {
  try {
    return YAML::LoadFile(file.string());
  } catch (const YAML::Exception& e) {
    throw yaml_error(file, e);
  }
}

std::vector<std::string> string_list(const nlohmann::json& list) {
  std::vector<std::string> out;
  if (list.is_array())
    for (const auto& v : list)
      if (v.is_string()) out.push_back(v.get<std::string>());
  return out;
}

} // namespace certdoctor
