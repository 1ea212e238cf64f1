#include <doctest/doctest.h>

#include "../temp_dir.hpp"
#include "store/due.hpp"

using namespace certdoctor::store;

namespace {

constexpr std::int64_t day = 86400;
constexpr std::int64_t now = 1'800'000'000;

Record rec(const std::string& domain, std::int64_t checked, std::optional<std::int64_t> not_after, const std::string& provider) {
  Record r;
  r.domain = domain;
  r.started_at = checked;
  r.finished_at = checked;
  r.cert_not_after = not_after;
  r.provider = provider;
  r.verdict = "ok";
  return r;
}

// The windows of the shipped profiles: Xserver's first attempt 30 days before expiry, Sakura's
// notice 15 days before, none for generic.
Window window_of(const std::string& p) {
  if (p == "xserver") return {30, "attempts"};
  if (p == "sakura") return {15, "notice"};
  return {};
}

} // namespace

TEST_CASE("store::due: the provider's window against the horizon and the age of the last check") {
  std::vector<Record> latest = {
      rec("x-soon.jp", now - 2 * day, now + 50 * day, "xserver"),    // window opens in 20 days
      rec("x-later.jp", now - 2 * day, now + 70 * day, "xserver"),   // in 40 days: not within 30
      rec("s-soon.jp", now - 2 * day, now + 40 * day, "sakura"),     // in 25 days
      rec("s-later.jp", now - 2 * day, now + 50 * day, "sakura"),    // in 35 days
      rec("g-soon.jp", now - 2 * day, now + 55 * day, "generic"),    // default 30: in 25 days
      rec("fresh.jp", now - 3600, now + 35 * day, "xserver"),        // checked an hour ago
      rec("open.jp", now - 2 * day, now + 25 * day, "xserver"),      // window opened 5 days ago
      rec("expired.jp", now - 5 * day, now - day, "xserver"),
      rec("nocert.jp", now - 2 * day, std::nullopt, "sakura"),
  };
  auto list = due(latest, now, 30 * day, window_of);
  std::vector<std::string> names;
  for (const auto& d : list) names.push_back(d.last.domain + ":" + d.state);
  CHECK(names == std::vector<std::string>{"expired.jp:expired", "open.jp:open", "x-soon.jp:soon", "s-soon.jp:soon",
                                          "g-soon.jp:soon", "nocert.jp:unknown"});
  REQUIRE(list.size() == 6);
  CHECK(*list[2].opens == now + 20 * day);
  CHECK(list[2].window.kind == "attempts");
  CHECK(*list[3].opens == now + 25 * day);
  CHECK(list[3].window.kind == "notice");
  CHECK(list[4].window.kind == "none");
  CHECK(!list[5].opens);
  // A shorter horizon keeps only what has opened and the unknown.
  CHECK(due(latest, now, 10 * day, window_of).size() == 3);
  // With no minimum age the fresh check counts too.
  CHECK(due(latest, now, 30 * day, window_of, 0).size() == 7);
}
