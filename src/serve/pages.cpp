// The pages of `certdoctor serve` beyond the form: the page of a running check with its steps
// (server-rendered, refreshed by a <noscript> reload without JavaScript, updated in place by
// /static/app.js with it), the JSON of those steps, "check again" and what changed since the
// earlier result, and the triage path (a pasted notice mail or ACME error, the live checks of the
// domains it names). Everything that came from DNS, HTTP, a mail or the reader is escaped.
#include <algorithm>
#include <sstream>

#include "diff/diff.hpp"
#include "diff/render.hpp"
#include "pipeline/triage.hpp"
#include "report/html.hpp"
#include "triage/module.hpp"
#include "report/triage_report.hpp"
#include "serve/http_util.hpp"
#include "serve/service.hpp"
#include "util/error.hpp"
#include "util/text.hpp"

namespace certdoctor::serve {

extern const char kAppJs[];  // static/app.js, compiled in (embed.py)

using nlohmann::json;

namespace {

const char* kHtml = "text/html; charset=utf-8";

std::string esc(const std::string& s) { return report::escape_html(s); }

std::string other(const std::string& lang) { return lang == "ja" ? "en" : "ja"; }

std::string header_of(const Request& r, const std::string& name) {
  auto it = r.headers.find(name);
  return it == r.headers.end() ? "" : it->second;
}

bool form_encoded(const Request& r) {
  std::string type = lower(header_of(r, "content-type"));
  type = type.substr(0, type.find(';'));
  while (!type.empty() && type.back() == ' ') type.pop_back();
  return type == "application/x-www-form-urlencoded";
}

// A page of the service in the report's style. `refresh`: a reload every so many seconds for a
// reader without JavaScript (inside <noscript>: with JavaScript the script updates the page in
// place instead); `script`: the service's one script.
std::string page(const std::string& lang, const std::string& title, const std::string& body, int refresh, bool script) {
  std::ostringstream o;
  o << "<!DOCTYPE html>\n<html lang=\"" << lang << "\">\n<head>\n<meta charset=\"utf-8\">\n"
    << "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
    << "<meta name=\"referrer\" content=\"no-referrer\">\n";
  if (refresh > 0) o << "<noscript><meta http-equiv=\"refresh\" content=\"" << refresh << "\"></noscript>\n";
  o << "<title>" << esc(title) << "</title>\n<style>" << report::html_style() << "</style>\n";
  if (script) o << "<script src=\"/static/app.js\" defer></script>\n";
  o << "</head>\n<body>\n" << body << "</body>\n</html>\n";
  return o.str();
}

}  // namespace

std::string served(std::string html, bool script) {
  const std::string meta = "<meta http-equiv=\"Content-Security-Policy\"";
  if (const auto at = html.find(meta); at != std::string::npos) {
    const auto end = html.find(">\n", at);
    if (end != std::string::npos) html.erase(at, end + 2 - at);
  }
  if (script)
    if (const auto at = html.find("</head>"); at != std::string::npos)
      html.insert(at, "<script src=\"/static/app.js\" defer></script>\n");
  return html;
}

namespace {

// Inserts `what` after the first `mark` (or before </body> when there is none).
void insert_after(std::string& html, const std::string& mark, const std::string& what) {
  if (const auto at = html.find(mark); at != std::string::npos) {
    html.insert(at + mark.size(), what);
    return;
  }
  if (const auto at = html.rfind("</body>"); at != std::string::npos) html.insert(at, what);
}

const report::Labels& diff_words() {
  static const report::Labels words = report::Labels::load(pipeline::reports_dir(), "diff.yaml");
  return words;
}

const report::Labels& triage_words() {
  static const report::Labels words = report::Labels::load(pipeline::reports_dir(), "triage.yaml");
  return words;
}

}  // namespace

Response Service::script() {
  Response r;
  r.content_type = "text/javascript; charset=utf-8";
  r.body = kAppJs;
  return r;
}

std::string Service::status_text(const Job& job, const std::string& lang) {
  std::string status, verdict, error, domain;
  {
    std::lock_guard lock(mutex_);
    status = job.status;
    verdict = job.verdict;
    error = job.error;
    domain = job.options.domain;
  }
  const Message words{"", {{"domain", domain},
                           {"seconds", std::to_string(static_cast<int>(config_.defaults.timeout_s))},
                           {"detail", error},
                           {"verdict", k_.labels.get(lang, "verdicts." + verdict)}}};
  const std::string key = status == "done" ? (verdict.empty() ? "done" : "done_verdict") : status;
  return fill_message(k_.labels.get(lang, "serve." + key), words);
}

// GET /api/v1/checks/ID/progress[?from=N][&lang=ja|en]: the steps of a check from the N-th on,
// each with its sentence in the reader's language, the status and its sentence.
Response Service::api_progress(const std::string& id, const Request& req, const std::string& lang) {
  const auto job = find(id);
  if (!job) return problem_json(Problem{404, "serve-not-found", {}});
  std::size_t from = 0;
  if (auto it = req.args.find("from"); it != req.args.end()) {
    const std::string& v = it->second;
    if (v.empty() || v.size() > 9 || v.find_first_not_of("0123456789") != std::string::npos)
      return problem_json(Problem{400, "serve-number", {{"option", "from"}, {"value", printable(v, 20)}, {"min", "0"}, {"max", "999999999"}}});
    from = std::stoul(v);
  }
  const auto slice = job->progress->from(from);
  json events = json::array();
  for (const auto& e : slice.events)
    events.push_back({{"at_ms", static_cast<long long>(e.at_ms)},
                      {"kind", e.kind},
                      {"level", e.level},
                      {"server", e.server},
                      {"address", e.address},
                      {"name", e.name},
                      {"type", e.type},
                      {"url", e.url},
                      {"outcome", e.outcome},
                      {"status", e.status},
                      {"text", progress_text(e, k_.labels, lang)}});
  std::string status, verdict;
  {
    std::lock_guard lock(mutex_);
    status = job->status;
    verdict = job->verdict;
  }
  json out = {{"id", id},
              {"status", status},
              {"status_text", status_text(*job, lang)},
              {"events", events},
              {"next", slice.next},
              {"dropped", slice.dropped},
              {"links", {{"check", "/api/v1/checks/" + id}, {"page", "/r/" + id}}}};
  if (status == "done" && !verdict.empty()) out["verdict"] = verdict;
  Response r;
  r.body = out.dump() + "\n";
  return r;
}

// The steps of a check as a list: live (the page of a running check, which the script extends)
// or, once it has ended, folded under a summary.
std::string Service::progress_section(const std::string& id, const Job& job, const std::string& lang, bool live) {
  const auto L = [&](const std::string& key) { return esc(k_.labels.get(lang, "serve." + key)); };
  const auto slice = job.progress->from(0);
  std::ostringstream items;
  for (const auto& e : slice.events) items << "<li class=\"step\">" << esc(progress_text(e, k_.labels, lang)) << "</li>\n";
  std::ostringstream o;
  const std::string list_id = live ? "progress" : "steps";
  const std::string list = "<ol id=\"" + list_id + "\" class=\"steps\" data-check=\"" + esc(id) + "\" data-live=\"" +
                           (live ? "yes" : "no") + "\"" + (live ? " aria-live=\"polite\" aria-relevant=\"additions\"" : "") +
                           ">\n" + items.str() + "</ol>\n";
  const std::string more =
      slice.dropped ? "<p class=\"more\">" +
                          esc(fill_message(k_.labels.get(lang, "serve.progress_more"), Message{"", {{"count", std::to_string(slice.dropped)}}})) +
                          "</p>\n"
                    : "";
  if (live) {
    o << "<section class=\"card progress\" aria-labelledby=\"progress-h\">\n<h2 id=\"progress-h\">" << L("progress_title") << "</h2>\n"
      << (slice.events.empty() ? "<p class=\"waiting\">" + L("progress_waiting") + "</p>\n" : "") << list << more << "</section>\n";
  } else if (!slice.events.empty()) {
    o << "<details class=\"card progress\">\n<summary>"
      << esc(fill_message(k_.labels.get(lang, "serve.steps"), Message{"", {{"count", std::to_string(slice.events.size() + slice.dropped)}}}))
      << "</summary>\n" << list << more << "</details>\n";
  }
  return o.str();
}

Response Service::running_page(const std::string& id, const std::shared_ptr<Job>& job, const std::string& lang, const std::string& nav) {
  const std::string text = status_text(*job, lang);
  std::string status;
  {
    std::lock_guard lock(mutex_);
    status = job->status;
  }
  std::ostringstream b;
  b << "<header class=\"page\"><h1>" << esc(text) << "</h1></header>\n" << nav << "<main>\n<div>\n"
    << "<p role=\"status\" id=\"status\" data-status=\"" << esc(status) << "\">" << esc(text) << "</p>\n"
    << "<p>" << esc(k_.labels.get(lang, "serve.refresh")) << "</p>\n"
    << progress_section(id, *job, lang, true) << "</div>\n</main>\n";
  Response r;
  r.content_type = kHtml;
  r.body = page(lang, text, b.str(), 3, true);
  r.script = true;
  return r;
}

std::string Service::finished_extras(const std::string& id, const Request& req, const facts::Facts& now, const std::string& lang) {
  const auto L = [&](const std::string& key) { return esc(k_.labels.get(lang, "serve." + key)); };
  std::ostringstream o;
  o << "<div class=\"serve-extra\">\n<form class=\"again\" method=\"post\" action=\"/r/" << esc(id) << "/again\">\n"
    << "<input type=\"hidden\" name=\"lang\" value=\"" << lang << "\">\n"
    << "<button type=\"submit\" aria-describedby=\"again-hint\">" << L("again") << "</button>\n<small id=\"again-hint\">"
    << esc(fill_message(k_.labels.get(lang, "serve.again_hint"), Message{"", {{"domain", now.domain_display}}})) << "</small>\n</form>\n";
  if (auto it = req.args.find("since"); it != req.args.end() && it->second != id) {
    const std::string& since = it->second;
    std::shared_ptr<Job> earlier = find(since);
    std::optional<facts::Facts> before;
    if (earlier) {
      std::lock_guard lock(mutex_);
      before = earlier->facts;
    }
    o << "<section class=\"card since\" id=\"since\" aria-labelledby=\"since-h\">\n<h2 id=\"since-h\">" << L("since_title") << "</h2>\n";
    if (!before || before->domain != now.domain) {
      o << "<p>" << esc(fill_message(k_.labels.get(lang, "serve.since_none"), Message{"", {{"id", printable(since, 40)}}})) << "</p>\n";
    } else {
      const std::string earlier_link = "/r/" + since + "?lang=" + lang;
      o << "<p>" << esc(fill_message(k_.labels.get(lang, "serve.since_intro"), Message{"", {{"when", before->collected_at}}}))
        << " <a href=\"" << esc(earlier_link) << "\" rel=\"prev\">" << L("since_link") << "</a></p>\n";
      try {
        const diff::Result result = diff::compare(diff::Side{&*before, std::nullopt}, diff::Side{&now, std::nullopt},
                                                  view::DeriveContext{k_.data, k_.classifier}, k_.catalogue);
        o << "<pre class=\"diff\">" << esc(diff::render_text(result, k_.catalogue, diff_words(), lang, 0)) << "</pre>\n";
      } catch (const std::exception& e) {
        o << "<p role=\"alert\">" << esc(printable(e.what(), 300)) << "</p>\n";
      }
    }
    o << "</section>\n";
  }
  if (auto job = find(id)) o << progress_section(id, *job, lang, false);
  o << "</div>\n";
  return o.str();
}

// POST /r/ID/again: the same domain with the same options as that result, checked now; the new
// result's page shows what changed since (?since=ID).
Response Service::again_post(const std::string& id, const Request& req, const std::string& lang_in) {
  std::string lang = lang_in;
  if (req.body_too_large)
    return problem_html(Problem{413, "serve-body-too-large", {{"limit", std::to_string(config_.max_body)}}}, lang);
  if (!req.body.empty() && !form_encoded(req))
    return problem_html(Problem{415, "serve-content-type", {{"expected", "application/x-www-form-urlencoded"}}}, lang);
  if (const auto form = parse_form(req.body); form && form->count("lang") && (form->at("lang") == "ja" || form->at("lang") == "en"))
    lang = form->at("lang");
  const auto job = find(id);
  if (!job) return problem_html(Problem{404, "serve-not-found", {}}, lang);
  std::optional<facts::Facts> f;
  {
    std::lock_guard lock(mutex_);
    f = job->facts;
  }
  Response r;
  r.status = 303;
  r.content_type = kHtml;
  std::string where = "/r/" + id + "?lang=" + lang;  // not ended yet: back to its page
  if (f) {
    Input in;
    in.domain = f->request.input.empty() ? f->domain : f->request.input;
    in.provider = k_.data.providers().count(f->request.provider) ? f->request.provider : "auto";
    if (!f->request.server_ips.empty()) in.server_ip = f->request.server_ips.front();
    if (f->request.www_explicit) in.www = f->request.www ? "yes" : "no";
    const auto peer = client_address(req.peer, header_of(req, "x-forwarded-for"), config_.trust_proxy);
    auto result = submit(in, peer, true);
    if (auto* p = std::get_if<Problem>(&result)) return problem_html(*p, lang);
    where = "/r/" + std::get<std::string>(result) + "?lang=" + lang + "&since=" + id;
  }
  r.headers.emplace_back("Location", where);
  r.body = page(lang, k_.labels.get(lang, "serve.title"), "<p><a href=\"" + esc(where) + "\">" + esc(where) + "</a></p>\n", 0, false);
  return r;
}

Response Service::triage_form(const std::string& lang, const std::string& text, const std::optional<Problem>& problem, int status) {
  const auto L = [&](const std::string& key) { return esc(k_.labels.get(lang, "serve." + key)); };
  std::ostringstream b;
  b << "<header class=\"page\"><h1>" << L("triage_title") << "</h1></header>\n"
    << "<nav><a href=\"/?lang=" << lang << "\">" << L("new_check") << "</a> · <a href=\"/triage?lang=" << other(lang) << "\" hreflang=\""
    << other(lang) << "\" lang=\"" << other(lang) << "\">" << L("other_lang") << "</a></nav>\n<main>\n<div>\n<p>" << L("triage_intro")
    << "</p>\n";
  if (problem) {
    b << "<section class=\"error\" role=\"alert\"><h2>" << L("triage_error_title") << "</h2>\n<p>" << esc(message(lang, *problem))
      << "</p></section>\n";
  }
  b << "<form method=\"post\" action=\"/triage\" accept-charset=\"utf-8\">\n"
    << "<input type=\"hidden\" name=\"lang\" value=\"" << lang << "\">\n"
    << "<p><label for=\"text\">" << L("triage_text") << "</label><br>\n"
    << "<textarea id=\"text\" name=\"text\" rows=\"16\" cols=\"80\" required spellcheck=\"false\" aria-describedby=\"text-hint\">"
    << esc(text) << "</textarea><br>\n<small id=\"text-hint\">"
    << esc(fill_message(k_.labels.get(lang, "serve.triage_hint"),
                        Message{"", {{"limit", std::to_string(config_.max_triage_body / 1024)}, {"max", std::to_string(config_.triage_domains)}}}))
    << "</small></p>\n<p><button type=\"submit\">" << L("triage_submit") << "</button></p>\n</form>\n</div>\n</main>\n";
  Response r;
  r.status = status;
  r.content_type = kHtml;
  r.body = page(lang, k_.labels.get(lang, "serve.triage_title"), b.str(), 0, false);
  if (problem && problem->retry_after > 0) r.headers.emplace_back("Retry-After", std::to_string(problem->retry_after));
  return r;
}

// POST /triage (a form: text, lang): the triage page of `certdoctor triage --format html` for the
// pasted text, and a live check queued for each domain it names (at most `triage_domains`), each
// linked to its page.
Response Service::triage_post(const Request& req, const std::string& lang_in) {
  std::string lang = lang_in;
  // A form carries the text percent-encoded: up to three bytes a byte (daemon.cpp admits that).
  if (req.body_too_large)
    return triage_form(lang, "", Problem{413, "serve-body-too-large", {{"limit", std::to_string(config_.max_triage_body)}}}, 413);
  if (!form_encoded(req))
    return problem_html(Problem{415, "serve-content-type", {{"expected", "application/x-www-form-urlencoded"}}}, lang);
  const auto form = parse_form(req.body);
  if (!form) return triage_form(lang, "", Problem{400, "serve-triage-unreadable", {{"detail", "form encoding"}}}, 400);
  if (auto it = form->find("lang"); it != form->end() && (it->second == "ja" || it->second == "en")) lang = it->second;
  const std::string text = form->count("text") ? form->at("text") : "";
  if (text.find_first_not_of(" \t\r\n") == std::string::npos) return triage_form(lang, "", Problem{400, "serve-triage-missing", {}}, 400);
  if (text.size() > config_.max_triage_body)
    return triage_form(lang, "", Problem{413, "serve-body-too-large", {{"limit", std::to_string(config_.max_triage_body)}}}, 413);
  triage::Triage t;
  try {
    t = triage::module().triage(text, triage::TriageData{k_.data, acme_, &k_.classifier});
  } catch (const Error& e) {
    return triage_form(lang, text, Problem{400, "serve-triage-unreadable", {{"detail", printable(e.what(), 200)}}}, 400);
  }
  report::TriageReport rep = pipeline::offline_report(t, k_.data, lang, text.size());
  std::vector<std::string> notes;
  const auto domains = pipeline::domains_to_check(t, false, notes);
  const auto peer = client_address(req.peer, header_of(req, "x-forwarded-for"), config_.trust_proxy);
  const auto L = [&](const std::string& key) { return esc(k_.labels.get(lang, "serve." + key)); };
  std::ostringstream checks;
  checks << "<section class=\"card queued\" aria-labelledby=\"queued-h\">\n<h2 id=\"queued-h\">" << L("triage_checks") << "</h2>\n";
  if (domains.empty()) checks << "<p>" << L("triage_no_domain") << "</p>\n";
  else checks << "<ul class=\"queued\">\n";
  for (std::size_t i = 0; i < domains.size(); ++i) {
    const auto& d = domains[i];
    if (i >= config_.triage_domains) {
      checks << "<li>" << esc(d.unicode) << ": "
             << esc(fill_message(k_.labels.get(lang, "serve.triage_too_many"), Message{"", {{"max", std::to_string(config_.triage_domains)}}}))
             << "</li>\n";
      continue;
    }
    Input in;
    in.domain = d.ascii;
    if (!t.provider.empty() && k_.data.providers().count(t.provider)) in.provider = t.provider;
    auto result = submit(in, peer);
    if (auto* p = std::get_if<Problem>(&result)) {
      checks << "<li>" << esc(d.unicode) << ": " << esc(message(lang, *p)) << "</li>\n";
      continue;
    }
    const std::string& id = std::get<std::string>(result);
    const auto job = find(id);
    checks << "<li data-watch=\"" << esc(id) << "\"><a href=\"/r/" << esc(id) << "?lang=" << lang << "\">" << esc(d.unicode)
           << "</a>: <span class=\"state\">" << (job ? esc(status_text(*job, lang)) : "") << "</span></li>\n";
  }
  if (!domains.empty()) checks << "</ul>\n";
  checks << "</section>\n";
  std::string html = served(report::render_triage_html(rep, triage_words(), k_.labels), true);
  const std::string nav = "<nav><a href=\"/triage?lang=" + lang + "\">" + L("triage_again") + "</a> · <a href=\"/?lang=" + lang + "\">" +
                          L("new_check") + "</a></nav>\n";
  // The renderer's note that the domains were not checked live is not true here: they are queued,
  // and listed first.
  const std::string offline = "<p class=\"card\" id=\"offline\">";
  if (const auto at = html.find(offline); at != std::string::npos)
    if (const auto end = html.find("</p>\n", at); end != std::string::npos) html.erase(at, end + 5 - at);
  insert_after(html, "<body>\n", nav);
  insert_after(html, "</header>\n", checks.str());
  Response r;
  r.content_type = kHtml;
  r.body = std::move(html);
  r.script = true;
  return r;
}

}  // namespace certdoctor::serve
