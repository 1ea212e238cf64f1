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

TEST_CASE("pipeline::options_of: the service's probe policy travels in the item and only tightens the worker's") {
  using Mode = certdoctor::probe::AddressPolicy::Mode;
  CheckOptions service;
  service.domain = "example.jp";
  service.policy = Mode::internet;
  CHECK(queued_options(service).at("policy") == "internet");
  service.policy = Mode::lab;
  CHECK(queued_options(service).at("policy") == "lab");
  Leased l;
  l.id = 1;
  l.domain = "example.jp";
  const auto policy_of = [&](const char* item, Mode worker_mode, bool worker_reserved) {
    CheckOptions worker;
    worker.policy = worker_mode;
    worker.allow_reserved = worker_reserved;
    l.options = json{{"domain", "example.jp"}, {"policy", item}};
    const CheckOptions c = options_of(l, worker);
    return std::pair{c.policy, c.allow_reserved};
  };
  CHECK(policy_of("internet", Mode::open, true) == std::pair{Mode::internet, false});
  CHECK(policy_of("lab", Mode::open, false) == std::pair{Mode::lab, true});
  CHECK(policy_of("lab", Mode::internet, false) == std::pair{Mode::internet, false});  // the worker's is stricter
  CHECK(policy_of("internet", Mode::lab, true) == std::pair{Mode::internet, false});
  l.options = json{{"domain", "example.jp"}, {"policy", "open"}};
  CHECK_THROWS_AS(options_of(l, CheckOptions{}), UsageError);  // an item never loosens a policy
  l.options = json{{"domain", "example.jp"}, {"policy", 1}};
  CHECK_THROWS_AS(options_of(l, CheckOptions{}), UsageError);
  l.options = json{{"domain", "example.jp"}};
  CHECK(options_of(l, CheckOptions{}).policy == Mode::open);  // enqueue's items: the worker's own
}

TEST_CASE("pipeline::record_options_of: an item's ticket, source and user over the worker's") {
  certdoctor::pipeline::RecordOptions worker;
  worker.user = "night";
  worker.source = "worker";
  Leased l;
  l.options = json{{"domain", "example.jp"}};
  auto r = certdoctor::pipeline::record_options_of(l, worker);
  CHECK((r.user == "night" && r.source == "worker" && r.ticket.empty()));
  l.ticket = "web:abc";
  l.options = json{{"domain", "example.jp"}, {"source", "web"}, {"user", "web"}};
  r = certdoctor::pipeline::record_options_of(l, worker);
  CHECK((r.user == "web" && r.source == "web" && r.ticket == "web:abc"));
  l.options["source"] = 3;  // not text: the worker's
  CHECK(certdoctor::pipeline::record_options_of(l, worker).source == "worker");
}
