// certdoctor batch: many checks from a list, NDJSON out. Options and printing only; the batch
// itself is pipeline::run_batch.
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>
#include <unordered_set>

#include <boost/program_options.hpp>
#include <nlohmann/json.hpp>

#include "cli/commands.hpp"
#include "pipeline/batch.hpp"
#include "probe/outside_probe.hpp"
#include "store/store.hpp"
#include "util/domain.hpp"
#include "util/error.hpp"
#include "util/file.hpp"
#include "util/text.hpp"

namespace po = boost::program_options;
using nlohmann::json;

namespace certdoctor::cli {

namespace {

const char* batch_help_text = R"(Usage: certdoctor batch [options] FILE|-

Checks every domain of FILE (or of standard input with -) as certdoctor check does, several at
once, and writes one JSON object per domain to standard output (NDJSON), in the order the checks
complete. Each object has the schema of `check --format json` and the input's line number
("line"). The checks run with at most --concurrency in flight, each under its own deadline
(--timeout); the input is read as the checks go, so any list size takes the same memory.

Input: one domain per line, or CSV whose first line names the columns (any order): domain
(required), provider, server_ip (several addresses separated by spaces or ';'), account, www
(yes/no/true/false/1/0; empty: as --www/--no-www). Blank lines and lines starting with # are
skipped. A bad line is reported on standard error with its line number, and as an object
{"line": N, "input": "...", "error": "..."} in the output, and the rest goes on.

  domain,provider,server_ip,www
  example.jp,sakura,203.0.113.10,yes
  shop.example.jp,,,no

Several machines: --shard K/N checks only the domains whose registered domain falls in shard K
of N (a stable hash: SHA-256 of the registered domain), so N workers, for example a Kubernetes
Indexed Job (deploy/batch-job.yaml), split one list with no coordination; --plan prints the
domains a shard would check, with no network step. --record --db postgresql://... puts every
check in one shared history (certdoctor history, certdoctor due).

Examples:
  certdoctor batch domains.txt > results.ndjson
  certdoctor batch --concurrency 32 --timeout 20 --summary customers.csv > results.ndjson
  certdoctor due --within 14d --format json | jq -r '.due[].domain' | certdoctor batch - > due.ndjson
  certdoctor batch --resume results.ndjson domains.txt
                                        after an interruption: skip what is done, append the rest
  certdoctor batch --shard 2/8 --plan domains.txt
  certdoctor batch --shard 2/8 --record --db postgresql://certdoctor@db/history domains.txt

The summary (--summary) goes to standard error, as text or, with --format json, as one JSON
object, so that standard output stays NDJSON. A progress line (done/total, rate, time left,
failures) is drawn on standard error when it is a terminal.

Exit status: the highest of the batch: 0 every renewal expected to succeed, 1 blocking problems
found in a domain, 2 a usage error or a bad input line, 3 a check could not be completed, 4 a
check could not be recorded (--record).

Options)";

// The objects already written to a --resume file: the domains done (A-label form). Lines that do
// not parse (a line cut by an interruption) and error objects are not done.
std::unordered_set<std::string> read_done(const std::string& path, bool& ends_with_newline) {
  std::unordered_set<std::string> done;
  ends_with_newline = true;
  std::ifstream in(path, std::ios::binary);
  if (!in) return done;  // a new file
  std::string line;
  while (std::getline(in, line)) {
    ends_with_newline = !in.eof();
    if (line.empty()) continue;
    json j = json::parse(line, nullptr, false);
    if (!j.is_object() || j.contains("error") || !j.contains("domain") || !j["domain"].is_string()) continue;
    done.insert(j["domain"].get<std::string>());
  }
  return done;
}

std::string format_duration(double seconds) {
  if (!(seconds >= 0) || seconds > 359999) return "--:--";
  const long s = static_cast<long>(seconds + 0.5);
  char buf[32];
  if (s >= 3600) std::snprintf(buf, sizeof buf, "%ld:%02ld:%02ld", s / 3600, s / 60 % 60, s % 60);
  else std::snprintf(buf, sizeof buf, "%ld:%02ld", s / 60, s % 60);
  return buf;
}

// The progress line on a terminal: done/total, rate, time left, failures so far; drawn again at
// each result and every second between, so that the rate and the time left move during long checks.
class Progress {
public:
  Progress(bool on, std::size_t total) : on_(on), total_(total), started_(std::chrono::steady_clock::now()) {
    (void)render_message(Message{"prefix", {}});  // the renderer loads its words here, not in the ticker
    if (on_)
      ticker_ = std::thread([this] {
        std::unique_lock<std::mutex> lock(mutex_);
        while (!stop_.wait_for(lock, std::chrono::seconds(1), [this] { return stopping_; })) draw();
      });
  }
  ~Progress() { finish(); }
  void update(std::size_t done, std::size_t failed, std::size_t incomplete, std::size_t bad) {
    if (!on_) return;
    const std::lock_guard<std::mutex> lock(mutex_);
    done_ = done, failed_ = failed, incomplete_ = incomplete, bad_ = bad;
    draw();
  }
  // Prints a line of text (an error) above the progress line.
  void print(const std::string& text) {
    const std::lock_guard<std::mutex> lock(mutex_);
    if (on_) std::cerr << "\r\x1b[K";
    std::cerr << text << '\n';
    if (on_) draw();
  }
  void finish() {
    if (!on_ || !ticker_.joinable()) return;
    {
      const std::lock_guard<std::mutex> lock(mutex_);
      stopping_ = true;
    }
    stop_.notify_all();
    ticker_.join();
    std::cerr << '\n';
  }

private:
  void draw() {
    const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
    const double rate = elapsed > 0 ? done_ / elapsed : 0;
    const std::string total = total_ ? std::to_string(total_) : "?";
    const std::string eta = total_ && rate > 0 && done_ <= total_ ? format_duration((total_ - done_) / rate) : "--:--";
    char rate_text[32];
    std::snprintf(rate_text, sizeof rate_text, "%.1f", rate);
    std::cerr << "\r\x1b[K"
              << render_message(Message{"batch-progress", {{"done", std::to_string(done_)}, {"total", total},
                                                             {"rate", rate_text}, {"eta", eta},
                                                             {"fail", std::to_string(failed_)},
                                                             {"incomplete", std::to_string(incomplete_)},
                                                             {"bad", std::to_string(bad_)}}})
              << std::flush;
  }

