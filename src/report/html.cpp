#include "report/html.hpp"

#include <stdexcept>
#include <algorithm>
#include <array>
#include <sstream>

#include <openssl/evp.h>

namespace certdoctor::report {

using nlohmann::json;

// --- escaping -----------------------------------------------------------------------------------

namespace {

// The length of the valid UTF-8 sequence at s[i] (RFC 3629: no overlong forms, no surrogates,
// nothing above U+10FFFF), or 0 when the bytes there are not one.
std::size_t utf8_length(std::string_view s, std::size_t i) {
  const auto b = [&](std::size_t k) { return static_cast<unsigned char>(s[i + k]); };
  const auto cont = [&](std::size_t k) { return i + k < s.size() && (b(k) & 0xC0) == 0x80; };
  const unsigned char c = b(0);
  if (c < 0x80) return 1;
  if (c >= 0xC2 && c <= 0xDF) return cont(1) ? 2 : 0;
  if (c >= 0xE0 && c <= 0xEF) {
    if (!cont(1) || !cont(2)) return 0;
    if (c == 0xE0 && b(1) < 0xA0) return 0;  // overlong
    if (c == 0xED && b(1) >= 0xA0) return 0; // UTF-16 surrogate
    return 3;
  }
  if (c >= 0xF0 && c <= 0xF4) {
    if (!cont(1) || !cont(2) || !cont(3)) return 0;
    if (c == 0xF0 && b(1) < 0x90) return 0;  // overlong
    if (c == 0xF4 && b(1) >= 0x90) return 0; // above U+10FFFF
    return 4;
  }
  return 0;
}

std::string hex_escape(unsigned v) {
  static const char* digits = "0123456789ABCDEF";
  return std::string("\\x") + digits[(v >> 4) & 0xF] + digits[v & 0xF];
}

} // namespace

std::string escape_html(std::string_view text) {
  std::string out;
  out.reserve(text.size() + text.size() / 8);
  for (std::size_t i = 0; i < text.size();) {
    const std::size_t n = utf8_length(text, i);
    if (n == 0) {
      out += "\xEF\xBF\xBD";  // U+FFFD for a byte that is not UTF-8
      ++i;
      continue;
    }
    if (n == 1) {
      const char c = text[i];
      switch (c) {
        case '&': out += "&amp;"; break;
        case '<': out += "&lt;"; break;
        case '>': out += "&gt;"; break;
        case '"': out += "&quot;"; break;
        case '\'': out += "&#39;"; break;
        case '\n': case '\t': out += c; break;
        default:
          if (static_cast<unsigned char>(c) < 0x20 || c == 0x7F) out += hex_escape(static_cast<unsigned char>(c));
          else out += c;
      }
    } else if (n == 2 && static_cast<unsigned char>(text[i]) == 0xC2 && static_cast<unsigned char>(text[i + 1]) < 0xA0) {
      out += hex_escape(static_cast<unsigned char>(text[i + 1]));  // a C1 control character
    } else {
      out.append(text.substr(i, n));
    }
    i += n;
  }
  return out;
}

// --- the picture's data, from the view ----------------------------------------------------------

namespace {

std::string str(const json& j, const char* key) {
  if (!j.is_object() || !j.contains(key)) return "";
  const json& v = j[key];
  return v.is_string() ? v.get<std::string>() : "";
}

// True when the evidence value at `key` is `value` or a list holding it.
bool mentions(const json& evidence, const char* key, const std::string& value) {
  if (value.empty() || !evidence.is_object() || !evidence.contains(key)) return false;
  const json& v = evidence[key];
  if (v.is_string()) return v.get<std::string>() == value;
  if (v.is_array())
    for (const auto& x : v)
      if (x.is_string() && x.get<std::string>() == value) return true;
  return false;
}

bool has_any(const json& evidence, std::initializer_list<const char*> keys) {
  for (const char* k : keys)
    if (evidence.is_object() && evidence.contains(k)) {
      const json& v = evidence[k];
      if (!v.is_null() && !(v.is_string() && v.get<std::string>().empty()) && !(v.is_array() && v.empty())) return true;
    }
  return false;
}

constexpr std::initializer_list<const char*> nameserver_keys = {"lame", "answering", "ns", "parent_ns", "child_ns",
                                                                "only_parent", "only_child", "provider_ns"};

int rank(const std::string& severity) { return severity == "error" ? 2 : severity == "warning" ? 1 : 0; }

} // namespace

json picture_of(const json& view, const std::vector<RenderedFinding>& paragraphs) {
  json out;
  const json ca = view.value("ca", json::object());
  bool fallback = true;
  if (ca.contains("http01") && ca["http01"].is_object() && ca["http01"].contains("ipv4_fallback") &&
      ca["http01"]["ipv4_fallback"].is_boolean())
    fallback = ca["http01"]["ipv4_fallback"].get<bool>();
  out["ca"] = {{"name", ca.contains("name") && ca["name"].is_string() ? ca["name"].get<std::string>() : str(ca, "id")},
               {"address_preference", str(ca, "address_preference")},
               {"ipv4_fallback", fallback}};
  const json web = view.value("web", json::object());
  out["token"] = str(web, "token");
  const json challenges = web.value("challenges", json::array());

  std::vector<bool> placed(paragraphs.size(), false);
  json names = json::array();
  for (const auto& n : view.value("names", json::array())) {
    json name = {{"name", str(n, "name")}, {"display", str(n, "display")}, {"role", str(n, "role")},
                 {"status", str(n, "status")}, {"first", str(n, "ca_first_address")},
                 {"fallback", str(n, "ca_fallback_address")}, {"addresses", json::array()},
                 {"findings", json::array()}};
    // The CA's order: the address it dials first, the one after a failure, then the others.
    // Every address DNS gave the name, with the walk the probe recorded at it (none for an
    // address the check did not request, such as a reserved one), and any walk at an address
    // DNS did not list.
    struct Entry {
      std::string address, family;
      const json* dns = nullptr;
      const json* chain = nullptr;
    };
    std::vector<Entry> entries;
    const json dns_addresses = n.value("addresses", json::array());
    for (const auto& d : dns_addresses)
      entries.push_back({str(d, "address"), d.value("family", 4) == 6 ? "ipv6" : "ipv4", &d, nullptr});
    for (const auto& c : challenges) {
      if (str(c, "name") != name["name"]) continue;
      auto it = std::find_if(entries.begin(), entries.end(),
                             [&](const Entry& e) { return e.address == str(c, "address") && !e.chain; });
      if (it != entries.end()) it->chain = &c;
      else entries.push_back({str(c, "address"), str(c, "family"), nullptr, &c});
    }
    const auto order_of = [&](const Entry& e) { return e.address == name["first"] ? 0 : e.address == name["fallback"] ? 1 : 2; };
    std::stable_sort(entries.begin(), entries.end(), [&](const Entry& x, const Entry& y) { return order_of(x) < order_of(y); });
    for (const Entry& e : entries) {
      const json c = e.chain ? *e.chain : json::object();
      const int order = order_of(e);
      const std::string cause = str(c, "cause");
      const std::string role = e.chain ? str(c, "ca_role") : "";
      const json hops_in = c.value("hops", json::array());
      const int end = std::clamp(c.value("redirects", 0), 0, std::max(0, static_cast<int>(hops_in.size()) - 1));
      json a = {{"address", e.address}, {"family", e.family},
                {"order", order == 0 ? "first" : order == 1 ? "fallback" : "none"}, {"ca_role", role},
                {"requested", e.chain != nullptr}, {"cause", cause}, {"kind", str(c, "unreachable_kind")},
                {"violation", str(c, "violation")}, {"off_host", c.value("off_host", false)},
                {"no_site", c.value("no_site", false)}, {"end", end},
                {"unreachable", e.dns ? e.dns->value("unreachable", false) : false},
                {"reserved_name", e.dns ? str(*e.dns, "reserved_name") : ""},
                {"findings", json::array()}};
      json hops = json::array();
      for (std::size_t i = 0; i < hops_in.size(); ++i) {
        const json& h = hops_in[i];
        hops.push_back({{"url", str(h, "url")}, {"status", h.value("status", 0)}, {"server", str(h, "server")},
                        {"outcome", str(h, "outcome")}, {"location", str(h, "location")},
                        {"followed", static_cast<int>(i) <= end},
                        {"failing", static_cast<int>(i) == end && cause != "ok" && !cause.empty()}});
      }
      a["hops"] = hops;
      int worst = -1;
      for (std::size_t i = 0; i < paragraphs.size(); ++i) {
        const json& ev = paragraphs[i].evidence;
        if (!mentions(ev, "name", name["name"])) continue;
        if (!mentions(ev, "address", e.address) && !mentions(ev, "addresses", e.address) && !mentions(ev, "stray", e.address))
          continue;
        a["findings"].push_back(i);
        placed[i] = true;
        worst = std::max(worst, rank(paragraphs[i].severity));
      }
      std::string state = worst == 2 ? "error" : worst == 1 ? "warning" : "";
      if (state.empty()) state = !e.chain || role == "unused" ? "unused" : cause != "ok" ? "stopped" : "ok";
      a["state"] = state;
      name["addresses"].push_back(std::move(a));
    }
    names.push_back(std::move(name));
  }
  // What the walk of no address explains: beside its name, or beside the delegation.
  json delegation_findings = json::array();
  for (std::size_t i = 0; i < paragraphs.size(); ++i) {
    if (placed[i]) continue;
    const json& ev = paragraphs[i].evidence;
    bool beside_name = false;
    for (auto& name : names)
      if (mentions(ev, "name", name["name"])) {
        name["findings"].push_back(i);
        beside_name = true;
      }
    if (!beside_name && has_any(ev, nameserver_keys)) delegation_findings.push_back(i);
  }
  out["names"] = names;

  const json d = view.value("delegation", json::object());
  json servers = json::array();
  std::vector<std::string> seen;
  const auto lame_reason = [&](const std::string& ns) -> std::string {
    for (const auto& l : d.value("lame_servers", json::array()))
      if (str(l, "name") == ns) return str(l, "reason").empty() ? "lame" : str(l, "reason");
    return "";
  };
  const auto add_server = [&](const std::string& ns) {
    if (ns.empty() || std::find(seen.begin(), seen.end(), ns) != seen.end()) return;
    seen.push_back(ns);
    const json parent = d.value("parent_ns", json::array()), child = d.value("child_ns", json::array());
    const bool in_parent = std::find(parent.begin(), parent.end(), ns) != parent.end();
    const bool in_child = std::find(child.begin(), child.end(), ns) != child.end();
    const std::string reason = lame_reason(ns);
    servers.push_back({{"name", ns}, {"in_parent", in_parent}, {"in_child", in_child}, {"lame", !reason.empty()},
                       {"reason", reason}});
  };
  for (const auto& ns : d.value("parent_ns", json::array()))
    if (ns.is_string()) add_server(ns.get<std::string>());
  for (const auto& ns : d.value("child_ns", json::array()))
    if (ns.is_string()) add_server(ns.get<std::string>());
  const json provider = view.value("provider", json::object());
  out["delegation"] = {{"zone", str(d, "zone")}, {"parent_zone", str(d, "parent_zone")}, {"status", str(d, "status")},
                       {"provider_recognised", d.value("ns_is_provider", false)}, {"provider_id", str(provider, "id")},
                       {"servers", servers}, {"findings", delegation_findings}};
  return out;
}

// --- the page -----------------------------------------------------------------------------------

const std::string& html_style() {
  static const std::string css = R"CSS(
:root{--ink:#1d232b;--muted:#5b6673;--line:#d5dbe2;--bg:#f5f7f9;--card:#fff;--err:#b42318;--err-bg:#fdecea;--warn:#9a5b00;--warn-bg:#fff4dd;--ok:#17703a;--ok-bg:#e6f4ea;--info:#1f5f99;--info-bg:#e8f1fa}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--ink);font:15px/1.6 system-ui,-apple-system,"Segoe UI","Hiragino Sans","Noto Sans CJK JP","Yu Gothic","IPAGothic",sans-serif}
header.page{padding:20px 28px;border-bottom:4px solid var(--line);background:var(--card)}
header.page.v-fail,header.page.v-incomplete{border-color:var(--err)}header.page.v-warning{border-color:#e0a100}header.page.v-ok{border-color:var(--ok)}
h1{margin:0 0 6px;font-size:22px;word-break:break-all}
.verdict{display:inline-block;margin:4px 0;padding:6px 14px;border-radius:6px;font-weight:700;font-size:17px}
.v-fail .verdict,.v-incomplete .verdict{background:var(--err-bg);color:var(--err)}.v-warning .verdict{background:var(--warn-bg);color:var(--warn)}.v-ok .verdict{background:var(--ok-bg);color:var(--ok)}
.replay{margin:8px 0 0;color:var(--muted);font-size:13px}
dl.summary{display:grid;grid-template-columns:max-content 1fr;gap:2px 16px;margin:12px 0 0;font-size:14px}
dl.summary dt{color:var(--muted)}dl.summary dd{margin:0;overflow-wrap:anywhere}
dl.summary ul{margin:0;padding-left:18px}
main,div.main{display:grid;grid-template-columns:minmax(0,1fr);gap:24px;padding:20px 28px}
@media (min-width:1100px){main,div.main{grid-template-columns:minmax(0,11fr) minmax(0,9fr)}}
h2{font-size:17px;margin:0 0 10px}
.finding{background:var(--card);border:1px solid var(--line);border-left:6px solid var(--info);border-radius:6px;padding:12px 16px;margin:0 0 14px}
.finding.sev-error{border-left-color:var(--err)}.finding.sev-warning{border-left-color:#e0a100}
.finding.follows{margin-left:28px}
.finding h3{margin:0;font-size:16px;line-height:1.45}
.badge{display:inline-block;font-size:12px;font-weight:700;padding:1px 8px;border-radius:10px;margin-right:6px;vertical-align:2px}
.sev-error .badge,.badge.error{background:var(--err-bg);color:var(--err)}.sev-warning .badge,.badge.warning{background:var(--warn-bg);color:var(--warn)}.sev-info .badge{background:var(--info-bg);color:var(--info)}
.rid{font:12px ui-monospace,Menlo,Consolas,monospace;color:var(--muted);margin-left:6px;white-space:nowrap}
.follow-note{margin:4px 0 0;color:var(--muted);font-size:13px}
dl.evidence{display:grid;grid-template-columns:max-content minmax(0,1fr);gap:2px 12px;margin:10px 0;font-size:13px;background:var(--bg);padding:8px 10px;border-radius:4px}
dl.evidence dt{color:var(--muted)}dl.evidence dd{margin:0;font-family:ui-monospace,Menlo,Consolas,monospace;overflow-wrap:anywhere;white-space:pre-wrap}
.fix{margin:8px 0 0}.fix h4{margin:0;font-size:13px;color:var(--muted)}.fix p{margin:2px 0 0}
code{font:13px ui-monospace,Menlo,Consolas,monospace;background:var(--bg);padding:0 3px;border-radius:3px;overflow-wrap:anywhere}
.source{margin:8px 0 0;font-size:12px;color:var(--muted)}
.card{background:var(--card);border:1px solid var(--line);border-radius:6px;padding:12px 16px;margin:0 0 16px}
.card>p.intro{margin:0 0 10px;color:var(--muted);font-size:13px}
.name{margin:0 0 14px}.name:last-child{margin-bottom:0}
.name-head{font-weight:700;font-size:15px;overflow-wrap:anywhere}.name-head small{font-weight:400;color:var(--muted);margin-left:6px}
ol.addrs{list-style:none;margin:6px 0 0;padding:0 0 0 14px;border-left:2px solid var(--line)}
li.addr{margin:0 0 10px;padding:8px 10px;border:1px solid var(--line);border-radius:6px;background:#fff}
li.addr.st-error{border-color:var(--err);background:var(--err-bg)}li.addr.st-warning{border-color:#e0a100;background:var(--warn-bg)}
li.addr.st-stopped{border-color:var(--warn)}li.addr.st-unused{opacity:.62;border-style:dashed}
.addr-head{font-family:ui-monospace,Menlo,Consolas,monospace;font-weight:700;overflow-wrap:anywhere}
.addr-head .how{font-family:system-ui,sans-serif;font-weight:400;font-size:12px;color:var(--muted);margin-left:8px}
ol.hops{list-style:none;margin:6px 0 0;padding:0}
li.hop{position:relative;margin:0;padding:3px 0 3px 22px;font-size:13px}
li.hop::before{content:"\2193";position:absolute;left:4px;top:3px;color:var(--muted)}
li.hop.skipped{opacity:.55}
li.hop.failing{font-weight:700;color:var(--err)}li.hop.failing::before{content:"\2717";color:var(--err)}
.st{display:inline-block;min-width:34px;font-family:ui-monospace,Menlo,Consolas,monospace;font-weight:700}
.srv{color:var(--muted);margin-right:6px}
.url{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:12px;overflow-wrap:anywhere;font-weight:400}
.mark{font-size:12px;margin-left:6px}
.result{margin:6px 0 0;font-size:13px}
li.addr.others .addr-head{font-family:inherit;font-weight:400;font-size:13px;color:var(--muted)}
.addr-list{margin:4px 0 0;font:12px ui-monospace,Menlo,Consolas,monospace;overflow-wrap:anywhere;max-height:9em;overflow:auto}
.result .r-ok{color:var(--ok);font-weight:700}.result .r-error{color:var(--err);font-weight:700}.result .r-warning{color:var(--warn);font-weight:700}.result .r-stopped{color:var(--warn);font-weight:700}.result .r-unused{color:var(--muted)}
ul.fixes{margin:6px 0 0;padding:6px 8px;list-style:none;background:#fff;border:1px solid var(--line);border-radius:4px;font-size:13px}
ul.fixes li{margin:0}ul.fixes a{color:inherit}
.dns-none{margin:6px 0 0;padding:6px 10px;border:1px solid var(--err);background:var(--err-bg);border-radius:6px;font-size:13px}
.deleg{display:grid;grid-template-columns:minmax(0,1fr) auto minmax(0,1.4fr) auto minmax(0,1fr);align-items:stretch;gap:6px}
.box{border:1px solid var(--line);border-radius:6px;padding:6px 10px;background:#fff;font-size:13px}
.box.bad{border-color:var(--err);background:var(--err-bg)}.box.good{border-color:var(--ok);background:var(--ok-bg)}.box.unknown{border-color:#e0a100;background:var(--warn-bg)}
.box h4{margin:0 0 2px;font-size:12px;color:var(--muted);font-weight:400}
.box ul{margin:0;padding:0;list-style:none}.box li{font-family:ui-monospace,Menlo,Consolas,monospace;overflow-wrap:anywhere}
.box li.lame{color:var(--err);font-weight:700}
.arrow{align-self:center;color:var(--muted);font-size:18px}
.incomplete{background:var(--card);border:1px solid var(--err);border-radius:6px;padding:10px 16px}
footer{padding:8px 28px 24px;color:var(--muted);font-size:12px}
section.check{border-top:6px solid var(--line);margin:0 0 20px}
section.check header.page h2{margin:0 0 6px;font-size:20px;word-break:break-all}
section.check h3{font-size:17px;margin:0 0 10px}
section.check .finding h4{margin:0;font-size:16px;line-height:1.45}
section.check .fix h5{margin:0;font-size:13px;color:var(--muted)}
section.check .box h5{margin:0 0 2px;font-size:12px;color:var(--muted);font-weight:400}
main.triage{display:block;padding:0}section.notice{padding:20px 28px 4px;max-width:1100px}
.card.history{margin:0 28px 16px;border-color:var(--info)}
ol.changes{margin:6px 0;padding-left:22px}ul.deltas{margin:6px 0;padding-left:18px;font-size:14px}
a{color:#1f5f99}:focus-visible{outline:3px solid #1f5f99;outline-offset:2px}
body>nav{padding:8px 28px;background:var(--card);border-bottom:1px solid var(--line);font-size:14px}
button{font:inherit;font-weight:700;padding:6px 16px;border:1px solid #1f5f99;border-radius:6px;background:#1f5f99;color:#fff;cursor:pointer}
input[type=text],select,textarea{font:inherit;padding:4px 6px;border:1px solid #6b7683;border-radius:4px;background:#fff;color:var(--ink);max-width:100%}
textarea{width:100%;font:13px/1.5 ui-monospace,Menlo,Consolas,monospace}
section.error{border:1px solid var(--err);background:var(--err-bg);border-radius:6px;padding:8px 14px;margin:0 0 14px}
.serve-extra{padding:16px 28px 0}.serve-extra .card{margin:14px 0 0}.again small{margin-left:10px;color:var(--muted)}
ol.steps{margin:6px 0 0;padding-left:26px;font-size:13px}ol.steps li{overflow-wrap:anywhere}
details.progress summary{font-weight:700;cursor:pointer}
pre.diff{margin:6px 0 0;white-space:pre-wrap;overflow-wrap:anywhere;font:13px/1.5 ui-monospace,Menlo,Consolas,monospace}
ul.queued{margin:6px 0 0;padding-left:20px}.card.queued{margin:16px 28px}
)CSS";
  return css;
}

std::string html_style_hash() {
  const std::string& css = html_style();
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int len = 0;
  EVP_Digest(css.data(), css.size(), digest.data(), &len, EVP_sha256(), nullptr);
  std::array<unsigned char, 4 * ((EVP_MAX_MD_SIZE + 2) / 3) + 1> b64{};
  const int n = EVP_EncodeBlock(b64.data(), digest.data(), static_cast<int>(len));
  return "'sha256-" + std::string(reinterpret_cast<const char*>(b64.data()), static_cast<std::size_t>(n)) + "'";
}

namespace {

std::string fill(std::string text, const std::string& key, const std::string& value) {
  for (auto pos = text.find("{" + key + "}"); pos != std::string::npos; pos = text.find("{" + key + "}", pos + value.size()))
    text.replace(pos, key.size() + 2, value);
  return text;
}

// Prose with `code` spans, escaped, the spans as <code>.
std::string prose(const std::string& text) {
  std::string out;
  std::size_t at = 0;
  bool in_code = false;
  for (std::size_t tick = text.find('`'); tick != std::string::npos; tick = text.find('`', at)) {
    if (!in_code && text.find('`', tick + 1) == std::string::npos) break;
    out += escape_html(text.substr(at, tick - at));
    out += in_code ? "</code>" : "<code>";
    in_code = !in_code;
    at = tick + 1;
  }
  out += escape_html(text.substr(at));
  if (in_code) out += "</code>";
  return out;
}

class Page {
 public:
  Page(const Report& r, const Labels& L) : r_(r), L_(L) {}

  /// The whole page.
  std::string render() {
    std::string heading = heading_text();
    std::ostringstream doc;
    doc << html_document_head(r_.lang, heading + " — " + L_.get(r_.lang, "verdicts." + r_.verdict));
    body(heading);
    doc << o_.str() << html_document_tail();
    return doc.str();
  }

  /// The check as one section of a larger page: headings one level down, ids prefixed.
  std::string section(const std::string& prefix) {
    prefix_ = prefix;
    shift_ = 1;
    o_ << "<section class=\"check\" id=\"" << escape_html(prefix_) << "check\">\n";
    body(heading_text());
    o_ << "</section>\n";
    return o_.str();
  }

 private:
  std::string prefix_;  // before every id, so that several checks share a page
  int shift_ = 0;       // heading levels down from the page's own

  std::string h(int level) const { return "h" + std::to_string(std::min(6, level + shift_)); }

  std::string heading_text() const {
    std::string heading = fill(L_.get(r_.lang, "heading"), "domain", r_.domain_display);
    if (r_.domain_display != r_.domain) heading += " (" + r_.domain + ")";
    return heading;
  }

  void body(const std::string& heading) {
    header(heading);
    o_ << (shift_ ? "<div class=\"main\">" : "<main>") << "\n<section class=\"findings\" id=\"" << prefix_ << "findings\">\n<" << h(2) << ">" << text("findings") << "</" << h(2) << ">\n";
    findings();
    o_ << "</section>\n<section class=\"pictures\">\n";
    path();
    delegation();
    o_ << "</section>\n" << (shift_ ? "</div>" : "</main>") << "\n<footer>"
       << escape_html(fill(fill(L_.get(r_.lang, "elapsed"), "seconds", seconds()), "queries", std::to_string(r_.queries)))
       << "</footer>\n";
  }

 private:
  const Report& r_;
  const Labels& L_;
  std::ostringstream o_;

  std::string text(const std::string& key) const { return escape_html(L_.get(r_.lang, key)); }
  // A label, or `fallback` when labels.yaml has no string at `key`.
  std::string word(const std::string& key, const std::string& fallback) const {
    const json* n = L_.find(r_.lang, key);
    return n && n->is_string() ? n->get<std::string>() : fallback;
  }
  std::string open_paren() const { return r_.lang == "ja" ? "(" : " ("; }
  std::string close_paren() const { return r_.lang == "ja" ? ")" : ")"; }
  std::string seconds() const {
    std::ostringstream s;
    s.setf(std::ios::fixed);
    s.precision(2);
    s << r_.elapsed_s;
    return s.str();
  }
  // The challenge token in a URL shortened to its first characters, as the text report does.
  std::string short_url(std::string url) const {
    const std::string token = r_.picture.value("token", "");
    if (token.size() > 8)
      for (auto pos = url.find(token); pos != std::string::npos; pos = url.find(token, pos + 1)) url.replace(pos, token.size(), token.substr(0, 6) + "…");
    return url;
  }

  void header(const std::string& heading) {
    const std::string& lang = r_.lang;
    o_ << "<header class=\"page v-" << escape_html(r_.verdict) << "\">\n<" << h(1) << ">" << escape_html(heading) << "</" << h(1) << ">\n"
       << "<div class=\"verdict\" id=\"" << prefix_ << "verdict\">" << text("verdicts." + r_.verdict) << "</div>\n";
    if (r_.replayed)
      o_ << "<p class=\"replay\">"
         << escape_html(fill(L_.get(lang, "replayed"), "when", r_.collected_at.empty() ? "?" : collected_jst(r_.collected_at)))
         << "</p>\n";
    o_ << "<dl class=\"summary\">\n";
    std::string names;
    for (const auto& n : r_.names) {
      std::string shown = n.value("display", "");
      if (n.value("display", "") != n.value("name", "")) shown += " (" + n.value("name", "") + ")";
      names += (names.empty() ? "" : ", ") + shown;
    }
    o_ << "<dt>" << text("names") << "</dt><dd>" << escape_html(names) << "</dd>\n";
    std::string provider = r_.provider_id == "generic" ? L_.get(lang, "provider_unknown") : r_.provider_name;
    if (r_.provider_id != "generic") {
      const std::string psrc = word("provider_source." + r_.provider_source, "");
      if (!psrc.empty()) provider += " (" + psrc + ")";
    }
    o_ << "<dt>" << text("provider") << "</dt><dd>" << escape_html(provider) << "</dd>\n";
    std::string host;
    for (const auto& a : r_.host_addresses) host += (host.empty() ? "" : ", ") + a;
    if (host.empty()) host = L_.get(lang, "host_unknown");
    else if (const std::string hsrc = word("host_source." + r_.host_source, ""); !hsrc.empty())
      host += " (" + hsrc + ")";
    o_ << "<dt>" << text("host") << "</dt><dd>" << escape_html(host) << "</dd>\n";
    o_ << "<dt>" << text("host_how") << "</dt><dd><ul>";
    bool any = false;
    for (const auto& item : r_.host_how) {
      std::string line = L_.get(lang, "host_how_items." + item.value("key", ""));
      for (const char* k : {"name", "addresses", "said"}) line = fill(line, k, item.value(k, ""));
      o_ << "<li>" << escape_html(line) << "</li>";
      any = true;
    }
    if (!any) o_ << "<li>" << text("host_how_items.nothing") << "</li>";
    o_ << "</ul></dd>\n</dl>\n</header>\n";
  }

  void findings() {
    const std::string& lang = r_.lang;
    if (r_.paragraphs.empty()) o_ << "<p class=\"card\">" << text("no_findings") << "</p>\n";
    for (std::size_t i = 0; i < r_.paragraphs.size(); ++i) {
      const auto& f = r_.paragraphs[i];
      o_ << "<article class=\"finding sev-" << escape_html(f.severity) << (f.follows.empty() ? "" : " follows")
         << "\" id=\"" << prefix_ << "f" << i << "\">\n<" << h(3) << "><span class=\"badge\">" << text("severity." + f.severity) << "</span>"
         << escape_html(f.title) << "<span class=\"rid\">" << escape_html(f.id) << "</span></" << h(3) << ">\n";
      if (!f.follows.empty())
        o_ << "<p class=\"follow-note\">↳ " << escape_html(fill(L_.get(lang, "follows"), "id", f.follows)) << "</p>\n";
      if (auto ev = evidence_lines(f.evidence, L_, lang); !ev.empty()) {
        o_ << "<dl class=\"evidence\" aria-label=\"" << text("evidence") << "\">\n";
        for (const auto& [label, value] : ev) o_ << "<dt>" << escape_html(label) << "</dt><dd>" << escape_html(value) << "</dd>\n";
        o_ << "</dl>\n";
      }
      o_ << "<div class=\"fix\"><" << h(4) << ">" << text("fix") << "</" << h(4) << "><p>" << prose(f.remediation) << "</p></div>\n"
         << "<p class=\"source\">" << text("source") << ": " << escape_html(f.source_title)
         << (f.source_url.empty() ? std::string() : " <code>" + escape_html(f.source_url) + "</code>")  // shown, not a link: the page leads nowhere
         << "</p>\n</article>\n";
    }
    if (!r_.incomplete.empty()) {
      o_ << "<div class=\"incomplete\"><" << h(2) << ">" << text("incomplete") << "</" << h(2) << "><ul>";
      for (const auto& reason : r_.incomplete) o_ << "<li>" << escape_html(reason) << "</li>";
      o_ << "</ul></div>\n";
    }
  }

  // The fixes beside a step: links to the findings placed there.
  void fixes(const json& indices) {
    if (!indices.is_array() || indices.empty()) return;
    o_ << "<ul class=\"fixes\">";
    for (const auto& j : indices) {
      const auto i = j.get<std::size_t>();
      if (i >= r_.paragraphs.size()) continue;
      const auto& f = r_.paragraphs[i];
      o_ << "<li><span class=\"badge " << escape_html(f.severity) << "\">" << text("html.fix") << "</span><a href=\"#" << prefix_ << "f" << i
         << "\">" << escape_html(f.title) << "</a><span class=\"rid\">" << escape_html(f.id) << "</span></li>";
    }
    o_ << "</ul>";
  }

  void hop(const json& h) {
    const bool failing = h.value("failing", false), followed = h.value("followed", true);
    o_ << "<li class=\"hop" << (failing ? " failing" : "") << (followed ? "" : " skipped") << "\">";
    const std::string outcome = h.value("outcome", "");
    if (outcome == "response") {
      o_ << "<span class=\"st\">" << h.value("status", 0) << "</span>";
      if (!h.value("server", "").empty()) o_ << "<span class=\"srv\">" << escape_html(h.value("server", "")) << "</span>";
    } else {
      o_ << "<span class=\"st\">" << escape_html(word("html.outcome." + outcome, outcome)) << "</span> ";
    }
    o_ << "<span class=\"url\">" << escape_html(short_url(h.value("url", ""))) << "</span>";
    if (failing) o_ << "<span class=\"mark\">" << text("html.stops_here") << "</span>";
    if (!followed) o_ << "<span class=\"mark\">" << text("html.not_followed") << "</span>";
    o_ << "</li>";
  }

  void address(const json& a) {
    const std::string state = a.value("state", "ok");
    const std::string family = a.value("family", "") == "ipv6" ? "IPv6" : "IPv4";
    const std::string order = a.value("order", "none");
    const std::string role = a.value("ca_role", "");
    std::string how = family + " · " + word("html.order." + order, order);
    if (role == "fallen-back") how += " · " + word("html.fallen_back", role);
    o_ << "<li class=\"addr st-" << escape_html(state) << "\"><div class=\"addr-head\">" << escape_html(a.value("address", ""))
       << "<span class=\"how\">" << escape_html(how) << "</span></div>\n<ol class=\"hops\">";
    for (const auto& h : a.value("hops", json::array())) hop(h);
    o_ << "</ol>\n<div class=\"result\">" << text("html.result") << ": <span class=\"r-" << escape_html(state) << "\">";
    const std::string cause = a.value("cause", "");
    if (!a.value("requested", true)) {
      if (a.value("unreachable", false))
        o_ << escape_html(fill(L_.get(r_.lang, "html.reserved"), "block", a.value("reserved_name", "")));
      else
        o_ << text("html.not_requested");
    } else if (state == "unused") o_ << text("html.unused");
    else if (cause == "unreachable") {
      const std::string kind = a.value("kind", "");
      o_ << escape_html(word("html.cause.unreachable", cause)) << open_paren() << escape_html(word("html.outcome." + kind, kind))
         << close_paren();
    } else {
      int status = 0;
      for (const auto& h : a.value("hops", json::array()))
        if (h.value("followed", false) && h.value("outcome", "") == "response") status = h.value("status", 0);
      o_ << escape_html(fill(word("html.cause." + cause, cause), "status", std::to_string(status)));
      if (cause == "redirect-invalid" && !a.value("violation", "").empty())
        o_ << open_paren() << escape_html(word("html.violation." + a.value("violation", ""), a.value("violation", "")))
           << close_paren();
    }
    o_ << "</span>";
    if (state == "error" || state == "warning") o_ << " — " << text("html.state." + state);
    o_ << "</div>\n";
    fixes(a["findings"]);
    o_ << "</li>\n";
  }

  void path() {
    const json& p = r_.picture;
    const std::string ca = p.contains("ca") ? p["ca"].value("name", "") : "";
    o_ << "<div class=\"card\" id=\"" << prefix_ << "path\">\n<" << h(2) << ">" << escape_html(fill(L_.get(r_.lang, "html.path"), "ca", ca)) << "</" << h(2) << ">\n"
       << "<p class=\"intro\">"
       << escape_html(fill(L_.get(r_.lang, p.contains("ca") && p["ca"].value("address_preference", "") == "ipv4-first"
                                              ? "html.path_intro_v4"
                                              : p.contains("ca") && !p["ca"].value("ipv4_fallback", true)
                                                    ? "html.path_intro_nofallback"
                                                    : "html.path_intro"),
                           "ca", ca))
       << "</p>\n";
    for (const auto& n : p.value("names", json::array())) {
      std::string head = n.value("display", "");
      o_ << "<div class=\"name\"><div class=\"name-head\">" << escape_html(head);
      if (n.value("display", "") != n.value("name", "")) o_ << " <small>" << escape_html(n.value("name", "")) << "</small>";
      o_ << "</div>\n";
      const json& addrs = n["addresses"];
      if (addrs.empty()) {
        const std::string status = n.value("status", "");
        o_ << "<div class=\"dns-none\">" << escape_html(word("html.dns." + status, fill(L_.get(r_.lang, "html.dns.other"), "status", status)))
           << "</div>\n";
      } else {
        o_ << "<ol class=\"addrs\">\n";
        // Addresses the CA never dials and the check did not request are listed together.
        std::vector<std::string> rest;
        json rest_findings = json::array();
        std::string rest_state = "unused";
        for (const auto& a : addrs) {
          if (a.value("requested", true) || a.value("order", "") != "none") {
            address(a);
            continue;
          }
          rest.push_back(a.value("address", ""));
          for (const auto& i : a["findings"])
            if (std::find(rest_findings.begin(), rest_findings.end(), i) == rest_findings.end()) rest_findings.push_back(i);
          const std::string st = a.value("state", "unused");
          if (st == "error" || (st == "warning" && rest_state != "error")) rest_state = st;
        }
        if (!rest.empty()) {
          std::string list;
          for (const auto& a : rest) list += (list.empty() ? "" : ", ") + a;
          o_ << "<li class=\"addr others st-" << escape_html(rest_state) << "\"><div class=\"addr-head\">"
             << escape_html(fill(L_.get(r_.lang, "html.others"), "count", std::to_string(rest.size())))
             << "</div><p class=\"addr-list\">" << escape_html(list) << "</p>\n";
          fixes(rest_findings);
          o_ << "</li>\n";
        }
        o_ << "</ol>\n";
      }
      fixes(n["findings"]);
      o_ << "</div>\n";
    }
    if (p.value("names", json::array()).empty()) o_ << "<p>" << text("html.no_names") << "</p>\n";
    o_ << "</div>\n";
  }

  void delegation() {
    const json& d = r_.picture.value("delegation", json::object());
    o_ << "<div class=\"card\" id=\"" << prefix_ << "delegation\">\n<" << h(2) << ">" << text("html.delegation") << "</" << h(2) << ">\n<div class=\"deleg\">";
    const std::string parent = d.value("parent_zone", "");
    o_ << "<div class=\"box\"><" << h(4) << ">" << text("html.registry") << "</" << h(4) << "><ul><li>"
       << escape_html(parent.empty() ? "?" : parent + ".") << "</li></ul></div><span class=\"arrow\">→</span>";
    const json servers = d.value("servers", json::array());
    const std::string status = d.value("status", "");
    bool any_lame = false;
    for (const auto& s : servers) any_lame = any_lame || s.value("lame", false);
    o_ << "<div class=\"box" << (any_lame || status != "delegated" ? " bad" : "") << "\"><" << h(4) << ">" << text("html.nameservers") << " — "
       << escape_html(d.value("zone", "")) << "</" << h(4) << ">";
    if (servers.empty()) o_ << "<p>" << escape_html(word("html.delegation_status." + status, status)) << "</p>";
    else {
      o_ << "<ul>";
      for (const auto& s : servers) {
        std::string note;
        if (s.value("lame", false)) note = word("html.lame", "lame") + ": " + s.value("reason", "");
        else if (!s.value("in_parent", true)) note = word("html.only_child", "");
        else if (!s.value("in_child", true) && status == "delegated") note = word("html.only_parent", "");
        o_ << "<li" << (s.value("lame", false) ? " class=\"lame\"" : "") << ">" << escape_html(s.value("name", ""));
        if (!note.empty()) o_ << " <small>(" << escape_html(note) << ")</small>";
        o_ << "</li>";
      }
      o_ << "</ul>";
    }
    o_ << "</div><span class=\"arrow\">→</span>";
    const bool known = d.value("provider_recognised", false);
    o_ << "<div class=\"box " << (known ? "good" : "unknown") << "\"><" << h(4) << ">" << text("html.provider") << "</" << h(4) << ">"
       << escape_html(fill(L_.get(r_.lang, known                            ? "html.provider_yes"
                                           : r_.provider_id == "generic" ? "html.provider_none"
                                                                         : "html.provider_no"),
                           "provider", r_.provider_name))
       << "</div></div>\n";
    fixes(d.value("findings", json::array()));
    o_ << "</div>\n";
  }
};

} // namespace

std::string html_document_head(const std::string& lang, const std::string& title) {
  std::ostringstream o;
  o << "<!DOCTYPE html>\n<html lang=\"" << (lang == "ja" ? "ja" : "en") << "\">\n<head>\n<meta charset=\"utf-8\">\n"
    << "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src " << html_style_hash()
    << "; base-uri 'none'; form-action 'none'\">\n"
    << "<meta name=\"referrer\" content=\"no-referrer\">\n"
    << "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
    << "<meta name=\"generator\" content=\"certdoctor\">\n"
    << "<title>" << escape_html(title) << "</title>\n"
    << "<style>" << html_style() << "</style>\n</head>\n<body>\n";
  return o.str();
}

std::string html_document_tail() { return "</body>\n</html>\n"; }

namespace {

// A report built without its picture would give a page with empty drawings: a mistake of the caller.
void require_picture(const Report& report) {
  if (report.picture.is_null())
    throw std::logic_error("the HTML report of " + report.domain + " was built without its picture (report::build)");
}

} // namespace

std::string render_html(const Report& report, const Labels& labels) {
  require_picture(report);
  return Page(report, labels).render();
}

std::string render_html_section(const Report& report, const Labels& labels, const std::string& id_prefix) {
  require_picture(report);
  return Page(report, labels).section(id_prefix);
}

} // namespace certdoctor::report
