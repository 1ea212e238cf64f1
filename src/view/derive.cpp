#include "view/derive.hpp"
#include "view/web.hpp"

#include <algorithm>
#include <map>
#include <memory>
#include <mutex>
#include <regex>
#include <set>
#include <tuple>

#include "view/caa.hpp"
#include "util/error.hpp"
#include "util/text.hpp"
#include "view/propagation.hpp"
#include "view/ratelimit.hpp"

namespace certdoctor::view {

namespace {

using nlohmann::json;

bool failed(const facts::Lookup& l) { return l.failed(); }

// A question to one of our recursive resolvers that did not complete on our side: never sent
// (our deadline, our politeness limits, our address policy), no response from our resolver in
// time, our resolver unreachable, or a local error. None of these says anything about the
// domain: the question's answer is unknown. (A resolver that cannot reach the domain's servers
// answers SERVFAIL, which is evidence; silence from our own resolver is not.)
bool unfinished_recursive(const facts::Lookup& l) {
  const std::string& o = l.outcome;
  return o == "timeout" || o == "not-sent" || o == "error" || o == "connection-refused" || o == "not-allowed";
}

// One line naming a question that did not complete, for the diagnosis' list of what could not
// be checked: "AAAA www.example.jp @192.0.2.53: timeout".
std::string unfinished_text(const facts::Lookup& l) {
  return l.qtype + " " + l.qname + (l.server.empty() ? std::string() : " @" + l.server) + ": " + l.outcome;
}

// RFC 8914 codes 1-12 are DNSSEC problems (unsupported algorithm ... no Zone Key bit set).
bool dnssec_ede(const facts::Lookup& l) {
  return std::any_of(l.ede.begin(), l.ede.end(), [](const facts::ExtendedErrorFact& e) { return e.code >= 1 && e.code <= 12; });
}

std::string ede_text(const facts::Lookup& l) {
  std::string out;
  for (const auto& e : l.ede)
    out += (out.empty() ? "" : "; ") + std::string("EDE ") + std::to_string(e.code) + (e.text.empty() ? "" : " (" + e.text + ")");
  return out;
}

bool contains(const std::vector<std::string>& v, const std::string& s) { return std::find(v.begin(), v.end(), s) != v.end(); }

bool ns_matches_profile(const std::string& ns, const ProviderProfile& p) {
  if (contains(p.nameservers, ns)) return true;
  return std::any_of(p.nameserver_patterns.begin(), p.nameserver_patterns.end(),
                     [&](const std::string& pat) { return glob_match(pat, ns); });
}

std::vector<std::string> delegation_ns(const facts::DelegationFacts& d) {
  std::vector<std::string> all = d.parent_ns;
  for (const auto& n : d.child_ns)
    if (!contains(all, n)) all.push_back(n);
  return all;
}

// Which provider hosts the domain: the user's word first, then the nameserver names, then a
// provider whose own nameservers answer authoritatively for the domain (the customer moved
// the nameservers elsewhere but the zone still exists at the provider).
json detect_provider(const facts::Facts& f, const DataSet& data) {
  json out = {{"id", "generic"}, {"source", "default"}, {"name", nullptr}, {"profile", nullptr}, {"dns_operator", nullptr}};
  const auto all_ns = delegation_ns(f.delegation);
  std::string by_ns;
  for (const auto& [id, prof] : data.providers())
    for (const auto& ns : all_ns)
      if (by_ns.empty() && ns_matches_profile(ns, prof)) by_ns = id;
  if (!by_ns.empty()) out["dns_operator"] = by_ns;

  std::string chosen, source;
  if (f.request.provider != "auto" && !f.request.provider.empty()) {
    data.provider(f.request.provider);  // throws for an unknown id
    chosen = f.request.provider;
    source = "option";
  } else if (!by_ns.empty() && by_ns != "generic") {
    chosen = by_ns;
    source = "nameservers";
  } else {
    for (const auto& pn : f.provider_nameservers) {
      if (!chosen.empty()) break;
      for (const auto& n : f.names) {
        if (n.role != "main") continue;
        for (const auto* list : {&n.provider_a, &n.provider_aaaa})
          for (const auto& l : *list)
            if (l.aa && l.outcome == "answer" && contains(pn.nameservers, l.server_name)) chosen = pn.provider;
      }
    }
    if (!chosen.empty()) source = "provider-answer";
  }
  if (chosen.empty() || !data.providers().count(chosen)) {
    if (data.providers().count("generic")) out["profile"] = data.providers().at("generic").data;
    return out;
  }
  const auto& prof = data.providers().at(chosen);
  out["id"] = chosen;
  out["source"] = source;
  out["profile"] = prof.data;
  out["name"] = prof.data.contains("name") ? prof.data["name"] : json(chosen);
  return out;
}

std::string join(const std::vector<std::string>& v, const std::string& sep) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : sep) + s;
  return out;
}

std::string without_dot(std::string name) {
  if (!name.empty() && name.back() == '.') name.pop_back();
  return name;
}

std::vector<std::string> lookup_addresses(const facts::Lookup& l) {
  return l.outcome == "answer" ? l.values(l.qtype) : std::vector<std::string>{};
}

// A pattern compiled once per process: the regex is a function of the pattern's text alone (the
// profiles' server-name patterns, a handful), and a compiled std::regex may be matched by
// several threads at once.
const std::regex& compiled(const std::string& pattern) {
  static std::mutex mutex;
  static std::map<std::string, std::unique_ptr<const std::regex>> patterns;
  std::lock_guard lock(mutex);
  auto& re = patterns[pattern];
  if (!re) re = std::make_unique<const std::regex>(pattern, std::regex::icase);  // may throw: nothing kept
  return *re;
}

bool matches_any(const std::vector<std::string>& patterns, const std::string& name) {
  for (const auto& p : patterns) {
    try {
      if (std::regex_match(name, compiled(p))) return true;
    } catch (const std::regex_error&) {
      // The loader rejects patterns that do not compile.
    }
  }
  return false;
}

