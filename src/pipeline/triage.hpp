#pragma once
// The live part of a triage: each domain a notice or an ACME error names is checked with the
// same probes and diagnose() as `check`, all at once on one engine, under one deadline.
#include <chrono>
#include <string>
#include <vector>

#include <cstdint>
#include <optional>

#include "diff/diff.hpp"
#include "pipeline/check.hpp"
#include "pipeline/knowledge.hpp"
#include "pipeline/record.hpp"
#include "report/triage_report.hpp"
#include "triage/triage.hpp"

namespace certdoctor::pipeline {

/// The checks of a triage and what they add up to.
struct TriageChecks {
  std::vector<report::TriageCheck> checks;
  std::string verdict;             ///< the worst of the checks' verdicts; "no-domains" when none was named
  int status = exit_ok;            ///< exit status: 1 when a check found blocking problems, else 3 when one was incomplete
  std::vector<std::string> notes;  ///< domains left out (--max-domains, the deadline)
  /// What each check judged, in the order of `checks`, for recording them (record_triaged).
  struct Judged {
    facts::Facts facts;
    nlohmann::json view;
    std::vector<rules::Finding> findings;
    std::string verdict;
  };
  std::vector<Judged> judged;
};

/// The parts of a triage's report that come from the triage alone (the provider's name, what the
/// notice means and what to do next, in `lang`): the report `triage --offline` prints. It points
/// to `t`, which must outlive it.
report::TriageReport offline_report(const triage::Triage& t, const view::DataSet& data, const std::string& lang,
                                    std::size_t input_size);

/// The domains a triage's checks look at, in order: www.X is left out when X is named too (the
/// check of X looks at the certificate carrying www.X), with a note in `notes`; unless `no_www`.
std::vector<triage::TriagedDomain> domains_to_check(const triage::Triage& t, bool no_www, std::vector<std::string>& notes);

/// Checks at most `max_domains` of the triage's domains with `base` (its domain and timeout are
/// set per domain), all at once on `base.engine` (or an engine of their own), each under the time
/// left before `deadline` (at most 30 s); the checks are reported in the order of `t.domains`.
/// The provider is `base.provider` unless it is "auto", else the one the notice came from.
/// Throws UsageError for options `validate` rejects.
TriageChecks check_triaged(const triage::Triage& t, const CheckOptions& base, const Knowledge& k, const std::string& lang,
                           std::size_t max_domains, std::chrono::steady_clock::time_point deadline);

/// Records every check of a triage (source "triage" unless `o` names another); returns their ids.
/// Throws store::StoreError at the first that cannot be recorded.
std::vector<std::int64_t> record_triaged(const TriageChecks&, const Knowledge&, RecordOptions o);

/// A triaged domain against its history: the last check of it that passed, compared with the check
/// made now (as `certdoctor diff DOMAIN` does), so that the reply says what changed since it last
/// worked.
struct SinceLastPass {
  /// "compared"; "never-passed" (checks are recorded, none passed); "no-record" (none recorded).
  std::string state;
  std::int64_t from_id = 0;        ///< the passing check compared with
  std::size_t recorded = 0;        ///< checks of the domain in the history
  std::int64_t first_recorded = 0; ///< when the oldest of them started (Unix time), for never-passed
  std::optional<diff::Result> result;
};

/// For each check of a triage (in the order of `checks.judged`), the comparison with its last
/// passing check in `store`. Throws store::StoreError when the history cannot be read.
std::vector<SinceLastPass> compare_with_history(const TriageChecks& checks, store::Store& store, const Knowledge& k);

} // namespace certdoctor::pipeline
