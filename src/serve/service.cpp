#include "serve/service.hpp"

#include "probe/engine.hpp"

#include <algorithm>
#include <chrono>
#include <iostream>
#include <sstream>

#include "pipeline/record.hpp"
#include "pipeline/triage.hpp"
#include "pipeline/worker.hpp"
#include "probe/address_policy.hpp"
#include "report/html.hpp"
#include "triage/module.hpp"
#include "report/report.hpp"
#include "serve/http_util.hpp"
#include "util/domain.hpp"
#include "util/error.hpp"
#include "util/text.hpp"

namespace certdoctor::serve {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

namespace {

// The language error messages are rendered in on this thread (see install_messages).
thread_local std::string t_lang = "en";

// Runs `f` once per language and keeps what it throws as UsageError: the same message in ja and
// en. Empty when it threw nothing.
template <class F>
std::map<std::string, std::string> in_both(F&& f) {
  std::map<std::string, std::string> out;
  const std::string saved = t_lang;
  for (const char* lang : {"ja", "en"}) {
    t_lang = lang;
    try {
      f();
    } catch (const UsageError& e) {
      out[lang] = e.what();
    } catch (const ConfigError& e) {
      out[lang] = e.what();
    }
  }
  t_lang = saved;
  return out;
}

const char* kJson = "application/json";
const char* kHtml = "text/html; charset=utf-8";

std::string esc(const std::string& s) { return report::escape_html(s); }

std::string other(const std::string& lang) { return lang == "ja" ? "en" : "ja"; }

// The remaining words of a path after `prefix`, or nullopt.
std::optional<std::string> after(const std::string& path, const std::string& prefix) {
  if (path.size() <= prefix.size() || path.compare(0, prefix.size(), prefix) != 0) return std::nullopt;
  return path.substr(prefix.size());
}

std::string header(const Request& r, const std::string& name) {
  auto it = r.headers.find(name);
  return it == r.headers.end() ? "" : it->second;
}

bool content_type_is(const Request& r, const std::string& want) {
  std::string type = lower(header(r, "content-type"));
  type = type.substr(0, type.find(';'));
  while (!type.empty() && type.back() == ' ') type.pop_back();
  return type == want;
}

}  // namespace

std::vector<std::pair<std::string, std::string>> security_headers(bool script) {
  return {
      {"Content-Security-Policy", "default-src 'none'; style-src " + report::html_style_hash() +
                                      (script ? "; script-src 'self'; connect-src 'self'" : "") +
                                      "; img-src 'none'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"},
      {"X-Content-Type-Options", "nosniff"},
      {"Referrer-Policy", "no-referrer"},
      {"X-Frame-Options", "DENY"},
      {"Cache-Control", "no-store"},
  };
}

void Service::install_messages(const pipeline::Knowledge& knowledge) {
  set_message_renderer([labels = std::make_shared<report::Labels>(knowledge.labels)](const Message& m) -> std::string {
    for (const std::string& l : {t_lang, std::string("en")}) {
      const json* text = labels->find(l, "errors." + m.key);
      if (text && text->is_string()) return fill_message(text->get<std::string>(), m);
    }
    return "";
  });
}

Service::Service(Config config, const pipeline::Knowledge& knowledge)
    : config_(std::move(config)),
      k_(knowledge),
      acme_(triage::module().load_acme(knowledge.dirs)),
      clients_(config_.client_per_minute, config_.client_burst),
      domains_(config_.domain_per_minute, config_.domain_burst) {
  store_ = store::open(config_.db, store::Open::create);
  config_.defaults.allow_reserved = config_.lab;
  config_.defaults.policy = config_.lab ? probe::AddressPolicy::Mode::lab : probe::AddressPolicy::Mode::internet;
  if (store::is_postgres(config_.db)) {
    for (std::size_t i = 0; i < std::max<std::size_t>(1, config_.db_connections); ++i) {
      shared_.push_back(store::open_queue(config_.db));
      shared_free_.push_back(shared_.back().get());
    }
    if (config_.workers > 0) {
      shared_worker_ = store::open_queue(config_.db);
      workers_.emplace_back([this] { drain_shared(); });
    }
    return;
  }
  const std::size_t n = std::max<std::size_t>(config_.workers, 1);
  // Every worker's check runs its probes on the one engine loop.
  engine_ = std::make_shared<probe::Engine>();
  for (std::size_t i = 0; i < n; ++i) workers_.emplace_back([this] { work(); });
}

Service::~Service() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
    queue_.clear();
  }
  stop_workers_ = true;
  cv_.notify_all();
  for (auto& w : workers_) w.join();
}

Service::Counts Service::counts() const {
  if (!shared_.empty()) {
    const auto n = with_shared([](store::Queue& q) { return q.counts(); });
    return {static_cast<std::size_t>(n.at("queued")), static_cast<std::size_t>(n.at("running")),
            static_cast<std::size_t>(n.at("done"))};
  }
  std::lock_guard lock(mutex_);
  return {queue_.size(), running_, done_};
}

std::string Service::message(const std::string& lang, const Problem& p) const {
  const Message m{p.code, p.args};
  for (const std::string& l : {lang, std::string("en")}) {
    const json* text = k_.labels.find(l, "errors." + p.code);
    if (text && text->is_string()) return fill_message(text->get<std::string>(), m);
  }
  return p.code;
}

// ---- the workers ----------------------------------------------------------------------------

void Service::work() {
  for (;;) {
    std::shared_ptr<Job> job;
    {
      std::unique_lock lock(mutex_);
      cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (stopping_) return;
      job = queue_.front();
      queue_.pop_front();
      job->status = "running";
      ++running_;
    }
    run_job(job);
    std::lock_guard lock(mutex_);
    --running_;
    ++done_;
  }
}

