#include <doctest/doctest.h>

#include <cctype>
#include <filesystem>
#include <set>
#include <string>

#include "report/html.hpp"

using namespace certdoctor;
using nlohmann::json;

namespace {

std::size_t count(const std::string& haystack, const std::string& needle) {
  std::size_t n = 0;
  for (auto p = haystack.find(needle); p != std::string::npos; p = haystack.find(needle, p + needle.size())) ++n;
  return n;
}

const std::string fffd = "\xEF\xBF\xBD";
const std::string hostile = "<script>alert('x')</script><img src=x onerror=alert(1)>";

// A view as derive() gives it, cut to what the pictures read: apex with an AAAA the CA dials
// first (refused) and an A it falls back to (a redirect loop); www without any address; one
// nameserver that does not answer for the zone.
json sample_view() {
  const std::string token = "AbCdEfGhIjKlMnOpQrStUvWxYz0123456789abcdefg";
  const std::string url = "http://example.jp/.well-known/acme-challenge/" + token;
  const std::string www_url = "http://www.example.jp/.well-known/acme-challenge/" + token;
  return {
      {"ca", {{"name", "Let's Encrypt"}, {"address_preference", "ipv6-first"}, {"http01", {{"ipv4_fallback", true}}}}},
      {"provider", {{"id", "sakura"}}},
      {"names",
       {{{"name", "example.jp"}, {"display", "example.jp"}, {"role", "apex"}, {"status", "ok"},
         {"ca_first_address", "2001:db8::1"}, {"ca_fallback_address", "203.0.113.10"},
         {"addresses",
          {{{"address", "203.0.113.10"}, {"family", 4}, {"unreachable", false}, {"reserved_name", ""}},
           {{"address", "127.0.0.1"}, {"family", 4}, {"unreachable", true}, {"reserved_name", "Loopback"}},
           {{"address", "2001:db8::1"}, {"family", 6}, {"unreachable", false}, {"reserved_name", ""}}}}},
        {{"name", "www.example.jp"}, {"display", "www.example.jp"}, {"role", "www"}, {"status", "nxdomain"},
         {"ca_first_address", nullptr}, {"ca_fallback_address", nullptr}}}},
      {"web",
       {{"token", token},
        {"challenges",
         {// The A chain first in the view: the picture puts the CA's first address first.
          {{"name", "example.jp"}, {"family", "ipv4"}, {"address", "203.0.113.10"}, {"ca_role", "decisive"},
           {"cause", "redirect-invalid"}, {"violation", "loop"}, {"unreachable_kind", ""}, {"redirects", 1},
           {"off_host", false}, {"no_site", false},
           {"hops",
            {{{"url", url}, {"status", 302}, {"server", hostile}, {"outcome", "response"}, {"location", www_url}},
             {{"url", www_url}, {"status", 302}, {"server", "nginx"}, {"outcome", "response"}, {"location", url}},
             {{"url", url}, {"status", 302}, {"server", "nginx"}, {"outcome", "response"}, {"location", www_url}}}}},
          {{"name", "example.jp"}, {"family", "ipv6"}, {"address", "2001:db8::1"}, {"ca_role", "fallen-back"},
           {"cause", "unreachable"}, {"violation", ""}, {"unreachable_kind", "refused"}, {"redirects", 0},
           {"off_host", false}, {"no_site", false},
           {"hops", {{{"url", url}, {"status", 0}, {"server", ""}, {"outcome", "refused"}, {"location", ""}}}}}}}}},
      {"delegation",
       {{"zone", "example.jp"}, {"parent_zone", "jp"}, {"status", "delegated"}, {"ns_is_provider", true},
        {"parent_ns", {"ns1.dns.ne.jp", "ns2.dns.ne.jp"}}, {"child_ns", {"ns1.dns.ne.jp", "ns3.dns.ne.jp"}},
        {"lame_servers", {{{"name", "ns2.dns.ne.jp"}, {"reason", "REFUSED"}}}}}}};
}

std::vector<report::RenderedFinding> sample_paragraphs() {
  report::RenderedFinding loop{"http-redirect-invalid", "error", "The redirects of example.jp go round in a loop",
                               "Remove one of the two rules; check with `curl -I http://example.jp/`.",
                               {{"name", "example.jp"}, {"address", "203.0.113.10"}, {"server", hostile}},
                               "boulder", "Boulder", ""};
  report::RenderedFinding expired{"cert-expired", "warning", "The certificate of example.jp has expired", "Renew it.",
                                  {{"name", "example.jp"}}, "le", "LE", ""};
  report::RenderedFinding nx{"dns-nxdomain", "error", "www.example.jp does not exist", "Add it.",
                             {{"name", "www.example.jp"}}, "rfc", "RFC", ""};
  report::RenderedFinding lame{"ns-lame", "warning", "A nameserver does not answer", "Fix ns2.",
                               {{"zone", "example.jp"}, {"lame", {"ns2.dns.ne.jp: REFUSED"}}}, "rfc", "RFC", ""};
  report::RenderedFinding follows{"dns-servfail", "info", "Follows", "-", {{"domain", "example.jp"}}, "rfc", "RFC",
                                  "ns-lame"};
  return {loop, expired, nx, lame, follows};
}

const report::Labels& shipped_labels() {
  static const report::Labels labels =
      report::Labels::load(std::filesystem::path(CERTDOCTOR_SOURCE_RULES_DIR).parent_path() / "reports");
  return labels;
}

report::Report sample_report(const std::string& lang) {
  report::Report r;
  r.lang = lang;
  r.domain = "example.jp";
  r.domain_display = "example.jp";
  r.names = {{{"name", "example.jp"}, {"display", "example.jp"}, {"role", "apex"}},
             {{"name", "www.example.jp"}, {"display", "www.example.jp"}, {"role", "www"}}};
  r.verdict = "fail";
  r.provider_id = "sakura";
  r.provider_name = "Sakura Internet";
  r.provider_source = "nameservers";
  r.host_addresses = {"203.0.113.10"};
  r.host_source = "option";
  r.host_how = json::array({{{"key", "ptr"}, {"name", hostile}, {"addresses", "203.0.113.10"}, {"said", ""}}});
  r.paragraphs = sample_paragraphs();
  r.findings = r.paragraphs;
  r.replayed = true;
  r.collected_at = "2026-11-20T05:03:00Z";
  r.picture = report::picture_of(sample_view(), r.paragraphs);
  return r;
}

} // namespace

