#include "pipeline/check.hpp"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <ctime>
#include <filesystem>
#include <sstream>

#include "probe/dns_client.hpp"
#include "probe/engine.hpp"
#include "probe/dns_probe.hpp"
#include "probe/outside_probe.hpp"
#include "probe/resolv_conf.hpp"
#include "probe/root_hints.hpp"
#include "probe/web_probe.hpp"
#include "view/derive.hpp"
#include "view/redirect.hpp"
#include "util/domain.hpp"
#include "util/error.hpp"
#include "util/text.hpp"

namespace certdoctor::pipeline {

namespace {

std::string now_rfc3339() {
  std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

// "2.5" rather than "2.500000" in messages.
std::string format_seconds(double s) {
  std::ostringstream out;
  out << s;
  return out.str();
}

ProgressEvent event(std::string kind, std::string name, std::string type = "", std::string address = "", std::string server = "",
                    std::string level = "") {
  ProgressEvent e;
  e.kind = std::move(kind);
  e.name = std::move(name);
  e.type = std::move(type);
  e.address = std::move(address);
  e.server = std::move(server);
  e.level = std::move(level);
  return e;
}

} // namespace

void validate(const CheckOptions& o, const Knowledge& k) {
  if (o.www && o.no_www) throw UsageError(Message{"www-both", {}});
  if (!(o.timeout_s >= 1 && o.timeout_s <= 600))
    throw UsageError(Message{"timeout-range", {{"value", printable(format_seconds(o.timeout_s))}}});
  if (o.provider != "auto") k.data.provider(o.provider);
  k.data.ca(o.ca);
  if (!o.ca_file.empty()) {
    std::error_code ec;
    if (!std::filesystem::is_regular_file(o.ca_file, ec))
      throw UsageError(Message{"ca-file-missing", {{"file", printable(o.ca_file)}}});
  }
  if (!o.account.empty()) {
    const bool label = o.account.size() <= 63 && o.account.front() != '-' && o.account.back() != '-' &&
                       std::all_of(o.account.begin(), o.account.end(), [](unsigned char c) {
                         return std::isalnum(c) || c == '-';
                       });
    if (!label)
      throw UsageError(Message{"account-invalid", {{"value", printable(o.account)}}});
  }
  for (const auto& ip : o.server_ips)
    if (!k.classifier.classify(ip).valid) throw UsageError(Message{"server-ip-invalid", {{"value", printable(ip)}}});
}

probe::ProbeJob probe_job(const CheckOptions& o, const Knowledge& k) {
  DomainName d = parse_domain(o.domain);
  const std::string ct_url = o.ct_url.empty() ? probe::default_ct_url : o.ct_url;
  const std::string status_url = o.status_url.empty() ? probe::default_status_url : o.status_url;

  const auto started = std::chrono::steady_clock::now();
  const auto deadline = started + std::chrono::milliseconds(static_cast<long long>(o.timeout_s * 1000));

  probe::ProbeJob job;
  job.started = started;
  facts::Facts& f = job.facts;
  f.tool_version = CERTDOCTOR_VERSION;
  f.collected_at = now_rfc3339();
  f.domain = d.ascii;
  f.domain_display = d.unicode;
  f.registered_domain = d.registered;
  f.public_suffix = d.public_suffix;
  f.request.input = o.domain;
  f.request.provider = o.provider;
  f.request.server_ips = o.server_ips;
  f.request.account = lower(o.account);
  f.request.allow_reserved = o.allow_reserved;
  f.request.ca = o.ca;
  f.request.timeout_s = o.timeout_s;
  // The providers' recommended multi-domain setting puts www on the certificate of a
  // registered domain; a subdomain's certificate carries the subdomain alone.
  f.request.www_explicit = o.www || o.no_www;
  f.request.www = o.www || (!o.no_www && d.ascii == d.registered);
  f.request.web = o.web;
  f.request.ca_file = o.ca_file;

  probe::DnsProbeRequest& req = job.dns;
  facts::NameFacts main_name;
  main_name.name = d.ascii;
  main_name.display = d.unicode;
  main_name.role = "main";
  req.names.push_back(main_name);
  if (f.request.www && d.ascii.rfind("www.", 0) != 0) {
    facts::NameFacts w;
    w.name = "www." + d.ascii;
    w.display = "www." + d.unicode;
    w.role = "www";
    req.names.push_back(w);
  }
  req.zone = d.registered;
  if (o.resolvers.empty()) {
    // No resolver to ask is our side's failure, reported like any other (resolver-unavailable,
    // exit 3) rather than as an error without a report.
    try {
      req.resolvers = probe::system_resolvers();
    } catch (const Error& e) {
      f.incomplete.push_back(e.what());
    }
  } else
    for (const auto& r : o.resolvers) req.resolvers.push_back(probe::parse_server(r));
  for (const auto& r : req.resolvers) f.request.resolvers.push_back(r.to_string());
  req.roots = o.root_hints.empty() ? probe::builtin_root_servers() : probe::load_root_hints(o.root_hints);
  for (const auto& [id, prof] : k.data.providers()) {
    if (prof.nameservers.empty()) continue;
    if (o.provider != "auto" && o.provider != id) continue;
    req.providers.push_back(probe::ProviderQuery{id, prof.nameservers});
  }
  // The account's own names at the providers: the provider is not known before DNS answers, so
  // every profile's names are asked (only the chosen one with --provider).
  if (!f.request.account.empty())
    for (const auto& [id, prof] : k.data.providers()) {
      if (o.provider != "auto" && o.provider != id) continue;
      for (std::string name : prof.account_names) {
        name.replace(name.find("{account}"), 9, f.request.account);
        req.accounts.push_back(probe::AccountQuery{id, name});
      }
    }
  req.deadline = deadline;

  // The outside sources run on the engine beside the DNS questions.
  probe::OutsideRequest& oreq = job.outside;
  oreq.registered_domain = d.registered;
  oreq.ct_url = ct_url;
  f.request.ct_url = ct_url;
  f.request.status_url = status_url;
  oreq.status_url = status_url;
  oreq.cache_dir = o.cache_dir;
  oreq.use_cache = o.use_cache;
  oreq.deadline = deadline;
  oreq.shared = o.shared;

  // The web probe takes each name's addresses as the resolver's answers arrive, so HTTP and TLS
  // run while the rest of DNS (delegation walk, CAA, provider nameservers) is still asked.
  // Addresses the CA could not reach (private, documentation) are not requested (`usable`).
  probe::WebRequest& wreq = job.web_request;
  wreq.ca_file = o.ca_file;
  wreq.deadline = deadline;
  wreq.origin = started;
  wreq.resolvers = req.resolvers;
  wreq.shared = o.shared;
  // The CA's one deadline for the whole fetch: following a chain past it judges nothing.
  if (const double budget = view::chain_budget_seconds(k.data.ca(o.ca)); budget > 0)
    wreq.chain_budget = std::chrono::milliseconds(static_cast<long long>(budget * 1000));
  // A copy of the classifier: the job outlives this function.
  wreq.usable = [classifier = k.classifier, allow = o.allow_reserved](const std::string& a) {
    return !classifier.unreachable_for_ca(classifier.classify(a), allow);
  };
  wreq.policy = probe::AddressPolicy(o.policy);
  job.web = o.web;
  if (o.progress) {
    // The steps as they happen, for a page that follows the check. The job outlives this
    // function, so each callback holds copies of what it uses; they run on the engine's thread.
    const auto tell = [progress = o.progress, started](ProgressEvent e) {
      e.at_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started).count();
      progress(e);
    };
    wreq.on_result = [tell](const probe::WebStep& s) {
      ProgressEvent e = event(s.kind, s.name, "", s.address);
      e.url = s.url;
      e.outcome = s.outcome;
      e.status = s.status;
      tell(e);
    };
    req.on_ask = [tell](const probe::AskStep& s) { tell(event(s.step, s.qname, s.qtype, s.address, s.server, s.level)); };
    // Called by the engine after it has handed the addresses to the web probe.
    req.on_addresses = [tell, web = o.web, usable = wreq.usable, max = wreq.max_addresses](const facts::NameFacts& name,
                                                                                          const facts::Lookup& lookup) {
      std::string list;
      std::size_t connects = 0;
      for (const auto& a : lookup.values(lookup.qtype)) list += (list.empty() ? "" : ", ") + a;
      tell(event("addresses", name.name, lookup.qtype, list));
      if (web)
        for (const auto& a : lookup.values(lookup.qtype))
          if (connects < max && (!usable || usable(a))) {
            ++connects;
            tell(event("connect", name.name, lookup.qtype, a));
          }
    };
    job.on_stage = [tell, domain = d.ascii](const std::string& stage) { tell(event(stage, domain)); };
  }

