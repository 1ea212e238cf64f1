// The web part of the view (src/rules/web): the CA's redirect policy applied to recorded
// challenge chains, the CA's use of each chain, answers compared across addresses, block pages,
// certificate ages against the provider's schedule, revoked intermediates; then the catalogue's
// http-*, cert-* and cdn-proxy rules over such views.
#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <regex>
#include <string>
#include <vector>

#include "shipped.hpp"
#include "facts/facts.hpp"
#include "../printing.hpp"
#include "view/address.hpp"
#include "rules/catalogue.hpp"
#include "view/data.hpp"
#include "view/derive.hpp"
#include "rules/engine.hpp"
#include "view/redirect.hpp"
#include "view/web.hpp"
#include "../temp_dir.hpp"

using namespace certdoctor;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

const fs::path kRules = CERTDOCTOR_SOURCE_RULES_DIR;
const std::string kNow = "2026-11-23T12:00:00Z";
constexpr std::int64_t kDay = 86400;
const std::string kToken = "/.well-known/acme-challenge/tok";

using test::catalogue;
using test::classifier;
using test::shipped_data;

facts::Lookup answer(const std::string& name, const std::string& type, const std::string& address) {
  facts::Lookup l;
  l.server = "192.0.2.53";
  l.qname = name;
  l.qtype = type;
  l.outcome = "answer";
  l.rcode = "NOERROR";
  if (!address.empty()) l.answer = {facts::RecordFact{name, type, 300, address}};
  return l;
}

facts::NameFacts name_facts(const std::string& name, const std::string& role) {
  facts::NameFacts n;
  n.name = n.display = name;
  n.role = role;
  n.a = answer(name, "A", "203.0.113.10");
  n.aaaa = answer(name, "AAAA", "");
  return n;
}

/// example.jp and www.example.jp at 203.0.113.10, no web facts yet.
facts::Facts base(const std::string& provider = "generic") {
  facts::Facts f;
  f.collected_at = kNow;
  f.domain = f.domain_display = f.registered_domain = "example.jp";
  f.public_suffix = "jp";
  f.request.input = "example.jp";
  f.request.provider = provider;
  f.names = {name_facts("example.jp", "main"), name_facts("www.example.jp", "www")};
  f.web.probed = true;
  f.web.token = "tok";
  return f;
}

facts::HttpExchange response(const std::string& url, int status, const std::string& location = "",
                             const std::string& server = "Apache") {
  facts::HttpExchange h;
  h.url = url;
  h.address = "203.0.113.10";
  h.outcome = "response";
  h.status = status;
  h.location = h.next_url = location;
  h.server = server;
  return h;
}

facts::HttpExchange failure(const std::string& url, const std::string& outcome) {
  facts::HttpExchange h;
  h.url = url;
  h.outcome = outcome;
  h.error = outcome;
  return h;
}

facts::HttpChallenge chain(std::vector<facts::HttpExchange> hops, const std::string& stop = "answer",
                           const std::string& name = "example.jp", const std::string& family = "ipv4",
                           const std::string& address = "203.0.113.10") {
  facts::HttpChallenge c;
  c.name = name;
  c.family = family;
  c.address = address;
  c.url = "http://" + name + kToken;
  c.hops = std::move(hops);
  c.stop = stop;
  return c;
}

const std::string url0 = "http://example.jp" + kToken;

json view_of(const facts::Facts& f, const view::DataSet& data = shipped_data()) {
  return view::derive(f, view::DeriveContext{data, classifier()});
}

/// The judged chain of a single recorded chain for example.jp.
json judged(const facts::HttpChallenge& c, const std::string& provider = "generic") {
  auto f = base(provider);
  f.web.http = {c};
  const json v = view_of(f);
  REQUIRE(v["web"]["challenges"].size() == 1);
  return v["web"]["challenges"][0];
}

/// Findings of the web rules (and cdn-proxy) as "id" or "id/variant".
std::vector<std::string> web_findings(const json& view) {
  std::vector<std::string> out;
  for (const auto& f : rules::evaluate(catalogue(), view)) {
    const bool web = f.id.rfind("http", 0) == 0 || f.id.rfind("cert-", 0) == 0 || f.id == "cdn-proxy";
    if (web) out.push_back(f.variant.empty() ? f.id : f.id + "/" + f.variant);
  }
  return out;
}

std::vector<std::string> fired(const facts::Facts& f, const view::DataSet& data = shipped_data()) {
  return web_findings(view_of(f, data));
}

bool has(const std::vector<std::string>& v, const std::string& s) { return std::find(v.begin(), v.end(), s) != v.end(); }

facts::CertificateFact leaf(std::vector<std::string> names, std::int64_t issued_days_ago, std::int64_t days_left) {
  const auto now = *facts::parse_utc_time(kNow);
  facts::CertificateFact c;
  c.subject_cn = names.empty() ? "" : names.front();
  c.issuer_cn = "R11";
  c.dns_names = std::move(names);
  c.not_before = facts::format_utc_time(now - issued_days_ago * kDay);
  c.not_after = facts::format_utc_time(now + days_left * kDay + 3600);
  return c;
}

facts::TlsProbe tls(const std::string& name, std::vector<facts::CertificateFact> chain, bool verified = true) {
  facts::TlsProbe t;
  t.name = name;
  t.family = "ipv4";
  t.address = "203.0.113.10";
  t.outcome = "handshake";
  t.chain = std::move(chain);
  t.verified = verified;
  t.verify_error = verified ? "" : "unable to get local issuer certificate";
  return t;
}

/// The view's certificate entry for example.jp served `cert`.
json cert_view(const facts::CertificateFact& cert, const std::string& provider = "generic",
               std::vector<facts::CtCertificate> ct = {}) {
  auto f = base(provider);
  f.web.tls = {tls("example.jp", {cert})};
  f.ct.certificates = std::move(ct);
  const json v = view_of(f);
  REQUIRE(v["web"]["certs"].size() == 1);
  return v["web"]["certs"][0];
}

} // namespace

TEST_CASE("derive_web: the cause of each challenge chain") {
  SUBCASE("a healthy hosting server answers 404 for the random token") {
    const json c = judged(chain({response(url0, 404)}));
    CHECK(c["cause"] == "ok");
    CHECK(c["ca_role"] == "decisive");
    CHECK(c["decisive"] == true);
    CHECK(c["redirects"] == 0);
  }
  SUBCASE("a redirect to https on the same host and then to www is fine") {
    const std::string s = "https://example.jp" + kToken, w = "https://www.example.jp" + kToken;
    const json c = judged(chain({response(url0, 301, s), response(s, 302, w), response(w, 404)}));
    CHECK(c["cause"] == "ok");
    CHECK(c["offsite"] == false);
    CHECK(c["redirects"] == 2);
  }
  SUBCASE("offsite: a redirect to a host that is not certified") {
    const std::string o = "https://other-host.jp/landing";
    const json c = judged(chain({response(url0, 301, o), response(o, 404, "", "nginx")}));
    CHECK(c["cause"] == "offsite");
    CHECK(c["offsite_host"] == "other-host.jp");
    CHECK(c["offsite_url"] == o);
    CHECK(c["hops"].size() == 2);
  }
  SUBCASE("restricted: 401 and 403, with the block page recognised") {
    CHECK(judged(chain({response(url0, 401)}))["cause"] == "restricted");
    auto waf = response(url0, 403);
    waf.body_excerpt = "<title>403</title> blocked by SiteGuard Server Edition";
    const json w = judged(chain({waf}));
    CHECK(w["cause"] == "restricted");
    CHECK(w["block_page_kind"] == "waf");
    CHECK(w["block_page_name"] == "SiteGuard");
    auto bot = response(url0, 403, "", "cloudflare");
    bot.body_excerpt = "<title>Just a moment...</title>";
    const json b = judged(chain({bot}));
    CHECK(b["cause"] == "restricted");
    CHECK(b["block_page_kind"] == "antibot");
    CHECK(b["proxy"] == "Cloudflare");
  }
  SUBCASE("server errors, oversized bodies, block pages and unexpected statuses") {
    CHECK(judged(chain({response(url0, 503)}))["cause"] == "server-error");
    auto big = response(url0, 200);
    big.body_truncated = true;
    big.body_bytes = 1 << 20;
    CHECK(judged(chain({big}))["cause"] == "oversized");
    auto page = response(url0, 200, "", "nginx");
    page.body_excerpt = "<script src=/cdn-cgi/challenge-platform/x.js>";
    const json p = judged(chain({page}));
    CHECK(p["cause"] == "block-page");
    CHECK(p["block_page_name"] == "Cloudflare");
    CHECK(judged(chain({response(url0, 410)}))["cause"] == "unexpected-status");
    // A CDN's own 404 is the CDN passing the request on: not a block page.
    CHECK(judged(chain({response(url0, 404, "", "cloudflare")}))["cause"] == "ok");
  }
  SUBCASE("unreachable, with the outcome as its kind") {
    for (const char* outcome : {"refused", "connect-timeout", "timeout", "reset", "tls-error"}) {
      CAPTURE(outcome);
      const json c = judged(chain({failure(url0, outcome)}, "failed"));
      CHECK(c["cause"] == "unreachable");
      CHECK(c["unreachable_kind"] == outcome);
    }
    CHECK(judged(chain({}, "deadline"))["unreachable_kind"] == "not-sent");
  }
}