// The service's own workers on the PostgreSQL queue: one worker loop with --workers checks at
// once, under the service's options and probe policy (each item carries the policy too). A
// database failure is logged and the loop starts again after a pause.
void Service::drain_shared() {
  pipeline::WorkerOptions w;
  w.id = pipeline::default_worker_id() + "/serve";
  w.concurrency = config_.workers;
  w.idle_seconds = config_.poll_seconds;
  w.lease_seconds = std::max<std::int64_t>(60, static_cast<std::int64_t>(config_.defaults.timeout_s) * 4);
  w.base = config_.defaults;
  w.record.db = config_.db;
  w.record.user = "web";
  w.record.source = "web";
  const auto log = [](const pipeline::WorkerEvent& e) {
    static const char* const kinds[] = {"started", "done", "failed", "retry", "lost"};
    if (e.kind == pipeline::WorkerEvent::started) return;
    std::cerr << "certdoctor serve: queue item " << e.item << " " << e.domain << " " << kinds[e.kind]
              << (e.verdict.empty() ? "" : " " + e.verdict) << (e.reason.empty() ? "" : ": " + e.reason) << '\n';
  };
  while (!stop_workers_) {
    try {
      pipeline::run_worker(*shared_worker_, k_, w, stop_workers_, log);
    } catch (const std::exception& e) {
      std::cerr << "certdoctor serve: the workers stopped on a database error, again in 5 s: " << e.what() << '\n';
      for (int i = 0; i < 50 && !stop_workers_; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(100));
      try {
        shared_worker_ = store::open_queue(config_.db);
      } catch (const std::exception&) {
        // still unreachable: the next round says so
      }
    }
  }
}

store::Queue* Service::reconnect(store::Queue* q) const {
  try {
    auto fresh = store::open_queue(config_.db);
    std::lock_guard lock(shared_mutex_);
    for (auto& c : shared_)
      if (c.get() == q) {
        c = std::move(fresh);
        return c.get();
      }
  } catch (const std::exception& e) {
    std::cerr << "certdoctor serve: the database cannot be reached again yet: " << e.what() << '\n';
  }
  return q;
}

void Service::run_job(const std::shared_ptr<Job>& job) {
  const auto started = Clock::now();
  std::string status = "done", error, verdict;
  std::optional<facts::Facts> gathered;
  std::int64_t record_id = 0;
  try {
    pipeline::CheckOptions options = job->options;
    options.progress = [log = job->progress](const pipeline::ProgressEvent& e) { log->add(e); };
    options.engine = engine_;
    facts::Facts f = pipeline::gather(options, k_);
    const auto d = pipeline::diagnose(f, k_, "en");
    verdict = d.report.verdict;
    pipeline::RecordOptions ro;
    ro.db = config_.db;
    ro.user = "web";
    ro.ticket = "web:" + job->id;
    ro.source = "web";
    auto rec = pipeline::record_of(f, d.view, d.findings, d.report.verdict, k_, ro);
    gathered = std::move(f);
    try {
      std::lock_guard lock(store_mutex_);
      record_id = store_->add(rec);
    } catch (const std::exception& e) {
      // The result is shown from memory; its link lasts until the service restarts.
      std::cerr << "certdoctor serve: check " << job->id << ": not recorded: " << e.what() << '\n';
    }
  } catch (const std::exception& e) {
    status = "failed";
    error = e.what();
  }
  const double seconds = std::chrono::duration<double>(Clock::now() - started).count();
  std::cerr << "certdoctor serve: check " << job->id << " " << job->options.domain << " " << status
            << (verdict.empty() ? "" : " " + verdict) << " in " << static_cast<int>(seconds * 1000) << " ms"
            << (error.empty() ? "" : ": " + error) << '\n';
  std::lock_guard lock(mutex_);
  job->facts = std::move(gathered);
  job->record_id = record_id;
  job->error = error;
  job->verdict = verdict;
  job->status = status;
}

// ---- input ----------------------------------------------------------------------------------

std::optional<Service::Problem> Service::validate(const Input& in, pipeline::CheckOptions& o) {
  if (in.domain.find_first_not_of(" \t\r\n") == std::string::npos) return Problem{400, "serve-domain-missing", {}};
  if (in.provider != "auto" && !k_.data.providers().count(in.provider)) {
    std::string known;
    for (const auto& [id, p] : k_.data.providers()) known += (known.empty() ? "" : ", ") + id;
    return Problem{400, "serve-provider-invalid", {{"value", printable(in.provider)}, {"known", known}}};
  }
  if (!in.server_ip.empty() && probe::AddressPolicy::classify(in.server_ip) == "not-an-address")
    return Problem{400, "serve-server-ip-invalid", {{"value", printable(in.server_ip)}}};
  o = config_.defaults;
  o.domain = in.domain;
  // Spaces around a pasted domain are not part of it.
  const auto first = o.domain.find_first_not_of(" \t\r\n");
  const auto last = o.domain.find_last_not_of(" \t\r\n");
  o.domain = o.domain.substr(first, last - first + 1);
  o.provider = in.provider;
  o.server_ips.clear();
  if (!in.server_ip.empty()) o.server_ips.push_back(in.server_ip);
  o.www = in.www == "yes";
  o.no_www = in.www == "no";
  const auto texts = in_both([&] {
    parse_domain(o.domain);
    pipeline::validate(o, k_);
  });
  if (!texts.empty()) {
    Problem p{400, "domain-invalid", {}};
    p.args = {{"ja", texts.count("ja") ? texts.at("ja") : ""}, {"en", texts.count("en") ? texts.at("en") : ""}};
    return p;
  }
  return std::nullopt;
}

