#include "probe/outside_probe.hpp"

#include "util/text.hpp"

#include <algorithm>
#include <cctype>
#include <map>
#include <optional>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "probe/cache.hpp"
#include "probe/fetch.hpp"

namespace certdoctor::probe {

namespace {

using nlohmann::json;

// Thrown only inside this file, and caught by the parsers: a shape the sources never send.
struct Malformed {
  std::string reason;
};

std::string trim(const std::string& s) {
  const auto b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return "";
  const auto e = s.find_last_not_of(" \t\r\n");
  return s.substr(b, e - b + 1);
}

// A string member: "" when absent or null, Malformed when of another type.
std::string str(const json& obj, const char* key, const std::string& where) {
  const auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return "";
  if (!it->is_string()) throw Malformed{where + ": \"" + key + "\" is not a string"};
  return it->get<std::string>();
}

// A time member normalised to RFC 3339 UTC: "" when absent, Malformed when unreadable.
std::string time_field(const json& obj, const char* key, const std::string& where) {
  const std::string raw = str(obj, key, where);
  if (raw.empty()) return "";
  const auto t = facts::parse_utc_time(raw);
  if (!t) throw Malformed{where + ": \"" + key + "\" is not a time: " + raw.substr(0, 64)};
  return facts::format_utc_time(*t);
}

// Let's Encrypt's intermediates all carry O=Let's Encrypt in their subject (e.g. "C=US,
// O=Let's Encrypt, CN=R3"); the CN changes with every new intermediate, the O does not.
bool is_lets_encrypt_issuer(const std::string& issuer) {
  std::size_t pos = 0;
  while (pos <= issuer.size()) {
    const auto comma = issuer.find(',', pos);
    std::string part = trim(issuer.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos));
    if (part.size() >= 2 && (part[0] == 'O' || part[0] == 'o') && part[1] == '=') {
      std::string value = part.substr(2);
      if (value.size() >= 2 && value.front() == '"' && value.back() == '"') value = value.substr(1, value.size() - 2);
      if (value == "Let's Encrypt") return true;
    }
    if (comma == std::string::npos) break;
    pos = comma + 1;
  }
  return false;
}

bool within(const std::string& name, const std::string& domain) {
  return name == domain ||
         (name.size() > domain.size() && name.compare(name.size() - domain.size(), domain.size(), domain) == 0 &&
          name[name.size() - domain.size() - 1] == '.');
}

// The time a certificate counts from: not_before, else the log entry's time.
const std::string& issued(const facts::CtCertificate& c) { return c.not_before.empty() ? c.logged_at : c.not_before; }

void parse_ct(const json& doc, const std::string& domain, std::vector<facts::CtCertificate>& out) {
  if (!doc.is_array()) throw Malformed{"the answer is not a JSON array"};
  const std::string want = lower(domain);
  std::map<std::string, std::size_t> by_serial;
  std::size_t index = 0;
  for (const auto& entry : doc) {
    const std::string where = "entry " + std::to_string(index++);
    if (!entry.is_object()) throw Malformed{where + " is not an object"};
    facts::CtCertificate c;
    c.serial = lower(str(entry, "serial_number", where));
    c.issuer = str(entry, "issuer_name", where);
    c.not_before = time_field(entry, "not_before", where);
    c.not_after = time_field(entry, "not_after", where);
    c.logged_at = time_field(entry, "entry_timestamp", where);
    if (const auto id = entry.find("id"); id != entry.end() && !id->is_null() && !id->is_number_integer())
      throw Malformed{where + ": \"id\" is not an integer"};
    std::string names = str(entry, "name_value", where);
    if (names.empty()) names = str(entry, "common_name", where);
    std::size_t pos = 0;
    while (pos <= names.size()) {
      const auto nl = names.find('\n', pos);
      std::string name = lower(trim(names.substr(pos, nl == std::string::npos ? std::string::npos : nl - pos)));
      if (!name.empty() && name.back() == '.') name.pop_back();
      if (!name.empty()) c.names.push_back(std::move(name));
      if (nl == std::string::npos) break;
      pos = nl + 1;
    }
    std::sort(c.names.begin(), c.names.end());
    c.names.erase(std::unique(c.names.begin(), c.names.end()), c.names.end());
    // A text search may also match names elsewhere; only this domain's tree counts.
    if (std::none_of(c.names.begin(), c.names.end(), [&](const std::string& n) { return within(n, want); }))
      continue;
    c.lets_encrypt = is_lets_encrypt_issuer(c.issuer);
    if (c.serial.empty()) {
      const auto id = entry.find("id");
      c.serial = (id != entry.end() && id->is_number_integer()) ? "crtsh-id:" + id->dump() : "";
    }
    // crt.sh lists a precertificate and its certificate as two entries with one serial number.
    if (!c.serial.empty()) {
      const auto [it, inserted] = by_serial.emplace(c.issuer + "|" + c.serial, out.size());
      if (!inserted) {
        auto& first = out[it->second];
        if (!c.logged_at.empty() && (first.logged_at.empty() || c.logged_at < first.logged_at))
          first.logged_at = c.logged_at;
        if (first.not_before.empty()) first.not_before = c.not_before;
        if (first.not_after.empty()) first.not_after = c.not_after;
        continue;
      }
    }
    out.push_back(std::move(c));
  }
  // Newest first; RFC 3339 UTC strings of one form sort as times.
  std::stable_sort(out.begin(), out.end(),
                   [](const facts::CtCertificate& a, const facts::CtCertificate& b) { return issued(a) > issued(b); });
  if (out.size() > max_ct_certificates) out.resize(max_ct_certificates);
}

std::vector<facts::StatusIncident> parse_events(const json& result, const json::json_pointer& ptr,
                                                const char* kind, const char* start_key) {
  std::vector<facts::StatusIncident> out;
  if (!result.contains(ptr)) return out;
  const json& list = result.at(ptr);
  const std::string where = ptr.to_string();
  if (list.is_null()) return out;
  if (!list.is_array()) throw Malformed{where + " is not an array"};
  std::size_t index = 0;
  for (const auto& e : list) {
    const std::string at = where + "/" + std::to_string(index++);
    if (!e.is_object()) throw Malformed{at + " is not an object"};
    facts::StatusIncident inc;
    inc.kind = kind;
    inc.id = str(e, "_id", at);
    if (inc.id.empty()) inc.id = str(e, "id", at);
    inc.name = str(e, "name", at);
    inc.status = str(e, "status", at);
    inc.started = str(e, start_key, at);
    if (const auto t = facts::parse_utc_time(inc.started)) inc.started = facts::format_utc_time(*t);
    if (out.size() < 100) out.push_back(std::move(inc));
  }
  return out;
}

void parse_status(const json& doc, facts::StatusFacts& out) {
  if (!doc.is_object()) throw Malformed{"the answer is not a JSON object"};
  const auto result = doc.find("result");
  if (result == doc.end() || !result->is_object()) throw Malformed{"no \"result\" object"};
  const auto overall = result->find("status_overall");
  if (overall == result->end() || !overall->is_object()) throw Malformed{"no \"result.status_overall\" object"};
  const auto code = overall->find("status_code");
  if (code == overall->end() || !code->is_number_integer())
    throw Malformed{"\"result.status_overall.status_code\" is not an integer"};
  const auto value = code->get<std::int64_t>();
  if (value < 0 || value > 999) throw Malformed{"\"result.status_overall.status_code\" is out of range"};
  out.overall_code = static_cast<int>(value);
  out.overall_status = str(*overall, "status", "result.status_overall");
  if (const auto m = result->find("maintenance"); m != result->end() && !m->is_null() && !m->is_object())
    throw Malformed{"\"result.maintenance\" is not an object"};
  auto incidents = parse_events(*result, json::json_pointer("/incidents"), "incident", "datetime_open");
  auto active = parse_events(*result, json::json_pointer("/maintenance/active"), "maintenance-active",
                             "datetime_planned_start");
  auto upcoming = parse_events(*result, json::json_pointer("/maintenance/upcoming"), "maintenance-upcoming",
                               "datetime_planned_start");
  out.incidents = std::move(incidents);
  out.incidents.insert(out.incidents.end(), active.begin(), active.end());
  out.incidents.insert(out.incidents.end(), upcoming.begin(), upcoming.end());
}

void mark_malformed(facts::FetchFact& fetch, const std::string& reason) {
  fetch.outcome = "malformed";
  fetch.error = reason;
}

bool disabled(const std::string& url) { return url.empty() || url == "none"; }

std::string now_rfc3339(std::int64_t& seconds) {
  seconds = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
                .count();
  return facts::format_utc_time(seconds);
}

} // namespace