TEST_CASE("derive_web: the CA's rules for the final answer and its body") {
  auto with_body = [](int status, const std::string& body) {
    auto h = response(url0, status, "", "nginx");
    h.body_excerpt = body;
    h.body_bytes = body.size();
    return h;
  };
  auto cause = [&](const facts::HttpExchange& h, const std::string& ca = "letsencrypt") {
    auto f = base();
    f.request.ca = ca;
    f.web.http = {chain({h})};
    return view_of(f)["web"]["challenges"][0]["cause"].get<std::string>();
  };
  const std::string thumb(43, 'A');
  SUBCASE("only 200 passes: another 2xx is an unexpected status (Boulder and Pebble)") {
    CHECK(cause(with_body(204, "")) == "unexpected-status");
    CHECK(cause(with_body(206, "x")) == "unexpected-status");
    CHECK(cause(with_body(204, ""), "pebble") == "unexpected-status");
  }
  SUBCASE("Boulder reads at most 127 bytes (maxResponseSize 128); Pebble has no limit") {
    CHECK(cause(with_body(200, std::string(127, 'a'))) == "body-mismatch");
    CHECK(cause(with_body(200, std::string(128, 'a'))) == "oversized");
    CHECK(cause(with_body(200, std::string(138, 'a')), "pebble") == "body-mismatch");
  }
  SUBCASE("a 200 for the check's own token is a mismatch unless it is that token's key authorization") {
    CHECK(cause(with_body(200, "maintenance")) == "body-mismatch");
    CHECK(cause(with_body(200, "")) == "body-mismatch");
    CHECK(cause(with_body(200, "tok." + thumb)) == "ok");
    CHECK(cause(with_body(200, "other." + thumb)) == "body-mismatch");
    CHECK(cause(with_body(200, " tok." + thumb)) == "body-mismatch");  // leading space: no trim
  }
  SUBCASE("trailing white space: Boulder trims unicode.IsSpace, Pebble only \\n \\r \\t") {
    CHECK(cause(with_body(200, "tok." + thumb + "\n\r \t")) == "ok");
    CHECK(cause(with_body(200, "tok." + thumb + "\n\r \t"), "pebble") == "body-mismatch");
    CHECK(cause(with_body(200, "tok." + thumb + "\r\n"), "pebble") == "ok");
    CHECK(cause(with_body(200, "tok." + thumb + "\xc2\xa0")) == "ok");  // U+00A0
  }
  SUBCASE("HTTP/2 in clear on port 80 is an unreachable chain of its own kind") {
    const json c = judged(chain({failure(url0, "h2c")}, "failed"));
    CHECK(c["cause"] == "unreachable");
    CHECK(c["unreachable_kind"] == "h2c");
    auto f = base();
    f.web.http = {chain({failure(url0, "h2c")}, "failed")};
    CHECK(has(fired(f), "http-unreachable/h2c"));
  }
  SUBCASE("trim_body and is_key_authorization") {
    view::RedirectPolicy boulder, pebble;
    pebble.body_trim = "\n\r\t";
    CHECK(view::trim_body("x \t\n\v\f\r", boulder) == "x");
    CHECK(view::trim_body("x \n", pebble) == "x ");
    CHECK(view::trim_body("x\xe2\x80\x83\xe3\x80\x80", boulder) == "x");  // U+2003, U+3000
    CHECK(view::trim_body("\n\n", boulder).empty());
    CHECK(view::is_key_authorization("tok." + thumb, "tok"));
    CHECK_FALSE(view::is_key_authorization("tok." + thumb + "A", "tok"));
    CHECK_FALSE(view::is_key_authorization("tok." + std::string(42, 'A') + "=", "tok"));
    CHECK_FALSE(view::is_key_authorization("tok." + thumb, ""));
  }
}

TEST_CASE("derive_web: redirect violations of the CA's policy") {
  const std::string s = "https://example.jp" + kToken;
  SUBCASE("status 300 is no redirect for the CA's client: the final answer") {
    const json c = judged(chain({response(url0, 300, s), response(s, 404)}));
    CHECK(c["cause"] == "unexpected-status");
    CHECK(c["violation"] == "");
    CHECK(c["final"]["status"] == 300);
  }
  SUBCASE("status 303 (Boulder: received disallowed redirect status code)") {
    const json c = judged(chain({response(url0, 303, s), response(s, 404)}));
    CHECK(c["cause"] == "redirect-invalid");
    CHECK(c["violation"] == "status");
    CHECK(c["violation_detail"] == "303");
  }
  SUBCASE("port 8080") {
    const std::string p = "http://example.jp:8080" + kToken;
    const json c = judged(chain({response(url0, 302, p), response(p, 404)}));
    CHECK(c["violation"] == "port");
    CHECK(c["violation_detail"] == "8080");
    CHECK(c["violation_url"] == p);
  }
  SUBCASE("scheme ftp") {
    const json c = judged(chain({response(url0, 301, "ftp://example.jp/x")}, "scheme"));
    CHECK(c["violation"] == "scheme");
    CHECK(c["violation_detail"] == "ftp");
  }
  SUBCASE("a loop") {
    const json c = judged(chain({response(url0, 301, s), response(s, 301, url0)}, "loop"));
    CHECK(c["violation"] == "loop");
    CHECK(c["redirects"] == 1);  // Boulder: 2 records, the second redirect is the loop
  }
  SUBCASE("11 redirects are followed, the 12th is too many (Boulder's maxRedirect = 10)") {
    auto hops_of = [&](int redirects) {
      std::vector<facts::HttpExchange> hops;
      for (int i = 0; i < redirects; ++i)
        hops.push_back(response(i == 0 ? url0 : url0 + "?" + std::to_string(i), 302, url0 + "?" + std::to_string(i + 1)));
      hops.push_back(response(url0 + "?" + std::to_string(redirects), 404));
      return hops;
    };
    const json eleven = judged(chain(hops_of(11)));
    CHECK(eleven["cause"] == "ok");
    CHECK(eleven["redirects"] == 11);
    const json twelve = judged(chain(hops_of(12)));
    CHECK(twelve["cause"] == "redirect-invalid");
    CHECK(twelve["violation"] == "too-many");
    CHECK(twelve["violation_detail"] == "11");
    CHECK(twelve["redirects"] == 11);
  }
  SUBCASE("a redirect without Location") {
    const json c = judged(chain({response(url0, 302)}, "no-location"));
    CHECK(c["violation"] == "no-location");
    CHECK(c["violation_url"] == url0);
  }
  SUBCASE("a violation outranks an offsite redirect") {
    const std::string o = "http://other-host.jp:8080/";
    CHECK(judged(chain({response(url0, 301, o), response(o, 404)}))["cause"] == "redirect-invalid");
  }
}

