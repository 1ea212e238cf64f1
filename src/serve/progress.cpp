#include "serve/progress.hpp"

#include <cmath>

#include "util/error.hpp"

namespace certdoctor::serve {

void ProgressLog::add(const pipeline::ProgressEvent& e) {
  std::lock_guard lock(mutex_);
  if (events_.size() < cap_) events_.push_back(e);
  else ++dropped_;
}

ProgressLog::Slice ProgressLog::from(std::size_t index) const {
  std::lock_guard lock(mutex_);
  Slice s;
  for (std::size_t i = index; i < events_.size(); ++i) s.events.push_back(events_[i]);
  s.next = std::max(index, events_.size());
  s.dropped = dropped_;
  return s;
}

std::string progress_text(const pipeline::ProgressEvent& e, const report::Labels& labels, const std::string& lang) {
  std::string key = e.kind;
  if (e.kind == "walk" && e.level.empty()) key = "walk_root";
  if (e.kind == "addresses" && e.address.empty()) key = "addresses_none";
  if (e.kind == "http") key = e.status > 0 ? "http_answer" : "http_fail";
  if (e.kind == "tls") key = e.outcome == "handshake" ? "tls_answer" : "tls_fail";
  std::string outcome = labels.get(lang, "serve.outcomes." + e.outcome);
  if (outcome == "serve.outcomes." + e.outcome) outcome = e.outcome;
  const Message words{"", {{"name", e.name},
                           {"type", e.type},
                           {"server", e.server},
                           {"address", e.address},
                           {"level", e.level},
                           {"url", e.url},
                           {"status", std::to_string(e.status)},
                           {"outcome", outcome},
                           {"ms", std::to_string(static_cast<long long>(std::llround(e.at_ms)))}}};
  const std::string text = labels.get(lang, "serve.progress." + key);
  return fill_message(text, words);
}

}  // namespace certdoctor::serve
