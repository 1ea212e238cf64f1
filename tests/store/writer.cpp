// A writer for the concurrency tests: waits until the file GO exists, then adds N records for
// DOMAIN to DB as fast as it can, each in its own transaction; prints the ids it got.
//   store_writer DB DOMAIN N GO
#include <chrono>
#include <filesystem>
#include <iostream>
#include <thread>

#include "store/store.hpp"

int main(int argc, char** argv) {
  using namespace certdoctor;
  if (argc != 5) {
    std::cerr << "usage: store_writer DB DOMAIN N GO\n";
    return 2;
  }
  const std::string db = argv[1], domain = argv[2], go = argv[4];
  const int n = std::atoi(argv[3]);
  try {
    auto s = store::open(db, store::Open::create);
    while (!std::filesystem::exists(go)) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    for (int i = 0; i < n; ++i) {
      store::Record r;
      r.domain = domain;
      r.registered_domain = domain;
      r.started_at = r.finished_at = 1'700'000'000 + i;
      r.verdict = i % 2 ? "ok" : "fail";
      r.facts = "{\"writer\":\"" + domain + "\",\"i\":" + std::to_string(i) + "}";
      r.user = "writer";
      r.source = "batch";
      std::cout << s->add(r) << '\n';
    }
  } catch (const std::exception& e) {
    std::cerr << "store_writer: " << e.what() << '\n';
    return 1;
  }
  return 0;
}