TEST_CASE("derive_web: Boulder's checks of a redirect target, in its order") {
  auto one = [&](const std::string& target, int status = 301) {
    return judged(chain({response(url0, status, target), response(target, 404)}));
  };
  SUBCASE("an explicit port must be 80 or 443, whatever the scheme") {
    CHECK(one("http://example.jp:443" + kToken)["cause"] == "ok");
    CHECK(one("https://example.jp:80" + kToken)["cause"] == "ok");
    const json c = one("https://example.jp:1987" + kToken);
    CHECK(c["violation"] == "port");
    CHECK(c["violation_detail"] == "1987");
  }
  SUBCASE("an empty host, after the port") {
    CHECK(one("https:///who/needs/a/hostname?not=me")["violation"] == "empty-host");
    CHECK(one("https://:1987/x")["violation"] == "port");
  }
  SUBCASE("a host ending in .well-known: the redirect rule lacks its slash") {
    const std::string t = "http://example.jp.well-known/acme-challenge/tok";
    const json c = one(t);
    CHECK(c["violation"] == "well-known-host");
    CHECK(c["violation_detail"] == "example.jp.well-known");
    CHECK(c["violation_rule_target"] == "http://example.jp");
    CHECK(c["violation_intended_url"] == "http://example.jp/.well-known/acme-challenge/tok");
  }
  SUBCASE("IP literals: followed unless reserved or with a zone") {
    CHECK(one("http://8.8.8.8/ok")["cause"] == "offsite");
    const json r = one("http://10.10.10.10/x");
    CHECK(r["violation"] == "reserved-ip");
    CHECK(r["violation_detail"] == "10.10.10.10");
    CHECK(r["violation_block"] != "");
    CHECK(one("http://127.0.0.1/x")["violation"] == "reserved-ip");
    CHECK(one("http://[3fff:aaa:aaaa:aaaa:abad:ff1:cec0:ffee]/x")["violation"] == "reserved-ip");
    CHECK(one("http://[fe80::1%25eth0]/x")["violation"] == "reserved-ip");
  }
  SUBCASE("documentation addresses count as public in lab mode, loopback never") {
    auto f = base();
    f.request.allow_reserved = true;
    const std::string doc = "http://203.0.113.10" + kToken, loop = "http://127.0.0.1" + kToken;
    f.web.http = {chain({response(url0, 301, doc), response(doc, 404)}),
                  chain({response(url0, 301, loop), response(loop, 404)}, "answer", "www.example.jp")};
    const json v = view_of(f);
    CHECK(v["web"]["challenges"][0]["violation"] == "");
    CHECK(v["web"]["challenges"][1]["violation"] == "reserved-ip");
  }
  SUBCASE("a host must end in an ICANN top-level domain, checked before DNS") {
    const json c = one("http://invalid.invalid/path");
    CHECK(c["violation"] == "tld");
    CHECK(c["violation_detail"] == "invalid.invalid");
    CHECK(one("https://my.tld.is.cpu/pretty/cool")["violation"] == "tld");
    CHECK(one("https://10.10.10.*")["violation"] == "tld");
    CHECK(one("http://example.jp.:80" + kToken)["violation"] == "tld");
    CHECK(one("http://EXAMPLE.JP/ok")["cause"] == "ok");  // lower-cased, then not the same URL
  }
  SUBCASE("a path of more than 2000 bytes is too long") {
    const std::string ok = "http://example.jp/" + std::string(1999, 'a');
    CHECK(one(ok)["cause"] == "ok");
    const json c = one(ok + "b");
    CHECK(c["violation"] == "too-long");
    CHECK(c["violation_detail"] == "2001");
  }
  SUBCASE("loops on exact URL strings: http://h/x and http://h:80/x differ") {
    const std::string p80 = "http://example.jp:80" + kToken;
    const json c = judged(chain({response(url0, 301, p80), response(p80, 301, p80)}, "loop"));
    CHECK(c["violation"] == "loop");
    CHECK(c["redirects"] == 1);
  }
  SUBCASE("the count comes first: a 303 as the 12th redirect is too many") {
    std::vector<facts::HttpExchange> hops;
    for (int i = 0; i < 11; ++i)
      hops.push_back(response(i == 0 ? url0 : url0 + "?" + std::to_string(i), 302, url0 + "?" + std::to_string(i + 1)));
    hops.push_back(response(url0 + "?11", 303, "gopher://x"));
    CHECK(judged(chain(hops, "scheme"))["violation"] == "too-many");
  }
  SUBCASE("the query is kept and not counted") {
    CHECK(one("http://example.jp/other?params=are&important=to&not=lose")["cause"] == "ok");
  }
}

TEST_CASE("derive_web: Pebble's redirect policy") {
  const auto data = shipped_data();
  auto pebble_view = [&](std::vector<facts::HttpChallenge> chains) {
    auto f = base();
    f.request.ca = "pebble";
    f.web.http = std::move(chains);
    return view_of(f);
  };
  auto hops_of = [&](int redirects) {
    std::vector<facts::HttpExchange> hops;
    for (int i = 0; i < redirects; ++i)
      hops.push_back(response(i == 0 ? url0 : url0 + "?" + std::to_string(i), 302, url0 + "?" + std::to_string(i + 1)));
    hops.push_back(response(url0 + "?" + std::to_string(redirects), 404));
    return hops;
  };
  CHECK(pebble_view({chain(hops_of(9))})["web"]["challenges"][0]["cause"] == "ok");
  CHECK(pebble_view({chain(hops_of(10))})["web"]["challenges"][0]["violation"] == "too-many");
  const std::string s = "http://example.jp" + kToken, p = "http://example.jp:8080" + kToken;
  CHECK(pebble_view({chain({response(url0, 303, s), response(s, 404)})})["web"]["challenges"][0]["cause"] == "ok");
  CHECK(pebble_view({chain({response(url0, 302, p), response(p, 404)})})["web"]["challenges"][0]["cause"] == "ok");
  const json loop = pebble_view({chain({response(url0, 301, url0)}, "loop")})["web"]["challenges"][0];
  CHECK(loop["violation"] == "too-many");  // no loop detection: the loop runs into the limit
}

TEST_CASE("derive_web: a provider profile stricter than the CA") {
  TempDir dir;
  fs::create_directories(dir.path() / "providers");
  dir.write("providers/strict.yaml", R"(provider:
  id: strict
  name: {en: Strict hosting, ja: ストリクト}
  nameservers: []
  nameserver_patterns: []
  host_addresses: []
  http01:
    redirects:
      max_hops: 0
)");
  const auto data = view::DataSet::load({kRules, dir.path()});
  const std::string s = "https://example.jp" + kToken;
  auto f = base("strict");
  f.web.http = {chain({response(url0, 301, s), response(s, 404)})};
  const json v = view_of(f, data);
  CHECK(v["web"]["policy"]["max_hops"] == 0);
  CHECK(v["web"]["policy"]["overridden_by"] == "strict");
  CHECK(v["web"]["policy"]["ports"] == json{80, 443});  // what the profile leaves out stays the CA's
  const json c = v["web"]["challenges"][0];
  CHECK(c["cause"] == "redirect-invalid");
  CHECK(c["violation"] == "too-many");
  const auto ids = web_findings(v);
  CHECK(has(ids, "http-redirect-invalid/too-many"));
  for (const auto& fd : rules::evaluate(catalogue(), v))
    if (fd.id == "http-redirect-invalid") CHECK(fd.arguments["limits_by"] == "Strict hosting");

  // The same chain under the shipped profiles: one same-host redirect is fine.
  for (const char* p : {"generic", "sakura", "xserver"}) {
    CAPTURE(p);
    auto g = base(p);
    g.web.http = f.web.http;
    const json w = view_of(g);
    CHECK(w["web"]["policy"]["overridden_by"] == "");
    CHECK(w["web"]["policy"]["max_followed"] == 11);
    CHECK(w["web"]["challenges"][0]["cause"] == "ok");
  }
}

