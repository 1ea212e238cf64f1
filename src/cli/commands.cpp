#include "cli/commands.hpp"

#include <malloc.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <iostream>
#include <map>
#include <memory>
#include <set>
#include <sstream>

#include <boost/program_options.hpp>
#include <yaml-cpp/yaml.h>

#include "diff/diff.hpp"
#include "diff/render.hpp"
#include "pipeline/check.hpp"
#include "pipeline/knowledge.hpp"
#include "pipeline/lint.hpp"
#include "facts/facts.hpp"
#include "probe/dns_client.hpp"
#include "probe/dns_probe.hpp"
#include "probe/outside_probe.hpp"
#include "probe/resolv_conf.hpp"
#include "probe/root_hints.hpp"
#include "report/html.hpp"
#include "report/report.hpp"
#include "view/address.hpp"
#include "rules/catalogue.hpp"
#include "view/data.hpp"
#include "view/derive.hpp"
#include "rules/engine.hpp"
#include "util/lifetime.hpp"
#include "rules/lint.hpp"
#include "triage/acme.hpp"
#include "util/domain.hpp"
#include "util/error.hpp"
#include "util/file.hpp"
#include "util/text.hpp"

namespace certdoctor::cli {

namespace po = boost::program_options;
using pipeline::CheckOptions;
using pipeline::Diagnosis;
using pipeline::Knowledge;
namespace fs = std::filesystem;
using nlohmann::json;

// --- output settings ------------------------------------------------------------------------

std::string default_lang() {
  for (const char* var : {"LC_ALL", "LC_MESSAGES", "LANG"}) {
    const char* v = std::getenv(var);
    if (v && *v) return std::string(v).rfind("ja", 0) == 0 ? "ja" : "en";
  }
  return "en";
}

std::string message_lang(const std::vector<std::string>& args) {
  for (std::size_t i = 0; i < args.size(); ++i) {
    std::string value;
    if (args[i] == "--lang" && i + 1 < args.size()) value = args[i + 1];
    else if (args[i].rfind("--lang=", 0) == 0) value = args[i].substr(7);
    if (value == "ja" || value == "en") return value;
  }
  return default_lang();
}

void install_messages(const std::string& lang) {
  set_message_renderer([lang, labels = std::shared_ptr<report::Labels>()](const Message& m) mutable -> std::string {
    if (!labels) {
      try {
        labels = std::make_shared<report::Labels>(report::Labels::load(pipeline::reports_dir()));
      } catch (const std::exception&) {
        return "";  // the key and its arguments: a broken labels file must not hide the error
      }
    }
    for (const std::string& l : {lang, std::string("en")}) {
      const json* text = labels->find(l, "errors." + m.key);
      if (text && text->is_string()) return fill_message(text->get<std::string>(), m);
    }
    return "";
  });
}

int output_width(int requested) {
  if (requested != kWidthAuto) return requested;
  if (!isatty(STDOUT_FILENO)) return 0;  // a pipe or a file: lines as long as the text, for pasting
  if (const char* c = std::getenv("COLUMNS"); c && *c) {
    int w = std::atoi(c);
    if (w >= 40 && w <= 1000) return w;
  }
  winsize ws{};
  if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col >= 40) return ws.ws_col;
  return 80;
}

void check_width(int width) {
  if (width != kWidthAuto && (width < 0 || (width > 0 && width < 40) || width > 1000))
    throw UsageError(Message{"width-range", {{"value", std::to_string(width)}}});
}

bool use_color() {
  const char* term = std::getenv("TERM");
  return isatty(STDOUT_FILENO) && !std::getenv("NO_COLOR") && !(term && std::string(term) == "dumb");
}

void add_output_options(po::options_description& d, OutputOptions& o) {
  d.add_options()
      ("format", po::value(&o.format)->default_value("text")->value_name("FMT"), "output: text, json, markdown or html (one self-contained page)")
      ("lang", po::value(&o.lang)->value_name("LANG"), "language of the report: ja or en (default: from LANG/LC_ALL)")
      ("width", po::value(&o.width)->value_name("N"),
       "wrap text at N columns, 0 for no wrapping (default: the terminal's width, COLUMNS if set; "
       "no wrapping into a pipe or a file)")
      ("rules-dir", po::value(&o.rules_dirs)->value_name("DIR"),
       "extra rules directory laid over the built-in one (repeatable)");
}

