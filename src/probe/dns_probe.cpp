#include "probe/dns_probe.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <map>
#include <memory>
#include <set>

#include "dns/message.hpp"
#include "dns/name.hpp"

namespace certdoctor::probe {

namespace {

using Clock = std::chrono::steady_clock;

facts::RecordFact to_record_fact(const dns::Record& r) {
  return facts::RecordFact{r.name, dns::type_name(r.type), r.ttl, r.data};
}

bool has_ns_referral(const dns::Message& m) {
  return std::any_of(m.authority.begin(), m.authority.end(),
                     [](const dns::Record& r) { return r.type == dns::rrtype::NS; });
}

// The delegation walk stops after this many referrals: the deepest real chain
// (root, TLD, second level, registered domain) is far shorter, so more means a referral loop.
constexpr int max_walk_steps = 12;
// Servers tried at one level of the walk before the level counts as failed.
constexpr std::size_t max_servers_per_level = 4;
// PTR names of one address whose forward records are asked (an address has one, rarely more).
constexpr std::size_t max_ptr_names = 4;
// Provider nameservers tried before giving up on asking a provider directly.
constexpr std::size_t max_provider_servers = 2;

struct NsTarget {
  std::string name;
  std::vector<std::string> addresses;  // IPv4 first
};

/// One diagnosis's worth of DNS questions. Every method issues queries whose callbacks
/// continue the work, so independent chains (names, CAA climb, delegation walk, provider
/// nameservers) run concurrently inside one DnsClient::run().
class Gatherer {
 public:
  Gatherer(DnsClient& client, const DnsProbeRequest& request, facts::Facts& out)
      : client_(client), request_(request), out_(out) {}

  void start() {
    out_.names = request_.names;
    for (std::size_t i = 0; i < out_.names.size(); ++i) start_name(i);
    start_caa();
    out_.delegation = facts::DelegationFacts{};
    out_.delegation.zone = request_.zone;
    if (!request_.zone.empty()) {
      start_walk();
      // What the resolver caches for the zone's nameservers, against the parent's delegation.
      resolve(request_.zone, dns::rrtype::NS, false,
              [this](facts::Lookup l) { out_.delegation.resolver_ns = std::move(l); });
    }
    for (const auto& p : request_.providers) start_provider(p);
    for (const auto& a : request_.accounts) start_account(a);
  }

  void finish() {
    // CAA lookups are shared between names (www.example.jp and example.jp both climb
    // through example.jp); each name gets its own copy of the climb, in order.
    for (auto& n : out_.names) {
      n.caa.clear();
      for (const auto& d : dns::ancestors_to_tld(n.name)) {
        auto it = caa_.find(d);
        if (it != caa_.end()) n.caa.push_back(it->second);
      }
    }
    bool any_resolver_answer = false;
    for (const auto& n : out_.names)
      for (const auto* l : {&n.a, &n.aaaa})
        if (answered(*l)) any_resolver_answer = true;
    if (!any_resolver_answer && !out_.names.empty() && !request_.resolvers.empty()) {
      std::string list;
      for (const auto& r : request_.resolvers) list += (list.empty() ? "" : ", ") + r.to_string();
      out_.incomplete.push_back("no recursive resolver answered (" + list + ")");
    }
    if (out_.delegation.status == "not-checked" && !request_.zone.empty())
      out_.delegation.status = "failed";
    out_.queries_sent = client_.queries_sent();
  }

 private:
  static bool answered(const facts::Lookup& l) {
    return !l.transport_failed();
  }