std::variant<std::string, Service::Problem> Service::submit(const Input& in, const std::string& client, bool fresh) {
  if (const int wait = clients_.take("client:" + client); wait > 0)
    return Problem{429, "serve-rate-client", {{"seconds", std::to_string(wait)}}, wait};
  pipeline::CheckOptions o;
  if (auto p = validate(in, o)) return *p;
  const DomainName d = parse_domain(o.domain);
  const std::string key = d.ascii + "|" + in.www + "|" + in.provider + "|" + in.server_ip;
  if (!shared_.empty()) return submit_shared(o, d.ascii, key, fresh);
  std::lock_guard lock(mutex_);
  // The same check asked again within a minute gets the same result.
  if (auto it = recent_.find(key); !fresh && it != recent_.end()) {
    auto job = jobs_.find(it->second);
    if (job != jobs_.end() && job->second->status != "failed" && Clock::now() - job->second->created < std::chrono::seconds(60))
      return job->second->id;
    recent_.erase(it);
  }
  const int check_seconds = std::max(1, static_cast<int>(config_.defaults.timeout_s));
  if (queue_.size() >= config_.queue) return Problem{429, "serve-queue-full", {{"seconds", std::to_string(check_seconds)}}, check_seconds};
  if (const int wait = domains_.take("domain:" + d.ascii); wait > 0)
    return Problem{429, "serve-rate-domain", {{"domain", d.unicode}, {"seconds", std::to_string(wait)}}, wait};
  auto job = std::make_shared<Job>();
  job->id = random_id();
  job->options = o;
  job->created = Clock::now();
  job->key = key;
  recent_[key] = job->id;
  remember(job);
  queue_.push_back(job);
  cv_.notify_one();
  return job->id;
}

void Service::remember(const std::shared_ptr<Job>& job) {
  jobs_[job->id] = job;
  job_order_.push_back(job->id);
  // Finished checks beyond the cap leave memory (the history keeps them).
  while (job_order_.size() > config_.max_jobs) {
    auto old = jobs_.find(job_order_.front());
    if (old != jobs_.end() && (old->second->status == "queued" || old->second->status == "running")) break;
    if (old != jobs_.end()) {
      if (auto r = recent_.find(old->second->key); r != recent_.end() && r->second == old->first) recent_.erase(r);
      jobs_.erase(old);
    }
    job_order_.pop_front();
  }
}

std::variant<std::string, Service::Problem> Service::submit_shared(const pipeline::CheckOptions& o, const std::string& ascii,
                                                                   const std::string& key, bool fresh) {
  // The same check asked again within a minute gets the same result; "check again" asks anew
  // (and later identical requests share the new one).
  const std::int64_t window = fresh ? 0 : 60;
  const int check_seconds = std::max(1, static_cast<int>(config_.defaults.timeout_s));
  try {
    return with_shared([&](store::Queue& q) -> std::variant<std::string, Problem> {
      if (auto ticket = fresh ? std::nullopt : q.recent(key, window)) return ticket->substr(4);
      if (q.pending() >= static_cast<std::int64_t>(config_.queue))
        return Problem{429, "serve-queue-full", {{"seconds", std::to_string(check_seconds)}}, check_seconds};
      if (const int wait = domains_.take("domain:" + ascii); wait > 0)
        return Problem{429, "serve-rate-domain", {{"domain", parse_domain(ascii).unicode}, {"seconds", std::to_string(wait)}}, wait};
      store::NewItem item;
      item.domain = o.domain;
      item.options = pipeline::queued_options(o);
      item.options["source"] = "web";
      item.options["user"] = "web";
      item.ticket = "web:" + random_id();
      item.request_key = key;
      return q.enqueue_once(item, window).substr(4);
    });
  } catch (const store::StoreError& e) {
    std::cerr << "certdoctor serve: queue: " << e.what() << '\n';
    return Problem{503, "serve-store", {{"detail", "queue"}}, check_seconds};
  }
}

std::shared_ptr<Service::Job> Service::find(const std::string& id) {
  if (!plausible_id(id)) return nullptr;
  {
    std::lock_guard lock(mutex_);
    if (auto it = jobs_.find(id); it != jobs_.end()) return it->second;
  }
  if (!shared_.empty())
    if (auto job = find_shared(id)) return job;
  std::optional<store::Record> r;
  if (!shared_.empty()) {
    r = with_shared([&](store::Queue& q) { return q.history().by_ticket("web:" + id); });
  } else {
    std::lock_guard lock(store_mutex_);
    r = store_->by_ticket("web:" + id);
  }
  if (!r) return nullptr;
  auto job = std::make_shared<Job>();
  job->id = id;
  job->status = "done";
  job->record_id = r->id;
  job->verdict = r->verdict;
  job->facts = facts::parse_document(r->facts, store_->where() + ", check " + std::to_string(r->id));
  job->options.domain = r->domain;
  job->created = Clock::now();
  std::lock_guard lock(mutex_);
  remember(job);
  return job;
}

// The item of a check in the PostgreSQL queue, whichever front end accepted it: its state, and
// once done the check its worker recorded (kept in memory then: it no longer changes). A failed
// item is the service's failure (its check never finished), never a verdict on the domain.
std::shared_ptr<Service::Job> Service::find_shared(const std::string& id) {
  std::optional<store::QueueRow> row;
  std::optional<store::Record> record;
  with_shared([&](store::Queue& q) {
    row = q.item_by_ticket("web:" + id);
    if (row && row->state == "done" && row->check_id) record = q.history().get(*row->check_id);
  });
  if (!row || (row->state == "done" && !record)) return nullptr;  // the history may still have it
  auto job = std::make_shared<Job>();
  job->id = id;
  job->status = row->state;
  job->options.domain = row->domain;
  job->created = Clock::now();
  if (row->state == "failed") job->error = row->last_error;
  if (!record) return job;
  job->record_id = record->id;
  job->facts = facts::parse_document(record->facts, store_->where() + ", check " + std::to_string(record->id));
  std::lock_guard lock(mutex_);
  remember(job);
  return job;
}