std::string ct_query_url(const std::string& base, const std::string& domain) {
  std::string url = base;
  while (!url.empty() && url.back() == '/') url.pop_back();
  // %25 is '%': crt.sh would read a bare '%' in q as a wildcard. A registered domain is plain
  // LDH after IDNA, so other characters are escaped only to keep a hostile input inert.
  std::string q;
  static constexpr char hex[] = "0123456789ABCDEF";
  for (unsigned char c : domain) {
    if (std::isalnum(c) || c == '.' || c == '-') {
      q += static_cast<char>(c);
    } else {
      q += '%';
      q += hex[c >> 4];
      q += hex[c & 0xf];
    }
  }
  return url + "/?q=" + q + "&output=json&deduplicate=Y";
}

void parse_ct_json(const std::string& body, const std::string& domain, facts::CtFacts& out) {
  out.certificates.clear();
  try {
    const json doc = json::parse(body, nullptr, false);
    if (doc.is_discarded()) return mark_malformed(out.fetch, "the answer is not JSON");
    parse_ct(doc, domain, out.certificates);
  } catch (const Malformed& m) {
    out.certificates.clear();
    mark_malformed(out.fetch, m.reason);
  } catch (const std::exception& e) {
    out.certificates.clear();
    mark_malformed(out.fetch, e.what());
  }
}

