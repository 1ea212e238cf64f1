// certdoctor serve: options, help and the signals; the service is src/serve.
#include <atomic>
#include <csignal>
#include <iostream>

#include <boost/program_options.hpp>

#include "cli/commands.hpp"
#include "probe/outside_probe.hpp"
#include "serve/daemon.hpp"
#include "serve/http_util.hpp"
#include "serve/service.hpp"
#include "store/store.hpp"
#include "util/error.hpp"
#include "util/text.hpp"

namespace po = boost::program_options;

namespace certdoctor::cli {

namespace {

std::atomic<bool> g_stop{false};

extern "C" void on_signal(int) { g_stop.store(true); }

const char* kServeHelp = R"(Usage: certdoctor serve --listen ADDRESS:PORT [options]

Runs the web page and the JSON API in the foreground, logs to standard error:
  GET  /                  the form (Japanese or English: ?lang=ja|en, else Accept-Language)
  POST /check             the form's submission (works without JavaScript) -> 303 to /r/ID
  GET  /r/ID              the result: the HTML report with the validation path; while the check
                          runs, the steps being asked (names, servers, addresses), reloaded every
                          3 s without JavaScript, updated in place with it (/static/app.js)
  POST /r/ID/again        check again with the same options -> 303 to /r/NEW?since=ID, which
                          shows what changed since (as certdoctor diff prints it)
  GET  /triage            "why did my renewal fail?": paste a notice mail or an ACME error;
  POST /triage            -> the triage page, with a check queued for each domain it names
  POST /api/v1/checks     {"domain": "example.jp", "www": true, "provider": "sakura",
                           "server_ip": "203.0.113.10"} -> 202 {"id": ...}
  GET  /api/v1/checks/ID  {"status": "queued|running|done|failed", ...the JSON of check}
  GET  /api/v1/checks/ID/progress?from=N   the steps of a check from the N-th on, with their text
  POST /api/v1/triage     a provider's notice mail or an ACME error as the body -> the JSON of
                          triage --offline, and "queued": a check of each domain it names
  GET  /api/v1/domains/NAME/history   the recorded checks of NAME (history --format json)
  GET  /healthz           GET /api/openapi.json
Errors are JSON {"error": {"code", "message": {"ja", "en"}}} (HTML pages on the page routes).

The probes of a check connect only to addresses the CA could reach: never loopback, private,
link-local (169.254.169.254 included), shared, documentation, multicast or their IPv4-mapped and
NAT64 forms; checked on every socket, redirects and DNS included. --allow-reserved is refused.
Checks run on --workers workers behind a queue of --queue (429 with Retry-After when full), each
within --timeout seconds; every result is kept in the history (--db), so that /r/ID stays valid.

With --db postgresql://... the queue is the database's (the one of certdoctor enqueue and worker):
every serve on the same database answers for every check, whichever accepted it, and
`certdoctor worker` processes on any machine run the checks besides the service's own --workers
(--workers 0: only those). --queue then bounds the items waiting in the database. Each item
carries the service's probe policy, which a worker applies over its own options (give workers
the same --resolver, --timeout, --ca ... as the service).

Examples:
  certdoctor serve --listen 127.0.0.1:8080
  certdoctor serve --listen [::]:8080 --db postgresql://certdoctor@db/certdoctor --trust-proxy
  certdoctor serve --listen [::]:8080 --db postgresql://certdoctor@db/certdoctor --workers 0
  certdoctor worker --db postgresql://certdoctor@db/certdoctor --concurrency 8   (on other machines)

Options)";

}  // namespace

