#pragma once
// The subcommands. Each takes its own arguments (after the subcommand word) and returns the
// process exit status; usage and configuration errors are thrown and reported by main().
#include <string>
#include <vector>

#include <boost/program_options/options_description.hpp>

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
/// Parses a subcommand's arguments: the `visible` options (those --help shows) and one positional
/// argument stored in `positional` under the option name `name`. Throws boost's errors, which
/// main() reports with the command's name.
void parse_arguments(const std::vector<std::string>& args, const boost::program_options::options_description& visible,
                     const char* name, std::string& positional);
int terminal_width();
bool use_color();

/// The top-level help text.
std::string main_help();

} // namespace certdoctor::cli
