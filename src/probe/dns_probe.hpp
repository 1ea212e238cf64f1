#pragma once
// The DNS probe: asks every DNS question a diagnosis needs, concurrently on one DnsClient,
// and records the answers as facts. It judges nothing: a SERVFAIL or a timeout is recorded
// as the outcome of a lookup, for the rules to weigh.
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "facts/facts.hpp"
#include "probe/dns_client.hpp"
#include "probe/root_hints.hpp"

namespace certdoctor::probe {

/// A provider whose own nameservers are asked directly for the certified names, the way
/// support staff run `dig @ns1.xserver.jp NAME`.
struct ProviderQuery {
  std::string provider;                 // profile id
  std::vector<std::string> nameservers; // host names, in the profile's order
};

/// The account's own name at a provider, to be resolved (see facts::AccountFact).
struct AccountQuery {
  std::string provider;  // profile id
  std::string name;      // e.g. ACCOUNT.sakura.ne.jp
};

/// One question as it is sent, for a front end that shows a check's progress (DnsProbeRequest::
/// on_ask): `step` is "resolver" (the recursive resolver), "walk" (the delegation asked at a
/// server of the level `level`: "" the root, "jp"), "zone" (one of the zone's own nameservers) or
/// "provider" (a provider's nameserver, `level` its profile id).
struct AskStep {
  std::string step;
  std::string level;
  std::string server;   // the server's name, or its address for a resolver
  std::string address;
  std::string qname;
  std::string qtype;
};

/// What the DNS probe is to gather.
struct DnsProbeRequest {
  std::vector<facts::NameFacts> names;  // name, display and role set; the lookups are filled in
  std::string zone;                     // the registered domain, whose delegation is walked
  std::vector<DnsServer> resolvers;     // recursive resolvers, asked in order (the next on failure)
  std::vector<RootServer> roots;        // where the delegation walk starts
  std::vector<ProviderQuery> providers;
  std::vector<AccountQuery> accounts;
  /// Ask the PTR of every address of the certified names, and the A or AAAA of each name it
  /// gives (forward confirmation).
  bool reverse = true;
  std::chrono::steady_clock::time_point deadline;
  /// Called (on the probe's thread) as each A or AAAA answer of a certified name arrives from
  /// the resolver, so that probes of the addresses can start before the rest of DNS is done.
  std::function<void(const facts::NameFacts& name, const facts::Lookup& lookup)> on_addresses;
  /// Called (on the probe's thread) as the main questions are sent; optional, and kept cheap.
  std::function<void(const AskStep& step)> on_ask;
};

/// Runs every lookup of the request on `client` until done or the deadline, and stores the
/// results in `out.names`, `out.delegation`, `out.provider_nameservers` and `out.incomplete`.
void gather_dns(DnsClient& client, const DnsProbeRequest& request, facts::Facts& out);

/// The same as a state machine on a client whose loop someone else drives (probe::Engine):
/// start() asks the first questions, whose answers ask the next ones; once `client.pending()`
/// is 0 (or the deadline has passed and the loop ended the rest), finish() completes the facts.
/// `client`, `request` and `out` must outlive it.
class DnsGather {
 public:
  DnsGather(DnsClient& client, const DnsProbeRequest& request, facts::Facts& out);
  ~DnsGather();
  DnsGather(const DnsGather&) = delete;
  DnsGather& operator=(const DnsGather&) = delete;
  void start();
  void finish();

  class Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

/// The reverse-DNS name of an IPv4 or IPv6 address ("10.113.0.203.in-addr.arpa",
/// nibbles under ip6.arpa); "" for text that is no address.
std::string reverse_name(const std::string& address);

/// Converts one client result into a Lookup fact (outcome classified, records in
/// presentation form). Exposed for the unit tests.
facts::Lookup to_lookup(const DnsResult& result);

} // namespace certdoctor::probe
