#include "pipeline/runner.hpp"

#include <algorithm>

#include "probe/engine.hpp"

namespace certdoctor::pipeline {

CheckRunner::CheckRunner(const Knowledge& k, std::shared_ptr<probe::Engine> engine, std::size_t threads)
    : k_(k), engine_(engine ? std::move(engine) : std::make_shared<probe::Engine>()) {
  if (threads == 0) threads = std::max(1u, std::thread::hardware_concurrency());
  try {
    for (std::size_t i = 0; i < threads; ++i) pool_.emplace_back([this] { work(); });
  } catch (...) {
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    ready_cv_.notify_all();
    for (auto& t : pool_) t.join();
    throw;
  }
}

CheckRunner::~CheckRunner() {
  drain();
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  ready_cv_.notify_all();
  for (auto& t : pool_) t.join();
}

void CheckRunner::submit(const CheckOptions& options, Then then) {
  {
    std::lock_guard lock(mutex_);
    ++open_;
  }
  // The job is made here, on the caller's thread: a domain that cannot be parsed fails at once.
  std::optional<probe::ProbeJob> job;
  try {
    job.emplace(probe_job(options, k_));
  } catch (...) {
    std::lock_guard lock(mutex_);
    ready_.push_back(Ready{nullptr, std::current_exception(), std::move(then)});
    ready_cv_.notify_one();
    return;
  }
  engine_->submit(std::move(*job), [this, then = std::move(then)](facts::Facts&& f, std::exception_ptr error) mutable {
    // On the engine's loop: hand the facts to the pool and return.
    auto facts = error ? nullptr : std::make_unique<facts::Facts>(std::move(f));
    std::lock_guard lock(mutex_);
    ready_.push_back(Ready{std::move(facts), error, std::move(then)});
    ready_cv_.notify_one();
  });
}

void CheckRunner::work() {
  for (;;) {
    Ready r;
    {
      std::unique_lock lock(mutex_);
      ready_cv_.wait(lock, [&] { return stopping_ || !ready_.empty(); });
      if (ready_.empty()) return;
      r = std::move(ready_.front());
      ready_.pop_front();
    }
    try {
      r.then(r.facts.get(), r.error);
    } catch (...) {
      // `then` reports its own failures; nothing may escape a pool thread.
    }
    r.facts.reset();
    std::lock_guard lock(mutex_);
    --open_;
    open_cv_.notify_all();
  }
}

std::size_t CheckRunner::open() const {
  std::lock_guard lock(mutex_);
  return open_;
}

void CheckRunner::wait_below(std::size_t limit, const std::function<bool()>& stop_waiting) {
  std::unique_lock lock(mutex_);
  open_cv_.wait(lock, [&] { return open_ < limit || (stop_waiting && stop_waiting()); });
}

void CheckRunner::drain() {
  std::unique_lock lock(mutex_);
  open_cv_.wait(lock, [&] { return open_ == 0; });
}

} // namespace certdoctor::pipeline
