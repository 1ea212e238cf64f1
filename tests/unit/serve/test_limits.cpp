#include "serve/limits.hpp"

#include <doctest/doctest.h>

using certdoctor::serve::TokenBuckets;
using namespace std::chrono_literals;

TEST_CASE("serve::TokenBuckets: a burst, then one token per period") {
  TokenBuckets b(6, 3);  // one token every 10 s, three at once
  const auto t0 = TokenBuckets::Clock::now();
  CHECK(b.take("a", t0) == 0);
  CHECK(b.take("a", t0) == 0);
  CHECK(b.take("a", t0) == 0);
  CHECK(b.take("a", t0) == 10);
  CHECK(b.take("a", t0 + 4s) == 6);
  CHECK(b.take("a", t0 + 10s) == 0);
  CHECK(b.take("a", t0 + 10s) == 10);
  // Another key has its own bucket.
  CHECK(b.take("b", t0 + 10s) == 0);
  // A long pause refills to the burst, no more.
  CHECK(b.take("a", t0 + 3600s) == 0);
  CHECK(b.take("a", t0 + 3600s) == 0);
  CHECK(b.take("a", t0 + 3600s) == 0);
  CHECK(b.take("a", t0 + 3600s) > 0);
}

TEST_CASE("serve::TokenBuckets: memory stays bounded") {
  TokenBuckets b(60, 1, 100);
  const auto t0 = TokenBuckets::Clock::now();
  for (int i = 0; i < 1000; ++i) b.take("k" + std::to_string(i), t0);
  CHECK(b.keys() <= 100);
  // A key that was forgotten starts with a full bucket again: never less than the burst.
  CHECK(b.take("k0", t0) == 0);
}
