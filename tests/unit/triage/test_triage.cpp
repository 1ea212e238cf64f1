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
  // A whole-line field keeps its spaces (a certificate type), and a CRLF ends a value.
  const std::string block = "サーバ証明書種別 : Let's Encrypt (無料SSL) \r\nアカウント : acct\r\n";
  CHECK(labelled_values(block, {"サーバ証明書種別"}, true) == std::vector<std::string>{"Let's Encrypt (無料SSL)"});
  CHECK(labelled_values(block, {"サーバ証明書種別"}) == std::vector<std::string>{"Let's"});
  CHECK(labelled_values(block, {"アカウント"}) == std::vector<std::string>{"acct"});
}

TEST_CASE("triage::recognition") {
  SUBCASE("a reworded Sakura notice: words and cues, every block's domain, the account and type") {
    Triage t = triage::triage(
        "From: info@sakura.ad.jp\nDate: x\nSubject: =?UTF-8?B?54Sh5paZU1NM44Gu5pu05paw44Gr44Gk44GE44Gm?=\n\n"
        "無料SSLの自動更新の処理が正常に終わりませんでした。\n初期ドメイン : shop.sakura.ne.jp\n"
        "証明書の種類 : Let's Encrypt (無料SSL)\nコモンネーム : a.example.jp\nコモンネーム : www.a.example.jp\n",
        data().view());
    CHECK(t.kind == "sakura-renewal-error");
    CHECK(t.matched_by == "words");
    CHECK(t.account == "shop");
    CHECK(t.ids.at("cert_type") == std::vector<std::string>{"Let's Encrypt (無料SSL)"});
    REQUIRE(t.domains.size() == 2);
    CHECK(t.domains[1].ascii == "www.a.example.jp");
    CHECK(t.recognition.score >= t.recognition.threshold);
    bool sender = false, failure = false;
    for (const auto& c : t.recognition.cues) {
      sender = sender || (c.cue == "sender" && c.weight > 0);
      failure = failure || c.cue == "failure";
    }
    CHECK(sender);
    CHECK(failure);
  }
  SUBCASE("a billing mail from the same sender stays unrelated, with its negative cue shown") {
    Triage t = triage::triage(
        "From: support@xserver.ne.jp\nDate: x\nSubject: =?UTF-8?B?44GU5Yip55So5paZ6YeR44Gu44GK5pSv5omV44GE?=\n\n"
        "お支払いが完了していないため、無料独自SSLの更新ができませんでした。\nサーバーID : xs1\n",
        data().view());
    CHECK(t.kind == "unrelated");
    CHECK(t.provider == "xserver");
    CHECK(t.recognition.score < t.recognition.threshold);
    CHECK(t.account.empty());
  }
  SUBCASE("the Xserver server ID is the account") {
    Triage t = triage::triage(
        "From: support@xserver.ne.jp\nDate: x\nSubject: SSL\n\n"
        "SSL証明書の更新に失敗しました。\nサーバーID : xs99\n対象ドメイン : x.example.jp\n",
        data().view());
    CHECK(t.kind == "xserver-autorenew-failed");
    CHECK(t.account == "xs99");
  }
}

TEST_CASE("triage::acme cues") {
  const auto& d = data();
  const auto classifier = view::address::AddressClassifier::load({fs::path(CERTDOCTOR_SOURCE_RULES_DIR) / "data"});
  const TriageData td{d.data, d.acme, &classifier};
  auto first = [&](const std::string& text) {
    Triage t = triage::triage(text, td);
    return t.causes.empty() ? std::string("none") : t.causes[0].finding;
  };
  CHECK(first("Detail: 2606:4700:3033::681f:5abe: Invalid response from http://a.jp/.well-known/acme-challenge/x: 522") ==
        "cdn-proxy");
  CHECK(first("Invalid response from http://a.jp/.well-known/acme-challenge/x [2001:db8::1]: 404") == "aaaa-not-host");
  CHECK(first("Invalid response from http://a.jp/.well-known/acme-challenge/x [192.0.2.1]: 404") == "http-error");
  CHECK(first("{\"type\":\"urn:ietf:params:acme:error:rateLimited\",\"detail\":\"Service busy; retry later.\"}") ==
        "ca-outage");
  CHECK(first("Error: JWS has invalid anti-replay nonce abc") == "ca-outage");
  CHECK(first("Fetching http://a.jp/.well-known/acme-challenge/x: Timeout") == "http-unreachable");
  CHECK(first("The server could not connect to the client to verify the domain") == "http-unreachable");
  CHECK(first("a.jp:Verify error:No A or AAAA record found for hostname a.jp") == "dns-no-address");
  CHECK(first("DNS problem: NXDOMAIN looking up A for www.a.jp - check that a DNS record exists") == "www-not-covered");
  CHECK(first("DNS problem: NXDOMAIN looking up A for shop.a.jp - check that a DNS record exists") == "domain-nxdomain");
  CHECK(first("Invalid response from http://a.jp/.well-known/acme-challenge/x [192.0.2.1]: \"<html><title>Just a moment...</title>\"") ==
        "http-access-restricted");
  // A plain 404 says what it can mean and which check decides.
  Triage t = triage::triage("Invalid response from http://a.jp/.well-known/acme-challenge/x [192.0.2.1]: 404", td);
  REQUIRE(t.causes.size() == 1);
  CHECK(t.causes[0].note.is_object());
  CHECK(t.causes[0].note["en"].get<std::string>().find("certdoctor check") != std::string::npos);
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
                                                         ":3: unknown field 'domian' (use domain, account, server, member or cert_type)").c_str(),
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
