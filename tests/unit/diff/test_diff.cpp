// src/diff over facts built in code: each kind of change is found and named, and explains the
// finding whose rule reads what it touched, and no other.
#include <algorithm>

#include <doctest/doctest.h>

#include "../temp_dir.hpp"
#include "../view/shipped.hpp"
#include "diff/diff.hpp"
#include "diff/render.hpp"

using namespace certdoctor;
using nlohmann::json;

namespace {

facts::Lookup lookup(const std::string& name, const std::string& type, const std::vector<std::string>& values) {
  facts::Lookup l;
  l.server = "192.0.2.53";
  l.qname = name;
  l.qtype = type;
  l.rcode = "NOERROR";
  l.outcome = values.empty() ? "nodata" : "answer";
  for (const auto& v : values) l.answer.push_back({name, type, 300, v});
  return l;
}

facts::HttpExchange hop(const std::string& url, int status, const std::string& next = "") {
  facts::HttpExchange h;
  h.url = url;
  h.address = "203.0.113.10";
  h.outcome = "response";
  h.status = status;
  h.location = h.next_url = next;
  h.server = "nginx";
  return h;
}

// A domain at Sakura-like nameservers, its one name on the hosting server, a 404 for the random
// token on the challenge path and a valid certificate with 80 days left.
facts::Facts base() {
  facts::Facts f;
  f.collected_at = "2026-10-02T01:00:00Z";
  f.domain = f.domain_display = f.registered_domain = "example.jp";
  f.public_suffix = "jp";
  f.request.input = "example.jp";
  f.request.provider = "sakura";
  f.request.server_ips = {"203.0.113.10"};
  f.request.resolvers = {"192.0.2.53"};
  f.request.www = false;
  f.request.ct_url = "none";
  f.request.status_url = "none";
  facts::NameFacts n;
  n.name = n.display = "example.jp";
  n.role = "main";
  n.a = lookup("example.jp", "A", {"203.0.113.10"});
  n.aaaa = lookup("example.jp", "AAAA", {});
  n.caa = {lookup("example.jp", "CAA", {}), lookup("jp", "CAA", {})};
  f.names = {n};
  f.delegation.zone = "example.jp";
  f.delegation.status = "delegated";
  f.delegation.parent_zone = "jp";
  f.delegation.parent_ns = f.delegation.child_ns = {"ns1.dns.ne.jp", "ns2.dns.ne.jp"};
  f.web.probed = true;
  f.web.token = "tokenA";
  const std::string url = "http://example.jp/.well-known/acme-challenge/tokenA";
  f.web.http = {facts::HttpChallenge{"example.jp", "ipv4", "203.0.113.10", url, {hop(url, 404)}, "answer", 5, {}}};
  facts::TlsProbe tls;
  tls.name = "example.jp";
  tls.family = "ipv4";
  tls.address = "203.0.113.10";
  tls.outcome = "handshake";
  tls.verified = true;
  facts::CertificateFact cert;
  cert.subject_cn = "example.jp";
  cert.issuer_cn = "R11";
  cert.not_before = "2026-09-12T00:00:00Z";
  cert.not_after = "2026-12-21T00:00:00Z";
  cert.dns_names = {"example.jp"};
  cert.sha256 = "aa";
  tls.chain = {cert};
  f.web.tls = {tls};
  return f;
}

// The later check: two months on (2026-11-20), otherwise the same.
facts::Facts later(facts::Facts f) {
  f.collected_at = "2026-11-20T01:00:00Z";
  return f;
}

const char* test_rules = R"(rules:
  - id: t-aaaa
    severity: error
    source: d
    each: names
    as: name
    when: "len(name.aaaa_addresses) > 0"
    arguments: {name: name.display}
    text:
      en: {title: "{name} has an AAAA", remediation: {generic: "x"}}
      ja: {title: "{name} に AAAA", remediation: {generic: "x"}}
  - id: t-caa
    severity: error
    source: d
    each: names
    as: name
    when: "name.caa.verdict == 'forbidden'"
    arguments: {name: name.display}
    text:
      en: {title: "CAA forbids {name}", remediation: {generic: "x"}}
      ja: {title: "CAA が {name} を禁止", remediation: {generic: "x"}}
  - id: t-ns
    severity: warning
    source: d
    when: "'ada.ns.cloudflare.com' in delegation.parent_ns"
    text:
      en: {title: "moved", remediation: {generic: "x"}}
      ja: {title: "移転", remediation: {generic: "x"}}
  - id: t-redirect
    severity: error
    source: d
    each: web.challenges
    as: ch
    when: "ch.offsite"
    arguments: {name: ch.display}
    text:
      en: {title: "{name} forwarded", remediation: {generic: "x"}}
      ja: {title: "{name} 転送", remediation: {generic: "x"}}
  - id: t-cert
    severity: error
    source: d
    each: web.certs
    as: c
    when: "c.days_left != null and c.days_left < 20"
    arguments: {name: c.display}
    text:
      en: {title: "{name} expires soon", remediation: {generic: "x"}}
      ja: {title: "{name} 期限間近", remediation: {generic: "x"}}
)";