// The hosting server, from every source that can name it independently of the records under
// test. Each source is listed in `sources` with what it said and how strong it is:
//   certain  the source names the server's addresses (--server-ip, the account's own name at
//            the provider, a forward-confirmed PTR with the provider's server-name pattern, the
//            provider's nameservers when they are not the domain's)
//   against  the address is not the provider's shared server (a forward-confirmed PTR naming
//            another host)
//   none     the source said nothing usable (a PTR that does not lead back, an account name
//            that does not resolve, the provider's nameservers serving this very zone)
// `addresses` is --server-ip when given, else every address a certain source names, else the
// profile's static list.
json learn_host(const facts::Facts& f, const json& provider, const DataSet& data, bool ns_is_provider) {
  json out = {{"addresses", json::array()}, {"source", "none"}, {"known", false}, {"asked", json::array()},
              {"provider_zone_addresses", json::array()}, {"sources", json::array()}, {"how", json::array()},
              {"not_host", json::array()}, {"not_host_names", json::array()}};
  const std::string pid = provider["id"];
  const ProviderProfile* prof = data.providers().count(pid) ? &data.providers().at(pid) : nullptr;
  std::vector<std::string> certain, how;
  std::string first_source;
  auto add_source = [&](const std::string& source, const std::string& strength, const std::vector<std::string>& addrs,
                        const std::string& name, const std::string& said) {
    out["sources"].push_back({{"source", source}, {"strength", strength}, {"addresses", addrs}, {"name", name}, {"said", said}});
    if (strength != "certain") return;
    if (first_source.empty()) first_source = source;
    for (const auto& a : addrs)
      if (!contains(certain, a)) certain.push_back(a);
  };

  if (!f.request.server_ips.empty()) {
    add_source("option", "certain", f.request.server_ips, "", "");
    how.push_back("--server-ip");
  }

  // The account's own name at the provider (the detected one; any provider when none was
  // recognised).
  for (const auto& acc : f.accounts) {
    if (pid != "generic" && acc.provider != pid) continue;
    std::vector<std::string> addrs = lookup_addresses(acc.a);
    for (const auto& a : lookup_addresses(acc.aaaa)) addrs.push_back(a);
    if (addrs.empty()) {
      add_source("account", "none", {}, acc.name, acc.a.outcome);
      continue;
    }
    add_source("account", "certain", addrs, acc.name, "");
    how.push_back("--account: " + acc.name);
  }

  // Reverse DNS, forward-confirmed. The provider's patterns decide; without a recognised
  // provider, any profile's pattern names a shared server (and nothing counts against).
  std::vector<std::string> patterns;
  bool can_refute = false;
  if (prof && !prof->server_name_patterns.empty()) {
    patterns = prof->server_name_patterns;
    can_refute = pid != "generic";
  } else {
    for (const auto& [id, p] : data.providers())
      patterns.insert(patterns.end(), p.server_name_patterns.begin(), p.server_name_patterns.end());
  }
  for (const auto& r : f.reverse) {
    std::vector<std::string> names;
    for (const auto& n : r.ptr.values("PTR")) names.push_back(without_dot(lower(n)));
    if (names.empty()) continue;
    std::string confirmed, unconfirmed;
    for (const auto& n : names) {
      bool back = false;
      for (const auto& fw : r.forward)
        if (without_dot(lower(fw.qname)) == n && contains(lookup_addresses(fw), r.address)) back = true;
      if (back && confirmed.empty()) confirmed = n;
      if (!back && unconfirmed.empty()) unconfirmed = n;
    }
    if (!confirmed.empty() && matches_any(patterns, confirmed)) {
      add_source("ptr", "certain", {r.address}, confirmed, "");
      how.push_back("PTR " + r.address + " " + confirmed);
    } else if (!confirmed.empty()) {
      add_source("ptr-other", can_refute ? "against" : "none", {r.address}, confirmed, "");
      if (can_refute) {
        out["not_host"].push_back(r.address);
        out["not_host_names"].push_back(r.address + " " + confirmed);
      }
    } else {
      add_source("ptr-unconfirmed", "none", {r.address}, unconfirmed, "");
    }
  }

  // The provider's own nameservers, asked directly.
  std::vector<std::string> provider_ns, zone_addrs;
  for (const auto& pn : f.provider_nameservers)
    if (pn.provider == pid) provider_ns = pn.nameservers;
  for (const auto& n : f.names)
    for (const auto* list : {&n.provider_a, &n.provider_aaaa})
      for (const auto& l : *list) {
        if (!contains(provider_ns, l.server_name)) continue;
        if (!contains(out["asked"].get<std::vector<std::string>>(), l.server_name)) out["asked"].push_back(l.server_name);
        if (!l.aa || l.outcome != "answer") continue;
        for (const auto& a : l.values(l.qtype))
          if (!contains(zone_addrs, a)) zone_addrs.push_back(a);
      }
  if (!zone_addrs.empty()) {
    // When the domain is delegated to the provider's own nameservers, their answer is the very
    // data under test, not independent evidence of where the server is.
    if (ns_is_provider) {
      out["provider_zone_addresses"] = zone_addrs;
      add_source("provider-zone", "none", zone_addrs, "", "");
    } else {
      add_source("provider-nameservers", "certain", zone_addrs, "", "");
      how.push_back("provider nameservers " + join(out["asked"].get<std::vector<std::string>>(), ", "));
    }
  }

  std::vector<std::string> addrs;
  if (!f.request.server_ips.empty()) {
    addrs = f.request.server_ips;
    first_source = "option";
  } else {
    addrs = certain;
  }
  if (addrs.empty() && prof && !prof->host_addresses.empty()) {
    addrs = prof->host_addresses;
    add_source("profile", "certain", addrs, "", "");
    first_source = "profile";
    how.push_back("profile");
  }
  out["addresses"] = addrs;
  out["known"] = !addrs.empty();
  out["source"] = addrs.empty() ? "none" : first_source;
  out["how"] = how;
  return out;
}

