#include "store/due.hpp"

#include <algorithm>

namespace certdoctor::store {

std::vector<Due> due(const std::vector<Record>& latest, std::int64_t now, std::int64_t within,
                     const std::function<Window(const std::string&)>& window_of, std::int64_t min_age) {
  std::vector<Due> out;
  for (const auto& r : latest) {
    if (now - r.finished_at < min_age) continue;
    Due d;
    d.last = r;
    d.window = window_of(r.provider);
    if (!r.cert_not_after) d.state = "unknown";
    else {
      d.opens = *r.cert_not_after - std::int64_t{d.window.days} * 86400;
      if (*r.cert_not_after <= now) d.state = "expired";
      else if (*d.opens <= now) d.state = "open";
      else if (*d.opens <= now + within) d.state = "soon";
      else continue;
    }
    out.push_back(std::move(d));
  }
  std::stable_sort(out.begin(), out.end(), [](const Due& a, const Due& b) {
    if (a.opens.has_value() != b.opens.has_value()) return a.opens.has_value();
    return a.opens && *a.opens < *b.opens;
  });
  return out;
}

} // namespace certdoctor::store
