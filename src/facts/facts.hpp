#pragma once
// The facts a diagnosis rests on: plain data gathered by the probes, with no judgement in it.
// Everything here serialises to JSON and back, so a saved facts file replays a diagnosis offline
// (`certdoctor explain --facts FILE`). Field names are part of the rule vocabulary: rules/*.yaml
// refer to them through the view built in src/rules/derive.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "facts/outside.hpp"
#include "facts/web.hpp"

namespace certdoctor::facts {

/// The facts format version; bumped when a field changes meaning.
inline constexpr int schema_version = 1;

/// One resource record of an answer, in presentation form.
struct RecordFact {
  std::string name;
  std::string type;
  std::uint32_t ttl = 0;
  std::string data;
};

/// An Extended DNS Error option (RFC 8914) attached to a response.
struct ExtendedErrorFact {
  int code = 0;
  std::string text;
};

/// One DNS question sent to one server and what came back.
/// `outcome` classifies the response. A response came back:
///   "answer", "nodata", "nxdomain", "referral"   usable answers
///   "servfail", "refused", "rcode"                an error rcode ("rcode": another one than those)
/// or none did (transport failures):
///   "timeout", "connection-refused" (TCP), "malformed" (unparseable), "error", and
///   "not-sent" when the deadline passed before the question could be asked, and
///   "not-allowed" when the server's address is one the probe policy of the service refuses
///   (loopback, private, ...: `error` names it; the CA's resolver cannot ask it either).
struct Lookup {
  std::string server;       // address of the server asked, "192.0.2.53" or "[2001:db8::53]:5353"
  std::string server_name;  // its host name when known (authoritative servers)
  std::string qname;
  std::string qtype;
  bool recursion_desired = true;
  bool checking_disabled = false;
  std::string outcome = "not-sent";
  std::string rcode;
  bool aa = false;
  bool ad = false;
  bool tc = false;
  std::vector<RecordFact> answer;     // answer section (CNAMEs included)
  std::vector<RecordFact> authority;  // authority section (referrals, SOA of negative answers)
  std::vector<RecordFact> glue;       // address records from the additional section
  std::vector<ExtendedErrorFact> ede;
  std::string error;                  // text of a transport failure
  double elapsed_ms = 0;

  /// True when no usable DNS response came back (a transport failure; see `outcome`).
  bool transport_failed() const;
  /// True when the lookup failed: a transport failure or an error rcode.
  bool failed() const;

