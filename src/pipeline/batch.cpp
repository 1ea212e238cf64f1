#include "pipeline/batch.hpp"

#include <algorithm>
#include <chrono>
#include <exception>
#include <mutex>
#include <set>
#include <optional>
#include <vector>

#include "pipeline/runner.hpp"
#include "util/domain.hpp"
#include "util/error.hpp"
#include "util/text.hpp"

namespace certdoctor::pipeline {

namespace {

// Input and option errors count as a usage error (2) in the batch's status.
void worsen(int& status, int s) { status = std::max(status, s); }

} // namespace

void validate(const BatchOptions& o, const Knowledge& k) {
  if (o.concurrency < 1 || o.concurrency > BatchOptions::max_concurrency)
    throw UsageError(Message{"batch-concurrency-range",
                             {{"value", std::to_string(o.concurrency)}, {"max", std::to_string(BatchOptions::max_concurrency)}}});
  if (o.shards < 1 || o.shard >= o.shards)
    throw UsageError(Message{"batch-shard-invalid", {{"value", std::to_string(o.shard) + "/" + std::to_string(o.shards)}}});
  // The base options without a domain: a stand-in name lets validate() check the rest.
  CheckOptions base = o.base;
  base.domain = "example.jp";
  validate(base, k);
}

std::string batch_key(const std::string& domain) {
  try {
    return parse_domain(domain).ascii;
  } catch (const Error&) {
    return "";
  }
}

namespace {

// The next item of this shard that is not to be skipped, reporting bad lines on the way and
// counting what it passes over; nullopt at the end of the input.
std::optional<BatchItem> next_planned(BatchReader& reader, const BatchOptions& o, BatchSummary& s,
                                      const std::function<void(const BatchLineError&)>& on_error) {
  std::vector<BatchLineError> errors;
  while (true) {
    auto item = reader.next(errors);
    for (const auto& e : errors) {
      ++s.bad_lines;
      worsen(s.status, exit_usage);
      on_error(e);
    }
    errors.clear();
    if (!item) return std::nullopt;
    ++s.read;
    if (shard_of(item->domain, o.shards) != o.shard) {
      ++s.other_shards;
      continue;
    }
    if (o.skip && o.skip(*item)) {
      ++s.skipped;
      continue;
    }
    return item;
  }
}

} // namespace

BatchSummary plan_batch(BatchReader& reader, const BatchOptions& o, const std::function<void(const BatchItem&)>& on_item,
                        const std::function<void(const BatchLineError&)>& on_error) {
  BatchSummary s;
  while (auto item = next_planned(reader, o, s, on_error)) {
    ++s.planned;
    on_item(*item);
  }
  return s;
}

BatchSummary run_batch(BatchReader& reader, const Knowledge& k, const BatchOptions& o,
                       const std::function<void(const BatchResult&)>& on_result,
                       const std::function<void(const BatchLineError&)>& on_error) {
  // The message renderer loads its words on first use: load them before any thread may render.
  (void)render_message(Message{"prefix", {}});

  // Every check of the batch keeps the same limits towards each server and shares its answers.
  CheckOptions base = o.base;
  if (!base.shared) base.shared = std::make_shared<probe::SharedProbes>(base.politeness);

  std::mutex mutex;  // the summary and the callbacks
  BatchSummary s;
  std::exception_ptr failure;  // a bad CSV header, or a callback that threw

  // A line's error, or our failure on it, in the summary and to on_error (under the mutex).
  const auto line_error = [&](const BatchItem& item, int status, Message message) {
    ++s.bad_lines;
    worsen(s.status, status);
    try {
      on_error(BatchLineError{item.line, printable(item.domain, 200), std::move(message)});
    } catch (...) {
      if (!failure) failure = std::current_exception();
    }
  };
  const auto failed = [&](const BatchItem& item, std::exception_ptr error) {
    try {
      std::rethrow_exception(error);
    } catch (const UsageError& e) {
      // An item whose options the knowledge refuses (an unknown provider): its line, and go on.
      line_error(item, exit_usage,
                 Message{"batch-line-invalid", {{"line", std::to_string(item.line)}, {"detail", e.what()}}});
    } catch (const std::exception& e) {
      // Our own failure, never the domain's: reported on its line as an incomplete check.
      line_error(item, exit_incomplete,
                 Message{"batch-check-failed", {{"line", std::to_string(item.line)},
                                                {"domain", printable(item.domain)}, {"detail", e.what()}}});
    }
  };

  {
    // The probes of every check run on one engine; each diagnosis on the runner's pool.
    CheckRunner runner(k, base.engine);
    for (;;) {
      runner.wait_below(o.concurrency);
      {
        const std::lock_guard<std::mutex> lock(mutex);
        if (failure) break;
      }
      std::optional<BatchItem> item;
      try {
        // Only this thread reads; on_error is still called under the mutex.
        std::unique_lock<std::mutex> lock(mutex);
        item = next_planned(reader, o, s, on_error);
      } catch (...) {
        const std::lock_guard<std::mutex> lock(mutex);
        if (!failure) failure = std::current_exception();
        break;
      }
      if (!item) break;
      const CheckOptions c = options_for(*item, base);
      const auto started = std::chrono::steady_clock::now();
      try {
        validate(c, k);  // the item's provider and addresses against the knowledge
      } catch (...) {
        const std::lock_guard<std::mutex> lock(mutex);
        failed(*item, std::current_exception());
        continue;
      }
      runner.submit(c, [&, item = *item, started](facts::Facts* f, std::exception_ptr error) {
        if (!f) {
          const std::lock_guard<std::mutex> lock(mutex);
          failed(item, error);
          return;
        }
        std::optional<Diagnosis> d;
        try {
          // JSON only: no HTML picture, and the facts' JSON only in the report (the NDJSON line's).
          d.emplace(diagnose(*f, k, o.lang, DiagnoseOptions{.picture = false, .view_facts = false}));
        } catch (...) {
          const std::lock_guard<std::mutex> lock(mutex);
          failed(item, std::current_exception());
          return;
        }
        const int status = exit_status(*d);
        const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
        const std::lock_guard<std::mutex> lock(mutex);
        ++s.checked;
        worsen(s.status, status);
        ++s.verdicts[d->report.verdict];
        std::set<std::string> ids;
        for (const auto& finding : d->findings) ids.insert(finding.id);
        for (const auto& id : ids) ++s.findings[id];
        try {
          on_result(BatchResult{item, *f, *d, status, seconds});
        } catch (...) {
          if (!failure) failure = std::current_exception();
        }
      });
    }
    runner.drain();
  }
  if (failure) std::rethrow_exception(failure);
  return s;
}

} // namespace certdoctor::pipeline
