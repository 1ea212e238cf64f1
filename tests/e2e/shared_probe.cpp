// Several checks at once in one process, sharing one probe::SharedProbes, against the lab's real
// servers (driven by tests/e2e/shared_probe.py, inside the lab's network namespace).
//
//   shared_probe checks --resolver IP --root-hints FILE --rules-dir DIR --ca-file FILE
//                       [--ct-url URL] [--timeout S] DOMAIN...
//     Checks every domain alone, one after the other (nothing shared), then all at once on one
//     probe::Engine (a calling thread each), sharing one SharedProbes. Prints JSON: per domain and run the findings, the
//     verdict, queries sent and a digest of the DNS facts without their timings; and for the
//     shared run the queries sent per server and the answers taken from the shared cache.
//
//   shared_probe web --address IP --probes K --connections M --timeout S
//     K web probes at once on one multi handle (each a check of NAME-i at IP), sharing one SharedProbes that allows
//     M connections at a time to one address (M = 0: nothing shared). Prints JSON: per probe the
//     outcome and error of every request.
#include <algorithm>
#include <chrono>
#include <iostream>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "pipeline/check.hpp"
#include "pipeline/knowledge.hpp"
#include "probe/shared.hpp"
#include "probe/curl_owner.hpp"
#include "probe/engine.hpp"
#include "probe/web_probe.hpp"

using namespace certdoctor;
using nlohmann::json;

namespace {

std::string arg(std::vector<std::string>& args, const std::string& name, const std::string& fallback = "") {
  auto it = std::find(args.begin(), args.end(), name);
  if (it == args.end() || it + 1 == args.end()) return fallback;
  std::string value = *(it + 1);
  args.erase(it, it + 2);
  return value;
}

json lookup_digest(const facts::Lookup& l) {
  auto values = l.values(l.qtype);
  std::sort(values.begin(), values.end());
  return json{{"q", l.qname + "/" + l.qtype}, {"server", l.server}, {"outcome", l.outcome}, {"values", values}};
}

// The DNS facts of a check without what differs from one run to the next (timings, TTLs, order
// of arrival).
json dns_digest(const facts::Facts& f) {
  json names = json::array();
  for (const auto& n : f.names) {
    json caa = json::array();
    for (const auto& c : n.caa) caa.push_back(lookup_digest(c));
    names.push_back({{"name", n.name}, {"a", lookup_digest(n.a)}, {"aaaa", lookup_digest(n.aaaa)}, {"caa", caa}});
  }
  json walk = json::array();
  for (const auto& s : f.delegation.walk) {
    json authority = json::array();
    for (const auto& r : s.lookup.authority) authority.push_back(r.name + " " + r.type + " " + r.data);
    std::sort(authority.begin(), authority.end());
    walk.push_back({{"zone", s.zone}, {"lookup", lookup_digest(s.lookup)}, {"authority", authority}});
  }
  json servers = json::array();
  for (const auto& s : f.delegation.servers) servers.push_back(s.name + " " + s.address + " " + s.soa.outcome + " " + s.ns.outcome);
  std::sort(servers.begin(), servers.end());
  json providers = json::array();
  for (const auto& p : f.provider_nameservers)
    for (const auto& a : p.addresses) providers.push_back(lookup_digest(a));
  return {{"names", names},
          {"walk", walk},
          {"status", f.delegation.status},
          {"parent_ns", f.delegation.parent_ns},
          {"child_ns", f.delegation.child_ns},
          {"servers", servers},
          {"providers", providers},
          {"incomplete", f.incomplete}};
}

json outcome_of(const facts::Facts& f, const pipeline::Knowledge& k) {
  const auto d = pipeline::diagnose(f, k, "en");
  std::vector<std::string> ids;
  for (const auto& x : d.findings) ids.push_back(x.id);
  std::sort(ids.begin(), ids.end());
  std::vector<std::string> not_sent;
  for (const auto& n : f.names)
    for (const auto* l : {&n.a, &n.aaaa})
      if (l->outcome == "not-sent") not_sent.push_back(l->qname + ": " + l->error);
  return {{"findings", ids},
          {"verdict", d.report.verdict},
          {"queries_sent", f.queries_sent},
          {"dns", dns_digest(f)},
          {"ct", {{"outcome", f.ct.fetch.outcome}, {"certificates", f.ct.certificates.size()}, {"from_cache", f.ct.fetch.from_cache}}},
          {"web", {{"http", f.web.http.size()}, {"tls", f.web.tls.size()}}},
          {"elapsed_ms", f.elapsed_ms}};
}

int checks(std::vector<std::string> args) {
  pipeline::CheckOptions base;
  base.resolvers = {arg(args, "--resolver")};
  base.root_hints = arg(args, "--root-hints");
  const std::string rules_dir = arg(args, "--rules-dir");
  base.ca_file = arg(args, "--ca-file");
  base.ct_url = arg(args, "--ct-url", "none");
  base.status_url = "none";
  base.use_cache = false;
  base.allow_reserved = true;
  base.timeout_s = std::stod(arg(args, "--timeout", "20"));
  const pipeline::Knowledge k(rules_dir.empty() ? std::vector<std::string>{} : std::vector<std::string>{rules_dir});
  const std::vector<std::string> domains = args;

  json out = {{"alone", json::object()}, {"shared", json::object()}};
  for (const auto& d : domains) {
    auto o = base;
    o.domain = d;
    out["alone"][d] = outcome_of(pipeline::gather(o, k), k);
  }

  auto shared = std::make_shared<probe::SharedProbes>();
  // Every check of the shared run on one engine loop, as a batch runs them.
  auto engine = std::make_shared<probe::Engine>();
  std::vector<facts::Facts> results(domains.size());
  std::vector<std::thread> threads;
  const auto started = std::chrono::steady_clock::now();
  for (std::size_t i = 0; i < domains.size(); ++i)
    threads.emplace_back([&, i] {
      auto o = base;
      o.domain = domains[i];
      o.shared = shared;
      o.engine = engine;
      results[i] = pipeline::gather(o, k);
    });
  for (auto& t : threads) t.join();
  out["shared_elapsed_ms"] = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started).count();
  for (std::size_t i = 0; i < domains.size(); ++i) out["shared"][domains[i]] = outcome_of(results[i], k);
  out["sent_per_server"] = shared->politeness.dns_sent();
  out["answers_shared"] = shared->answers.hits();
  out["web_peak"] = shared->politeness.web_peak();
  std::cout << out.dump(1) << '\n';
  return 0;
}

