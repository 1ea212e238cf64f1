// Runs a command and prints its resource use: wall seconds, user and system CPU seconds, and
// the peak RSS of the largest process among it and its waited-for descendants (wait4).
//   bench_rusage OUT CMD [ARGS...]      (OUT: the file the one line of figures goes to)
// bench/bench_batch measures through it: a process forked from a large one (a Python script
// that has read thousands of reports) carries that process's peak RSS in its own, so the
// command must be forked from a small process for its peak RSS to be its own.
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: bench_rusage OUT CMD [ARGS...]\n");
    return 2;
  }
  const auto start = std::chrono::steady_clock::now();
  const pid_t pid = fork();
  if (pid < 0) {
    std::perror("bench_rusage: fork");
    return 2;
  }
  if (pid == 0) {
    execvp(argv[2], argv + 2);
    std::perror("bench_rusage: exec");
    _exit(127);
  }
  int status = 0;
  rusage usage{};
  if (wait4(pid, &status, 0, &usage) < 0) {
    std::perror("bench_rusage: wait4");
    return 2;
  }
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::FILE* out = std::fopen(argv[1], "w");
  if (!out) {
    std::perror("bench_rusage: OUT");
    return 2;
  }
  std::fprintf(out, "%.6f %ld.%06ld %ld.%06ld %ld\n", wall, static_cast<long>(usage.ru_utime.tv_sec),
               static_cast<long>(usage.ru_utime.tv_usec), static_cast<long>(usage.ru_stime.tv_sec),
               static_cast<long>(usage.ru_stime.tv_usec), usage.ru_maxrss);
  std::fclose(out);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
}