int run_serve(const std::vector<std::string>& args) {
  for (const auto& a : args)
    if (a == "--allow-reserved" || a.rfind("--allow-reserved=", 0) == 0) throw UsageError(Message{"serve-allow-reserved", {}});
  serve::Config config;
  serve::DaemonLimits limits;
  std::vector<std::string> rules_dirs;
  bool help = false, no_cache = false;
  int workers = 4, queue = 32, max_body = 8192, max_triage_body = 65536, per_client = 16;
  config.defaults.ct_url = probe::default_ct_url;
  po::options_description visible(kServeHelp);
  visible.add_options()
      ("help,h", po::bool_switch(&help), "show this help")
      ("listen", po::value(&config.listen)->default_value(config.listen)->value_name("ADDRESS:PORT"), "where to listen: 127.0.0.1:8080, [::]:8080")
      ("db", po::value(&config.db)->value_name("FILE|URL"), "the history: an SQLite file or a postgresql:// URL (default: the user's history file)")
      ("lab", po::bool_switch(&config.lab), "the lab (tests/lab): also connect to the documentation blocks, where the lab's servers are; loopback, private, link-local and the metadata address stay refused")
      ("trust-proxy", po::bool_switch(&config.trust_proxy), "behind a reverse proxy: the client is the last address of X-Forwarded-For")
      ("workers", po::value(&workers)->default_value(workers)->value_name("N"), "checks running at once in this process, 1 to 64 (0 to 64 with a postgresql:// --db: other workers may run them)")
      ("queue", po::value(&queue)->default_value(queue)->value_name("N"), "checks waiting at most, 0 to 10000; beyond it 429")
      ("client-rate", po::value(&config.client_per_minute)->default_value(config.client_per_minute)->value_name("PER_MINUTE"), "checks one client address may start per minute")
      ("client-burst", po::value(&config.client_burst)->default_value(config.client_burst)->value_name("N"), "checks one client address may start at once")
      ("domain-rate", po::value(&config.domain_per_minute)->default_value(config.domain_per_minute)->value_name("PER_MINUTE"), "checks of one domain per minute")
      ("domain-burst", po::value(&config.domain_burst)->default_value(config.domain_burst)->value_name("N"), "checks of one domain at once")
      ("connections-per-client", po::value(&per_client)->default_value(per_client)->value_name("N"),
       "open connections one client address may hold, 1 to 10000 (more are closed at once)")
      ("max-body", po::value(&max_body)->default_value(max_body)->value_name("BYTES"), "largest request body, 256 to 1048576")
      ("max-triage-body", po::value(&max_triage_body)->default_value(max_triage_body)->value_name("BYTES"),
       "largest mail or ACME error POST /api/v1/triage takes, 256 to 1048576")
      ("resolver", po::value(&config.defaults.resolvers)->value_name("IP[:PORT]"), "recursive resolver of every check (repeatable; default: /etc/resolv.conf)")
      ("root-hints", po::value(&config.defaults.root_hints)->value_name("FILE"), "root servers for the delegation walk (default: built in)")
      ("ca", po::value(&config.defaults.ca)->default_value("letsencrypt")->value_name("ID"), "certificate authority model from rules/ca/")
      ("timeout", po::value(&config.defaults.timeout_s)->default_value(30)->value_name("SECONDS"), "deadline of each check, 1 to 600")
      ("ct-url", po::value(&config.defaults.ct_url)->default_value(config.defaults.ct_url)->value_name("URL"), "Certificate Transparency search (none: skip)")
      ("status-url", po::value(&config.defaults.status_url)->value_name("URL"), "the CA's status page JSON (none: skip)")
      ("cache-dir", po::value(&config.defaults.cache_dir)->value_name("DIR"), "cache of the outside sources' answers")
      ("no-cache", po::bool_switch(&no_cache), "always ask the outside sources afresh")
      ("ca-file", po::value(&config.defaults.ca_file)->value_name("FILE"), "PEM roots to verify served certificates with (default: the system's)")
      ("rules-dir", po::value(&rules_dirs)->value_name("DIR"), "extra rules directory laid over the built-in one (repeatable)");
  const auto vm = parse_arguments(args, visible, help);
  if (!vm) return exit_ok;
  const auto listen = serve::parse_listen(config.listen);
  if (!listen) throw UsageError(Message{"serve-listen-invalid", {{"value", printable(config.listen)}}});
  const auto range = [](const char* option, long value, long min, long max) {
    if (value < min || value > max)
      throw UsageError(Message{"serve-number", {{"option", option}, {"value", std::to_string(value)}, {"min", std::to_string(min)},
                                                {"max", std::to_string(max)}}});
  };
  range("workers", workers, 0, 64);
  if (workers == 0 && !store::is_postgres(config.db)) throw UsageError(Message{"serve-workers-zero", {}});
  range("queue", queue, 0, 10000);
  range("max-body", max_body, 256, 1048576);
  range("max-triage-body", max_triage_body, 256, 1048576);
  range("connections-per-client", per_client, 1, 10000);
  limits.per_client = static_cast<unsigned>(per_client);
  config.workers = static_cast<std::size_t>(workers);
  config.queue = static_cast<std::size_t>(queue);
  config.max_body = static_cast<std::size_t>(max_body);
  config.max_triage_body = static_cast<std::size_t>(max_triage_body);
  config.defaults.use_cache = !no_cache;
  limits.threads = 4;

  const pipeline::Knowledge k(rules_dirs);
  pipeline::CheckOptions probe_check = config.defaults;
  probe_check.domain = "example.jp";
  pipeline::validate(probe_check, k);  // --timeout, --ca: named before the service starts
  serve::Service::install_messages(k);
  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
  std::signal(SIGPIPE, SIG_IGN);
  serve::Service service(config, k);
  serve::run_daemon(service, listen->first, listen->second, limits, g_stop);
  return exit_ok;
}

}  // namespace certdoctor::cli
