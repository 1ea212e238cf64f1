#include <doctest/doctest.h>

#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "pipeline/batch.hpp"
#include "pipeline/batch_input.hpp"
#include "util/error.hpp"

using certdoctor::UsageError;
using certdoctor::pipeline::BatchItem;
using certdoctor::pipeline::BatchLineError;
using certdoctor::pipeline::BatchReader;
using certdoctor::pipeline::CheckOptions;
using certdoctor::pipeline::options_for;
using certdoctor::pipeline::shard_of;

namespace {

struct Read {
  std::vector<BatchItem> items;
  std::vector<BatchLineError> errors;
};

Read read_all(const std::string& text) {
  std::istringstream in(text);
  BatchReader reader(in);
  Read r;
  while (auto item = reader.next(r.errors)) r.items.push_back(*item);
  return r;
}

} // namespace

TEST_CASE("batch input: one domain per line, with comments, blank lines, CRLF and a byte order mark") {
  const Read r = read_all("\xEF\xBB\xBF# customers renewing this week\r\nexample.jp\r\n\r\n   \n  shop.example.co.jp  \n#x.jp\n日本語.jp");
  REQUIRE(r.errors.empty());
  REQUIRE(r.items.size() == 3);
  CHECK(r.items[0].domain == "example.jp");
  CHECK(r.items[0].line == 2);
  CHECK(r.items[1].domain == "shop.example.co.jp");
  CHECK(r.items[1].line == 5);
  CHECK(r.items[2].domain == "日本語.jp");
  CHECK(r.items[2].line == 7);
  CHECK(r.items[0].provider.empty());
  CHECK(!r.items[0].www.has_value());
}

TEST_CASE("batch input: a bad line is reported with its number and the rest goes on") {
  const Read r = read_all("example.jp\nhttps://example.jp/\nexample.jp:80\n\nfoo..jp\ngood.example.jp\n");
  REQUIRE(r.items.size() == 2);
  CHECK(r.items[0].line == 1);
  CHECK(r.items[1].domain == "good.example.jp");
  CHECK(r.items[1].line == 6);
  REQUIRE(r.errors.size() == 3);
  CHECK(r.errors[0].line == 2);
  CHECK(r.errors[0].text == "https://example.jp/");
  CHECK(r.errors[0].why.key == "batch-line-invalid");
  CHECK(r.errors[1].line == 3);
  CHECK(r.errors[2].line == 5);
  // The domain's own words are kept.
  CHECK(r.errors[1].why.args.at(1).first == "detail");
  CHECK(r.errors[1].why.args.at(1).second.find("example.jp:80") != std::string::npos);
}

TEST_CASE("batch input: hostile lines are cut and made printable") {
  std::string huge(100000, 'a');
  const Read r = read_all("evil\x1b[2J.jp\n" + huge + ".jp\nok.example.jp\n");
  REQUIRE(r.items.size() == 1);
  CHECK(r.items[0].line == 3);
  REQUIRE(r.errors.size() == 2);
  CHECK(r.errors[0].text.find('\x1b') == std::string::npos);
  CHECK(r.errors[1].line == 2);
  CHECK(r.errors[1].why.key == "batch-line-too-long");
  CHECK(r.errors[1].text.size() < 1000);
}

TEST_CASE("batch input: CSV with a header naming the columns in any order") {
  const Read r = read_all(
      "# export of 2026-12-01\n"
      "WWW,Domain,provider,server_ip,account\n"
      "yes,example.jp,sakura,203.0.113.10;2001:db8::10,example123\n"
      ",shop.example.jp,,,\n"
      "no,\"quoted.example.jp\",xserver,203.0.113.1 203.0.113.2,\n"
      "0,other.example.jp,auto,  ,\n");
  REQUIRE(r.errors.empty());
  REQUIRE(r.items.size() == 4);
  CHECK(r.items[0].line == 3);
  CHECK(r.items[0].domain == "example.jp");
  CHECK(r.items[0].provider == "sakura");
  CHECK(r.items[0].server_ips == std::vector<std::string>{"203.0.113.10", "2001:db8::10"});
  CHECK(r.items[0].account == "example123");
  CHECK(r.items[0].www == true);
  CHECK(r.items[1].domain == "shop.example.jp");
  CHECK(r.items[1].provider.empty());
  CHECK(r.items[1].server_ips.empty());
  CHECK(!r.items[1].www.has_value());
  CHECK(r.items[2].domain == "quoted.example.jp");
  CHECK(r.items[2].server_ips == std::vector<std::string>{"203.0.113.1", "203.0.113.2"});
  CHECK(r.items[2].www == false);
  CHECK(r.items[3].www == false);
}

