#pragma once
// Rate limits of the service: one token bucket per key (a client address, a domain). Pure apart
// from the clock the caller passes in; thread-safe.
#include <chrono>
#include <cstddef>
#include <map>
#include <mutex>
#include <string>

namespace certdoctor::serve {

class TokenBuckets {
 public:
  using Clock = std::chrono::steady_clock;
  /// `per_minute` tokens come back each minute, at most `burst` are kept; `max_keys` bounds the
  /// memory (full buckets are forgotten first, then the oldest).
  TokenBuckets(double per_minute, double burst, std::size_t max_keys = 100000);

  /// Takes one token of `key`. Returns 0 when it was there, else the whole seconds until one
  /// will be (at least 1), for Retry-After.
  int take(const std::string& key, Clock::time_point now = Clock::now());

  std::size_t keys() const;

 private:
  struct Bucket {
    double tokens = 0;
    Clock::time_point updated;
  };
  void refill(Bucket& b, Clock::time_point now) const;
  void forget(Clock::time_point now);

  double per_second_;
  double burst_;
  std::size_t max_keys_;
  mutable std::mutex mutex_;
  std::map<std::string, Bucket> buckets_;
};

}  // namespace certdoctor::serve
