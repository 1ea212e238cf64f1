// The queue's guarantees against a real PostgreSQL server (tests/store/queue_e2e.py starts it):
// a worker whose lease ran out cannot record (the one holding the item now does, once); renew
// reports the lease lost; an item whose lease ran out too often ends failed; fail() queues again
// or ends failed with the reason; two connections leasing at once never take the same item.
// The items of `serve` (schema 4): found by ticket, counted while pending, an identical request
// within the window finds the first item, also from two connections at once (enqueue_once);
// records found by ticket (Store::by_ticket, the newest of a ticket, with its facts). With a
// usage: queue_race URL, or queue_race --schema 3 URL: only make URL's schema that version (for
// the migration test of queue_e2e.py).
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <cstdio>
#include <iostream>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "store/backends.hpp"
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

// The service's items and the records it finds by ticket, on a queue that is otherwise empty.
static void service_items(Queue& x, Queue& y) {
  EXPECT(x.pending() == 0);
  NewItem a;
  a.domain = "svc.jp";
  a.options = {{"domain", "svc.jp"}, {"policy", "internet"}, {"source", "web"}};
  a.ticket = "web:aaaa";
  a.request_key = "svc.jp|||";
  EXPECT(x.enqueue_once(a, 60) == "web:aaaa");
  EXPECT(x.pending() == 1);
  EXPECT(y.recent("svc.jp|||", 60) == std::optional<std::string>("web:aaaa"));
  EXPECT(!y.recent("other.jp|||", 60));
  NewItem again = a;
  again.ticket = "web:bbbb";
  EXPECT(y.enqueue_once(again, 60) == "web:aaaa");  // an identical request: the first item
  EXPECT(x.pending() == 1 && !x.item_by_ticket("web:bbbb"));
  auto row = y.item_by_ticket("web:aaaa");
  EXPECT(row && row->state == "queued" && row->domain == "svc.jp" && row->ticket == "web:aaaa");
  auto got = y.lease("y", 1, 60, 3);
  EXPECT(got.size() == 1 && got[0].ticket == "web:aaaa" && got[0].options.value("policy", "") == "internet");
  EXPECT(x.pending() == 0 && x.item_by_ticket("web:aaaa")->state == "running");
  Record r = record_of("svc.jp");
  r.ticket = "web:aaaa";
  r.facts = R"({"first": true})";
  auto check_id = y.complete(got.at(0), r);
  EXPECT(check_id.has_value());
  row = x.item_by_ticket("web:aaaa");
  EXPECT(row && row->state == "done" && row->check_id == check_id);
  // A failed item is not found for a new request: that one gets an item of its own.
  NewItem c = a;
  c.ticket = "web:cccc";
  c.request_key = "failing.jp|||";
  EXPECT(x.enqueue_once(c, 60) == "web:cccc");
  auto held = x.lease("x", 1, 60, 3);
  EXPECT(held.size() == 1 && x.fail(held.at(0), "broken", true, 3));
  EXPECT(x.item_by_ticket("web:cccc")->state == "failed" && x.item_by_ticket("web:cccc")->last_error == "broken");
  EXPECT(!y.recent("failing.jp|||", 60));
  // Nothing older than the window is shared.
  EXPECT(!y.recent("svc.jp|||", -5));

  // Store::by_ticket on PostgreSQL: the newest record of the ticket, with its facts.
  Store& h = x.history();
  EXPECT(h.by_ticket("web:aaaa") && h.by_ticket("web:aaaa")->id == *check_id);
  EXPECT(h.by_ticket("web:aaaa")->facts == R"({"first": true})");
  r.facts = R"({"second": true})";
  const auto newer = h.add(r);
  auto found = y.history().by_ticket("web:aaaa");
  EXPECT(found && found->id == newer && found->facts == R"({"second": true})" && found->source == "worker");
  EXPECT(!h.by_ticket("web:none"));
  EXPECT(!h.by_ticket(""));  // records without a ticket are never found by it

  // Identical requests from two connections at once: one item.
  std::atomic<int> errors{0};
  std::mutex m;
  std::set<std::string> tickets;
  auto ask = [&](Queue* q, const char* who) {
    try {
      for (int i = 0; i < 40; ++i) {
        NewItem n;
        n.domain = "same" + std::to_string(i % 4) + ".jp";
        n.request_key = n.domain + "|yes||";
        n.ticket = "web:" + std::string(who) + std::to_string(i);
        const auto t = q->enqueue_once(n, 60);
        std::lock_guard lock(m);
        tickets.insert(t);
      }
    } catch (const std::exception& e) {
      std::cout << "FAIL: " << who << ": " << e.what() << std::endl;
      ++errors;
    }
  };
  std::thread t1(ask, &x, "x"), t2(ask, &y, "y");
  t1.join();
  t2.join();
  EXPECT(errors == 0);
  EXPECT(tickets.size() == 4);
  EXPECT(x.pending() == 4);
  std::cout << "service items: 80 identical requests of 4 checks from two connections made " << tickets.size()
            << " items" << std::endl;
  // Leave the queue as the race below expects: nothing open.
  for (auto& l : x.lease("x", 10, 60, 3)) x.fail(l, "cleared", true, 3);
  x.clear("failed");
  x.clear("done");
}

int main(int argc, char** argv) {
  if (argc == 4 && std::string(argv[1]) == "--schema") {
    try {
      auto old = open_postgres(argv[3], std::atoi(argv[2]));
      return old->schema_version() == std::atoi(argv[2]) ? 0 : 1;
    } catch (const std::exception& e) {
      std::cout << "FAIL: " << e.what() << std::endl;
      return 1;
    }
  }
  if (argc != 2) {
    std::cerr << "usage: queue_race URL | queue_race --schema N URL\n";
    return 2;
  }
  const std::string url = argv[1];
  using namespace std::chrono_literals;
  try {
    auto x = open_queue(url);
    auto y = open_queue(url);  // a second worker: its own connection
    service_items(*x, *y);

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