void check_output_options(OutputOptions& o) {
  if (o.lang.empty()) o.lang = default_lang();
  if (o.lang != "ja" && o.lang != "en") throw UsageError(Message{"lang-invalid", {{"value", printable(o.lang)}}});
  if (o.format != "text" && o.format != "json" && o.format != "markdown" && o.format != "html")
    throw UsageError(Message{"format-invalid", {{"value", printable(o.format)}, {"known", "text, json, markdown, html"}}});
  check_width(o.width);
}

void print_report(const report::Report& r, const Knowledge& k, const OutputOptions& o, const json& extra) {
  if (o.format == "json") {
    json j = report::render_json(r);
    for (const auto& [key, value] : extra.items()) j[key] = value;
    std::cout << j.dump(2) << '\n';
  } else if (o.format == "markdown") std::cout << report::render_markdown(r, k.labels);
  else if (o.format == "html") std::cout << report::render_html(r, k.labels);
  else std::cout << report::render_text(r, k.labels, output_width(o.width), use_color());
  std::cout.flush();
}

void add_record_options(po::options_description& d, RecordFlags& r) {
  d.add_options()
      ("record", po::bool_switch(&r.record), "record the check in the history after the report (see certdoctor history)")
      ("db", po::value(&r.options.db)->value_name("FILE|URL"),
       "the history: an SQLite file or a postgresql:// URL (default: $XDG_DATA_HOME/certdoctor/history.sqlite3)")
      ("ticket", po::value(&r.options.ticket)->value_name("ID"), "the support ticket the check is for, kept in the history")
      ("user", po::value(&r.options.user)->value_name("NAME"), "who asked, kept in the history (default: $USER)");
}

void check_record_options(const RecordFlags& r) {
  if (r.record) return;
  for (const auto& [given, name] : {std::pair{!r.options.db.empty(), "--db"}, {!r.options.ticket.empty(), "--ticket"},
                                    {!r.options.user.empty(), "--user"}})
    if (given) throw UsageError(std::string(name) + " is kept only with --record: add --record to record the check");
}

int recording_failed(const std::string& what) {
  std::cerr << "certdoctor: error: the check was not recorded: " << what << " (the report above is complete)\n";
  return exit_not_recorded;
}

namespace {

/// Judges facts with the current rules and prints the report; returns the exit status.
int judge_and_print(const facts::Facts& facts, const Knowledge& k, const OutputOptions& o, bool replayed,
                    const RecordFlags& rec) {
  // Printed, then left to the end of the process (keep_until_exit): freeing it costs more
  // than it is worth to a command that ends here.
  Diagnosis& d = keep_until_exit(std::make_unique<Diagnosis>(pipeline::diagnose(facts, k, o.lang, {.picture = o.format == "html"})));
  d.report.replayed = replayed;
  print_report(d.report, k, o);
  const int status = pipeline::exit_status(d);
  // Recorded after the report is out: a history that cannot be written never costs the report.
  if (rec.record) {
    try {
      const auto id = pipeline::record(facts, d, k, rec.options);
      std::cerr << "certdoctor: recorded as check " << id << " (certdoctor history show " << id
                << (rec.options.db.empty() ? "" : " --db ...") << ")\n";
    } catch (const Error& e) {
      return recording_failed(e.what());
    }
  }
  return status;
}

const char* check_help_text = R"(Usage: certdoctor check [options] DOMAIN

Checks whether a Let's Encrypt HTTP-01 renewal of DOMAIN will work (before renewal) or why it
failed (after a "renewal failed" mail). For every name on the certificate (DOMAIN and, for a
registered domain, www.DOMAIN) it asks DNS what the CA will see (addresses, nameservers,
delegation, CAA, DNSSEC), requests the challenge path on port 80 of every address as the CA
does (redirects followed hop by hop under the CA's rules), reads the certificate served on
port 443, and looks up the domain's certificates in Certificate Transparency (rate limits) and
the CA's status page. DNS, HTTP, TLS and the outside sources run at the same time under one
deadline (--timeout).

Examples:
  certdoctor check example.jp                      the domain and www.example.jp
  certdoctor check --no-www shop.example.jp        a subdomain alone
  certdoctor check --server-ip 203.0.113.10 example.jp
                                                   say which server hosts the site
  certdoctor check --account example123 example.jp  name the server by the account's own name
                                                   (Sakura example123.sakura.ne.jp, Xserver
                                                   example123.xsrv.jp)
  certdoctor check --provider xserver --lang ja example.jp
  certdoctor check --format json example.jp > report.json
  certdoctor check --format html example.jp > report.html
                                                   one page to attach to a ticket or a mail
  certdoctor check --facts-out ticket-123.json example.jp
                                                   keep the facts; replay with certdoctor explain
  certdoctor check --no-web example.jp             DNS and outside sources only
  certdoctor check --ca pebble --ca-file lab-root.pem example.jp
                                                   predict a test CA's result; trust a lab root

  certdoctor check --record --ticket T-1234 example.jp
                                                   keep the check in the history (certdoctor history)

Exit status: 0 renewal expected to succeed (warnings may be listed), 1 blocking problems found,
2 usage or input error, 3 the diagnosis could not be completed (for example no resolver answered),
4 the report is complete but --record could not record it (the reason is on standard error).

Options)";

} // namespace

