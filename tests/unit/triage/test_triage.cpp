#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>

#include "triage/triage.hpp"
#include "util/error.hpp"

using namespace certdoctor;
using namespace certdoctor::triage;
namespace fs = std::filesystem;

namespace {
struct Data {
  view::DataSet data = view::DataSet::load({CERTDOCTOR_SOURCE_RULES_DIR});
  AcmeCatalogue acme = AcmeCatalogue::load({CERTDOCTOR_SOURCE_RULES_DIR});
  TriageData view() const { return TriageData{data, acme}; }
};
const Data& data() {
  static Data d;
  return d;
}

fs::path profile_dir(const std::string& yaml) {
  static int n = 0;
  fs::path dir = fs::temp_directory_path() / ("certdoctor-triage-test-" + std::to_string(::getpid()) + "-" + std::to_string(n++));
  fs::create_directories(dir / "providers");
  std::ofstream(dir / "providers" / "p.yaml") << yaml;
  return dir;
}
} // namespace

TEST_CASE("triage::normalise") {
  CHECK(normalise("ＳＳＬ 更新　エラー") == "ssl更新エラー");
  CHECK(normalise("Let's Encrypt") == "let'sencrypt");
  CHECK(normalise(std::string("\xff", 1)).empty());
}

TEST_CASE("triage::labelled_values") {
  const std::string body = "コモンネーム : a.example.jp\nコモンネーム：ｂ.example.jp\nサーバーID「xs1」で\nドメイン/SSL の設定\n";
  CHECK(labelled_values(body, {"コモンネーム"}) == std::vector<std::string>{"a.example.jp", "b.example.jp"});
  CHECK(labelled_values(body, {"サーバーID"}) == std::vector<std::string>{"xs1"});
  // A label not followed by a separator is prose, not a field.
  CHECK(labelled_values(body, {"ドメイン"}).empty());
}

TEST_CASE("triage::triage") {
  SUBCASE("a Sakura notice by subject, with its domain and account") {
    Triage t = triage::triage(
        "From: support@sakura.ad.jp\nDate: x\nSubject: =?UTF-8?B?54Sh5paZU1NMIOabtOaWsOOCqOODqeODvA==?=\n\n"
        "レンタルサーバアカウント : acct\nコモンネーム : 日本語.jp\nhttps://help.sakura.ad.jp/\n",
        data().view());
    CHECK(t.kind == "sakura-renewal-error");
    CHECK(t.provider == "sakura");
    CHECK(t.matched_by == "subject");
    REQUIRE(t.domains.size() == 1);
    CHECK(t.domains[0].ascii == "xn--wgv71a119e.jp");
    CHECK(t.domains[0].unicode == "日本語.jp");
    CHECK(t.ids.at("account") == std::vector<std::string>{"acct"});
  }
  SUBCASE("a provider's other mail is unrelated and names no domain") {
    Triage t = triage::triage("From: support@sakura.ad.jp\nDate: x\nSubject: maintenance\n\nドメイン名 : a.jp\n", data().view());
    CHECK(t.kind == "unrelated");
    CHECK(t.provider == "sakura");
    CHECK(t.domains.empty());
  }
  SUBCASE("empty and binary input are errors") {
    CHECK_THROWS_WITH_AS(triage::triage(" \n", data().view()),
                         "the input is empty: give an e-mail, an ACME problem document or an ACME client's output", Error);
    CHECK_THROWS_AS(triage::triage(std::string("\x00\xff\xfe\x01", 4), data().view()), Error);
  }
}

TEST_CASE("view::DataSet notices") {
  SUBCASE("a new provider's notice needs no code") {
    auto dir = profile_dir(
        "provider: {id: newhost}\nnotices:\n  senders: ['*@newhost.example']\n  fields: {domain: [Domain]}\n  kinds:\n"
        "    - id: newhost-failed\n      subjects: [[certificate, failed]]\n      means: {en: m, ja: m}\n      next: {en: n, ja: n}\n");
    view::DataSet set = view::DataSet::load({CERTDOCTOR_SOURCE_RULES_DIR, dir});
    AcmeCatalogue acme;
    Triage t = triage::triage("From: bot@newhost.example\nDate: x\nSubject: Your certificate renewal failed\n\nDomain: new.example.com\n",
                      TriageData{set, acme});
    CHECK(t.kind == "newhost-failed");
    CHECK(t.provider == "newhost");
    REQUIRE(t.domains.size() == 1);
    CHECK(t.domains[0].ascii == "new.example.com");
    fs::remove_all(dir);
  }
  SUBCASE("a kind without its Japanese text is a load error") {
    auto dir = profile_dir("provider: {id: bad}\nnotices:\n  kinds:\n    - id: bad-kind\n      subjects: [x]\n"
                           "      means: {en: m}\n      next: {en: n, ja: n}\n");
    CHECK_THROWS_WITH_AS(view::DataSet::load({dir}), ((dir / "providers" / "p.yaml").string() +
                                                         ":4: notice kind 'bad-kind': 'means' needs a text for 'ja'").c_str(),
                         ConfigError);
    fs::remove_all(dir);
  }
  SUBCASE("an unknown field is a load error") {
    auto dir = profile_dir("provider: {id: bad}\nnotices:\n  fields: {domian: [x]}\n");
    CHECK_THROWS_WITH_AS(view::DataSet::load({dir}), ((dir / "providers" / "p.yaml").string() +
                                                         ":3: unknown field 'domian' (use domain, account, server or member)").c_str(),
                         ConfigError);
    fs::remove_all(dir);
  }
}

TEST_CASE("triage::month_day") {
  CHECK(certdoctor::triage::month_day("Thu, 23 Mar 2023 10:04:12 +0900") == "03-23");
  CHECK(certdoctor::triage::month_day("6 Dec 2026 01:00:00 -0000") == "12-06");
  CHECK(certdoctor::triage::month_day("Sun,  1 MAR 2020 09:00 +0900") == "03-01");
  CHECK(certdoctor::triage::month_day("2023-03-23T10:04:12+09:00").empty());
  CHECK(certdoctor::triage::month_day("").empty());
}