std::string Service::status_of(const std::string& id) {
  const auto job = find(id);
  if (!job) return "queued";
  std::lock_guard lock(mutex_);
  return job->status;
}

// ---- responses ------------------------------------------------------------------------------

Response Service::problem_json(const Problem& p) {
  Response r;
  r.status = p.status;
  json message;
  if (p.code == "domain-invalid") {
    for (const auto& [lang, text] : p.args) message[lang] = text;
  } else {
    message = {{"ja", this->message("ja", p)}, {"en", this->message("en", p)}};
  }
  r.body = json{{"error", {{"code", p.code}, {"message", message}}}}.dump() + "\n";
  if (p.retry_after > 0) r.headers.emplace_back("Retry-After", std::to_string(p.retry_after));
  return r;
}

namespace {

std::string page(const std::string& lang, const std::string& title, const std::string& body, int refresh = 0) {
  std::ostringstream o;
  o << "<!DOCTYPE html>\n<html lang=\"" << lang << "\">\n<head>\n<meta charset=\"utf-8\">\n"
    << "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
    << "<meta name=\"referrer\" content=\"no-referrer\">\n";
  if (refresh > 0) o << "<meta http-equiv=\"refresh\" content=\"" << refresh << "\">\n";
  o << "<title>" << esc(title) << "</title>\n<style>" << report::html_style() << "</style>\n</head>\n<body>\n"
    << body << "</body>\n</html>\n";
  return o.str();
}

}  // namespace

Response Service::problem_html(const Problem& p, const std::string& lang) {
  Response r;
  r.status = p.status;
  r.content_type = kHtml;
  const std::string text = p.code == "domain-invalid"
                               ? [&] {
                                   for (const auto& [l, t] : p.args)
                                     if (l == lang) return t;
                                   return std::string();
                                 }()
                               : message(lang, p);
  const std::string title = k_.labels.get(lang, "serve.error_title");
  std::string body = "<header class=\"page\"><h1>" + esc(title) + "</h1></header>\n<main>\n<p role=\"alert\">" + esc(text) +
                     "</p>\n<p><a href=\"/?lang=" + lang + "\">" + esc(k_.labels.get(lang, "serve.new_check")) + "</a></p>\n</main>\n";
  r.body = page(lang, title, body);
  if (p.retry_after > 0) r.headers.emplace_back("Retry-After", std::to_string(p.retry_after));
  return r;
}

Response Service::form_page(const std::string& lang, const Input& in, const std::optional<Problem>& problem, int status) {
  const auto L = [&](const std::string& key) { return esc(k_.labels.get(lang, "serve." + key)); };
  const int seconds = static_cast<int>(config_.defaults.timeout_s);
  std::ostringstream b;
  b << "<header class=\"page\"><h1>" << L("title") << "</h1></header>\n"
    << "<nav><a href=\"/?lang=" << other(lang) << "\" hreflang=\"" << other(lang) << "\" lang=\"" << other(lang) << "\">"
    << esc(k_.labels.get(lang, "serve.other_lang")) << "</a> · <a href=\"/triage?lang=" << lang << "\">"
    << esc(k_.labels.get(lang, "serve.triage_link")) << "</a></nav>\n<main>\n<p>"
    << esc(fill_message(k_.labels.get(lang, "serve.intro"), Message{"", {{"seconds", std::to_string(seconds)}}})) << "</p>\n";
  if (problem) {
    std::string text;
    if (problem->code == "domain-invalid") {
      for (const auto& [l, t] : problem->args)
        if (l == lang) text = t;
    } else {
      text = message(lang, *problem);
    }
    b << "<section class=\"error\" role=\"alert\"><h2>" << L("error_title") << "</h2>\n<p>" << esc(text) << "</p></section>\n";
  }
  b << "<form method=\"post\" action=\"/check\" accept-charset=\"utf-8\">\n"
    << "<input type=\"hidden\" name=\"lang\" value=\"" << lang << "\">\n"
    << "<p><label for=\"domain\">" << L("domain") << "</label><br>\n"
    << "<input id=\"domain\" name=\"domain\" type=\"text\" required maxlength=\"300\" size=\"40\" spellcheck=\"false\" "
       "autocapitalize=\"off\" aria-describedby=\"domain-hint\" value=\""
    << esc(in.domain) << "\"> <small id=\"domain-hint\">" << L("domain_hint") << "</small></p>\n"
    << "<fieldset><legend>" << L("www") << "</legend>\n";
  for (const auto& [value, key] : {std::pair{"", "www_auto"}, std::pair{"yes", "www_yes"}, std::pair{"no", "www_no"}}) {
    const std::string id = std::string("www-") + (value[0] ? value : "auto");
    b << "<label for=\"" << id << "\"><input type=\"radio\" id=\"" << id << "\" name=\"www\" value=\"" << value << "\""
      << (in.www == value ? " checked" : "") << "> " << L(key) << "</label><br>\n";
  }
  b << "</fieldset>\n<p><label for=\"provider\">" << L("provider") << "</label><br>\n<select id=\"provider\" name=\"provider\">\n"
    << "<option value=\"auto\">" << L("provider_auto") << "</option>\n";
  for (const auto& [id, prof] : k_.data.providers()) {
    std::string name = id;
    if (const auto n = prof.data.find("name"); n != prof.data.end()) {
      if (n->is_string()) name = n->get<std::string>();
      else if (n->is_object() && n->contains(lang) && (*n)[lang].is_string()) name = (*n)[lang].get<std::string>();
    }
    b << "<option value=\"" << esc(id) << "\"" << (in.provider == id ? " selected" : "") << ">" << esc(name) << "</option>\n";
  }
  b << "</select></p>\n<p><label for=\"server_ip\">" << L("server_ip") << "</label><br>\n"
    << "<input id=\"server_ip\" name=\"server_ip\" type=\"text\" maxlength=\"45\" size=\"40\" spellcheck=\"false\" value=\""
    << esc(in.server_ip) << "\"></p>\n<p><button type=\"submit\">" << L("submit") << "</button></p>\n</form>\n</main>\n";
  Response r;
  r.status = status;
  r.content_type = kHtml;
  r.body = page(lang, k_.labels.get(lang, "serve.title"), b.str());
  if (problem && problem->retry_after > 0) r.headers.emplace_back("Retry-After", std::to_string(problem->retry_after));
  return r;
}

