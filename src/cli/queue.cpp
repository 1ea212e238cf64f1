// certdoctor enqueue, worker and queue: checks shared out through a queue table in a PostgreSQL
// database (src/store/queue.hpp through src/pipeline/worker.hpp). Several workers, on one
// machine or many, drain one queue; each check is recorded in the same database's history.
#include <signal.h>

#include <atomic>
#include <cstdlib>
#include <iostream>

#include <boost/program_options.hpp>

#include "cli/commands.hpp"
#include "pipeline/worker.hpp"
#include "probe/outside_probe.hpp"
#include "store/queue.hpp"
#include "util/domain.hpp"
#include "util/error.hpp"
#include "util/text.hpp"

namespace certdoctor::cli {

namespace po = boost::program_options;
using nlohmann::json;

namespace {

std::atomic<bool> g_stop{false};

extern "C" void on_stop_signal(int) { g_stop = true; }

// Errors of the database are the user's to fix (a URL, a server, permissions): usage errors, exit 2.
template <class F>
auto with_queue(F&& f) {
  try {
    return f();
  } catch (const store::StoreError& e) {
    throw UsageError(e.what());
  }
}

void need_db(const std::string& db, const char* command) {
  if (db.empty()) throw UsageError(Message{"queue-no-db", {{"command", command}}});
  if (!store::is_postgres(db)) throw UsageError(Message{"queue-not-postgresql", {{"db", printable(db)}}});
}

// "120", "120s", "2m", "1h" -> seconds, 10 s to 1 day.
std::int64_t parse_lease(const std::string& text) {
  std::size_t i = 0;
  while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) ++i;
  const std::string unit = text.substr(i);
  const long long n = i == 0 || i > 6 ? -1 : std::atoll(text.substr(0, i).c_str());
  const std::int64_t scale = unit.empty() || unit == "s" ? 1 : unit == "m" ? 60 : unit == "h" ? 3600 : 0;
  const std::int64_t v = n * scale;
  if (n < 0 || scale == 0 || v < 10 || v > 86400) throw UsageError(Message{"lease-invalid", {{"value", printable(text)}}});
  return v;
}

const char* worker_help_text = R"(Usage: certdoctor worker --db postgresql://... [options]

Takes checks from the queue in a PostgreSQL database (filled with `certdoctor enqueue`), runs
each as `certdoctor check` does, and records it in the same database's history (source
"worker"; see certdoctor history). Several workers, on one machine or many, drain one queue:
each leases its next items (FOR UPDATE SKIP LOCKED, so no two take the same one) and renews the
leases while its checks run. An item whose worker crashed goes back to the others when its
lease runs out; the check is recorded and the item marked done in one transaction, and only by
the worker that still holds the lease, so every item is recorded exactly once. An item whose
check could not be made is queued again, and ends failed (with the reason, see certdoctor
queue --list failed) after --max-attempts, or at once for input that cannot be checked.

The probe options below apply to every check; an item's own provider, server IPs, account and
www (from the enqueued list) replace them for that item. The same queue holds the checks of
`certdoctor serve --db postgresql://...`: such an item is recorded with the service's ticket
(web:ID), source and user, and checked under the service's probe policy (internet, or lab),
never looser than --connect-policy; give the workers the service's probe options.

SIGTERM or Ctrl-C: no new items are taken; the checks held are finished and recorded, then the
worker exits (a second signal is not needed, and a check ends at its --timeout).

Examples:
  certdoctor enqueue --db postgresql://cd@db.example/certdoctor domains.txt
  certdoctor worker --db postgresql://cd@db.example/certdoctor --concurrency 8
  certdoctor worker --db postgresql:///certdoctor?host=/run/postgresql --once --id night-1
  certdoctor queue --db postgresql://cd@db.example/certdoctor

Output: one line per item (started, done with its check id and verdict, queued again, failed,
lost to another worker), or one JSON object per line with --format json; at the end the counts.

Exit status: 0 the worker stopped (SIGTERM, or --once and the queue is empty), 2 usage error or
a database that cannot be used (the message names it and the fix).

Options)";

} // namespace