struct Fixture {
  TempDir dir;
  rules::Catalogue catalogue;
  Fixture() : catalogue(load(dir)) {}
  static rules::Catalogue load(const TempDir& d) {
    d.write("t.yaml", test_rules);
    return rules::Catalogue::load({d.path()});
  }
  diff::Result run(const facts::Facts& a, const facts::Facts& b, const rules::Catalogue* other = nullptr) const {
    return diff::compare(diff::Side{&a, std::nullopt}, diff::Side{&b, std::nullopt},
                         view::DeriveContext{test::shipped_data(), test::classifier()}, other ? *other : catalogue);
  }
};

const diff::Change* change(const diff::Result& r, const std::string& kind) {
  for (const auto& c : r.changes)
    if (c.kind == kind) return &c;
  return nullptr;
}

const diff::FindingDelta* delta(const diff::Result& r, const std::string& id) {
  for (const auto& d : r.findings)
    if (d.finding.id == id) return &d;
  return nullptr;
}

// The kinds of the changes that explain finding `id`.
std::vector<std::string> explained_by(const diff::Result& r, const std::string& id) {
  std::vector<std::string> out;
  if (const auto* d = delta(r, id))
    for (auto i : d->explained_by) out.push_back(r.changes[i].kind);
  return out;
}

bool has(const std::vector<std::string>& v, const std::string& s) { return std::find(v.begin(), v.end(), s) != v.end(); }

} // namespace

TEST_CASE("diff::compare: the same facts twice change nothing") {
  Fixture fx;
  const auto a = base();
  const auto r = fx.run(a, a);
  CHECK(r.changes.empty());
  CHECK(r.findings.empty());
  CHECK(diff::to_json(r)["nothing_changed"] == true);
}

TEST_CASE("diff::compare: a new challenge token is no change") {
  Fixture fx;
  auto b = later(base());
  b.web.token = "tokenB";
  b.web.http[0].url = "http://example.jp/.well-known/acme-challenge/tokenB";
  b.web.http[0].hops[0].url = b.web.http[0].url;
  const auto r = fx.run(base(), b);
  CHECK(r.changes.empty());
  CHECK(r.findings.empty());
}

