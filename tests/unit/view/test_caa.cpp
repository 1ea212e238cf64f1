#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "view/caa.hpp"

using namespace certdoctor::view::caa;

namespace {

const std::string kAccount = "https://acme-v02.api.letsencrypt.org/acme/acct/123";

Record rr(std::uint8_t flags, std::string tag, std::string value) {
  return Record{flags, std::move(tag), std::move(value)};
}

Level at(std::string domain, std::vector<Record> records) {
  return Level{std::move(domain), LookupOutcome::records, std::move(records), ""};
}

Level none(std::string domain) {
  return Level{std::move(domain), LookupOutcome::empty, {}, ""};
}

Level failed(std::string domain, std::string why) {
  return Level{std::move(domain), LookupOutcome::failed, {}, std::move(why)};
}

Policy issuer(std::string domain, std::string method = "http-01", std::optional<std::string> account = {}) {
  Policy p;
  p.issuer_domains = {std::move(domain)};
  p.validation_method = std::move(method);
  p.account_uri = std::move(account);
  return p;
}

// Let's Encrypt with a known account, as in Boulder's TestCAAChecking.
Policy le(std::string method = "http-01") {
  return issuer("letsencrypt.org", std::move(method), kAccount);
}

struct Case {
  const char* title;
  std::string name;
  std::vector<Level> climb;
  Policy policy;
  Verdict verdict;
  std::string reason;
  std::string relevant_domain;
  std::string detail;
};

void check(const std::vector<Case>& cases) {
  for (const auto& c : cases) {
    SUBCASE(c.title) {
      const auto d = decide(c.name, c.climb, c.policy);
      CHECK(verdict_name(d.verdict) == verdict_name(c.verdict));
      CHECK(d.reason == c.reason);
      CHECK(d.relevant_domain == c.relevant_domain);
      CHECK(d.detail == c.detail);
    }
  }
}

}  // namespace

