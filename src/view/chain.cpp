#include "view/chain.hpp"

#include <algorithm>
#include <cstdio>

#include "util/url.hpp"
#include "view/block_page.hpp"

namespace certdoctor::view {

using nlohmann::json;
namespace outcome = facts::web_outcome;

namespace {

template <typename T>
bool contains(const std::vector<T>& v, const T& x) { return std::find(v.begin(), v.end(), x) != v.end(); }

bool is_redirect(const facts::HttpExchange& h) { return h.outcome == outcome::response && h.status >= 300 && h.status < 400; }

// The hop trail in one line: long chains cut in the middle, the cut marked "...(+N)..." with the
// number of hops left out (no words: the line goes into texts of every language).
std::string trail_line(const std::vector<std::string>& parts) {
  std::string line;
  const std::size_t n = parts.size();
  for (std::size_t i = 0; i < n; ++i) {
    if (n > 5 && i == 2) {
      line += " -> ...(+" + std::to_string(n - 4) + ")...";
      i = n - 3;
      continue;
    }
    line += (line.empty() ? "" : " -> ") + parts[i];
  }
  return line;
}

/// Why following stopped when the probe itself stopped (a loop, its hop limit, no Location, a
/// scheme it does not request) and no earlier rule was broken.
Violation stop_violation(const facts::HttpChallenge& c, const RedirectPolicy& policy) {
  const auto& last = c.hops.back();
  // Without loop detection (Go's default client, Pebble) a loop runs into the redirect limit.
  if (c.stop == "loop")
    return policy.loop_detection ? Violation{"loop", "", last.next_url}
                                 : Violation{"too-many", std::to_string(policy.max_followed), last.next_url};
  if (c.stop == "hop-limit") return {"too-many", std::to_string(policy.max_followed), last.next_url};
  if (c.stop == "no-location" || (is_redirect(last) && contains(policy.follows, last.status) && last.next_url.empty()))
    return {"no-location", "", last.url};
  if (c.stop == "scheme") {
    const auto u = parse_url(last.next_url);
    return {"scheme", u ? u->scheme : last.next_url, last.next_url};
  }
  return {};
}

// The token the check asked for: the last path segment of the challenge URL.
std::string token_of(const std::string& url) {
  const std::string marker = "/.well-known/acme-challenge/";
  const auto p = url.find(marker);
  return p == std::string::npos ? "" : url.substr(p + marker.size());
}

// The first 60 bytes of a body excerpt (whole UTF-8 characters), newlines as spaces: evidence
// for a text, not for matching.
std::string body_start(const std::string& excerpt) {
  std::size_t n = std::min<std::size_t>(excerpt.size(), 60);
  while (n > 0 && n < excerpt.size() && (static_cast<unsigned char>(excerpt[n]) & 0xC0) == 0x80) --n;
  std::string out = excerpt.substr(0, n);
  std::replace_if(out.begin(), out.end(), [](char ch) { return ch == '\n' || ch == '\r' || ch == '\t'; }, ' ');
  return n < excerpt.size() ? out + "..." : out;
}

// Seconds with at most two decimals, trailing zeros dropped ("9.88", "12.1", "15").
std::string seconds_text(double s) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f", s);
  std::string t = buf;
  while (t.back() == '0') t.pop_back();
  if (t.back() == '.') t.pop_back();
  return t;
}

std::string cause_of(const facts::HttpChallenge& c, const facts::HttpExchange& last, const Violation& violation,
                     const std::string& offsite_host, const json& page, const RedirectPolicy& policy) {
  if (!violation.reason.empty()) return "redirect-invalid";
  if (!offsite_host.empty()) return "offsite";
  if (c.hops.empty() || outcome::no_answer(last.outcome)) return "unreachable";
  if (last.status == 401 || last.status == 403) return "restricted";
  if (last.status >= 500) return "server-error";
  if (last.status == 200 && last.body_truncated) return "oversized";
  if (!page.is_null() && page["kind"] != "cdn") return "block-page";
  // A missing file: the check's token is its own, so 404 is what a healthy server answers.
  if (last.status == 404) return "ok";
  if (last.status == policy.status_must_be) {
    // The CA reads the body of the real token's answer through the same rules: Boulder at most
    // 127 bytes (processHTTPValidation: io.LimitedReader of maxResponseSize = 128, "Invalid
    // response"), then trims and compares (validateHTTP01). A server that answers a token nobody
    // wrote with 200 answers the real one with the same rule, unless it serves existing files
    // first; only a stateless responder sends a key authorization for any token.
    if (policy.body_max_bytes > 0 && last.body_bytes > policy.body_max_bytes) return "oversized";
    if (is_key_authorization(trim_body(last.body_excerpt, policy), token_of(c.url))) return "ok";
    return "body-mismatch";
  }
  // Boulder and Pebble accept only 200 ("Invalid response from URL: 204", "Non-200 status code").
  return "unexpected-status";
}

} // namespace