TEST_CASE("diff::compare: a redirect that carries the token along is no change for a new token") {
  Fixture fx;
  auto a = base();
  a.web.token = "tokenAAAAAAAA";
  const std::string url_a = "http://example.jp/.well-known/acme-challenge/tokenAAAAAAAA";
  a.web.http[0].url = url_a;
  a.web.http[0].hops = {hop(url_a, 301, "http://example.jp/hop/1/.well-known/acme-challenge/tokenAAAAAAAA"),
                        hop("http://example.jp/hop/1/.well-known/acme-challenge/tokenAAAAAAAA", 404)};
  auto b = later(a);
  b.web.token = "tokenBBBBBBBB";
  const std::string url_b = "http://example.jp/.well-known/acme-challenge/tokenBBBBBBBB";
  b.web.http[0].url = url_b;
  b.web.http[0].hops = {hop(url_b, 301, "http://example.jp/hop/1/.well-known/acme-challenge/tokenBBBBBBBB"),
                        hop("http://example.jp/hop/1/.well-known/acme-challenge/tokenBBBBBBBB", 404)};
  CHECK(change(fx.run(a, b), "redirect") == nullptr);
  // The same redirect to another place is a change, shown as each check saw it.
  b.web.http[0].hops[0] = hop(url_b, 301, "http://elsewhere.jp/.well-known/acme-challenge/tokenBBBBBBBB");
  const auto r = fx.run(a, b);
  const auto* c = change(r, "redirect");
  REQUIRE(c);
  CHECK(c->before == std::vector<std::string>{"http://example.jp/hop/1/.well-known/acme-challenge/tokenAAAAAAAA"});
  CHECK(c->after == std::vector<std::string>{"http://elsewhere.jp/.well-known/acme-challenge/tokenBBBBBBBB"});
}

TEST_CASE("diff::compare: an AAAA added explains the AAAA finding, not the CAA one") {
  Fixture fx;
  auto b = later(base());
  b.names[0].aaaa = lookup("example.jp", "AAAA", {"2001:db8:99::1"});
  const auto r = fx.run(base(), b);
  const auto* c = change(r, "aaaa");
  REQUIRE(c);
  CHECK(c->action == "added");
  CHECK(c->name == "example.jp");
  CHECK(c->before.empty());
  CHECK(c->after == std::vector<std::string>{"2001:db8:99::1"});
  CHECK(c->since == "2026-10-02T01:00:00Z");
  CHECK(c->until == "2026-11-20T01:00:00Z");
  const auto* d = delta(r, "t-aaaa");
  REQUIRE(d);
  CHECK(d->state == "appeared");
  CHECK(has(explained_by(r, "t-aaaa"), "aaaa"));
  CHECK_FALSE(delta(r, "t-caa"));
}

TEST_CASE("diff::compare: with CAA and an AAAA changed at once, each explains its own finding") {
  Fixture fx;
  auto b = later(base());
  b.names[0].aaaa = lookup("example.jp", "AAAA", {"2001:db8:99::1"});
  b.names[0].caa[1] = lookup("jp", "CAA", {"0 issue \"ca.example.net\""});
  const auto r = fx.run(base(), b);
  const auto* caa = change(r, "caa");
  REQUIRE(caa);
  CHECK(caa->name == "jp");
  CHECK(caa->action == "added");
  CHECK(explained_by(r, "t-caa") == std::vector<std::string>{"caa"});
  CHECK(explained_by(r, "t-aaaa") == std::vector<std::string>{"aaaa"});
}

TEST_CASE("diff::compare: nameservers moved at the parent") {
  Fixture fx;
  auto b = later(base());
  b.delegation.parent_ns = {"bob.ns.cloudflare.com", "ada.ns.cloudflare.com"};
  const auto r = fx.run(base(), b);
  const auto* c = change(r, "nameservers-parent");
  REQUIRE(c);
  CHECK(c->name == "example.jp");
  CHECK(c->before == std::vector<std::string>{"ns1.dns.ne.jp", "ns2.dns.ne.jp"});
  CHECK(c->after == std::vector<std::string>{"ada.ns.cloudflare.com", "bob.ns.cloudflare.com"});
  CHECK_FALSE(change(r, "nameservers-zone"));
  CHECK(explained_by(r, "t-ns") == std::vector<std::string>{"nameservers-parent"});
}