Response Service::form_post(const Request& req, const std::string& lang_in) {
  std::string lang = lang_in;
  if (req.body_too_large)
    return problem_html(Problem{413, "serve-body-too-large", {{"limit", std::to_string(config_.max_body)}}}, lang);
  if (!content_type_is(req, "application/x-www-form-urlencoded"))
    return problem_html(Problem{415, "serve-content-type", {{"expected", "application/x-www-form-urlencoded"}}}, lang);
  const auto form = parse_form(req.body);
  if (!form) return problem_html(Problem{400, "serve-json-invalid", {{"detail", "form encoding"}}}, lang);
  Input in;
  const auto field = [&](const char* name) {
    auto it = form->find(name);
    return it == form->end() ? std::string() : it->second;
  };
  if (const auto l = field("lang"); l == "ja" || l == "en") lang = l;
  in.domain = field("domain");
  in.www = field("www");
  if (in.www != "yes" && in.www != "no") in.www.clear();
  in.provider = field("provider").empty() ? "auto" : field("provider");
  in.server_ip = field("server_ip");
  const auto peer = client_address(req.peer, header(req, "x-forwarded-for"), config_.trust_proxy);
  auto result = submit(in, peer);
  if (auto* p = std::get_if<Problem>(&result)) {
    if (in.provider != "auto" && !k_.data.providers().count(in.provider)) in.provider = "auto";
    return form_page(lang, in, *p, p->status);
  }
  Response r;
  r.status = 303;
  r.content_type = kHtml;
  const std::string where = "/r/" + std::get<std::string>(result) + "?lang=" + lang;
  r.headers.emplace_back("Location", where);
  r.body = page(lang, k_.labels.get(lang, "serve.title"), "<p><a href=\"" + esc(where) + "\">" + esc(where) + "</a></p>\n");
  return r;
}

Response Service::result_page(const std::string& id, const std::string& lang, const Request& req) {
  const auto job = find(id);
  if (!job) return problem_html(Problem{404, "serve-not-found", {}}, lang);
  std::string status, error;
  std::optional<facts::Facts> f;
  std::string domain;
  {
    std::lock_guard lock(mutex_);
    status = job->status;
    error = job->error;
    f = job->facts;
    domain = job->options.domain;
  }
  const std::string link = "/r/" + id;
  const auto nav = [&](const std::string& here) {
    return "<nav><a href=\"/?lang=" + lang + "\">" + esc(k_.labels.get(lang, "serve.new_check")) + "</a> · <a href=\"" + esc(here) +
           "?lang=" + other(lang) + "\" hreflang=\"" + other(lang) + "\" lang=\"" + other(lang) + "\">" +
           esc(k_.labels.get(lang, "serve.other_lang")) + "</a> · " + esc(k_.labels.get(lang, "serve.link")) + ": <a href=\"" +
           esc(here) + "?lang=" + lang + "\">" + esc(here) + "</a></nav>\n";
  };
  Response r;
  r.content_type = kHtml;
  const Message words{"", {{"domain", domain}, {"seconds", std::to_string(static_cast<int>(config_.defaults.timeout_s))},
                           {"detail", error}}};
  if (status == "queued" || status == "running") return running_page(id, job, lang, nav(link));
  if (status == "failed" || !f) {
    const std::string text = fill_message(k_.labels.get(lang, "serve.failed"), words);
    r.status = 500;
    r.body = page(lang, text, "<header class=\"page\"><h1>" + esc(text) + "</h1></header>\n" + nav(link));
    return r;
  }
  const auto d = pipeline::diagnose(*f, k_, lang);
  std::string html = served(report::render_html(d.report, k_.labels), false);
  const std::string body_tag = "<body>\n";
  if (const auto at = html.find(body_tag); at != std::string::npos) html.insert(at + body_tag.size(), nav(link));
  if (const auto at = html.find("</header>\n"); at != std::string::npos) html.insert(at + 10, finished_extras(id, req, *f, lang));
  r.body = std::move(html);
  return r;
}

