#include "view/block_page.hpp"

#include <vector>

#include "util/text.hpp"

namespace certdoctor::view {

using nlohmann::json;

namespace {

std::vector<std::string> strings_of(const json& j) {
  std::vector<std::string> out;
  if (j.is_array())
    for (const auto& v : j)
      if (v.is_string()) out.push_back(v.get<std::string>());
  return out;
}

bool shows(const facts::HttpExchange& hop, const json& page) {
  for (const auto& m : strings_of(page.value("server", json::array())))
    if (contains_nocase(hop.server, m)) return true;
  for (const auto& m : strings_of(page.value("body", json::array())))
    if (contains_nocase(hop.body_excerpt, m)) return true;
  return false;
}

} // namespace

json recognise_page(const facts::HttpExchange& hop, const json& pages) {
  if (!pages.is_array()) return nullptr;
  for (const auto& p : pages)
    if (p.is_object() && shows(hop, p))
      return {{"id", p.value("id", "")}, {"name", p.value("name", "")}, {"kind", p.value("kind", "")}};
  return nullptr;
}

std::string recognise_proxy(const facts::HttpChallenge& chain, const json& pages) {
  if (!pages.is_array()) return "";
  for (const auto& h : chain.hops)
    for (const auto& p : pages)
      if (p.is_object() && p.value("kind", "") == "cdn" && shows(h, p)) return p.value("name", "");
  return "";
}

} // namespace certdoctor::view
