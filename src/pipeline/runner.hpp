#pragma once
// Many checks at once, as batch and worker run them: the probes of every check on one
// probe::Engine (one loop thread for all DNS, HTTP, TLS and outside sources), and what follows the
// facts (diagnosis, report, record: CPU) on a small pool of threads, so that a slow diagnosis
// never delays the loop's I/O.
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "facts/facts.hpp"
#include "pipeline/check.hpp"
#include "pipeline/knowledge.hpp"

namespace certdoctor::pipeline {

class CheckRunner {
 public:
  /// What comes after the facts, on a pool thread: `facts` is null when gathering failed
  /// (`error`: a UsageError for the item's own input, or our failure).
  using Then = std::function<void(facts::Facts* facts, std::exception_ptr error)>;

  /// `engine`: the loop to use (null: one of its own); `threads`: the pool (0: the number of
  /// cores, at least 1).
  CheckRunner(const Knowledge& k, std::shared_ptr<probe::Engine> engine, std::size_t threads = 0);
  /// Waits for every check submitted.
  ~CheckRunner();
  CheckRunner(const CheckRunner&) = delete;
  CheckRunner& operator=(const CheckRunner&) = delete;

  /// Submits one check (the options' engine is replaced by the runner's). Returns at once.
  void submit(const CheckOptions& options, Then then);
  /// Checks submitted whose `then` has not returned.
  std::size_t open() const;
  /// Waits until open() is below `limit`, or `stop_waiting()` is true (checked when a check ends).
  void wait_below(std::size_t limit, const std::function<bool()>& stop_waiting = nullptr);
  /// Waits for every check submitted.
  void drain();

  const std::shared_ptr<probe::Engine>& engine() const { return engine_; }

 private:
  struct Ready {
    std::unique_ptr<facts::Facts> facts;
    std::exception_ptr error;
    Then then;
  };
  void work();

  const Knowledge& k_;
  std::shared_ptr<probe::Engine> engine_;
  mutable std::mutex mutex_;
  std::condition_variable ready_cv_, open_cv_;
  std::deque<Ready> ready_;
  std::size_t open_ = 0;
  bool stopping_ = false;
  std::vector<std::thread> pool_;
};

} // namespace certdoctor::pipeline
