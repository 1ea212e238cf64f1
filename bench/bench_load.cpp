// Measures loading the rules data (the Knowledge constructor alone, in this process): from the
// form compiled into the binary, as every command does, and from the YAML files, as `rules lint`
// does. Prints wall and CPU time per load.
//   bench_load [RUNS] [--rules-dir DIR]...
#include "measure.hpp"

#include <ctime>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "pipeline/knowledge.hpp"

namespace {

double cpu_ms() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

template <class Load>
void measure(const char* what, int runs, Load load) {
  std::vector<double> wall, cpu;
  std::size_t rules = 0;
  for (int i = 0; i < runs; ++i) {
    const auto start = std::chrono::steady_clock::now();
    const double cpu_start = cpu_ms();
    const certdoctor::pipeline::Knowledge k = load();
    cpu.push_back(cpu_ms() - cpu_start);
    wall.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count());
    rules = k.catalogue.rules().size();
  }
  std::printf("%s (%zu rules, %d runs)\n", what, rules, runs);
  bench::print_stats("wall", wall);
  bench::print_stats("cpu", cpu);
}

} // namespace

int main(int argc, char** argv) {
  int runs = 50;
  std::vector<std::string> extra;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--rules-dir" && i + 1 < argc) extra.push_back(argv[++i]);
    else if (std::atoi(a.c_str()) > 0) runs = std::atoi(a.c_str());
    else {
      std::fprintf(stderr, "usage: bench_load [RUNS] [--rules-dir DIR]...\n");
      return 2;
    }
  }
  using certdoctor::pipeline::Knowledge;
  std::printf("compiled-in form: %zu bytes\n", certdoctor::pipeline::builtin_data().size());
  measure("built-in (compiled into the binary)", runs, [&] { return Knowledge(extra, certdoctor::pipeline::builtin_data()); });
  measure("from the YAML files (rules lint)", runs, [&] { return Knowledge::from_files(extra); });
  return 0;
}
