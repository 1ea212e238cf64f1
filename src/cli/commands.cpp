#include "cli/commands.hpp"

#include <sys/ioctl.h>
#include <unistd.h>

#include <chrono>
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

#include "pipeline/check.hpp"
#include "pipeline/knowledge.hpp"
#include "pipeline/lint.hpp"
#include "facts/facts.hpp"
#include "probe/dns_client.hpp"
#include "probe/dns_probe.hpp"
#include "probe/outside_probe.hpp"
#include "probe/resolv_conf.hpp"
#include "probe/root_hints.hpp"
#include "report/report.hpp"
#include "view/address.hpp"
#include "rules/catalogue.hpp"
#include "view/data.hpp"
#include "view/derive.hpp"
#include "rules/engine.hpp"
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

namespace {

struct OutputOptions {
  std::string format = "text";
  int width = kWidthAuto;
  std::string lang;
  std::vector<std::string> rules_dirs;
};

void add_output_options(po::options_description& d, OutputOptions& o) {
  d.add_options()
      ("format", po::value(&o.format)->default_value("text")->value_name("FMT"), "output: text, json or markdown")
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
  if (o.format != "text" && o.format != "json" && o.format != "markdown")
    throw UsageError(Message{"format-invalid", {{"value", printable(o.format)}, {"known", "text, json, markdown"}}});
  check_width(o.width);
}

/// Judges facts with the current rules and prints the report; returns the exit status.
int judge_and_print(const facts::Facts& facts, const Knowledge& k, const OutputOptions& o, bool replayed = false) {
  Diagnosis d = pipeline::diagnose(facts, k, o.lang);
  d.report.replayed = replayed;
  if (o.format == "json") std::cout << report::render_json(d.report).dump(2) << '\n';
  else if (o.format == "markdown") std::cout << report::render_markdown(d.report, k.labels);
  else std::cout << report::render_text(d.report, k.labels, output_width(o.width), use_color());
  std::cout.flush();
  return pipeline::exit_status(d);
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
  certdoctor check --facts-out ticket-123.json example.jp
                                                   keep the facts; replay with certdoctor explain
  certdoctor check --no-web example.jp             DNS and outside sources only
  certdoctor check --ca pebble --ca-file lab-root.pem example.jp
                                                   predict a test CA's result; trust a lab root

Exit status: 0 renewal expected to succeed (warnings may be listed), 1 blocking problems found,
2 usage or input error, 3 the diagnosis could not be completed (for example no resolver answered).

Options)";

} // namespace

void parse_arguments(const std::vector<std::string>& args, const po::options_description& visible, const char* name,
                     std::string& positional) {
  po::options_description all;
  all.add(visible).add_options()(name, po::value(&positional));
  po::positional_options_description pos;
  pos.add(name, 1);
  po::variables_map vm;
  po::store(po::command_line_parser(args).options(all).positional(pos).run(), vm);
  po::notify(vm);
}