TEST_CASE("batch input: a CSV header of the domain column alone") {
  const Read r = read_all("domain\nexample.jp\n");
  REQUIRE(r.errors.empty());
  REQUIRE(r.items.size() == 1);
  CHECK(r.items[0].domain == "example.jp");
}

TEST_CASE("batch input: bad CSV lines each name their line, the rest goes on") {
  const Read r = read_all(
      "domain,server_ip,www,account,provider\n"
      "a.example.jp,203.0.113.300,,,\n"          // 2: bad address
      "b.example.jp,,maybe,,\n"                  // 3: bad www
      "c.example.jp,,,bad_account!,\n"           // 4: bad account
      "d.example.jp,,\n"                         // 5: too few fields
      "\"e.example.jp,,,,\n"                     // 6: unclosed quote
      ",,,,\n"                                   // 7: no domain
      "f.example.jp,,,,Sakura Internet\n"        // 8: bad provider id
      "g.example.jp,,,,\n");                     // 9: good
  REQUIRE(r.items.size() == 1);
  CHECK(r.items[0].domain == "g.example.jp");
  CHECK(r.items[0].line == 9);
  REQUIRE(r.errors.size() == 7);
  const std::vector<std::pair<std::size_t, std::string>> expected = {
      {2, "batch-server-ip-invalid"}, {3, "batch-www-invalid"}, {4, "batch-account-invalid"}, {5, "batch-csv-fields"},
      {6, "batch-csv-quote"},         {7, "batch-domain-missing"}, {8, "batch-provider-invalid"}};
  for (std::size_t i = 0; i < expected.size(); ++i) {
    CAPTURE(i);
    CHECK(r.errors[i].line == expected[i].first);
    CHECK(r.errors[i].why.key == expected[i].second);
  }
}

TEST_CASE("batch input: a CSV header that cannot be used stops the input with the column named") {
  CHECK_THROWS_AS(read_all("domain,sever_ip\nexample.jp,203.0.113.1\n"), UsageError);
  CHECK_THROWS_AS(read_all("domain,www,WWW\n"), UsageError);
  CHECK_THROWS_AS(read_all("provider,www\nsakura,yes\n"), UsageError);
  try {
    read_all("domain,sever_ip\n");
    FAIL("no error");
  } catch (const UsageError& e) {
    CHECK(std::string(e.what()).find("sever_ip") != std::string::npos);
    CHECK(std::string(e.what()).find("server_ip") != std::string::npos);  // did you mean
  }
}

TEST_CASE("batch input: reads as a stream, one line at a time") {
  std::stringstream in;
  in << "a.example.jp\n";
  BatchReader reader(in);
  std::vector<BatchLineError> errors;
  auto first = reader.next(errors);
  REQUIRE(first);
  CHECK(first->domain == "a.example.jp");
  CHECK(reader.lines() == 1);
  CHECK(!reader.next(errors));
}

TEST_CASE("shard_of: fixed numbers, so that a change of the hash fails here") {
  // SHA-256 of the registered domain, first 8 bytes big-endian, modulo N.
  CHECK(shard_of("example.jp", 7) == 4);
  CHECK(shard_of("example.jp", 16) == 15);
  CHECK(shard_of("example.co.jp", 7) == 6);
  CHECK(shard_of("example.co.jp", 16) == 9);
  CHECK(shard_of("日本語.jp", 7) == 0);
  CHECK(shard_of("xn--wgv71a119e.jp", 16) == 9);
  CHECK(shard_of("lab-healthy.jp", 16) == 4);
  CHECK(shard_of("lab-healthy.jp", 2) == 0);
  // Names under one registered domain share its shard; case and a trailing dot do not matter.
  CHECK(shard_of("www.example.jp", 7) == 4);
  CHECK(shard_of("Shop.Example.JP.", 7) == 4);
  CHECK(shard_of("a.b.example.co.jp", 16) == 9);
  CHECK(shard_of("example.jp", 1) == 0);
  CHECK(shard_of("example.jp", 0) == 0);
}