std::vector<std::string> chain_trail(const facts::HttpChallenge& c) {
  std::vector<std::string> parts;
  const std::string marker = "/.well-known/acme-challenge/";
  for (const auto& h : c.hops) {
    std::string u = h.url;
    if (auto p = u.find(marker); p != std::string::npos && u.size() > p + marker.size() + 8)
      u = u.substr(0, p + marker.size()) + u.substr(p + marker.size(), 6) + "...";
    parts.push_back((h.outcome == outcome::response ? std::to_string(h.status) : h.outcome) + " " + u);
  }
  return parts;
}

std::vector<std::string> visited_urls(const facts::HttpChallenge& c, std::size_t last) {
  std::vector<std::string> out;
  for (std::size_t i = 0; i < c.hops.size() && i <= last; ++i)
    out.push_back(i == 0 ? c.hops[0].url : ca_target_url(c.hops[i - 1]));
  return out;
}

json judge_chain(const facts::HttpChallenge& c, const RedirectPolicy& policy, const std::vector<std::string>& certified,
                 const json& pages, const std::function<std::string(const std::string&)>& reserved_block,
                 const Replay* replay) {
  json out;
  out["name"] = c.name;
  out["family"] = c.family;
  out["address"] = c.address;
  out["url"] = c.url;
  out["stop"] = c.stop;
  json hops = json::array();
  for (const auto& h : c.hops)
    hops.push_back({{"url", h.url}, {"address", h.address}, {"outcome", h.outcome}, {"status", h.status},
                    {"location", h.location}, {"server", h.server}});

  // Follow the redirects as the CA would: `end` is the index of the hop the chain ends at for the
  // CA, or the number of hops when every hop was a followed redirect. A 3xx the client does not
  // treat as a redirect (300, 304, ...) or one without a Location is the final answer.
  Violation violation;
  std::string offsite_host, offsite_url;
  std::size_t offsite_hop = 0;
  std::vector<std::string> visited = replay ? replay->visited : std::vector<std::string>{};
  RedirectContext ctx{&visited, replay ? replay->followed : 0, reserved_block};
  std::size_t end = c.hops.empty() ? 0 : c.hops.size() - 1;
  for (std::size_t i = 0; i < c.hops.size(); ++i) {
    const auto& h = c.hops[i];
    visited.push_back(i == 0 ? h.url : ca_target_url(c.hops[i - 1]));
    if (!is_redirect(h) || !contains(policy.follows, h.status) || h.next_url.empty()) {
      end = i;
      break;
    }
    violation = check_redirect(h, policy, ctx);
    if (!violation.reason.empty()) {
      if (violation.reason == "loop" && replay && !replay->visited.empty()) violation.detail = "fallback-replay";
      end = i;
      break;
    }
    ++ctx.followed;
    if (auto target = parse_url(h.next_url)) {
      std::string host = target->host;
      if (!host.empty() && host.back() == '.') host.pop_back();
      if (!contains(certified, host) && offsite_host.empty()) {
        offsite_host = host;
        offsite_url = h.next_url;
        offsite_hop = i + 1;
      }
    }
    end = i + 1;
  }
  if (violation.reason.empty() && !c.hops.empty() && end >= c.hops.size() - 1) violation = stop_violation(c, policy);

  // The CA's one deadline for the whole fetch (Boulder: the validation's context, Pebble:
  // validationTimeout): every hop, the redirect targets' lookups and a first attempt before the
  // IPv4 fallback count against it. The first hop the CA reaches that ends after it is where the
  // CA gives up; nothing after it counts. Facts without the hops' start times are not judged.
  const double spent = replay ? replay->spent_ms : 0;
  const double chain_ms = c.elapsed_ms >= 0 ? spent + c.elapsed_ms : -1;
  std::size_t budget_hop = c.hops.size();
  if (policy.chain_budget_seconds > 0 && !c.hops.empty()) {
    const double budget_ms = policy.chain_budget_seconds * 1000;
    const std::size_t upto = std::min(end, c.hops.size() - 1);
    for (std::size_t i = 0; i <= upto; ++i) {
      const auto& h = c.hops[i];
      if (h.started_ms >= 0 && spent + h.started_ms + h.elapsed_ms > budget_ms) {
        budget_hop = i;
        break;
      }
    }
    if (budget_hop == c.hops.size() && c.stop == "budget" && upto == c.hops.size() - 1) budget_hop = upto;
  }
  const bool over_budget = budget_hop < c.hops.size();
  if (over_budget) {
    end = budget_hop;
    violation = {};
    if (offsite_hop > budget_hop) offsite_host.clear(), offsite_url.clear();
  }

  out["hops"] = hops;
  const auto trail = chain_trail(c);
  out["trail"] = trail;
  out["hops_summary"] = trail_line(trail);
  out["redirects"] = static_cast<int>(std::min(end, c.hops.size()));
  out["violation"] = violation.reason;
  out["violation_detail"] = violation.detail;
  out["violation_url"] = violation.url;
  // A ".well-known" host comes from a redirect rule whose target lacks its final slash:
  // "https://example.jp" + ".well-known/acme-challenge/..." gives the host "example.jp.well-known".
  out["replay_from"] = {{"address", ""}, {"url", ""}, {"outcome", ""}, {"hop", 0}};
  out["violation_block"] = violation.reason == "reserved-ip" && reserved_block && violation.detail.find('%') == std::string::npos
                               ? reserved_block(violation.detail)
                               : "";
  out["violation_rule_target"] = "";
  out["violation_intended_url"] = "";
  if (violation.reason == "well-known-host")
    if (auto u = parse_url(violation.url)) {
      const std::string base = u->host.substr(0, u->host.size() - std::string(".well-known").size());
      out["violation_rule_target"] = u->scheme + "://" + base;
      out["violation_intended_url"] = u->scheme + "://" + base + "/.well-known" + u->path;
    }
  out["offsite"] = !offsite_host.empty();
  out["offsite_host"] = offsite_host;
  out["offsite_url"] = offsite_url;

  facts::HttpExchange none;
  const facts::HttpExchange& last = c.hops.empty() ? none : c.hops[std::min(end, c.hops.size() - 1)];
  out["final"] = {{"url", last.url}, {"address", last.address}, {"outcome", last.outcome}, {"status", last.status},
                  {"server", last.server}, {"content_type", last.content_type}, {"body_bytes", last.body_bytes},
                  {"body_truncated", last.body_truncated}, {"body_start", body_start(last.body_excerpt)},
                  {"error", last.error}};
  const json page = recognise_page(last, pages);
  out["block_page"] = page;
  out["block_page_name"] = page.is_null() ? "" : page["name"].get<std::string>();
  out["block_page_kind"] = page.is_null() ? "" : page["kind"].get<std::string>();
  out["proxy"] = recognise_proxy(c, pages);
  out["first_server"] = c.hops.empty() ? "" : c.hops.front().server;
  out["first_status"] = c.hops.empty() ? 0 : c.hops.front().status;
  out["first_outcome"] = c.hops.empty() ? outcome::not_sent : c.hops.front().outcome;

  std::string cause = cause_of(c, last, violation, offsite_host, page, policy);
  std::string kind = cause == "unreachable" ? (c.hops.empty() ? std::string(outcome::not_sent) : last.outcome) : "";
  // A request our own deadline ended before the server's time was up (its limit was what was
  // left of the check's deadline) is no timeout of the server's: the deadline came first.
  if (cause == "unreachable" && !c.hops.empty() && last.deadline_cut) kind = outcome::not_sent;
  if (over_budget) {
    // One hop alone too slow is the plain timeout (Boulder names both "Timeout after connect");
    // the chain's time is a cause of its own once a redirect was followed.
    cause = "unreachable";
    kind = budget_hop > 0 ? "chain-timeout" : (outcome::no_answer(last.outcome) && last.outcome != outcome::not_sent ? last.outcome : std::string(outcome::timeout));
  }
  out["cause"] = cause;
  out["unreachable_kind"] = kind;
  out["elapsed_ms"] = chain_ms;
  out["budget_exceeded"] = over_budget;
  // Evidence for the texts: "" unless the budget decided.
  out["chain_seconds"] = over_budget && chain_ms >= 0 ? seconds_text(chain_ms / 1000) : "";
  out["budget_seconds"] = over_budget ? seconds_text(policy.chain_budget_seconds) : "";
  return out;
}

} // namespace certdoctor::view