  /// Record data of the answer records of `type` owned by the end of the CNAME chain.
  std::vector<std::string> values(const std::string& type) const;
  /// CNAME targets followed from qname, in order.
  std::vector<std::string> cname_chain() const;
};

/// Facts about one name the certificate will carry.
struct NameFacts {
  std::string name;     // ASCII (A-label) form, lower case, no trailing dot
  std::string display;  // Unicode form for people (equal to name when not an IDN)
  std::string role;     // "main" for DOMAIN, "www" for the added www name
  Lookup a;             // through the recursive resolver
  Lookup aaaa;
  std::optional<Lookup> a_cd;     // A again with CD=1, asked only when `a` failed (DNSSEC check)
  std::optional<Lookup> aaaa_cd;
  std::vector<Lookup> caa;        // CAA at the name, then each parent up to the TLD (RFC 8659 §3)
  std::vector<Lookup> provider_a; // A asked directly at provider nameservers (non-recursive)
  std::vector<Lookup> provider_aaaa;
};

/// An authoritative server of the checked zone, asked directly.
struct ServerFacts {
  std::string name;          // NS host name
  std::string address;       // one of its addresses
  std::string address_source;// "glue", "resolver", or "unresolved"
  bool in_parent = false;    // listed in the parent's referral
  bool in_child = false;     // listed in the zone's own NS RRset
  Lookup soa;                // SOA of the zone, RD=0: an authoritative answer (AA) is expected
  Lookup ns;                 // NS of the zone, RD=0: the child's own NS RRset
  /// What the zone says now, to compare with what the resolver still serves from its cache:
  /// A and AAAA of each certified name and CAA at each of their levels inside the zone, RD=0,
  /// TTLs as the zone holds them, the SOA in the authority section of a negative answer.
  /// Empty in facts written before these were asked.
  std::vector<Lookup> records;
};

/// One step of the iterative walk from the root towards the zone.
struct WalkStep {
  std::string zone;          // the zone the asked server is authoritative for ("." for the root)
  Lookup lookup;             // NS question for the checked zone, RD=0
};

/// How the registered domain is delegated, found by walking from the root as a CA's resolver would.
/// `status`: "delegated", "not-delegated" (the parent answers NXDOMAIN: unregistered or lapsed),
/// "failed" (the walk could not be completed), or "not-checked".
struct DelegationFacts {
  std::string zone;
  std::string status = "not-checked";
  std::string parent_zone;
  std::vector<std::string> parent_ns;
  std::vector<std::string> child_ns;
  std::vector<WalkStep> walk;
  std::vector<ServerFacts> servers;
  /// The zone's NS through the recursive resolver (RD=1): the set it caches and its remaining
  /// TTL. "not-sent" in facts written before it was asked.
  Lookup resolver_ns;
};

/// A hosting provider's nameservers, asked directly for the certified names.
struct ProviderNameservers {
  std::string provider;                 // profile id
  std::vector<std::string> nameservers; // host names
  std::vector<Lookup> addresses;        // how the nameserver names were resolved
};

/// The reverse DNS of one address of a certified name: its PTR and, for each name the PTR
/// gives, that name's A or AAAA (the address's family), asked to see whether the name leads back
/// to the address (forward confirmation). Anyone can write any name into their own reverse zone;
/// only a name that resolves back is the address's.
struct ReverseFact {
  std::string address;
  Lookup ptr;                  // PTR of the address's reverse name, through the resolver
  std::vector<Lookup> forward; // A or AAAA of each PTR name, through the resolver
};

/// The account's own name at a provider (Sakura's initial domain ACCOUNT.sakura.ne.jp, Xserver's
/// SERVERID.xsrv.jp, from the profile's `account_names`), resolved through the resolver.
struct AccountFact {
  std::string provider;  // profile id
  std::string name;
  Lookup a;
  Lookup aaaa;
};

/// What the user asked for; recorded so that `explain` replays with the same intent.
struct RequestFacts {
  std::string input;                    // DOMAIN as typed
  std::string provider = "auto";        // sakura | xserver | generic | auto (a profile id)
  std::vector<std::string> server_ips;  // --server-ip
  std::string account;                  // --account: the account or server ID at the provider
  std::vector<std::string> resolvers;
  bool www = true;
  bool www_explicit = false;
  bool allow_reserved = false;
  std::string ca = "letsencrypt";
  double timeout_s = 0;
  std::string ct_url;
  std::string status_url;
  bool web = true;                      // the HTTP and TLS probes ran (--no-web turns them off)
  std::string ca_file;                  // --ca-file: trust store for the served chain ("" = system)
};

/// Everything gathered about one domain.
struct Facts {
  int version = schema_version;
  std::string tool_version;
  std::string collected_at;      // RFC 3339 UTC
  double elapsed_ms = 0;
  double dns_elapsed_ms = 0;     // from the start of the check until the last DNS answer
  RequestFacts request;
  std::string domain;            // ASCII form
  std::string domain_display;    // Unicode form
  std::string registered_domain; // from the Public Suffix List (private section included)
  std::string public_suffix;
  std::vector<NameFacts> names;
  DelegationFacts delegation;
  std::vector<ProviderNameservers> provider_nameservers;
  std::vector<ReverseFact> reverse;    // reverse DNS of every address of the certified names
  std::vector<AccountFact> accounts;   // the account's names at the providers (--account)
  CtFacts ct;                    // issuance history from Certificate Transparency
  StatusFacts ca_status;         // the CA's status page
  WebFacts web;                  // the challenge path on port 80 and the certificate on port 443
  std::vector<std::string> incomplete; // reasons the gathering could not be completed
  std::size_t queries_sent = 0;
};

void to_json(nlohmann::json&, const RecordFact&);
void from_json(const nlohmann::json&, RecordFact&);
void to_json(nlohmann::json&, const ExtendedErrorFact&);
void from_json(const nlohmann::json&, ExtendedErrorFact&);
void to_json(nlohmann::json&, const Lookup&);
void from_json(const nlohmann::json&, Lookup&);
void to_json(nlohmann::json&, const NameFacts&);
void from_json(const nlohmann::json&, NameFacts&);
void to_json(nlohmann::json&, const ServerFacts&);
void from_json(const nlohmann::json&, ServerFacts&);
void to_json(nlohmann::json&, const WalkStep&);
void from_json(const nlohmann::json&, WalkStep&);
void to_json(nlohmann::json&, const DelegationFacts&);
void from_json(const nlohmann::json&, DelegationFacts&);
void to_json(nlohmann::json&, const ProviderNameservers&);
void from_json(const nlohmann::json&, ProviderNameservers&);
void to_json(nlohmann::json&, const ReverseFact&);
void from_json(const nlohmann::json&, ReverseFact&);
void to_json(nlohmann::json&, const AccountFact&);
void from_json(const nlohmann::json&, AccountFact&);
void to_json(nlohmann::json&, const RequestFacts&);
void from_json(const nlohmann::json&, RequestFacts&);
void to_json(nlohmann::json&, const Facts&);
void from_json(const nlohmann::json&, Facts&);

/// Reads a facts file written by --facts-out ("-": standard input). Throws UsageError naming the
/// file and the fix when it cannot be read, is a directory, is not JSON, comes from another
/// format version (newer or older), lacks the domain or the names, or holds a value of the wrong
/// type (named by its path, e.g. "names[0].a.answer[1].ttl").
Facts load_file(const std::string& path);
/// The same for a document already read; `shown` names it in errors.
Facts parse_document(const std::string& text, const std::string& shown);
/// Writes facts as indented JSON. Throws certdoctor::Error naming the file on failure.
void save_file(const Facts&, const std::string& path);

/// A Facts value with every optional part present and every list holding one element;
/// the rule linter derives from it the set of fact names rules may use.
Facts sample();

} // namespace certdoctor::facts
