#pragma once
// The subcommands. Each takes its own arguments (after the subcommand word) and returns the
// process exit status; usage and configuration errors are thrown and reported by main().
#include <string>
#include <vector>

#include <boost/program_options/options_description.hpp>

#include "pipeline/check.hpp"

namespace certdoctor::cli {

using pipeline::exit_ok;
using pipeline::exit_problems;
using pipeline::exit_usage;
using pipeline::exit_incomplete;

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