TEST_CASE("report::escape_html") {
  SUBCASE("markup and quotes become character references") {
    CHECK(report::escape_html(hostile) ==
          "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;");
    CHECK(report::escape_html("a \"b\" & c") == "a &quot;b&quot; &amp; c");
    CHECK(report::escape_html("&amp;") == "&amp;amp;");  // escaped once more, never taken as escaped
    CHECK(report::escape_html("") == "");
  }
  SUBCASE("control characters are shown, a newline and a tab kept") {
    CHECK(report::escape_html("red\x1b[31m") == "red\\x1B[31m");
    CHECK(report::escape_html(std::string("a\0b", 3)) == "a\\x00b");
    CHECK(report::escape_html("a\x7f") == "a\\x7F");
    CHECK(report::escape_html("a\rb") == "a\\x0Db");
    CHECK(report::escape_html("line\nnext\tcell") == "line\nnext\tcell");
    CHECK(report::escape_html("\xC2\x85next") == "\\x85next");  // C1 NEL
    CHECK(report::escape_html("\xC2\xA0") == "\xC2\xA0");       // U+00A0 is text
  }
  SUBCASE("valid UTF-8 is kept") {
    CHECK(report::escape_html("日本語のドメイン/SSL") == "日本語のドメイン/SSL");
    CHECK(report::escape_html("\xF0\x9F\x94\x92 lock") == "\xF0\x9F\x94\x92 lock");
  }
  SUBCASE("bytes that are not UTF-8 become U+FFFD, one per byte") {
    CHECK(report::escape_html("a\xff" "b") == "a" + fffd + "b");
    CHECK(report::escape_html("\xC0\xAF") == fffd + fffd);              // overlong '/'
    CHECK(report::escape_html("\xE0\x80\xBC") == fffd + fffd + fffd);   // overlong '<'
    CHECK(report::escape_html("\xED\xA0\x80") == fffd + fffd + fffd);   // a UTF-16 surrogate
    CHECK(report::escape_html("\xF4\x90\x80\x80") == fffd + fffd + fffd + fffd);  // above U+10FFFF
    CHECK(report::escape_html("\xE3\x81") == fffd + fffd);               // cut short at the end
    CHECK(report::escape_html("\xE3\x81<") == fffd + fffd + "&lt;");     // cut short before markup
  }
}

