#pragma once
// What the benchmarks share: running the real binary as a child and timing it, and printing a
// series of figures. Header-only; benchmarks are small programs, not a library.
#include <sys/resource.h>
#include <sys/wait.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace bench {

inline double seconds(const timeval& tv) { return tv.tv_sec + tv.tv_usec / 1e6; }

struct Sample {
  double wall_ms = 0;
  double cpu_ms = 0;   // user + system time of the child
  int status = -1;     // exit status, -1 when it did not exit normally
  std::string output;  // standard output, when asked for
};

/// Runs argv[0] with argv, waits, and measures it; standard output is kept when `keep_output`,
/// else discarded.
inline Sample run_once(const std::vector<std::string>& argv, bool keep_output = false) {
  rusage before{};
  getrusage(RUSAGE_CHILDREN, &before);
  const auto start = std::chrono::steady_clock::now();
  char path[] = "/tmp/certdoctor-bench.XXXXXX";
  const int out = keep_output ? mkstemp(path) : open("/dev/null", O_WRONLY);
  const pid_t pid = fork();
  if (pid == 0) {
    dup2(out, STDOUT_FILENO);
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    execv(args[0], args.data());
    _exit(127);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  const auto end = std::chrono::steady_clock::now();
  rusage after{};
  getrusage(RUSAGE_CHILDREN, &after);
  Sample s;
  s.wall_ms = std::chrono::duration<double, std::milli>(end - start).count();
  s.cpu_ms = ((seconds(after.ru_utime) - seconds(before.ru_utime)) + (seconds(after.ru_stime) - seconds(before.ru_stime))) * 1000;
  s.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  close(out);
  if (keep_output) {
    std::ifstream in(path);
    std::stringstream text;
    text << in.rdbuf();
    s.output = text.str();
    unlink(path);
  }
  return s;
}

/// One line: min, median, mean and max of a series in milliseconds.
inline void print_stats(const char* what, std::vector<double> v) {
  if (v.empty()) return;
  std::sort(v.begin(), v.end());
  double sum = 0;
  for (double x : v) sum += x;
  std::printf("  %-5s min %8.1f ms  median %8.1f ms  mean %8.1f ms  max %8.1f ms\n", what, v.front(), v[v.size() / 2],
              sum / v.size(), v.back());
}

} // namespace bench
