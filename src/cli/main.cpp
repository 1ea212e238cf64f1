// certdoctor: pre-flight and post-mortem diagnosis of Let's Encrypt HTTP-01 renewals.
#include <iostream>
#include <string>
#include <vector>

#include <boost/program_options/errors.hpp>

#include "cli/commands.hpp"
#include "util/error.hpp"
#include "util/text.hpp"

#ifdef CERTDOCTOR_JEMALLOC
// jemalloc's options (src/cli/meson.build), read at the first allocation: one arena for every
// thread (each keeps its own cache of small objects, which is where a batch allocates; a lone
// check's loop thread does not touch pages of an arena of its own), and freed pages given back to
// the system after a second unused instead of ten, so that a batch stays within its memory.
// MALLOC_CONF in the environment still overrides them.
extern "C" const char* malloc_conf;
const char* malloc_conf = "narenas:1,dirty_decay_ms:1000,muzzy_decay_ms:0";
#endif

int main(int argc, char** argv) {
  using namespace certdoctor;
  std::vector<std::string> args(argv + 1, argv + argc);
  std::ios::sync_with_stdio(false);
  if (args.empty() || args[0] == "-h" || args[0] == "--help" || args[0] == "help") {
    std::cout << cli::main_help();
    return args.empty() ? cli::exit_usage : cli::exit_ok;
  }
  if (args[0] == "--version" || args[0] == "version") {
    std::cout << "certdoctor " << CERTDOCTOR_VERSION << '\n';
    return cli::exit_ok;
  }
  const std::string command = args[0];
  std::vector<std::string> rest(args.begin() + 1, args.end());
  // Error messages in the language of the report: --lang, else the locale.
  cli::install_messages(cli::message_lang(rest));
  const auto error = [](const std::string& text) { return render_message(Message{"prefix", {}}) + text + '\n'; };
  // Errors are caught here only, once: "certdoctor: error: ..." with the input and the fix.
  try {
    if (command == "check") return cli::run_check(rest);
    if (command == "explain") return cli::run_explain(rest);
    if (command == "rules") return cli::run_rules(rest);
    if (command == "triage") return cli::run_triage(rest);
    if (command == "history") return cli::run_history(rest);
    if (command == "due") return cli::run_due(rest);
    if (command == "diff") return cli::run_diff(rest);
    if (command == "batch") return cli::run_batch(rest);
    if (command == "enqueue") return cli::run_enqueue(rest);
    if (command == "worker") return cli::run_worker(rest);
    if (command == "queue") return cli::run_queue(rest);
    if (command == "serve") return cli::run_serve(rest);
    std::string hint;
    for (const char* known : {"check", "explain", "rules", "triage", "history", "due", "diff", "batch", "enqueue", "worker", "queue", "serve"})
      if (command.size() >= 3 && std::string(known).rfind(command.substr(0, 3), 0) == 0) hint = known;
    std::cerr << error(render_message(Message{hint.empty() ? "command-unknown" : "command-unknown-hint",
                                              {{"command", printable(command)}, {"hint", hint}}}));
    return cli::exit_usage;
  } catch (const boost::program_options::error& e) {
    std::cerr << error(render_message(Message{"option", {{"command", printable(command)}, {"detail", e.what()}}}));
    return cli::exit_usage;
  } catch (const UsageError& e) {
    std::cerr << error(e.what());
    return cli::exit_usage;
  } catch (const ConfigError& e) {
    std::cerr << error(e.what());
    return cli::exit_usage;
  } catch (const Error& e) {
    std::cerr << error(e.what());
    return cli::exit_incomplete;
  } catch (const std::exception& e) {
    std::cerr << render_message(Message{"internal", {{"detail", e.what()}}}) << '\n';
    return cli::exit_incomplete;
  }
}
