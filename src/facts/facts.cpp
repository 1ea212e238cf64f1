#include "facts/facts.hpp"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include "facts/json_fields.hpp"

#include "util/error.hpp"
#include "util/file.hpp"
#include "util/text.hpp"

namespace certdoctor::facts {

namespace {

template <typename T>
nlohmann::json opt_json(const std::optional<T>& v) {
  return v ? nlohmann::json(*v) : nlohmann::json(nullptr);
}

} // namespace

void to_json(nlohmann::json& j, const RecordFact& v) {
  j = nlohmann::json::object();
  CD_PUT(name); CD_PUT(type); CD_PUT(ttl); CD_PUT(data);
}
void from_json(const nlohmann::json& j, RecordFact& v) {
  CD_GET(name); CD_GET(type); CD_GET(ttl); CD_GET(data);
}

void to_json(nlohmann::json& j, const ExtendedErrorFact& v) {
  j = nlohmann::json::object();
  CD_PUT(code); CD_PUT(text);
}
void from_json(const nlohmann::json& j, ExtendedErrorFact& v) {
  CD_GET(code); CD_GET(text);
}

void to_json(nlohmann::json& j, const Lookup& v) {
  j = nlohmann::json::object();
  CD_PUT(server); CD_PUT(server_name); CD_PUT(qname); CD_PUT(qtype);
  CD_PUT(recursion_desired); CD_PUT(checking_disabled);
  CD_PUT(outcome); CD_PUT(rcode); CD_PUT(aa); CD_PUT(ad); CD_PUT(tc);
  CD_PUT(answer); CD_PUT(authority); CD_PUT(glue); CD_PUT(ede); CD_PUT(error); CD_PUT(elapsed_ms);
}
void from_json(const nlohmann::json& j, Lookup& v) {
  CD_GET(server); CD_GET(server_name); CD_GET(qname); CD_GET(qtype);
  CD_GET(recursion_desired); CD_GET(checking_disabled);
  CD_GET(outcome); CD_GET(rcode); CD_GET(aa); CD_GET(ad); CD_GET(tc);
  CD_GET(answer); CD_GET(authority); CD_GET(glue); CD_GET(ede); CD_GET(error); CD_GET(elapsed_ms);
}

void to_json(nlohmann::json& j, const NameFacts& v) {
  j = nlohmann::json::object();
  CD_PUT(name); CD_PUT(display); CD_PUT(role); CD_PUT(a); CD_PUT(aaaa);
  j["a_cd"] = opt_json(v.a_cd);
  j["aaaa_cd"] = opt_json(v.aaaa_cd);
  CD_PUT(caa); CD_PUT(provider_a); CD_PUT(provider_aaaa);
}
void from_json(const nlohmann::json& j, NameFacts& v) {
  CD_GET(name); CD_GET(display); CD_GET(role); CD_GET(a); CD_GET(aaaa);
  CD_GET(a_cd); CD_GET(aaaa_cd); CD_GET(caa); CD_GET(provider_a); CD_GET(provider_aaaa);
}

void to_json(nlohmann::json& j, const ServerFacts& v) {
  j = nlohmann::json::object();
  CD_PUT(name); CD_PUT(address); CD_PUT(address_source); CD_PUT(in_parent); CD_PUT(in_child); CD_PUT(soa); CD_PUT(ns);
  CD_PUT(records);
}
void from_json(const nlohmann::json& j, ServerFacts& v) {
  CD_GET(name); CD_GET(address); CD_GET(address_source); CD_GET(in_parent); CD_GET(in_child); CD_GET(soa); CD_GET(ns);
  CD_GET(records);
}

void to_json(nlohmann::json& j, const WalkStep& v) {
  j = nlohmann::json::object();
  CD_PUT(zone); CD_PUT(lookup);
}
void from_json(const nlohmann::json& j, WalkStep& v) {
  CD_GET(zone); CD_GET(lookup);
}

void to_json(nlohmann::json& j, const DelegationFacts& v) {
  j = nlohmann::json::object();
  CD_PUT(zone); CD_PUT(status); CD_PUT(parent_zone); CD_PUT(parent_ns); CD_PUT(child_ns);
  CD_PUT(walk); CD_PUT(servers); CD_PUT(resolver_ns);
}
void from_json(const nlohmann::json& j, DelegationFacts& v) {
  CD_GET(zone); CD_GET(status); CD_GET(parent_zone); CD_GET(parent_ns); CD_GET(child_ns);
  CD_GET(walk); CD_GET(servers); CD_GET(resolver_ns);
}

void to_json(nlohmann::json& j, const ProviderNameservers& v) {
  j = nlohmann::json::object();
  CD_PUT(provider); CD_PUT(nameservers); CD_PUT(addresses);
}
void from_json(const nlohmann::json& j, ProviderNameservers& v) {
  CD_GET(provider); CD_GET(nameservers); CD_GET(addresses);
}

void to_json(nlohmann::json& j, const ReverseFact& v) {
  j = nlohmann::json::object();
  CD_PUT(address); CD_PUT(ptr); CD_PUT(forward);
}
void from_json(const nlohmann::json& j, ReverseFact& v) {
  CD_GET(address); CD_GET(ptr); CD_GET(forward);
}

void to_json(nlohmann::json& j, const AccountFact& v) {
  j = nlohmann::json::object();
  CD_PUT(provider); CD_PUT(name); CD_PUT(a); CD_PUT(aaaa);
}
void from_json(const nlohmann::json& j, AccountFact& v) {
  CD_GET(provider); CD_GET(name); CD_GET(a); CD_GET(aaaa);
}

void to_json(nlohmann::json& j, const RequestFacts& v) {
  j = nlohmann::json::object();
  CD_PUT(input); CD_PUT(provider); CD_PUT(server_ips); CD_PUT(account); CD_PUT(resolvers); CD_PUT(www);
  CD_PUT(www_explicit); CD_PUT(allow_reserved); CD_PUT(ca); CD_PUT(timeout_s); CD_PUT(ct_url); CD_PUT(status_url);
  CD_PUT(web); CD_PUT(ca_file);
}
void from_json(const nlohmann::json& j, RequestFacts& v) {
  CD_GET(input); CD_GET(provider); CD_GET(server_ips); CD_GET(account); CD_GET(resolvers); CD_GET(www);
  CD_GET(www_explicit); CD_GET(allow_reserved); CD_GET(ca); CD_GET(timeout_s); CD_GET(ct_url); CD_GET(status_url);
  CD_GET(web); CD_GET(ca_file);
}

void to_json(nlohmann::json& j, const Facts& v) {
  j = nlohmann::json::object();
  CD_PUT(version); CD_PUT(tool_version); CD_PUT(collected_at); CD_PUT(elapsed_ms); CD_PUT(dns_elapsed_ms); CD_PUT(request);
  CD_PUT(domain); CD_PUT(domain_display); CD_PUT(registered_domain); CD_PUT(public_suffix);
  CD_PUT(names); CD_PUT(delegation); CD_PUT(provider_nameservers); CD_PUT(reverse); CD_PUT(accounts); CD_PUT(ct); CD_PUT(ca_status); CD_PUT(web); CD_PUT(incomplete);
  CD_PUT(queries_sent);
}
void from_json(const nlohmann::json& j, Facts& v) {
  CD_GET(version); CD_GET(tool_version); CD_GET(collected_at); CD_GET(elapsed_ms); CD_GET(dns_elapsed_ms); CD_GET(request);
  CD_GET(domain); CD_GET(domain_display); CD_GET(registered_domain); CD_GET(public_suffix);
  CD_GET(names); CD_GET(delegation); CD_GET(provider_nameservers); CD_GET(reverse); CD_GET(accounts); CD_GET(ct); CD_GET(ca_status); CD_GET(web); CD_GET(incomplete);
  CD_GET(queries_sent);
}

#undef CD_PUT
#undef CD_GET

bool Lookup::transport_failed() const {
  return outcome == "timeout" || outcome == "connection-refused" || outcome == "malformed" || outcome == "error" ||
         outcome == "not-sent" || outcome == "not-allowed";
}

bool Lookup::failed() const { return transport_failed() || outcome == "servfail" || outcome == "refused" || outcome == "rcode"; }

std::vector<std::string> Lookup::values(const std::string& want) const {
  // Follow the CNAME chain from qname so that records of other owners are not mixed in.
  std::string owner = qname;
  for (const auto& target : cname_chain()) owner = target;
  std::vector<std::string> out;
  for (const auto& r : answer)
    if (r.type == want && (r.name == owner || want == "CNAME")) out.push_back(r.data);
  return out;
}

std::vector<std::string> Lookup::cname_chain() const {
  std::vector<std::string> chain;
  std::string owner = qname;
  // Bounded by the answer size, so a CNAME loop in a hostile answer ends.
  for (std::size_t hop = 0; hop < answer.size(); ++hop) {
    bool advanced = false;
    for (const auto& r : answer) {
      if (r.type == "CNAME" && r.name == owner) {
        owner = r.data;
        chain.push_back(owner);
        advanced = true;
        break;
      }
    }
    if (!advanced) break;
  }
  return chain;
}

Facts parse_document(const std::string& text, const std::string& shown) {
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(text);
  } catch (const nlohmann::json::parse_error& e) {
    throw UsageError(Message{"facts-not-json", {{"file", shown}, {"detail", detail::problem_of(e)}}});
  }
  if (!j.is_object() || !j.contains("version"))
    throw UsageError(Message{"facts-no-version", {{"file", shown}}});
  const auto& version = j["version"];
  if (!version.is_number_integer())
    throw UsageError(Message{"facts-bad-version", {{"file", shown}, {"version", printable(version.dump(), 40)}}});
  if (version.get<long long>() > schema_version)
    throw UsageError(Message{"facts-newer", {{"file", shown}, {"version", version.dump()},
                                              {"supported", std::to_string(schema_version)}}});
  if (version.get<long long>() != schema_version)
    throw UsageError(Message{"facts-older", {{"file", shown}, {"version", version.dump()},
                                              {"supported", std::to_string(schema_version)}}});
  // What a diagnosis cannot do without: the domain and at least one certified name.
  if (!j.contains("domain") || !j["domain"].is_string() || j["domain"].get<std::string>().empty())
    throw UsageError(Message{"facts-no-domain", {{"file", shown}}});
  if (!j.contains("names") || !j["names"].is_array() || j["names"].empty())
    throw UsageError(Message{"facts-no-names", {{"file", shown}}});
  try {
    return j.get<Facts>();
  } catch (const detail::FieldError& e) {
    throw UsageError(Message{"facts-field", {{"file", shown}, {"field", e.path()}, {"detail", e.what()}}});
  } catch (const nlohmann::json::exception& e) {
    throw UsageError(Message{"facts-malformed", {{"file", shown}, {"detail", detail::problem_of(e)}}});
  }
}