TEST_CASE("derive_web: the CA's one deadline for the whole chain") {
  // Hops that each answer in `each_ms`, `redirects` redirects then a 404, with their start times.
  auto timed = [](int redirects, double each_ms) {
    std::vector<facts::HttpExchange> hops;
    for (int i = 0; i <= redirects; ++i) {
      auto h = i < redirects ? response(i == 0 ? url0 : url0 + "?" + std::to_string(i), 302, url0 + "?" + std::to_string(i + 1))
                             : response(url0 + "?" + std::to_string(i), 404);
      h.started_ms = i * each_ms;
      h.elapsed_ms = each_ms;
      hops.push_back(h);
    }
    auto c = chain(hops);
    c.elapsed_ms = (redirects + 1) * each_ms;
    return c;
  };
  auto ids_of = [](std::vector<facts::HttpChallenge> chains, const std::string& ca = "letsencrypt") {
    auto f = base();
    f.request.ca = ca;
    f.web.http = std::move(chains);
    return fired(f);
  };
  SUBCASE("below the budget: judged by its answer") {
    const json j = judged(timed(4, 1900));  // 9.5 s in all, under Let's Encrypt's 9.88 s
    CHECK(j["cause"] == "ok");
    CHECK(j["budget_exceeded"] == false);
    CHECK(j["elapsed_ms"] == 9500.0);
  }
  SUBCASE("each hop quick enough, the chain too slow: unreachable, chain-timeout, where the CA gives up") {
    const json j = judged(timed(7, 2200));  // the 5th request ends at 11 s
    CHECK(j["cause"] == "unreachable");
    CHECK(j["unreachable_kind"] == "chain-timeout");
    CHECK(j["budget_exceeded"] == true);
    CHECK(j["redirects"] == 4);
    CHECK(j["final"]["url"] == url0 + "?4");
    CHECK(j["chain_seconds"] == "17.6");
    CHECK(j["budget_seconds"] == "9.88");
    CHECK(ids_of({timed(7, 2200)}) == std::vector<std::string>{"http-unreachable/chain-timeout"});
  }
  SUBCASE("Pebble's 15 s for the same chains") {
    CHECK(ids_of({timed(4, 2200)}, "pebble").empty());  // 11 s: Pebble passes where Let's Encrypt fails
    CHECK(ids_of({timed(4, 2200)}) == std::vector<std::string>{"http-unreachable/chain-timeout"});
    CHECK(ids_of({timed(7, 2200)}, "pebble") == std::vector<std::string>{"http-unreachable/chain-timeout"});
  }
  SUBCASE("the deadline comes before a redirect violation further on") {
    auto c = timed(4, 2200);
    c.hops[4] = response(url0 + "?4", 301, "http://example.jp:8080/x");  // a bad port, after the budget
    c.hops[4].started_ms = 4 * 2200;
    c.hops[4].elapsed_ms = 2200;
    c.stop = "scheme";
    const json j = judged(c);
    CHECK(j["violation"] == "");
    CHECK(j["unreachable_kind"] == "chain-timeout");
  }
  SUBCASE("a violation before the deadline is the CA's reason") {
    auto c = timed(4, 2200);
    c.hops[1] = response(url0 + "?1", 303, url0 + "?2");
    c.hops[1].started_ms = 2200;
    c.hops[1].elapsed_ms = 2200;
    const json j = judged(c);
    CHECK(j["violation"] == "status");
    CHECK(j["budget_exceeded"] == false);
  }
  SUBCASE("one slow hop alone is the plain timeout") {
    auto h = failure(url0, "timeout");
    h.started_ms = 0;
    h.elapsed_ms = 9880;
    auto c = chain({h}, "budget");
    c.elapsed_ms = 9880;
    const json j = judged(c);
    CHECK(j["unreachable_kind"] == "timeout");
    CHECK(ids_of({c}) == std::vector<std::string>{"http-unreachable/timeout"});
  }
  SUBCASE("the probe stopped at the budget before the next request") {
    auto c = timed(3, 2400);
    c.hops.back() = failure(url0 + "?3", "not-sent");
    c.hops.back().started_ms = 9900;
    c.hops.back().elapsed_ms = 0;
    c.hops[2].next_url = c.hops[2].location = url0 + "?3";
    c.stop = "budget";
    const json j = judged(c);
    CHECK(j["unreachable_kind"] == "chain-timeout");
  }
  SUBCASE("older facts without the times are judged as before") {
    auto c = timed(7, 2200);
    for (auto& h : c.hops) h.started_ms = -1;
    c.elapsed_ms = -1;
    const json j = judged(c);
    CHECK(j["cause"] == "ok");
    CHECK(j["budget_exceeded"] == false);
    const auto back = nlohmann::json::parse(R"({"name":"example.jp","hops":[{"url":"u","elapsed_ms":20000}]})").get<facts::HttpChallenge>();
    CHECK(back.elapsed_ms == -1);
    CHECK(back.hops[0].started_ms == -1);
  }
  SUBCASE("the IPv6 attempt's time counts before the IPv4 retry") {
    auto v6 = chain({failure(url0, "connect-timeout")}, "failed", "example.jp", "ipv6", "2001:db8::10");
    v6.hops[0].started_ms = 0;
    v6.hops[0].elapsed_ms = 9000;
    v6.elapsed_ms = 9000;
    auto f = base();
    f.web.http = {v6, timed(1, 600)};  // 1.2 s after 9 s spent
    const json v = view_of(f);
    CHECK(v["web"]["challenges"][1]["unreachable_kind"] == "chain-timeout");
    f.web.http = {v6, timed(0, 1200)};  // one request ending after the budget: the plain timeout
    CHECK(view_of(f)["web"]["challenges"][1]["unreachable_kind"] == "timeout");
  }
}

