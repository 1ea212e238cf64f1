#include "view/redirect.hpp"

#include <algorithm>

#include "util/domain.hpp"
#include "util/error.hpp"
#include "util/text.hpp"
#include "util/url.hpp"

namespace certdoctor::view {

using nlohmann::json;

namespace {

template <typename T>
bool contains(const std::vector<T>& v, const T& x) { return std::find(v.begin(), v.end(), x) != v.end(); }

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

} // namespace

double chain_budget_seconds(const CaModel& ca) {
  const json http01 = ca.data.value("http01", json::object());
  if (!http01.is_object() || !http01.contains("chain_budget_seconds") || http01["chain_budget_seconds"].is_null()) return 0;
  const json& v = http01["chain_budget_seconds"];
  if (!v.is_number() || v.get<double>() <= 0)
    throw ConfigError(ca.file + ": http01.chain_budget_seconds must be a positive number of seconds");
  return v.get<double>();
}

RedirectPolicy redirect_policy(const CaModel& ca, const json& provider_profile) {
  RedirectPolicy p;
  p.chain_budget_seconds = chain_budget_seconds(ca);
  auto apply = [&](const json& http01, const std::string& file, bool from_provider) {
    if (!http01.is_object()) return;
    try {
      if (http01.contains("ipv4_fallback")) p.ipv4_fallback = http01["ipv4_fallback"].get<bool>();
      if (http01.contains("fallback_scope")) p.fallback_scope = http01["fallback_scope"].get<std::string>();
      const json r = http01.value("redirects", json::object());
      if (!r.is_object()) return;
      bool changed = false;
      // max_hops is the older name of max_followed (same meaning: redirects followed).
      for (const char* key : {"max_hops", "max_followed"})
        if (r.contains(key)) p.max_followed = r[key].get<int>(), changed = true;
      if (r.contains("follows")) p.follows = r["follows"].get<std::vector<int>>(), changed = true;
      for (const char* key : {"statuses", "allowed"})
        if (r.contains(key)) p.statuses = r[key].get<std::vector<int>>(), changed = true;
      if (r.contains("schemes")) p.schemes = r["schemes"].get<std::vector<std::string>>(), changed = true;
      if (r.contains("ports")) {
        if (r["ports"].is_string() && r["ports"] == "any") p.ports.clear();
        else p.ports = r["ports"].get<std::vector<int>>();
        changed = true;
      }
      if (r.contains("to_ip_address")) p.ip_literals = r["to_ip_address"].get<bool>() ? "any" : "never", changed = true;
      if (r.contains("ip_literals")) p.ip_literals = r["ip_literals"].get<std::string>(), changed = true;
      if (r.contains("reject_empty_host")) p.reject_empty_host = r["reject_empty_host"].get<bool>(), changed = true;
      if (r.contains("reject_host_suffixes"))
        p.reject_host_suffixes = r["reject_host_suffixes"].get<std::vector<std::string>>(), changed = true;
      if (r.contains("require_icann_suffix")) p.require_icann_suffix = r["require_icann_suffix"].get<bool>(), changed = true;
      if (r.contains("max_path_bytes"))
        p.max_path_bytes = r["max_path_bytes"].is_null() ? 0 : r["max_path_bytes"].get<int>(), changed = true;
      if (r.contains("loop_detection")) p.loop_detection = r["loop_detection"].get<std::string>() != "none", changed = true;
      if (from_provider && changed) p.overridden_by = provider_profile.value("id", "");
      if (http01.contains("status_must_be")) p.status_must_be = http01["status_must_be"].get<int>();
      if (const json b = http01.value("body", json::object()); b.is_object()) {
        if (b.contains("max_bytes")) p.body_max_bytes = b["max_bytes"].is_null() ? 0 : b["max_bytes"].get<std::size_t>();
        if (b.contains("trim_trailing")) p.body_trim = b["trim_trailing"].get<std::string>();
      }
    } catch (const json::exception&) {
      throw ConfigError(file + ": http01.redirects: max_followed must be a whole number, schemes a list of names, "
                        "ports a list of numbers or 'any', follows and allowed lists of numbers, ip_literals a name; "
                        "http01.status_must_be a number, body.max_bytes a number or null, body.trim_trailing text");
    }
    if (p.ip_literals != "never" && p.ip_literals != "unless-reserved" && p.ip_literals != "any")
      throw ConfigError(file + ": http01.redirects.ip_literals: '" + p.ip_literals +
                        "' is not one of never, unless-reserved, any");
    if (p.fallback_scope != "initial-replay" && p.fallback_scope != "per-hop")
      throw ConfigError(file + ": http01.fallback_scope: '" + p.fallback_scope + "' is not one of initial-replay, per-hop");
  };
  apply(ca.data.value("http01", json::object()), ca.file, false);
  if (provider_profile.is_object()) apply(provider_profile.value("http01", json::object()), "provider profile", true);
  return p;
}

json policy_view(const RedirectPolicy& p) {
  return {{"max_followed", p.max_followed}, {"max_hops", p.max_followed}, {"follows", p.follows},
          {"statuses", p.statuses}, {"schemes", p.schemes}, {"ports", p.ports}, {"ip_literals", p.ip_literals},
          {"to_ip_address", p.ip_literals != "never"}, {"reject_empty_host", p.reject_empty_host},
          {"reject_host_suffixes", p.reject_host_suffixes}, {"require_icann_suffix", p.require_icann_suffix},
          {"max_path_bytes", p.max_path_bytes}, {"loop_detection", p.loop_detection},
          {"ipv4_fallback", p.ipv4_fallback}, {"fallback_scope", p.fallback_scope},
          {"status_must_be", p.status_must_be}, {"body_max_bytes", p.body_max_bytes}, {"body_trim", p.body_trim},
          {"chain_budget_seconds", p.chain_budget_seconds}, {"overridden_by", p.overridden_by}};
}

std::string trim_body(const std::string& body, const RedirectPolicy& policy) {
  std::string out = body;
  if (policy.body_trim != "unicode-space") {
    const auto end = out.find_last_not_of(policy.body_trim);
    out.erase(end == std::string::npos ? 0 : end + 1);
    return out;
  }
  // unicode.IsSpace: ASCII \t \n \v \f \r and space, U+0085, U+00A0, U+1680, U+2000..U+200A,
  // U+2028, U+2029, U+202F, U+205F, U+3000 (UTF-8 encoded).
  static const std::vector<std::string> wide{"\xc2\x85", "\xc2\xa0", "\xe1\x9a\x80", "\xe2\x80\xa8", "\xe2\x80\xa9",
                                             "\xe2\x80\xaf", "\xe2\x81\x9f", "\xe3\x80\x80"};
  for (bool cut = true; cut && !out.empty();) {
    cut = false;
    if (std::string(" \t\n\v\f\r").find(out.back()) != std::string::npos) {
      out.pop_back();
      cut = true;
      continue;
    }
    for (const auto& w : wide)
      if (ends_with(out, w)) {
        out.erase(out.size() - w.size());
        cut = true;
        break;
      }
    if (!cut && out.size() >= 3 && out.compare(out.size() - 3, 2, "\xe2\x80") == 0 &&
        static_cast<unsigned char>(out.back()) >= 0x80 && static_cast<unsigned char>(out.back()) <= 0x8a) {
      out.erase(out.size() - 3);  // U+2000..U+200A
      cut = true;
    }
  }
  return out;
}

bool is_key_authorization(const std::string& body, const std::string& token) {
  if (token.empty() || body.size() != token.size() + 1 + 43 || body.compare(0, token.size(), token) != 0 ||
      body[token.size()] != '.')
    return false;
  return std::all_of(body.begin() + static_cast<long>(token.size()) + 1, body.end(), [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
  });
}

std::string ca_target_url(const facts::HttpExchange& hop) {
  const auto u = parse_url(hop.location);
  if (!u) return hop.next_url;  // relative: resolved by the probe (RFC 3986 §5)
  const auto sep = hop.location.find("://");
  std::string rest = hop.location.substr(sep + 3);
  const auto end = rest.find_first_of("/?#");
  const std::string authority = rest.substr(0, end);
  return u->scheme + "://" + lower(authority) + (end == std::string::npos ? "" : rest.substr(end));
}

// The order is Boulder's (va/http.go @2d00c8e): processRedirect checks the count, then the
// status; extractRequestTarget then the scheme, the port, an empty host, a ".well-known" host,
// an IP literal (zone, reserved), the ICANN suffix; processRedirect then the path length and the
// loop. None of them resolves the host: all run before DNS.
Violation check_redirect(const facts::HttpExchange& hop, const RedirectPolicy& policy, const RedirectContext& ctx) {
  const std::string target_url = ca_target_url(hop);
  // processRedirect: "if numRedirects > maxRedirect" before counting, i.e. the redirect after
  // max_followed ones fails ("Too many redirects").
  if (ctx.followed + 1 > policy.max_followed)
    return {"too-many", std::to_string(policy.max_followed), hop.next_url};
  // processRedirect: acceptableRedirects ("received disallowed redirect status code").
  if (!contains(policy.statuses, hop.status)) return {"status", std::to_string(hop.status), hop.url};
  // The target as Go's url.Parse reads the Location (libcurl reads "http:///x" as the host "x").
  const auto target = parse_url(target_url);
  // extractRequestTarget: "Invalid protocol scheme in redirect target".
  if (!target || !contains(policy.schemes, target->scheme))
    return {"scheme", target ? target->scheme : hop.next_url, hop.next_url};
  // extractRequestTarget: an explicit port must be the HTTP or the HTTPS port, whatever the scheme.
  if (!policy.ports.empty() && !contains(policy.ports, target->port))
    return {"port", std::to_string(target->port), hop.next_url};
  // extractRequestTarget: "Invalid empty host in redirect target".
  if (target->host.empty()) return {policy.reject_empty_host ? "empty-host" : "scheme", "", hop.next_url};
  // extractRequestTarget: "Check webserver config for missing '/' in redirect target".
  for (const auto& suffix : policy.reject_host_suffixes)
    if (ends_with(target->host, suffix)) return {"well-known-host", target->host, hop.next_url};
  if (target->ip_literal()) {
    if (policy.ip_literals == "never") return {"ip-address", target->host, hop.next_url};
    // extractRequestTarget: "contains scope zone", then "IP address is in a reserved address block".
    if (policy.ip_literals == "unless-reserved") {
      if (!target->zone.empty()) return {"reserved-ip", target->host + "%" + target->zone, hop.next_url};
      if (ctx.reserved_block && !ctx.reserved_block(target->host).empty())
        return {"reserved-ip", target->host, hop.next_url};
    }
  } else if (policy.require_icann_suffix && !has_icann_suffix(target->host)) {
    // extractRequestTarget: iana.ExtractSuffix ("must end in IANA registered TLD").
    return {"tld", target->host, hop.next_url};
  }
  // processRedirect: maxPathSize ("Redirect target too long"), over the decoded path.
  if (policy.max_path_bytes > 0 && target->decoded_path_bytes() > static_cast<std::size_t>(policy.max_path_bytes))
    return {"too-long", std::to_string(target->decoded_path_bytes()), hop.next_url};
  // processRedirect: the URL string against every record so far ("Redirect loop detected").
  if (policy.loop_detection && ctx.visited && contains(*ctx.visited, target_url)) return {"loop", "", hop.next_url};
  return {};
}

} // namespace certdoctor::view
