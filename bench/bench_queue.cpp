// The queue's own cost, without any check: N items enqueued, then drained by W connections at
// once, each leasing B items at a time and completing each with a small record (one transaction
// per item, as a worker does). Prints items per second for both steps, so that the queue can be
// compared with the checks it hands out. usage: bench_queue URL [N] [W] [B]
// (bench/queue runs it against a PostgreSQL server of its own.)
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

#include "store/queue.hpp"

using namespace certdoctor::store;
using Clock = std::chrono::steady_clock;

int main(int argc, char** argv) {
  if (argc < 2) {
    std::cerr << "usage: bench_queue URL [ITEMS] [WORKERS] [BATCH]\n";
    return 2;
  }
  const std::string url = argv[1];
  const int n = argc > 2 ? std::atoi(argv[2]) : 5000;
  const int workers = argc > 3 ? std::atoi(argv[3]) : 4;
  const int batch = argc > 4 ? std::atoi(argv[4]) : 8;
  try {
    auto q = open_queue(url);
    std::vector<NewItem> items;
    for (int i = 0; i < n; ++i)
      items.push_back({"bench" + std::to_string(i) + ".jp", {{"server_ips", {"203.0.113.10"}}}});
    auto t0 = Clock::now();
    for (int i = 0; i < n; i += 1000)
      q->enqueue(std::vector<NewItem>(items.begin() + i, items.begin() + std::min(n, i + 1000)));
    const double enqueue_s = std::chrono::duration<double>(Clock::now() - t0).count();

    Record r;
    r.registered_domain = "bench.jp";
    r.verdict = "ok";
    r.facts = std::string(4000, 'x');  // about the size of a check's facts once compressed
    r.tool_version = r.rules_version = "bench";
    r.user = "bench";
    r.source = "worker";
    std::vector<std::thread> threads;
    std::vector<int> done(workers, 0);
    t0 = Clock::now();
    for (int w = 0; w < workers; ++w)
      threads.emplace_back([&, w] {
        auto own = open_queue(url);
        for (;;) {
          auto got = own->lease("bench" + std::to_string(w), batch, 120, 3);
          if (got.empty()) break;
          for (const auto& l : got) {
            Record mine = r;
            mine.domain = l.domain;
            if (own->complete(l, mine)) ++done[w];
          }
        }
      });
    for (auto& t : threads) t.join();
    const double drain_s = std::chrono::duration<double>(Clock::now() - t0).count();
    int total = 0;
    for (int d : done) total += d;
    std::printf("enqueue: %d items in %.2f s, %.0f items/s\n", n, enqueue_s, n / enqueue_s);
    std::printf("lease+complete: %d items by %d connections (lease %d at a time) in %.2f s, %.0f items/s, %.2f ms per item per connection\n",
                total, workers, batch, drain_s, total / drain_s, drain_s * 1000.0 * workers / std::max(1, total));
    return total == n ? 0 : 1;
  } catch (const std::exception& e) {
    std::cerr << "bench_queue: " << e.what() << '\n';
    return 1;
  }
}