TEST_CASE("derive_web: the CA's use of each address family") {
  const std::string v6 = "2001:db8::10";
  auto v6chain = [&](std::vector<facts::HttpExchange> hops, const std::string& stop) {
    return chain(std::move(hops), stop, "example.jp", "ipv6", v6);
  };
  auto roles = [](const facts::Facts& f) {
    const json v = view_of(f);
    std::vector<std::string> out;
    for (const auto& c : v["web"]["challenges"]) out.push_back(c["family"].get<std::string>() + ":" + c["ca_role"].get<std::string>());
    return out;
  };
  SUBCASE("IPv6 connection error: the CA falls back to IPv4") {
    auto f = base();
    f.web.http = {v6chain({failure(url0, "connect-timeout")}, "failed"), chain({response(url0, 404)})};
    CHECK(roles(f) == std::vector<std::string>{"ipv6:fallen-back", "ipv4:decisive"});
    const auto ids = fired(f);
    CHECK(has(ids, "http-unreachable/fallen-back"));
    CHECK(!has(ids, "http-unreachable/connect-timeout"));
    for (const auto& fd : rules::evaluate(catalogue(), view_of(f)))
      if (fd.id == "http-unreachable") {
        CHECK(fd.severity == rules::Severity::warning);
        CHECK(fd.arguments["family"] == "ipv6");
        CHECK(fd.arguments["address"] == v6);
      }
  }
  SUBCASE("IPv6 answers (even wrongly): IPv4 is not used") {
    auto f = base();
    f.web.http = {v6chain({response(url0, 403)}, "answer"), chain({response(url0, 404)})};
    CHECK(roles(f) == std::vector<std::string>{"ipv6:decisive", "ipv4:unused"});
    // No source names the hosting server: addresses that disagree are an error, never an OK.
    CHECK(fired(f) == std::vector<std::string>{"http-access-restricted/deny", "http-ip-discrepancy/host-unknown"});
  }
  SUBCASE("IPv6 connects but times out: no fallback, the timeout decides") {
    auto f = base();
    f.web.http = {v6chain({failure(url0, "timeout")}, "failed"), chain({response(url0, 404)})};
    CHECK(roles(f) == std::vector<std::string>{"ipv6:decisive", "ipv4:unused"});
    CHECK(fired(f) == std::vector<std::string>{"http-unreachable/timeout"});
  }
  SUBCASE("a TLS error or a timeout after connect is no dial error: no fallback") {
    for (const char* outcome : {"tls-error", "reset", "too-large"}) {
      CAPTURE(outcome);
      auto f = base();
      f.web.http = {v6chain({failure(url0, outcome)}, "failed"), chain({response(url0, 404)})};
      CHECK(roles(f) == std::vector<std::string>{"ipv6:decisive", "ipv4:unused"});
    }
  }
  SUBCASE("a dial error after a redirect: Boulder replays the chain over IPv4, where it loops (#8949)") {
    const std::string s = "https://example.jp" + kToken;
    auto f = base();
    f.web.http = {v6chain({response(url0, 301, s), failure(s, "refused")}, "failed"),
                  chain({response(url0, 301, s), response(s, 404)})};
    CHECK(roles(f) == std::vector<std::string>{"ipv6:fallen-back", "ipv4:decisive"});
    const json v4 = view_of(f)["web"]["challenges"][1];
    CHECK(v4["cause"] == "redirect-invalid");
    CHECK(v4["violation"] == "loop");
    CHECK(v4["violation_detail"] == "fallback-replay");
    CHECK(v4["replay_from"]["url"] == s);
    CHECK(v4["replay_from"]["outcome"] == "refused");
    CHECK(has(fired(f), "http-redirect-invalid/loop-fallback"));
  }
  SUBCASE("Pebble: no fallback at all") {
    auto f = base();
    f.request.ca = "pebble";
    f.web.http = {v6chain({failure(url0, "refused")}, "failed"), chain({response(url0, 404)})};
    CHECK(roles(f) == std::vector<std::string>{"ipv6:decisive", "ipv4:unused"});
  }
  SUBCASE("IPv4 only, refused") {
    auto f = base();
    f.web.http = {chain({failure(url0, "refused")}, "failed")};
    CHECK(roles(f) == std::vector<std::string>{"ipv4:decisive"});
    CHECK(fired(f) == std::vector<std::string>{"http-unreachable/refused"});
  }
}

TEST_CASE("derive_web: addresses of one name compared") {
  auto f = base();
  f.web.http = {chain({response(url0, 404, "", "nginx")}),
                chain({response(url0, 200, "", "Apache")}, "answer", "example.jp", "ipv4", "198.51.100.7")};
  const json v = view_of(f);
  const json n = v["web"]["names"][0];
  CHECK(n["discrepancy"] == true);
  CHECK(n["answer_summary"] == json{"203.0.113.10: 404 (nginx)", "198.51.100.7: 200 (Apache)"});
  CHECK(has(web_findings(v), "http-ip-discrepancy/host-unknown"));
  for (const auto& fd : rules::evaluate(catalogue(), v))
    if (fd.id == "http-ip-discrepancy") CHECK(fd.severity == rules::Severity::error);

  // With the server named, the discrepancy is a warning beside a-not-host.
  auto named = f;
  named.request.server_ips = {"203.0.113.10"};
  const json vn = view_of(named);
  CHECK(has(web_findings(vn), "http-ip-discrepancy/host-known"));
  for (const auto& fd : rules::evaluate(catalogue(), vn))
    if (fd.id == "http-ip-discrepancy") CHECK(fd.severity == rules::Severity::warning);

  auto same = base();
  same.web.http = {chain({response(url0, 404, "", "nginx")}),
                   chain({response(url0, 404, "", "nginx")}, "answer", "example.jp", "ipv4", "198.51.100.7")};
  CHECK(view_of(same)["web"]["names"][0]["discrepancy"] == false);
  CHECK(fired(same).empty());
}

TEST_CASE("derive_web: a CDN seen on the challenge path") {
  // A proxy that redirects to https shows itself on the first hop only.
  const std::string s = "https://example.jp" + kToken;
  auto f = base();
  f.web.http = {chain({response(url0, 301, s, "cloudflare"), response(s, 404, "", "nginx")})};
  const json v = view_of(f);
  CHECK(v["web"]["challenges"][0]["proxy"] == "Cloudflare");
  CHECK(v["names"][0]["web"]["proxy"] == "Cloudflare");
  CHECK(v["names"][0]["web"]["servers"] == json{"cloudflare"});
  const auto ids = fired(f);
  CHECK(ids == std::vector<std::string>{"cdn-proxy/untimed"});
  for (const auto& fd : rules::evaluate(catalogue(), v))
    if (fd.id == "cdn-proxy") {
      CHECK(fd.arguments["cdn"] == json{"Cloudflare"});
      CHECK(fd.arguments["addresses"] == "-");
      CHECK(fd.arguments["servers"] == json{"cloudflare"});
    }
}

