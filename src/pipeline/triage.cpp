#include "pipeline/triage.hpp"

#include <algorithm>
#include <future>
#include <iterator>
#include <memory>

#include "facts/facts.hpp"
#include "probe/engine.hpp"
#include "util/domain.hpp"

namespace certdoctor::pipeline {

report::TriageReport offline_report(const triage::Triage& t, const view::DataSet& data, const std::string& lang,
                                    std::size_t input_size) {
  report::TriageReport r;
  r.lang = lang;
  r.triage = &t;
  r.offline = true;
  r.verdict = "offline";
  r.input_size = input_size;
  if (!t.provider.empty()) {
    const auto& name = data.provider(t.provider).data["name"];
    r.provider_name = name.is_object() && name.contains(lang) ? name[lang].get<std::string>() : t.provider;
  }
  if (t.notice) {
    r.means = t.notice->means.value(lang, "");
    // A known fault of the provider on the mail's day comes first: it changes what the mail means.
    for (const auto& note : t.fault_notes) r.means = note.value(lang, "") + (lang == "ja" ? "" : " ") + r.means;
    r.next = t.notice->next.value(lang, "");
  }
  return r;
}

std::vector<triage::TriagedDomain> domains_to_check(const triage::Triage& t, bool no_www, std::vector<std::string>& notes) {
  // www.X is on the certificate that the check of X looks at (unless --no-www): checking it again
  // alone would only repeat those findings.
  std::vector<triage::TriagedDomain> domains;
  for (const auto& d : t.domains) {
    const bool covered = !no_www && d.ascii.rfind("www.", 0) == 0 &&
                         std::any_of(t.domains.begin(), t.domains.end(), [&](const triage::TriagedDomain& other) {
                           return other.ascii == d.ascii.substr(4) && parse_domain(other.ascii).registered == other.ascii;
                         });
    if (covered) notes.push_back(d.ascii + ": checked with " + d.ascii.substr(4));
    else domains.push_back(d);
  }
  return domains;
}

TriageChecks check_triaged(const triage::Triage& t, const CheckOptions& base, const Knowledge& k, const std::string& lang,
                           std::size_t max_domains, std::chrono::steady_clock::time_point deadline) {
  TriageChecks out;
  const std::vector<triage::TriagedDomain> domains = domains_to_check(t, base.no_www, out.notes);
  const std::size_t n = std::min(domains.size(), max_domains);
  if (domains.size() > n)
    out.notes.push_back(std::to_string(domains.size() - n) + " more domains were not checked (--max-domains)");
  const std::string provider = base.provider != "auto" ? base.provider : t.provider.empty() ? "auto" : t.provider;
  static const char* order[] = {"ok", "warning", "incomplete", "fail"};  // mildest first
  int rank = -1;
  // The domains are checked at once, on one engine (as a batch's are), each under what is left of
  // the deadline (at most 30 s): a mail naming several domains takes as long as its slowest.
  const double left = std::chrono::duration<double>(deadline - std::chrono::steady_clock::now()).count();
  const double share = std::min(30.0, left);
  std::shared_ptr<probe::Engine> engine = base.engine;
  if (n > 0 && share >= 1 && !engine) engine = std::make_shared<probe::Engine>();
  std::vector<std::future<facts::Facts>> gathered;
  for (std::size_t i = 0; i < n; ++i) {
    if (share < 1) {
      out.notes.push_back(domains[i].ascii + ": not checked, the --timeout deadline was reached");
      out.status = std::max(out.status, static_cast<int>(exit_incomplete));
      continue;
    }
    CheckOptions o = base;
    o.domain = domains[i].ascii;
    o.provider = provider;
    // The notice's own account or server ID names the hosting server (unless given on the command line).
    if (o.account.empty()) o.account = t.account;
    o.timeout_s = share;
    validate(o, k);
    gathered.push_back(engine->start(probe_job(o, k)));
  }
  // Judged in the order of the mail, whatever order the checks ended in.
  for (std::size_t i = 0; i < gathered.size(); ++i) {
    facts::Facts f = gathered[i].get();
    Diagnosis d = diagnose(f, k, lang);
    const int s = exit_status(d);
    const int rr = static_cast<int>(std::find(std::begin(order), std::end(order), d.report.verdict) - std::begin(order));
    if (rr > rank && rr < 4) {
      rank = rr;
      out.verdict = order[rr];
    }
    if (s == exit_problems) out.status = exit_problems;
    else if (s == exit_incomplete && out.status != exit_problems) out.status = exit_incomplete;
    out.checks.push_back(report::TriageCheck{domains[i].ascii, std::move(d.report), std::nullopt});
    out.judged.push_back(TriageChecks::Judged{std::move(f), std::move(d.view), std::move(d.findings), out.checks.back().report.verdict});
  }
  if (n == 0) out.verdict = "no-domains";
  else if (out.verdict.empty()) out.verdict = "incomplete";  // every domain was left out
  return out;
}

std::vector<std::int64_t> record_triaged(const TriageChecks& checks, const Knowledge& k, RecordOptions o) {
  if (o.source.empty() || o.source == "cli") o.source = "triage";
  std::vector<std::int64_t> ids;
  if (checks.judged.empty()) return ids;
  auto s = store::open(o.db, store::Open::create);
  for (const auto& j : checks.judged) ids.push_back(s->add(record_of(j.facts, j.view, j.findings, j.verdict, k, o)));
  return ids;
}

std::vector<SinceLastPass> compare_with_history(const TriageChecks& checks, store::Store& store, const Knowledge& k) {
  std::vector<SinceLastPass> out;
  for (const auto& j : checks.judged) {
    SinceLastPass s;
    const auto listed = store.list(j.facts.domain, 0);
    s.recorded = listed.size();
    if (listed.empty()) {
      s.state = "no-record";
    } else if (auto last = store.last_ok(j.facts.domain)) {
      s.state = "compared";
      s.from_id = last->id;
      facts::Facts from = facts::parse_document(last->facts, store.where() + ", check " + std::to_string(last->id));
      s.result = diff::compare(diff::Side{&from, recorded_findings(*last)}, diff::Side{&j.facts, j.findings},
                               view::DeriveContext{k.data, k.classifier}, k.catalogue);
    } else {
      s.state = "never-passed";
      s.first_recorded = listed.back().started_at;
    }
    out.push_back(std::move(s));
  }
  return out;
}

} // namespace certdoctor::pipeline
