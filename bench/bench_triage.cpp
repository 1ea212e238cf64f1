// Measures `certdoctor triage --offline` of one input: wall time and CPU time (user + system) per
// run of the real binary, rules loading included. Needs no network and no lab.
//   bench_triage CERTDOCTOR RUNS FILE [certdoctor triage args...]
#include <sys/resource.h>
#include <sys/wait.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

namespace {

double seconds(const timeval& tv) { return tv.tv_sec + tv.tv_usec / 1e6; }

struct Sample {
  double wall_ms;
  double cpu_ms;
  int status;
};

Sample run_once(const std::vector<std::string>& argv) {
  rusage before{};
  getrusage(RUSAGE_CHILDREN, &before);
  auto start = std::chrono::steady_clock::now();
  pid_t pid = fork();
  if (pid == 0) {
    int null = open("/dev/null", O_WRONLY);
    dup2(null, STDOUT_FILENO);
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    execv(args[0], args.data());
    _exit(127);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  auto end = std::chrono::steady_clock::now();
  rusage after{};
  getrusage(RUSAGE_CHILDREN, &after);
  double cpu = (seconds(after.ru_utime) - seconds(before.ru_utime)) + (seconds(after.ru_stime) - seconds(before.ru_stime));
  return {std::chrono::duration<double, std::milli>(end - start).count(), cpu * 1000, WIFEXITED(status) ? WEXITSTATUS(status) : -1};
}

void print_stats(const char* what, std::vector<double> v) {
  std::sort(v.begin(), v.end());
  double sum = 0;
  for (double x : v) sum += x;
  std::printf("  %-5s min %8.1f ms  median %8.1f ms  mean %8.1f ms  max %8.1f ms\n", what, v.front(), v[v.size() / 2],
              sum / v.size(), v.back());
}

} // namespace

int main(int argc, char** argv) {
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