TEST_CASE("caa::decide") {
  SUBCASE("RFC 8659 examples") {
    check({
        // §3: no CAA anywhere in the tree.
        {"no records at any level",
         "x.y.z",
         {none("x.y.z"), none("y.z"), none("z")},
         issuer("ca.example.net"),
         Verdict::permitted,
         "no-caa",
         "",
         ""},
        // §3: the closest non-empty RRset is the relevant one, not the parent's.
        {"closest set permits",
         "x.y.z",
         {none("x.y.z"), at("y.z", {rr(0, "issue", "ca.example.net")}), at("z", {rr(0, "issue", "ca.example.org")})},
         issuer("ca.example.net"),
         Verdict::permitted,
         "issuer-listed",
         "y.z",
         "0 issue \"ca.example.net\""},
        {"closest set forbids though the parent lists the CA",
         "x.y.z",
         {none("x.y.z"), at("y.z", {rr(0, "issue", "ca.example.net")}), at("z", {rr(0, "issue", "ca.example.org")})},
         issuer("ca.example.org"),
         Verdict::forbidden,
         "issuer-not-listed",
         "y.z",
         "0 issue \"ca.example.net\""},
        // §4.2: two issuers listed.
        {"second of two issuers",
         "certs.example.com",
         {at("certs.example.com", {rr(0, "issue", "ca1.example.net"), rr(0, "issue", "ca2.example.org")})},
         issuer("ca2.example.org"),
         Verdict::permitted,
         "issuer-listed",
         "certs.example.com",
         "0 issue \"ca2.example.org\""},
        {"issuer not among two",
         "certs.example.com",
         {at("certs.example.com", {rr(0, "issue", "ca1.example.net"), rr(0, "issue", "ca2.example.org")})},
         issuer("ca3.example.com"),
         Verdict::forbidden,
         "issuer-not-listed",
         "certs.example.com",
         "0 issue \"ca1.example.net\""},
        // §4.2: ";" forbids every issuer.
        {"nocerts",
         "nocerts.example.com",
         {at("nocerts.example.com", {rr(0, "issue", ";")})},
         issuer("ca1.example.net"),
         Verdict::forbidden,
         "empty-issuer",
         "nocerts.example.com",
         "0 issue \";\""},
        // §4.2: a parameter the CA does not know is ignored.
        {"unknown parameter account=230123",
         "example.com",
         {at("example.com", {rr(0, "issue", "ca1.example.net; account=230123")})},
         issuer("ca1.example.net"),
         Verdict::permitted,
         "issuer-listed",
         "example.com",
         "0 issue \"ca1.example.net; account=230123\""},
        // §4.3: issue for the name, issuewild for wildcards.
        {"issuewild ignored for a non-wildcard",
         "wild.example.com",
         {at("wild.example.com", {rr(0, "issue", "ca1.example.net"), rr(0, "issuewild", "ca2.example.org")})},
         issuer("ca2.example.org"),
         Verdict::forbidden,
         "issuer-not-listed",
         "wild.example.com",
         "0 issue \"ca1.example.net\""},
        {"issuewild permits a wildcard",
         "*.wild.example.com",
         {at("wild.example.com", {rr(0, "issue", "ca1.example.net"), rr(0, "issuewild", "ca2.example.org")})},
         issuer("ca2.example.org"),
         Verdict::permitted,
         "issuer-listed",
         "wild.example.com",
         "0 issuewild \"ca2.example.org\""},
        {"issuewild overrides issue for a wildcard",
         "*.wild.example.com",
         {at("wild.example.com", {rr(0, "issue", "ca1.example.net"), rr(0, "issuewild", "ca2.example.org")})},
         issuer("ca1.example.net"),
         Verdict::forbidden,
         "issuer-not-listed",
         "wild.example.com",
         "0 issuewild \"ca2.example.org\""},
        {"issuewild \";\" keeps issue for other names",
         "www.example.com",
         {none("www.example.com"), at("example.com", {rr(0, "issue", "ca1.example.net"), rr(0, "issuewild", ";")})},
         issuer("ca1.example.net"),
         Verdict::permitted,
         "issuer-listed",
         "example.com",
         "0 issue \"ca1.example.net\""},
        {"issuewild \";\" forbids wildcards",
         "*.example.com",
         {at("example.com", {rr(0, "issue", "ca1.example.net"), rr(0, "issuewild", ";")})},
         issuer("ca1.example.net"),
         Verdict::forbidden,
         "empty-issuer",
         "example.com",
         "0 issuewild \";\""},
        // §4.1: the critical flag on a tag the CA does not understand.
        {"critical tbs",
         "example.com",
         {at("example.com", {rr(0, "issue", "ca.example.net; policy=ev"), rr(128, "tbs", "Unknown")})},
         issuer("ca.example.net"),
         Verdict::forbidden,
         "critical-unknown-tag",
         "example.com",
         "128 tbs \"Unknown\""},
        // §4.4: iodef does not restrict issuance.
        {"iodef alongside issue",
         "example.com",
         {at("example.com", {rr(0, "issue", "ca.example.net"), rr(0, "iodef", "mailto:security@example.com"),
                             rr(0, "iodef", "http://iodef.example.com/")})},
         issuer("ca.example.net"),
         Verdict::permitted,
         "issuer-listed",
         "example.com",
         "0 issue \"ca.example.net\""},
        {"iodef only",
         "example.com",
         {at("example.com", {rr(0, "iodef", "mailto:security@example.com")})},
         issuer("ca.example.net"),
         Verdict::permitted,
         "no-caa",
         "example.com",
         ""},
    });
  }

  SUBCASE("RFC 8657 examples") {
    const std::string acct1234 = "https://example.net/account/1234";
    const std::vector<Level> account_bound = {
        at("example.com", {rr(0, "issue", "example.net; accounturi=https://example.net/account/1234")})};
    const std::vector<Level> dns_only = {at("example.com", {rr(0, "issue", "example.net; validationmethods=dns-01")})};
    const std::vector<Level> both = {
        at("example.com",
           {rr(0, "issue", "example.net; accounturi=https://example.net/account/2345; validationmethods=dns-01"),
            rr(0, "issue", "example.net; accounturi=https://example.net/account/1234; validationmethods=http-01")})};
    check({
        {"accounturi of this account", "example.com", account_bound, issuer("example.net", "http-01", acct1234),
         Verdict::permitted, "issuer-listed", "example.com",
         "0 issue \"example.net; accounturi=https://example.net/account/1234\""},
        {"accounturi of another account", "example.com", account_bound,
         issuer("example.net", "http-01", std::string("https://example.net/account/2345")), Verdict::forbidden,
         "account-uri-mismatch", "example.com", "0 issue \"example.net; accounturi=https://example.net/account/1234\""},
        {"accounturi with the account unknown", "example.com", account_bound, issuer("example.net"),
         Verdict::permitted_if_account, "account-uri-required", "example.com",
         "0 issue \"example.net; accounturi=https://example.net/account/1234\""},
        {"validationmethods excludes http-01", "example.com", dns_only, issuer("example.net", "http-01"),
         Verdict::forbidden, "validation-method-not-allowed", "example.com",
         "0 issue \"example.net; validationmethods=dns-01\""},
        {"validationmethods includes dns-01", "example.com", dns_only, issuer("example.net", "dns-01"),
         Verdict::permitted, "issuer-listed", "example.com", "0 issue \"example.net; validationmethods=dns-01\""},
        {"second property binds account and method", "example.com", both, issuer("example.net", "http-01", acct1234),
         Verdict::permitted, "issuer-listed", "example.com",
         "0 issue \"example.net; accounturi=https://example.net/account/1234; validationmethods=http-01\""},
        {"account unknown, only the http-01 property can apply", "example.com", both, issuer("example.net"),
         Verdict::permitted_if_account, "account-uri-required", "example.com",
         "0 issue \"example.net; accounturi=https://example.net/account/1234; validationmethods=http-01\""},
        {"method fails on the property with this account", "example.com", both,
         issuer("example.net", "dns-01", acct1234), Verdict::forbidden, "validation-method-not-allowed", "example.com",
         "0 issue \"example.net; accounturi=https://example.net/account/1234; validationmethods=http-01\""},
    });
  }

  SUBCASE("Boulder behaviours") {
    check({
        {"critical flag 128 on an unknown tag",
         "unknown-critical.com",
         {at("unknown-critical.com", {rr(128, "foo", "bar"), rr(0, "issue", "letsencrypt.org")})},
         le(),
         Verdict::forbidden,
         "critical-unknown-tag",
         "unknown-critical.com",
         "128 foo \"bar\""},
        {"flag bit 1 on an unknown tag",
         "unknown-critical2.com",
         {at("unknown-critical2.com", {rr(1, "foo", "bar")})},
         le(),
         Verdict::forbidden,
         "critical-unknown-tag",
         "unknown-critical2.com",
         "1 foo \"bar\""},
        {"other flag bits are not critical",
         "unknown-noncritical.com",
         {at("unknown-noncritical.com", {rr(0x7e, "foo", "bar")})},
         le(),
         Verdict::permitted,
         "no-caa",
         "unknown-noncritical.com",
         ""},
        {"flags on issue records do not matter",
         "multi-crit-present.com",
         {at("multi-crit-present.com", {rr(1, "issue", "ca.com"), rr(129, "issue", "letsencrypt.org")})},
         le(),
         Verdict::permitted,
         "issuer-listed",
         "multi-crit-present.com",
         "129 issue \"letsencrypt.org\""},
        {"critical iodef is understood",
         "example.jp",
         {at("example.jp", {rr(128, "iodef", "mailto:a@example.jp"), rr(0, "issue", "letsencrypt.org")})},
         le(),
         Verdict::permitted,
         "issuer-listed",
         "example.jp",
         "0 issue \"letsencrypt.org\""},
        {"critical unknown tag in a non-relevant set",
         "www.example.jp",
         {at("www.example.jp", {rr(0, "issue", "letsencrypt.org")}), at("example.jp", {rr(128, "foo", "bar")})},
         le(),
         Verdict::permitted,
         "issuer-listed",
         "www.example.jp",
         "0 issue \"letsencrypt.org\""},
        {"mixed-case tag, other issuer",
         "mixedcase.com",
         {at("mixedcase.com", {rr(0, "iSsUe", "ca.com")})},
         le(),
         Verdict::forbidden,
         "issuer-not-listed",
         "mixedcase.com",
         "0 iSsUe \"ca.com\""},
        {"upper-case tag, this issuer",
         "example.jp",
         {at("example.jp", {rr(0, "ISSUE", "letsencrypt.org")})},
         le(),
         Verdict::permitted,
         "issuer-listed",
         "example.jp",
         "0 ISSUE \"letsencrypt.org\""},
        {"upper-case ISSUEWILD for a wildcard",
         "*.example.jp",
         {at("example.jp", {rr(0, "issue", "letsencrypt.org"), rr(0, "ISSUEWILD", ";")})},
         le(),
         Verdict::forbidden,
         "empty-issuer",
         "example.jp",
         "0 ISSUEWILD \";\""},
        {"whitespace and unknown parameters",
         "present-with-parameter.com",
         {at("present-with-parameter.com", {rr(0, "issue", "  letsencrypt.org  ;foo=bar;baz=bar")})},
         le(),
         Verdict::permitted,
         "issuer-listed",
         "present-with-parameter.com",
         "0 issue \"  letsencrypt.org  ;foo=bar;baz=bar\""},
        {"tabs and a trailing semicolon",
         "example.jp",
         {at("example.jp", {rr(0, "issue", "\tletsencrypt.org\t; ")})},
         le(),
         Verdict::permitted,
         "issuer-listed",
         "example.jp",
         "0 issue \"\\009letsencrypt.org\\009; \""},
        {"invalid parameter tag",
         "present-with-invalid-tag.com",
         {at("present-with-invalid-tag.com", {rr(0, "issue", "letsencrypt.org; a_b=123")})},
         le(),
         Verdict::forbidden,
         "issuer-not-listed",
         "present-with-invalid-tag.com",
         "0 issue \"letsencrypt.org; a_b=123\""},
        {"hyphen in a parameter tag",
         "example.jp",
         {at("example.jp", {rr(0, "issue", "letsencrypt.org; a-b=1")})},
         le(),
         Verdict::forbidden,
         "issuer-not-listed",
         "example.jp",
         "0 issue \"letsencrypt.org; a-b=1\""},
        {"invalid parameter value",
         "present-with-invalid-value.com",
         {at("present-with-invalid-value.com", {rr(0, "issue", "letsencrypt.org; ab=1 2 3")})},
         le(),
         Verdict::forbidden,
         "issuer-not-listed",
         "present-with-invalid-value.com",
         "0 issue \"letsencrypt.org; ab=1 2 3\""},
        {"parameter without =",
         "example.jp",
         {at("example.jp", {rr(0, "issue", "letsencrypt.org; foo")})},
         le(),
         Verdict::forbidden,
         "issuer-not-listed",
         "example.jp",
         "0 issue \"letsencrypt.org; foo\""},
        {"two semicolons",
         "example.jp",
         {at("example.jp", {rr(0, "issue", "letsencrypt.org;;")})},
         le(),
         Verdict::forbidden,
         "issuer-not-listed",
         "example.jp",
         "0 issue \"letsencrypt.org;;\""},
        {"malformed record beside a good one",
         "example.jp",
         {at("example.jp", {rr(0, "issue", "letsencrypt.org; a_b=1"), rr(0, "issue", "letsencrypt.org")})},
         le(),
         Verdict::permitted,
         "issuer-listed",
         "example.jp",
         "0 issue \"letsencrypt.org\""},
        {"issuer domain is case-sensitive",
         "example.jp",
         {at("example.jp", {rr(0, "issue", "ca.example.net"), rr(0, "issue", "LetsEncrypt.org")})},
         le(),
         Verdict::forbidden,
         "issuer-not-listed",
         "example.jp",
         "0 issue \"LetsEncrypt.org\""},
        {"trailing dot does not match",
         "example.jp",
         {at("example.jp", {rr(0, "issue", "letsencrypt.org.")})},
         le(),
         Verdict::forbidden,
         "issuer-not-listed",
         "example.jp",
         "0 issue \"letsencrypt.org.\""},
        {"text after the domain without semicolon",
         "example.jp",
         {at("example.jp", {rr(0, "issue", "letsencrypt.org validationmethods=http-01")})},
         le(),
         Verdict::forbidden,
         "issuer-not-listed",
         "example.jp",
         "0 issue \"letsencrypt.org validationmethods=http-01\""},
        {"empty value forbids everyone",
         "example.jp",
         {at("example.jp", {rr(0, "issue", "")})},
         le(),
         Verdict::forbidden,
         "empty-issuer",
         "example.jp",
         "0 issue \"\""},
        {"\";\" beside another CA",
         "example.jp",
         {at("example.jp", {rr(0, "issue", ";"), rr(0, "issue", "ca.com")})},
         le(),
         Verdict::forbidden,
         "issuer-not-listed",
         "example.jp",
         "0 issue \"ca.com\""},
        {"\";\" beside Let's Encrypt",
         "example.jp",
         {at("example.jp", {rr(0, "issue", ";"), rr(0, "issue", "letsencrypt.org")})},
         le(),
         Verdict::permitted,
         "issuer-listed",
         "example.jp",
         "0 issue \"letsencrypt.org\""},
        {"validationmethods=dns-01",
         "present-dns-only.com",
         {at("present-dns-only.com", {rr(0, "issue", "letsencrypt.org; validationmethods=dns-01")})},
         le(),
         Verdict::forbidden,
         "validation-method-not-allowed",
         "present-dns-only.com",
         "0 issue \"letsencrypt.org; validationmethods=dns-01\""},
        {"validationmethods=http-01,dns-01",
         "present-http-or-dns.com",
         {at("present-http-or-dns.com", {rr(0, "issue", "letsencrypt.org; validationmethods=http-01,dns-01")})},
         le(),
         Verdict::permitted,
         "issuer-listed",
         "present-http-or-dns.com",
         "0 issue \"letsencrypt.org; validationmethods=http-01,dns-01\""},
        {"unknown method listed first",
         "example.jp",
         {at("example.jp", {rr(0, "issue", "letsencrypt.org; validationmethods=foo-01,http-01")})},
         le(),
         Verdict::permitted,
         "issuer-listed",
         "example.jp",
         "0 issue \"letsencrypt.org; validationmethods=foo-01,http-01\""},
        // Boulder checks the labels in order and stops at the first match.
        {"empty method label before http-01 rejects the property",
         "example.jp",
         {at("example.jp", {rr(0, "issue", "letsencrypt.org; validationmethods=dns-01,,http-01")})},
         le(),
         Verdict::forbidden,
         "validation-method-not-allowed",
         "example.jp",
         "0 issue \"letsencrypt.org; validationmethods=dns-01,,http-01\""},
        {"empty method label after http-01 is never reached",
         "example.jp",
         {at("example.jp", {rr(0, "issue", "letsencrypt.org; validationmethods=http-01,,dns-01")})},
         le(),
         Verdict::permitted,
         "issuer-listed",
         "example.jp",
         "0 issue \"letsencrypt.org; validationmethods=http-01,,dns-01\""},
        {"empty validationmethods",
         "example.jp",
         {at("example.jp", {rr(0, "issue", "letsencrypt.org; validationmethods=")})},
         le(),
         Verdict::forbidden,
         "validation-method-not-allowed",
         "example.jp",
         "0 issue \"letsencrypt.org; validationmethods=\""},
        {"method names are case-sensitive",
         "example.jp",
         {at("example.jp", {rr(0, "issue", "letsencrypt.org; validationmethods=HTTP-01")})},
         le(),
         Verdict::forbidden,
         "validation-method-not-allowed",
         "example.jp",
         "0 issue \"letsencrypt.org; validationmethods=HTTP-01\""},
        {"validationmethods given twice",
         "example.jp",
         {at("example.jp", {rr(0, "issue", "letsencrypt.org; validationmethods=http-01; validationmethods=http-01")})},
         le(),
         Verdict::forbidden,
         "validation-method-not-allowed",
         "example.jp",
         "0 issue \"letsencrypt.org; validationmethods=http-01; validationmethods=http-01\""},
        {"accounturi of this account",
         "present-correct-accounturi.com",
         {at("present-correct-accounturi.com", {rr(0, "issue", "letsencrypt.org;accounturi=" + kAccount)})},
         le(),
         Verdict::permitted,
         "issuer-listed",
         "present-correct-accounturi.com",
         "0 issue \"letsencrypt.org;accounturi=" + kAccount + "\""},
        {"accounturi of another account",
         "present-incorrect-accounturi.com",
         {at("present-incorrect-accounturi.com",
             {rr(0, "issue", "letsencrypt.org; accounturi=https://acme-v02.api.letsencrypt.org/acme/acct/321")})},
         le(),
         Verdict::forbidden,
         "account-uri-mismatch",
         "present-incorrect-accounturi.com",
         "0 issue \"letsencrypt.org; accounturi=https://acme-v02.api.letsencrypt.org/acme/acct/321\""},
        {"one of two accounturi properties",
         "present-multiple-accounturi.com",
         {at("present-multiple-accounturi.com",
             {rr(0, "issue", "letsencrypt.org; accounturi=https://acme-v02.api.letsencrypt.org/acme/acct/321"),
              rr(0, "issue", "letsencrypt.org; accounturi=" + kAccount)})},
         le(),
         Verdict::permitted,
         "issuer-listed",
         "present-multiple-accounturi.com",
         "0 issue \"letsencrypt.org; accounturi=" + kAccount + "\""},
        {"accounturi given twice",
         "example.jp",
         {at("example.jp", {rr(0, "issue", "letsencrypt.org; accounturi=" + kAccount + "; accounturi=" + kAccount)})},
         le(),
         Verdict::forbidden,
         "account-uri-mismatch",
         "example.jp",
         "0 issue \"letsencrypt.org; accounturi=" + kAccount + "; accounturi=" + kAccount + "\""},
        {"accounturi given twice, account unknown",
         "example.jp",
         {at("example.jp", {rr(0, "issue", "letsencrypt.org; accounturi=" + kAccount + "; accounturi=" + kAccount)})},
         issuer("letsencrypt.org"),
         Verdict::forbidden,
         "account-uri-mismatch",
         "example.jp",
         "0 issue \"letsencrypt.org; accounturi=" + kAccount + "; accounturi=" + kAccount + "\""},
        {"right account, wrong method",
         "present-dns-only-correct-accounturi.com",
         {at("present-dns-only-correct-accounturi.com",
             {rr(0, "issue", "letsencrypt.org; accounturi=" + kAccount + "; validationmethods=dns-01")})},
         le(),
         Verdict::forbidden,
         "validation-method-not-allowed",
         "present-dns-only-correct-accounturi.com",
         "0 issue \"letsencrypt.org; accounturi=" + kAccount + "; validationmethods=dns-01\""},
        {"account unknown, wrong method",
         "example.jp",
         {at("example.jp", {rr(0, "issue", "letsencrypt.org; accounturi=" + kAccount + "; validationmethods=dns-01")})},
         issuer("letsencrypt.org"),
         Verdict::forbidden,
         "validation-method-not-allowed",
         "example.jp",
         "0 issue \"letsencrypt.org; accounturi=" + kAccount + "; validationmethods=dns-01\""},
        {"a plain property beats an account-bound one",
         "example.jp",
         {at("example.jp",
             {rr(0, "issue", "letsencrypt.org; accounturi=" + kAccount), rr(0, "issue", "letsencrypt.org")})},
         issuer("letsencrypt.org"),
         Verdict::permitted,
         "issuer-listed",
         "example.jp",
         "0 issue \"letsencrypt.org\""},
        {"parameter tags are case-sensitive",
         "example.jp",
         {at("example.jp", {rr(0, "issue", "letsencrypt.org; ValidationMethods=dns-01")})},
         le(),
         Verdict::permitted,
         "issuer-listed",
         "example.jp",
         "0 issue \"letsencrypt.org; ValidationMethods=dns-01\""},
        {"any of the CA's issuer domains",
         "example.jp",
         {at("example.jp", {rr(0, "issue", "ca.example.net")})},
         [] {
           Policy p;
           p.issuer_domains = {"letsencrypt.org", "ca.example.net"};
           return p;
         }(),
         Verdict::permitted,
         "issuer-listed",
         "example.jp",
         "0 issue \"ca.example.net\""},
        {"bit 1 ignored when the policy says so",
         "example.jp",
         {at("example.jp", {rr(1, "foo", "bar"), rr(0, "issue", "letsencrypt.org")})},
         [] {
           Policy p;
           p.bit1_is_critical = false;
           return p;
         }(),
         Verdict::permitted,
         "issuer-listed",
         "example.jp",
         "0 issue \"letsencrypt.org\""},
    });
  }

  SUBCASE("wildcards") {
    check({
        {"issue applies when there is no issuewild",
         "*.present.com",
         {at("present.com", {rr(0, "issue", "letsencrypt.org")})},
         le(),
         Verdict::permitted,
         "issuer-listed",
         "present.com",
         "0 issue \"letsencrypt.org\""},
        {"unsatisfiable issue",
         "*.unsatisfiable.com",
         {at("unsatisfiable.com", {rr(0, "issue", ";")})},
         le(),
         Verdict::forbidden,
         "empty-issuer",
         "unsatisfiable.com",
         "0 issue \";\""},
        {"unsatisfiable issuewild",
         "*.unsatisfiable-wildcard.com",
         {at("unsatisfiable-wildcard.com", {rr(0, "issuewild", ";")})},
         le(),
         Verdict::forbidden,
         "empty-issuer",
         "unsatisfiable-wildcard.com",
         "0 issuewild \";\""},
        {"issuewild names another CA",
         "*.unsatisfiable-wildcard-override.com",
         {at("unsatisfiable-wildcard-override.com", {rr(0, "issue", "letsencrypt.org"), rr(0, "issuewild", "ca.com")})},
         le(),
         Verdict::forbidden,
         "issuer-not-listed",
         "unsatisfiable-wildcard-override.com",
         "0 issuewild \"ca.com\""},
        {"issuewild names this CA",
         "*.satisfiable-wildcard-override.com",
         {at("satisfiable-wildcard-override.com", {rr(0, "issue", "ca.com"), rr(0, "issuewild", "letsencrypt.org")})},
         le(),
         Verdict::permitted,
         "issuer-listed",
         "satisfiable-wildcard-override.com",
         "0 issuewild \"letsencrypt.org\""},
        {"second of two issuewild",
         "*.satisfiable-multi-wildcard.com",
         {at("satisfiable-multi-wildcard.com", {rr(0, "issuewild", "ca.com"), rr(0, "issuewild", "letsencrypt.org")})},
         le(),
         Verdict::permitted,
         "issuer-listed",
         "satisfiable-multi-wildcard.com",
         "0 issuewild \"letsencrypt.org\""},
        {"issuewild only, non-wildcard name",
         "example.jp",
         {at("example.jp", {rr(0, "issuewild", ";")})},
         le(),
         Verdict::permitted,
         "no-caa",
         "example.jp",
         ""},
        {"iodef only, wildcard name",
         "*.example.jp",
         {at("example.jp", {rr(0, "iodef", "mailto:a@example.jp")})},
         le(),
         Verdict::permitted,
         "no-caa",
         "example.jp",
         ""},
        {"issuewild with validationmethods",
         "*.example.com",
         {at("example.com", {rr(0, "issue", "letsencrypt.org; validationmethods=dns-01"),
                             rr(0, "issuewild", "letsencrypt.org; validationmethods=http-01")})},
         le(),
         Verdict::permitted,
         "issuer-listed",
         "example.com",
         "0 issuewild \"letsencrypt.org; validationmethods=http-01\""},
    });
  }

  SUBCASE("the climb") {
    check({
        {"empty set at the name, records at the parent",
         "child.present.com",
         {none("child.present.com"), at("present.com", {rr(0, "issue", "letsencrypt.org")}), none("com")},
         le(),
         Verdict::permitted,
         "issuer-listed",
         "present.com",
         "0 issue \"letsencrypt.org\""},
        {"NXDOMAIN at the name counts as empty",
         "nx.critical.com",
         {none("nx.critical.com"), at("critical.com", {rr(1, "issue", "ca.com")}), none("com")},
         le(),
         Verdict::forbidden,
         "issuer-not-listed",
         "critical.com",
         "1 issue \"ca.com\""},
        {"NOERROR with an empty answer list counts as empty",
         "www.example.jp",
         {at("www.example.jp", {}), at("example.jp", {rr(0, "issue", "letsencrypt.org")})},
         le(),
         Verdict::permitted,
         "issuer-listed",
         "example.jp",
         "0 issue \"letsencrypt.org\""},
        {"failure at the name",
         "caa-timeout.com",
         {failed("caa-timeout.com", "timeout"), none("com")},
         le(),
         Verdict::lookup_failed,
         "lookup-failed",
         "caa-timeout.com",
         "timeout"},
        {"failure below the relevant set",
         "servfail.present.com",
         {failed("servfail.present.com", "SERVFAIL"), at("present.com", {rr(0, "issue", "letsencrypt.org")})},
         le(),
         Verdict::lookup_failed,
         "lookup-failed",
         "servfail.present.com",
         "SERVFAIL"},
        {"failure between the name and the relevant set",
         "a.b.example.jp",
         {none("a.b.example.jp"), failed("b.example.jp", "REFUSED"), at("example.jp", {rr(0, "issue", ";")})},
         le(),
         Verdict::lookup_failed,
         "lookup-failed",
         "b.example.jp",
         "REFUSED"},
        {"failure above the relevant set is ignored",
         "present.servfail.com",
         {at("present.servfail.com", {rr(0, "issue", "letsencrypt.org")}), failed("servfail.com", "SERVFAIL"),
          none("com")},
         le(),
         Verdict::permitted,
         "issuer-listed",
         "present.servfail.com",
         "0 issue \"letsencrypt.org\""},
        {"failure at the TLD with no records below",
         "example.co.uk",
         {none("example.co.uk"), none("co.uk"), failed("uk", "timeout")},
         le(),
         Verdict::lookup_failed,
         "lookup-failed",
         "uk",
         "timeout"},
        {"records on a failed level are not used",
         "example.jp",
         {Level{"example.jp", LookupOutcome::failed, {rr(0, "issue", "letsencrypt.org")}, "malformed answer"}},
         le(),
         Verdict::lookup_failed,
         "lookup-failed",
         "example.jp",
         "malformed answer"},
        {"empty climb", "example.jp", {}, le(), Verdict::permitted, "no-caa", "", ""},
    });
  }
}