json exchange(const facts::HttpExchange& x) { return {{"url", x.url}, {"outcome", x.outcome}, {"error", x.error}, {"status", x.status}}; }

int web(std::vector<std::string> args) {
  const std::string address = arg(args, "--address");
  const int probes = std::stoi(arg(args, "--probes", "8"));
  const int connections = std::stoi(arg(args, "--connections", "0"));
  const double timeout = std::stod(arg(args, "--timeout", "20"));
  std::shared_ptr<probe::SharedProbes> shared;
  if (connections > 0) {
    probe::PolitenessLimits limits;
    limits.web_connections = static_cast<std::size_t>(connections);
    limits.web_connects_per_s = 0;
    shared = std::make_shared<probe::SharedProbes>(limits);
  }
  const auto started = std::chrono::steady_clock::now();
  std::vector<facts::WebFacts> results(static_cast<std::size_t>(probes));
  // Every probe on one multi handle and one DNS loop, driven here as probe::Engine drives them.
  CURLM* multi = curl_multi_init();
  {
    probe::DnsLoop dns;
    std::vector<std::unique_ptr<probe::WebCheck>> checks;
    for (int i = 0; i < probes; ++i) {
      probe::WebRequest r;
      r.origin = started;
      r.deadline = started + std::chrono::milliseconds(static_cast<long long>(timeout * 1000));
      r.shared = shared;
      checks.push_back(std::make_unique<probe::WebCheck>(r, multi, dns));
      checks.back()->add("site-" + std::to_string(i) + ".example", "ipv4", {address});
      checks.back()->close();
    }
    for (;;) {
      int running = 0;
      curl_multi_perform(multi, &running);
      probe::hand_back_done(multi);
      dns.step();
      bool all = true;
      for (auto& c : checks) {
        c->step(std::chrono::steady_clock::now());
        all = all && c->done();
      }
      if (all) break;
      curl_multi_poll(multi, nullptr, 0, 10, nullptr);
    }
    for (int i = 0; i < probes; ++i) checks[static_cast<std::size_t>(i)]->finish(results[static_cast<std::size_t>(i)]);
  }
  curl_multi_cleanup(multi);
  json out = json::array();
  for (const auto& w : results) {
    json requests = json::array();
    for (const auto& c : w.http) {
      json hops = json::array();
      for (const auto& h : c.hops) hops.push_back(exchange(h));
      requests.push_back({{"kind", "challenge"}, {"stop", c.stop}, {"hops", hops}});
      for (const auto* x : {&c.unknown_host.challenge, &c.unknown_host.root, &c.unknown_host.name_root})
        requests.push_back({{"kind", "unknown-host"}, {"exchange", exchange(*x)}});
    }
    for (const auto& t : w.tls) requests.push_back({{"kind", "tls"}, {"outcome", t.outcome}, {"error", t.error}});
    out.push_back(requests);
  }
  std::cout << json{{"probes", out}, {"elapsed_ms", std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started).count()}}.dump(1)
            << '\n';
  return 0;
}

} // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty()) {
    std::cerr << "usage: shared_probe checks|web ... (see the top of tests/e2e/shared_probe.cpp)\n";
    return 2;
  }
  const std::string mode = args.front();
  args.erase(args.begin());
  try {
    if (mode == "checks") return checks(args);
    if (mode == "web") return web(args);
  } catch (const std::exception& e) {
    std::cerr << "shared_probe: " << e.what() << '\n';
    return 2;
  }
  std::cerr << "shared_probe: unknown mode " << mode << '\n';
  return 2;
}