void parse_status_json(const std::string& body, facts::StatusFacts& out) {
  out.incidents.clear();
  try {
    const json doc = json::parse(body, nullptr, false);
    if (doc.is_discarded()) return mark_malformed(out.fetch, "the answer is not JSON");
    parse_status(doc, out);
  } catch (const Malformed& m) {
    out.incidents.clear();
    mark_malformed(out.fetch, m.reason);
  } catch (const std::exception& e) {
    out.incidents.clear();
    mark_malformed(out.fetch, e.what());
  }
}

class OutsideCheck::Impl {
 public:
  Impl(OutsideRequest request, void* multi) : request_(std::move(request)), multi_(multi) {}

  void start() {
    try {
      cache_.emplace(request_.use_cache ? default_cache_dir(request_.cache_dir) : std::string());
      ct_.fact.query_domain = request_.registered_domain;
      ct_.on = !disabled(request_.ct_url) && !request_.registered_domain.empty();
      status_.on = !disabled(request_.status_url);
      if (ct_.on) ct_.fact.fetch.url = ct_query_url(request_.ct_url, request_.registered_domain);
      else ct_.fact.fetch.outcome = "disabled";
      if (status_.on) status_.fact.fetch.url = request_.status_url;
      else status_.fact.fetch.outcome = "disabled";
      // In a batch, another check of the same registered domain may have the answer already, or
      // be fetching it: it is then taken from that check (as from the disk cache) and not asked
      // again. A failed fetch is not shared: the next check asks again.
      if (request_.shared) {  // a lone check shares nothing
        if (ct_.on) ct_.waiting = true;
        if (status_.on) status_.waiting = true;
      }
      advance(ct_, request_.shared ? &request_.shared->ct : nullptr);
      advance(status_, request_.shared ? &request_.shared->status : nullptr);
    } catch (const std::exception& e) {
      failed(e);
    }
  }

  SteadyClock::time_point step(SteadyClock::time_point now) {
    try {
      if (now >= request_.deadline) {
        end();
        return SteadyClock::time_point::max();
      }
      advance(ct_, request_.shared ? &request_.shared->ct : nullptr);
      advance(status_, request_.shared ? &request_.shared->status : nullptr);
    } catch (const std::exception& e) {
      failed(e);
    }
    // Another check's fetch is looked for again shortly.
    if (ct_.waiting || status_.waiting) return std::min(now + std::chrono::milliseconds(5), request_.deadline);
    return request_.deadline;
  }

  bool done() const { return ct_.settled() && status_.settled(); }

  void finish(facts::CtFacts& ct, facts::StatusFacts& status) {
    end();
    ct = std::move(ct_.fact);
    status = std::move(status_.fact);
  }

  ~Impl() { end(); }

 private:
  template <class F>
  struct Source {
    F fact;
    bool on = false;
    bool waiting = false;  // for another check of the batch
    bool mine = false;     // the batch's fetch of it is this check's
    bool published = false;
    std::unique_ptr<Fetch> fetch;
    bool settled() const { return !waiting && !fetch; }
  };

  void failed(const std::exception& e) {
    // Out of memory: the sources are then unread, which the rules report.
    for (auto* fetch : {&ct_.fact.fetch, &status_.fact.fetch}) {
      if (fetch->outcome == "not-fetched") {
        fetch->outcome = "error";
        fetch->error = e.what();
      }
    }
    ct_.waiting = status_.waiting = false;
    ct_.fetch.reset();
    status_.fetch.reset();
    publish(ct_, request_.shared ? &request_.shared->ct : nullptr, ct_cache_lifetime);
    publish(status_, request_.shared ? &request_.shared->status : nullptr, status_cache_lifetime);
  }

  void parse(facts::CtFacts& f, const std::string& body) { parse_ct_json(body, request_.registered_domain, f); }
  void parse(facts::StatusFacts& f, const std::string& body) { parse_status_json(body, f); }
  static std::chrono::seconds lifetime(const facts::CtFacts&) { return ct_cache_lifetime; }
  static std::chrono::seconds lifetime(const facts::StatusFacts&) { return status_cache_lifetime; }
  // crt.sh's database is often slow to answer; the status page is small and fast.
  static std::chrono::seconds fetch_limit(const facts::CtFacts&) { return std::chrono::seconds(30); }
  static std::chrono::seconds fetch_limit(const facts::StatusFacts&) { return std::chrono::seconds(10); }

