// The queue's guarantees against a real PostgreSQL server (tests/store/queue_e2e.py starts it):
// a worker whose lease ran out cannot record (the one holding the item now does, once); renew
// reports the lease lost; an item whose lease ran out too often ends failed; fail() queues again
// or ends failed with the reason; two connections leasing at once never take the same item.
// usage: queue_race URL
#include <atomic>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "store/queue.hpp"

using namespace certdoctor::store;

static int failures = 0;
#define EXPECT(cond)                                                              \
  do {                                                                            \
    if (!(cond)) {                                                                \
      std::cout << "FAIL: line " << __LINE__ << ": " << #cond << std::endl;       \
      ++failures;                                                                 \
    }                                                                             \
  } while (0)

static Record record_of(const std::string& domain) {
  Record r;
  r.domain = domain;
  r.registered_domain = domain;
  r.started_at = 1000;
  r.finished_at = 1001;
  r.verdict = "ok";
  r.facts = "{}";
  r.tool_version = "test";
  r.rules_version = "test";
  r.user = "race";
  r.source = "worker";
  return r;
}

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: queue_race URL\n";
    return 2;
  }
  const std::string url = argv[1];
  using namespace std::chrono_literals;
  try {
    auto x = open_queue(url);
    auto y = open_queue(url);  // a second worker: its own connection

    // A lease that ran out: the other worker takes the item and records it; the first cannot.
    x->enqueue({{"race.jp", nlohmann::json::object()}});
    auto held = x->lease("x", 5, 1, 3);
    EXPECT(held.size() == 1);
    EXPECT(y->lease("y", 5, 60, 3).empty());  // held, not expired: nobody else gets it
    std::this_thread::sleep_for(2100ms);
    auto taken = y->lease("y", 5, 60, 3);
    EXPECT(taken.size() == 1 && taken[0].id == held[0].id && taken[0].attempts == 2);
    EXPECT(x->renew(held, 60).empty());  // x learns it lost the item
    EXPECT(!x->complete(held[0], record_of("race.jp")));
    auto id = y->complete(taken[0], record_of("race.jp"));
    EXPECT(id.has_value());
    EXPECT(!y->complete(taken[0], record_of("race.jp")));  // done once; a second complete records nothing
    auto list = x->history().list("race.jp", 0);
    EXPECT(list.size() == 1 && id && list[0].id == *id);
    auto done = x->items("done", 0);
    EXPECT(done.size() == 1 && done[0].check_id == id);

    // Leases that ran out max_attempts times: the item ends failed, naming the last worker.
    x->enqueue({{"dead.jp", nlohmann::json::object()}});
    EXPECT(x->lease("crashing", 1, 1, 2).size() == 1);
    std::this_thread::sleep_for(2100ms);
    EXPECT(x->lease("crashing", 1, 1, 2).size() == 1);  // attempt 2
    std::this_thread::sleep_for(2100ms);
    EXPECT(y->lease("y", 1, 60, 2).empty());
    auto failed = x->items("failed", 0);
    EXPECT(failed.size() == 1 && failed[0].domain == "dead.jp" &&
           failed[0].last_error.find("crashing") != std::string::npos);

    // fail(): queued again with the reason, then failed for good when permanent.
    x->enqueue({{"bad.jp", {{"provider", "sakura"}}}});
    auto b = x->lease("x", 1, 60, 3);
    EXPECT(b.size() == 1 && b[0].options.value("provider", "") == "sakura");
    EXPECT(x->fail(b[0], "resolver down", false, 3));
    EXPECT(x->counts().at("queued") == 1);
    b = x->lease("x", 1, 60, 3);
    EXPECT(b.size() == 1 && b[0].attempts == 2);
    EXPECT(x->fail(b[0], "not a domain", true, 3));
    EXPECT(!x->fail(b[0], "again", true, 3));  // no longer held
    auto counts = x->counts();
    EXPECT(counts.at("queued") == 0 && counts.at("running") == 0 && counts.at("done") == 1 && counts.at("failed") == 2);
    EXPECT(x->clear("failed") == 2);

    // Two connections leasing at once: every item exactly once (FOR UPDATE SKIP LOCKED).
    std::vector<NewItem> many;
    for (int i = 0; i < 300; ++i) many.push_back({"n" + std::to_string(i) + ".jp", nlohmann::json::object()});
    const auto ids = x->enqueue(many);
    EXPECT(ids.size() == 300);
    std::mutex m;
    std::vector<std::int64_t> seen;
    std::atomic<int> errors{0};
    auto drain = [&](Queue* q, const char* who) {
      try {
        for (;;) {
          auto got = q->lease(who, 3, 60, 3);
          if (got.empty()) break;
          for (const auto& l : got) {
            if (!q->complete(l, record_of(l.domain))) ++errors;
            std::lock_guard lock(m);
            seen.push_back(l.id);
          }
        }
      } catch (const std::exception& e) {
        std::cout << "FAIL: " << who << ": " << e.what() << std::endl;
        ++errors;
      }
    };
    std::thread t1(drain, x.get(), "x"), t2(drain, y.get(), "y");
    t1.join();
    t2.join();
    const std::set<std::int64_t> unique(seen.begin(), seen.end());
    EXPECT(errors == 0);
    EXPECT(seen.size() == 300 && unique.size() == 300);
    EXPECT(x->counts().at("done") == 301);
    std::cout << "queue race: " << seen.size() << " items leased by two connections, " << unique.size() << " distinct"
              << std::endl;
  } catch (const std::exception& e) {
    std::cout << "FAIL: " << e.what() << std::endl;
    return 1;
  }
  std::cout << (failures ? "FAILED" : "ok") << std::endl;
  return failures ? 1 : 0;
}
