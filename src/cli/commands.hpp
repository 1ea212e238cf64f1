#pragma once
// The subcommands. Each takes its own arguments (after the subcommand word) and returns the
// process exit status; usage and configuration errors are thrown and reported by main().
#include <string>
#include <vector>

namespace certdoctor::cli {

/// Exit statuses, stable for scripts.
enum Exit : int {
  exit_ok = 0,          // renewal expected to succeed
  exit_problems = 1,    // blocking problems found
  exit_usage = 2,       // usage or input error
  exit_incomplete = 3,  // the diagnosis could not be completed
};

int run_check(const std::vector<std::string>& args);
int run_explain(const std::vector<std::string>& args);
int run_rules(const std::vector<std::string>& args);
int run_triage(const std::vector<std::string>& args);

/// Output settings shared by the commands: the language from LC_ALL/LC_MESSAGES/LANG, the
/// terminal's width (COLUMNS, else the tty, else 80) and whether to colour.
std::string default_lang();
int terminal_width();
bool use_color();

/// The top-level help text.
std::string main_help();

} // namespace certdoctor::cli