std::optional<po::variables_map> parse_arguments(const std::vector<std::string>& args, const po::options_description& visible,
                                                const bool& help, const char* name, std::string* positional) {
  po::options_description all;
  all.add(visible);
  po::positional_options_description pos;
  if (positional) {
    all.add_options()(name, po::value(positional));
    pos.add(name, 1);
  }
  po::variables_map vm;
  po::store(po::command_line_parser(args).options(all).positional(pos).run(), vm);
  po::notify(vm);
  if (help) {
    std::cout << visible << '\n';
    return std::nullopt;
  }
  return vm;
}

std::string main_help() {
  return R"(certdoctor: diagnose Let's Encrypt (HTTP-01) certificate renewals on shared hosting

Usage:
  certdoctor check [options] DOMAIN     will the renewal work? why did it fail?
  certdoctor batch [options] FILE|-     many domains at once, one JSON object per domain (NDJSON)
  certdoctor explain --facts FILE       judge saved facts again, offline, with the current rules
  certdoctor triage [FILE|-]            from a provider's mail or an ACME error to a diagnosis
  certdoctor history DOMAIN             the recorded checks of a domain (check --record)
  certdoctor history show ID            a recorded check, judged again with today's rules
  certdoctor history prune --older-than 400d
  certdoctor due [--within 30d]         recorded domains to check before their provider renews
  certdoctor diff --from FACTS [--to FACTS]
                                        what changed since a check, and which finding it explains
  certdoctor enqueue --db URL FILE|-    queue domains in PostgreSQL for workers on any machine
  certdoctor worker --db URL            check queued domains and record them (several at once)
  certdoctor queue --db URL             how many queued domains are queued, running, done, failed
  certdoctor rules lint                 validate the rule catalogue
  certdoctor serve --listen ADDR:PORT   the web page and JSON API (safe to put on the internet)
  certdoctor --version

certdoctor looks at DOMAIN (and www.DOMAIN) the way the certificate authority will: DNS
(addresses, nameservers, delegation, CAA, DNSSEC), the HTTP-01 challenge path on port 80 of
every address, the certificate served on port 443, the domain's issuance history and the CA's
status. It names each problem with a stable id (for example aaaa-not-host,
http-access-restricted or cert-expired), the evidence, and what to do for Sakura Internet,
Xserver or any other host, in Japanese or English. `triage` reads a provider's "renewal
failed" mail or an ACME client's error, says what it means, and checks each domain.

Run `certdoctor COMMAND --help` for the options of a command.
)";
}

