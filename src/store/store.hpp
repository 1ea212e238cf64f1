#pragma once
// The history of checks: one record per diagnosis (the facts, compressed, the findings, the
// verdict, who asked), kept in SQLite (one file, the default) or PostgreSQL (a team's shared
// history). Both backends hold the same versioned schema, migrated when the store is opened.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "util/error.hpp"

namespace certdoctor::store {

/// A store that cannot be opened, read or written (locked, full, read-only, corrupt, a newer
/// schema, a server that does not answer). The message names the database and the fix.
class StoreError : public Error {
public:
  using Error::Error;
};

/// One recorded check. Times are Unix seconds (UTC).
struct Record {
  std::int64_t id = 0;
  std::string domain;             ///< ASCII
  std::string registered_domain;
  std::int64_t started_at = 0;    ///< when the facts were collected
  std::int64_t finished_at = 0;   ///< when gathering them ended
  std::string verdict;            ///< ok | warning | fail | incomplete
  std::vector<std::string> finding_ids;
  nlohmann::json findings = nlohmann::json::array();  ///< [{id, severity, arguments, source}]
  std::string facts;              ///< the facts document (JSON text); "" in listings
  std::string tool_version;
  std::string rules_version;
  std::string user;               ///< who asked
  std::string ticket;             ///< --ticket, or ""
  std::string source;             ///< cli | triage | batch | web
  std::optional<std::int64_t> cert_not_after;  ///< the served certificate's notAfter (main name)
  std::string provider;           ///< the provider recognised ("" when none)
};

/// Whether a verdict is a passing one (the renewal is expected to work).
bool passed(const std::string& verdict);

/// The latest schema version this build knows.
int current_schema_version();

class Store {
public:
  virtual ~Store() = default;
  /// Stores a record; returns its id.
  virtual std::int64_t add(const Record&) = 0;
  /// The record with its facts, or nullopt.
  virtual std::optional<Record> get(std::int64_t id) = 0;
  /// A domain's records, newest first, at most `limit` (0: all), without their facts.
  virtual std::vector<Record> list(const std::string& domain, std::size_t limit) = 0;
  /// The newest record made with this ticket, with its facts, or nullopt (the service's result
  /// links name their check by a ticket of its own).
  virtual std::optional<Record> by_ticket(const std::string& ticket) = 0;
  /// The last record of a domain whose verdict passed, with its facts.
  virtual std::optional<Record> last_ok(const std::string& domain) = 0;
  /// Deletes records started before `before`; returns how many.
  virtual std::size_t prune(std::int64_t before) = 0;
  /// The newest record of every domain, without their facts.
  virtual std::vector<Record> latest_per_domain() = 0;
  /// The schema version of the open database.
  virtual int schema_version() = 0;
  /// The database as it may be shown (a file path, or a URL without its password).
  virtual std::string where() const = 0;
};

/// Whether `db` names a PostgreSQL database (postgresql:// or postgres://).
bool is_postgres(const std::string& db);
/// The default SQLite file: $XDG_DATA_HOME/certdoctor/history.sqlite3, else
/// ~/.local/share/certdoctor/history.sqlite3. Throws StoreError when neither is set.
std::string default_path();

/// How a store is opened: `create` makes the file (and its folder) when missing; otherwise a
/// missing SQLite file is a StoreError saying that nothing has been recorded there yet.
enum class Open { create, existing };

/// Opens `db` (a file, or a PostgreSQL URL; "" for the default file) and migrates its schema to
/// the current version. Throws StoreError.
std::unique_ptr<Store> open(const std::string& db, Open how);

/// zlib; throws StoreError for data that does not inflate.
std::string compress(const std::string& text);
std::string decompress(const std::string& data);

/// "400d", "12w", "36h" or a number of days -> seconds. Throws UsageError naming `option`.
std::int64_t parse_age(const std::string& text, const std::string& option);

/// A URL with its password replaced by "***".
std::string redact(const std::string& url);

} // namespace certdoctor::store