TEST_CASE("caa::decide relevant_set") {
  const std::vector<Record> set = {rr(0, "issue", "ca.com"), rr(0, "iodef", "mailto:a@example.jp")};
  const auto d = decide("www.example.jp",
                        {none("www.example.jp"), at("example.jp", set), at("jp", {rr(0, "issue", ";")})}, Policy{});
  REQUIRE(d.relevant_set.size() == 2);
  CHECK(d.relevant_set[0].value == "ca.com");
  CHECK(d.relevant_set[1].tag == "iodef");
  CHECK(decide("example.jp", {none("example.jp")}, Policy{}).relevant_set.empty());
}

TEST_CASE("caa::parse_issue_value") {
  using Params = std::vector<std::pair<std::string, std::string>>;
  SUBCASE("domain only") {
    const auto v = parse_issue_value("letsencrypt.org");
    CHECK(v.issuer_domain == "letsencrypt.org");
    CHECK(v.parameters.empty());
    CHECK(v.well_formed);
  }
  SUBCASE("parameters keep their order and duplicates") {
    const auto v = parse_issue_value(" ca.example.net ;\taccounturi = https://x/1 ; k=a=b; k=c ");
    CHECK(v.issuer_domain == "ca.example.net");
    CHECK(v.parameters == Params{{"accounturi", "https://x/1"}, {"k", "a=b"}, {"k", "c"}});
    CHECK(v.well_formed);
  }
  SUBCASE("empty issuer") {
    for (const auto* text : {";", "", " ; ", "\t"}) {
      CAPTURE(text);
      const auto v = parse_issue_value(text);
      CHECK(v.issuer_domain.empty());
      CHECK(v.parameters.empty());
      CHECK(v.well_formed);
    }
  }
  SUBCASE("empty issuer with a parameter") {
    const auto v = parse_issue_value("; accounturi=https://x/1");
    CHECK(v.issuer_domain.empty());
    CHECK(v.parameters == Params{{"accounturi", "https://x/1"}});
    CHECK(v.well_formed);
  }
  SUBCASE("empty parameter value") {
    const auto v = parse_issue_value("ca.example.net; k=");
    CHECK(v.parameters == Params{{"k", ""}});
    CHECK(v.well_formed);
  }
  SUBCASE("malformed parameters") {
    for (const auto* text :
         {"ca.example.net; foo", "ca.example.net;;", "ca.example.net; a_b=1", "ca.example.net; a-b=1",
          "ca.example.net; a=1 2", "ca.example.net; k=v;", "ca.example.net; a b=1", "ca.example.net; k=\xc3\xa9"}) {
      CAPTURE(text);
      const auto v = parse_issue_value(text);
      CHECK(v.issuer_domain == "ca.example.net");
      CHECK(v.parameters.empty());
      CHECK_FALSE(v.well_formed);
    }
  }
  SUBCASE("issuer domains against the RFC 8659 section 4.2 grammar") {
    for (const auto* text : {"a", "ca-1.example.net", "x--y.example", "123.example"}) {
      CAPTURE(text);
      CHECK(parse_issue_value(text).well_formed);
    }
    for (const auto* text : {"letsencrypt.org.", "-ca.example", "ca-.example", "ca..example", ".example",
                             "ca_1.example", "letsencrypt.org x=1", "\xe4\xbe\x8b.jp"}) {
      CAPTURE(text);
      const auto v = parse_issue_value(text);
      CHECK(v.issuer_domain == text);
      CHECK_FALSE(v.well_formed);
    }
  }
}

TEST_CASE("caa::verdict_name") {
  CHECK(verdict_name(Verdict::permitted) == "permitted");
  CHECK(verdict_name(Verdict::permitted_if_account) == "permitted-if-account");
  CHECK(verdict_name(Verdict::forbidden) == "forbidden");
  CHECK(verdict_name(Verdict::lookup_failed) == "lookup-failed");
}

TEST_CASE("caa::presentation") {
  CHECK(presentation(rr(0, "issue", "letsencrypt.org")) == "0 issue \"letsencrypt.org\"");
  CHECK(presentation(rr(128, "tbs", "Unknown")) == "128 tbs \"Unknown\"");
  CHECK(presentation(rr(255, "x", "a\"b\\c")) == "255 x \"a\\\"b\\\\c\"");
  CHECK(presentation(rr(0, "issue", std::string("a\0b\n\xff", 5))) == "0 issue \"a\\000b\\010\\255\"");
  CHECK(presentation(rr(0, "a b", "")) == "0 a\\032b \"\"");
}