Facts load_file(const std::string& path) {
  // Facts files of a few hundred kilobytes are usual; anything far beyond is not one.
  constexpr std::size_t max_size = 256u << 20;
  std::string text;
  if (path == "-") {
    std::ostringstream ss;
    ss << std::cin.rdbuf();
    text = ss.str();
    if (text.size() > max_size) throw UsageError(Message{"facts-too-large", {{"file", render_message(Message{"stdin", {}})}}});
    return parse_document(text, render_message(Message{"stdin", {}}));
  }
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec))
    throw UsageError(Message{"facts-directory", {{"file", printable(path)}}});
  if (std::filesystem::exists(path, ec) && std::filesystem::file_size(path, ec) > max_size)
    throw UsageError(Message{"facts-too-large", {{"file", printable(path)}}});
  if (!read_file(path, text)) {
    const std::string reason = std::strerror(errno);
    throw UsageError(Message{"facts-unreadable", {{"file", printable(path)}, {"reason", reason}}});
  }
  return parse_document(text, printable(path));
}

void save_file(const Facts& facts, const std::string& path) {
  std::ofstream out(path);
  if (!out) throw Error(Message{"facts-unwritable", {{"file", printable(path)}, {"reason", std::strerror(errno)}}});
  out << nlohmann::json(facts).dump(2) << '\n';
  out.flush();
  if (!out) throw Error(Message{"facts-unwritable", {{"file", printable(path)}, {"reason", std::strerror(errno)}}});
}