// What the addresses answer, per certified name: when every IPv4 address answers the challenge
// path alike and an IPv6 address answers otherwise (status, Server header, body, the certificate
// on 443), that IPv6 address is another server. Only addresses that answered are compared.
struct AddressAnswer {
  std::string status, server, body, cert;
};

json answers_unlike(const facts::Facts& f, const facts::NameFacts& n) {
  json out = {{"addresses", json::array()}, {"differences", json::array()}};
  std::map<std::string, AddressAnswer> by_address;
  for (const auto& ch : f.web.http) {
    if (ch.name != n.name || ch.hops.empty() || ch.hops.front().outcome != "response") continue;
    const auto& h = ch.hops.front();
    by_address[ch.address] = AddressAnswer{std::to_string(h.status), h.server, h.body_sha256, ""};
  }
  for (const auto& t : f.web.tls) {
    if (t.name != n.name) continue;
    auto it = by_address.find(t.address);
    if (it == by_address.end()) continue;
    // A handshake that did not finish in time (the server's time or ours) tells nothing about
    // which server is there: only a refusal or a failed handshake is compared besides a chain.
    if (t.outcome == "timeout" || t.outcome == "connect-timeout" || t.outcome == "not-sent" || t.outcome == "error") continue;
    it->second.cert = t.outcome == "handshake" && !t.chain.empty() ? t.chain.front().sha256 : t.outcome;
  }
  std::set<std::tuple<std::string, std::string, std::string, std::string>> v4;
  const AddressAnswer* a4 = nullptr;
  for (const auto& a : n.a.values("A")) {
    auto it = by_address.find(a);
    if (it == by_address.end()) continue;
    v4.insert({it->second.status, it->second.server, it->second.body, it->second.cert});
    a4 = &it->second;
  }
  if (v4.size() != 1) return out;
  std::vector<std::string> diffs;
  for (const auto& a : n.aaaa.values("AAAA")) {
    auto it = by_address.find(a);
    if (it == by_address.end()) continue;
    const AddressAnswer& b = it->second;
    std::vector<std::string> d;
    if (b.status != a4->status) d.push_back("status " + b.status + " / " + a4->status);
    if (b.server != a4->server)
      d.push_back("Server " + (b.server.empty() ? std::string("(none)") : b.server) + " / " + (a4->server.empty() ? std::string("(none)") : a4->server));
    if (b.body != a4->body) d.push_back("body SHA-256");
    if (b.cert != a4->cert && !b.cert.empty() && !a4->cert.empty()) d.push_back("certificate on 443");
    if (d.empty()) continue;
    out["addresses"].push_back(a);
    for (const auto& x : d)
      if (!contains(diffs, x)) diffs.push_back(x);
  }
  out["differences"] = diffs;
  return out;
}

// What the recursive resolvers of the check did, from the lookups that went through them: the
// certified names' A and AAAA (and their CD=1 retries), the CAA climb, the providers' nameserver
// names. Per resolver: how many questions it got and how each ended, and one behaviour id:
// "answered", "refused" (REFUSED to some question: a recursive resolver refuses by its own
// policy; a domain's failing servers reach us as SERVFAIL), "unreachable" (nothing listens),
// "timeout", "servfail" (SERVFAIL to every question, the TLD's CAA included), "error", or
// "not-asked" (the deadline came before any question was sent to it).
// `usable`: some resolver gave a usable response (an answer, NODATA or NXDOMAIN) and none
// refused. Only then do failed lookups say something about the domain: a resolver that answers
// nothing, or refuses, is evidence about our side alone. `cause` sums up an unusable set:
// "none-configured", "deadline" (nothing was sent), "refused", or "no-answer".
json derive_resolvers(const facts::Facts& f) {
  struct Tally {
    int questions = 0, answered = 0, refused = 0, servfail = 0, unreachable = 0, timeout = 0, not_sent = 0, other = 0;
  };
  std::vector<std::string> order = f.request.resolvers;
  std::map<std::string, Tally> by_server;
  Tally total;
  auto count = [&](const facts::Lookup& l) {
    if (!l.recursion_desired) return;
    auto tally = [&](Tally& t) {
      ++t.questions;
      const std::string& o = l.outcome;
      if (o == "answer" || o == "nodata" || o == "nxdomain") ++t.answered;
      else if (o == "refused") ++t.refused;
      else if (o == "servfail") ++t.servfail;
      else if (o == "connection-refused") ++t.unreachable;
      else if (o == "timeout") ++t.timeout;
      else if (o == "not-sent") ++t.not_sent;
      else ++t.other;
    };
    tally(total);
    // A lookup that never reached a server (not sent, no resolver configured) has none.
    if (l.server.empty()) return;
    if (!contains(order, l.server)) order.push_back(l.server);
    tally(by_server[l.server]);
  };
  for (const auto& n : f.names) {
    count(n.a);
    count(n.aaaa);
    if (n.a_cd) count(*n.a_cd);
    if (n.aaaa_cd) count(*n.aaaa_cd);
    for (const auto& l : n.caa) count(l);
  }
  for (const auto& pn : f.provider_nameservers)
    for (const auto& l : pn.addresses) count(l);

  json asked = json::array();
  for (const auto& server : order) {
    const Tally t = by_server.count(server) ? by_server.at(server) : Tally{};
    std::string behaviour = t.refused > 0                      ? "refused"
                            : t.answered > 0                   ? "answered"
                            : t.unreachable > 0                ? "unreachable"
                            : t.timeout > 0                    ? "timeout"
                            : t.servfail > 0                   ? "servfail"
                            : t.other > 0                      ? "error"
                                                               : "not-asked";
    asked.push_back({{"server", server}, {"behaviour", behaviour}, {"questions", t.questions}, {"answered", t.answered},
                     {"refused", t.refused}, {"servfail", t.servfail}, {"unreachable", t.unreachable},
                     {"timeout", t.timeout}, {"not_sent", t.not_sent}});
  }
  const bool usable = total.answered > 0 && total.refused == 0;
  std::string cause;
  if (!usable) {
    if (f.request.resolvers.empty() && by_server.empty()) cause = "none-configured";
    else if (total.questions > 0 && total.not_sent == total.questions) cause = "deadline";
    else if (total.refused > 0) cause = "refused";
    else cause = "no-answer";
  }
  std::vector<std::string> tried;
  for (const auto& r : asked) tried.push_back(r["server"].get<std::string>() + ": " + r["behaviour"].get<std::string>());
  return {{"usable", usable}, {"cause", cause}, {"asked", asked}, {"tried", tried}, {"questions", total.questions},
          {"not_sent", total.not_sent}, {"timeout_s", f.request.timeout_s}};
}