TEST_CASE("report::picture_of") {
  const json p = report::picture_of(sample_view(), sample_paragraphs());
  CHECK(p["ca"]["name"] == "Let's Encrypt");
  REQUIRE(p["names"].size() == 2);
  const json& apex = p["names"][0];
  REQUIRE(apex["addresses"].size() == 3);
  SUBCASE("the CA's order: the address dialled first, then the one after a failure") {
    CHECK(apex["addresses"][0]["address"] == "2001:db8::1");
    CHECK(apex["addresses"][0]["order"] == "first");
    CHECK(apex["addresses"][0]["ca_role"] == "fallen-back");
    CHECK(apex["addresses"][1]["address"] == "203.0.113.10");
    CHECK(apex["addresses"][1]["order"] == "fallback");
    // An address DNS gave that the check did not request (a reserved one) is shown, unrequested.
    CHECK(apex["addresses"][2]["address"] == "127.0.0.1");
    CHECK(apex["addresses"][2]["order"] == "none");
    CHECK_FALSE(apex["addresses"][2]["requested"].get<bool>());
    CHECK(apex["addresses"][2]["unreachable"].get<bool>());
    CHECK(apex["addresses"][2]["state"] == "unused");
    CHECK(apex["addresses"][2]["hops"].empty());
  }
  SUBCASE("the step where the CA stops is marked, what follows it is not followed") {
    const json& hops = apex["addresses"][1]["hops"];
    REQUIRE(hops.size() == 3);
    CHECK_FALSE(hops[0]["failing"].get<bool>());
    CHECK(hops[1]["failing"].get<bool>());
    CHECK(hops[1]["followed"].get<bool>());
    CHECK_FALSE(hops[2]["followed"].get<bool>());
    CHECK(apex["addresses"][0]["hops"][0]["failing"].get<bool>());  // the refused connection
  }
  SUBCASE("findings beside their step when they name its address, else beside their name") {
    CHECK(apex["addresses"][1]["findings"] == json::array({0}));
    CHECK(apex["addresses"][1]["state"] == "error");
    // The refused IPv6 attempt is not what decides, and no finding names its address.
    CHECK(apex["addresses"][0]["findings"].empty());
    CHECK(apex["addresses"][0]["state"] == "stopped");
    // A finding about the name that no step explains (the certificate) stays beside the name.
    CHECK(apex["findings"] == json::array({1}));
  }
  SUBCASE("a name without addresses, and the delegation") {
    const json& www = p["names"][1];
    CHECK(www["addresses"].empty());
    CHECK(www["status"] == "nxdomain");
    CHECK(www["findings"] == json::array({2}));
    const json& d = p["delegation"];
    CHECK(d["findings"] == json::array({3}));  // nameserver evidence; the info finding names no nameserver
    CHECK(d["provider_recognised"].get<bool>());
    REQUIRE(d["servers"].size() == 3);
    CHECK(d["servers"][1]["name"] == "ns2.dns.ne.jp");
    CHECK(d["servers"][1]["lame"].get<bool>());
    CHECK(d["servers"][1]["reason"] == "REFUSED");
    CHECK(d["servers"][2]["name"] == "ns3.dns.ne.jp");
    CHECK_FALSE(d["servers"][2]["in_parent"].get<bool>());
  }
  SUBCASE("an empty view gives an empty picture, not an exception") {
    const json empty = report::picture_of(json::object(), {});
    CHECK(empty["names"].empty());
    CHECK(empty["delegation"]["servers"].empty());
  }
}

