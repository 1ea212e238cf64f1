#pragma once
// The subcommands. Each takes its own arguments (after the subcommand word) and returns the
// process exit status; usage and configuration errors are thrown and reported by main().
#include <optional>
#include <string>
#include <vector>

#include <boost/program_options/options_description.hpp>
#include <boost/program_options/variables_map.hpp>

#include "pipeline/check.hpp"
#include "pipeline/knowledge.hpp"
#include "pipeline/record.hpp"
#include "report/report.hpp"

namespace certdoctor::cli {

using pipeline::exit_ok;
using pipeline::exit_problems;
using pipeline::exit_usage;
using pipeline::exit_incomplete;
using pipeline::exit_not_recorded;

int run_check(const std::vector<std::string>& args);
int run_explain(const std::vector<std::string>& args);
int run_rules(const std::vector<std::string>& args);
int run_triage(const std::vector<std::string>& args);
int run_history(const std::vector<std::string>& args);
int run_due(const std::vector<std::string>& args);
int run_batch(const std::vector<std::string>& args);
int run_serve(const std::vector<std::string>& args);

/// --width not given.
inline constexpr int kWidthAuto = -2147483647 - 1;

/// The report options shared by check, explain and history show.
struct OutputOptions {
  std::string format = "text";
  int width = kWidthAuto;
  std::string lang;
  std::vector<std::string> rules_dirs;
};
void add_output_options(boost::program_options::options_description&, OutputOptions&);
/// Fills in the language and throws UsageError for a bad --lang, --format or --width.
void check_output_options(OutputOptions&);
/// Prints a report in the chosen format; `extra` keys are added to the JSON document.
void print_report(const report::Report&, const pipeline::Knowledge&, const OutputOptions&,
                  const nlohmann::json& extra = nlohmann::json::object());

/// --record, --db, --ticket, --user.
struct RecordFlags {
  bool record = false;
  pipeline::RecordOptions options;
};
void add_record_options(boost::program_options::options_description&, RecordFlags&);
/// Throws UsageError for --db, --ticket or --user without --record.
void check_record_options(const RecordFlags&);
/// Prints why a check was not recorded; returns exit_not_recorded.
int recording_failed(const std::string& what);
int run_diff(const std::vector<std::string>& args);

/// The probe options of `check` (also those of `diff` for its live check) that do not go
/// straight into CheckOptions.
struct ProbeSwitches {
  std::string server_id;
  std::string facts_out;
  bool no_cache = false;
  bool no_web = false;
  // The batch limits; 0: not given (the defaults of probe::PolitenessLimits).
  double max_qps_per_server = 0;
  double max_qps_per_resolver = 0;
  double max_connections_per_address = 0;
  double max_connects_per_second = 0;
  std::string connect_policy = "open";
};
/// Adds check's probe options (--www ... --ca-file, and --facts-out unless `facts_out` is false)
/// writing to `c` and `s`.
void add_probe_options(boost::program_options::options_description& visible, pipeline::CheckOptions& c,
                       ProbeSwitches& s, bool facts_out = true);
/// Applies the switches to `c`; throws UsageError for --account and --server-id that differ, for
/// a --facts-out or --cache-dir that cannot be written, and for a limit out of range. A limit
/// given (--max-qps-per-server, ...) sets `c.politeness` and gives the check a `c.shared` of its
/// own; a batch replaces it with one object for all its checks.
void finish_probe_options(pipeline::CheckOptions& c, const ProbeSwitches& s);

/// Output settings shared by the commands: the language from LC_ALL/LC_MESSAGES/LANG, the width
/// to wrap text at and whether to colour.
std::string default_lang();
/// Parses a subcommand's arguments: the `visible` options (those --help shows) and, when
/// `positional` is given, one positional argument stored there under the option name `name`.
/// When --help was given (`help`, bound to the command's --help switch, is set), prints `visible`
/// and returns nullopt: the command then ends with exit_ok. Throws boost's errors, which main()
/// reports with the command's name.
std::optional<boost::program_options::variables_map> parse_arguments(
    const std::vector<std::string>& args, const boost::program_options::options_description& visible, const bool& help,
    const char* name = nullptr, std::string* positional = nullptr);
/// The width to wrap text at: `requested` (--width) when given, else 0 (no wrapping) when
/// stdout is not a terminal, else COLUMNS when set, else the terminal's own width, else 80.
int output_width(int requested);
/// Throws UsageError unless --width is not given, 0, or 40 to 1000.
void check_width(int width);
bool use_color();

/// The language of error messages: --lang ja|en (also --lang=xx) anywhere in `args`, else the
/// locale as default_lang() reads it; an invalid --lang value falls back to the locale.
std::string message_lang(const std::vector<std::string>& args);
/// Installs the renderer of error messages (util/error.hpp): reports/labels.yaml `errors:` in
/// `lang`, loaded on the first message, English for a key `lang` lacks.
void install_messages(const std::string& lang);

/// The words of reports/history.yaml (history, due, queue) in the language of --lang (default:
/// the environment's).
struct Words {
  report::Labels labels;
  std::string lang;
  std::string get(const std::string& key) const { return labels.get(lang, key); }
  std::string fill(std::string text, const std::vector<std::pair<std::string, std::string>>& values) const {
    for (const auto& [name, value] : values)
      for (std::size_t at; (at = text.find("{" + name + "}")) != std::string::npos;) text.replace(at, name.size() + 2, value);
    return text;
  }
};
Words words(std::string lang);
/// A table: columns padded to their widest cell in terminal columns (Japanese counts two).
void print_table(const std::vector<std::vector<std::string>>& rows);

int run_enqueue(const std::vector<std::string>& args);
int run_worker(const std::vector<std::string>& args);
int run_queue(const std::vector<std::string>& args);

/// The top-level help text.
std::string main_help();

} // namespace certdoctor::cli
