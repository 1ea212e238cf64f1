#pragma once
// Recording checks in the history (src/store) and reading them back: what a record holds of a
// diagnosis, a recorded check judged again with today's rules, and the domains due for a check
// before their provider renews. Front ends call these; they only parse options and print.
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "facts/facts.hpp"
#include "pipeline/check.hpp"
#include "pipeline/knowledge.hpp"
#include "rules/finding.hpp"
#include "store/due.hpp"
#include "store/store.hpp"

namespace certdoctor::pipeline {

/// Who asked for a check, and where to record it.
struct RecordOptions {
  std::string db;              ///< --db: a file or a postgresql:// URL; "" for the default file
  std::string user;            ///< --user; "" for the user from the environment
  std::string ticket;          ///< --ticket
  std::string source = "cli";  ///< cli | triage | batch | web
};

/// The user from the environment: $USER, else $LOGNAME, else the account of the process's uid.
std::string default_user();

/// A short digest of the rules data in use (every file of every rules directory, by path
/// relative to its directory, laid over as Knowledge reads them): records made with the same
/// rules carry the same version.
std::string rules_version(const Knowledge&);

/// The record of one judged check.
store::Record record_of(const facts::Facts&, const nlohmann::json& view, const std::vector<rules::Finding>&,
                        const std::string& verdict, const Knowledge&, const RecordOptions&);

/// Records one check; returns its id. Throws store::StoreError.
std::int64_t record(const facts::Facts&, const Diagnosis&, const Knowledge&, const RecordOptions&);

/// A recorded check judged again with today's rules.
struct Recalled {
  store::Record record;
  facts::Facts facts;
  Diagnosis diagnosis;
};
/// Throws store::StoreError (no such id, a damaged record) or ConfigError (facts that do not read).
Recalled recall(store::Store&, std::int64_t id, const Knowledge&, const std::string& lang,
                const DiagnoseOptions& options = {});

/// The recorded check of `domain` that `ref` names: "last-ok" (the last check whose verdict
/// passed), a check id, or a day "YYYY-MM-DD" (the last check started on that day or before, in
/// JST as the reports show times). The record holds its facts. Throws UsageError for a `ref` that
/// is none of these and StoreError when no recorded check matches.
store::Record pick(store::Store&, const std::string& domain, const std::string& ref);
/// A record without its facts and findings, as `history --format json` lists it: id, domain,
/// times (UTC), verdict, finding ids, who asked, versions, provider, the certificate's notAfter.
nlohmann::json record_json(const store::Record&);
/// The recorded checks of a domain: {"domain", "checks": [record_json, ...]} (newest first).
nlohmann::json history_json(const std::string& domain, const std::vector<store::Record>& records);

/// The findings a record holds, as they were judged when it was made.
std::vector<rules::Finding> recorded_findings(const store::Record&);

/// The provider's renewal window for `due`: the first automatic attempt or the notice of its
/// profile's `renewal`, else the common default of 30 days.
store::Window renewal_window(const Knowledge&, const std::string& provider);

/// The recorded domains due for a check (see store::due).
std::vector<store::Due> due(store::Store&, const Knowledge&, std::int64_t now, std::int64_t within);

} // namespace certdoctor::pipeline