Response Service::api_post(const Request& req) {
  if (req.body_too_large) return problem_json(Problem{413, "serve-body-too-large", {{"limit", std::to_string(config_.max_body)}}});
  if (!content_type_is(req, "application/json"))
    return problem_json(Problem{415, "serve-content-type", {{"expected", "application/json"}}});
  json body;
  try {
    body = json::parse(req.body);
  } catch (const json::parse_error& e) {
    return problem_json(Problem{400, "serve-json-invalid", {{"detail", "byte " + std::to_string(e.byte)}}});
  }
  if (!body.is_object()) return problem_json(Problem{400, "serve-json-object", {}});
  Input in;
  for (const auto& [name, value] : body.items()) {
    if (name == "domain") {
      if (!value.is_string()) return problem_json(Problem{400, "serve-domain-type", {}});
      in.domain = value.get<std::string>();
    } else if (name == "www") {
      if (value.is_null()) continue;
      if (!value.is_boolean()) return problem_json(Problem{400, "serve-field-type", {{"field", "www"}, {"expected", "true or false"}}});
      in.www = value.get<bool>() ? "yes" : "no";
    } else if (name == "provider") {
      if (value.is_null()) continue;
      if (!value.is_string()) return problem_json(Problem{400, "serve-field-type", {{"field", "provider"}, {"expected", "a provider id or auto"}}});
      in.provider = value.get<std::string>().empty() ? "auto" : value.get<std::string>();
    } else if (name == "server_ip") {
      if (value.is_null()) continue;
      if (!value.is_string()) return problem_json(Problem{400, "serve-field-type", {{"field", "server_ip"}, {"expected", "an IP address as a string"}}});
      in.server_ip = value.get<std::string>();
    } else {
      return problem_json(Problem{400, "serve-field-unknown", {{"field", printable(name)}}});
    }
  }
  const auto peer = client_address(req.peer, header(req, "x-forwarded-for"), config_.trust_proxy);
  auto result = submit(in, peer);
  if (auto* p = std::get_if<Problem>(&result)) return problem_json(*p);
  const auto& id = std::get<std::string>(result);
  Response r;
  r.status = 202;
  const std::string status = status_of(id);
  r.body = json{{"id", id}, {"status", status}, {"links", {{"self", "/api/v1/checks/" + id}, {"page", "/r/" + id}}}}.dump() + "\n";
  r.headers.emplace_back("Location", "/api/v1/checks/" + id);
  return r;
}

Response Service::api_get(const std::string& id) {
  const auto job = find(id);
  if (!job) return problem_json(Problem{404, "serve-not-found", {}});
  std::string status, error, domain;
  std::optional<facts::Facts> f;
  std::int64_t record_id = 0;
  {
    std::lock_guard lock(mutex_);
    status = job->status;
    error = job->error;
    f = job->facts;
    domain = job->options.domain;
    record_id = job->record_id;
  }
  json out;
  if (status == "done" && f) {
    const auto d = pipeline::diagnose(*f, k_, "en");
    out = report::render_json(d.report);
    if (record_id) out["record_id"] = record_id;
  } else {
    out["domain"] = domain;
    if (status == "failed") {
      // The service's failure, never a verdict: the reason, and what it means in both languages.
      out["error"] = error;
      const Message words{"", {{"domain", domain}, {"detail", error}}};
      out["message"] = {{"ja", fill_message(k_.labels.get("ja", "serve.failed"), words)},
                        {"en", fill_message(k_.labels.get("en", "serve.failed"), words)}};
    }
  }
  out["id"] = id;
  out["status"] = status;
  out["links"] = {{"self", "/api/v1/checks/" + id}, {"page", "/r/" + id}};
  Response r;
  r.body = out.dump() + "\n";
  return r;
}

// The recorded checks of a domain, newest first, as `certdoctor history NAME --format json`
// lists them (?limit=N, 1 to 100, default 20).
Response Service::api_history(const std::string& name, const Request& req) {
  std::string ascii;
  const auto texts = in_both([&] { ascii = parse_domain(name).ascii; });
  if (!texts.empty()) {
    Problem p{400, "domain-invalid", {}};
    p.args = {{"ja", texts.count("ja") ? texts.at("ja") : ""}, {"en", texts.count("en") ? texts.at("en") : ""}};
    return problem_json(p);
  }
  std::size_t limit = 20;
  if (auto it = req.args.find("limit"); it != req.args.end()) {
    const std::string& v = it->second;
    if (v.empty() || v.size() > 3 || v.find_first_not_of("0123456789") != std::string::npos || std::stoul(v) < 1 || std::stoul(v) > 100)
      return problem_json(Problem{400, "serve-number", {{"option", "limit"}, {"value", printable(v, 20)}, {"min", "1"}, {"max", "100"}}});
    limit = std::stoul(v);
  }
  std::vector<store::Record> records;
  try {
    if (!shared_.empty()) {
      records = with_shared([&](store::Queue& q) { return q.history().list(ascii, limit); });
    } else {
      std::lock_guard lock(store_mutex_);
      records = store_->list(ascii, limit);
    }
  } catch (const store::StoreError& e) {
    std::cerr << "certdoctor serve: history of " << ascii << ": " << e.what() << '\n';
    return problem_json(Problem{500, "serve-store", {{"detail", "history"}}});
  }
  Response r;
  r.body = pipeline::history_json(ascii, records).dump() + "\n";
  return r;
}