TEST_CASE("derive_web: served certificates") {
  SUBCASE("healthy: 80 days left") {
    const json c = cert_view(leaf({"example.jp", "www.example.jp"}, 10, 80));
    CHECK(c["has_leaf"] == true);
    CHECK(c["days_left"] == 80);
    CHECK(c["expired"] == false);
    CHECK(c["expiring"] == false);
    CHECK(c["not_renewed"] == false);
    CHECK(c["covers_name"] == true);
  }
  SUBCASE("expired and expiring") {
    const json e = cert_view(leaf({"example.jp"}, 100, -3));
    CHECK(e["expired"] == true);
    CHECK(e["expired_days_ago"] == 3);
    const json x = cert_view(leaf({"example.jp"}, 80, 10));
    CHECK(x["expiring"] == true);
    CHECK(x["expired"] == false);
  }
  SUBCASE("not renewed by Xserver's schedule, with the next attempt") {
    const json c = cert_view(leaf({"example.jp"}, 63, 27), "xserver");
    CHECK(c["renewal_kind"] == "attempts");
    CHECK(c["renewal_point_days"] == 30);
    CHECK(c["renewal_attempts_days"] == json{30, 25, 20});
    CHECK(c["not_renewed"] == true);
    CHECK(c["not_renewed_reason"] == "schedule");
    CHECK(c["renewal_next_days"] == 25);
    CHECK(c["renewal_next_date"] ==
          facts::format_utc_time(*facts::parse_utc_time(c["not_after"].get<std::string>()) - 25 * kDay).substr(0, 10));
    const json later = cert_view(leaf({"example.jp"}, 72, 18), "xserver");
    CHECK(later["not_renewed"] == true);
    CHECK(later["renewal_next_days"] == nullptr);
    CHECK(later["renewal_next_date"] == "");
    // A host without a known schedule: nothing to compare with.
    CHECK(cert_view(leaf({"example.jp"}, 63, 27))["not_renewed"] == false);
  }
  SUBCASE("Sakura: the notice 15 days before expiry") {
    const json c = cert_view(leaf({"example.jp"}, 76, 14), "sakura");
    CHECK(c["renewal_kind"] == "notice");
    CHECK(c["renewal_point_days"] == 15);
    CHECK(c["not_renewed"] == true);
    CHECK(cert_view(leaf({"example.jp"}, 74, 16), "sakura")["not_renewed"] == false);
  }
  SUBCASE("not installed: Certificate Transparency has a newer certificate") {
    const auto now = *facts::parse_utc_time(kNow);
    facts::CtCertificate newer{"0b", "C=US, O=Let's Encrypt, CN=R11", facts::format_utc_time(now - 5 * kDay), "", "",
                               {"example.jp", "www.example.jp"}, true};
    const json c = cert_view(leaf({"example.jp"}, 65, 25), "generic", {newer});
    CHECK(c["not_renewed"] == true);
    CHECK(c["not_renewed_reason"] == "not-installed");
    CHECK(c["newer_in_ct"]["serial"] == "0b");
    // The same certificate (issued the same day) is not newer.
    facts::CtCertificate same = newer;
    same.not_before = facts::format_utc_time(now - 65 * kDay);
    CHECK(cert_view(leaf({"example.jp"}, 65, 25), "generic", {same})["not_renewed"] == false);
  }
  SUBCASE("names: a wildcard covers www but not the apex") {
    auto f = base();
    f.web.tls = {tls("example.jp", {leaf({"*.example.jp"}, 10, 80)}), tls("www.example.jp", {leaf({"*.example.jp"}, 10, 80)})};
    const json v = view_of(f);
    CHECK(v["web"]["certs"][0]["covers_name"] == false);
    CHECK(v["web"]["certs"][1]["covers_name"] == true);
    auto g = base();
    g.web.tls = {tls("example.jp", {leaf({"example.jp"}, 10, 80)}), tls("www.example.jp", {leaf({"example.jp"}, 10, 80)})};
    const auto ids = fired(g);
    CHECK(ids == std::vector<std::string>{"cert-name-mismatch"});
    for (const auto& fd : rules::evaluate(catalogue(), view_of(g)))
      if (fd.id == "cert-name-mismatch") CHECK(fd.arguments["name"] == "www.example.jp");
  }
  SUBCASE("the JPRS G3 intermediate, inside and outside the affected period") {
    auto jprs_chain = [](const std::string& not_before) {
      auto l = leaf({"example.jp"}, 10, 80);
      l.not_before = not_before;
      l.issuer_cn = "JPRS Domain Validation Authority - G3";
      facts::CertificateFact inter;
      inter.subject_cn = "JPRS Domain Validation Authority - G3";
      return std::vector<facts::CertificateFact>{l, inter};
    };
    auto f = base("sakura");
    f.web.tls = {tls("example.jp", jprs_chain("2020-01-10T00:00:00Z"))};
    const json in = view_of(f)["web"]["certs"][0];
    REQUIRE(in["revoked_intermediate"].is_object());
    CHECK(in["revoked_intermediate"]["id"] == "jprs-g3-2021");
    CHECK(in["revoked_intermediate"]["revoked_on"] == "2021-03-15");
    CHECK(has(fired(f), "cert-revoked-intermediate"));
    for (const char* nb : {"2019-07-31T23:00:00Z", "2020-07-29T00:00:00Z"}) {
      CAPTURE(nb);
      f.web.tls = {tls("example.jp", jprs_chain(nb))};
      CHECK(view_of(f)["web"]["certs"][0]["revoked_intermediate"] == nullptr);
    }
    f.web.tls = {tls("example.jp", jprs_chain("2020-07-28T12:00:00Z"))};
    CHECK(view_of(f)["web"]["certs"][0]["revoked_intermediate"].is_object());
    // A chain through the revoked intermediate that also fails to verify is reported once.
    f.web.tls = {tls("example.jp", jprs_chain("2020-01-10T00:00:00Z"), false)};
    CHECK(fired(f) == std::vector<std::string>{"cert-revoked-intermediate"});
  }
}

TEST_CASE("web rules: which ids fire") {
  const std::string s = "https://example.jp" + kToken;
  struct Case {
    const char* what;
    std::vector<facts::HttpExchange> hops;
    const char* stop;
    std::vector<std::string> ids;
  };
  auto with_body = [](facts::HttpExchange h, const std::string& body) {
    h.body_excerpt = body;
    return h;
  };
  auto truncated = [](facts::HttpExchange h) {
    h.body_truncated = true;
    return h;
  };
  const std::vector<Case> cases = {
      {"healthy", {response(url0, 404)}, "answer", {}},
      {"offsite", {response(url0, 301, "http://parked.example.com/"), response("http://parked.example.com/", 200)}, "answer",
       {"http-redirect-offsite"}},
      {"300", {response(url0, 300, s), response(s, 404)}, "answer", {"http-error/unexpected-status"}},
      {"303", {response(url0, 303, s), response(s, 404)}, "answer", {"http-redirect-invalid/status"}},
      {".well-known", {response(url0, 301, "http://example.jp.well-known/acme-challenge/tok")}, "answer", {"http-redirect-invalid/well-known-host"}},
      {"tld", {response(url0, 301, "http://example.internal/")}, "answer", {"http-redirect-invalid/tld"}},
      {"10/8", {response(url0, 301, "http://10.0.0.1/")}, "answer", {"http-redirect-invalid/reserved-ip"}},
      {"8080", {response(url0, 301, "http://example.jp:8080/")}, "answer", {"http-redirect-invalid/port"}},
      {"ftp", {response(url0, 301, "ftp://example.jp/")}, "scheme", {"http-redirect-invalid/scheme"}},
      {"loop", {response(url0, 301, s), response(s, 301, url0)}, "loop", {"http-redirect-invalid/loop"}},
      {"no location", {response(url0, 302)}, "no-location", {"http-redirect-invalid/no-location"}},
      {"basic auth", {response(url0, 401)}, "answer", {"http-access-restricted/basic-auth"}},
      {"siteguard", {with_body(response(url0, 403), "SiteGuard")}, "answer", {"http-access-restricted/waf"}},
      {"deny", {response(url0, 403)}, "answer", {"http-access-restricted/deny"}},
      {"cdn bot check", {with_body(response(url0, 403, "", "cloudflare"), "Just a moment...")}, "answer",
       {"cdn-proxy/untimed", "http-access-restricted/cdn"}},
      {"500", {response(url0, 500)}, "answer", {"http-error/server-error"}},
      {"endless", {truncated(response(url0, 200))}, "answer", {"http-error/oversized"}},
      {"bot page 200", {with_body(response(url0, 200), "Sucuri WebSite Firewall")}, "answer", {"http-error/block-page"}},
      {"410", {response(url0, 410)}, "answer", {"http-error/unexpected-status"}},
      {"reset", {failure(url0, "reset")}, "failed", {"http-unreachable/reset"}},
      {"firewall", {failure(url0, "connect-timeout")}, "failed", {"http-unreachable/connect-timeout"}},
      {"unresolved", {response(url0, 301, "http://www.example.jp/"), failure("http://www.example.jp/", "unresolved")},
       "failed", {"http-unreachable/unresolved"}},
      {"too large header", {failure(url0, "too-large")}, "failed", {"http-unreachable/other"}},
  };
  for (const auto& c : cases) {
    CAPTURE(c.what);
    auto f = base();
    f.web.http = {chain(c.hops, c.stop)};
    CHECK(fired(f) == c.ids);
  }
}