  bool on_;
  std::size_t total_;
  std::chrono::steady_clock::time_point started_;
  std::size_t done_ = 0, failed_ = 0, incomplete_ = 0, bad_ = 0;
  std::mutex mutex_;
  std::condition_variable stop_;
  bool stopping_ = false;
  std::thread ticker_;
};

void print_summary(const pipeline::BatchSummary& s, const std::string& format, std::size_t not_recorded, bool plan) {
  if (format == "json") {
    json j = {{"summary",
               {{plan ? "planned" : "checked", plan ? s.planned : s.checked}, {"bad_lines", s.bad_lines}, {"skipped", s.skipped},
                {"other_shards", s.other_shards}, {"not_recorded", not_recorded}, {"status", s.status},
                {"verdicts", s.verdicts}, {"findings", s.findings}}}};
    std::cerr << j.dump() << '\n';
    return;
  }
  std::cerr << render_message(Message{plan ? "batch-summary-plan" : "batch-summary",
                                      {{"checked", std::to_string(plan ? s.planned : s.checked)},
                                                          {"bad", std::to_string(s.bad_lines)},
                                                          {"skipped", std::to_string(s.skipped)},
                                                          {"other", std::to_string(s.other_shards)}}})
            << '\n';
  for (const auto& [verdict, n] : s.verdicts)
    std::cerr << render_message(Message{"batch-summary-verdict", {{"verdict", verdict}, {"count", std::to_string(n)}}}) << '\n';
  for (const auto& [id, n] : s.findings)
    std::cerr << render_message(Message{"batch-summary-finding", {{"id", id}, {"count", std::to_string(n)}}}) << '\n';
  if (not_recorded)
    std::cerr << render_message(Message{"batch-summary-not-recorded", {{"count", std::to_string(not_recorded)}}}) << '\n';
}

// "K/N" with 0 <= K < N.
void parse_shard(const std::string& text, std::size_t& shard, std::size_t& shards) {
  const auto slash = text.find('/');
  const auto number = [](const std::string& s, std::size_t& out) {
    if (s.empty() || s.size() > 6 || s.find_first_not_of("0123456789") != std::string::npos) return false;
    out = std::stoul(s);
    return true;
  };
  if (slash == std::string::npos || !number(text.substr(0, slash), shard) || !number(text.substr(slash + 1), shards) ||
      shards < 1 || shard >= shards)
    throw UsageError(Message{"batch-shard-invalid", {{"value", printable(text)}}});
}

} // namespace

