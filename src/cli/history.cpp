// certdoctor history and certdoctor due: the recorded checks (src/store through
// src/pipeline/record.hpp), listed, shown again, pruned, and the domains due for a check.
#include <ctime>
#include <iomanip>
#include <iostream>
#include <sstream>

#include <boost/program_options.hpp>

#include "cli/commands.hpp"
#include "facts/outside.hpp"
#include "pipeline/record.hpp"
#include "report/wrap.hpp"
#include "store/due.hpp"
#include "store/store.hpp"
#include "util/domain.hpp"
#include "util/error.hpp"
#include "util/text.hpp"

namespace certdoctor::cli {

namespace po = boost::program_options;
using nlohmann::json;

namespace {

const char* history_help_text = R"(Usage: certdoctor history DOMAIN [options]
       certdoctor history show ID [options]
       certdoctor history prune --older-than AGE [--db FILE|URL]

The checks recorded with `certdoctor check --record` (or triage --record, explain --record):
  history DOMAIN       each check of DOMAIN, newest first: its id, when it ran, the verdict,
                       the finding ids and who asked (user, ticket, source)
  history show ID      the recorded check judged again with today's rules (the report says when
                       its facts were collected)
  history prune        delete the checks older than --older-than (400d, 12w, 36h)

The history is an SQLite file, by default $XDG_DATA_HOME/certdoctor/history.sqlite3
(~/.local/share/certdoctor/history.sqlite3), or a team's PostgreSQL database
(--db postgresql://user@host/dbname).

Exit status: 0 done, 2 usage error or a history that cannot be read (the message names it and
the fix); history show: the exit status of the check judged again.

Options)";

// A time in the text output: JST, as the reports show the collection time.
std::string shown_time(std::int64_t t) { return report::collected_jst(facts::format_utc_time(t)); }

std::string who(const store::Record& r) {
  std::string s = r.user;
  if (!r.ticket.empty()) s += " #" + r.ticket;
  return s + " (" + r.source + ")";
}

std::int64_t parse_id(const std::string& text) {
  char* end = nullptr;
  const long long v = std::strtoll(text.c_str(), &end, 10);
  if (text.empty() || *end || v <= 0) throw UsageError("history show " + printable(text) + ": give a check's id (a number, see certdoctor history DOMAIN)");
  return v;
}

// Errors of the store are the user's to fix (a path, a server, permissions): usage errors, exit 2.
template <class F>
auto with_store(F&& f) {
  try {
    return f();
  } catch (const store::StoreError& e) {
    throw UsageError(e.what());
  }
}

int history_show(const std::string& id_text, const std::string& db, OutputOptions& out) {
  check_output_options(out);
  const std::int64_t id = parse_id(id_text);
  pipeline::Knowledge k(out.rules_dirs);
  return with_store([&] {
    auto s = store::open(db, store::Open::existing);
    pipeline::Recalled r = pipeline::recall(*s, id, k, out.lang, {.picture = out.format == "html"});
    const std::string now_rules = pipeline::rules_version(k);
    if (out.format == "text" || out.format == "markdown") {
      const Words w = words(out.lang);
      std::cout << (out.format == "markdown" ? "> " : "")
                << w.fill(w.get("shown"), {{"id", std::to_string(r.record.id)}, {"domain", r.record.domain},
                                           {"when", shown_time(r.record.started_at)}, {"who", who(r.record)},
                                           {"verdict", r.record.verdict}, {"rules_then", r.record.rules_version},
                                           {"rules_now", now_rules}})
                << "\n\n";
    }
    json extra = {{"record", pipeline::record_json(r.record)}, {"rules_version_now", now_rules}};
    print_report(r.diagnosis.report, k, out, extra);
    return pipeline::exit_status(r.diagnosis);
  });
}

int history_prune(const std::vector<std::string>& args) {
  std::string db, older, lang;
  bool help = false;
  po::options_description visible("Usage: certdoctor history prune --older-than AGE [--db FILE|URL]\n\nOptions");
  visible.add_options()("lang", po::value(&lang)->value_name("LANG"), "language of the message: ja or en");
  visible.add_options()("help,h", po::bool_switch(&help), "show this help")(
      "older-than", po::value(&older)->value_name("AGE"), "delete the checks that started longer ago than AGE (400d, 12w, 36h)")(
      "db", po::value(&db)->value_name("FILE|URL"), "the history (default: the SQLite file under $XDG_DATA_HOME)");
  const auto vm = parse_arguments(args, visible, help);
  if (!vm) return exit_ok;
  if (older.empty()) throw UsageError("history prune: say how old with --older-than, for example --older-than 400d");
  const std::int64_t age = store::parse_age(older, "--older-than");
  const Words w = words(lang);
  return with_store([&] {
    auto s = store::open(db, store::Open::existing);
    const std::size_t n = s->prune(static_cast<std::int64_t>(std::time(nullptr)) - age);
    std::cout << w.fill(w.get("pruned"), {{"count", std::to_string(n)}, {"age", older}, {"db", s->where()}}) << '\n';
    return exit_ok;
  });
}

} // namespace