  // Asks the recursive resolvers in order, moving to the next one only when a resolver gave
  // no usable response at all (a SERVFAIL is an answer and is kept as evidence).
  void resolve(const std::string& qname, std::uint16_t qtype, bool cd,
               std::function<void(facts::Lookup)> done, std::size_t index = 0) {
    if (index >= request_.resolvers.size()) {
      facts::Lookup l;
      l.qname = qname;
      l.qtype = dns::type_name(qtype);
      l.outcome = "error";
      l.error = "no recursive resolver configured";
      done(std::move(l));
      return;
    }
    dns::QueryFlags flags;
    flags.recursion_desired = true;
    flags.checking_disabled = cd;
    if (request_.on_ask)
      request_.on_ask(AskStep{"resolver", "", request_.resolvers[index].to_string(), request_.resolvers[index].address, qname,
                              dns::type_name(qtype)});
    client_.query(request_.resolvers[index], qname, qtype, flags,
                  [this, qname, qtype, cd, done, index](DnsResult r) {
                    facts::Lookup l = to_lookup(r);
                    if (!answered(l) && l.outcome != "malformed" && index + 1 < request_.resolvers.size() &&
                        Clock::now() < request_.deadline) {
                      resolve(qname, qtype, cd, done, index + 1);
                      return;
                    }
                    done(std::move(l));
                  });
  }

  void start_name(std::size_t i) {
    const std::string name = out_.names[i].name;
    resolve(name, dns::rrtype::A, false, [this, i](facts::Lookup l) {
      bool retry = l.outcome == "servfail";
      if (request_.on_addresses) request_.on_addresses(out_.names[i], l);
      start_reverse(l.values("A"), dns::rrtype::A);
      out_.names[i].a = std::move(l);
      // A SERVFAIL that goes away with CD=1 is a DNSSEC validation failure (RFC 4035 §3.2.2).
      if (retry)
        resolve(out_.names[i].name, dns::rrtype::A, true, [this, i](facts::Lookup cd) { out_.names[i].a_cd = std::move(cd); });
    });
    resolve(name, dns::rrtype::AAAA, false, [this, i](facts::Lookup l) {
      bool retry = l.outcome == "servfail";
      if (request_.on_addresses) request_.on_addresses(out_.names[i], l);
      start_reverse(l.values("AAAA"), dns::rrtype::AAAA);
      out_.names[i].aaaa = std::move(l);
      if (retry)
        resolve(out_.names[i].name, dns::rrtype::AAAA, true,
                [this, i](facts::Lookup cd) { out_.names[i].aaaa_cd = std::move(cd); });
    });
  }

  // RFC 8659 §3: the CA looks for CAA at the name and each parent up to the TLD; all levels
  // are asked at once, as Boulder does, and the rules pick the relevant set.
  void start_caa() {
    std::set<std::string> domains;
    for (const auto& n : out_.names)
      for (const auto& d : dns::ancestors_to_tld(n.name)) domains.insert(d);
    for (const auto& d : domains)
      resolve(d, dns::rrtype::CAA, false, [this, d](facts::Lookup l) { caa_[d] = std::move(l); });
  }

  // --- delegation walk -------------------------------------------------------------------

  void start_walk() {
    std::vector<NsTarget> roots;
    for (const auto& r : request_.roots) {
      NsTarget t{r.name, {}};
      // IPv4 first: a machine without IPv6 connectivity must still complete the walk.
      for (const auto& a : r.addresses)
        if (a.find(':') == std::string::npos) t.addresses.push_back(a);
      for (const auto& a : r.addresses)
        if (a.find(':') != std::string::npos) t.addresses.push_back(a);
      if (!t.addresses.empty()) roots.push_back(std::move(t));
    }
    if (roots.empty()) {
      out_.delegation.status = "failed";
      out_.incomplete.push_back("no root server address to start the delegation walk");
      return;
    }
    walk_level("", std::move(roots), 0, 0);
  }

  void walk_level(std::string level_zone, std::vector<NsTarget> servers, std::size_t index, int step) {
    if (index >= servers.size() || index >= max_servers_per_level) {
      out_.delegation.status = "failed";
      out_.delegation.parent_zone = level_zone;
      return;
    }
    if (servers[index].addresses.empty()) {
      // No glue: resolve the server's name first, then ask it.
      std::string ns_name = servers[index].name;
      resolve(ns_name, dns::rrtype::A, false,
              [this, level_zone, servers, index, step](facts::Lookup l) mutable {
                servers[index].addresses = l.values("A");
                if (servers[index].addresses.empty()) {
                  walk_level(level_zone, servers, index + 1, step);
                  return;
                }
                walk_level(level_zone, servers, index, step);
              });
      return;
    }
    dns::QueryFlags flags;
    flags.recursion_desired = false;
    DnsServer server{servers[index].addresses.front(), 53};
    if (request_.on_ask)
      request_.on_ask(AskStep{"walk", level_zone, servers[index].name, server.address, request_.zone, "NS"});
    client_.query(server, request_.zone, dns::rrtype::NS, flags,
                  [this, level_zone, servers, index, step](DnsResult r) {
                    facts::Lookup l = to_lookup(r);
                    l.server_name = servers[index].name;
                    out_.delegation.walk.push_back(facts::WalkStep{level_zone.empty() ? "." : level_zone, l});
                    on_walk_answer(level_zone, servers, index, step, r);
                  },
                  level_zone);
  }

