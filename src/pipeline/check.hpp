#pragma once
// One diagnosis, without the command line: gather the facts of a domain (DNS, HTTP, TLS, outside
// sources) under one deadline, then judge them. Every front end (check, explain, triage) calls
// these; the command line only parses options and prints.
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "pipeline/knowledge.hpp"
#include "probe/shared.hpp"
#include "probe/address_policy.hpp"
#include "facts/facts.hpp"
#include "report/report.hpp"
#include "rules/engine.hpp"

namespace certdoctor::probe {
class Engine;
struct ProbeJob;
} // namespace certdoctor::probe

namespace certdoctor::pipeline {

/// One step of a check as it happens, for a front end that shows progress (`serve`'s page).
/// `kind`: "resolver", "walk", "zone", "provider" (a DNS question sent: see probe::AskStep),
/// "addresses" (the resolver's answer for a certified name: `address` the addresses, ", "
/// separated, "" for none), "connect" (the web probe asked to connect to `address` on ports 80
/// and 443 for `name`), "http" (a request of the challenge path ended: `url`, `outcome`,
/// `status`), "tls" (the handshake on 443 ended: `outcome`), "dns-done", "web-done" (those probes
/// ended).
struct ProgressEvent {
  double at_ms = 0;       // since the check started
  std::string kind;
  std::string level;      // walk: the zone whose servers are asked ("" the root); provider: its id
  std::string server;     // the server's name, or its address for a resolver
  std::string address;
  std::string name;       // the name asked about, or connected for
  std::string type;       // the question's type (A, AAAA, NS, CAA, ...)
  std::string url;        // http: the URL requested
  std::string outcome;    // http, tls: as in facts::web_outcome
  long status = 0;        // http: the HTTP status, 0 without an answer
};

/// What a check is asked to do; the defaults are those of `certdoctor check`.
struct CheckOptions {
  std::string domain;                   // as typed (Unicode or ASCII)
  std::string provider = "auto";        // a profile id or auto
  std::vector<std::string> server_ips;
  std::string account;                  // --account / --server-id: the account or server ID at the provider
  std::vector<std::string> resolvers;   // IP[:PORT]; empty: /etc/resolv.conf
  std::string root_hints;               // file; empty: built in
  bool www = false;                     // --www
  bool no_www = false;                  // --no-www
  bool allow_reserved = false;
  std::string ca = "letsencrypt";
  double timeout_s = 30;
  std::string ct_url;                   // empty: the default source; "none" disables
  std::string status_url;
  std::string cache_dir;
  bool use_cache = true;
  bool web = true;                      // request the challenge path and read the served chain
  std::string ca_file;                  // trust store for the served chain; empty: the system's
  /// The limits a batch keeps towards each server (--max-qps-per-server, ...), for the front end
  /// that makes `shared`.
  probe::PolitenessLimits politeness;
  /// What the checks of one batch share (politeness, answers, CT): one object for all of them.
  /// nullptr (a lone check): nothing waits and nothing is shared.
  std::shared_ptr<probe::SharedProbes> shared;
  /// The engine whose one loop runs the probes (probe::Engine): one for all the checks of a
  /// batch, a worker or the service. nullptr: gather() runs the check on an engine of its own.
  std::shared_ptr<probe::Engine> engine;
  // Which addresses the probes may connect to (the service: internet, or lab under --lab). Every
  // HTTP and TLS socket and every DNS question to a server other than the configured resolvers
  // and root servers is checked; a refused step is a fact ("not-allowed"), never a connection.
  probe::AddressPolicy::Mode policy = probe::AddressPolicy::Mode::open;
  /// Called by `gather` at each main step (on the probe threads; it must be thread-safe and
  /// quick); empty: nothing is reported.
  std::function<void(const ProgressEvent&)> progress;
};

/// Validates the options against the knowledge (provider, CA, addresses, timeout). Throws
/// UsageError naming the option and the fix.
void validate(const CheckOptions&, const Knowledge&);

/// Gathers every fact of one domain on `engine` (or an engine of its own): the check is one
/// item of the engine, as each of a batch is. Network conditions become facts, never
/// exceptions; throws UsageError for a domain that cannot be parsed.
facts::Facts gather(const CheckOptions&, const Knowledge&);

/// What gather() hands the engine for one check: the probes' requests under the check's deadline
/// (counted from now) and the facts' request part. Throws UsageError for a domain that cannot be
/// parsed. For front ends that submit many checks to one engine (batch, worker).
probe::ProbeJob probe_job(const CheckOptions&, const Knowledge&);

/// The judgement of a set of facts: the rule view, the findings and the report in `lang`.
struct Diagnosis {
  nlohmann::json view;
  std::vector<rules::Finding> findings;
  report::Report report;
};
/// What a diagnosis makes beyond the findings and the report's texts.
struct DiagnoseOptions {
  /// The HTML report's picture (report::picture_of), which only the HTML renderers read: a front
  /// end that prints another format, or none, turns it off and does not pay for it.
  bool picture = true;
  /// The view keeps the facts' JSON (its "facts" member, which the rules may read) after the
  /// diagnosis. A front end that reads only the report's copy (a batch's NDJSON line) turns it
  /// off: the report then takes the view's tree instead of a copy of it, and Diagnosis::view has
  /// no "facts".
  bool view_facts = true;
};
Diagnosis diagnose(const facts::Facts&, const Knowledge&, const std::string& lang, const DiagnoseOptions& options = {});

/// Exit statuses, stable for scripts.
enum Exit : int {
  exit_ok = 0,          // renewal expected to succeed
  exit_problems = 1,    // blocking problems found
  exit_usage = 2,       // usage or input error
  exit_incomplete = 3,  // the diagnosis could not be completed
  exit_not_recorded = 4,  // the report is complete, but --record could not record it
};

/// The exit status a diagnosis stands for (0 ok or warnings, 1 blocking problems, 3 incomplete).
int exit_status(const Diagnosis&);

} // namespace certdoctor::pipeline