  probe::DnsClient::Options& copts = job.dns_options;
  // Each attempt gets a share of the deadline so that a dead server leaves time for the rest.
  copts.attempt_timeout =
      std::chrono::milliseconds(std::clamp<long long>(static_cast<long long>(o.timeout_s * 1000 / 6), 300, 2000));
  copts.tries = 2;
  copts.shared = o.shared;
  if (o.policy != probe::AddressPolicy::Mode::open) {
    // The servers the operator configured are asked whatever their address (a resolver on
    // loopback is common); every other server (a delegation's, a provider's) only when the
    // policy admits its address.
    std::vector<std::string> configured;
    for (const auto& r : req.resolvers) configured.push_back(r.address);
    for (const auto& r : req.roots)
      for (const auto& a : r.addresses) try {
          configured.push_back(probe::parse_server(a).address);  // canonical, as the walk asks it
        } catch (const Error&) {
        }
    copts.refuse = [configured, policy = probe::AddressPolicy(o.policy)](const probe::DnsServer& server) -> std::string {
      if (std::find(configured.begin(), configured.end(), server.address) != configured.end()) return "";
      return policy.refusal(server.address);
    };
  }
  return job;
}

facts::Facts gather(const CheckOptions& o, const Knowledge& k) {
  probe::ProbeJob job = probe_job(o, k);
  if (o.engine) return o.engine->run(std::move(job));
  probe::Engine engine;
  return engine.run(std::move(job));
}

Diagnosis diagnose(const facts::Facts& facts, const Knowledge& k, const std::string& lang, const DiagnoseOptions& options) {
  Diagnosis d;
  d.view = view::derive(facts, view::DeriveContext{k.data, k.classifier});
  d.findings = rules::evaluate(k.catalogue, d.view);
  if (options.view_facts || !d.view.contains("facts")) {
    d.report = report::build(facts, d.view, d.findings, k.catalogue, k.sources, lang, options.picture);
  } else {
    nlohmann::json facts_json = std::move(d.view["facts"]);
    d.view.erase("facts");
    d.report = report::build_with_facts(facts, d.view, std::move(facts_json), d.findings, k.catalogue, k.sources, lang,
                                        options.picture);
  }
  return d;
}

int exit_status(const Diagnosis& d) {
  if (d.report.verdict == "incomplete") return exit_incomplete;
  return d.report.verdict == "fail" ? exit_problems : exit_ok;
}

} // namespace certdoctor::pipeline
