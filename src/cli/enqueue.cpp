// certdoctor enqueue: a list of domains (the input of certdoctor batch) into the queue that
// certdoctor worker drains (src/pipeline/worker.hpp).
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>

#include <boost/program_options.hpp>

#include "cli/commands.hpp"
#include "pipeline/batch_input.hpp"
#include "pipeline/worker.hpp"
#include "store/queue.hpp"
#include "util/error.hpp"
#include "util/text.hpp"

namespace certdoctor::cli {

namespace po = boost::program_options;

int run_enqueue(const std::vector<std::string>& args) {
  std::string db, input, lang;
  bool help = false;
  po::options_description visible(R"(Usage: certdoctor enqueue --db postgresql://... FILE|-

Adds a list of domains to the queue in a PostgreSQL database, for `certdoctor worker` processes
(on this machine or others) to check; `certdoctor queue` shows how far they are.

The list is the input of `certdoctor batch`: one domain per line, or CSV whose header names the
columns domain, provider, server_ip (several separated by spaces or ;), account and www
(yes/no); blank lines and # comments are skipped. Each item keeps its own columns; the workers'
options apply to the rest. A line that cannot be read is reported with its number and left
out, and the others are queued.

Examples:
  certdoctor enqueue --db postgresql://cd@db.example/certdoctor domains.txt
  certdoctor due --format json | jq -r '.due[].domain' | certdoctor enqueue --db postgresql://cd@db.example/certdoctor -

Exit status: 0 every line queued, 2 usage error, a database that cannot be used, or lines left
out (the others are queued).

Options)");
  visible.add_options()("help,h", po::bool_switch(&help), "show this help")(
      "db", po::value(&db)->value_name("URL"), "the PostgreSQL database holding the queue (postgresql://...)")(
      "lang", po::value(&lang)->value_name("LANG"), "language of the messages: ja or en (default: from LANG/LC_ALL)");
  if (!parse_arguments(args, visible, help, "input", &input)) return exit_ok;
  if (db.empty()) throw UsageError(Message{"queue-no-db", {{"command", "enqueue"}}});
  if (!store::is_postgres(db)) throw UsageError(Message{"queue-not-postgresql", {{"db", printable(db)}}});
  if (input.empty()) throw UsageError(Message{"enqueue-no-input", {}});
  const Words w = words(lang);
  std::ifstream file;
  std::istream* in = &std::cin;
  const std::string name = input == "-" ? render_message(Message{"stdin", {}}) : printable(input);
  if (input != "-") {
    std::error_code ec;
    if (std::filesystem::is_directory(input, ec))
      throw UsageError(Message{"enqueue-unreadable", {{"file", name}, {"reason", std::strerror(EISDIR)}}});
    file.open(input, std::ios::binary);
    if (!file) throw UsageError(Message{"enqueue-unreadable", {{"file", name}, {"reason", std::strerror(errno)}}});
    in = &file;
  }
  // The database is opened before the input is read, so that a wrong URL costs nothing.
  std::unique_ptr<store::Queue> q;
  try {
    q = store::open_queue(db);
  } catch (const store::StoreError& e) {
    throw UsageError(e.what());
  }
  pipeline::BatchReader reader(*in);
  std::vector<pipeline::BatchLineError> errors;
  std::vector<pipeline::CheckOptions> chunk;
  std::size_t queued = 0, bad = 0;
  const auto flush = [&] {
    if (chunk.empty()) return;
    try {
      queued += pipeline::enqueue(*q, chunk).size();
    } catch (const store::StoreError& e) {
      throw UsageError(e.what());
    }
    chunk.clear();
  };
  const auto report_errors = [&] {
    for (const auto& e : errors)
      std::cerr << render_message(Message{"prefix", {}}) << name << ": " << render_message(e.why) << '\n';  // names the line
    bad += errors.size();
    errors.clear();
  };
  const pipeline::CheckOptions defaults;
  while (auto item = reader.next(errors)) {
    report_errors();
    chunk.push_back(pipeline::options_for(*item, defaults));
    if (chunk.size() >= 1000) flush();  // one transaction per thousand, so the memory stays flat
  }
  report_errors();
  flush();
  std::cout << w.fill(w.get("queue.enqueued"), {{"count", std::to_string(queued)}, {"db", q->where()}}) << '\n';
  if (bad) {
    std::cerr << render_message(Message{"prefix", {}})
              << render_message(Message{"enqueue-bad-lines", {{"count", std::to_string(bad)}, {"file", name},
                                                               {"queued", std::to_string(queued)}}})
              << '\n';
    return exit_usage;
  }
  return exit_ok;
}

} // namespace certdoctor::cli