int run_batch(const std::vector<std::string>& args) {
  OutputOptions out;
  pipeline::BatchOptions b;
  pipeline::CheckOptions& c = b.base;
  ProbeSwitches sw;
  RecordFlags rec;
  bool help = false, summary = false, plan = false;
  std::string input, resume, shard_text;
  int concurrency = 8;
  c.ct_url = probe::default_ct_url;

  po::options_description visible(batch_help_text);
  visible.add_options()("help,h", po::bool_switch(&help), "show this help")(
      "concurrency", po::value(&concurrency)->default_value(8)->value_name("N"),
      "checks in flight at once, 1 to 256 (each server is asked within the --max-... limits; more checks "
      "than the machine can run in time end incomplete, naming the questions not completed, never failed)")(
      "summary", po::bool_switch(&summary), "counts per verdict and per finding id at the end, on standard error")(
      "resume", po::value(&resume)->value_name("FILE"),
      "write to FILE (appending) instead of standard output, skipping the domains FILE already holds")(
      "shard", po::value(&shard_text)->value_name("K/N"), "check only shard K (0 to N-1) of N, split by registered domain")(
      "plan", po::bool_switch(&plan), "print the domains this run would check (after --shard and --resume), no network step");
  add_probe_options(visible, c, sw, false);
  add_record_options(visible, rec);
  add_output_options(visible, out);
  if (!parse_arguments(args, visible, help, "input", &input)) return exit_ok;
  check_output_options(out);
  if (out.format != "text" && out.format != "json")
    throw UsageError(Message{"batch-format", {{"value", printable(out.format)}}});
  check_record_options(rec);
  if (input.empty()) throw UsageError(Message{"batch-no-input", {}});
  if (concurrency < 1 || concurrency > static_cast<int>(pipeline::BatchOptions::max_concurrency))
    throw UsageError(Message{"batch-concurrency-range",
                             {{"value", std::to_string(concurrency)}, {"max", std::to_string(pipeline::BatchOptions::max_concurrency)}}});
  b.concurrency = static_cast<std::size_t>(concurrency);
  if (!shard_text.empty()) parse_shard(shard_text, b.shard, b.shards);
  if (plan && rec.record) throw UsageError(Message{"batch-plan-record", {}});
  finish_probe_options(c, sw);

  // The input, checked before the rules load so that a typo costs nothing.
  std::ifstream file;
  if (input != "-") {
    std::error_code ec;
    if (std::filesystem::is_directory(input, ec))
      throw UsageError(Message{"batch-input-directory", {{"file", printable(input)}}});
    file.open(input, std::ios::binary);
    if (!file) throw UsageError(Message{"batch-input-unreadable", {{"file", printable(input)}, {"reason", std::strerror(errno)}}});
  }
  std::istream& in = input == "-" ? std::cin : file;

  std::unordered_set<std::string> done;
  bool resume_newline = true;
  if (!resume.empty()) {
    if (auto why = file_write_problem(resume); !why.empty())
      throw UsageError(Message{"batch-resume-unwritable", {{"file", printable(resume)}, {"reason", why}}});
    done = read_done(resume, resume_newline);
    b.skip = [&done](const pipeline::BatchItem& item) { return done.count(pipeline::batch_key(item.domain)) > 0; };
  }

  const auto report_line = [](const pipeline::BatchLineError& e) { return render_message(e.why); };

  if (plan) {
    pipeline::BatchReader reader(in);
    const auto s = pipeline::plan_batch(
        reader, b, [](const pipeline::BatchItem& item) { std::cout << item.domain << '\n'; },
        [&](const pipeline::BatchLineError& e) { std::cerr << render_message(Message{"prefix", {}}) << report_line(e) << '\n'; });
    std::cout.flush();
    if (summary) print_summary(s, out.format, 0, true);
    return s.status;
  }

  pipeline::Knowledge k(out.rules_dirs);
  b.lang = out.lang;
  pipeline::validate(b, k);

  std::unique_ptr<store::Store> history;
  if (rec.record) {
    rec.options.source = "batch";
    try {
      history = store::open(rec.options.db, store::Open::create);
    } catch (const Error& e) {
      std::cerr << render_message(Message{"prefix", {}}) << e.what() << '\n';
      return exit_not_recorded;
    }
  }

  std::ofstream resume_out;
  if (!resume.empty()) {
    resume_out.open(resume, std::ios::binary | std::ios::app);
    if (!resume_out)
      throw UsageError(Message{"batch-resume-unwritable", {{"file", printable(resume)}, {"reason", std::strerror(errno)}}});
    if (!resume_newline) resume_out << '\n';  // a line cut by an interruption stays apart
  }
  std::ostream& ndjson = resume.empty() ? std::cout : resume_out;

  // The total for the progress line: a file is read once more first, with no network step.
  const bool progress_on = isatty(STDERR_FILENO);
  std::size_t total = 0;
  if (progress_on && input != "-") {
    std::ifstream again(input, std::ios::binary);
    pipeline::BatchReader counter(again);
    try {
      pipeline::plan_batch(counter, b, [&total](const pipeline::BatchItem&) { ++total; }, [](const pipeline::BatchLineError&) {});
    } catch (const UsageError&) {
      total = 0;  // the run itself reports the header
    }
  }
  Progress progress(progress_on, total);

  std::size_t finished = 0, failed = 0, incomplete = 0, bad = 0, not_recorded = 0;
  pipeline::BatchReader reader(in);
  const auto s = pipeline::run_batch(
      reader, k, b,
      [&](const pipeline::BatchResult& r) {
        ndjson << report::render_ndjson(r.diagnosis.report, r.item.line) << '\n';
        ndjson.flush();
        ++finished;
        if (r.diagnosis.report.verdict == "fail") ++failed;
        if (r.diagnosis.report.verdict == "incomplete") ++incomplete;
        if (history) {
          try {
            history->add(pipeline::record_of(r.facts, r.diagnosis.view, r.diagnosis.findings, r.diagnosis.report.verdict, k,
                                             rec.options));
          } catch (const Error& e) {
            ++not_recorded;
            progress.print(render_message(Message{"prefix", {}}) +
                           render_message(Message{"batch-not-recorded",
                                                  {{"line", std::to_string(r.item.line)}, {"domain", r.diagnosis.report.domain},
                                                   {"detail", e.what()}}}));
          }
        }
        progress.update(finished, failed, incomplete, bad);
      },
      [&](const pipeline::BatchLineError& e) {
        ++bad;
        const std::string text = report_line(e);
        progress.print(render_message(Message{"prefix", {}}) + text);
        ndjson << json{{"line", e.line}, {"input", e.text}, {"error", text}, {"error_key", e.why.key}}.dump() << '\n';
        ndjson.flush();
        progress.update(finished, failed, incomplete, bad);
      });
  progress.finish();
  if (summary) print_summary(s, out.format, not_recorded, false);
  return not_recorded ? std::max(s.status, static_cast<int>(exit_not_recorded)) : s.status;
}

} // namespace certdoctor::cli
