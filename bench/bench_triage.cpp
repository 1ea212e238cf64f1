// Measures `certdoctor triage --offline` of one input: wall time and CPU time (user + system) per
// run of the real binary, rules loading included. Needs no network and no lab.
//   bench_triage CERTDOCTOR RUNS FILE [certdoctor triage args...]
// and, to tell the triage work from process start-up (51 shared libraries), in one process:
// loading the triage data once, then reading and triaging FILE RUNS times.
//   bench_triage --in-process RUNS FILE
#include "measure.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include <fstream>
#include <sstream>

#include "triage/triage.hpp"

using bench::print_stats;
using bench::run_once;

int in_process(int runs, const char* file) {
  using namespace certdoctor;
  std::ifstream in(file, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string bytes = ss.str();
  auto t0 = std::chrono::steady_clock::now();
  view::DataSet data = view::DataSet::load({CERTDOCTOR_SOURCE_RULES_DIR});
  triage::AcmeCatalogue acme = triage::AcmeCatalogue::load({CERTDOCTOR_SOURCE_RULES_DIR});
  double load_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  std::vector<double> wall;
  std::size_t domains = 0;
  for (int i = 0; i < runs; ++i) {
    auto start = std::chrono::steady_clock::now();
    triage::Triage t = triage::triage(bytes, triage::TriageData{data, acme});
    wall.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count());
    domains = t.domains.size();
  }
  std::printf("triage in one process, %s: %d runs, data loaded once in %.1f ms, %zu domains\n", file, runs, load_ms, domains);
  print_stats("wall", wall);
  return 0;
}

int main(int argc, char** argv) {
  if (argc == 4 && std::string(argv[1]) == "--in-process") return in_process(std::atoi(argv[2]), argv[3]);
  if (argc < 4) {
    std::fprintf(stderr, "usage: bench_triage CERTDOCTOR RUNS FILE [certdoctor triage options...]\n");
    return 2;
  }
  int runs = std::atoi(argv[2]);
  if (runs < 1 || runs > 10000) {
    std::fprintf(stderr, "bench_triage: RUNS must be 1 to 10000\n");
    return 2;
  }
  std::vector<std::string> cmd{argv[1], "triage", "--offline", "--format", "json"};
  for (int i = 4; i < argc; ++i) cmd.push_back(argv[i]);
  cmd.push_back(argv[3]);
  run_once(cmd);  // warm-up: page cache
  std::vector<double> wall, cpu;
  int last_status = 0;
  for (int i = 0; i < runs; ++i) {
    auto s = run_once(cmd);
    wall.push_back(s.wall_ms);
    cpu.push_back(s.cpu_ms);
    last_status = s.status;
  }
  std::printf("certdoctor triage --offline %s: %d runs (exit status %d)\n", argv[3], runs, last_status);
  print_stats("wall", wall);
  print_stats("cpu", cpu);
  return last_status == 0 ? 0 : 1;
}
