#include "view/propagation.hpp"

#include <algorithm>
#include <cstdint>
#include <limits>
#include <map>
#include <set>
#include <sstream>

#include "facts/outside.hpp"
#include "util/text.hpp"

namespace certdoctor::view {

using json = nlohmann::json;

namespace {

std::string canonical(std::string name) {
  name = lower(name);
  if (!name.empty() && name.back() == '.') name.pop_back();
  return name;
}

// `name` equals `zone` or lies below it (whole labels; both canonical or not).
bool dns_inside(const std::string& name, const std::string& zone) {
  const std::string n = canonical(name), z = canonical(zone);
  if (z.empty()) return false;
  return n == z || (n.size() > z.size() && n.compare(n.size() - z.size(), z.size(), z) == 0 &&
                    n[n.size() - z.size() - 1] == '.');
}

bool usable(const facts::Lookup& l) {
  return l.outcome == "answer" || l.outcome == "nodata" || l.outcome == "nxdomain";
}

// The records of the answer owned by the question name, as one sorted set: the data of a record
// of the asked type, "TYPE data" of another one (a CNAME). A negative answer is the empty set.
std::vector<std::string> owned(const facts::Lookup& l) {
  std::set<std::string> out;
  const std::string owner = canonical(l.qname);
  for (const auto& r : l.answer) {
    if (canonical(r.name) != owner) continue;
    std::string data = r.type == "NS" || r.type == "CNAME" ? canonical(r.data) : r.data;
    out.insert(r.type == l.qtype ? data : r.type + " " + data);
  }
  return {out.begin(), out.end()};
}

std::optional<std::uint32_t> min_owned_ttl(const facts::Lookup& l) {
  std::optional<std::uint32_t> ttl;
  const std::string owner = canonical(l.qname);
  for (const auto& r : l.answer)
    if (canonical(r.name) == owner) ttl = ttl ? std::min(*ttl, r.ttl) : r.ttl;
  return ttl;
}

// The last field of an SOA record in presentation form: MINIMUM, the negative-caching TTL.
std::optional<std::uint32_t> soa_minimum(const std::string& data) {
  std::istringstream in(data);
  std::vector<std::string> fields;
  for (std::string f; in >> f;) fields.push_back(f);
  if (fields.size() != 7) return std::nullopt;
  try {
    std::size_t used = 0;
    unsigned long v = std::stoul(fields[6], &used);
    if (used != fields[6].size() || v > std::numeric_limits<std::uint32_t>::max()) return std::nullopt;
    return static_cast<std::uint32_t>(v);
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

// RFC 2308 §5: a negative answer is cached for the SOA's TTL, at most its MINIMUM field.
std::optional<std::uint32_t> negative_ttl(const std::vector<facts::RecordFact>& records) {
  for (const auto& r : records) {
    if (r.type != "SOA") continue;
    auto minimum = soa_minimum(r.data);
    return minimum ? std::min(r.ttl, *minimum) : r.ttl;
  }
  return std::nullopt;
}

// What every authoritative server that answered with authority says for one question.
struct ZoneAnswer {
  bool agreed = false;
  std::vector<std::string> values;
  std::vector<std::string> servers;
  std::optional<std::uint32_t> ttl;           // the records' TTL as the zone gives it
};

ZoneAnswer zone_answer(const facts::DelegationFacts& d, const std::string& qname, const std::string& qtype) {
  ZoneAnswer z;
  bool first = true;
  for (const auto& s : d.servers) {
    for (const auto& l : s.records) {
      if (canonical(l.qname) != canonical(qname) || l.qtype != qtype) continue;
      if (!l.aa || !usable(l)) continue;
      auto v = owned(l);
      if (first) {
        z.values = v;
        first = false;
      } else if (v != z.values) {
        return ZoneAnswer{};  // the servers disagree: what the zone says is not one answer
      }
      if (std::find(z.servers.begin(), z.servers.end(), s.name) == z.servers.end()) z.servers.push_back(s.name);
      if (auto t = min_owned_ttl(l)) z.ttl = z.ttl ? std::max(*z.ttl, *t) : *t;
    }
  }
  z.agreed = !first;
  return z;
}

// The zone's SOA as its servers serve it: the longest a negative answer may be kept.
std::optional<std::uint32_t> zone_soa_negative_ttl(const facts::DelegationFacts& d) {
  std::optional<std::uint32_t> out;
  for (const auto& s : d.servers) {
    if (!s.soa.aa || s.soa.outcome != "answer") continue;
    auto t = negative_ttl(s.soa.answer);
    if (t) out = out ? std::max(*out, *t) : *t;
  }
  return out;
}

// The TTL of the zone's NS records in the parent's referral (or in the authoritative answer of
// a server that serves parent and child at once), from the delegation walk.
std::optional<std::uint32_t> parent_ns_ttl(const facts::DelegationFacts& d) {
  const std::string zone = canonical(d.zone);
  for (auto it = d.walk.rbegin(); it != d.walk.rend(); ++it) {
    std::optional<std::uint32_t> ttl;
    for (const auto* section : {&it->lookup.authority, &it->lookup.answer})
      for (const auto& r : *section)
        if (r.type == "NS" && canonical(r.name) == zone) ttl = ttl ? std::min(*ttl, r.ttl) : r.ttl;
    if (ttl) return ttl;
  }
  return std::nullopt;
}

json entry(const std::string& name, const std::string& display, const std::string& type,
           const std::vector<std::string>& cached, const std::vector<std::string>& zone, const std::string& basis,
           std::uint32_t remaining, std::uint32_t longest, const std::optional<std::int64_t>& now,
           const std::vector<std::string>& servers) {
  longest = std::max(longest, remaining);
  return {{"name", name},
          {"display", display},
          {"type", type},
          {"cached", cached},
          {"cached_missing", cached.empty()},
          {"zone", zone},
          {"zone_missing", zone.empty()},
          {"basis", basis},
          {"remaining_seconds", remaining},
          {"remaining_minutes", (remaining + 59) / 60},
          {"visible_at", now ? facts::format_utc_time(*now + remaining) : std::string()},
          {"longest_seconds", longest},
          {"wait_minutes", (longest + 59) / 60},
          {"wait_hours", (longest + 3599) / 3600},
          {"latest_at", now ? facts::format_utc_time(*now + longest) : std::string()},
          {"servers", servers}};
}

} // namespace

json derive_propagation(const facts::Facts& f, bool resolver_usable) {
  json out = json::array();
  if (!resolver_usable || f.delegation.status != "delegated") return out;
  const auto now = facts::parse_utc_time(f.collected_at);
  const auto& d = f.delegation;

  // Each question once: the CAA levels are shared between names.
  std::set<std::pair<std::string, std::string>> seen;
  auto compare = [&](const facts::Lookup& resolver, const std::string& display) {
    if (!usable(resolver)) return;
    if (!seen.insert({canonical(resolver.qname), resolver.qtype}).second) return;
    ZoneAnswer z = zone_answer(d, resolver.qname, resolver.qtype);
    if (!z.agreed) return;
    auto cached = owned(resolver);
    if (cached == z.values) return;
    std::string basis;
    std::optional<std::uint32_t> remaining, longest;
    if (!cached.empty()) {
      basis = "ttl";
      remaining = min_owned_ttl(resolver);
      // A resolver that asked just before the change keeps the old records for their whole
      // TTL; the zone's TTL for the name stands for it (the old one is not known).
      longest = z.ttl;
    } else {
      longest = zone_soa_negative_ttl(d);
      if ((remaining = negative_ttl(resolver.authority))) basis = "negative-ttl";
      else if ((remaining = longest)) basis = "zone-negative-ttl";
    }
    if (!remaining || *remaining == 0) return;
    out.push_back(entry(canonical(resolver.qname), display, resolver.qtype, cached, z.values, basis, *remaining,
                        longest.value_or(*remaining), now, z.servers));
  };
  for (const auto& n : f.names) {
    compare(n.a, n.display);
    compare(n.aaaa, n.display);
  }
  for (const auto& n : f.names)
    for (const auto& l : n.caa)
      if (dns_inside(l.qname, d.zone)) compare(l, canonical(l.qname));

  // Nameservers: the resolver still uses a set that neither the parent's delegation nor any
  // delegated server gives any more. A resolver keeps a delegation up to the parent's NS TTL.
  const auto& rns = d.resolver_ns;
  if (rns.outcome == "answer") {
    auto cached = owned(rns);
    std::vector<std::string> parent;
    for (const auto& ns : d.parent_ns) parent.push_back(canonical(ns));
    std::sort(parent.begin(), parent.end());
    parent.erase(std::unique(parent.begin(), parent.end()), parent.end());
    bool explained = cached == parent;
    std::vector<std::string> servers;
    for (const auto& s : d.servers) {
      if (!s.in_parent) continue;
      if (s.ns.aa && s.ns.outcome == "answer") {
        servers.push_back(s.name);
        if (owned(s.ns) == cached) explained = true;
      }
    }
    auto ttl = parent_ns_ttl(d);
    if (!explained && !parent.empty() && ttl && *ttl > 0)
      out.push_back(
          entry(canonical(d.zone), canonical(d.zone), "NS", cached, parent, "parent-ns-ttl", *ttl, *ttl, now, servers));
  }
  return out;
}

json change_time_of_name(const facts::Facts& f, const std::string& name) {
  std::uint32_t ttl = 0;
  for (const char* type : {"A", "AAAA"}) {
    ZoneAnswer z = zone_answer(f.delegation, name, type);
    if (z.agreed && z.ttl) ttl = std::max(ttl, *z.ttl);
  }
  return {{"record_ttl", ttl}, {"record_minutes", (ttl + 59) / 60}};
}

std::uint32_t parent_ns_ttl_seconds(const facts::DelegationFacts& d) { return parent_ns_ttl(d).value_or(0); }

json propagation_of_name(const json& entries, const std::string& name, const std::string& zone) {
  json out = {{"pending", false}, {"longest_seconds", 0}, {"wait_minutes", 0}, {"wait_hours", 0},
              {"latest_at", ""}, {"types", json::array()}};
  const std::string n = canonical(name);
  std::uint32_t latest = 0;
  for (const auto& e : entries) {
    const std::string owner = e["name"];
    const std::string type = e["type"];
    bool concerns = type == "CAA" ? dns_inside(n, owner) : type == "NS" ? dns_inside(n, canonical(zone)) : owner == n;
    if (!concerns) continue;
    out["pending"] = true;
    out["types"].push_back(type);
    const std::uint32_t r = e["longest_seconds"];
    if (r >= latest) {
      latest = r;
      for (const char* key : {"longest_seconds", "wait_minutes", "wait_hours", "latest_at"}) out[key] = e[key];
    }
  }
  return out;
}

} // namespace certdoctor::view