  void on_walk_answer(const std::string& level_zone, const std::vector<NsTarget>& servers, std::size_t index,
                      int step, const DnsResult& r) {
    const std::string& zone = request_.zone;
    if (r.status != DnsResult::Status::response || !r.response ||
        (r.response->rcode != dns::rcode::NOERROR && r.response->rcode != dns::rcode::NXDOMAIN)) {
      walk_level(level_zone, servers, index + 1, step);
      return;
    }
    const dns::Message& m = *r.response;
    if (m.rcode == dns::rcode::NXDOMAIN) {
      // The parent says the name does not exist: no delegation, so the domain is not
      // registered (or has lapsed and been removed from the registry's zone).
      out_.delegation.status = "not-delegated";
      out_.delegation.parent_zone = level_zone.empty() ? "." : level_zone;
      return;
    }
    // An authoritative NS answer for the zone itself: this server serves the parent and the
    // child at once, so its answer stands for the parent's view too.
    if (m.aa) {
      std::vector<std::string> ns;
      for (const auto& rec : m.answer)
        if (rec.type == dns::rrtype::NS && rec.name == zone) ns.push_back(rec.data);
      if (!ns.empty()) {
        delegated(level_zone, ns, m);
        return;
      }
      out_.delegation.status = "not-delegated";
      out_.delegation.parent_zone = level_zone.empty() ? "." : level_zone;
      return;
    }
    if (!has_ns_referral(m)) {
      walk_level(level_zone, servers, index + 1, step);
      return;
    }
    std::string cut;
    std::vector<std::string> ns;
    for (const auto& rec : m.authority) {
      if (rec.type != dns::rrtype::NS) continue;
      if (cut.empty()) cut = rec.name;
      if (rec.name == cut) ns.push_back(rec.data);
    }
    // A referral must lead strictly downwards towards the zone, or the walk could loop.
    bool downward = dns::is_subdomain_or_equal(zone, cut) && cut != level_zone &&
                    (level_zone.empty() || dns::is_subdomain_or_equal(cut, level_zone));
    if (!downward || step + 1 >= max_walk_steps) {
      walk_level(level_zone, servers, index + 1, step);
      return;
    }
    if (cut == zone) {
      delegated(level_zone, ns, m);
      return;
    }
    walk_level(cut, targets_from(ns, m), 0, step + 1);
  }

  static std::vector<NsTarget> targets_from(const std::vector<std::string>& ns, const dns::Message& m) {
    std::vector<NsTarget> out;
    for (const auto& name : ns) {
      NsTarget t{name, {}};
      for (std::uint16_t type : {dns::rrtype::A, dns::rrtype::AAAA})
        for (const auto& rec : m.additional)
          if (rec.type == type && rec.name == name) t.addresses.push_back(rec.data);
      out.push_back(std::move(t));
    }
    // Servers with glue first: they can be asked at once.
    std::stable_partition(out.begin(), out.end(), [](const NsTarget& t) { return !t.addresses.empty(); });
    return out;
  }

  void delegated(const std::string& level_zone, const std::vector<std::string>& ns, const dns::Message& m) {
    auto& d = out_.delegation;
    d.status = "delegated";
    d.parent_zone = level_zone.empty() ? "." : level_zone;
    d.parent_ns = ns;
    std::sort(d.parent_ns.begin(), d.parent_ns.end());
    d.parent_ns.erase(std::unique(d.parent_ns.begin(), d.parent_ns.end()), d.parent_ns.end());
    for (const auto& t : targets_from(d.parent_ns, m)) probe_server(t, true);
  }