TEST_CASE("diff::compare: forwarding switched on for the challenge path") {
  Fixture fx;
  auto b = later(base());
  const std::string url = b.web.http[0].url;
  const std::string to = "http://elsewhere.jp/.well-known/acme-challenge/tokenA";
  auto second = hop(to, 404);
  second.address = "203.0.113.99";
  b.web.http[0].hops = {hop(url, 301, to), second};
  const auto r = fx.run(base(), b);
  const auto* c = change(r, "redirect");
  REQUIRE(c);
  CHECK(c->action == "added");
  CHECK(c->name == "example.jp (IPv4)");
  CHECK(c->after == std::vector<std::string>{to});
  REQUIRE(delta(r, "t-redirect"));
  CHECK(has(explained_by(r, "t-redirect"), "redirect"));
  CHECK_FALSE(has(explained_by(r, "t-redirect"), "caa"));
}

TEST_CASE("diff::compare: a certificate left unrenewed") {
  Fixture fx;
  auto b = later(base());
  b.collected_at = "2026-12-10T01:00:00Z";  // 10 days left of the same certificate
  const auto r = fx.run(base(), b);
  const auto* c = change(r, "certificate-unrenewed");
  REQUIRE(c);
  CHECK(c->before == std::vector<std::string>{"79"});  // whole days left
  CHECK(c->after == std::vector<std::string>{"10"});
  CHECK(explained_by(r, "t-cert") == std::vector<std::string>{"certificate-unrenewed"});
}

TEST_CASE("diff::compare: a renewed certificate is a new issuer, expiry or names, and a finding gone") {
  Fixture fx;
  auto a = base();
  a.collected_at = "2026-12-10T01:00:00Z";
  auto b = a;
  b.collected_at = "2026-12-12T01:00:00Z";
  auto& leaf = b.web.tls[0].chain[0];
  leaf.sha256 = "bb";
  leaf.issuer_cn = "R12";
  leaf.not_after = "2027-03-10T00:00:00Z";
  const auto r = fx.run(a, b);
  REQUIRE(change(r, "certificate-issuer"));
  REQUIRE(change(r, "certificate-expiry"));
  CHECK_FALSE(change(r, "certificate-names"));
  const auto* d = delta(r, "t-cert");
  REQUIRE(d);
  CHECK(d->state == "gone");
  CHECK(has(explained_by(r, "t-cert"), "certificate-expiry"));
}

TEST_CASE("diff::compare: a failed lookup on one side is no record change") {
  Fixture fx;
  auto b = later(base());
  b.names[0].aaaa.outcome = "timeout";
  b.names[0].aaaa.answer.clear();
  b.names[0].caa[1].outcome = "servfail";
  const auto r = fx.run(base(), b);
  CHECK_FALSE(change(r, "aaaa"));
  CHECK_FALSE(change(r, "caa"));
}

TEST_CASE("diff::compare: the recorded findings against today's rules") {
  Fixture fx;
  const auto a = base();
  rules::Finding old;
  old.id = "t-retired";
  diff::Side from{&a, std::vector<rules::Finding>{old}};
  const auto r = diff::compare(from, diff::Side{&a, std::nullopt},
                               view::DeriveContext{test::shipped_data(), test::classifier()}, fx.catalogue);
  CHECK(r.rules_changed);
  diff::Side same{&a, std::vector<rules::Finding>{}};
  CHECK_FALSE(diff::compare(same, diff::Side{&a, std::nullopt},
                            view::DeriveContext{test::shipped_data(), test::classifier()}, fx.catalogue)
                  .rules_changed);
}

TEST_CASE("diff::compare with the shipped rules: a stray AAAA explains aaaa-not-host") {
  Fixture fx;
  auto b = later(base());
  b.names[0].aaaa = lookup("example.jp", "AAAA", {"2001:db8:99::1"});
  const auto r = fx.run(base(), b, &test::catalogue());
  const auto* d = delta(r, "aaaa-not-host");
  REQUIRE(d);
  CHECK(d->state == "appeared");
  CHECK(has(explained_by(r, "aaaa-not-host"), "aaaa"));
  for (const auto& f : r.findings) CHECK(f.state == "appeared");
}