caa::Level to_level(const std::string& domain, const facts::Lookup& l) {
  caa::Level level;
  level.domain = domain;
  if (l.outcome == "answer") {
    level.outcome = caa::LookupOutcome::records;
    for (const auto& data : l.values("CAA")) {
      int flags = 0;
      std::string tag, value;
      if (parse_caa_presentation(data, flags, tag, value))
        level.records.push_back(caa::Record{static_cast<std::uint8_t>(flags), tag, value});
    }
    if (level.records.empty()) level.outcome = caa::LookupOutcome::empty;
  } else if (l.outcome == "nodata" || l.outcome == "nxdomain") {
    level.outcome = caa::LookupOutcome::empty;
  } else {
    level.outcome = caa::LookupOutcome::failed;
    level.failure = l.outcome == "servfail" ? "SERVFAIL" : l.outcome == "refused" ? "REFUSED" : l.outcome;
    if (!l.rcode.empty() && l.outcome == "rcode") level.failure = l.rcode;
    std::string ede = ede_text(l);
    if (!ede.empty()) level.failure += " " + ede;
  }
  return level;
}

json derive_caa(const facts::NameFacts& n, const CaModel& ca) {
  std::vector<caa::Level> climb;
  for (const auto& l : n.caa) climb.push_back(to_level(l.qname, l));
  caa::Policy policy;
  if (!ca.caa_issuer_domains.empty()) policy.issuer_domains = ca.caa_issuer_domains;
  policy.validation_method = ca.validation_method;
  policy.bit1_is_critical = ca.caa_bit1_critical;
  auto d = caa::decide(n.name, climb, policy);
  json set = json::array();
  for (const auto& r : d.relevant_set) set.push_back(caa::presentation(r));
  json levels = json::array();
  for (const auto& l : n.caa) levels.push_back({{"domain", l.qname}, {"outcome", l.outcome}, {"server", l.server}});
  return {{"verdict", caa::verdict_name(d.verdict)}, {"relevant_domain", d.relevant_domain}, {"relevant_set", set},
          {"reason", d.reason}, {"detail", d.detail}, {"levels", levels},
          {"issuer_domains", policy.issuer_domains}};
}