int run_worker(const std::vector<std::string>& args) {
  pipeline::WorkerOptions w;
  ProbeSwitches sw;
  std::string db, lease = "120s", format = "text", lang;
  std::vector<std::string> rules_dirs;
  bool help = false;
  w.base.ct_url = probe::default_ct_url;
  w.record.source = "worker";
  po::options_description visible(worker_help_text);
  visible.add_options()("help,h", po::bool_switch(&help), "show this help")(
      "db", po::value(&db)->value_name("URL"), "the PostgreSQL database holding the queue and the history (postgresql://...)")(
      "concurrency", po::value(&w.concurrency)->default_value(4)->value_name("N"), "checks at once, 1 to 256")(
      "lease", po::value(&lease)->default_value("120s")->value_name("TIME"),
      "how long an item stays this worker's without a renewal (renewed every third of it): 10s to 24h, as 90s, 2m, 1h")(
      "max-attempts", po::value(&w.max_attempts)->default_value(3)->value_name("N"), "leases of one item before it ends failed, 1 to 100")(
      "once", po::bool_switch(&w.once), "exit when nothing is queued or running (otherwise wait for new items)")(
      "id", po::value(&w.id)->value_name("NAME"), "this worker's name in the queue (default: HOST:PID)")(
      "user", po::value(&w.record.user)->value_name("NAME"), "who asked, kept in the history (default: $USER)")(
      "ticket", po::value(&w.record.ticket)->value_name("ID"), "a ticket to keep with every check in the history")(
      "format", po::value(&format)->default_value("text")->value_name("FMT"), "progress lines: text or json (one object per line)")(
      "lang", po::value(&lang)->value_name("LANG"), "language of the lines: ja or en (default: from LANG/LC_ALL)")(
      "rules-dir", po::value(&rules_dirs)->value_name("DIR"), "extra rules directory laid over the built-in one (repeatable)");
  add_probe_options(visible, w.base, sw, false);  // the facts of every check are in the history
  const auto vm = parse_arguments(args, visible, help);
  if (!vm) return exit_ok;
  need_db(db, "worker");
  if (format != "text" && format != "json")
    throw UsageError(Message{"format-invalid", {{"value", printable(format)}, {"known", "text, json"}}});
  if (w.concurrency < 1 || w.concurrency > 256)
    throw UsageError(Message{"concurrency-range", {{"value", std::to_string(w.concurrency)}}});
  if (w.max_attempts < 1 || w.max_attempts > 100)
    throw UsageError(Message{"max-attempts-range", {{"value", std::to_string(w.max_attempts)}}});
  w.lease_seconds = parse_lease(lease);
  const Words words_ = words(lang);
  finish_probe_options(w.base, sw);
  pipeline::Knowledge k(rules_dirs);
  // The options every check shares, validated once with a stand-in domain.
  {
    pipeline::CheckOptions probe = w.base;
    probe.domain = "example.jp";
    pipeline::validate(probe, k);
  }
  if (w.id.empty()) w.id = pipeline::default_worker_id();

  struct sigaction sa {};
  sa.sa_handler = on_stop_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART;
  sigaction(SIGTERM, &sa, nullptr);
  sigaction(SIGINT, &sa, nullptr);

  return with_queue([&] {
    auto q = store::open_queue(db);
    bool told_stop = false;
    const auto print = [&](const pipeline::WorkerEvent& e) {
      static const char* kinds[] = {"started", "done", "failed", "retry", "lost"};
      const std::string kind = kinds[e.kind];
      if (format == "json") {
        json j = {{"event", kind}, {"worker", w.id}, {"item", e.item}, {"domain", e.domain}, {"attempts", e.attempts}};
        if (e.kind == pipeline::WorkerEvent::done)
          j.update({{"check", e.check_id}, {"verdict", e.verdict}, {"finding_ids", e.finding_ids}});
        if (!e.reason.empty()) j["reason"] = e.reason;
        if (e.kind == pipeline::WorkerEvent::failed) j["permanent"] = e.permanent;
        std::cout << j.dump() << '\n';
      } else {
        std::string ids;
        for (const auto& i : e.finding_ids) ids += (ids.empty() ? "" : " ") + i;
        const std::string key = e.kind == pipeline::WorkerEvent::failed && e.permanent ? "failed_input" : kind;
        std::cout << words_.fill(words_.get("queue." + key),
                                 {{"worker", w.id}, {"item", std::to_string(e.item)}, {"domain", e.domain},
                                  {"attempts", std::to_string(e.attempts)}, {"check", std::to_string(e.check_id)},
                                  {"verdict", e.verdict}, {"findings", ids.empty() ? "-" : ids}, {"reason", e.reason}})
                  << '\n';
      }
      std::cout.flush();
      if (g_stop && !told_stop && format == "text") {
        told_stop = true;
        std::cerr << words_.fill(words_.get("queue.stopping"), {{"worker", w.id}}) << '\n';
      }
    };
    const auto stats = pipeline::run_worker(*q, k, w, g_stop, print);
    const std::vector<std::pair<std::string, std::string>> counts = {
        {"worker", w.id}, {"done", std::to_string(stats.done)}, {"failed", std::to_string(stats.failed)},
        {"retried", std::to_string(stats.retried)}, {"lost", std::to_string(stats.lost)}};
    if (format == "json") {
      std::cout << json{{"event", "finished"}, {"worker", w.id}, {"done", stats.done}, {"failed", stats.failed},
                        {"retried", stats.retried}, {"lost", stats.lost}}.dump()
                << '\n';
    } else {
      std::cout << words_.fill(words_.get("queue.finished"), counts) << '\n';
    }
    return exit_ok;
  });
}