void add_probe_options(po::options_description& visible, CheckOptions& c, ProbeSwitches& s, bool facts_out) {
  visible.add_options()
      ("www", po::bool_switch(&c.www), "the certificate also carries www.DOMAIN (default when DOMAIN is a registered domain)")
      ("no-www", po::bool_switch(&c.no_www), "the certificate carries DOMAIN only")
      ("provider", po::value(&c.provider)->default_value("auto")->value_name("ID"),
       "hosting provider: sakura, xserver, generic or auto (from the nameservers)")
      ("server-ip", po::value(&c.server_ips)->value_name("IP"), "address of the hosting server (repeatable)")
      ("account", po::value(&c.account)->value_name("ID"),
       "account or server ID at the provider: its own name (ACCOUNT.sakura.ne.jp, SERVERID.xsrv.jp) names the server")
      ("server-id", po::value(&s.server_id)->value_name("ID"), "the same as --account")
      ("resolver", po::value(&c.resolvers)->value_name("IP[:PORT]"), "recursive resolver to ask (repeatable; default: /etc/resolv.conf)")
      ("root-hints", po::value(&c.root_hints)->value_name("FILE"), "root servers for the delegation walk, named.root format (default: built in)")
      ("allow-reserved", po::bool_switch(&c.allow_reserved), "treat documentation and private addresses as reachable (labs)")
      ("connect-policy", po::value(&s.connect_policy)->default_value("open")->value_name("POLICY"),
       "where the probes may connect: open (anywhere the domain points), internet (only addresses the CA "
       "could reach: never loopback, private, link-local, the metadata address, documentation; as `serve` does) "
       "or lab (internet plus the documentation blocks)")
      ("ca", po::value(&c.ca)->default_value("letsencrypt")->value_name("ID"), "certificate authority model from rules/ca/")
      ("timeout", po::value(&c.timeout_s)->default_value(30)->value_name("SECONDS"), "deadline for the whole diagnosis, 1 to 600");
  if (facts_out) visible.add_options()("facts-out", po::value(&s.facts_out)->value_name("FILE"), "save the gathered facts as JSON");
  visible.add_options()
      ("ct-url", po::value(&c.ct_url)->default_value(c.ct_url)->value_name("URL"),
       "Certificate Transparency search with crt.sh's JSON interface, for rate limits (none: skip)")
      ("status-url", po::value(&c.status_url)->value_name("URL"),
       "the CA's status page JSON (status.io API; default: Let's Encrypt's; none: skip)")
      ("cache-dir", po::value(&c.cache_dir)->value_name("DIR"), "where answers of outside sources are cached (default: ~/.cache/certdoctor)")
      ("no-cache", po::bool_switch(&s.no_cache), "always ask the outside sources afresh")
      ("no-web", po::bool_switch(&s.no_web), "DNS and outside sources only: do not request the challenge path or read the certificate")
      ("ca-file", po::value(&c.ca_file)->value_name("FILE"), "PEM roots to verify the served certificate with (default: the system's)")
      ("max-qps-per-server", po::value(&s.max_qps_per_server)->value_name("N"),
       "at most N DNS queries a second to one nameserver (registries' and providers' servers; batch default: 50, check: no limit)")
      ("max-qps-per-resolver", po::value(&s.max_qps_per_resolver)->value_name("N"),
       "at most N queries a second to one recursive resolver (default: no limit; the resolver is your own)")
      ("max-connections-per-address", po::value(&s.max_connections_per_address)->value_name("M"),
       "at most M connections at a time to one web server address, ports 80 and 443 together (batch default: 8, check: no limit)")
      ("max-connects-per-second", po::value(&s.max_connects_per_second)->value_name("R"),
       "at most R new connections a second to one web server address (batch default: 20, check: no limit)");
}

namespace {

// "2.5" rather than "2.500000" in messages.
std::string format_number(double value) {
  std::ostringstream out;
  out << value;
  return out.str();
}

} // namespace

void finish_probe_options(CheckOptions& c, const ProbeSwitches& s) {
  c.use_cache = !s.no_cache;
  // A shared server of a provider hosts thousands of domains: a batch asks it politely. A limit
  // given to a lone check applies to it as well.
  bool limited = false;
  auto limit = [&](const char* option, double value, double max, auto& field) {
    if (value == 0) return;
    constexpr bool whole = std::is_integral_v<std::remove_reference_t<decltype(field)>>;
    if (!(value >= 1 && value <= max) || (whole && value != std::floor(value)))
      throw UsageError(Message{whole ? "limit-whole" : "limit-range",
                               {{"option", option}, {"value", printable(format_number(value))}, {"max", format_number(max)}}});
    field = static_cast<std::remove_reference_t<decltype(field)>>(value);
    limited = true;
  };
  limit("--max-qps-per-server", s.max_qps_per_server, 100000, c.politeness.dns_qps);
  limit("--max-qps-per-resolver", s.max_qps_per_resolver, 100000, c.politeness.resolver_qps);
  limit("--max-connections-per-address", s.max_connections_per_address, 10000, c.politeness.web_connections);
  limit("--max-connects-per-second", s.max_connects_per_second, 100000, c.politeness.web_connects_per_s);
  if (limited) c.shared = std::make_shared<probe::SharedProbes>(c.politeness);
  if (s.connect_policy == "open") c.policy = probe::AddressPolicy::Mode::open;
  else if (s.connect_policy == "internet") c.policy = probe::AddressPolicy::Mode::internet;
  else if (s.connect_policy == "lab") c.policy = probe::AddressPolicy::Mode::lab;
  else throw UsageError(Message{"connect-policy-invalid", {{"value", printable(s.connect_policy)}}});
  c.web = !s.no_web;
  if (!s.server_id.empty()) {
    if (!c.account.empty() && c.account != s.server_id)
      throw UsageError(Message{"account-twice", {{"account", printable(c.account)}, {"server_id", printable(s.server_id)}}});
    c.account = s.server_id;
  }
  if (!s.facts_out.empty())
    if (auto why = file_write_problem(s.facts_out); !why.empty())
      throw UsageError(Message{"facts-out-unwritable", {{"file", printable(s.facts_out)}, {"reason", why}}});
  if (!c.cache_dir.empty())
    if (auto why = folder_write_problem(c.cache_dir); !why.empty())
      throw UsageError(Message{"cache-dir-unwritable", {{"folder", printable(c.cache_dir)}, {"reason", why}}});
}