  // Asks one nameserver of the zone for its SOA and NS without recursion: a server that is
  // delegated to must answer authoritatively (RFC 1034 §4.2.2), otherwise it is lame.
  void probe_server(NsTarget target, bool in_parent) {
    if (!probed_.insert(target.name).second) return;
    if (target.addresses.empty()) {
      resolve(target.name, dns::rrtype::A, false, [this, target, in_parent](facts::Lookup l) mutable {
        target.addresses = l.values("A");
        if (target.addresses.empty()) {
          facts::ServerFacts s;
          s.name = target.name;
          s.address_source = "unresolved";
          s.in_parent = in_parent;
          s.in_child = !in_parent;
          s.soa.qname = s.ns.qname = request_.zone;
          s.soa.outcome = s.ns.outcome = "not-sent";
          s.soa.error = s.ns.error = "the nameserver's name does not resolve (" + l.outcome + ")";
          out_.delegation.servers.push_back(std::move(s));
          return;
        }
        probe_server_at(target.name, target.addresses.front(), "resolver", in_parent);
      });
      return;
    }
    probe_server_at(target.name, target.addresses.front(), "glue", in_parent);
  }

  void probe_server_at(const std::string& name, const std::string& address, const std::string& source, bool in_parent) {
    std::size_t slot = out_.delegation.servers.size();
    facts::ServerFacts s;
    s.name = name;
    s.address = address;
    s.address_source = source;
    s.in_parent = in_parent;
    s.in_child = !in_parent;
    out_.delegation.servers.push_back(std::move(s));
    dns::QueryFlags flags;
    flags.recursion_desired = false;
    DnsServer server{address, 53};
    if (request_.on_ask) request_.on_ask(AskStep{"zone", request_.zone, name, address, request_.zone, "SOA"});
    client_.query(server, request_.zone, dns::rrtype::SOA, flags, [this, slot, name](DnsResult r) {
      auto l = to_lookup(r);
      l.server_name = name;
      out_.delegation.servers[slot].soa = std::move(l);
    });
    // The zone's own answers for the certified names, to compare with the resolver's cached ones.
    for (const auto& [qname, qtype] : zone_questions()) {
      client_.query(server, qname, qtype, flags, [this, slot, name](DnsResult r) {
        auto l = to_lookup(r);
        l.server_name = name;
        out_.delegation.servers[slot].records.push_back(std::move(l));
      });
    }
    client_.query(server, request_.zone, dns::rrtype::NS, flags, [this, slot, name](DnsResult r) {
      auto l = to_lookup(r);
      l.server_name = name;
      out_.delegation.servers[slot].ns = l;
      if (!r.response || !r.response->aa) return;
      auto& child = out_.delegation.child_ns;
      for (const auto& ns : l.values("NS")) {
        if (std::find(child.begin(), child.end(), ns) == child.end()) {
          child.push_back(ns);
          std::sort(child.begin(), child.end());
        }
        // A server named only in the child's NS set is asked too: it is used by resolvers
        // that prefer the child's data.
        const auto& parent = out_.delegation.parent_ns;
        if (std::find(parent.begin(), parent.end(), ns) == parent.end()) probe_server(NsTarget{ns, {}}, false);
      }
      for (auto& s : out_.delegation.servers) {
        if (std::find(child.begin(), child.end(), s.name) != child.end()) s.in_child = true;
      }
    });
  }

  // A and AAAA of each certified name inside the zone, and CAA at each of their levels inside
  // the zone (the levels above belong to other zones and are not this zone's to change).
  std::vector<std::pair<std::string, std::uint16_t>> zone_questions() const {
    std::vector<std::pair<std::string, std::uint16_t>> out;
    std::set<std::string> caa_levels;
    for (const auto& n : out_.names) {
      if (!dns::is_subdomain_or_equal(n.name, request_.zone)) continue;
      out.emplace_back(n.name, dns::rrtype::A);
      out.emplace_back(n.name, dns::rrtype::AAAA);
      for (const auto& d : dns::ancestors_to_tld(n.name))
        if (dns::is_subdomain_or_equal(d, request_.zone)) caa_levels.insert(d);
    }
    for (const auto& d : caa_levels) out.emplace_back(d, dns::rrtype::CAA);
    return out;
  }

