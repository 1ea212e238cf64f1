#pragma once
// Block pages and proxies recognised in an HTTP answer, from the markers of
// rules/data/web.yaml `block_pages` (a word in the Server header or in the body). Pure.
#include <string>

#include <nlohmann/json.hpp>

#include "facts/web.hpp"

namespace certdoctor::view {

/// The block page `hop`'s answer is, as {id, name, kind} from `pages` (the data's list), or null
/// when no page's markers match.
nlohmann::json recognise_page(const facts::HttpExchange& hop, const nlohmann::json& pages);

/// The name of the CDN (a page of kind "cdn") whose markers any hop of `chain` shows, "" when
/// none: a proxy that only redirects to https shows itself on the first hop, not on the last.
std::string recognise_proxy(const facts::HttpChallenge& chain, const nlohmann::json& pages);

} // namespace certdoctor::view