int run_check(const std::vector<std::string>& args) {
  OutputOptions out;
  CheckOptions c;
  ProbeSwitches sw;
  bool help = false;
  c.ct_url = probe::default_ct_url;

  po::options_description visible(check_help_text);
  visible.add_options()("help,h", po::bool_switch(&help), "show this help");
  add_probe_options(visible, c, sw);
  RecordFlags rec;
  add_record_options(visible, rec);
  add_output_options(visible, out);
  if (!parse_arguments(args, visible, help, "domain", &c.domain)) return exit_ok;
  check_output_options(out);
  check_record_options(rec);
#ifndef CERTDOCTOR_JEMALLOC
  // One check: the probes' loop thread and this one. A malloc arena of the loop's own would
  // touch pages of a heap of its own for the few allocations it makes (about 180 page faults,
  // an eighth of a check's); one arena serves both (jemalloc: malloc_conf in main.cpp).
  mallopt(M_ARENA_MAX, 1);
#endif
  if (c.domain.empty()) throw UsageError(Message{"check-no-domain", {}});
  // Parsed before the rules are loaded so that a bad domain is reported first; output paths are
  // checked before any probe starts, so that a typo does not cost a whole check.
  parse_domain(c.domain);
  finish_probe_options(c, sw);
  const Knowledge& k = keep_until_exit(std::make_unique<Knowledge>(out.rules_dirs));
  pipeline::validate(c, k);
  facts::Facts f = pipeline::gather(c, k);
  const int status = judge_and_print(f, k, out, false, rec);
  // The report is out before the facts are saved: a full disk must not cost the diagnosis.
  if (!sw.facts_out.empty()) {
    try {
      facts::save_file(f, sw.facts_out);
    } catch (const Error& e) {
      std::cerr << render_message(Message{"prefix", {}}) << render_message(Message{"report-complete", {{"detail", e.what()}}})
                << '\n';
      return exit_usage;
    }
  }
  return status;
}

int run_explain(const std::vector<std::string>& args) {
  OutputOptions out;
  std::string facts_file, provider;
  bool help = false, show_view = false;
  po::options_description visible(R"(Usage: certdoctor explain --facts FILE [options]

Judges facts saved by `certdoctor check --facts-out FILE` again with the current rules, without
any network access: for tickets, regression tests and before/after comparisons.

Options)");
  visible.add_options()
      ("help,h", po::bool_switch(&help), "show this help")
      ("facts", po::value(&facts_file)->value_name("FILE"), "facts file written by check --facts-out")
      ("provider", po::value(&provider)->value_name("ID"), "judge as if the domain were hosted by this provider")
      ("view", po::bool_switch(&show_view), "print the view the rules see (facts plus derived values) as JSON, for rule authors");
  RecordFlags rec;
  add_record_options(visible, rec);
  add_output_options(visible, out);
  const auto vm = parse_arguments(args, visible, help);
  if (!vm) return exit_ok;
  check_output_options(out);
  check_record_options(rec);
  if (rec.record && show_view) throw UsageError("--view prints the view only: leave out --record");
  if (facts_file.empty()) throw UsageError(Message{"explain-no-facts", {}});
  Knowledge k(out.rules_dirs);
  facts::Facts f = facts::load_file(facts_file);
  if (!provider.empty()) {
    if (provider != "auto") k.data.provider(provider);
    f.request.provider = provider;
  }
  if (show_view) {
    json view = view::derive(f, view::DeriveContext{k.data, k.classifier});
    view.erase("facts");
    std::cout << view.dump(2) << '\n';
    return exit_ok;
  }
  return judge_and_print(f, k, out, true, rec);
}