TEST_CASE("derive_web: a name the server has no site for") {
  // A page: status, Server, body size and digest (all that identifies an answer).
  auto page = [](const std::string& url, int status, const std::string& body, const std::string& server = "nginx") {
    auto h = response(url, status, "", server);
    h.body_excerpt = body;
    h.body_bytes = body.size();
    h.body_sha256 = body.empty() ? "" : std::string(64, static_cast<char>('a' + body.size() % 6));
    return h;
  };
  const std::string unknown = "certdoctor-abc.invalid";
  const std::string no_site = "<h1>No site here</h1>";
  const std::string plain_404 = "<center>nginx</center>";
  // The certified name's challenge answer and "/" answer, the unknown name's answers.
  auto probe = [&](facts::HttpExchange name_challenge, facts::HttpExchange name_root, facts::HttpExchange u_challenge,
                   facts::HttpExchange u_root, const std::string& name = "example.jp") {
    auto c = chain({std::move(name_challenge)}, "answer", name);
    c.unknown_host.host = unknown;
    c.unknown_host.challenge = std::move(u_challenge);
    c.unknown_host.root = std::move(u_root);
    c.unknown_host.name_root = std::move(name_root);
    return c;
  };
  const std::string uc = "http://" + unknown + kToken, ur = "http://" + unknown + "/", nr = "http://example.jp/";
  const auto default_site = probe(page(url0, 404, no_site), page(nr, 404, no_site), page(uc, 404, no_site), page(ur, 404, no_site));

  SUBCASE("a shared host's default site answers: blocking, with the shared host's evidence") {
    const json ch = judged(default_site, "sakura");
    CHECK(ch["unknown_host"]["verdict"] == "default-site");
    CHECK(ch["unknown_host"]["evidence"] == "catch-all");
    CHECK(ch["unknown_host"]["answer"] == "404, Server: nginx, 21 bytes");
    CHECK(ch["no_site"] == true);
    auto f = base("sakura");
    f.web.http = {default_site};
    CHECK(fired(f) == std::vector<std::string>{"http-default-site"});
  }
  SUBCASE("the same answers on a host of no shared-hosting profile prove nothing") {
    const json ch = judged(default_site, "generic");
    CHECK(ch["unknown_host"]["verdict"] == "undecided");
    auto f = base("generic");
    f.web.http = {default_site};
    CHECK(fired(f).empty());
  }
  SUBCASE("a healthy site whose 404 is the default site's 404: its own / tells it apart") {
    const auto c = probe(page(url0, 404, no_site), page(nr, 200, "<h1>Welcome</h1>", "nginx"), page(uc, 404, no_site),
                         page(ur, 404, no_site));
    const json ch = judged(c, "sakura");
    CHECK(ch["unknown_host"]["same_challenge"] == true);
    CHECK(ch["unknown_host"]["same_root"] == false);
    CHECK(ch["unknown_host"]["verdict"] == "own-site");
    auto f = base("sakura");
    f.web.http = {c};
    CHECK(fired(f).empty());
  }
  SUBCASE("a server whose unknown-name answer differs by path is no catch-all default site") {
    // Both the name and the random name: a plain 404 for the file, 403 for "/" (an empty docroot).
    const auto c = probe(page(url0, 404, plain_404), page(nr, 403, "forbidden"), page(uc, 404, plain_404),
                         page(ur, 403, "forbidden"));
    CHECK(judged(c, "sakura")["unknown_host"]["verdict"] == "undecided");
    auto f = base("sakura");
    f.web.http = {c};
    CHECK(fired(f).empty());
  }
  SUBCASE("the provider's default page recognised by its marker") {
    const std::string xpage = "<p>無効なURLです。</p>";
    const auto c = probe(page(url0, 404, plain_404), page(nr, 503, xpage), page(uc, 404, plain_404), page(ur, 503, xpage));
    const json ch = judged(c, "xserver");
    CHECK(ch["unknown_host"]["verdict"] == "default-site");
    CHECK(ch["unknown_host"]["evidence"] == "marker");
    CHECK(ch["unknown_host"]["marker"] == "無効なURLです");
  }
  SUBCASE("a default page of 503 is reported as the default site, not as a server error") {
    const std::string xpage = "<p>無効なURLです。</p>";
    auto f = base("xserver");
    f.web.http = {probe(page(url0, 503, xpage), page(nr, 503, xpage), page(uc, 503, xpage), page(ur, 503, xpage))};
    CHECK(fired(f) == std::vector<std::string>{"http-default-site"});
  }
  SUBCASE("an endless body on every path is no default page: http-error says what it is") {
    auto endless = [&](const std::string& url) {
      auto h = page(url, 200, std::string(100, 'x'));
      h.body_truncated = true;
      return h;
    };
    auto f = base("sakura");
    f.web.http = {probe(endless(url0), endless(nr), endless(uc), endless(ur))};
    CHECK(view_of(f)["web"]["challenges"][0]["unknown_host"]["verdict"] == "undecided");
    CHECK(fired(f) == std::vector<std::string>{"http-error/oversized"});
  }
  SUBCASE("no claim without all four answers, nor from older facts") {
    auto c = default_site;
    c.unknown_host.root = failure(ur, "timeout");
    CHECK(judged(c, "sakura")["unknown_host"]["verdict"] == "no-answer");
    c.unknown_host = facts::UnknownHostProbe{};
    CHECK(judged(c, "sakura")["unknown_host"]["verdict"] == "not-asked");
    auto f = base("sakura");
    f.web.http = {c};
    CHECK(fired(f).empty());
  }
  SUBCASE("an address the DNS rules name as not the host's is theirs to report") {
    auto f = base("sakura");
    f.request.server_ips = {"203.0.113.99"};
    f.web.http = {default_site};
    const json v = view_of(f);
    CHECK(v["web"]["challenges"][0]["unknown_host"]["verdict"] == "default-site");
    CHECK(v["web"]["challenges"][0]["no_site"] == false);
    CHECK_FALSE(has(web_findings(v), "http-default-site"));
  }
}

TEST_CASE("certificate rules: which ids fire") {
  const auto now = *facts::parse_utc_time(kNow);
  auto run = [&](const facts::TlsProbe& t, const std::string& provider = "generic",
                 std::vector<facts::CtCertificate> ct = {}) {
    auto f = base(provider);
    f.names.pop_back();  // example.jp alone
    f.web.tls = {t};
    f.ct.certificates = std::move(ct);
    return fired(f);
  };
  CHECK(run(tls("example.jp", {leaf({"example.jp"}, 10, 80)})).empty());
  CHECK(run(tls("example.jp", {leaf({"example.jp"}, 100, -2)})) == std::vector<std::string>{"cert-expired/client-retries"});
  CHECK(run(tls("example.jp", {leaf({"example.jp"}, 80, 9)})) == std::vector<std::string>{"cert-expiring"});
  // A provider that renews on a schedule has stopped once the certificate expired: an error.
  CHECK(run(tls("example.jp", {leaf({"example.jp"}, 100, -2)}), "sakura") ==
        std::vector<std::string>{"cert-expired/provider-stopped"});
  CHECK(run(tls("example.jp", {leaf({"example.jp"}, 63, 27)}), "xserver") ==
        std::vector<std::string>{"cert-not-renewed/schedule"});
  facts::CtCertificate newer{"0c", "CN=R10", facts::format_utc_time(now - 2 * kDay), "", "", {"example.jp"}, true};
  CHECK(run(tls("example.jp", {leaf({"example.jp"}, 50, 40)}), "sakura", {newer}) ==
        std::vector<std::string>{"cert-not-renewed/not-installed"});
  CHECK(run(tls("example.jp", {leaf({"example.jp"}, 10, 80)}, false)) == std::vector<std::string>{"cert-untrusted"});
  // An expired chain that also fails to verify is reported once, as expired.
  CHECK(run(tls("example.jp", {leaf({"example.jp"}, 100, -2)}, false)) == std::vector<std::string>{"cert-expired/client-retries"});
  facts::TlsProbe refused;
  refused.name = "example.jp";
  refused.family = "ipv4";
  refused.address = "203.0.113.10";
  refused.outcome = "refused";
  CHECK(run(refused) == std::vector<std::string>{"https-unavailable/no-detail"});
  refused.outcome = "not-sent";
  CHECK(run(refused).empty());
}

