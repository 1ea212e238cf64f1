#pragma once
// Whether the hosting server has a site for a certified name at all: the name's answers at one
// address (its challenge path and "/") set against the same address's answers for a random name
// no server has a site for (facts::UnknownHostProbe), and against the provider's own words for
// its default page (the profile's `default_site`). Pure: no I/O.
#include <nlohmann/json.hpp>

#include "facts/web.hpp"

namespace certdoctor::view {

/// The judgement as the view shows it (`ch.unknown_host` of an element of `web.challenges`):
///   verdict   "not-asked"    the facts hold no unknown-host exchanges (older facts, --no-web)
///             "no-answer"    one of the four exchanges got no HTTP answer: nothing to compare
///             "own-site"     the name is answered differently from the unknown name: a site
///             "default-site" the name gets the unknown name's answer at both paths, and that
///                            answer is the provider's default page (a marker of the profile), or
///                            the server of a shared host answers the unknown name with one page
///                            whatever the path (its default site)
///             "undecided"    the same answers, but nothing shows that they are a default site's
///                            (a server may serve one site as its default), or a body was cut at
///                            the read cap (nothing to compare): no claim is made
///   evidence  "marker" | "catch-all" | "" ; marker: the marker that matched; same_challenge,
///   same_root, catch_all: the comparisons; answer: the unknown name's answer at "/" in short.
/// `default_site` is the provider profile's `default_site` map (null when it has none).
nlohmann::json judge_unknown_host(const facts::HttpChallenge& chain, const nlohmann::json& default_site);

/// "STATUS, Server: S, N bytes" for an answer, "OUTCOME" for none (no words: used in every language).
std::string answer_summary(const facts::HttpExchange& x);

} // namespace certdoctor::view
