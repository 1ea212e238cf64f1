#pragma once
// Two diagnoses of one domain compared: what changed between them, in the words support staff
// use (nameservers, each address, CNAMEs, CAA, the challenge path, the served certificate, the
// provider and the hosting server), and which finding each change explains. Both sides are
// judged again with the current rules, so that they compare fairly; a change explains a finding
// when the view paths it touched meet the paths the finding's rule reads (`each` and `when`).
// Pure: facts in, a plain result out. `certdoctor diff` and, later, the history store call it.
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "facts/facts.hpp"
#include "rules/catalogue.hpp"
#include "rules/finding.hpp"
#include "view/derive.hpp"

namespace certdoctor::diff {

/// One side of a comparison: saved facts and, when known, the findings recorded when they were
/// gathered (the history store keeps them); the side is judged again with the current rules.
struct Side {
  const facts::Facts* facts = nullptr;
  std::optional<std::vector<rules::Finding>> recorded;  ///< findings as recorded at the time
};

/// One change between the two sides. `kind` is one of change_kinds(); `action` "added",
/// "removed" or "changed"; `name` the DNS name, zone or URL it is about; `before` and `after`
/// lists of strings (empty for what was absent). The window is when it happened: after
/// `since` (the earlier side's time, RFC 3339) and no later than `until`.
struct Change {
  std::string kind;
  std::string action;
  std::string name;
  std::vector<std::string> before;
  std::vector<std::string> after;
  std::string since;
  std::string until;
  /// View paths ("names[].addresses") that this change touched and that differ between the
  /// two views: what the explanation is matched on.
  std::vector<std::string> paths;
};

/// A finding present on one side only, and the changes that explain it (indexes into
/// Result::changes, in order).
struct FindingDelta {
  rules::Finding finding;
  std::string state;                  ///< "appeared" (in `to` only) or "gone" (in `from` only)
  std::vector<std::size_t> explained_by;
  std::vector<std::string> rule_paths;  ///< the view paths the finding's rule reads
};

/// The comparison.
struct Result {
  std::string domain;
  std::string from_time;   ///< collected_at of each side
  std::string to_time;
  std::vector<Change> changes;
  std::vector<FindingDelta> findings;        ///< appeared, then gone, in catalogue order
  std::vector<rules::Finding> from_findings;  ///< each side judged with the current rules
  std::vector<rules::Finding> to_findings;
  nlohmann::json to_view;                     ///< the later side's view (texts need its provider)
  nlohmann::json from_view;
  /// The earlier side's recorded findings differ from its judgement with today's rules.
  bool rules_changed = false;
  bool from_complete = true;                  ///< each side's gathering finished
  bool to_complete = true;
};

/// Every change kind compare() can give, in the order changes are listed.
const std::vector<std::string>& change_kinds();

/// The view path prefixes a change kind can touch: the one place that ties changes to the view.
const std::vector<std::string>& kind_paths(const std::string& kind);

/// The view paths a rule reads: the free paths of `each` and `when`, the rule's `as` variable
/// replaced by its list's path with "[]", indexes as "[]" and quoted keys as ".key".
std::vector<std::string> rule_paths(const rules::Rule& rule);

/// A path in one form: "names[0].caa" and `names[-1]["caa"]` both give "names[].caa".
std::string normalise_path(const std::string& path);

/// True when one path is the other or lies under it ("names[]" and "names[].addresses").
bool paths_meet(const std::string& a, const std::string& b);

/// The leaf paths (normalised) where two views differ.
std::vector<std::string> differing_paths(const nlohmann::json& a, const nlohmann::json& b);

/// Compares `from` (the earlier check) with `to`. Throws what view::derive and rules::evaluate
/// throw (an unknown provider, a failing rule).
Result compare(const Side& from, const Side& to, const view::DeriveContext& context,
               const rules::Catalogue& catalogue);

/// The result as JSON: {domain, from, to, changes[], findings[], rules_changed, nothing_changed}.
nlohmann::json to_json(const Result& result);

} // namespace certdoctor::diff