json derive_name(const facts::NameFacts& n, const facts::Facts& f, const json& host, const CaModel& ca,
                 const address::AddressClassifier& classifier, bool resolver_usable) {
  json out;
  out["name"] = n.name;
  out["display"] = n.display;
  out["role"] = n.role;
  out["a"] = n.a;
  out["aaaa"] = n.aaaa;
  out["a_status"] = n.a.outcome;
  out["aaaa_status"] = n.aaaa.outcome;
  out["cname_chain"] = n.a.cname_chain();

  const auto host_addrs = host["addresses"].get<std::vector<std::string>>();
  const bool host_known = host["known"];
  const auto not_host = host["not_host"].get<std::vector<std::string>>();
  // Without a source naming the server, an address is still not the host when its reverse DNS
  // names another host, or when it is an IPv6 address that answers unlike the IPv4 ones.
  const json unlike = answers_unlike(f, n);
  const auto unlike_v6 = unlike["addresses"].get<std::vector<std::string>>();
  std::string reason_a, reason_aaaa;
  auto v4 = n.a.values("A");
  auto v6 = n.aaaa.values("AAAA");
  json addresses = json::array();
  std::vector<std::string> off_a, off_aaaa, unreachable;
  auto add = [&](const std::string& a, int family) {
    auto c = classifier.classify(a);
    bool unusable = classifier.unreachable_for_ca(c, f.request.allow_reserved);
    bool is_host = contains(host_addrs, a);
    addresses.push_back({{"address", a}, {"family", family}, {"reserved", c.reserved}, {"reserved_kind", c.kind},
                         {"reserved_block", c.block}, {"reserved_name", c.block_name}, {"unreachable", unusable},
                         {"cdn", c.cdn}, {"cdn_name", c.cdn_name}, {"cdn_range", c.cdn_range}, {"is_host", is_host}});
    if (host_known && !is_host) (family == 4 ? off_a : off_aaaa).push_back(a);
    if (!host_known && contains(not_host, a)) {
      (family == 4 ? off_a : off_aaaa).push_back(a);
      (family == 4 ? reason_a : reason_aaaa) = "ptr-other";
    } else if (!host_known && family == 6 && contains(unlike_v6, a)) {
      off_aaaa.push_back(a);
      if (reason_aaaa.empty()) reason_aaaa = "answers-unlike";
    }
    if (unusable) unreachable.push_back(a);
  };
  for (const auto& a : v4) add(a, 4);
  for (const auto& a : v6) add(a, 6);
  out["addresses"] = addresses;
  out["a_addresses"] = v4;
  out["aaaa_addresses"] = v6;
  out["off_host_a"] = off_a;
  out["off_host_aaaa"] = off_aaaa;
  std::vector<std::string> off_all = off_a;
  off_all.insert(off_all.end(), off_aaaa.begin(), off_aaaa.end());
  out["off_host"] = off_all;
  // How sure: "certain" when a source named the server, "probable" when only evidence against
  // an address exists (its reverse DNS, its answers), "" when nothing is off the host.
  out["off_host_certainty"] = off_all.empty() ? "" : host_known ? "certain" : "probable";
  out["off_host_reason_a"] = off_a.empty() ? "" : host_known ? "not-listed" : reason_a;
  out["off_host_reason_aaaa"] = off_aaaa.empty() ? "" : host_known ? "not-listed" : reason_aaaa;
  out["answers_unlike"] = unlike;
  std::vector<std::string> ptr_names;
  for (const auto& s : host["not_host_names"]) {
    const std::string t = s;
    for (const auto& a : off_all)
      if (t.rfind(a + " ", 0) == 0) ptr_names.push_back(t);
  }
  out["off_host_ptr"] = ptr_names;
  out["unreachable_addresses"] = unreachable;

  // The address the CA dials first (Let's Encrypt: the first AAAA, then the first A only after
  // a connection error), and the one it falls back to.
  json first = nullptr, fallback = nullptr;
  bool v6_first = ca.address_preference == "ipv6-first";
  // A CA model with http01.ipv4_fallback: false (Pebble) dials the first address and no other.
  bool falls_back = true;
  if (ca.data.contains("http01") && ca.data["http01"].is_object()) {
    const json& h = ca.data["http01"];
    if (h.contains("ipv4_fallback") && h["ipv4_fallback"].is_boolean()) falls_back = h["ipv4_fallback"].get<bool>();
  }
  const auto& primary = v6_first ? v6 : v4;
  const auto& secondary = v6_first ? v4 : v6;
  if (!primary.empty()) {
    first = primary.front();
    if (!secondary.empty() && falls_back) fallback = secondary.front();
  } else if (!secondary.empty()) {
    first = secondary.front();
  }
  out["ca_first_address"] = first;
  out["ca_fallback_address"] = fallback;
  out["on_host"] = host_known && (!v4.empty() || !v6.empty()) && off_all.empty();

  // A question our side did not complete (see unfinished_recursive) leaves its answer unknown:
  // a name is "nodata" only when both questions were answered, and its other failures are
  // judged only from questions that were.
  const bool a_unknown = unfinished_recursive(n.a), aaaa_unknown = unfinished_recursive(n.aaaa);
  std::string status;
  if (!addresses.empty()) status = "ok";
  else if (n.a.outcome == "nxdomain" || n.aaaa.outcome == "nxdomain") status = "nxdomain";
  else if (n.a.outcome == "servfail" || n.aaaa.outcome == "servfail") status = "servfail";
  else if (a_unknown || aaaa_unknown) status = "unknown";
  else if (failed(n.a) || failed(n.aaaa)) status = n.a.transport_failed() ? n.a.outcome : n.aaaa.outcome;
  else status = "nodata";
  if (status == "refused" || status == "rcode") status = "servfail";
  // When no resolver of ours gave a usable answer, a failed lookup is our failure, not the
  // domain's: the name's state is unknown and no failure is held against it.
  if (!resolver_usable && status != "ok") status = "unknown";
  out["status"] = status;
  // The questions about this name that our side did not complete: with an address of one
  // family known and the other family's question unfinished, what the CA would dial (IPv6
  // first) is not known either.
  json unfinished = json::array();
  for (const auto* l : {&n.a, &n.aaaa})
    if (unfinished_recursive(*l)) unfinished.push_back(unfinished_text(*l));

  // Lookups that failed, with the server that failed them, for dns-servfail's evidence.
  json failures = json::array();
  for (const auto* l : {&n.a, &n.aaaa})
    if (resolver_usable && failed(*l) && !unfinished_recursive(*l))
      failures.push_back({{"qtype", l->qtype}, {"outcome", l->outcome}, {"rcode", l->rcode}, {"server", l->server},
                          {"ede", ede_text(*l)}, {"error", l->error}});
  out["failures"] = failures;
  std::vector<std::string> failure_text;
  for (const auto& fl : failures)
    failure_text.push_back(fl["qtype"].get<std::string>() + " " +
                           (fl["rcode"].get<std::string>().empty() ? fl["outcome"].get<std::string>() : fl["rcode"].get<std::string>()) +
                           " from " + fl["server"].get<std::string>() +
                           (fl["ede"].get<std::string>().empty() ? "" : " [" + fl["ede"].get<std::string>() + "]"));
  out["failure_summary"] = failure_text;

  // RFC 4035 §5.5: a SERVFAIL that a CD=1 retry answers is a validation failure; an EDE in
  // the DNSSEC range says so directly.
  bool bogus = false;
  std::string bogus_ede;
  for (const auto& [l, cd] : {std::pair{&n.a, &n.a_cd}, std::pair{&n.aaaa, &n.aaaa_cd}}) {
    if (l->outcome != "servfail" || !resolver_usable) continue;
    bool cd_ok = cd->has_value() && ((*cd)->outcome == "answer" || (*cd)->outcome == "nodata");
    if (dnssec_ede(*l) || cd_ok) {
      bogus = true;
      if (bogus_ede.empty()) bogus_ede = ede_text(*l);
    }
  }
  out["dnssec"] = {{"bogus", bogus}, {"ede", bogus_ede}, {"resolver", n.a.server}};
  out["caa"] = derive_caa(n, ca);
  // A CAA climb that failed at our resolver decided nothing about the domain.
  if (!resolver_usable && out["caa"]["verdict"] == "lookup-failed") {
    out["caa"]["verdict"] = "not-checked";
    out["caa"]["reason"] = "resolver-unavailable";
  }
  // The climb stopped at a level whose question our side did not complete (the first failed
  // level decides, as in the CA's climb): nothing is known about that level, so neither is the
  // decision.
  if (out["caa"]["verdict"] == "lookup-failed") {
    for (const auto& l : n.caa) {
      if (l.outcome == "answer" || l.outcome == "nodata" || l.outcome == "nxdomain") continue;
      if (unfinished_recursive(l)) {
        out["caa"]["verdict"] = "not-checked";
        out["caa"]["reason"] = "lookup-unfinished";
        unfinished.push_back(unfinished_text(l));
      }
      break;
    }
  }
  out["unfinished"] = unfinished;

  json provider_answers = json::array();
  for (const auto* list : {&n.provider_a, &n.provider_aaaa})
    for (const auto& l : *list)
      provider_answers.push_back({{"server", l.server_name}, {"address", l.server}, {"qtype", l.qtype}, {"outcome", l.outcome},
                                  {"aa", l.aa}, {"values", l.values(l.qtype)}});
  out["provider_answers"] = provider_answers;
  return out;
}

