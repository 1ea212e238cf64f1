// The service's answers, request in, response out (no HTTP server): the pages in both languages,
// hostile input, the limits, and a check that runs, is recorded and is found again by a new
// service over the same history. The checks ask only closed ports on 127.0.0.1.
#include "serve/service.hpp"

#include <doctest/doctest.h>

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
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
