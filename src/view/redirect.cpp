#include "view/redirect.hpp"

#include <algorithm>

#include "util/error.hpp"
#include "util/url.hpp"

namespace certdoctor::view {

using nlohmann::json;

namespace {

template <typename T>
bool contains(const std::vector<T>& v, const T& x) { return std::find(v.begin(), v.end(), x) != v.end(); }

} // namespace

RedirectPolicy redirect_policy(const CaModel& ca, const json& provider_profile) {
  RedirectPolicy p;
  auto apply = [&](const json& http01, const std::string& file, bool from_provider) {
    if (!http01.is_object()) return;
    try {
      if (http01.contains("ipv4_fallback")) p.ipv4_fallback = http01["ipv4_fallback"].get<bool>();
      const json r = http01.value("redirects", json::object());
      if (!r.is_object()) return;
      bool changed = false;
      if (r.contains("max_hops")) p.max_hops = r["max_hops"].get<int>(), changed = true;
      if (r.contains("schemes")) p.schemes = r["schemes"].get<std::vector<std::string>>(), changed = true;
      if (r.contains("ports")) {
        if (r["ports"].is_string() && r["ports"] == "any") p.ports.clear();
        else p.ports = r["ports"].get<std::vector<int>>();
        changed = true;
      }
      if (r.contains("statuses")) p.statuses = r["statuses"].get<std::vector<int>>(), changed = true;
      if (r.contains("to_ip_address")) p.to_ip_address = r["to_ip_address"].get<bool>(), changed = true;
      if (from_provider && changed) p.overridden_by = provider_profile.value("id", "");
    } catch (const json::exception&) {
      throw ConfigError(file + ": http01.redirects: max_hops must be a whole number, schemes a list of names, "
                        "ports a list of numbers or 'any', statuses a list of numbers");
    }
  };
  apply(ca.data.value("http01", json::object()), ca.file, false);
  if (provider_profile.is_object()) apply(provider_profile.value("http01", json::object()), "provider profile", true);
  return p;
}

json policy_view(const RedirectPolicy& p) {
  return {{"max_hops", p.max_hops}, {"schemes", p.schemes}, {"ports", p.ports}, {"statuses", p.statuses},
          {"ipv4_fallback", p.ipv4_fallback}, {"to_ip_address", p.to_ip_address}, {"overridden_by", p.overridden_by}};
}

Violation check_redirect(const facts::HttpExchange& hop, std::size_t index, const RedirectPolicy& policy) {
  if (!contains(policy.statuses, hop.status)) return {"status", std::to_string(hop.status), hop.url};
  const auto target = parse_url(hop.next_url);
  if (!target || target->host.empty() || !contains(policy.schemes, target->scheme))
    return {"scheme", hop.next_url, hop.next_url};
  if (!policy.ports.empty() && !contains(policy.ports, target->port))
    return {"port", std::to_string(target->port), hop.next_url};
  const bool ip_literal = target->host.find(':') != std::string::npos ||
                          target->host.find_first_not_of("0123456789.") == std::string::npos;
  if (ip_literal && !policy.to_ip_address) return {"ip-address", target->host, hop.next_url};
  if (static_cast<int>(index) + 1 > policy.max_hops) return {"too-many", std::to_string(policy.max_hops), hop.next_url};
  return {};
}

} // namespace certdoctor::view