  // --- the hosting server's own names ---------------------------------------------------

  // PTR of each address, then the address records of each name it gives, of the address's
  // family: the PTR name is the address's own only when it leads back to it.
  void start_reverse(const std::vector<std::string>& addresses, std::uint16_t family) {
    if (!request_.reverse) return;
    for (const auto& address : addresses) {
      const std::string rname = reverse_name(address);
      if (rname.empty() || !reversed_.insert(address).second) continue;
      const std::size_t slot = out_.reverse.size();
      out_.reverse.push_back(facts::ReverseFact{address, {}, {}});
      out_.reverse[slot].ptr.qname = rname;
      out_.reverse[slot].ptr.qtype = "PTR";
      resolve(rname, dns::rrtype::PTR, false, [this, slot, family](facts::Lookup l) {
        auto targets = l.values("PTR");
        out_.reverse[slot].ptr = std::move(l);
        if (targets.size() > max_ptr_names) targets.resize(max_ptr_names);
        for (const auto& t : targets) {
          std::string name = t;
          if (!name.empty() && name.back() == '.') name.pop_back();
          resolve(name, family, false, [this, slot](facts::Lookup f) { out_.reverse[slot].forward.push_back(std::move(f)); });
        }
      });
    }
  }

  void start_account(const AccountQuery& q) {
    const std::size_t slot = out_.accounts.size();
    out_.accounts.push_back(facts::AccountFact{q.provider, q.name, {}, {}});
    resolve(q.name, dns::rrtype::A, false, [this, slot](facts::Lookup l) { out_.accounts[slot].a = std::move(l); });
    resolve(q.name, dns::rrtype::AAAA, false, [this, slot](facts::Lookup l) { out_.accounts[slot].aaaa = std::move(l); });
  }

  // --- provider nameservers --------------------------------------------------------------

  void start_provider(const ProviderQuery& p) {
    std::size_t slot = out_.provider_nameservers.size();
    out_.provider_nameservers.push_back(facts::ProviderNameservers{p.provider, p.nameservers, {}});
    provider_server(slot, 0);
  }

  void provider_server(std::size_t slot, std::size_t index) {
    const auto& nameservers = out_.provider_nameservers[slot].nameservers;
    if (index >= nameservers.size() || index >= max_provider_servers) return;
    std::string ns = nameservers[index];
    resolve(ns, dns::rrtype::A, false, [this, slot, index, ns](facts::Lookup l) {
      auto addresses = l.values("A");
      out_.provider_nameservers[slot].addresses.push_back(std::move(l));
      if (addresses.empty()) {
        provider_server(slot, index + 1);
        return;
      }
      ask_provider(slot, index, ns, addresses.front());
    });
  }

  void ask_provider(std::size_t slot, std::size_t index, const std::string& ns, const std::string& address) {
    dns::QueryFlags flags;
    flags.recursion_desired = false;
    DnsServer server{address, 53};
    auto pending = std::make_shared<int>(0);
    auto failed = std::make_shared<bool>(false);
    for (std::size_t i = 0; i < out_.names.size(); ++i) {
      if (request_.on_ask)
        request_.on_ask(AskStep{"provider", out_.provider_nameservers[slot].provider, ns, address, out_.names[i].name, "A/AAAA"});
      for (std::uint16_t type : {dns::rrtype::A, dns::rrtype::AAAA}) {
        ++*pending;
        client_.query(server, out_.names[i].name, type, flags,
                      [this, slot, index, i, type, ns, pending, failed](DnsResult r) {
                        auto l = to_lookup(r);
                        l.server_name = ns;
                        if (!answered(l)) *failed = true;
                        auto& list = type == dns::rrtype::A ? out_.names[i].provider_a : out_.names[i].provider_aaaa;
                        list.push_back(std::move(l));
                        // A provider server that did not respond is replaced by the next one once
                        // all of its questions are back.
                        if (--*pending == 0 && *failed) provider_server(slot, index + 1);
                      });
      }
    }
  }