Facts sample() {
  Facts f;
  RecordFact rec{"example.jp", "A", 300, "203.0.113.10"};
  Lookup l;
  l.answer = {rec};
  l.authority = {rec};
  l.glue = {rec};
  l.ede = {ExtendedErrorFact{6, "DNSSEC Bogus"}};
  NameFacts n;
  n.name = "example.jp";
  n.a = n.aaaa = l;
  n.a.qname = "example.jp";
  n.a.qtype = "A";
  n.a.outcome = "answer";
  n.a_cd = n.aaaa_cd = l;
  n.caa = {l};
  n.provider_a = n.provider_aaaa = {l};
  f.names = {n};
  f.request.server_ips = {"203.0.113.10"};
  f.request.resolvers = {"192.0.2.53"};
  f.delegation.parent_ns = f.delegation.child_ns = {"ns1.example.jp"};
  f.delegation.walk = {WalkStep{".", l}};
  ServerFacts s;
  s.soa = s.ns = l;
  // The zone's servers give another address than the resolver's cached one: a propagation entry.
  Lookup zone_a = l;
  zone_a.qname = "example.jp";
  zone_a.qtype = "A";
  zone_a.outcome = "answer";
  zone_a.aa = true;
  zone_a.answer = {RecordFact{"example.jp", "A", 300, "203.0.113.20"}};
  s.records = {zone_a};
  f.delegation.servers = {s};
  f.delegation.zone = "example.jp";
  f.delegation.status = "delegated";
  f.delegation.resolver_ns = l;
  f.provider_nameservers = {ProviderNameservers{"sakura", {"ns1.dns.ne.jp"}, {l}}};
  f.reverse = {ReverseFact{"203.0.113.10", l, {l}}};
  f.accounts = {AccountFact{"sakura", "example.sakura.ne.jp", l, l}};
  f.request.account = "example";
  f.ct.certificates = {CtCertificate{"0a", "C=US, O=Let's Encrypt, CN=R11", "", "", "", {"example.jp"}, true}};
  f.ca_status.incidents = {StatusIncident{"id", "name", "status", "", "incident"}};
  HttpExchange hop;
  hop.url = "http://example.jp/.well-known/acme-challenge/x";
  hop.addresses_resolved = {"203.0.113.10"};
  hop.tls_version = "TLSv1.3";
  f.web.probed = true;
  hop.body_sha256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
  f.web.http = {HttpChallenge{"example.jp", "ipv4", "203.0.113.10", hop.url, {hop}, "answer", 120, {}}};
  f.web.http[0].unknown_host = {"certdoctor-x.invalid", hop, hop, hop};
  TlsProbe tls;
  CertificateFact cert;
  cert.dns_names = {"example.jp"};
  cert.crl_urls = cert.ocsp_urls = {"http://example.jp/"};
  tls.chain = {cert};
  f.web.tls = {tls};
  f.incomplete = {"reason"};
  return f;
}

} // namespace certdoctor::facts
