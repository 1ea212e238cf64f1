#pragma once
// One recorded challenge chain judged: where following it ends for the CA (the redirect policy
// applied hop by hop), whether it leaves the certified names, and the cause of its outcome as
// an id ("ok", "redirect-invalid", "offsite", "unreachable", "restricted", "server-error",
// "oversized", "body-mismatch", "block-page", "unexpected-status"). A chain that the CA's one
// deadline for the whole fetch (the policy's chain_budget_seconds, the first attempt's time
// included) ends before its last hop is "unreachable", kind "chain-timeout". Pure: no I/O.
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "facts/web.hpp"
#include "view/redirect.hpp"

namespace certdoctor::view {

/// A chain the CA runs again after a dial error on an earlier attempt (Boulder's IPv4 fallback
/// replays the whole chain, keeping the URLs and the redirect count of the first attempt).
struct Replay {
  std::vector<std::string> visited;  // URLs of the first attempt, as the CA writes them
  int followed = 0;                  // redirects followed on the first attempt
  double spent_ms = 0;               // time the first attempt took of the CA's one deadline
};

/// The judged chain as the view shows it (an element of `web.challenges`, before the CA's use
/// of it is known). `certified` are the names on the certificate, `pages` the block pages of
/// rules/data/web.yaml, `reserved_block` the name of the reserved block an address is in ("" when
/// none), `replay` the first attempt when the chain is the CA's retry (nullptr otherwise).
nlohmann::json judge_chain(const facts::HttpChallenge& chain, const RedirectPolicy& policy,
                           const std::vector<std::string>& certified, const nlohmann::json& pages,
                           const std::function<std::string(const std::string&)>& reserved_block,
                           const Replay* replay = nullptr);

/// The URLs of the hops 0..last of `chain` as the CA writes them (for its loop check).
std::vector<std::string> visited_urls(const facts::HttpChallenge& chain, std::size_t last);

/// The hops of a chain, each as "STATUS URL" (or "OUTCOME URL" for a hop without an answer),
/// the token of the challenge URL shortened.
std::vector<std::string> chain_trail(const facts::HttpChallenge& chain);

} // namespace certdoctor::view
