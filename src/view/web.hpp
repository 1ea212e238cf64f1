#pragma once
// The web part of the view, put together from its parts: each recorded challenge chain judged
// with the CA's redirect policy (view/chain, view/redirect), which chains the CA would use (IPv6
// first, IPv4 after a dial error), how the addresses of one name differ, block pages recognised
// (view/block_page), and the served certificates measured (view/cert_age). Pure: no I/O.
#include <nlohmann/json.hpp>

#include "facts/facts.hpp"
#include "view/address.hpp"
#include "view/data.hpp"
#include "view/redirect.hpp"

namespace certdoctor::view {

/// The view's "web" object; `names` is the view's names array (for display forms, roles, the
/// addresses the DNS rules name as not the host's); certificate ages count from the facts' time;
/// `classifier` tells reserved addresses (a redirect to one is refused).
nlohmann::json derive_web(const facts::Facts& facts, const nlohmann::json& names, const nlohmann::json& provider,
                          const CaModel& ca, const DataSet& data, const address::AddressClassifier& classifier);

} // namespace certdoctor::view