// A provider's notice mail or an ACME error, triaged as `triage --offline --format json` prints
// it, and a check queued for each domain it names (at most `triage_domains`), as POST
// /api/v1/checks would: their ids under "queued", or the problem that kept one from the queue.
Response Service::api_triage(const Request& req, const std::string& lang) {
  if (req.body_too_large)
    return problem_json(Problem{413, "serve-body-too-large", {{"limit", std::to_string(config_.max_triage_body)}}});
  triage::Triage t;
  try {
    t = triage::module().triage(req.body, triage::TriageData{k_.data, acme_, &k_.classifier});
  } catch (const Error& e) {
    return problem_json(Problem{400, "serve-triage-unreadable", {{"detail", printable(e.what(), 200)}}});
  }
  const report::TriageReport report = pipeline::offline_report(t, k_.data, lang, req.body.size());
  std::vector<std::string> notes;  // www.X left to the check of X: the triage JSON says so already
  const auto domains = pipeline::domains_to_check(t, false, notes);
  const auto peer = client_address(req.peer, header(req, "x-forwarded-for"), config_.trust_proxy);
  json queued = json::array(), not_queued = json::array();
  for (std::size_t i = 0; i < domains.size(); ++i) {
    if (i >= config_.triage_domains) {
      not_queued.push_back(domains[i].ascii);
      continue;
    }
    Input in;
    in.domain = domains[i].ascii;
    if (!t.provider.empty() && k_.data.providers().count(t.provider)) in.provider = t.provider;
    auto result = submit(in, peer);
    if (auto* p = std::get_if<Problem>(&result)) {
      json e = json::parse(problem_json(*p).body);
      e["domain"] = domains[i].ascii;
      e["status"] = p->status;
      queued.push_back(e);
      continue;
    }
    const auto& id = std::get<std::string>(result);
    const std::string status = status_of(id);
    queued.push_back({{"domain", domains[i].ascii},
                      {"id", id},
                      {"status", status},
                      {"links", {{"self", "/api/v1/checks/" + id}, {"page", "/r/" + id}}}});
  }
  json out = report::render_triage_json(report);
  out["queued"] = queued;
  out["not_queued"] = not_queued;  // beyond the checks one triage may queue
  Response r;
  r.body = out.dump() + "\n";
  return r;
}

Response Service::health() {
  const auto c = counts();
  Response r;
  r.body = json{{"status", "ok"},
                {"queued", c.queued},
                {"running", c.running},
                {"done", c.done},
                {"workers", config_.workers},
                {"queue_limit", config_.queue},
                {"queue", shared_.empty() ? "process" : "postgresql"},
                {"policy", config_.lab ? "lab" : "internet"}}
               .dump() +
           "\n";
  return r;
}

Response Service::openapi() {
  const json error = {{"type", "object"},
                      {"required", {"error"}},
                      {"properties",
                       {{"error",
                         {{"type", "object"},
                          {"properties",
                           {{"code", {{"type", "string"}}},
                            {"message", {{"type", "object"}, {"properties", {{"ja", {{"type", "string"}}}, {"en", {{"type", "string"}}}}}}}}}}}}}};
  const json error_response = {{"description", "an error, with its message in Japanese and English"},
                               {"content", {{"application/json", {{"schema", {{"$ref", "#/components/schemas/Error"}}}}}}}};
  const json doc = {
      {"openapi", "3.0.3"},
      {"info",
       {{"title", "certdoctor"},
        {"version", CERTDOCTOR_VERSION},
        {"description", "Will the next Let's Encrypt HTTP-01 renewal of a domain work, and if it failed, why? "
                        "A check runs in the background; poll it until its status is done."}}},
      {"paths",
       {{"/api/v1/checks",
         {{"post",
           {{"summary", "start a check"},
            {"requestBody",
             {{"required", true},
              {"content",
               {{"application/json",
                 {{"schema",
                   {{"type", "object"},
                    {"required", {"domain"}},
                    {"additionalProperties", false},
                    {"properties",
                     {{"domain", {{"type", "string"}, {"example", "example.jp"}}},
                      {"www", {{"type", "boolean"}, {"description", "the certificate also carries www.DOMAIN"}}},
                      {"provider", {{"type", "string"}, {"example", "sakura"}}},
                      {"server_ip", {{"type", "string"}, {"example", "203.0.113.10"}}}}}}}}}}}}},
            {"responses",
             {{"202", {{"description", "queued: {id, status, links}"}}},
              {"400", error_response},
              {"413", error_response},
              {"415", error_response},
              {"429", {{"description", "a limit was reached: see Retry-After"}, {"content", error_response["content"]}}}}}}}}},
        {"/api/v1/checks/{id}",
         {{"get",
           {{"summary", "a check: status queued, running, done or failed; when done, the report as `certdoctor check --format json` prints it"},
            {"parameters", {{{"name", "id"}, {"in", "path"}, {"required", true}, {"schema", {{"type", "string"}}}}}},
            {"responses", {{"200", {{"description", "the check"}}}, {"404", error_response}}}}}}},
        {"/api/v1/checks/{id}/progress",
         {{"get",
           {{"summary", "the steps of a check so far (the names, servers and addresses asked), from the `from`-th on, each with its "
                        "sentence in `lang`: {id, status, status_text, events: [{at_ms, kind, level, server, address, name, type, url, outcome, status, text}], "
                        "next, dropped}; kept in memory while the service runs"},
            {"parameters",
             {{{"name", "id"}, {"in", "path"}, {"required", true}, {"schema", {{"type", "string"}}}},
              {{"name", "from"}, {"in", "query"}, {"required", false}, {"schema", {{"type", "integer"}, {"minimum", 0}, {"default", 0}}}},
              {{"name", "lang"}, {"in", "query"}, {"required", false}, {"schema", {{"type", "string"}, {"enum", {"ja", "en"}}}}}}},
            {"responses", {{"200", {{"description", "the steps"}}}, {"400", error_response}, {"404", error_response}}}}}}},
        {"/api/v1/triage",
         {{"post",
           {{"summary", "triage a provider's notice mail or an ACME error (the body, as text, at most the service's --max-triage-body bytes): "
                        "the JSON of `certdoctor triage --offline --format json`, and under `queued` a check queued for each domain it "
                        "names, as POST /api/v1/checks would ({domain, id, status, links}, or {domain, status, error} when a limit "
                        "kept it out; at most 5, the others under `not_queued`); follow each with GET /api/v1/checks/{id}"},
            {"parameters", {{{"name", "lang"}, {"in", "query"}, {"required", false}, {"schema", {{"type", "string"}, {"enum", {"ja", "en"}}}}}}},
            {"requestBody",
             {{"required", true},
              {"content", {{"text/plain", {{"schema", {{"type", "string"}}}}}, {"message/rfc822", {{"schema", {{"type", "string"}}}}}}}}},
            {"responses",
             {{"200", {{"description", "the triage and the queued checks"}}},
              {"400", error_response},
              {"413", error_response}}}}}}},
        {"/api/v1/domains/{name}/history",
         {{"get",
           {{"summary", "the recorded checks of a domain, newest first, as `certdoctor history NAME --format json` lists them"},
            {"parameters",
             {{{"name", "name"}, {"in", "path"}, {"required", true}, {"schema", {{"type", "string"}, {"example", "example.jp"}}}},
              {{"name", "limit"}, {"in", "query"}, {"required", false}, {"schema", {{"type", "integer"}, {"minimum", 1}, {"maximum", 100}, {"default", 20}}}}}},
            {"responses",
             {{"200", {{"description", "{domain, checks: [{id, domain, started_at, finished_at, verdict, finding_ids, user, ticket, source, ...}]}"}}},
              {"400", error_response}}}}}}},
        {"/healthz", {{"get", {{"summary", "the service is up: queue and workers"}, {"responses", {{"200", {{"description", "ok"}}}}}}}}},
        {"/r/{id}", {{"get", {{"summary", "the result page (HTML)"}, {"responses", {{"200", {{"description", "the page"}}}}}}}}}}},
      {"components", {{"schemas", {{"Error", error}}}}}};
  Response r;
  r.body = doc.dump(2) + "\n";
  return r;
}

