#include <doctest/doctest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "facts/facts.hpp"
#include "util/error.hpp"
#include "../messages.hpp"

namespace {
const bool messages_installed = certdoctor::test::install_english_messages();
}

using namespace certdoctor;

TEST_CASE("facts::to_json/from_json") {
  SUBCASE("a full sample survives the round trip") {
    facts::Facts f = facts::sample();
    f.domain = "example.jp";
    f.names[0].caa[0].qname = "example.jp";
    nlohmann::json j = f;
    facts::Facts back = j.get<facts::Facts>();
    CHECK(nlohmann::json(back) == j);
    CHECK(back.names.at(0).a_cd.has_value());
    CHECK(back.delegation.servers.at(0).ns.answer.at(0).data == "203.0.113.10");
    CHECK(back.web.http.at(0).hops.at(0).addresses_resolved == std::vector<std::string>{"203.0.113.10"});
    CHECK(back.web.http.at(0).hops.at(0).tls_version == "TLSv1.3");
    CHECK(back.web.http.at(0).hops.at(0).body_sha256.size() == 64);
    CHECK(back.web.http.at(0).unknown_host.host == "certdoctor-x.invalid");
    CHECK(back.web.http.at(0).unknown_host.name_root.url == back.web.http.at(0).hops.at(0).url);
  }
  SUBCASE("a chain of an older facts file, without body_sha256 and unknown_host, still loads") {
    const auto c = nlohmann::json::parse(R"({"name": "a.jp", "family": "ipv4", "address": "203.0.113.10",
      "url": "http://a.jp/.well-known/acme-challenge/t", "stop": "answer",
      "hops": [{"url": "http://a.jp/.well-known/acme-challenge/t", "outcome": "response", "status": 404}]})")
                       .get<facts::HttpChallenge>();
    CHECK(c.hops.at(0).status == 404);
    CHECK(c.hops.at(0).body_sha256.empty());
    CHECK(c.unknown_host.host.empty());
    CHECK(c.unknown_host.root.outcome == "not-sent");
  }
  SUBCASE("the outcome vocabulary's predicates") {
    namespace o = facts::web_outcome;
    for (const char* dial : {"refused", "connect-timeout", "unreachable"}) CHECK(o::is_dial_error(dial));
    for (const char* other : {"timeout", "reset", "tls-error", "too-large", "response", "not-sent"})
      CHECK_FALSE(o::is_dial_error(other));
    CHECK_FALSE(o::no_answer("response"));
    CHECK(o::no_answer("tls-error"));
    facts::Lookup l;
    l.outcome = "servfail";
    CHECK(l.failed());
    CHECK_FALSE(l.transport_failed());
    l.outcome = "timeout";
    CHECK(l.transport_failed());
    l.outcome = "nxdomain";
    CHECK_FALSE(l.failed());
  }
  SUBCASE("missing keys keep their defaults") {
    auto back = nlohmann::json::parse(R"({"version": 1, "domain": "a.jp"})").get<facts::Facts>();
    CHECK(back.domain == "a.jp");
    CHECK(back.request.ca == "letsencrypt");
    CHECK(back.delegation.status == "not-checked");
  }
}

TEST_CASE("facts::Lookup::values") {
  facts::Lookup l;
  l.qname = "www.example.jp";
  l.qtype = "A";
  l.answer = {{"www.example.jp", "CNAME", 60, "example.jp"}, {"example.jp", "A", 60, "203.0.113.10"},
              {"other.jp", "A", 60, "198.51.100.1"}};
  CHECK(l.cname_chain() == std::vector<std::string>{"example.jp"});
  CHECK(l.values("A") == std::vector<std::string>{"203.0.113.10"});
  SUBCASE("a CNAME loop ends") {
    l.answer = {{"www.example.jp", "CNAME", 60, "loop.example.jp"}, {"loop.example.jp", "CNAME", 60, "www.example.jp"}};
    CHECK(l.cname_chain().size() == 2);
    CHECK(l.values("A").empty());
  }
}