int run_rules(const std::vector<std::string>& args) {
  if (args.empty() || args[0] == "--help" || args[0] == "-h") {
    std::cout << "Usage: certdoctor rules lint [--rules-dir DIR]...\n\n"
                 "Validates the rule catalogue: unknown fact names, missing languages or provider texts,\n"
                 "placeholders that differ between languages, duplicate ids. Prints FILE:LINE: message\n"
                 "for each problem; exit status 1 when there is any.\n";
    return args.empty() ? exit_usage : exit_ok;
  }
  if (args[0] != "lint") throw UsageError("rules: unknown subcommand '" + args[0] + "'; use: certdoctor rules lint");
  std::vector<std::string> extra;
  for (std::size_t i = 1; i < args.size(); ++i) {
    if (args[i] == "--rules-dir" && i + 1 < args.size()) extra.push_back(args[++i]);
    else throw UsageError("rules lint: unexpected argument '" + args[i] + "'");
  }
  // Lint reads the YAML files themselves, so that each problem names its file and line.
  const Knowledge k = Knowledge::from_files(extra);
  const auto issues = pipeline::lint_knowledge(k);
  for (const auto& issue : issues) std::cout << issue.file << ":" << issue.line << ": " << issue.message << '\n';
  std::cout << k.catalogue.rules().size() << " rules, " << issues.size() << " problems\n";
  return issues.empty() ? exit_ok : exit_problems;
}


const char* diff_help_text = R"(Usage: certdoctor diff DOMAIN [--from last-ok|ID|DAY] [--to ID|now] [options]
       certdoctor diff --from FACTS [--to FACTS] [options]

What changed between two checks of one domain, and which finding each change explains. Both
sides are judged with the current rules, so that they compare fairly. The changes are named in
the words support staff use: nameservers at the parent and in the zone, each address (A, AAAA),
CNAMEs, CAA at each level, redirects and answers on the challenge path, block pages, the served
certificate, the provider recognised and the hosting server; each with the days between which it
happened, and the findings it explains ("... moved from ns1.xserver.jp to ada.ns.cloudflare.com
between 2026-10-02 and 2026-11-20 - this is why a-not-host fires").

With DOMAIN, the two sides come from the history (checks recorded with --record, see certdoctor
history): --from is last-ok (default: the last check that passed), a check id, or a day
YYYY-MM-DD (the last check on that day or before, JST); --to is a check id or now (default: the
domain is checked again now, and --record keeps that check too).
Without DOMAIN, --from and --to are facts files saved with `certdoctor check --facts-out`;
without --to the domain of --from is checked again now.
A check made now takes the probe options below; --www, --provider, --server-ip, --account and
--ca default to those of the earlier check.

Examples:
  certdoctor diff example.jp                          the last passing check against one made now
  certdoctor diff example.jp --from 2026-10-02 --to 57
  certdoctor diff --from ticket-123-ok.json --to ticket-123-failed.json --format json
  certdoctor diff --from last-month.json --resolver 192.0.2.53   the same domain, checked now

Exit status: as for check, of the later side: 0 renewal expected to succeed, 1 blocking problems,
2 usage or input error, 3 the later check could not be completed, 4 it was not recorded (--record).

Options)";

