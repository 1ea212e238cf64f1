#pragma once
// The steps of a running check as the page shows them: a small thread-safe log the probes write
// to (through pipeline::CheckOptions::progress) while the page and the API read it, and each
// step in the reader's words (reports/labels.yaml `serve.progress`).
#include <cstddef>
#include <mutex>
#include <string>
#include <vector>

#include "pipeline/check.hpp"
#include "report/report.hpp"

namespace certdoctor::serve {

class ProgressLog {
 public:
  /// Keeps the first `cap` steps; later ones are only counted.
  explicit ProgressLog(std::size_t cap = 400) : cap_(cap) {}
  void add(const pipeline::ProgressEvent& e);

  struct Slice {
    std::vector<pipeline::ProgressEvent> events;  // from the asked index on
    std::size_t next = 0;                         // the index to ask from next time
    std::size_t dropped = 0;                      // steps beyond the cap
  };
  Slice from(std::size_t index) const;

 private:
  std::size_t cap_;
  mutable std::mutex mutex_;
  std::vector<pipeline::ProgressEvent> events_;
  std::size_t dropped_ = 0;
};

/// One step as a sentence in `lang` ("asking the .jp servers (a.dns.jp) for example.jp NS").
std::string progress_text(const pipeline::ProgressEvent& e, const report::Labels& labels, const std::string& lang);

}  // namespace certdoctor::serve