Words words(std::string lang) {
  if (lang.empty()) lang = default_lang();
  if (lang != "ja" && lang != "en") throw UsageError("--lang " + lang + ": use ja or en");
  return Words{report::Labels::load(pipeline::reports_dir(), "history.yaml"), lang};
}

// A table: columns padded to their widest cell in terminal columns (Japanese counts two).
void print_table(const std::vector<std::vector<std::string>>& rows) {
  std::vector<int> widths;
  for (const auto& row : rows)
    for (std::size_t i = 0; i < row.size(); ++i) {
      if (widths.size() <= i) widths.push_back(0);
      widths[i] = std::max(widths[i], report::display_width(row[i]));
    }
  for (const auto& row : rows) {
    std::string line;
    for (std::size_t i = 0; i < row.size(); ++i) {
      line += row[i];
      if (i + 1 < row.size()) line += std::string(static_cast<std::size_t>(widths[i] - report::display_width(row[i]) + 2), ' ');
    }
    std::cout << line << '\n';
  }
}

int run_history(const std::vector<std::string>& args) {
  if (!args.empty() && args[0] == "prune") return history_prune({args.begin() + 1, args.end()});
  OutputOptions out;
  std::string db, domain;
  std::size_t limit = 20;
  bool help = false;
  po::options_description visible(history_help_text);
  visible.add_options()("help,h", po::bool_switch(&help), "show this help")(
      "db", po::value(&db)->value_name("FILE|URL"), "the history (default: the SQLite file under $XDG_DATA_HOME)")(
      "limit", po::value(&limit)->default_value(20)->value_name("N"), "history DOMAIN: the N newest checks (0: all)");
  add_output_options(visible, out);
  const bool show = !args.empty() && args[0] == "show";
  if (!parse_arguments(show ? std::vector<std::string>(args.begin() + 1, args.end()) : args, visible, help, show ? "id" : "domain", &domain)) return exit_ok;
  if (show) {
    if (domain.empty()) throw UsageError("history show: give a check's id (see certdoctor history DOMAIN)");
    return history_show(domain, db, out);
  }
  if (domain.empty()) throw UsageError("history: give a domain (certdoctor history DOMAIN), or show ID, or prune");
  if (out.format != "text" && out.format != "json") throw UsageError("--format " + out.format + ": history lists as text or json");
  const std::string ascii = parse_domain(domain).ascii;
  return with_store([&] {
    auto s = store::open(db, store::Open::existing);
    const auto records = s->list(ascii, limit);
    if (out.format == "json") {
      std::cout << pipeline::history_json(ascii, records).dump(2) << '\n';
      return exit_ok;
    }
    const Words w = words(out.lang);
    if (records.empty()) {
      std::cout << w.fill(w.get("none_recorded"), {{"domain", ascii}, {"db", s->where()}}) << '\n';
      return exit_ok;
    }
    std::vector<std::vector<std::string>> rows = {{w.get("columns.id"), w.get("columns.started"), w.get("columns.verdict"),
                                                   w.get("columns.asked_by"), w.get("columns.findings")}};
    for (const auto& r : records) {
      std::string ids;
      for (const auto& i : r.finding_ids) ids += (ids.empty() ? "" : " ") + i;
      rows.push_back({std::to_string(r.id), shown_time(r.started_at), r.verdict, who(r), ids.empty() ? "-" : ids});
    }
    print_table(rows);
    return exit_ok;
  });
}