Response Service::route(const Request& req) {
  const std::string lang = pick_lang(req.args.count("lang") ? req.args.at("lang") : "", header(req, "accept-language"));
  const bool get = req.method == "GET" || req.method == "HEAD";
  const bool api = req.path.rfind("/api/", 0) == 0;
  const auto not_allowed = [&](const std::string& allowed) {
    Problem p{405, "serve-method", {{"method", printable(req.method)}, {"allowed", allowed}}};
    Response r = api ? problem_json(p) : problem_html(p, lang);
    r.headers.emplace_back("Allow", allowed);
    return r;
  };
  if (req.path == "/") return get ? form_page(lang, Input{}, std::nullopt, 200) : not_allowed("GET");
  if (req.path == "/check") return req.method == "POST" ? form_post(req, lang) : not_allowed("POST");
  if (req.path == "/healthz") return get ? health() : not_allowed("GET");
  if (req.path == "/api/openapi.json") return get ? openapi() : not_allowed("GET");
  if (req.path == "/api/v1/checks") return req.method == "POST" ? api_post(req) : not_allowed("POST");
  if (req.path == "/static/app.js") return get ? script() : not_allowed("GET");
  if (req.path == "/favicon.ico" && get) {  // no icon: an empty answer rather than an error page
    Response r;
    r.status = 204;
    r.content_type = "image/x-icon";
    return r;
  }
  if (req.path == "/triage") {
    if (get) return triage_form(lang, "", std::nullopt, 200);
    return req.method == "POST" ? triage_post(req, lang) : not_allowed("GET, POST");
  }
  if (auto rest = after(req.path, "/api/v1/checks/"); rest && rest->ends_with("/progress"))
    return get ? api_progress(rest->substr(0, rest->size() - 9), req, lang) : not_allowed("GET");
  if (auto id = after(req.path, "/api/v1/checks/")) return get ? api_get(*id) : not_allowed("GET");
  if (req.path == "/api/v1/triage") return req.method == "POST" ? api_triage(req, lang) : not_allowed("POST");
  if (auto rest = after(req.path, "/api/v1/domains/"); rest && rest->size() > 8 && rest->ends_with("/history"))
    return get ? api_history(rest->substr(0, rest->size() - 8), req) : not_allowed("GET");
  if (auto rest = after(req.path, "/r/"); rest && rest->ends_with("/again"))
    return req.method == "POST" ? again_post(rest->substr(0, rest->size() - 6), req, lang) : not_allowed("POST");
  if (auto id = after(req.path, "/r/")) return get ? result_page(*id, lang, req) : not_allowed("GET");
  Problem p{404, "serve-no-page", {}};
  return api ? problem_json(p) : problem_html(p, lang);
}

Response Service::handle(const Request& req) {
  Response r;
  try {
    r = route(req);
  } catch (const store::StoreError& e) {
    // The database failed (a connection lost is opened again for the next request): try again.
    std::cerr << "certdoctor serve: database error on " << printable(req.method) << " " << printable(req.path) << ": " << e.what() << '\n';
    const Problem p{503, "serve-store", {{"detail", "database"}}, 5};
    r = req.path.rfind("/api/", 0) == 0 ? problem_json(p) : problem_html(p, "ja");
  } catch (const std::exception& e) {
    std::cerr << "certdoctor serve: internal error on " << printable(req.method) << " " << printable(req.path) << ": " << e.what() << '\n';
    const Problem p{500, "serve-internal", {}};
    r = req.path.rfind("/api/", 0) == 0 ? problem_json(p) : problem_html(p, "ja");
  }
  for (auto& h : security_headers(r.script)) r.headers.push_back(std::move(h));
  if (r.content_type == kJson) r.content_type = "application/json; charset=utf-8";
  return r;
}

}  // namespace certdoctor::serve
