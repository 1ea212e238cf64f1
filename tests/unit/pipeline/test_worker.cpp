#include <doctest/doctest.h>

#include <sstream>
#include <string>
#include <vector>

#include "pipeline/batch_input.hpp"
#include "pipeline/worker.hpp"
#include "store/queue.hpp"
#include "util/error.hpp"

using certdoctor::UsageError;
using certdoctor::pipeline::BatchLineError;
using certdoctor::pipeline::BatchReader;
using certdoctor::pipeline::CheckOptions;
using certdoctor::pipeline::options_for;
using certdoctor::pipeline::options_of;
using certdoctor::pipeline::queued_options;
using certdoctor::store::Leased;
using nlohmann::json;

namespace {

// What a worker would check for each line of a batch input, through the queue's JSON.
std::vector<CheckOptions> through_queue(const std::string& text, const CheckOptions& worker) {
  std::istringstream in(text);
  BatchReader reader(in);
  std::vector<BatchLineError> errors;
  std::vector<CheckOptions> out;
  std::int64_t id = 0;
  while (auto item = reader.next(errors)) {
    const CheckOptions queued = options_for(*item, CheckOptions{});
    Leased l;
    l.id = ++id;
    l.domain = queued.domain;
    l.options = json::parse(queued_options(queued).dump());  // as stored: text
    out.push_back(options_of(l, worker));
  }
  REQUIRE(errors.empty());
  return out;
}

} // namespace

TEST_CASE("pipeline::queued_options: only what differs from check's defaults") {
  CheckOptions c;
  c.domain = "example.jp";
  CHECK(queued_options(c) == json{{"domain", "example.jp"}});
  c.provider = "sakura";
  c.server_ips = {"203.0.113.10"};
  c.account = "acct";
  c.no_www = true;
  c.timeout_s = 5;  // the worker's, not the item's
  CHECK(queued_options(c) == json{{"domain", "example.jp"}, {"provider", "sakura"}, {"server_ips", {"203.0.113.10"}},
                                  {"account", "acct"}, {"no_www", true}});
}

TEST_CASE("pipeline::options_of: an item's columns over the worker's options") {
  CheckOptions worker;
  worker.resolvers = {"192.0.2.53"};
  worker.timeout_s = 12;
  worker.provider = "xserver";
  worker.server_ips = {"198.51.100.1"};
  worker.www = true;
  const auto got = through_queue("domain,provider,server_ip,account,www\n"
                                 "a.jp,sakura,203.0.113.10;203.0.113.11,acct,no\n"
                                 "b.jp,,,,\n"
                                 "sub.c.jp,,,,yes\n",
                                 worker);
  REQUIRE(got.size() == 3);
  CHECK(got[0].domain == "a.jp");
  CHECK(got[0].provider == "sakura");
  CHECK(got[0].server_ips == std::vector<std::string>{"203.0.113.10", "203.0.113.11"});
  CHECK(got[0].account == "acct");
  CHECK(got[0].no_www);
  CHECK_FALSE(got[0].www);  // the item's "no" replaces the worker's --www
  CHECK(got[0].resolvers == worker.resolvers);
  CHECK(got[0].timeout_s == 12);
  // Columns left empty: the worker's options.
  CHECK(got[1].domain == "b.jp");
  CHECK(got[1].provider == "xserver");
  CHECK(got[1].server_ips == worker.server_ips);
  CHECK(got[1].www);
  CHECK(got[2].www);
  CHECK_FALSE(got[2].no_www);
}

TEST_CASE("pipeline::options_of: an item not of the queue's form is a usage error naming it") {
  Leased l;
  l.id = 7;
  l.domain = "x.jp";
  for (const json& bad : {json{{"server_ips", "203.0.113.1"}}, json{{"server_ips", {1, 2}}}, json{{"www", "yes"}},
                          json{{"provider", 3}}}) {
    l.options = bad;
    try {
      options_of(l, CheckOptions{});
      FAIL("accepted " << bad.dump());
    } catch (const UsageError& e) {
      CHECK(std::string(e.what()).find('7') != std::string::npos);
    }
  }
}

TEST_CASE("store::new_token: 128 random bits in hex") {
  const std::string a = certdoctor::store::new_token(), b = certdoctor::store::new_token();
  CHECK(a.size() == 32);
  CHECK(a.find_first_not_of("0123456789abcdef") == std::string::npos);
  CHECK(a != b);
}
