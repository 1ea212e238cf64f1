#include "serve/limits.hpp"

#include <algorithm>
#include <cmath>
#include <vector>

namespace certdoctor::serve {

TokenBuckets::TokenBuckets(double per_minute, double burst, std::size_t max_keys)
    : per_second_(std::max(per_minute, 0.0) / 60.0), burst_(std::max(burst, 1.0)), max_keys_(std::max<std::size_t>(max_keys, 1)) {}

void TokenBuckets::refill(Bucket& b, Clock::time_point now) const {
  const double elapsed = std::chrono::duration<double>(now - b.updated).count();
  if (elapsed > 0) b.tokens = std::min(burst_, b.tokens + elapsed * per_second_);
  b.updated = std::max(b.updated, now);
}

void TokenBuckets::forget(Clock::time_point now) {
  for (auto it = buckets_.begin(); it != buckets_.end();) {
    refill(it->second, now);
    it = it->second.tokens >= burst_ ? buckets_.erase(it) : std::next(it);
  }
  while (buckets_.size() >= max_keys_) {
    auto oldest = std::min_element(buckets_.begin(), buckets_.end(),
                                   [](const auto& a, const auto& b) { return a.second.updated < b.second.updated; });
    buckets_.erase(oldest);
  }
}

int TokenBuckets::take(const std::string& key, Clock::time_point now) {
  std::lock_guard lock(mutex_);
  auto it = buckets_.find(key);
  if (it == buckets_.end()) {
    if (buckets_.size() >= max_keys_) forget(now);
    it = buckets_.emplace(key, Bucket{burst_, now}).first;
  }
  Bucket& b = it->second;
  refill(b, now);
  if (b.tokens >= 1.0) {
    b.tokens -= 1.0;
    return 0;
  }
  if (per_second_ <= 0) return 3600;
  return std::max(1, static_cast<int>(std::ceil((1.0 - b.tokens) / per_second_)));
}

std::size_t TokenBuckets::keys() const {
  std::lock_guard lock(mutex_);
  return buckets_.size();
}

}  // namespace certdoctor::serve
