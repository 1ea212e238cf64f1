#pragma once
// Many checks from one input: the items of a BatchReader run with at most `concurrency` checks in
// flight, each under its own deadline, and each result is handed to the caller as it completes.
//
// Each check is `gather` + `diagnose`, as `certdoctor check` runs them: the probes of every check
// in flight run on one probe::Engine (one loop thread for all DNS, HTTP, TLS and outside
// sources), and each diagnosis on a pool of as many threads as cores (CheckRunner), so a batch
// runs a fixed number of threads whatever its concurrency.
//
// Memory stays bounded: an item is read from the input only when a check slot is free (no queue
// beyond the checks in flight), and a check's facts and diagnosis are dropped once the callback
// has returned.
//
// Thread safety: the Knowledge is shared read-only by every check (const access only; the rule
// engine's regular-expression cache and the shared trust stores lock their own mutex; c-ares and
// libcurl are initialised once under std::call_once). The message renderer (util/error.hpp) loads
// its words on first use, so run_batch renders one message before the checks start.
#include <cstddef>
#include <functional>
#include <map>
#include <string>

#include "facts/facts.hpp"
#include "pipeline/batch_input.hpp"
#include "pipeline/check.hpp"
#include "pipeline/knowledge.hpp"

namespace certdoctor::pipeline {

struct BatchOptions {
  CheckOptions base;             // the options every item starts from (timeout_s: per check)
  std::size_t concurrency = 8;   // checks in flight, 1 to max_concurrency
  static constexpr std::size_t max_concurrency = 256;
  std::size_t shard = 0;         // run only the items with shard_of(domain, shards) == shard
  std::size_t shards = 1;
  std::string lang = "en";       // language of the reports
  /// Items to skip (for example those an earlier run already wrote); may be empty. Called with the
  /// batch's lock held, never concurrently.
  std::function<bool(const BatchItem&)> skip;
};

/// One completed check.
struct BatchResult {
  BatchItem item;
  const facts::Facts& facts;
  const Diagnosis& diagnosis;
  int status;        // exit_status(diagnosis)
  double seconds;    // wall time of the check
};

/// What a batch did.
struct BatchSummary {
  std::size_t read = 0;        // good items read from the input (any shard)
  std::size_t checked = 0;     // checks completed
  std::size_t planned = 0;     // items handed to on_item (plan_batch)
  std::size_t skipped = 0;     // items of this shard skipped by `skip`
  std::size_t other_shards = 0;
  std::size_t bad_lines = 0;   // lines reported to on_error (input and per-item option errors)
  int status = 0;              // the worst exit status: 3 incomplete > 1 problems > 0; 2 when a line was bad and nothing worse
  std::map<std::string, std::size_t> verdicts;  // report verdict -> checks
  std::map<std::string, std::size_t> findings;  // finding id -> checks that have it
};

/// Validates the batch options (concurrency, shard) and the base check options. Throws UsageError.
void validate(const BatchOptions&, const Knowledge&);

/// Runs every item of `reader` in this shard that `skip` does not skip. `on_result` and `on_error`
/// are called one at a time (under the batch's lock), in completion order; a line or an item whose
/// options the knowledge refuses (an unknown provider) goes to `on_error`, never stopping the rest.
/// The reader's UsageError for a bad CSV header is thrown after the checks in flight end.
BatchSummary run_batch(BatchReader& reader, const Knowledge&, const BatchOptions&,
                       const std::function<void(const BatchResult&)>& on_result,
                       const std::function<void(const BatchLineError&)>& on_error);

/// The domains of `reader` in this shard that `skip` does not skip, with no network step:
/// `certdoctor batch --plan`. Bad lines go to `on_error`.
BatchSummary plan_batch(BatchReader& reader, const BatchOptions&, const std::function<void(const BatchItem&)>& on_item,
                        const std::function<void(const BatchLineError&)>& on_error);

/// The domain of an item as checks and records name it (A-label form, lower case), for matching
/// results already written; "" when util/domain refuses it.
std::string batch_key(const std::string& domain);

} // namespace certdoctor::pipeline