TEST_CASE("report::render_html") {
  for (const std::string lang : {"en", "ja"}) {
    CAPTURE(lang);
    const std::string page = report::render_html(sample_report(lang), shipped_labels());
    SUBCASE("one self-contained page under a strict policy") {
      CHECK(page.rfind("<!DOCTYPE html>\n<html lang=\"" + lang + "\">", 0) == 0);
      CHECK(page.find("default-src 'none'; style-src " + report::html_style_hash()) != std::string::npos);
      CHECK(page.find("<style>" + report::html_style() + "</style>") != std::string::npos);
      CHECK(count(page, "<style") == 1);
      CHECK(count(page, "<script") == 0);
      CHECK(count(page, " style=") == 0);  // an attribute style would need 'unsafe-inline'
      // Every element is one the renderer writes: nothing from the data became markup.
      const std::set<std::string> allowed = {"!DOCTYPE", "html", "head", "meta", "title", "style", "body", "header",
                                             "h1", "h2", "h3", "h4", "div", "p", "dl", "dt", "dd", "ul", "ol", "li",
                                             "span", "small", "main", "section", "article", "footer", "a", "code"};
      for (std::size_t lt = page.find('<'); lt != std::string::npos; lt = page.find('<', lt + 1)) {
        std::size_t b = lt + 1 + (page[lt + 1] == '/' ? 1 : 0);
        std::size_t e = b;
        while (e < page.size() && (std::isalnum(static_cast<unsigned char>(page[e])) || page[e] == '!')) ++e;
        const std::string tag = page.substr(b, e - b);
        CHECK_MESSAGE(allowed.count(tag) == 1, "element <", tag, "> at ", lt);
      }
      CHECK(count(page, "href=\"") == count(page, "href=\"#f"));  // links stay on the page
      CHECK(page.find("url(") == std::string::npos);
      CHECK(report::html_style_hash().size() == std::string("'sha256-").size() + 44 + 1);
    }
    SUBCASE("what came from the network is text") {
      CHECK(page.find("<img") == std::string::npos);
      CHECK(count(page, "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;") >= 3);
    }
    SUBCASE("the findings in the report's order, each with its anchor and the fix beside its step") {
      std::size_t at = 0;
      for (std::size_t i = 0; i < 5; ++i) {
        const auto pos = page.find("id=\"f" + std::to_string(i) + "\"", at);
        REQUIRE(pos != std::string::npos);
        at = pos;
      }
      CHECK(page.find("class=\"finding sev-info follows\" id=\"f4\"") != std::string::npos);
      CHECK(page.find("<code>curl -I http://example.jp/</code>") != std::string::npos);
      CHECK(count(page, "href=\"#f0\"") == 1);
      CHECK(count(page, "href=\"#f3\"") == 1);
      CHECK(count(page, "class=\"hop failing\"") == 2);
      CHECK(count(page, "class=\"hop skipped\"") == 1);
      CHECK(page.find("AbCdEf…") != std::string::npos);  // the token shortened
      CHECK(page.find("class=\"addr st-error\"") < page.find("id=\"delegation\""));
      CHECK(page.find("<li class=\"lame\">ns2.dns.ne.jp") != std::string::npos);
      // The address the CA never dials, listed with the others of its kind.
      const auto others = page.find("<li class=\"addr others st-unused\">");
      REQUIRE(others != std::string::npos);
      CHECK(page.find("<p class=\"addr-list\">127.0.0.1</p>", others) != std::string::npos);
    }
    SUBCASE("verdict and replay in the report's language") {
      CHECK(page.find(report::escape_html(shipped_labels().get(lang, "verdicts.fail"))) != std::string::npos);
      CHECK(page.find("2026-11-20 14:03 JST") != std::string::npos);
      CHECK(page.find(report::escape_html(shipped_labels().get(lang, "html.order.first"))) != std::string::npos);
    }
  }
}

TEST_CASE("report::render_html_section: several checks on one page") {
  const report::Report r = sample_report("en");
  const std::string a = report::render_html_section(r, shipped_labels(), "c0-");
  const std::string b = report::render_html_section(r, shipped_labels(), "c1-");
  // A section, not a page: no document, no second <main> or <h1>.
  CHECK(a.rfind("<section class=\"check\" id=\"c0-check\">", 0) == 0);
  CHECK(a.find("<!DOCTYPE") == std::string::npos);
  CHECK(count(a, "<main") == 0);
  CHECK(count(a, "<h1") == 0);
  CHECK(count(a, "<h2>") == 1);  // the check's heading, one level under the page's
  // Every id and in-page link carries the prefix, so the two sections never share one.
  CHECK(count(a, " id=\"") == count(a, " id=\"c0-"));
  CHECK(count(a, "href=\"#") == count(a, "href=\"#c0-f"));
  CHECK(count(a, "href=\"#") > 0);
  CHECK(a.find("id=\"c0-f4\"") != std::string::npos);
  CHECK(b.find("id=\"c0-") == std::string::npos);
  // The same findings and pictures as the page of that check.
  CHECK(count(a, "class=\"hop failing\"") == 2);
  CHECK(count(a, "<article class=\"finding") == 5);
  // The page form keeps its ids unprefixed.
  const std::string page = report::render_html(r, shipped_labels());
  CHECK(page.find("id=\"verdict\"") != std::string::npos);
  CHECK(page.find("id=\"f0\"") != std::string::npos);
  const std::string head = report::html_document_head("ja", "<x>");
  CHECK(head.find("<title>&lt;x&gt;</title>") != std::string::npos);
  CHECK(head.find("<html lang=\"ja\">") != std::string::npos);
}