TEST_CASE("shard_of: every domain in exactly one shard, subdomains with their registered domain, the shards all used") {
  for (std::size_t n : {2u, 3u, 5u, 8u}) {
    CAPTURE(n);
    std::vector<std::set<std::string>> shards(n);
    for (int i = 0; i < 400; ++i) {
      const std::string reg = "customer" + std::to_string(i) + ".jp";
      const std::size_t s = shard_of(reg, n);
      REQUIRE(s < n);
      CHECK(shard_of("www." + reg, n) == s);
      CHECK(shard_of("shop.www." + reg, n) == s);
      shards[s].insert(reg);
    }
    std::size_t total = 0;
    for (const auto& shard : shards) {
      total += shard.size();
      CHECK(shard.size() > 400 / n / 2);  // no shard left empty or nearly so
    }
    CHECK(total == 400);
  }
}

TEST_CASE("options_for: the item's columns over the batch's options") {
  CheckOptions base;
  base.provider = "auto";
  base.server_ips = {"198.51.100.1"};
  base.timeout_s = 12;
  base.resolvers = {"127.0.0.1:53"};
  BatchItem plain;
  plain.domain = "example.jp";
  CheckOptions o = options_for(plain, base);
  CHECK(o.domain == "example.jp");
  CHECK(o.provider == "auto");
  CHECK(o.server_ips == base.server_ips);
  CHECK(o.timeout_s == 12);
  CHECK(o.resolvers == base.resolvers);
  CHECK(!o.www);
  CHECK(!o.no_www);
  BatchItem full;
  full.domain = "shop.example.jp";
  full.provider = "xserver";
  full.server_ips = {"203.0.113.5"};
  full.account = "srv1";
  full.www = false;
  o = options_for(full, base);
  CHECK(o.provider == "xserver");
  CHECK(o.server_ips == std::vector<std::string>{"203.0.113.5"});
  CHECK(o.account == "srv1");
  CHECK(!o.www);
  CHECK(o.no_www);
  full.www = true;
  o = options_for(full, base);
  CHECK(o.www);
  CHECK(!o.no_www);
}

TEST_CASE("plan_batch: each item in the shard its registered domain hashes to, skip honoured, bad lines counted") {
  std::string text;
  for (int i = 0; i < 50; ++i) text += "site" + std::to_string(i) + ".jp\n";
  text += "bad:80.jp\nwww.site3.jp\n";
  std::multiset<std::string> all;
  std::size_t bad = 0;
  for (std::size_t k = 0; k < 3; ++k) {
    std::istringstream in(text);
    BatchReader reader(in);
    certdoctor::pipeline::BatchOptions o;
    o.shard = k;
    o.shards = 3;
    o.skip = [](const BatchItem& item) { return item.domain == "site7.jp"; };
    const auto s = certdoctor::pipeline::plan_batch(
        reader, o, [&](const BatchItem& item) {
          CHECK(shard_of(item.domain, 3) == k);
          all.insert(item.domain);
        },
        [&](const BatchLineError& e) {
          CHECK(e.line == 51);
          ++bad;
        });
    CHECK(s.read == 51);
    CHECK(s.bad_lines == 1);
    CHECK(s.status == 2);
    CHECK(s.planned + s.other_shards + s.skipped == s.read);
  }
  CHECK(bad == 3);
  CHECK(all.size() == 50);  // 49 sites (site7 skipped) and www.site3.jp, each once
  CHECK(all.count("site7.jp") == 0);
  CHECK(all.count("www.site3.jp") == 1);
  for (int i = 0; i < 50; ++i)
    if (i != 7) CHECK(all.count("site" + std::to_string(i) + ".jp") == 1);
}