  DnsClient& client_;
  const DnsProbeRequest& request_;
  facts::Facts& out_;
  std::map<std::string, facts::Lookup> caa_;
  std::set<std::string> probed_;
  std::set<std::string> reversed_;
};

} // namespace

std::string reverse_name(const std::string& address) {
  unsigned char bytes[16];
  if (inet_pton(AF_INET, address.c_str(), bytes) == 1)
    return std::to_string(bytes[3]) + "." + std::to_string(bytes[2]) + "." + std::to_string(bytes[1]) + "." +
           std::to_string(bytes[0]) + ".in-addr.arpa";
  if (inet_pton(AF_INET6, address.c_str(), bytes) == 1) {
    static const char* hex = "0123456789abcdef";
    std::string out;
    for (int i = 15; i >= 0; --i) {
      out += hex[bytes[i] & 15];
      out += '.';
      out += hex[bytes[i] >> 4];
      out += '.';
    }
    return out + "ip6.arpa";
  }
  return "";
}

facts::Lookup to_lookup(const DnsResult& r) {
  facts::Lookup l;
  l.server = r.server.to_string();
  l.qname = r.qname;
  l.qtype = dns::type_name(r.qtype);
  l.recursion_desired = r.flags.recursion_desired;
  l.checking_disabled = r.flags.checking_disabled;
  l.elapsed_ms = r.elapsed_ms;
  l.error = r.error;
  switch (r.status) {
  case DnsResult::Status::timeout: l.outcome = "timeout"; return l;
  case DnsResult::Status::connection_refused: l.outcome = "connection-refused"; return l;
  case DnsResult::Status::malformed: l.outcome = "malformed"; return l;
  case DnsResult::Status::error: l.outcome = "error"; return l;
  case DnsResult::Status::not_sent: l.outcome = "not-sent"; return l;
  case DnsResult::Status::not_allowed: l.outcome = "not-allowed"; return l;
  case DnsResult::Status::response: break;
  }
  if (!r.response) {
    l.outcome = "error";
    return l;
  }
  const dns::Message& m = *r.response;
  l.rcode = dns::rcode_name(m.rcode);
  l.aa = m.aa;
  l.ad = m.ad;
  l.tc = m.tc;
  for (const auto& rec : m.answer) l.answer.push_back(to_record_fact(rec));
  for (const auto& rec : m.authority) l.authority.push_back(to_record_fact(rec));
  for (const auto& rec : m.additional)
    if (rec.type == dns::rrtype::A || rec.type == dns::rrtype::AAAA) l.glue.push_back(to_record_fact(rec));
  for (const auto& e : m.extended_errors) l.ede.push_back(facts::ExtendedErrorFact{e.code, e.text});
  switch (m.rcode) {
  case dns::rcode::NOERROR: {
    const std::string want = l.qtype;
    if (!l.values(want).empty()) l.outcome = "answer";
    else if (!m.aa && !r.flags.recursion_desired && has_ns_referral(m)) l.outcome = "referral";
    else l.outcome = "nodata";
    break;
  }
  case dns::rcode::NXDOMAIN: l.outcome = "nxdomain"; break;
  case dns::rcode::SERVFAIL: l.outcome = "servfail"; break;
  case dns::rcode::REFUSED: l.outcome = "refused"; break;
  default: l.outcome = "rcode"; break;
  }
  return l;
}

void gather_dns(DnsClient& client, const DnsProbeRequest& request, facts::Facts& out) {
  Gatherer g(client, request, out);
  g.start();
  client.run(request.deadline);
  g.finish();
}

class DnsGather::Impl : public Gatherer {
 public:
  using Gatherer::Gatherer;
};

DnsGather::DnsGather(DnsClient& client, const DnsProbeRequest& request, facts::Facts& out)
    : impl_(std::make_unique<Impl>(client, request, out)) {}

DnsGather::~DnsGather() = default;

void DnsGather::start() { impl_->start(); }

void DnsGather::finish() { impl_->finish(); }

} // namespace certdoctor::probe