// Whether the zone's servers answer at all, as far as the check saw: one of the delegated
// servers answered authoritatively for the zone, or our resolver got an answer (records, NODATA
// or NXDOMAIN) for a certified name, which it can only have had from those servers.
// A timeout at the zone's own servers then says nothing about them. So too when our resolver
// gave no verdict at all on the names (every question unfinished on our side): only a resolver
// that answered SERVFAIL (or another error) for them confirms that the servers are silent.
bool zone_answers(const facts::Facts& f) {
  for (const auto& s : f.delegation.servers)
    if (s.in_parent && s.soa.aa && s.soa.outcome == "answer") return true;
  bool any_verdict = false;
  for (const auto& n : f.names)
    for (const auto* l : {&n.a, &n.aaaa}) {
      if (l->outcome == "answer" || l->outcome == "nodata" || l->outcome == "nxdomain") return true;
      if (!unfinished_recursive(*l)) any_verdict = true;
    }
  return !any_verdict && !f.names.empty();
}

// `d_json`: `d` as JSON (the view's facts hold it): a copy of that tree costs less than converting
// the delegation's facts again.
json derive_delegation(const facts::DelegationFacts& d, const json& d_json, const json& provider, const DataSet& data,
                       bool resolver_usable, bool answers) {
  json out = d_json;
  std::vector<std::string> only_parent, only_child;
  for (const auto& n : d.parent_ns)
    if (!contains(d.child_ns, n)) only_parent.push_back(n);
  for (const auto& n : d.child_ns)
    if (!contains(d.parent_ns, n)) only_child.push_back(n);
  out["only_parent"] = only_parent;
  out["only_child"] = only_child;
  out["mismatch"] = d.status == "delegated" && !d.child_ns.empty() && (!only_parent.empty() || !only_child.empty());

  json lame = json::array();
  json unfinished = json::array();
  std::size_t answering = 0;
  for (const auto& s : d.servers) {
    // Lameness is about delegated servers; a server named only in the child's NS set shows up
    // as a delegation mismatch instead.
    if (!s.in_parent) continue;
    // A nameserver whose name our own resolver could not look up was never asked: that says
    // nothing about the server.
    if (s.address_source == "unresolved" && !resolver_usable) continue;
    bool ok = s.soa.aa && (s.soa.outcome == "answer");
    if (ok) {
      ++answering;
      continue;
    }
    // A question our side never sent (our deadline, our politeness limit) or that failed
    // locally says nothing about the server; nor does a timeout while the zone's servers are
    // seen answering (another delegated server answered, or our resolver got its answers from
    // them): under our own load the silence may be ours. Such a server is not judged: it is
    // listed as unfinished, not lame.
    if (s.address_source == "unresolved") {
      // The probe names why the server's name did not resolve: "... (OUTCOME)". Our resolver's
      // silence leaves the name, and so the server, unknown.
      const std::string& e = s.soa.error;
      const auto open = e.rfind('(');
      facts::Lookup name_lookup;
      name_lookup.outcome = open == std::string::npos || e.empty() || e.back() != ')' ? "" : e.substr(open + 1, e.size() - open - 2);
      if (unfinished_recursive(name_lookup)) {
        unfinished.push_back("A " + s.name + ": " + name_lookup.outcome);
        continue;
      }
    }
    const std::string& o = s.soa.outcome;
    if (s.address_source != "unresolved" && (o == "not-sent" || o == "error" || (o == "timeout" && answers))) {
      unfinished.push_back("SOA " + d.zone + " @" + s.name + (s.address.empty() ? "" : " (" + s.address + ")") + ": " + o);
      continue;
    }
    std::string why = s.soa.outcome;
    if (s.soa.outcome == "answer" || s.soa.outcome == "nodata" || s.soa.outcome == "referral") why = "not authoritative";
    if (!s.soa.rcode.empty() && s.soa.rcode != "NOERROR") why = s.soa.rcode;
    if (s.address_source == "unresolved") why = "name does not resolve";
    lame.push_back({{"name", s.name}, {"address", s.address}, {"reason", why}, {"in_parent", s.in_parent}, {"in_child", s.in_child}});
  }
  out["lame_servers"] = lame;
  out["lame_names"] = json::array();
  for (const auto& l : lame) out["lame_names"].push_back(l["name"].get<std::string>() + (l["address"].get<std::string>().empty() ? "" : " (" + l["address"].get<std::string>() + ")") + ": " + l["reason"].get<std::string>());
  out["all_lame"] = !lame.empty() && answering == 0 && unfinished.empty();
  out["unfinished"] = unfinished;
  out["answering_servers"] = answering;

  // Are the nameservers the provider's own?
  const auto all_ns = delegation_ns(d);
  std::string pid = provider["id"];
  bool is_provider = false;
  if (data.providers().count(pid)) {
    const auto& prof = data.providers().at(pid);
    for (const auto& ns : all_ns)
      if (ns_matches_profile(ns, prof)) is_provider = true;
  }
  out["ns_is_provider"] = is_provider;
  out["ns"] = all_ns;
  return out;
}

} // namespace