TEST_CASE("facts::load_file") {
  auto dir = std::filesystem::temp_directory_path();
  auto path = (dir / "certdoctor-test-facts.json").string();
  SUBCASE("save then load") {
    facts::Facts f = facts::sample();
    f.domain = "example.jp";
    facts::save_file(f, path);
    CHECK(facts::load_file(path).domain == "example.jp");
  }
  SUBCASE("not JSON") {
    std::ofstream(path) << "hello";
    CHECK_THROWS_WITH_AS(facts::load_file(path), doctest::Contains("not a facts file"), Error);
  }
  SUBCASE("another version") {
    std::ofstream(path) << R"({"version": 99})";
    CHECK_THROWS_WITH_AS(facts::load_file(path),
                         (path + ": written by a newer certdoctor (facts format 99; this one reads format 1): "
                                 "explain it with that version, or upgrade certdoctor").c_str(),
                         UsageError);
    std::ofstream(path) << R"({"version": 0})";
    CHECK_THROWS_WITH_AS(facts::load_file(path),
                         (path + ": facts format 0 is not supported (this certdoctor reads format 1); "
                                 "gather the facts again with `certdoctor check`").c_str(),
                         UsageError);
  }
  SUBCASE("a directory") {
    CHECK_THROWS_WITH_AS(facts::load_file(dir.string()), doctest::Contains("is a directory"), UsageError);
  }
  SUBCASE("missing file") {
    CHECK_THROWS_WITH_AS(facts::load_file("/nonexistent/f.json"),
                         "cannot read facts file /nonexistent/f.json: No such file or directory (facts files are "
                         "written by `certdoctor check --facts-out FILE`; - reads standard input)",
                         UsageError);
  }
  std::remove(path.c_str());
}

TEST_CASE("facts::parse_document names what is wrong") {
  using certdoctor::UsageError;
  using certdoctor::facts::parse_document;
  const std::string names = R"("names": [{"name": "example.jp", "role": "main"}])";
  CHECK(parse_document(R"({"version": 1, "domain": "example.jp", )" + names + "}", "f.json").domain == "example.jp");
  CHECK_THROWS_WITH_AS(parse_document("[1,", "f.json"),
                       doctest::Contains("f.json: not a facts file (not JSON: "), UsageError);
  CHECK_THROWS_WITH_AS(parse_document(R"({"version": 2, "domain": "example.jp", )" + names + "}", "f.json"),
                       doctest::Contains("f.json: written by a newer certdoctor (facts format 2; this one reads format 1)"),
                       UsageError);
  CHECK_THROWS_WITH_AS(parse_document(R"({"version": "1"})", "f.json"),
                       "f.json: \"version\" must be a whole number, but is \"1\"", UsageError);
  CHECK_THROWS_WITH_AS(parse_document(R"({"version": 1, )" + names + "}", "f.json"),
                       "f.json: field \"domain\" is missing or not a non-empty string", UsageError);
  CHECK_THROWS_WITH_AS(parse_document(R"({"version": 1, "domain": "example.jp", "names": []})", "f.json"),
                       "f.json: field \"names\" is missing or not a non-empty list", UsageError);
  CHECK_THROWS_WITH_AS(
      parse_document(R"({"version": 1, "domain": "example.jp", "names": [{"name": "a.jp"}, {"name": "b.jp", "aaaa": {"answer": [{}, {"ttl": "x"}]}}]})",
                     "f.json"),
      "f.json: field \"names[1].aaaa.answer[1].ttl\" type must be number, but is string", UsageError);
  CHECK_THROWS_WITH_AS(parse_document(R"({"version": 1, "domain": "example.jp", "names": [{"name": "a.jp"}], "request": {"server_ips": "x"}})", "f.json"),
                       "f.json: field \"request.server_ips\" must be a list, but is string", UsageError);
}
