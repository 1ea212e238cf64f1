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

BatchSummary plan_batch(BatchReader& reader, const BatchOptions& o, const std::function<void(const BatchItem&)>& on_item,
                        const std::function<void(const BatchLineError&)>& on_error) {
  BatchSummary s;
  std::vector<BatchLineError> errors;
  while (true) {
    auto item = reader.next(errors);
    for (const auto& e : errors) {
      ++s.bad_lines;
      worsen(s.status, exit_usage);
      on_error(e);
    }
    errors.clear();
    if (!item) break;
    ++s.read;
    if (shard_of(item->domain, o.shards) != o.shard) {
      ++s.other_shards;
      continue;
    }
    if (o.skip && o.skip(*item)) {
      ++s.skipped;
      continue;
    }
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

  std::mutex mutex;  // the reader, the summary and the callbacks
  BatchSummary s;
  bool input_done = false;
  std::exception_ptr failure;  // a bad CSV header, or a callback that threw

  // Takes the next item of this shard to check, reporting bad lines on the way; nullopt at the end.
  const auto take = [&]() -> std::optional<BatchItem> {
    std::vector<BatchLineError> errors;
    while (!input_done && !failure) {
      std::optional<BatchItem> item;
      try {
        item = reader.next(errors);
      } catch (...) {
        failure = std::current_exception();
        input_done = true;
      }
      for (const auto& e : errors) {
        ++s.bad_lines;
        worsen(s.status, exit_usage);
        on_error(e);
      }
      errors.clear();
      if (!item) {
        input_done = true;
        break;
      }
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
    return std::nullopt;
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
      const CheckOptions c = options_for(*item, o.base);
      const auto started = std::chrono::steady_clock::now();
      try {
        validate(c, k);  // the item's provider and addresses against the knowledge
        facts::Facts f = gather(c, k);
        Diagnosis d = diagnose(f, k, o.lang);
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
