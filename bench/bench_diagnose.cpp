// Measures what a batch does per domain once the facts are in: pipeline::diagnose (view,
// findings, report, no HTML picture, the facts' JSON handed from the view to the report, as
// pipeline::run_batch asks) and the NDJSON line of the result, in this process, with the
// rules data loaded once. Prints the CPU time per diagnosis and per NDJSON line (median over the
// runs of the mean over the facts files). No network step: the facts are saved files.
// --check: first compares each NDJSON line with render_json's document of the default diagnosis
// (the view keeps its facts) and its line number dumped, and exits 1 when one differs.
//   bench_diagnose FACTS... [--runs N] [--lang ja|en] [--check]
#include "measure.hpp"

#include <algorithm>
#include <ctime>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "facts/facts.hpp"
#include "pipeline/check.hpp"
#include "pipeline/knowledge.hpp"
#include "report/report.hpp"

namespace {

// min, median and max of a series, in milliseconds with three decimals (a diagnosis takes about one).
void print_fine(const char* what, std::vector<double> v) {
  std::sort(v.begin(), v.end());
  std::printf("  %-9s min %7.3f ms  median %7.3f ms  max %7.3f ms\n", what, v.front(), v[v.size() / 2], v.back());
}

double cpu_ms() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

} // namespace

int main(int argc, char** argv) {
  int runs = 20;
  std::string lang = "ja";
  bool check = false;
  std::vector<std::string> files;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--runs" && i + 1 < argc) runs = std::atoi(argv[++i]);
    else if (a == "--lang" && i + 1 < argc) lang = argv[++i];
    else if (a == "--check") check = true;
    else if (!a.empty() && a[0] != '-') files.push_back(a);
    else {
      std::fprintf(stderr, "usage: bench_diagnose FACTS... [--runs N] [--lang ja|en] [--check]\n");
      return 2;
    }
  }
  if (files.empty() || runs < 1) {
    std::fprintf(stderr, "usage: bench_diagnose FACTS... [--runs N] [--lang ja|en] [--check]\n");
    return 2;
  }
  using namespace certdoctor;
  const pipeline::Knowledge k(std::vector<std::string>{});
  std::vector<facts::Facts> all;
  for (const auto& f : files) all.push_back(facts::load_file(f));
  // What pipeline::run_batch asks of a diagnosis.
  const pipeline::DiagnoseOptions batch_options{.picture = false, .view_facts = false};

  if (check) {
    for (std::size_t i = 0; i < all.size(); ++i) {
      // The batch's diagnosis (the facts' JSON handed to the report) against the default one's document.
      const pipeline::Diagnosis d = pipeline::diagnose(all[i], k, lang, pipeline::DiagnoseOptions{.picture = false});
      const pipeline::Diagnosis b = pipeline::diagnose(all[i], k, lang, batch_options);
      nlohmann::json j = report::render_json(d.report);
      j["line"] = i + 1;
      if (report::render_ndjson(b.report, i + 1) != j.dump()) {
        std::fprintf(stderr, "%s: the NDJSON line differs from render_json's document\n", files[i].c_str());
        return 1;
      }
    }
    std::printf("%zu NDJSON lines as render_json's documents\n", all.size());
  }
  std::vector<double> diagnose_ms, line_ms;
  std::size_t bytes = 0;
  for (int run = 0; run < runs; ++run) {
    double diagnose_total = 0, line_total = 0;
    bytes = 0;
    for (std::size_t i = 0; i < all.size(); ++i) {
      const double start = cpu_ms();
      const pipeline::Diagnosis d = pipeline::diagnose(all[i], k, lang, batch_options);
      const double diagnosed = cpu_ms();
      const std::string line = report::render_ndjson(d.report, i + 1);
      line_total += cpu_ms() - diagnosed;
      diagnose_total += diagnosed - start;
      bytes += line.size();
    }
    diagnose_ms.push_back(diagnose_total / all.size());
    line_ms.push_back(line_total / all.size());
  }
  std::printf("%zu facts files, %d runs, lang %s; NDJSON %zu bytes a run\n", all.size(), runs, lang.c_str(), bytes);
  std::printf("per domain:\n");
  print_fine("diagnose", diagnose_ms);
  print_fine("ndjson", line_ms);
  return 0;
}