std::string main_help() {
  return R"(certdoctor: diagnose Let's Encrypt (HTTP-01) certificate renewals on shared hosting

Usage:
  certdoctor check [options] DOMAIN     will the renewal work? why did it fail?
  certdoctor explain --facts FILE       judge saved facts again, offline, with the current rules
  certdoctor triage [FILE|-]            from a provider's mail or an ACME error to a diagnosis
  certdoctor rules lint                 validate the rule catalogue
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

int run_check(const std::vector<std::string>& args) {
  OutputOptions out;
  CheckOptions c;
  std::string facts_out, server_id;
  bool no_cache = false, no_web = false, help = false;
  c.ct_url = probe::default_ct_url;

  po::options_description visible(check_help_text);
  visible.add_options()
      ("help,h", po::bool_switch(&help), "show this help")
      ("www", po::bool_switch(&c.www), "the certificate also carries www.DOMAIN (default when DOMAIN is a registered domain)")
      ("no-www", po::bool_switch(&c.no_www), "the certificate carries DOMAIN only")
      ("provider", po::value(&c.provider)->default_value("auto")->value_name("ID"),
       "hosting provider: sakura, xserver, generic or auto (from the nameservers)")
      ("server-ip", po::value(&c.server_ips)->value_name("IP"), "address of the hosting server (repeatable)")
      ("account", po::value(&c.account)->value_name("ID"),
       "account or server ID at the provider: its own name (ACCOUNT.sakura.ne.jp, SERVERID.xsrv.jp) names the server")
      ("server-id", po::value(&server_id)->value_name("ID"), "the same as --account")
      ("resolver", po::value(&c.resolvers)->value_name("IP[:PORT]"), "recursive resolver to ask (repeatable; default: /etc/resolv.conf)")
      ("root-hints", po::value(&c.root_hints)->value_name("FILE"), "root servers for the delegation walk, named.root format (default: built in)")
      ("allow-reserved", po::bool_switch(&c.allow_reserved), "treat documentation and private addresses as reachable (labs)")
      ("ca", po::value(&c.ca)->default_value("letsencrypt")->value_name("ID"), "certificate authority model from rules/ca/")
      ("timeout", po::value(&c.timeout_s)->default_value(30)->value_name("SECONDS"), "deadline for the whole diagnosis, 1 to 600")
      ("facts-out", po::value(&facts_out)->value_name("FILE"), "save the gathered facts as JSON")
      ("ct-url", po::value(&c.ct_url)->default_value(c.ct_url)->value_name("URL"),
       "Certificate Transparency search with crt.sh's JSON interface, for rate limits (none: skip)")
      ("status-url", po::value(&c.status_url)->value_name("URL"),
       "the CA's status page JSON (status.io API; default: Let's Encrypt's; none: skip)")
      ("cache-dir", po::value(&c.cache_dir)->value_name("DIR"), "where answers of outside sources are cached (default: ~/.cache/certdoctor)")
      ("no-cache", po::bool_switch(&no_cache), "always ask the outside sources afresh")
      ("no-web", po::bool_switch(&no_web), "DNS and outside sources only: do not request the challenge path or read the certificate")
      ("ca-file", po::value(&c.ca_file)->value_name("FILE"), "PEM roots to verify the served certificate with (default: the system's)");
  add_output_options(visible, out);
  parse_arguments(args, visible, "domain", c.domain);
  if (help) {
    std::cout << visible << '\n';
    return exit_ok;
  }
  check_output_options(out);
  if (c.domain.empty()) throw UsageError(Message{"check-no-domain", {}});
  c.use_cache = !no_cache;
  c.web = !no_web;
  if (!server_id.empty()) {
    if (!c.account.empty() && c.account != server_id)
      throw UsageError(Message{"account-twice", {{"account", printable(c.account)}, {"server_id", printable(server_id)}}});
    c.account = server_id;
  }
  // Parsed before the rules are loaded so that a bad domain is reported first; output paths are
  // checked before any probe starts, so that a typo does not cost a whole check.
  parse_domain(c.domain);
  if (!facts_out.empty())
    if (auto why = file_write_problem(facts_out); !why.empty())
      throw UsageError(Message{"facts-out-unwritable", {{"file", printable(facts_out)}, {"reason", why}}});
  if (!c.cache_dir.empty())
    if (auto why = folder_write_problem(c.cache_dir); !why.empty())
      throw UsageError(Message{"cache-dir-unwritable", {{"folder", printable(c.cache_dir)}, {"reason", why}}});
  Knowledge k(out.rules_dirs);
  pipeline::validate(c, k);
  facts::Facts f = pipeline::gather(c, k);
  const int status = judge_and_print(f, k, out);
  // The report is out before the facts are saved: a full disk must not cost the diagnosis.
  if (!facts_out.empty()) {
    try {
      facts::save_file(f, facts_out);
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
  add_output_options(visible, out);
  po::variables_map vm;
  po::store(po::command_line_parser(args).options(visible).run(), vm);
  po::notify(vm);
  if (help) {
    std::cout << visible << '\n';
    return exit_ok;
  }
  check_output_options(out);
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
  return judge_and_print(f, k, out, true);
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
  Knowledge k(extra);
  const auto issues = pipeline::lint_knowledge(k);
  for (const auto& issue : issues) std::cout << issue.file << ":" << issue.line << ": " << issue.message << '\n';
  std::cout << k.catalogue.rules().size() << " rules, " << issues.size() << " problems\n";
  return issues.empty() ? exit_ok : exit_problems;
}

} // namespace certdoctor::cli