bool parse_caa_presentation(const std::string& text, int& flags, std::string& tag, std::string& value) {
  std::size_t i = 0;
  auto skip = [&] {
    while (i < text.size() && (text[i] == ' ' || text[i] == '\t')) ++i;
  };
  skip();
  std::size_t start = i;
  while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) ++i;
  if (i == start || i - start > 3) return false;
  flags = std::stoi(text.substr(start, i - start));
  if (flags > 255) return false;
  skip();
  start = i;
  while (i < text.size() && text[i] != ' ' && text[i] != '\t') ++i;
  if (i == start) return false;
  tag = text.substr(start, i - start);
  skip();
  value.clear();
  if (i < text.size() && text[i] == '"') {
    ++i;
    while (i < text.size() && text[i] != '"') {
      if (text[i] == '\\' && i + 1 < text.size()) {
        // RFC 1035 §5.1: \DDD is a decimal octet, \X is X.
        if (i + 3 < text.size() && std::isdigit(static_cast<unsigned char>(text[i + 1])) &&
            std::isdigit(static_cast<unsigned char>(text[i + 2])) && std::isdigit(static_cast<unsigned char>(text[i + 3]))) {
          value.push_back(static_cast<char>(std::stoi(text.substr(i + 1, 3)) & 0xff));
          i += 4;
          continue;
        }
        value.push_back(text[i + 1]);
        i += 2;
        continue;
      }
      value.push_back(text[i++]);
    }
    return i < text.size();
  }
  value = text.substr(i);
  return true;
}

namespace {

// Whether the provider's schedule still holds an automatic attempt for the served certificate
// of the main name (else the first name with one): `attempt_left` true with the next one's
// days before expiry and date, false when every attempt has passed or the certificate has
// expired, null when there is no schedule of attempts or no certificate to judge.
json derive_renewal(const json& web) {
  json out = {{"attempt_left", nullptr}, {"next_attempt_days", nullptr}, {"next_attempt_date", ""}};
  const json* chosen = nullptr;
  if (!web.contains("certs") || !web["certs"].is_array()) return out;
  for (const auto& c : web["certs"])
    if (c.value("has_leaf", false) && (!chosen || (c.value("role", "") == "main" && chosen->value("role", "") != "main")))
      chosen = &c;
  if (!chosen || chosen->value("renewal_kind", "") != "attempts" || (*chosen)["days_left"].is_null()) return out;
  const bool left = !(*chosen)["renewal_next_days"].is_null() && !chosen->value("expired", false);
  out["attempt_left"] = left;
  if (left) {
    out["next_attempt_days"] = (*chosen)["renewal_next_days"];
    out["next_attempt_date"] = (*chosen)["renewal_next_date"];
  }
  return out;
}

// The profile's texts ({provider.X} in rule texts) for this diagnosis: a text with a
// `no_attempt_left:` alternative uses it when the schedule holds no further attempt.
json provider_texts(const json& provider, const json& renewal) {
  json out = json::object();
  if (!provider.contains("profile") || !provider["profile"].is_object()) return out;
  const json texts = provider["profile"].value("texts", json::object());
  if (!texts.is_object()) return out;
  const bool none_left = renewal["attempt_left"].is_boolean() && !renewal["attempt_left"].get<bool>();
  for (const auto& [key, text] : texts.items()) {
    json chosen = text;
    if (none_left && text.is_object() && text.contains("no_attempt_left")) chosen = text["no_attempt_left"];
    if (chosen.is_object()) chosen.erase("no_attempt_left");
    out[key] = chosen;
  }
  return out;
}

} // namespace