TEST_CASE("diff::rule_paths and paths") {
  CHECK(diff::normalise_path("names[0].caa") == "names[].caa");
  CHECK(diff::normalise_path("names[-1][\"caa\"].levels") == "names[].caa.levels");
  CHECK(diff::paths_meet("names[]", "names[].addresses"));
  CHECK(diff::paths_meet("names[].addresses[].address", "names[].addresses"));
  CHECK_FALSE(diff::paths_meet("names[].addresses", "names[].aaaa"));
  CHECK_FALSE(diff::paths_meet("names[].off_host", "names[].off_host_a"));
  const rules::Rule* rule = test::catalogue().find("caa-forbids");
  REQUIRE(rule);
  const auto paths = diff::rule_paths(*rule);
  CHECK(std::any_of(paths.begin(), paths.end(), [](const std::string& p) { return p.rfind("names[].caa", 0) == 0; }));
  // The plain list of `each` is iterated, not read: only what `when` reads of an element counts.
  CHECK_FALSE(has(paths, "names"));
  for (const auto& p : paths) CHECK(p.rfind("name.", 0) != 0);
  // Every kind has its view paths, and they name parts of the view of the sample facts.
  const json shape = view::derive(facts::sample(), view::DeriveContext{test::shipped_data(), test::classifier()});
  for (const auto& kind : diff::change_kinds()) {
    CAPTURE(kind);
    REQUIRE_FALSE(diff::kind_paths(kind).empty());
    for (const auto& p : diff::kind_paths(kind)) {
      CAPTURE(p);
      const std::string top = p.substr(0, p.find_first_of(".["));
      CHECK(shape.contains(top));
    }
  }
}

TEST_CASE("diff::render_text: every kind has words in ja and en; the sentence names the window and the finding") {
  Fixture fx;
  const auto words = report::Labels::load(REPORTS_DIR, "diff.yaml");
  for (const std::string lang : {"en", "ja"})
    for (const auto& kind : diff::change_kinds()) {
      CAPTURE(kind);
      CHECK(words.find(lang, "kinds." + kind + ".changed"));
    }
  auto b = later(base());
  b.names[0].aaaa = lookup("example.jp", "AAAA", {"2001:db8:99::1"});
  const auto r = fx.run(base(), b);
  const std::string en = diff::render_text(r, fx.catalogue, words, "en", 0);
  CHECK(en.find("An IPv6 address (AAAA) was added to example.jp: 2001:db8:99::1 between 2026-10-02 and "
                "2026-11-20 — this is why t-aaaa fires.") != std::string::npos);
  CHECK(en.find("+ new [t-aaaa] example.jp has an AAAA") != std::string::npos);
  const std::string ja = diff::render_text(r, fx.catalogue, words, "ja", 0);
  CHECK(ja.find("2001:db8:99::1") != std::string::npos);
  CHECK(ja.find("t-aaaa の原因です") != std::string::npos);
  auto same_day = base();
  same_day.collected_at = "2026-10-02T09:00:00Z";
  same_day.names[0].aaaa = b.names[0].aaaa;
  CHECK(diff::render_text(fx.run(base(), same_day), fx.catalogue, words, "en", 0)
            .find("2001:db8:99::1 on 2026-10-02 — this is why") != std::string::npos);
  auto locked = later(base());
  locked.web.http[0].hops[0].status = 401;
  const auto rl = fx.run(base(), locked);
  REQUIRE(change(rl, "challenge-answer"));
  CHECK(diff::render_text(rl, fx.catalogue, words, "en", 0)
            .find("changed from 404 (not found) to 401 (a password is asked: basic authentication)") != std::string::npos);
  const std::string same = diff::render_text(fx.run(base(), base()), fx.catalogue, words, "en", 0);
  CHECK(same.find("Nothing changed") != std::string::npos);
  const json j = diff::render_json(r, fx.catalogue, words, "en");
  CHECK(j["changes"][0]["kind"] == "aaaa");
  CHECK(j["findings"][0]["explained_by"] == json::array({0}));
}