int run_diff(const std::vector<std::string>& args) {
  OutputOptions out;
  CheckOptions c;
  ProbeSwitches sw;
  RecordFlags rec;
  std::string domain, from_ref, to_ref;
  bool help = false;
  c.ct_url = probe::default_ct_url;
  po::options_description visible(diff_help_text);
  visible.add_options()
      ("help,h", po::bool_switch(&help), "show this help")
      ("from", po::value(&from_ref)->value_name("REF"),
       "the earlier check: with DOMAIN last-ok (default), a check id or a day YYYY-MM-DD; else a facts file")
      ("to", po::value(&to_ref)->value_name("REF"),
       "the later check: with DOMAIN a check id or now (default); else a facts file (default: check now)");
  add_probe_options(visible, c, sw);
  add_record_options(visible, rec);
  add_output_options(visible, out);
  const auto vm = parse_arguments(args, visible, help, "domain", &domain);
  if (!vm) return exit_ok;
  check_output_options(out);
  if (out.format == "markdown") throw UsageError("diff: --format markdown is not available; use text or json");
  const bool history = !domain.empty();
  // With DOMAIN the history is read, so --db goes without --record; --ticket and --user only
  // describe a check that is recorded.
  if (!history) {
    check_record_options(rec);
  } else {
    RecordFlags without_db = rec;
    without_db.options.db.clear();
    check_record_options(without_db);
  }
  if (!history && from_ref.empty())
    throw UsageError("diff: give a DOMAIN whose checks are recorded, or --from FACTS; usage: certdoctor diff DOMAIN "
                     "or certdoctor diff --from FACTS [--to FACTS] (see --help)");
  if (history) {
    domain = parse_domain(domain).ascii;
    if (from_ref.empty()) from_ref = "last-ok";
    if (to_ref.empty()) to_ref = "now";
  }
  if (!sw.facts_out.empty() && !(history ? to_ref == "now" : to_ref.empty()))
    throw UsageError("--facts-out saves the check made now: leave out --to (or give --to now)");
  Knowledge k(out.rules_dirs);

  facts::Facts from, to;
  std::optional<std::vector<rules::Finding>> from_recorded, to_recorded;
  std::unique_ptr<store::Store> db;
  if (history) {
    try {
      db = store::open(rec.options.db, store::Open::existing);
      store::Record r = pipeline::pick(*db, domain, from_ref);
      from = facts::parse_document(r.facts, db->where() + ", check " + std::to_string(r.id));
      from_recorded = pipeline::recorded_findings(r);
      if (to_ref != "now") {
        store::Record t = pipeline::pick(*db, domain, to_ref);
        to = facts::parse_document(t.facts, db->where() + ", check " + std::to_string(t.id));
        to_recorded = pipeline::recorded_findings(t);
      }
    } catch (const store::StoreError& e) {
      throw UsageError(e.what());
    }
  } else {
    from = facts::load_file(from_ref);
    if (!to_ref.empty()) to = facts::load_file(to_ref);
  }
  const bool live = history ? to_ref == "now" : to_ref.empty();
  if (live) {
    // The same request as the earlier check unless an option says otherwise.
    const auto& r = from.request;
    c.domain = r.input.empty() ? from.domain : r.input;
    auto given = [&](const char* name) { return vm->count(name) && !(*vm)[name].defaulted(); };
    if (!given("www") && !given("no-www") && r.www_explicit) (r.www ? c.www : c.no_www) = true;
    if (!given("provider")) c.provider = r.provider;
    if (!given("server-ip")) c.server_ips = r.server_ips;
    if (!given("account") && !given("server-id")) c.account = r.account;
    if (!given("ca")) c.ca = r.ca;
    parse_domain(c.domain);
    finish_probe_options(c, sw);
    pipeline::validate(c, k);
    to = pipeline::gather(c, k);
  }
  if (from.domain != to.domain)
    throw UsageError("diff: the two checks are of different domains (" + printable(from.domain) + " and " +
                     printable(to.domain) + "); compare two checks of one domain");
  const diff::Result result =
      diff::compare(diff::Side{&from, from_recorded}, diff::Side{&to, to_recorded},
                    view::DeriveContext{k.data, k.classifier}, k.catalogue);
  const report::Labels words = report::Labels::load(pipeline::reports_dir(), "diff.yaml");
  if (out.format == "json") std::cout << diff::render_json(result, k.catalogue, words, out.lang).dump(2) << '\n';
  else std::cout << diff::render_text(result, k.catalogue, words, out.lang, output_width(out.width));
  std::cout.flush();
  const std::string verdict = report::verdict_of(result.to_findings, result.to_complete);
  int status = verdict == "incomplete" ? exit_incomplete : verdict == "fail" ? exit_problems : exit_ok;
  if (live && !sw.facts_out.empty()) {
    try {
      facts::save_file(to, sw.facts_out);
    } catch (const Error& e) {
      std::cerr << "certdoctor: error: " << e.what() << " (the comparison above is complete)\n";
      return exit_usage;
    }
  }
  if (live && rec.record) {
    try {
      const auto id = pipeline::record(to, pipeline::diagnose(to, k, out.lang), k, rec.options);
      std::cerr << "certdoctor: recorded as check " << id << '\n';
    } catch (const Error& e) {
      return recording_failed(e.what());
    }
  }
  return status;
}

} // namespace certdoctor::cli
