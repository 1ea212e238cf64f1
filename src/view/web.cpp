#include "view/web.hpp"

#include "util/text.hpp"

#include <algorithm>
#include <cmath>
#include <set>

#include "util/error.hpp"

namespace certdoctor::view {

using nlohmann::json;

namespace {

bool contains(const std::vector<std::string>& v, const std::string& s) { return std::find(v.begin(), v.end(), s) != v.end(); }

// The connection-level failures after which Boulder tries the other address family.
bool connect_failure(const std::string& outcome) {
  return outcome == "refused" || outcome == "connect-timeout" || outcome == "unreachable";
}

bool no_answer(const std::string& outcome) {
  return outcome == "refused" || outcome == "connect-timeout" || outcome == "timeout" || outcome == "reset" ||
         outcome == "unresolved" || outcome == "unreachable" || outcome == "tls-error" || outcome == "not-sent" ||
         outcome == "error" || outcome == "too-large";
}

std::vector<std::string> strings_of(const json& j) {
  std::vector<std::string> out;
  if (j.is_array())
    for (const auto& v : j)
      if (v.is_string()) out.push_back(v.get<std::string>());
  return out;
}

/// The block page a hop's answer is, from the data's markers; null when none matches.
json recognise_page(const facts::HttpExchange& hop, const json& pages) {
  if (!pages.is_array()) return nullptr;
  for (const auto& p : pages) {
    if (!p.is_object()) continue;
    bool hit = false;
    for (const auto& m : strings_of(p.value("server", json::array())))
      if (contains_nocase(hop.server, m)) hit = true;
    for (const auto& m : strings_of(p.value("body", json::array())))
      if (contains_nocase(hop.body_excerpt, m)) hit = true;
    if (hit)
      return {{"id", p.value("id", "")}, {"name", p.value("name", "")}, {"kind", p.value("kind", "")}};
  }
  return nullptr;
}

// A certificate name matches a host name exactly or as a wildcard over one label (RFC 6125 §6.4.3).
bool cert_name_matches(const std::string& pattern, const std::string& host) {
  if (pattern == host) return true;
  if (pattern.rfind("*.", 0) == 0) {
    auto dot = host.find('.');
    return dot != std::string::npos && host.substr(dot) == pattern.substr(1);
  }
  return false;
}

std::int64_t days_between(std::int64_t from, std::int64_t to) {
  return static_cast<std::int64_t>(std::floor(static_cast<double>(to - from) / 86400.0));
}

const json* find_name(const json& names, const std::string& name) {
  for (const auto& n : names)
    if (n.value("name", "") == name) return &n;
  return nullptr;
}

/// The chain judged with the redirect policy: where it ends for the CA and why.
json judge_chain(const facts::HttpChallenge& c, const RedirectPolicy& policy, const std::vector<std::string>& certified,
                 const json& pages) {
  json out;
  out["name"] = c.name;
  out["family"] = c.family;
  out["address"] = c.address;
  out["url"] = c.url;
  out["stop"] = c.stop;
  json hops = json::array();
  std::string violation, violation_detail, violation_url, offsite_host, offsite_url;
  std::size_t end = c.hops.empty() ? 0 : c.hops.size() - 1;
  for (std::size_t i = 0; i < c.hops.size(); ++i) {
    const auto& h = c.hops[i];
    hops.push_back({{"url", h.url}, {"address", h.address}, {"outcome", h.outcome}, {"status", h.status},
                    {"location", h.location}, {"server", h.server}});
    const bool redirect = h.outcome == "response" && h.status >= 300 && h.status < 400 && !h.next_url.empty();
    if (!redirect) {
      end = i;
      break;
    }
    if (std::find(policy.statuses.begin(), policy.statuses.end(), h.status) == policy.statuses.end()) {
      violation = "status";
      violation_detail = std::to_string(h.status);
      violation_url = h.url;
      end = i;
      break;
    }
    std::string scheme, host;
    int port = 0;
    if (!split_url(h.next_url, scheme, host, port) || !contains(policy.schemes, scheme)) {
      violation = "scheme";
      violation_detail = h.next_url;
      violation_url = h.next_url;
      end = i;
      break;
    }
    if (!policy.ports.empty() && std::find(policy.ports.begin(), policy.ports.end(), port) == policy.ports.end()) {
      violation = "port";
      violation_detail = std::to_string(port);
      violation_url = h.next_url;
      end = i;
      break;
    }
    const bool ip_literal = host.find(':') != std::string::npos ||
                            (!host.empty() && host.find_first_not_of("0123456789.") == std::string::npos);
    if (ip_literal && !policy.to_ip_address) {
      violation = "ip-address";
      violation_detail = host;
      violation_url = h.next_url;
      end = i;
      break;
    }
    if (static_cast<int>(i) + 1 > policy.max_hops) {
      violation = "too-many";
      violation_detail = std::to_string(policy.max_hops);
      violation_url = h.next_url;
      end = i;
      break;
    }
    if (!contains(certified, host) && offsite_host.empty()) {
      offsite_host = host;
      offsite_url = h.next_url;
    }
    end = i + 1;
  }
  if (violation.empty() && !c.hops.empty() && end >= c.hops.size() - 1) {
    const auto& last = c.hops.back();
    const bool last_redirect = last.outcome == "response" && last.status >= 300 && last.status < 400;
    if (c.stop == "loop") {
      violation = "loop";
      violation_url = last.next_url;
    } else if (c.stop == "hop-limit") {
      violation = "too-many";
      violation_detail = std::to_string(policy.max_hops);
      violation_url = last.next_url;
    } else if (c.stop == "no-location" || (last_redirect && last.next_url.empty())) {
      violation = "no-location";
      violation_url = last.url;
    } else if (c.stop == "scheme") {
      violation = "scheme";
      violation_detail = last.next_url;
      violation_url = last.next_url;
    }
  }
  out["hops"] = hops;
  // For people: the chain in one line, the token shortened, long chains cut in the middle.
  {
    std::vector<std::string> parts;
    for (const auto& h : c.hops) {
      std::string u = h.url;
      const std::string marker = "/.well-known/acme-challenge/";
      if (auto p = u.find(marker); p != std::string::npos && u.size() > p + marker.size() + 8)
        u = u.substr(0, p + marker.size()) + u.substr(p + marker.size(), 6) + "...";
      parts.push_back((h.outcome == "response" ? std::to_string(h.status) : h.outcome) + " " + u);
    }
    std::string line;
    const std::size_t n = parts.size();
    for (std::size_t i = 0; i < n; ++i) {
      if (n > 5 && i == 2) {
        line += " -> ... (" + std::to_string(n - 4) + " more) ...";
        i = n - 3;
        continue;
      }
      line += (line.empty() ? "" : " -> ") + parts[i];
    }
    out["hops_summary"] = line;
  }
  // Redirects followed: `end` is the index of the hop the chain ends at for the CA, or the number
  // of hops when every hop was a redirect (a loop, the probe's hop limit).
  out["redirects"] = static_cast<int>(std::min(end, c.hops.size()));
  out["violation"] = violation;
  out["violation_detail"] = violation_detail;
  out["violation_url"] = violation_url;
  out["offsite"] = !offsite_host.empty();
  out["offsite_host"] = offsite_host;
  out["offsite_url"] = offsite_url;

  facts::HttpExchange none;
  const facts::HttpExchange& last = c.hops.empty() ? none : c.hops[std::min(end, c.hops.size() - 1)];
  out["final"] = {{"url", last.url}, {"address", last.address}, {"outcome", last.outcome}, {"status", last.status},
                  {"server", last.server}, {"content_type", last.content_type}, {"body_bytes", last.body_bytes},
                  {"body_truncated", last.body_truncated}, {"error", last.error}};
  json page = recognise_page(last, pages);
  out["block_page"] = page;
  out["block_page_name"] = page.is_null() ? "" : page["name"].get<std::string>();
  out["block_page_kind"] = page.is_null() ? "" : page["kind"].get<std::string>();
  // A proxy in front of the site: a CDN's page or Server header on any hop (a proxy that only
  // redirects to https shows itself on the first hop, not on the final answer).
  std::string proxy;
  for (const auto& h : c.hops) {
    if (!proxy.empty()) break;
    if (pages.is_array())
      for (const auto& p : pages) {
        if (!p.is_object() || p.value("kind", "") != "cdn") continue;
        bool hit = false;
        for (const auto& m : strings_of(p.value("server", json::array())))
          if (contains_nocase(h.server, m)) hit = true;
        for (const auto& m : strings_of(p.value("body", json::array())))
          if (contains_nocase(h.body_excerpt, m)) hit = true;
        if (hit) {
          proxy = p.value("name", "");
          break;
        }
      }
  }
  out["proxy"] = proxy;
  out["first_server"] = c.hops.empty() ? "" : c.hops.front().server;
  out["first_status"] = c.hops.empty() ? 0 : c.hops.front().status;
  out["first_outcome"] = c.hops.empty() ? "not-sent" : c.hops.front().outcome;

  // The cause of the outcome, most fundamental first.
  std::string cause;
  if (!violation.empty()) cause = "redirect-invalid";
  else if (!offsite_host.empty()) cause = "offsite";
  else if (c.hops.empty() || no_answer(last.outcome)) cause = "unreachable";
  else if (last.status == 401 || last.status == 403) cause = "restricted";
  else if (last.status >= 500) cause = "server-error";
  else if (last.status == 200 && last.body_truncated) cause = "oversized";
  else if (!page.is_null() && page["kind"] != "cdn") cause = "block-page";
  else if (last.status == 404 || (last.status >= 200 && last.status < 300)) cause = "ok";
  else cause = "unexpected-status";
  out["cause"] = cause;
  out["unreachable_kind"] = cause == "unreachable" ? (c.hops.empty() ? std::string("not-sent") : last.outcome) : "";
  return out;
}

} // namespace

bool split_url(const std::string& url, std::string& scheme, std::string& host, int& port) {
  auto colon = url.find("://");
  if (colon == std::string::npos) return false;
  scheme = lower(url.substr(0, colon));
  std::string rest = url.substr(colon + 3);
  auto end = rest.find_first_of("/?#");
  std::string authority = rest.substr(0, end);
  if (auto at = authority.rfind('@'); at != std::string::npos) authority = authority.substr(at + 1);
  std::string port_text;
  if (!authority.empty() && authority.front() == '[') {
    auto close = authority.find(']');
    if (close == std::string::npos) return false;
    host = authority.substr(1, close - 1);
    if (close + 1 < authority.size() && authority[close + 1] == ':') port_text = authority.substr(close + 2);
  } else {
    auto c = authority.rfind(':');
    host = authority.substr(0, c);
    if (c != std::string::npos) port_text = authority.substr(c + 1);
  }
  host = lower(host);
  if (!host.empty() && host.back() == '.') host.pop_back();
  if (host.empty()) return false;
  if (port_text.empty()) {
    if (scheme == "http") port = 80;
    else if (scheme == "https") port = 443;
    else port = 0;
  } else {
    if (port_text.size() > 5 || port_text.find_first_not_of("0123456789") != std::string::npos) return false;
    port = std::stoi(port_text);
  }
  return true;
}

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

json derive_web(const facts::Facts& f, const json& names, const json& provider, const CaModel& ca, const DataSet& data) {
  const json& web_data = data.web();
  json profile = json::object();
  const std::string pid = provider.value("id", "");
  if (!pid.empty() && data.providers().count(pid)) profile = data.providers().at(pid).data;
  RedirectPolicy policy = redirect_policy(ca, profile);

  json out;
  out["probed"] = f.web.probed;
  out["token"] = f.web.token;
  out["policy"] = {{"max_hops", policy.max_hops}, {"schemes", policy.schemes}, {"ports", policy.ports},
                   {"statuses", policy.statuses}, {"ipv4_fallback", policy.ipv4_fallback},
                   {"to_ip_address", policy.to_ip_address},
                   {"overridden_by", policy.overridden_by}};
  std::vector<std::string> certified;
  for (const auto& n : f.names) certified.push_back(n.name);
  const json pages = web_data.value("block_pages", json::array());

  // Chains judged, then the CA's use of each: the preferred family's chains decide, unless a
  // chain failed to connect and the CA falls back to the other family.
  json challenges = json::array();
  for (const auto& c : f.web.http) challenges.push_back(judge_chain(c, policy, certified, pages));
  const bool v6_first = ca.address_preference == "ipv6-first";
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
      if (ch["cause"] == "unreachable" && connect_failure(ch["unreachable_kind"]) && policy.ipv4_fallback && !other.empty()) {
        ch["ca_role"] = "fallen-back";
        fall_back = true;
      } else {
        ch["ca_role"] = "decisive";
      }
    }
    for (auto i : other) challenges[i]["ca_role"] = fall_back ? "decisive" : "unused";
  }
  for (auto& ch : challenges) {
    const json* n = find_name(names, ch["name"]);
    ch["display"] = n ? n->value("display", "") : ch["name"].get<std::string>();
    ch["role"] = n ? n->value("role", "") : "";
    if (!ch.contains("ca_role")) ch["ca_role"] = "unused";
    ch["decisive"] = ch["ca_role"] == "decisive";
    // An address the DNS rules already name as not the hosting server's.
    bool off_host = false;
    if (n && n->contains("off_host"))
      for (const auto& a : (*n)["off_host"])
        if (a == ch["address"]) off_host = true;
    ch["off_host"] = off_host;
  }
  out["challenges"] = challenges;

  // Per name: the answers of its addresses side by side.
  json per_name = json::array();
  for (const auto& n : f.names) {
    json answers = json::array();
    std::set<std::string> signatures;
    std::vector<std::string> servers;
    json proxy = nullptr;
    bool fallen_back = false;
    for (const auto& ch : challenges) {
      if (ch["name"] != n.name) continue;
      if (ch["ca_role"] == "fallen-back") fallen_back = true;
      const std::string server = ch["first_server"];
      if (!server.empty() && !contains(servers, server)) servers.push_back(server);
      if (proxy.is_null() && ch["proxy"] != "") proxy = ch["proxy"];
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
                        {"proxy", proxy.is_null() ? "" : proxy}, {"discrepancy", signatures.size() > 1},
                        {"fallen_back", fallen_back}});
  }
  out["names"] = per_name;

  // Certificates: one TLS probe per name, the first address that completed a handshake (in the
  // CA's order), else the first probe.
  const auto collected = facts::parse_utc_time(f.collected_at);
  const json cert_data = web_data.value("certificates", json::object());
  const int expiring_days = cert_data.value("expiring_days", 14);
  int renewal_point = -1;
  std::string renewal_kind;
  std::vector<int> attempts;  // the provider's renewal attempts, days before expiry, latest first
  if (profile.is_object() && profile.contains("renewal") && profile["renewal"].is_object()) {
    const json& r = profile["renewal"];
    if (r.contains("attempts_days_before_expiry") && r["attempts_days_before_expiry"].is_array() &&
        !r["attempts_days_before_expiry"].empty()) {
      for (const auto& d : r["attempts_days_before_expiry"])
        if (d.is_number_integer()) {
          renewal_point = std::max(renewal_point, d.get<int>());
          attempts.push_back(d.get<int>());
        }
      std::sort(attempts.rbegin(), attempts.rend());
      renewal_kind = "attempts";
    } else if (r.contains("notice_days_before_expiry") && r["notice_days_before_expiry"].is_number_integer()) {
      renewal_point = r["notice_days_before_expiry"].get<int>();
      renewal_kind = "notice";
    }
  }
  const json revoked = web_data.value("revoked_intermediates", json::array());
  json certs = json::array();
  for (const auto& n : f.names) {
    const facts::TlsProbe* chosen = nullptr;
    std::vector<const facts::TlsProbe*> mine;
    for (const auto& t : f.web.tls)
      if (t.name == n.name) mine.push_back(&t);
    std::stable_sort(mine.begin(), mine.end(), [&](const facts::TlsProbe* a, const facts::TlsProbe* b) {
      return (a->family == "ipv6") == v6_first && (b->family == "ipv6") != v6_first;
    });
    for (const auto* t : mine)
      if (t->outcome == "handshake" && !t->chain.empty()) {
        chosen = t;
        break;
      }
    if (!chosen && !mine.empty()) chosen = mine.front();
    if (!chosen) continue;
    const json* nv = find_name(names, n.name);
    json c = {{"name", n.name}, {"display", nv ? nv->value("display", n.name) : n.name}, {"role", n.role},
              {"address", chosen->address}, {"outcome", chosen->outcome}, {"error", chosen->error},
              {"verified", chosen->verified}, {"verify_error", chosen->verify_error}, {"has_leaf", false},
              {"days_left", nullptr}, {"expired", false}, {"covers_name", false}, {"leaf", nullptr},
              {"issuer_cn", ""}, {"not_after", ""}, {"not_before", ""}, {"revoked_intermediate", nullptr},
              {"renewal_point_days", renewal_point < 0 ? json(nullptr) : json(renewal_point)},
              {"renewal_kind", renewal_kind}, {"renewal_attempts_days", attempts},
              {"renewal_next_days", nullptr}, {"renewal_next_date", ""}, {"expiring", false}, {"not_renewed", false},
              {"newer_in_ct", nullptr}, {"not_renewed_reason", ""}, {"expired_days_ago", 0},
              {"names_on_certificate", json::array()}, {"chain_subjects", json::array()}};
    std::vector<std::string> addresses;
    for (const auto* t : mine) addresses.push_back(t->address);
    c["addresses"] = addresses;
    if (chosen->outcome == "handshake" && !chosen->chain.empty()) {
      const auto& leaf = chosen->chain.front();
      c["has_leaf"] = true;
      c["leaf"] = leaf;
      c["issuer_cn"] = leaf.issuer_cn;
      c["not_after"] = leaf.not_after;
      c["not_before"] = leaf.not_before;
      for (const auto& cert : chosen->chain) c["chain_subjects"].push_back(cert.subject_cn);
      bool covers = false;
      for (const auto& dn : leaf.dns_names)
        if (cert_name_matches(dn, n.name)) covers = true;
      c["covers_name"] = covers;
      c["names_on_certificate"] = leaf.dns_names;
      const auto not_after = facts::parse_utc_time(leaf.not_after);
      const auto not_before = facts::parse_utc_time(leaf.not_before);
      if (collected && not_after) {
        const auto left = days_between(*collected, *not_after);
        c["days_left"] = left;
        c["expired"] = *not_after < *collected;
        const bool expired = *not_after < *collected;
        c["expiring"] = !expired && left < expiring_days;
        c["not_renewed"] = !expired && renewal_point >= 0 && left >= expiring_days && left < renewal_point;
        if (c["not_renewed"].get<bool>()) c["not_renewed_reason"] = "schedule";
        c["expired_days_ago"] = expired ? -left : 0;
        // The provider's next scheduled attempt: the first one not yet passed (today's counts).
        if (!expired)
          for (int d : attempts)
            if (d <= left) {
              c["renewal_next_days"] = d;
              c["renewal_next_date"] = facts::format_utc_time(*not_after - std::int64_t{d} * 86400).substr(0, 10);
              break;
            }
      }
      // An intermediate on the revoked list, for a leaf issued in the affected period.
      for (const auto& r : revoked) {
        if (!r.is_object()) continue;
        auto from = facts::parse_utc_time(r.value("issued_from", ""));
        auto until = facts::parse_utc_time(r.value("issued_until", ""));
        bool in_period = not_before && (!from || *not_before >= *from) && (!until || *not_before <= *until);
        if (!in_period) continue;
        for (std::size_t i = 1; i < chosen->chain.size(); ++i)
          if (contains(strings_of(r.value("subject_cn", json::array())), chosen->chain[i].subject_cn)) {
            c["revoked_intermediate"] = {{"id", r.value("id", "")}, {"subject_cn", chosen->chain[i].subject_cn},
                                         {"revoked_on", r.value("revoked_on", "")}};
            break;
          }
        if (!c["revoked_intermediate"].is_null()) break;
      }
      // A newer certificate for this name in Certificate Transparency: issued, never installed.
      if (not_before) {
        for (const auto& ct : f.ct.certificates) {
          auto nb = facts::parse_utc_time(ct.not_before);
          if (!nb || *nb <= *not_before + 86400) continue;
          if (!contains(ct.names, n.name)) continue;
          if (c["newer_in_ct"].is_null() || ct.not_before > c["newer_in_ct"]["not_before"].get<std::string>())
            c["newer_in_ct"] = {{"serial", ct.serial}, {"not_before", ct.not_before}, {"issuer", ct.issuer}};
        }
        if (!c["newer_in_ct"].is_null() && !c["expired"].get<bool>()) {
          c["not_renewed"] = true;
          c["not_renewed_reason"] = "not-installed";
          c["expiring"] = false;
        }
      }
    }
    certs.push_back(c);
  }
  out["certs"] = certs;
  return out;
}

} // namespace certdoctor::view
