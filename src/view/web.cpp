#include "view/web.hpp"

#include <algorithm>
#include <functional>
#include <set>

#include "view/cert_age.hpp"
#include "view/chain.hpp"
#include "view/default_site.hpp"

namespace certdoctor::view {

using nlohmann::json;

namespace {

bool contains(const std::vector<std::string>& v, const std::string& s) { return std::find(v.begin(), v.end(), s) != v.end(); }

const json* find_name(const json& names, const std::string& name) {
  for (const auto& n : names)
    if (n.value("name", "") == name) return &n;
  return nullptr;
}

/// The index of the hop where a chain failed to dial (refused, unreachable, connect timeout),
/// or -1 when it did not end that way.
int dial_failure_hop(const facts::HttpChallenge& c) {
  if (c.hops.empty() || !facts::web_outcome::is_dial_error(c.hops.back().outcome)) return -1;
  return static_cast<int>(c.hops.size()) - 1;
}

/// Sets each judged chain's `ca_role`: per name, the chains of the preferred family decide,
/// unless one failed to dial and the CA falls back to the other family ("fallen-back" for it,
/// "decisive" for the others); chains the CA never uses are "unused". Boulder's fallback
/// (va/http.go processHTTPValidation, fallbackErr) replays the whole chain from the start on the
/// first A address, keeping the URLs and the redirect count of the first attempt: after a dial
/// error at hop k >= 1 the IPv4 chain is judged again with them (`rejudge`), where a redirect to a
/// URL of the first attempt is a loop.
void assign_ca_roles(json& challenges, const facts::Facts& f, bool v6_first, const RedirectPolicy& policy,
                     const std::function<json(std::size_t, const Replay*)>& rejudge) {
  for (const auto& n : f.names) {
    std::vector<std::size_t> preferred, other;
    for (std::size_t i = 0; i < challenges.size(); ++i) {
      if (challenges[i]["name"] != n.name) continue;
      const bool v6 = challenges[i]["family"] == "ipv6";
      (v6 == v6_first ? preferred : other).push_back(i);
    }
    bool fall_back = preferred.empty();
    const Replay* replay = nullptr;
    Replay first_attempt;
    json replay_from;
    for (auto i : preferred) {
      auto& ch = challenges[i];
      const int k = dial_failure_hop(f.web.http[i]);
      if (ch["cause"] == "unreachable" && k >= 0 && policy.ipv4_fallback && !other.empty()) {
        ch["ca_role"] = "fallen-back";
        fall_back = true;
        if (!replay) {
          // The retry runs under the same deadline as the first attempt (Boulder: one context
          // for processHTTPValidation): what the first attempt took is spent.
          first_attempt.spent_ms = std::max(0.0, f.web.http[i].elapsed_ms);
          replay = &first_attempt;
        }
        if (k >= 1 && policy.fallback_scope == "initial-replay" && first_attempt.visited.empty()) {
          first_attempt.visited = visited_urls(f.web.http[i], static_cast<std::size_t>(k));
          first_attempt.followed = k;
          const auto& hop = f.web.http[i].hops[static_cast<std::size_t>(k)];
          replay_from = {{"address", ch["address"]}, {"url", hop.url}, {"outcome", hop.outcome}, {"hop", k}};
        }
      } else {
        ch["ca_role"] = "decisive";
      }
    }
    for (auto i : other) {
      if (fall_back && replay) {
        challenges[i] = rejudge(i, replay);
        if (!replay_from.is_null()) challenges[i]["replay_from"] = replay_from;
      }
      challenges[i]["ca_role"] = fall_back ? "decisive" : "unused";
    }
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
    // The hosting server (not an address the DNS rules already name as elsewhere) answers the
    // name with its default site: the domain is not set up on it.
    ch["no_site"] = !off_host && ch["unknown_host"]["verdict"] == "default-site";
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

json derive_web(const facts::Facts& f, const json& names, const json& provider, const CaModel& ca, const DataSet& data,
                const address::AddressClassifier& classifier) {
  const json& web_data = data.web();
  // The profile's and the web data's parts are read where the data set holds them, not copied.
  const json no_profile = json::object();
  const std::string pid = provider.value("id", "");
  const json& profile = !pid.empty() && data.providers().count(pid) ? data.providers().at(pid).data : no_profile;
  const RedirectPolicy policy = redirect_policy(ca, profile);
  const bool v6_first = ca.address_preference == "ipv6-first";

  json out;
  out["probed"] = f.web.probed;
  out["token"] = f.web.token;
  out["policy"] = policy_view(policy);

  std::vector<std::string> certified;
  for (const auto& n : f.names) certified.push_back(n.name);
  const json no_pages = json::array();
  const json& pages = web_data.contains("block_pages") ? web_data["block_pages"] : no_pages;
  // Boulder refuses a redirect to an address of the IANA special-purpose registries; in lab mode
  // (--allow-reserved) documentation and private addresses count as public, as for DNS answers.
  const bool allow_reserved = f.request.allow_reserved;
  const auto reserved_block = [&](const std::string& address) -> std::string {
    const auto c = classifier.classify(address);
    if (!classifier.unreachable_for_ca(c, allow_reserved)) return "";
    return c.block_name.empty() ? "reserved" : c.block_name;
  };
  const auto judge = [&](std::size_t i, const Replay* replay) {
    return judge_chain(f.web.http[i], policy, certified, pages, reserved_block, replay);
  };
  json challenges = json::array();
  const json no_default_site;
  const json& default_site = profile.contains("default_site") ? profile["default_site"] : no_default_site;
  const auto judge_all = [&](std::size_t i, const Replay* replay) {
    json ch = judge(i, replay);
    ch["unknown_host"] = judge_unknown_host(f.web.http[i], default_site);
    return ch;
  };
  for (std::size_t i = 0; i < f.web.http.size(); ++i) challenges.push_back(judge_all(i, nullptr));
  assign_ca_roles(challenges, f, v6_first, policy, judge_all);
  annotate(challenges, names);
  const json& judged = out["challenges"] = std::move(challenges);
  out["names"] = compare_addresses(f, judged, names);
  out["certs"] = derive_certs(f, names, renewal_schedule(profile), v6_first, web_data);
  return out;
}

} // namespace certdoctor::view