TEST_CASE("web rules: every finding renders in both languages for every provider") {
  auto f = base("xserver");
  const std::string s = "https://example.jp" + kToken;
  auto bot = response(url0, 403, "", "cloudflare");
  bot.body_excerpt = "Just a moment...";
  f.web.http = {chain({bot}), chain({failure(url0, "connect-timeout")}, "failed", "example.jp", "ipv6", "2001:db8::1"),
                chain({response("http://www.example.jp" + kToken, 301, "http://www.example.jp:8080/")}, "answer",
                      "www.example.jp")};
  f.web.tls = {tls("example.jp", {leaf({"www.example.jp"}, 70, 20)}, false)};
  const json v = view_of(f);
  const auto findings = rules::evaluate(catalogue(), v);
  CHECK(findings.size() >= 5);
  for (const auto& fd : findings)
    for (const char* lang : {"en", "ja"})
      for (const char* provider : {"generic", "sakura", "xserver"}) {
        CAPTURE(fd.id);
        CAPTURE(lang);
        CAPTURE(provider);
        for (const char* field : {"title", "remediation"}) {
          const std::string text = catalogue().render(fd, lang, field, provider);
          CHECK(!text.empty());
          CHECK(!std::regex_search(text, std::regex("\\{[a-z_]+\\}")));
          CHECK(text.find("null") == std::string::npos);
        }
      }
}

// Our own deadline cutting the web part short is never the server's fault: no http-unreachable,
// the diagnosis incomplete with the request named.
TEST_CASE("derive_web: challenge requests our deadline cut or never made") {
  auto unfinished_of = [](const json& v) { return v["diagnosis"]["unfinished"].get<std::vector<std::string>>(); };
  SUBCASE("every chain answered: complete") {
    auto f = base();
    f.request.web = true;
    f.request.allow_reserved = true;  // 203.0.113.10 is a documentation address
    f.web.http = {chain({response(url0, 404, "", "nginx")}),
                  chain({response("http://www.example.jp" + kToken, 404, "", "nginx")}, "answer", "www.example.jp")};
    const json v = view_of(f);
    CHECK(unfinished_of(v).empty());
    CHECK(v["diagnosis"]["complete"].get<bool>());
  }
  SUBCASE("the chain of www not sent before the deadline") {
    auto f = base();
    f.request.web = true;
    f.request.allow_reserved = true;  // 203.0.113.10 is a documentation address
    f.web.http = {chain({response(url0, 404, "", "nginx")}),
                  chain({failure("http://www.example.jp" + kToken, "not-sent")}, "deadline", "www.example.jp")};
    const json v = view_of(f);
    CHECK(v["web"]["challenges"][1]["unreachable_kind"] == "not-sent");
    CHECK_FALSE(v["diagnosis"]["complete"].get<bool>());
    CHECK(unfinished_of(v) ==
          std::vector<std::string>{"HTTP http://www.example.jp/.well-known/acme-challenge/ @203.0.113.10: not-sent"});
    const auto findings = rules::evaluate(catalogue(), v);
    CHECK_FALSE(std::any_of(findings.begin(), findings.end(), [](const rules::Finding& x) { return x.id == "http-unreachable"; }));
    // The same chain timing out at the server is the server's.
    f.web.http[1] = chain({failure("http://www.example.jp" + kToken, "timeout")}, "failed", "www.example.jp");
    CHECK(has(fired(f), "http-unreachable/timeout"));
  }
  SUBCASE("no chain at all for a name with an address (the web worker never got to it)") {
    auto f = base();
    f.request.web = true;
    f.request.allow_reserved = true;  // 203.0.113.10 is a documentation address
    f.web.http = {chain({response(url0, 404, "", "nginx")})};
    const json v = view_of(f);
    CHECK_FALSE(v["diagnosis"]["complete"].get<bool>());
    CHECK(unfinished_of(v).size() == 1);
  }
  SUBCASE("--no-web: nothing of the web is expected") {
    auto f = base();
    f.request.web = false;
    f.web.probed = false;
    CHECK(unfinished_of(view_of(f)).empty());
  }
}

TEST_CASE("derive: the hosting server unknown while a question that could name it is unfinished") {
  auto f = base();
  f.request.web = false;
  f.web.probed = false;
  facts::ReverseFact r;
  r.address = "203.0.113.10";
  r.ptr.qname = "10.113.0.203.in-addr.arpa";
  r.ptr.qtype = "PTR";
  r.ptr.server = "192.0.2.53";
  r.ptr.recursion_desired = true;
  r.ptr.outcome = "nxdomain";
  f.reverse = {r};
  json v = view_of(f);
  CHECK_FALSE(v["host"]["known"].get<bool>());
  CHECK(v["diagnosis"]["complete"].get<bool>());
  f.reverse[0].ptr.outcome = "not-sent";
  v = view_of(f);
  CHECK_FALSE(v["diagnosis"]["complete"].get<bool>());
  CHECK(v["diagnosis"]["unfinished"] == json::array({"PTR 10.113.0.203.in-addr.arpa @192.0.2.53: not-sent"}));
}

TEST_CASE("derive_web: a timeout our deadline cut is not the server's; one at the server's own limit is") {
  auto f = base();
  f.request.web = true;
  f.request.allow_reserved = true;
  auto cut = failure(url0, "connect-timeout");
  cut.elapsed_ms = 150;
  cut.started_ms = 0;
  cut.deadline_cut = true;
  f.web.http = {chain({cut}, "failed"), chain({response("http://www.example.jp" + kToken, 404, "", "nginx")}, "answer", "www.example.jp")};
  facts::TlsProbe tls;
  tls.name = "example.jp";
  tls.family = "ipv4";
  tls.address = "203.0.113.10";
  tls.outcome = "connect-timeout";
  tls.deadline_cut = true;
  f.web.tls = {tls};
  json v = view_of(f);
  CHECK(v["web"]["challenges"][0]["unreachable_kind"] == "not-sent");
  CHECK_FALSE(v["diagnosis"]["complete"].get<bool>());
  auto ids = fired(f);
  CHECK_FALSE(std::any_of(ids.begin(), ids.end(), [](const std::string& id) { return id.rfind("http-unreachable", 0) == 0 || id.rfind("https-unavailable", 0) == 0; }));
  // The same timeouts at the request's own limit are the server's.
  f.web.http[0].hops[0].deadline_cut = false;
  f.web.tls[0].deadline_cut = false;
  ids = fired(f);
  CHECK(has(ids, "http-unreachable/connect-timeout"));
  CHECK(std::any_of(ids.begin(), ids.end(), [](const std::string& id) { return id.rfind("https-unavailable", 0) == 0; }));
  // Facts written before the flag existed read as not cut (the server's), as they were judged.
  json j = f.web.http[0].hops[0];
  j.erase("deadline_cut");
  CHECK_FALSE(j.get<facts::HttpExchange>().deadline_cut);
}

TEST_CASE("derive: a handshake that did not finish is no evidence that an IPv6 address is another server") {
  auto f = base();
  f.request.allow_reserved = true;
  for (auto& n : f.names) n.aaaa = answer(n.name, "AAAA", "2001:db8:10::10");
  f.web.http = {chain({response(url0, 404, "", "nginx")}),
                chain({response(url0, 404, "", "nginx")}, "answer", "example.jp", "ipv6", "2001:db8:10::10")};
  facts::CertificateFact leaf_fact;
  leaf_fact.sha256 = "aa";
  facts::TlsProbe v4;
  v4.name = "example.jp";
  v4.family = "ipv4";
  v4.address = "203.0.113.10";
  v4.outcome = "handshake";
  v4.chain = {leaf_fact};
  facts::TlsProbe v6 = v4;
  v6.family = "ipv6";
  v6.address = "2001:db8:10::10";
  v6.outcome = "connect-timeout";
  v6.chain.clear();
  f.web.tls = {v4, v6};
  CHECK(view_of(f)["names"][0]["off_host_aaaa"].empty());
  // A refused port 443 on the IPv6 address alone is a difference.
  f.web.tls[1].outcome = "refused";
  CHECK(view_of(f)["names"][0]["off_host_aaaa"].size() == 1);
}
