#include "view/block_page.hpp"

#include "util/yaml.hpp"

#include <vector>

#include "util/text.hpp"

namespace certdoctor::view {

using nlohmann::json;

namespace {

bool shows(const facts::HttpExchange& hop, const json& page) {
  for (const auto& m : string_list(page.value("server", json::array())))
    if (contains_nocase(hop.server, m)) return true;
  for (const auto& m : string_list(page.value("body", json::array())))
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
