#include "pipeline/batch.hpp"

#include <algorithm>
#include <chrono>
#include <exception>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

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

  std::mutex mutex;  // the reader, the summary and the callbacks
  BatchSummary s;
  bool input_done = false;
  std::exception_ptr failure;  // a bad CSV header, or a callback that threw

  // Takes the next item of this shard to check (under the mutex); nullopt at the end.
  const auto take = [&]() -> std::optional<BatchItem> {
    if (input_done || failure) return std::nullopt;
    std::optional<BatchItem> item;
    try {
      item = next_planned(reader, o, s, on_error);
    } catch (...) {
      failure = std::current_exception();
    }
    if (!item) input_done = true;
    return item;
  };

  const auto worker = [&] {
    while (true) {
      std::optional<BatchItem> item;
      {
        const std::lock_guard<std::mutex> lock(mutex);
        try {
          item = take();
        } catch (...) {
          if (!failure) failure = std::current_exception();
          input_done = true;
        }
      }
      if (!item) return;
      const CheckOptions c = options_for(*item, base);
      const auto started = std::chrono::steady_clock::now();
      try {
        validate(c, k);  // the item's provider and addresses against the knowledge
        facts::Facts f = gather(c, k);
        Diagnosis d = diagnose(f, k, o.lang, DiagnoseOptions{.picture = false});  // JSON only: no HTML picture
        const int status = exit_status(d);
        const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
        const std::lock_guard<std::mutex> lock(mutex);
        ++s.checked;
        worsen(s.status, status);
        ++s.verdicts[d.report.verdict];
        std::set<std::string> ids;
        for (const auto& finding : d.findings) ids.insert(finding.id);
        for (const auto& id : ids) ++s.findings[id];
        try {
          on_result(BatchResult{*item, f, d, status, seconds});
        } catch (...) {
          if (!failure) failure = std::current_exception();
          input_done = true;
        }
      } catch (const UsageError& e) {
        // An item whose options the knowledge refuses (an unknown provider): its line, and go on.
        const std::lock_guard<std::mutex> lock(mutex);
        ++s.bad_lines;
        worsen(s.status, exit_usage);
        try {
          on_error(BatchLineError{item->line, printable(item->domain, 200),
                                  Message{"batch-line-invalid", {{"line", std::to_string(item->line)}, {"detail", e.what()}}}});
        } catch (...) {
          if (!failure) failure = std::current_exception();
          input_done = true;
        }
      } catch (const std::exception& e) {
        // Our own failure, never the domain's: reported on its line as an incomplete check.
        const std::lock_guard<std::mutex> lock(mutex);
        ++s.bad_lines;
        worsen(s.status, exit_incomplete);
        try {
          on_error(BatchLineError{item->line, printable(item->domain, 200),
                                  Message{"batch-check-failed", {{"line", std::to_string(item->line)},
                                                                 {"domain", printable(item->domain)}, {"detail", e.what()}}}});
        } catch (...) {
          if (!failure) failure = std::current_exception();
          input_done = true;
        }
      }
    }
  };

  std::vector<std::thread> threads;
  threads.reserve(o.concurrency);
  for (std::size_t i = 0; i < o.concurrency; ++i) threads.emplace_back(worker);
  for (auto& t : threads) t.join();
  if (failure) std::rethrow_exception(failure);
  return s;
}

} // namespace certdoctor::pipeline