int run_queue(const std::vector<std::string>& args) {
  std::string db, list, format = "text", lang, clear;
  std::size_t limit = 50;
  bool help = false;
  po::options_description visible(R"(Usage: certdoctor queue --db postgresql://... [--list [STATE]] [--clear done|failed]

The queue of checks that `certdoctor worker` drains (filled with `certdoctor enqueue`): how many
items are queued, running, done and failed. --list shows the items themselves (of one state, or
all): the worker holding each, its attempts, the recorded check (see certdoctor history show ID)
and, for a failed one, the reason. --clear deletes the items done or failed (their recorded
checks stay in the history).

Exit status: 0 done, 2 usage error or a database that cannot be used.

Options)");
  visible.add_options()("help,h", po::bool_switch(&help), "show this help")(
      "db", po::value(&db)->value_name("URL"), "the PostgreSQL database holding the queue (postgresql://...)")(
      "list", po::value(&list)->implicit_value("all")->value_name("STATE"), "list the items: queued, running, done, failed or all")(
      "limit", po::value(&limit)->default_value(50)->value_name("N"), "--list: at most N items (0: all)")(
      "clear", po::value(&clear)->value_name("STATE"), "delete the items done or failed")(
      "format", po::value(&format)->default_value("text")->value_name("FMT"), "output: text or json")(
      "lang", po::value(&lang)->value_name("LANG"), "language of the text: ja or en (default: from LANG/LC_ALL)");
  const auto vm = parse_arguments(args, visible, help);
  if (!vm) return exit_ok;
  need_db(db, "queue");
  if (format != "text" && format != "json")
    throw UsageError(Message{"format-invalid", {{"value", printable(format)}, {"known", "text, json"}}});
  const auto& states = store::queue_states();
  if (!list.empty() && list != "all" && std::find(states.begin(), states.end(), list) == states.end())
    throw UsageError(Message{"queue-state-invalid", {{"value", printable(list)}, {"known", "queued, running, done, failed, all"}}});
  if (!clear.empty() && clear != "done" && clear != "failed")
    throw UsageError(Message{"queue-state-invalid", {{"value", printable(clear)}, {"known", "done, failed"}}});
  const Words w = words(lang);
  return with_queue([&] {
    auto q = store::open_queue(db);
    if (!clear.empty()) {
      const std::size_t n = q->clear(clear);
      std::cout << w.fill(w.get("queue.cleared"), {{"count", std::to_string(n)}, {"state", clear}, {"db", q->where()}}) << '\n';
      return exit_ok;
    }
    if (!list.empty()) {
      const auto rows = q->items(list == "all" ? "" : list, limit);
      if (format == "json") {
        json items = json::array();
        for (const auto& r : rows)
          items.push_back({{"item", r.id}, {"domain", r.domain}, {"state", r.state}, {"attempts", r.attempts},
                           {"leased_by", r.leased_by}, {"check", r.check_id ? json(*r.check_id) : json(nullptr)},
                           {"reason", r.last_error}});
        std::cout << json{{"items", items}}.dump(2) << '\n';
        return exit_ok;
      }
      std::vector<std::vector<std::string>> table = {{w.get("columns.item"), w.get("columns.domain"), w.get("columns.queue_state"),
                                                      w.get("columns.attempts"), w.get("columns.leased_by"),
                                                      w.get("columns.check"), w.get("columns.reason")}};
      for (const auto& r : rows)
        table.push_back({std::to_string(r.id), r.domain, w.get("queue_states." + r.state), std::to_string(r.attempts),
                         r.leased_by.empty() ? "-" : r.leased_by, r.check_id ? std::to_string(*r.check_id) : "-",
                         r.last_error.empty() ? "-" : printable(r.last_error, 120)});
      print_table(table);
      return exit_ok;
    }
    const auto counts = q->counts();
    if (format == "json") {
      std::cout << json{{"db", q->where()}, {"counts", counts}}.dump(2) << '\n';
      return exit_ok;
    }
    std::vector<std::vector<std::string>> table = {{w.get("columns.queue_state"), w.get("columns.items")}};
    for (const auto& s : states) table.push_back({w.get("queue_states." + s), std::to_string(counts.at(s))});
    print_table(table);
    return exit_ok;
  });
}

} // namespace certdoctor::cli
