// The service's answers, request in, response out (no HTTP server): the pages in both languages,
// hostile input, the limits, and a check that runs, is recorded and is found again by a new
// service over the same history. The checks ask only closed ports on 127.0.0.1.
#include "serve/service.hpp"

#include <doctest/doctest.h>

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <thread>

#include "temp_dir.hpp"

using namespace certdoctor;
using namespace certdoctor::serve;
using nlohmann::json;

namespace {

const pipeline::Knowledge& knowledge() {
  static const pipeline::Knowledge k(std::vector<std::string>{});
  return k;
}

int closed_udp_port() {
  const int fd = socket(AF_INET, SOCK_DGRAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  close(fd);
  return ntohs(a.sin_port);
}

Config config(const TempDir& t) {
  Config c;
  c.db = t.str() + "/history.sqlite3";
  c.workers = 1;
  c.queue = 4;
  c.client_per_minute = 600;
  c.client_burst = 100;
  c.domain_per_minute = 600;
  c.domain_burst = 100;
  c.defaults.resolvers = {"127.0.0.1:" + std::to_string(closed_udp_port())};
  c.defaults.root_hints = t.write("root.hints", ".  3600000  NS  a.root-servers.net.\na.root-servers.net.  3600000  A  127.0.0.1\n");
  c.defaults.web = false;
  c.defaults.ct_url = "none";
  c.defaults.status_url = "none";
  c.defaults.use_cache = false;
  c.defaults.timeout_s = 2;
  return c;
}

Request get(const std::string& path, std::map<std::string, std::string> args = {}, std::map<std::string, std::string> headers = {}) {
  Request r;
  r.method = "GET";
  r.path = path;
  r.args = std::move(args);
  r.headers = std::move(headers);
  r.peer = "192.0.2.1";
  return r;
}

Request post(const std::string& path, const std::string& type, const std::string& body, const std::string& peer = "192.0.2.1") {
  Request r;
  r.method = "POST";
  r.path = path;
  r.headers["content-type"] = type;
  r.body = body;
  r.peer = peer;
  return r;
}

std::string header(const Response& r, const std::string& name) {
  for (const auto& [n, v] : r.headers)
    if (n == name) return v;
  return "";
}

json body_json(const Response& r) { return json::parse(r.body); }

}  // namespace

TEST_CASE("serve::Service: the form in Japanese and English, with the strict policy") {
  TempDir t;
  Service::install_messages(knowledge());
  Service s(config(t), knowledge());
  const auto ja = s.handle(get("/"));
  CHECK(ja.status == 200);
  CHECK(ja.content_type.rfind("text/html", 0) == 0);
  CHECK(ja.body.find("<html lang=\"ja\">") != std::string::npos);
  CHECK(ja.body.find("確認する") != std::string::npos);
  CHECK(ja.body.find("<form method=\"post\" action=\"/check\"") != std::string::npos);
  CHECK(ja.body.find("<script") == std::string::npos);
  const auto en = s.handle(get("/", {}, {{"accept-language", "en-US,en;q=0.9"}}));
  CHECK(en.body.find("<html lang=\"en\">") != std::string::npos);
  CHECK(en.body.find(">Check</button>") != std::string::npos);
  CHECK(s.handle(get("/", {{"lang", "ja"}}, {{"accept-language", "en"}})).body.find("<html lang=\"ja\">") != std::string::npos);
  const auto csp = header(ja, "Content-Security-Policy");
  CHECK(csp.find("default-src 'none'") != std::string::npos);
  CHECK(csp.find("form-action 'self'") != std::string::npos);
  CHECK(header(ja, "Set-Cookie").empty());
  const auto health = s.handle(get("/healthz"));
  CHECK(health.status == 200);
  CHECK(body_json(health)["policy"] == "internet");
  const auto api = s.handle(get("/api/openapi.json"));
  CHECK(body_json(api)["paths"].contains("/api/v1/checks"));
}

TEST_CASE("serve::Service: hostile requests get clean errors in both languages") {
  TempDir t;
  Service::install_messages(knowledge());
  Service s(config(t), knowledge());
  struct Case {
    std::string type, body;
    int status;
    std::string code;
  };
  const std::vector<Case> cases = {
      {"application/json", "{not json", 400, "serve-json-invalid"},
      {"application/json", "", 400, "serve-json-invalid"},
      {"application/json", "[1,2]", 400, "serve-json-object"},
      {"application/json", "{\"domain\": 5}", 400, "serve-domain-type"},
      {"application/json", "{\"domain\": \"example.jp\", \"www\": \"yes\"}", 400, "serve-field-type"},
      {"application/json", "{\"domain\": \"example.jp\", \"evil\": 1}", 400, "serve-field-unknown"},
      {"application/json", "{\"domain\": \"\"}", 400, "serve-domain-missing"},
      {"application/json", "{\"domain\": \"example.jp\", \"provider\": \"<b>x</b>\"}", 400, "serve-provider-invalid"},
      {"application/json", "{\"domain\": \"example.jp\", \"server_ip\": \"localhost\"}", 400, "serve-server-ip-invalid"},
      {"application/json", "{\"domain\": \"<script>alert(1)</script>.jp\"}", 400, "domain-invalid"},
      {"application/json", "{\"domain\": \"exa\\u0001mple.jp\"}", 400, "domain-invalid"},
      {"application/json", "{\"domain\": \"" + std::string(5000, 'a') + ".jp\"}", 400, "domain-invalid"},
      {"text/plain", "{\"domain\": \"example.jp\"}", 415, "serve-content-type"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.body.substr(0, 60));
    const auto r = s.handle(post("/api/v1/checks", c.type, c.body));
    CHECK(r.status == c.status);
    REQUIRE(r.content_type.rfind("application/json", 0) == 0);
    const auto j = body_json(r);
    CHECK(j["error"]["code"] == c.code);
    const auto ja = j["error"]["message"].value("ja", ""), en = j["error"]["message"].value("en", "");
    CHECK_FALSE(ja.empty());
    CHECK_FALSE(en.empty());
    CHECK(ja != en);
  }
  auto big = post("/api/v1/checks", "application/json", "");
  big.body_too_large = true;
  CHECK(s.handle(big).status == 413);
  CHECK(body_json(s.handle(big))["error"]["code"] == "serve-body-too-large");
  // Markup in a form comes back escaped, with the form filled in again.
  const auto form = s.handle(post("/check", "application/x-www-form-urlencoded", "lang=en&domain=%3Cscript%3Ealert(1)%3C%2Fscript%3E.jp"));
  CHECK(form.status == 400);
  CHECK(form.content_type.rfind("text/html", 0) == 0);
  CHECK(form.body.find("<script>") == std::string::npos);
  CHECK(form.body.find("&lt;script&gt;") != std::string::npos);
  CHECK(form.body.find("role=\"alert\"") != std::string::npos);
  // Unknown ids and pages, wrong methods.
  const auto missing = s.handle(get("/api/v1/checks/AAAAAAAAAAAAAAAAAAAAAA"));
  CHECK(missing.status == 404);
  CHECK(body_json(missing)["error"]["code"] == "serve-not-found");
  const auto page = s.handle(get("/r/<img src=x>"));
  CHECK(page.status == 404);
  CHECK(page.body.find("<img") == std::string::npos);
  CHECK(s.handle(get("/nothing")).status == 404);
  CHECK(body_json(s.handle(get("/api/v2/x")))["error"]["code"] == "serve-no-page");
  const auto method = s.handle(get("/check"));
  CHECK(method.status == 405);
  CHECK(header(method, "Allow") == "POST");
  CHECK(s.counts().queued + s.counts().running + s.counts().done == 0);
}

TEST_CASE("serve::Service: limits: a client's bucket, a domain's, the queue") {
  TempDir t;
  Service::install_messages(knowledge());
  SUBCASE("per client") {
    auto c = config(t);
    c.client_burst = 2;
    c.client_per_minute = 1;
    Service s(c, knowledge());
    CHECK(s.handle(post("/api/v1/checks", "application/json", R"({"domain": "a.example.jp"})")).status == 202);
    CHECK(s.handle(post("/api/v1/checks", "application/json", R"({"domain": "b.example.jp"})")).status == 202);
    const auto r = s.handle(post("/api/v1/checks", "application/json", R"({"domain": "c.example.jp"})"));
    CHECK(r.status == 429);
    CHECK(body_json(r)["error"]["code"] == "serve-rate-client");
    CHECK(std::stoi(header(r, "Retry-After")) >= 1);
    // Another client is not slowed down.
    CHECK(s.handle(post("/api/v1/checks", "application/json", R"({"domain": "d.example.jp"})", "198.51.100.1")).status == 202);
  }
  SUBCASE("per domain") {
    auto c = config(t);
    c.domain_burst = 1;
    c.domain_per_minute = 1;
    Service s(c, knowledge());
    CHECK(s.handle(post("/api/v1/checks", "application/json", R"({"domain": "example.jp"})")).status == 202);
    // The same request again is the same check, not a new one.
    const auto again = s.handle(post("/api/v1/checks", "application/json", R"({"domain": "example.jp"})", "198.51.100.2"));
    CHECK(again.status == 202);
    const auto other = s.handle(post("/api/v1/checks", "application/json", R"({"domain": "example.jp", "www": true})", "198.51.100.3"));
    CHECK(other.status == 429);
    CHECK(body_json(other)["error"]["code"] == "serve-rate-domain");
  }
  SUBCASE("the queue") {
    auto c = config(t);
    c.queue = 0;
    Service s(c, knowledge());
    const auto r = s.handle(post("/api/v1/checks", "application/json", R"({"domain": "example.jp"})"));
    CHECK(r.status == 429);
    CHECK(body_json(r)["error"]["code"] == "serve-queue-full");
    CHECK_FALSE(header(r, "Retry-After").empty());
  }
}

TEST_CASE("serve::Service: a check runs, is recorded, and its link outlives the service") {
  TempDir t;
  Service::install_messages(knowledge());
  std::string id;
  {
    Service s(config(t), knowledge());
    const auto r = s.handle(post("/check", "application/x-www-form-urlencoded", "lang=en&domain=example.jp&www=no&provider=auto"));
    REQUIRE(r.status == 303);
    const auto where = header(r, "Location");
    REQUIRE(where.rfind("/r/", 0) == 0);
    id = where.substr(3, where.find('?') - 3);
    const auto first = s.handle(get("/r/" + id, {{"lang", "en"}}));
    CHECK(first.status == 200);
    json j;
    for (int i = 0; i < 200; ++i) {
      j = body_json(s.handle(get("/api/v1/checks/" + id)));
      if (j["status"] == "done" || j["status"] == "failed") break;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    REQUIRE(j["status"] == "done");
    // Our own resolver answered nothing: the check says so, it does not blame the domain.
    CHECK(j["verdict"] == "incomplete");
    CHECK(j["record_id"].get<long long>() > 0);
    const auto done = s.handle(get("/r/" + id, {{"lang", "ja"}}));
    CHECK(done.status == 200);
    CHECK(done.body.find("example.jp") != std::string::npos);
    CHECK(done.body.find("http-equiv=\"refresh\"") == std::string::npos);
  }
  Service again(config(t), knowledge());
  const auto j = body_json(again.handle(get("/api/v1/checks/" + id)));
  CHECK(j["status"] == "done");
  CHECK(j["domain"] == "example.jp");
  CHECK(again.handle(get("/r/" + id)).status == 200);
}

namespace {

pipeline::ProgressEvent event(std::string kind, std::string server, std::string address, std::string name, std::string type,
                              std::string level = "", std::string url = "", std::string outcome = "", long status = 0) {
  pipeline::ProgressEvent e;
  e.kind = std::move(kind);
  e.server = std::move(server);
  e.address = std::move(address);
  e.name = std::move(name);
  e.type = std::move(type);
  e.level = std::move(level);
  e.url = std::move(url);
  e.outcome = std::move(outcome);
  e.status = status;
  return e;
}

}  // namespace

TEST_CASE("serve::ProgressLog: the first steps kept, the rest counted; each step in both languages") {
  ProgressLog log(3);
  for (int i = 0; i < 5; ++i) log.add(event("resolver", "192.0.2.53", "", "example.jp", "A"));
  const auto all = log.from(0);
  CHECK(all.events.size() == 3);
  CHECK(all.next == 3);
  CHECK(all.dropped == 2);
  CHECK(log.from(2).events.size() == 1);
  CHECK(log.from(10).events.empty());
  CHECK(log.from(10).next == 10);
  const auto& L = knowledge().labels;
  const auto walk = event("walk", "a.dns.jp", "203.0.113.1", "example.jp", "NS", "jp");
  CHECK(progress_text(walk, L, "en") == "asking the .jp servers (a.dns.jp, 203.0.113.1) who serves example.jp");
  CHECK(progress_text(walk, L, "ja").find(".jp のサーバー") != std::string::npos);
  const auto root = event("walk", "a.root-servers.net", "198.41.0.4", "example.jp", "NS");
  CHECK(progress_text(root, L, "en").find("a root server") != std::string::npos);
  const auto none = event("addresses", "", "", "www.example.jp", "AAAA");
  CHECK(progress_text(none, L, "en") == "www.example.jp AAAA: no address");
  // A value holding a placeholder is not filled again.
  const auto odd = event("resolver", "{name}", "", "<b>x</b>.jp", "A");
  CHECK(progress_text(odd, L, "en") == "asking the resolver {name} for <b>x</b>.jp A");
  for (const char* kind : {"resolver", "walk", "zone", "provider", "addresses", "connect", "http", "tls", "dns-done", "web-done"})
    for (const char* lang : {"ja", "en"})
      for (long status : {0L, 200L}) {
        const auto e = event(kind, "ns", "192.0.2.1", "example.jp", "A", "jp", "http://example.jp/", "timeout", status);
        const std::string text = progress_text(e, L, lang);
        CHECK_MESSAGE(text.find("serve.") == std::string::npos, kind, " ", lang, ": ", text);
        CHECK_MESSAGE(text.find('{') == std::string::npos, kind, " ", lang, ": ", text);
      }
  const auto hop = event("http", "", "203.0.113.31", "example.jp", "", "", "http://example.jp/.well-known/acme-challenge/x", "connect-timeout");
  CHECK(progress_text(hop, L, "en") == "http://example.jp/.well-known/acme-challenge/x at 203.0.113.31: no connection (timed out)");
  const auto ok = event("http", "", "203.0.113.10", "example.jp", "", "", "http://example.jp/x", "response", 404);
  CHECK(progress_text(ok, L, "ja") == "203.0.113.10 の http://example.jp/x: HTTP 404");
}

TEST_CASE("serve::Service: the script only where a page needs it, and same-origin only") {
  TempDir t;
  Service::install_messages(knowledge());
  // A resolver that never answers: the check runs until its deadline (2 s), so its page is
  // the page of a running check.
  const int silent = socket(AF_INET, SOCK_DGRAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(bind(silent, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
  socklen_t len = sizeof a;
  getsockname(silent, reinterpret_cast<sockaddr*>(&a), &len);
  Config c = config(t);
  c.defaults.resolvers = {"127.0.0.1:" + std::to_string(ntohs(a.sin_port))};
  Service s(c, knowledge());
  const auto js = s.handle(get("/static/app.js"));
  CHECK(js.status == 200);
  CHECK(js.content_type.rfind("text/javascript", 0) == 0);
  CHECK(js.body.find("/api/v1/checks/") != std::string::npos);
  CHECK(js.body.find("innerHTML") == std::string::npos);
  const auto form = s.handle(get("/", {{"lang", "en"}}));
  CHECK(header(form, "Content-Security-Policy").find("script-src") == std::string::npos);
  CHECK(form.body.find("<script") == std::string::npos);
  CHECK(form.body.find("href=\"/triage?lang=en\"") != std::string::npos);
  const auto running = s.handle(post("/check", "application/x-www-form-urlencoded", "lang=ja&domain=example.jp&www=no"));
  REQUIRE(running.status == 303);
  const auto where = header(running, "Location");
  const std::string id = where.substr(3, where.find('?') - 3);
  const auto page = s.handle(get("/r/" + id, {{"lang", "ja"}}));
  const std::string csp = header(page, "Content-Security-Policy");
  REQUIRE(page.body.find("id=\"progress\"") != std::string::npos);
  CHECK(csp.find("script-src 'self'; connect-src 'self'") != std::string::npos);
  CHECK(csp.find("default-src 'none'") == 0);
  CHECK(page.body.find("<script src=\"/static/app.js\" defer></script>") != std::string::npos);
  CHECK(page.body.find("<noscript><meta http-equiv=\"refresh\" content=\"3\"></noscript>") != std::string::npos);
  CHECK(page.body.find("aria-live=\"polite\"") != std::string::npos);
  CHECK(page.body.find("<html lang=\"ja\">") != std::string::npos);
  // The steps as JSON, in the reader's language, from an index on.
  json j;
  for (int i = 0; i < 200; ++i) {
    j = body_json(s.handle(get("/api/v1/checks/" + id + "/progress", {{"lang", "en"}})));
    if (j["status"] == "done") break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  REQUIRE(j["status"] == "done");
  REQUIRE(j["events"].size() > 0);
  CHECK(j["verdict"] == "incomplete");
  CHECK(j["status_text"].get<std::string>().find("example.jp") != std::string::npos);
  bool asked_resolver = false;
  for (const auto& e : j["events"])
    if (e["kind"] == "resolver" && e["name"] == "example.jp" && e["text"].get<std::string>().find("asking the resolver 127.0.0.1") == 0)
      asked_resolver = true;
  CHECK(asked_resolver);
  const std::size_t n = j["next"];
  CHECK(body_json(s.handle(get("/api/v1/checks/" + id + "/progress", {{"from", std::to_string(n)}})))["events"].empty());
  CHECK(s.handle(get("/api/v1/checks/" + id + "/progress", {{"from", "-1"}})).status == 400);
  CHECK(s.handle(get("/api/v1/checks/nonexistent0000000000/progress")).status == 404);
  // The finished page: no script, a form to check again (the report's own policy, which admits no
  // form, gives way to the service's), the steps folded.
  const auto done = s.handle(get("/r/" + id, {{"lang", "en"}}));
  CHECK(header(done, "Content-Security-Policy").find("script-src") == std::string::npos);
  CHECK(header(done, "Content-Security-Policy").find("form-action 'self'") != std::string::npos);
  CHECK(done.body.find("http-equiv=\"Content-Security-Policy\"") == std::string::npos);
  CHECK(done.body.find("action=\"/r/" + id + "/again\"") != std::string::npos);
  CHECK(done.body.find("<details class=\"card progress\">") != std::string::npos);
  close(silent);
}

TEST_CASE("serve::Service: check again: the same options, then what changed since") {
  TempDir t;
  Service::install_messages(knowledge());
  Service s(config(t), knowledge());
  const auto first = s.handle(post("/check", "application/x-www-form-urlencoded", "lang=en&domain=example.jp&www=yes&server_ip=192.0.2.7"));
  REQUIRE(first.status == 303);
  const auto w1 = header(first, "Location");
  const std::string id = w1.substr(3, w1.find('?') - 3);
  for (int i = 0; i < 200 && body_json(s.handle(get("/api/v1/checks/" + id)))["status"] != "done"; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  const auto again = s.handle(post("/r/" + id + "/again", "application/x-www-form-urlencoded", "lang=ja"));
  REQUIRE(again.status == 303);
  const auto w2 = header(again, "Location");
  CHECK(w2.find("lang=ja") != std::string::npos);
  CHECK(w2.find("&since=" + id) != std::string::npos);
  const std::string id2 = w2.substr(3, w2.find('?') - 3);
  CHECK(id2 != id);  // a new check, though the same was asked within the minute
  json j;
  for (int i = 0; i < 200; ++i) {
    j = body_json(s.handle(get("/api/v1/checks/" + id2)));
    if (j["status"] == "done") break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  REQUIRE(j["status"] == "done");
  const auto page = s.handle(get("/r/" + id2, {{"lang", "en"}, {"since", id}}));
  CHECK(page.body.find("id=\"since\"") != std::string::npos);
  CHECK(page.body.find("href=\"/r/" + id + "?lang=en\"") != std::string::npos);
  CHECK(page.body.find("<pre class=\"diff\">") != std::string::npos);
  // The same options: www and the server's address came along.
  const auto both = body_json(s.handle(get("/api/v1/checks/" + id2)));
  CHECK(both.dump().find("www.example.jp") != std::string::npos);
  CHECK(both.dump().find("192.0.2.7") != std::string::npos);
  // An unknown or hostile earlier id compares nothing and says so.
  const auto odd = s.handle(get("/r/" + id2, {{"lang", "en"}, {"since", "<script>x</script>"}}));
  CHECK(odd.body.find("<script>x") == std::string::npos);
  CHECK(odd.body.find("nothing was compared") != std::string::npos);
  CHECK(s.handle(post("/r/nonexistent0000000000/again", "application/x-www-form-urlencoded", "")).status == 404);
  CHECK(s.handle(get("/r/" + id + "/again")).status == 405);
}

TEST_CASE("serve::Service: the triage page: a pasted notice, escaped, and its domains checked") {
  TempDir t;
  Service::install_messages(knowledge());
  Service s(config(t), knowledge());
  for (const char* lang : {"ja", "en"}) {
    const auto form = s.handle(get("/triage", {{"lang", lang}}));
    CHECK(form.status == 200);
    CHECK(form.body.find("<html lang=\"" + std::string(lang) + "\">") != std::string::npos);
    CHECK(form.body.find("<label for=\"text\">") != std::string::npos);
    CHECK(form.body.find("<textarea id=\"text\" name=\"text\"") != std::string::npos);
  }
  const std::string mail =
      "From: support@sakura.ad.jp\nSubject: <script>alert(1)</script> 無料SSL証明書 更新エラーについて\n\n"
      "お使いの無料SSLについて、自動更新に失敗したため新しい証明書を発行できませんでした。\n"
      "コモンネーム : example.jp\n<img src=x onerror=alert(1)>\n";
  std::string body = "lang=en&text=";
  for (unsigned char c : mail) {
    char hex[4];
    std::snprintf(hex, sizeof hex, "%%%02X", c);
    body += hex;
  }
  const auto r = s.handle(post("/triage", "application/x-www-form-urlencoded", body));
  CHECK(r.status == 200);
  CHECK(r.script);
  CHECK(r.body.find("<script>alert") == std::string::npos);
  CHECK(r.body.find("<img src=x") == std::string::npos);
  CHECK(r.body.find("http-equiv=\"Content-Security-Policy\"") == std::string::npos);
  CHECK(r.body.find("<li data-watch=\"") != std::string::npos);
  CHECK(r.body.find(">example.jp</a>") != std::string::npos);
  CHECK(r.body.find("id=\"offline\"") == std::string::npos);  // the domains are checked, not left offline
  const auto empty = s.handle(post("/triage", "application/x-www-form-urlencoded", "lang=ja&text=%20%0A"));
  CHECK(empty.status == 400);
  CHECK(empty.body.find("role=\"alert\"") != std::string::npos);
  CHECK(s.handle(post("/triage", "text/plain", "x")).status == 415);
  Request big = post("/triage", "application/x-www-form-urlencoded", "text=" + std::string(70 * 1024, 'a'));
  CHECK(s.handle(big).status == 413);
  big.body_too_large = true;
  CHECK(s.handle(big).status == 413);
}
