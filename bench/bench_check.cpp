// Measures full `certdoctor check` runs: wall time and CPU time (user + system) per diagnosis,
// over repeated runs of the real binary, and from the report's facts the phases inside one check:
// when DNS ended, when the first HTTP/TLS request started and when the last one ended (they
// overlap when the first request starts before DNS ends). Run inside the lab: bench/run does that.
//   bench_check CERTDOCTOR RUNS DOMAIN [certdoctor args...]
#include "measure.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <fstream>
#include <sstream>
#include <vector>

#include <nlohmann/json.hpp>

using bench::print_stats;
using bench::run_once;

int main(int argc, char** argv) {
  if (argc < 4) {
    std::fprintf(stderr, "usage: bench_check CERTDOCTOR RUNS DOMAIN [certdoctor check options...]\n");
    return 2;
  }
  int runs = std::atoi(argv[2]);
  if (runs < 1 || runs > 1000) {
    std::fprintf(stderr, "bench_check: RUNS must be 1 to 1000\n");
    return 2;
  }
  std::vector<std::string> cmd{argv[1], "check", "--format", "json"};
  for (int i = 4; i < argc; ++i) cmd.push_back(argv[i]);
  cmd.push_back(argv[3]);
  run_once(cmd);  // warm-up: page cache, resolver cache
  std::vector<double> wall, cpu, dns, web_first, web_end, inside;
  int last_status = 0;
  std::size_t requests = 0, handshakes = 0;
  for (int i = 0; i < runs; ++i) {
    auto s = run_once(cmd, true);
    const nlohmann::json report = nlohmann::json::parse(s.output, nullptr, false);
    wall.push_back(s.wall_ms);
    cpu.push_back(s.cpu_ms);
    last_status = s.status;
    const auto& facts = report.is_object() ? report.value("facts", nlohmann::json::object()) : nlohmann::json::object();
    inside.push_back(facts.value("elapsed_ms", 0.0));
    dns.push_back(facts.value("dns_elapsed_ms", 0.0));
    const auto web = facts.value("web", nlohmann::json::object());
    web_first.push_back(web.value("first_request_ms", 0.0));
    web_end.push_back(web.value("elapsed_ms", 0.0));
    requests = 0;
    for (const auto& c : web.value("http", nlohmann::json::array())) requests += c.value("hops", nlohmann::json::array()).size();
    handshakes = web.value("tls", nlohmann::json::array()).size();
  }
  std::printf("certdoctor check %s: %d runs (exit status %d)\n", argv[3], runs, last_status);
  print_stats("wall", wall);
  print_stats("cpu", cpu);
  std::printf("  inside one check (%zu HTTP requests, %zu TLS handshakes):\n", requests, handshakes);
  print_stats("check", inside);
  print_stats("dns", dns);
  if (requests > 0) {
    print_stats("web>", web_first);
    print_stats("web<", web_end);
    std::size_t overlapped = 0;
    for (std::size_t i = 0; i < dns.size(); ++i)
      if (web_first[i] < dns[i]) ++overlapped;
    std::printf("  web requests started before DNS ended in %zu of %zu runs\n", overlapped, dns.size());
  }
  return 0;
}