int run_due(const std::vector<std::string>& args) {
  std::string db, within = "30d", format = "text", lang;
  std::vector<std::string> rules_dirs;
  bool help = false;
  po::options_description visible(R"(Usage: certdoctor due [--within AGE] [options]

The recorded domains to check before their provider renews: those whose last check is more than
a day old and whose served certificate (as last recorded) enters the provider's renewal window
within AGE (default 30d). The window opens at the provider's first automatic attempt or notice
(rules/providers/*.yaml renewal: Xserver 30 days before expiry, Sakura's notice 15 days before);
for a provider without a schedule, 30 days before expiry. A domain whose last check saw no
certificate is listed as unknown: its date cannot be told. For a nightly job:
  certdoctor due --format json | jq -r '.due[].domain' | xargs -n1 certdoctor check --record

Options)");
  visible.add_options()("help,h", po::bool_switch(&help), "show this help")(
      "within", po::value(&within)->default_value("30d")->value_name("AGE"), "how far ahead to look (30d, 2w)")(
      "db", po::value(&db)->value_name("FILE|URL"), "the history (default: the SQLite file under $XDG_DATA_HOME)")(
      "format", po::value(&format)->default_value("text")->value_name("FMT"), "output: text or json")(
      "lang", po::value(&lang)->value_name("LANG"), "language of the text: ja or en (default: from LANG/LC_ALL)")(
      "rules-dir", po::value(&rules_dirs)->value_name("DIR"), "extra rules directory laid over the built-in one (repeatable)");
  const auto vm = parse_arguments(args, visible, help);
  if (!vm) return exit_ok;
  if (format != "text" && format != "json") throw UsageError("--format " + format + ": use text or json");
  const std::int64_t horizon = store::parse_age(within, "--within");
  const Words w = words(lang);
  pipeline::Knowledge k(rules_dirs);
  // CERTDOCTOR_NOW (Unix seconds or RFC 3339) stands for the current time in tests.
  std::int64_t now = std::time(nullptr);
  if (const char* n = std::getenv("CERTDOCTOR_NOW"); n && *n) {
    if (auto t = facts::parse_utc_time(n)) now = *t;
    else now = std::atoll(n);
  }
  return with_store([&] {
    auto s = store::open(db, store::Open::existing);
    const auto list = pipeline::due(*s, k, now, horizon);
    if (format == "json") {
      json items = json::array();
      for (const auto& d : list)
        items.push_back({{"domain", d.last.domain},
                         {"state", d.state},
                         {"window_opens", d.opens ? json(facts::format_utc_time(*d.opens)) : json(nullptr)},
                         {"window_days", d.window.days},
                         {"window_kind", d.window.kind},
                         {"provider", d.last.provider},
                         {"cert_not_after", d.last.cert_not_after ? json(facts::format_utc_time(*d.last.cert_not_after)) : json(nullptr)},
                         {"last_check", {{"id", d.last.id}, {"started_at", facts::format_utc_time(d.last.started_at)}, {"verdict", d.last.verdict}}}});
      std::cout << json{{"within", within}, {"now", facts::format_utc_time(now)}, {"due", items}}.dump(2) << '\n';
      return exit_ok;
    }
    if (list.empty()) {
      std::cout << w.fill(w.get("nothing_due"), {{"within", within}, {"db", s->where()}}) << '\n';
      return exit_ok;
    }
    std::vector<std::vector<std::string>> rows = {{w.get("columns.domain"), w.get("columns.state"), w.get("columns.opens"),
                                                   w.get("columns.expires"), w.get("columns.provider"),
                                                   w.get("columns.last_check")}};
    for (const auto& d : list)
      rows.push_back({d.last.domain, w.get("states." + d.state), d.opens ? shown_time(*d.opens) : "-",
                      d.last.cert_not_after ? shown_time(*d.last.cert_not_after) : w.get("no_certificate"),
                      d.last.provider.empty() ? "-" : d.last.provider,
                      "#" + std::to_string(d.last.id) + " " + shown_time(d.last.started_at) + " " + d.last.verdict});
    print_table(rows);
    return exit_ok;
  });
}

} // namespace certdoctor::cli
