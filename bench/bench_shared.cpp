// What a batch's checks gain and pay by sharing one probe::SharedProbes: the same list of domains
// checked at once without sharing, sharing with the default politeness limits, and sharing with
// no limits. Prints, per mode, the wall time, the DNS packets sent (all checks together) and
// those to the root server, and the answers taken from the shared cache.
//
//   bench_shared --resolver IP --root-hints FILE --rules-dir DIR --ca-file FILE [--copies N]
//                [--root-server IP] DOMAIN...
//
// --copies N checks the list N times over (the same domains again: more shared answers).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include "pipeline/check.hpp"
#include "pipeline/knowledge.hpp"
#include "probe/shared.hpp"

using namespace certdoctor;

namespace {

std::string arg(std::vector<std::string>& args, const std::string& name, const std::string& fallback = "") {
  auto it = std::find(args.begin(), args.end(), name);
  if (it == args.end() || it + 1 == args.end()) return fallback;
  std::string value = *(it + 1);
  args.erase(it, it + 2);
  return value;
}

void run(const char* mode, const pipeline::CheckOptions& base, const pipeline::Knowledge& k,
         const std::vector<std::string>& domains, std::shared_ptr<probe::SharedProbes> shared, const std::string& root) {
  std::vector<facts::Facts> results(domains.size());
  std::vector<std::thread> threads;
  const auto start = std::chrono::steady_clock::now();
  for (std::size_t i = 0; i < domains.size(); ++i)
    threads.emplace_back([&, i] {
      auto o = base;
      o.domain = domains[i];
      o.shared = shared;
      results[i] = pipeline::gather(o, k);
    });
  for (auto& t : threads) t.join();
  const double wall = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  std::size_t sent = 0, root_steps = 0;
  for (const auto& f : results) {
    sent += f.queries_sent;
    for (const auto& s : f.delegation.walk) root_steps += s.lookup.server == root;
  }
  std::size_t root_sent = root_steps;  // without sharing every walk step at the root is a packet
  std::size_t hits = 0;
  if (shared) {
    const auto per_server = shared->politeness.dns_sent();
    const auto it = per_server.find(root);
    root_sent = it == per_server.end() ? 0 : it->second;
    hits = shared->answers.hits();
  }
  std::printf("%-22s %4zu checks  %8.0f ms  %6zu packets (%5.1f a check)  %4zu to the root  %5zu answers shared\n", mode,
              domains.size(), wall, sent, static_cast<double>(sent) / static_cast<double>(domains.size()), root_sent, hits);
}

} // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  pipeline::CheckOptions base;
  base.resolvers = {arg(args, "--resolver")};
  base.root_hints = arg(args, "--root-hints");
  const std::string rules_dir = arg(args, "--rules-dir");
  base.ca_file = arg(args, "--ca-file");
  const int copies = std::stoi(arg(args, "--copies", "1"));
  const std::string root = arg(args, "--root-server", "192.0.2.1");  // the lab's root server
  base.ct_url = "none";
  base.status_url = "none";
  base.use_cache = false;
  base.allow_reserved = true;
  base.timeout_s = 30;
  if (args.empty()) {
    std::fprintf(stderr, "usage: bench_shared --resolver IP --root-hints FILE --rules-dir DIR --ca-file FILE [--copies N] DOMAIN...\n");
    return 2;
  }
  const pipeline::Knowledge k(rules_dir.empty() ? std::vector<std::string>{} : std::vector<std::string>{rules_dir});
  std::vector<std::string> domains;
  for (int c = 0; c < copies; ++c) domains.insert(domains.end(), args.begin(), args.end());
  run("at once, not shared", base, k, domains, nullptr, root);
  run("shared, default limits", base, k, domains, std::make_shared<probe::SharedProbes>(), root);
  probe::PolitenessLimits none;
  none.dns_qps = 0;
  none.web_connections = 0;
  none.web_connects_per_s = 0;
  run("shared, no limits", base, k, domains, std::make_shared<probe::SharedProbes>(none), root);
  return 0;
}
