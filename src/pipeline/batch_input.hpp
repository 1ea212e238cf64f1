#pragma once
// The input of a batch of checks, read as a stream: one domain per line, or CSV whose header names
// the columns (domain, provider, server_ip, account, www). A bad line is kept as an error with its
// number and the rest goes on. Also the stable shard of a domain (--shard K/N) and the options of
// one item over the batch's own.
#include <cstddef>
#include <istream>
#include <optional>
#include <string>
#include <vector>

#include "pipeline/check.hpp"
#include "util/error.hpp"

namespace certdoctor::pipeline {

/// One domain to check, with the per-domain columns of a CSV input.
struct BatchItem {
  std::size_t line = 0;                 // 1-based line number in the input
  std::string domain;                   // as written (Unicode or ASCII), trimmed
  std::string provider;                 // "" = as the batch's options
  std::vector<std::string> server_ips;  // empty = as the batch's options
  std::string account;                  // "" = as the batch's options
  std::optional<bool> www;              // empty = as the batch's options
};

/// A line that could not be read: its number, its text (printable() and cut) and why (a message
/// of reports/labels.yaml `errors:`; a refused domain's own words are its `detail`).
struct BatchLineError {
  std::size_t line = 0;
  std::string text;
  Message why;
};

/// Reads a batch input line by line (at most `max_line` bytes of a line are kept; a longer line is
/// an error and the rest of it is skipped), so any input size takes the same memory.
///
/// Format: blank lines and lines whose first non-blank character is `#` are skipped anywhere. The
/// first other line decides the format: when it contains a comma, or is the word `domain`, it is a
/// CSV header naming the columns (any order, case-insensitive, `server-ip` or `server_ip`):
/// `domain` (required), `provider`, `server_ip` (several addresses separated by spaces or `;`),
/// `account` (also `server_id`), `www` (yes/no/true/false/1/0; empty: the batch's default). Fields
/// may be quoted with "" (a doubled "" inside is one quote); a field never spans lines. Otherwise
/// every line is one domain. A UTF-8 byte order mark and CR before LF are ignored.
class BatchReader {
public:
  static constexpr std::size_t max_line = 4096;

  explicit BatchReader(std::istream&);
  /// The next good item, or nullopt at the end; bad lines go to `errors` and are skipped. Throws
  /// UsageError for a CSV header that cannot be used (unknown or repeated column, no `domain`):
  /// no line of such an input can be read.
  std::optional<BatchItem> next(std::vector<BatchLineError>& errors);
  /// Lines read so far.
  std::size_t lines() const { return line_; }

private:
  enum class Format { unknown, plain, csv };
  enum Column { c_domain, c_provider, c_server_ip, c_account, c_www };
  bool read_line(std::string& out, bool& too_long);
  void read_header(const std::string& text);
  std::optional<BatchItem> parse_plain(const std::string& text, std::vector<BatchLineError>& errors);
  std::optional<BatchItem> parse_csv(const std::string& text, std::vector<BatchLineError>& errors);

  std::istream& in_;
  std::size_t line_ = 0;
  Format format_ = Format::unknown;
  std::vector<Column> columns_;
};

/// The shard (0 to shards-1) of a domain: the first 8 bytes of the SHA-256 of its registered domain
/// (PSL; A-label form, lower case, as util/domain gives it) read as a big-endian 64-bit number,
/// modulo `shards`. Every name under one registered domain falls in the same shard, and the
/// number never changes across versions and platforms. A name util/domain refuses is hashed as
/// written, lower-cased. `shards` 0 is taken as 1.
std::size_t shard_of(const std::string& domain, std::size_t shards);

/// The check options of one item: `base` (the batch's options) with the item's domain and the
/// columns it gives.
CheckOptions options_for(const BatchItem&, const CheckOptions& base);

} // namespace certdoctor::pipeline
