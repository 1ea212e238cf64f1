#include "view/default_site.hpp"

#include <string>

#include "util/text.hpp"
#include "util/yaml.hpp"

namespace certdoctor::view {

using nlohmann::json;

namespace {

/// Two answers are the same when everything that identifies a page is: status, Server,
/// Content-Type, Location and the body (its size and SHA-256).
bool same_answer(const facts::HttpExchange& a, const facts::HttpExchange& b) {
  return a.status == b.status && a.server == b.server && a.content_type == b.content_type && a.location == b.location &&
         a.body_bytes == b.body_bytes && a.body_truncated == b.body_truncated && a.body_sha256 == b.body_sha256;
}

/// The first of the profile's default-page markers (`markers.server`, `markers.body`) that `x`
/// shows, "" when none does.
std::string marker_in(const facts::HttpExchange& x, const json& default_site) {
  if (!default_site.is_object() || !default_site.contains("markers") || !default_site["markers"].is_object()) return "";
  const json& m = default_site["markers"];
  for (const auto& s : string_list(m.value("server", json::array())))
    if (!s.empty() && contains_nocase(x.server, s)) return s;
  for (const auto& s : string_list(m.value("body", json::array())))
    if (!s.empty() && contains_nocase(x.body_excerpt, s)) return s;
  return "";
}

} // namespace

std::string answer_summary(const facts::HttpExchange& x) {
  if (x.outcome != facts::web_outcome::response) return x.outcome;
  std::string out = std::to_string(x.status);
  if (!x.server.empty()) out += ", Server: " + x.server;
  out += ", " + std::to_string(x.body_bytes) + " bytes";
  return out;
}

json judge_unknown_host(const facts::HttpChallenge& c, const json& default_site) {
  const auto& u = c.unknown_host;
  json out = {{"host", u.host}, {"verdict", "not-asked"}, {"evidence", ""}, {"marker", ""},
              {"same_challenge", false}, {"same_root", false}, {"catch_all", false},
              {"answer", answer_summary(u.root)}, {"challenge_answer", answer_summary(u.challenge)}};
  if (u.host.empty() || c.hops.empty()) return out;
  const facts::HttpExchange& name_challenge = c.hops.front();
  for (const auto* x : {&name_challenge, &u.challenge, &u.root, &u.name_root})
    if (x->outcome != facts::web_outcome::response) {
      out["verdict"] = "no-answer";
      return out;
    }
  // A body cut at the read cap (an endless or oversized answer) is no page to compare: its digest
  // covers however many bytes one read happened to take.
  for (const auto* x : {&name_challenge, &u.challenge, &u.root, &u.name_root})
    if (x->body_truncated) {
      out["verdict"] = "undecided";
      return out;
    }
  const bool same_challenge = same_answer(name_challenge, u.challenge);
  const bool same_root = same_answer(u.name_root, u.root);
  // One page for every path: what a default site of a shared host serves ("no such site").
  const bool catch_all = same_answer(u.root, u.challenge);
  out["same_challenge"] = same_challenge;
  out["same_root"] = same_root;
  out["catch_all"] = catch_all;
  if (!same_challenge || !same_root) {
    out["verdict"] = "own-site";
    return out;
  }
  std::string marker = marker_in(u.root, default_site);
  if (marker.empty()) marker = marker_in(u.challenge, default_site);
  const bool shared = default_site.is_object() && default_site.value("shared", false);
  if (!marker.empty()) {
    out["verdict"] = "default-site";
    out["evidence"] = "marker";
    out["marker"] = marker;
  } else if (catch_all && shared) {
    out["verdict"] = "default-site";
    out["evidence"] = "catch-all";
  } else {
    out["verdict"] = "undecided";
  }
  return out;
}

} // namespace certdoctor::view
