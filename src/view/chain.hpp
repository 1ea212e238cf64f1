#pragma once
// One recorded challenge chain judged: where following it ends for the CA (the redirect policy
// applied hop by hop), whether it leaves the certified names, and the cause of its outcome as
// an id ("ok", "redirect-invalid", "offsite", "unreachable", "restricted", "server-error",
// "oversized", "block-page", "unexpected-status"). Pure: no I/O.
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "facts/web.hpp"
#include "view/redirect.hpp"

namespace certdoctor::view {

/// The judged chain as the view shows it (an element of `web.challenges`, before the CA's use
/// of it is known). `certified` are the names on the certificate, `pages` the block pages of
/// rules/data/web.yaml.
nlohmann::json judge_chain(const facts::HttpChallenge& chain, const RedirectPolicy& policy,
                           const std::vector<std::string>& certified, const nlohmann::json& pages);

/// The hops of a chain, each as "STATUS URL" (or "OUTCOME URL" for a hop without an answer),
/// the token of the challenge URL shortened.
std::vector<std::string> chain_trail(const facts::HttpChallenge& chain);

} // namespace certdoctor::view