  // Moves one source on: from the batch, from the disk cache, from the network.
  template <class F>
  void advance(Source<F>& src, OnceTable<F>* table) {
    if (!src.on) return;
    if (src.waiting) {
      bool mine = false;
      auto value = table->take(src.fact.fetch.url, mine);
      if (value) {
        src.fact = std::move(*value);
        src.fact.fetch.from_cache = true;
        src.waiting = false;
        src.on = false;
        return;
      }
      if (!mine) return;  // another check is fetching it
      src.waiting = false;
      src.mine = true;
      // A fresh cached answer is used only when it still parses; otherwise it is fetched again.
      if (from_cache(src)) {
        publish(src, table, lifetime(src.fact));
        src.on = false;
        return;
      }
    } else if (!src.fetch) {
      if (from_cache(src)) {
        src.on = false;
        return;
      }
    }
    if (!src.fetch) {
      src.fetch = std::make_unique<Fetch>(FetchRequest{src.fact.fetch.url, fetch_limit(src.fact)}, request_.deadline, multi_);
    }
    if (!src.fetch->done()) return;
    take_result(src, table);
  }

  template <class F>
  bool from_cache(Source<F>& src) {
    const auto entry = cache_->get(src.fact.fetch.url, lifetime(src.fact), std::chrono::system_clock::now());
    if (!entry) return false;
    facts::FetchFact saved = src.fact.fetch;
    src.fact.fetch.outcome = "ok";
    src.fact.fetch.http_status = entry->status;
    src.fact.fetch.from_cache = true;
    src.fact.fetch.fetched_at = facts::format_utc_time(entry->fetched_at);
    parse(src.fact, entry->body);
    if (src.fact.fetch.outcome == "ok") return true;
    src.fact.fetch = saved;
    return false;
  }

  template <class F>
  void take_result(Source<F>& src, OnceTable<F>* table) {
    const FetchResult& r = src.fetch->result();
    facts::FetchFact& fetch = src.fact.fetch;
    std::int64_t fetched_s = 0;
    fetch.fetched_at = now_rfc3339(fetched_s);
    fetch.outcome = r.outcome;
    fetch.http_status = r.http_status;
    fetch.elapsed_ms = r.elapsed_ms;
    fetch.error = r.error;
    if (r.outcome == "ok") {
      parse(src.fact, r.body);
      if (fetch.outcome == "ok" && r.http_status == 200) cache_->put(CacheEntry{r.url, fetched_s, r.http_status, r.body});
    }
    src.fetch.reset();
    src.on = false;
    publish(src, table, lifetime(src.fact));
  }

  // Whatever this check's fetch gave, the checks waiting for it hear of it.
  template <class F>
  void publish(Source<F>& src, OnceTable<F>* table, std::chrono::seconds life) {
    if (!src.mine || src.published || !table) return;
    src.published = true;
    if (src.fact.fetch.outcome == "ok") table->put(src.fact.fetch.url, src.fact, life);
    else table->drop(src.fact.fetch.url);
  }

  template <class F>
  void end_source(Source<F>& src, OnceTable<F>* table) {
    if (src.waiting) {
      src.waiting = false;
      src.fact.fetch.outcome = "timeout";
      src.fact.fetch.error = "no answer before the deadline (another check of this batch was asking the same)";
    }
    if (src.fetch) {
      if (!src.fetch->done()) src.fetch->end();
      take_result(src, table);
    }
    publish(src, table, lifetime(src.fact));
  }

  void end() {
    end_source(ct_, request_.shared ? &request_.shared->ct : nullptr);
    end_source(status_, request_.shared ? &request_.shared->status : nullptr);
  }

  OutsideRequest request_;
  void* multi_;
  std::optional<Cache> cache_;
  Source<facts::CtFacts> ct_;
  Source<facts::StatusFacts> status_;
};

OutsideCheck::OutsideCheck(OutsideRequest request, void* multi) : impl_(std::make_unique<Impl>(std::move(request), multi)) {}

OutsideCheck::~OutsideCheck() = default;

void OutsideCheck::start() { impl_->start(); }

std::chrono::steady_clock::time_point OutsideCheck::step(std::chrono::steady_clock::time_point now) { return impl_->step(now); }

bool OutsideCheck::done() const { return impl_->done(); }

void OutsideCheck::finish(facts::CtFacts& ct, facts::StatusFacts& status) { impl_->finish(ct, status); }

} // namespace certdoctor::probe
