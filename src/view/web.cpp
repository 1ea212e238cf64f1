#include "view/web.hpp"

#include <algorithm>
#include <set>

#include "view/cert_age.hpp"
#include "view/chain.hpp"

namespace certdoctor::view {

using nlohmann::json;

namespace {

bool contains(const std::vector<std::string>& v, const std::string& s) { return std::find(v.begin(), v.end(), s) != v.end(); }

const json* find_name(const json& names, const std::string& name) {
  for (const auto& n : names)
    if (n.value("name", "") == name) return &n;
  return nullptr;
}

/// Sets each judged chain's `ca_role`: per name, the chains of the preferred family decide,
/// unless one failed to connect and the CA falls back to the other family ("fallen-back" for it,
/// "decisive" for the others); chains the CA never uses are "unused".
void assign_ca_roles(json& challenges, const facts::Facts& f, bool v6_first, const RedirectPolicy& policy) {
  for (const auto& n : f.names) {
    std::vector<std::size_t> preferred, other;
    for (std::size_t i = 0; i < challenges.size(); ++i) {
      if (challenges[i]["name"] != n.name) continue;
      const bool v6 = challenges[i]["family"] == "ipv6";
      (v6 == v6_first ? preferred : other).push_back(i);
    }
    bool fall_back = preferred.empty();
    for (auto i : preferred) {
      auto& ch = challenges[i];
      if (ch["cause"] == "unreachable" && facts::web_outcome::is_dial_error(ch["unreachable_kind"]) &&
          policy.ipv4_fallback && !other.empty()) {
        ch["ca_role"] = "fallen-back";
        fall_back = true;
      } else {
        ch["ca_role"] = "decisive";
      }
    }
    for (auto i : other) challenges[i]["ca_role"] = fall_back ? "decisive" : "unused";
  }
}

/// Names, roles and whether the DNS rules already name the address as not the hosting
/// server's, added to each judged chain.
void annotate(json& challenges, const json& names) {
  for (auto& ch : challenges) {
    const json* n = find_name(names, ch["name"]);
    ch["display"] = n ? n->value("display", "") : ch["name"].get<std::string>();
    ch["role"] = n ? n->value("role", "") : "";
    if (!ch.contains("ca_role")) ch["ca_role"] = "unused";
    ch["decisive"] = ch["ca_role"] == "decisive";
    bool off_host = false;
    if (n && n->contains("off_host"))
      for (const auto& a : (*n)["off_host"])
        if (a == ch["address"]) off_host = true;
    ch["off_host"] = off_host;
  }
}

/// Per name: the answers of its addresses side by side, and whether they differ.
json compare_addresses(const facts::Facts& f, const json& challenges, const json& names) {
  json per_name = json::array();
  for (const auto& n : f.names) {
    json answers = json::array();
    std::set<std::string> signatures;
    std::vector<std::string> servers;
    std::string proxy;
    bool fallen_back = false;
    for (const auto& ch : challenges) {
      if (ch["name"] != n.name) continue;
      if (ch["ca_role"] == "fallen-back") fallen_back = true;
      const std::string server = ch["first_server"];
      if (!server.empty() && !contains(servers, server)) servers.push_back(server);
      if (proxy.empty()) proxy = ch["proxy"];
      std::string summary = ch["cause"] == "unreachable" ? ch["unreachable_kind"].get<std::string>()
                                                          : std::to_string(ch["first_status"].get<int>());
      answers.push_back({{"address", ch["address"]}, {"family", ch["family"]}, {"summary", summary},
                         {"server", server}, {"cause", ch["cause"]}});
      if (ch["cause"] != "unreachable")
        signatures.insert(std::to_string(ch["first_status"].get<int>()) + "|" + server + "|" + ch["cause"].get<std::string>());
    }
    std::vector<std::string> answer_text;
    for (const auto& a : answers)
      answer_text.push_back(a["address"].get<std::string>() + ": " + a["summary"].get<std::string>() +
                            (a["server"].get<std::string>().empty() ? "" : " (" + a["server"].get<std::string>() + ")"));
    const json* nv = find_name(names, n.name);
    per_name.push_back({{"name", n.name}, {"display", nv ? nv->value("display", n.name) : n.name},
                        {"answers", answers}, {"answer_summary", answer_text}, {"servers", servers},
                        {"proxy", proxy}, {"discrepancy", signatures.size() > 1}, {"fallen_back", fallen_back}});
  }
  return per_name;
}

} // namespace

json derive_web(const facts::Facts& f, const json& names, const json& provider, const CaModel& ca, const DataSet& data) {
  const json& web_data = data.web();
  json profile = json::object();
  const std::string pid = provider.value("id", "");
  if (!pid.empty() && data.providers().count(pid)) profile = data.providers().at(pid).data;
  const RedirectPolicy policy = redirect_policy(ca, profile);
  const bool v6_first = ca.address_preference == "ipv6-first";

  json out;
  out["probed"] = f.web.probed;
  out["token"] = f.web.token;
  out["policy"] = policy_view(policy);

  std::vector<std::string> certified;
  for (const auto& n : f.names) certified.push_back(n.name);
  const json pages = web_data.value("block_pages", json::array());
  json challenges = json::array();
  for (const auto& c : f.web.http) challenges.push_back(judge_chain(c, policy, certified, pages));
  assign_ca_roles(challenges, f, v6_first, policy);
  annotate(challenges, names);
  out["challenges"] = challenges;
  out["names"] = compare_addresses(f, challenges, names);
  out["certs"] = derive_certs(f, names, renewal_schedule(profile), v6_first, web_data);
  return out;
}

} // namespace certdoctor::view
