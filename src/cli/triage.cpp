// certdoctor triage: a provider's notice mail, an ACME problem document or an ACME client's
// output -> what it is about (src/triage), then a live check of each domain (check.hpp).
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <memory>
#include <sstream>

#include <boost/program_options.hpp>

#include "cli/commands.hpp"
#include "diff/render.hpp"
#include "pipeline/knowledge.hpp"
#include "pipeline/triage.hpp"
#include "probe/outside_probe.hpp"
#include "report/triage_report.hpp"
#include "store/store.hpp"
#include "triage/acme.hpp"
#include "triage/module.hpp"
#include "triage/triage.hpp"
#include "util/error.hpp"
#include "util/text.hpp"

namespace certdoctor::cli {

namespace po = boost::program_options;
using pipeline::CheckOptions;
using pipeline::Diagnosis;
using pipeline::Knowledge;

namespace {

const char* triage_help_text = R"(Usage: certdoctor triage [options] [FILE|-]

Reads one of these from FILE (or standard input) and says what it is about:
  - a hosting provider's mail about a certificate, as saved (.eml) or piped from a mail
    system: Sakura Internet's renewal-error and expiry notices, its JPRS reissue, renewal and
    issuance mails, Xserver's failed automatic renewal. Forwarded, quoted or attached
    (message/rfc822) notices count too; ISO-2022-JP, Shift_JIS, EUC-JP and UTF-8 are read.
  - an ACME problem document (JSON with "type": "urn:ietf:params:acme:error:...")
  - the error output of certbot, lego, acme.sh, Caddy, Traefik or cert-manager

It names the provider, the kind of notice (for example sakura-renewal-error, or unrelated for
any other mail), the domains concerned and the account or server ids, and maps the CA's error
to the finding ids of `certdoctor check` ("Timeout during connect" -> http-unreachable,
"CAA record for X prevents issuance" -> caa-forbids, "too many certificates" -> rate-limited
with its retry-after time). The report leads with what the notice means and what the provider
will do next; then, unless --offline, it runs `certdoctor check` on each domain. When checks
are recorded (--db, or the default history file once `check --record` has made it), each live
check is compared with the domain's last passing check, as `certdoctor diff DOMAIN` does: what
changed since it last worked, and which finding each change explains (--no-history: skip).

Examples:
  certdoctor triage renewal-error.eml                what is this mail, and is the domain fixed now?
  certdoctor triage --offline --format json mail.eml  classify only (no network), for scripts
  certbot renew 2>&1 | certdoctor triage -          a client's error output from a pipe
  certdoctor triage --format html --db team.sqlite3 mail.eml > ticket.html
                                                     one page for the ticket, with what changed
  certdoctor triage --format eml --from support@example.net mail.eml | sendmail -t
                                                     answer the mail with the diagnosis

Exit status: 0 triaged (and, when checked live, renewal expected to succeed), 1 a live check
found blocking problems, 2 usage or unreadable input, 3 a live check could not be completed,
4 the report is complete but --record could not record the live checks.
The kinds, subjects and texts are data: rules/providers/*.yaml (notices:) and
rules/acme-errors.yaml.

Options)";

std::string read_input(const std::string& path, std::size_t limit) {
  std::FILE* f = path == "-" ? stdin : std::fopen(path.c_str(), "rb");
  if (!f) {
    const std::string reason = std::strerror(errno);
    throw UsageError(Message{"triage-unreadable", {{"file", printable(path)}, {"reason", reason}}});
  }
  std::error_code ec;
  if (path != "-" && std::filesystem::is_directory(path, ec)) {
    std::fclose(f);
    throw UsageError(Message{"triage-directory", {{"file", printable(path)}}});
  }
  std::string out;
  char buf[65536];
  while (true) {
    std::size_t n = std::fread(buf, 1, sizeof buf, f);
    if (n == 0) break;
    out.append(buf, n);
    if (out.size() > limit) {
      if (f != stdin) std::fclose(f);
      throw UsageError("triage: the input is larger than " + std::to_string(limit / (1024 * 1024)) +
                       " MB; a notice is a few kilobytes: strip large attachments or raise --max-size");
    }
  }
  bool failed = std::ferror(f);
  if (f != stdin) std::fclose(f);
  if (failed) throw UsageError("triage: cannot read " + path);
  return out;
}

// Each live check against the history of checks (`db`, or the default file when it exists): what
// changed since the domain last passed. A history that cannot be read is said in the report, which
// goes on without it; no history file at all (nothing was ever recorded here) is said nowhere.
void compare_with_history(report::TriageReport& r, const pipeline::TriageChecks& live, const std::string& db,
                          const Knowledge& k, const std::string& lang, int width) {
  if (db.empty()) {
    std::string path;
    try {
      path = store::default_path();
    } catch (const Error&) {
      return;  // no home, so no default history
    }
    std::error_code ec;
    if (!std::filesystem::exists(path, ec)) return;
  }
  std::unique_ptr<store::Store> s;
  try {
    s = store::open(db, store::Open::existing);
    static const report::Labels words = report::Labels::load(pipeline::reports_dir(), "diff.yaml");
    r.diff_words = &words;
    const auto compared = pipeline::compare_with_history(live, *s, k);
    for (std::size_t i = 0; i < compared.size() && i < r.checks.size(); ++i) {
      const auto& c = compared[i];
      report::TriageHistory h;
      h.state = c.state;
      h.recorded = c.recorded;
      if (c.first_recorded) h.first_recorded = report::collected_jst(facts::format_utc_time(c.first_recorded));
      if (c.result) {
        h.from_id = c.from_id;
        h.from_time = report::collected_jst(c.result->from_time);
        h.diff = diff::render_json(*c.result, k.catalogue, words, lang);
        h.text = diff::render_text(*c.result, k.catalogue, words, lang, width);
      }
      r.checks[i].history = std::move(h);
    }
  } catch (const Error& e) {
    r.history_error = e.what();
    for (auto& c : r.checks) c.history.reset();
  }
}

} // namespace

int run_triage(const std::vector<std::string>& args) {
  std::string format = "text", lang, input = "-", from = "certdoctor@localhost", to;
  std::vector<std::string> rules_dir_args;
  bool offline = false, help = false, no_cache = false, no_web = false, no_history = false;
  double timeout = 60;
  int width = kWidthAuto;
  std::size_t max_mb = 100, max_domains = 5;
  CheckOptions c;
  c.ct_url = probe::default_ct_url;

  po::options_description visible(triage_help_text);
  visible.add_options()
      ("help,h", po::bool_switch(&help), "show this help")
      ("offline", po::bool_switch(&offline), "only read the input: no DNS, no live check")
      ("format", po::value(&format)->default_value("text")->value_name("FMT"),
       "output: text, json, markdown, html (one self-contained page), or eml (a complete reply to the mail, for a mail system)")
      ("no-history", po::bool_switch(&no_history), "do not compare the live checks with the history of checks")
      ("lang", po::value(&lang)->value_name("LANG"), "language of the report: ja or en (default: from LANG/LC_ALL)")
      ("width", po::value(&width)->value_name("N"), "wrap text at N columns, 0 for no wrapping (default: as check)")
      ("from", po::value(&from)->default_value(from)->value_name("ADDR"), "--format eml: the reply's From address")
      ("to", po::value(&to)->value_name("ADDR"), "--format eml: the reply's To address (default: the mail's Reply-To or From)")
      ("timeout", po::value(&timeout)->default_value(60)->value_name("SECONDS"), "deadline for all the live checks together, 1 to 600")
      ("max-domains", po::value(&max_domains)->default_value(5)->value_name("N"), "check at most N domains live")
      ("max-size", po::value(&max_mb)->default_value(100)->value_name("MB"), "refuse inputs larger than this")
      ("provider", po::value(&c.provider)->default_value("auto")->value_name("ID"),
       "provider for the live checks (default: the one the mail comes from, else auto)")
      ("server-ip", po::value(&c.server_ips)->value_name("IP"), "address of the hosting server (repeatable)")
      ("account", po::value(&c.account)->value_name("ID"),
       "the hosting account or server ID for the live checks (default: the one the notice names)")
      ("resolver", po::value(&c.resolvers)->value_name("IP[:PORT]"), "recursive resolver to ask (repeatable)")
      ("root-hints", po::value(&c.root_hints)->value_name("FILE"), "root servers for the delegation walk")
      ("allow-reserved", po::bool_switch(&c.allow_reserved), "treat documentation and private addresses as reachable (labs)")
      ("ct-url", po::value(&c.ct_url)->default_value(c.ct_url)->value_name("URL"), "Certificate Transparency search (none: skip)")
      ("status-url", po::value(&c.status_url)->value_name("URL"), "the CA's status page JSON (none: skip)")
      ("cache-dir", po::value(&c.cache_dir)->value_name("DIR"), "cache of the outside sources")
      ("no-cache", po::bool_switch(&no_cache), "always ask the outside sources afresh")
      ("no-web", po::bool_switch(&no_web), "live checks without the challenge path and the certificate")
      ("ca", po::value(&c.ca)->default_value("letsencrypt")->value_name("ID"), "certificate authority model from rules/ca/")
      ("ca-file", po::value(&c.ca_file)->value_name("FILE"), "PEM roots to verify served certificates with (default: the system's)")
      ("rules-dir", po::value(&rules_dir_args)->value_name("DIR"), "extra rules directory laid over the built-in one (repeatable)");
  RecordFlags rec;
  add_record_options(visible, rec);
  if (!parse_arguments(args, visible, help, "input", &input)) return exit_ok;
  if (lang.empty()) lang = default_lang();
  if (lang != "ja" && lang != "en") throw UsageError(Message{"lang-invalid", {{"value", printable(lang)}}});
  if (format != "text" && format != "json" && format != "markdown" && format != "html" && format != "eml")
    throw UsageError(Message{"format-invalid", {{"value", printable(format)}, {"known", "text, json, markdown, html, eml"}}});
  check_width(width);
  {
    // --db also names the history the live checks are compared with, so it goes without --record.
    RecordFlags without_db = rec;
    without_db.options.db.clear();
    check_record_options(without_db);
  }
  if (rec.record && offline) throw UsageError("--record keeps the live checks: leave out --offline");
  if (!(timeout >= 1 && timeout <= 600)) {
    std::ostringstream seconds;
    seconds << timeout;
    throw UsageError(Message{"timeout-range", {{"value", printable(seconds.str())}}});
  }
  if (max_mb < 1 || max_mb > 1024) throw UsageError("--max-size: give 1 to 1024 MB");
  if (input == "-" && isatty(STDIN_FILENO))
    throw UsageError(Message{"triage-no-input", {}});
  c.use_cache = !no_cache;
  c.web = !no_web;

  const auto started = std::chrono::steady_clock::now();
  // Offline, only the triage data is read: the rule catalogue and address registries are what
  // most of the start-up time would go to, and only the live checks need them.
  std::unique_ptr<Knowledge> knowledge;
  if (!offline) knowledge = std::make_unique<Knowledge>(rules_dir_args);
  const auto dirs = knowledge ? knowledge->dirs : pipeline::rules_dirs(rules_dir_args);
  const view::DataSet data_only = knowledge ? view::DataSet{} : view::DataSet::load(dirs);
  const view::DataSet& data = knowledge ? knowledge->data : data_only;
  triage::AcmeCatalogue acme = triage::module().load_acme(dirs);
  // The CDN ranges name a cause cdn-proxy; offline they are read here (a small file).
  std::vector<std::filesystem::path> data_dirs;
  for (const auto& d : dirs) data_dirs.push_back(d / "data");
  const view::address::AddressClassifier classifier_only =
      knowledge ? view::address::AddressClassifier{} : view::address::AddressClassifier::load(data_dirs);
  const view::address::AddressClassifier& classifier = knowledge ? knowledge->classifier : classifier_only;
  report::Labels tlabels = report::Labels::load(pipeline::reports_dir(), "triage.yaml");
  const std::string bytes = read_input(input, max_mb * 1024 * 1024);
  triage::Triage t;
  try {
    t = triage::module().triage(bytes, triage::TriageData{data, acme, &classifier});
  } catch (const UsageError&) {
    throw;
  } catch (const Error& e) {
    // Input that cannot be read at all is a usage error (exit 2), named with its file.
    throw UsageError("triage: " + (input == "-" ? std::string("standard input") : input) + ": " + e.what());
  }

  report::TriageReport r = pipeline::offline_report(t, data, lang, bytes.size());
  r.offline = offline;

  int status = exit_ok;
  pipeline::TriageChecks live;
  if (!offline) {
    const auto deadline = started + std::chrono::milliseconds(static_cast<long long>(timeout * 1000));
    live = pipeline::check_triaged(t, c, *knowledge, lang, max_domains, deadline);
    t.notes.insert(t.notes.end(), live.notes.begin(), live.notes.end());
    r.checks = live.checks;
    r.verdict = live.verdict;
    status = live.status;
    if (!no_history && !live.judged.empty()) compare_with_history(r, live, rec.options.db, *knowledge, lang,
                                                                 format == "eml" ? 76 : output_width(width));
  }

  if (format == "json") std::cout << report::render_triage_json(r).dump(2) << '\n';
  const report::Labels labels = knowledge ? knowledge->labels : report::Labels{};
  if (format == "html") std::cout << report::render_triage_html(r, tlabels, labels);
  else if (format == "markdown") std::cout << report::render_triage_markdown(r, tlabels, labels);
  else if (format == "eml") std::cout << report::render_triage_eml(r, tlabels, labels, from, to);
  else if (format == "text") std::cout << report::render_triage_text(r, tlabels, labels, output_width(width), use_color());
  std::cout.flush();
  // The live checks are recorded once the reply is out (source triage).
  if (rec.record) {
    try {
      for (const auto id : pipeline::record_triaged(live, *knowledge, rec.options))
        std::cerr << "certdoctor: recorded as check " << id << '\n';
    } catch (const Error& e) {
      return recording_failed(e.what());
    }
  }
  return status;
}

} // namespace certdoctor::cli
