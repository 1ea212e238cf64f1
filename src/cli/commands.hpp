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

/// Output settings shared by the commands: the language from LC_ALL/LC_MESSAGES/LANG, the width
/// to wrap text at and whether to colour.
std::string default_lang();
/// Parses a subcommand's arguments: the `visible` options (those --help shows) and one positional
/// argument stored in `positional` under the option name `name`. Throws boost's errors, which
/// main() reports with the command's name.
void parse_arguments(const std::vector<std::string>& args, const boost::program_options::options_description& visible,
                     const char* name, std::string& positional);
/// --width not given.
inline constexpr int kWidthAuto = -2147483647 - 1;
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

/// The top-level help text.
std::string main_help();

} // namespace certdoctor::cli