json derive(const facts::Facts& f, const DeriveContext& ctx) {
  json view;
  const json& facts_json = view["facts"] = f;
  view["request"] = facts_json.at("request");
  view["domain"] = {{"ascii", f.domain}, {"unicode", f.domain_display}, {"registered", f.registered_domain},
                    {"public_suffix", f.public_suffix}, {"is_registered_domain", f.domain == f.registered_domain}};
  const CaModel& ca = ctx.data.ca(f.request.ca.empty() ? "letsencrypt" : f.request.ca);
  view["ca"] = ca.data;
  // Each part is made in its place in the view (a std::map: references to its members stay valid
  // as others are added) and read from there, not copied into it.
  const json& provider = view["provider"] = detect_provider(f, ctx.data);
  const json& resolvers = view["resolvers"] = derive_resolvers(f);
  const bool resolver_usable = resolvers["usable"].get<bool>();
  json& delegation = view["delegation"] =
      derive_delegation(f.delegation, facts_json.at("delegation"), provider, ctx.data, resolver_usable, zone_answers(f));
  const json& host = view["host"] = learn_host(f, provider, ctx.data, delegation["ns_is_provider"].get<bool>());
  const auto host_addresses = host["addresses"].get<std::vector<std::string>>();
  json& names = view["names"] = json::array();
  for (const auto& n : f.names) names.push_back(derive_name(n, f, host, ca, ctx.classifier, resolver_usable));
  // Where the resolver still serves an answer the zone no longer gives, and until when.
  const json& propagation = view["propagation"] = derive_propagation(f, resolver_usable);
  for (auto& n : names) {
    n["propagation"] = propagation_of_name(propagation, n["name"], f.delegation.zone);
    n["change_time"] = change_time_of_name(f, n["name"]);
    // The zone's servers already give only the hosting server's addresses for this name: the
    // fix is made, and what a-not-host sees is the resolver's cached answer.
    bool fixed = host["known"].get<bool>();
    bool any = false;
    for (const auto& e : propagation) {
      if (e["name"] != n["name"] || (e["type"] != "A" && e["type"] != "AAAA")) continue;
      any = true;
      if (e["zone"].empty()) fixed = false;
      for (const auto& a : e["zone"])
        if (!contains(host_addresses, a.get<std::string>())) fixed = false;
    }
    n["propagation"]["zone_on_host"] = any && fixed;
  }
  // How long a nameserver change takes to reach every resolver: the parent's NS TTL (0: unknown).
  const std::uint32_t ns_ttl = parent_ns_ttl_seconds(f.delegation);
  delegation["parent_ns_ttl"] = ns_ttl;
  delegation["parent_ns_ttl_hours"] = (ns_ttl + 3599) / 3600;
  bool all_on_host = !f.names.empty();
  for (const auto& n : names)
    if (!n["on_host"].get<bool>()) all_on_host = false;
  view["all_names_on_host"] = all_on_host;
  // The main name resolves, to the hosting server when that is known: a problem of www alone
  // is then the multi-domain case.
  bool main_ok = false;
  for (const auto& n : names)
    if (n["role"] == "main")
      main_ok = n["status"] == "ok" && n["unreachable_addresses"].empty() && n["off_host"].empty();
  view["main_name_ok"] = main_ok;
  // Without a usable resolver nothing about the names was learnt: the diagnosis is incomplete
  // even when every question was sent and came back (a resolver that refuses).
  // Steps our side did not complete (a question not sent, or unanswered by our own resolver, or
  // a nameserver left unjudged) leave what depends on them unknown: the diagnosis is incomplete,
  // and says which steps.
  json unfinished = json::array();
  for (const auto& n : names)
    for (const auto& u : n["unfinished"])
      if (std::find(unfinished.begin(), unfinished.end(), u) == unfinished.end()) unfinished.push_back(u);
  // The delegation's servers matter only when none of them could be judged: one server that
  // answered is enough for the CA's resolver, which tries the others.
  if (delegation["answering_servers"].get<std::size_t>() == 0)
    for (const auto& u : delegation["unfinished"]) unfinished.push_back(u);
  // A walk from the root that our side cut short (a referral question not sent, or unanswered
  // while the zone is seen answering) found no delegation to judge: the nameserver rules and the
  // provider by its nameservers are unknown, not "not delegated".
  if (f.delegation.status == "failed") {
    const bool answers = zone_answers(f);
    for (const auto& w : f.delegation.walk) {
      const std::string& o = w.lookup.outcome;
      if (o == "not-sent" || o == "error" || (o == "timeout" && answers)) {
        unfinished.push_back("NS " + f.delegation.zone + " @" + (w.lookup.server_name.empty() ? w.lookup.server : w.lookup.server_name) +
                             " (" + w.zone + "): " + o);
        break;
      }
    }
  }
  view["diagnosis"] = {{"complete", f.incomplete.empty() && resolver_usable && unfinished.empty()},
                       {"incomplete", f.incomplete},
                       {"unfinished", unfinished}};

  RateLimitPolicy policy;
  // A CA model without limits (absent, or `rate_limits: none`, as Pebble) makes the rate-limit
  // rules silent: they look at rate_limits.enforced.
  const bool enforced = ca.data.contains("rate_limits") && ca.data["rate_limits"].is_object();
  if (enforced) {
    const json& rl = ca.data["rate_limits"];
    try {
      policy.per_domain = rl.value("per_domain", policy.per_domain);
      policy.per_exact_set = rl.value("per_exact_set", policy.per_exact_set);
      policy.window_days = rl.value("window_days", policy.window_days);
      policy.renewal_window_days = rl.value("renewal_window_days", policy.renewal_window_days);
      policy.near_fraction = rl.value("near_fraction", policy.near_fraction);
    } catch (const json::exception&) {
      throw ConfigError(ca.file + ": rate_limits: per_domain, per_exact_set, window_days and renewal_window_days "
                        "must be whole numbers and near_fraction a number");
    }
  }
  std::vector<std::string> cert_names;
  for (const auto& n : f.names) cert_names.push_back(n.name);
  json rate = derive_rate_limits(f.ct, cert_names, f.collected_at, policy);
  rate["fetch"] = f.ct.fetch;
  rate["enforced"] = enforced;
  view["rate_limits"] = rate;
  json status = derive_ca_status(f.ca_status);
  status["fetch"] = f.ca_status.fetch;
  view["ca_status"] = status;
  const json& web = view["web"] = derive_web(f, names, provider, ca, ctx.data, ctx.classifier);
  for (auto& n : names)
    for (const auto& w : web["names"])
      if (w["name"] == n["name"]) n["web"] = w;
  // What the web part could not judge because our side cut it short: a certified name with an
  // address for the CA and no chain that decides (none requested, or every deciding chain cut by
  // the deadline before an answer: unreachable kind "not-sent").
  json& diag = view["diagnosis"];
  if (f.request.web) {
    for (const auto& n : view["names"]) {
      if (n["status"] != "ok" || n["ca_first_address"].is_null()) continue;
      const std::string first = n["ca_first_address"];
      if (contains(n["unreachable_addresses"].get<std::vector<std::string>>(), first)) continue;
      bool decided = false;
      for (const auto& ch : web["challenges"])
        if (ch["name"] == n["name"] && ch.value("decisive", false) && ch.value("unreachable_kind", "") != "not-sent")
          decided = true;
      if (!decided)
        diag["unfinished"].push_back("HTTP http://" + n["name"].get<std::string>() + "/.well-known/acme-challenge/ @" +
                                     first + ": not-sent");
    }
  }
  // Without a source naming the hosting server, a question about it our side did not complete
  // (reverse DNS, the providers' nameservers, the account's name) may be the one that would have
  // named it: whether the addresses are the host's is then unknown, not "not named".
  if (!host["known"].get<bool>() && resolver_usable) {
    auto note = [&](const facts::Lookup& l) {
      const std::string& o = l.outcome;
      if (o == "timeout" || o == "not-sent" || o == "error") diag["unfinished"].push_back(unfinished_text(l));
    };
    for (const auto& r : f.reverse) {
      note(r.ptr);
      for (const auto& l : r.forward) note(l);
    }
    for (const auto& p : f.provider_nameservers)
      for (const auto& l : p.addresses) note(l);
    for (const auto& n : f.names)
      for (const auto* list : {&n.provider_a, &n.provider_aaaa})
        for (const auto& l : *list) note(l);
    for (const auto& a : f.accounts) {
      note(a.a);
      note(a.aaaa);
    }
  }
  if (!diag["unfinished"].empty()) diag["complete"] = false;
  view["renewal"] = derive_renewal(web);
  view["provider"]["texts"] = provider_texts(provider, view["renewal"]);
  return view;
}

} // namespace certdoctor::view
