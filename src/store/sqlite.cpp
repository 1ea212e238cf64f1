// The SQLite backend: one file, WAL mode (readers never wait for the writer), a busy timeout so
// that several processes recording at once wait their turn, each write in BEGIN IMMEDIATE.
#include <sqlite3.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <system_error>
#include <thread>

#include "store/backends.hpp"

namespace certdoctor::store {

namespace {

namespace fs = std::filesystem;

// A path as the file name of an SQLite URI (and harmless as a plain name): '%', '?' and '#'
// percent-encoded.
std::string uri_path(const std::string& path) {
  std::string out;
  for (char c : path) {
    if (c == '%') out += "%25";
    else if (c == '?') out += "%3f";
    else if (c == '#') out += "%23";
    else out += c;
  }
  return out;
}

// Each migration takes the schema from the version before it to its own number.
const char* const kMigrations[] = {
    // 1: the checks.
    "CREATE TABLE checks ("
    " id INTEGER PRIMARY KEY AUTOINCREMENT,"
    " domain TEXT NOT NULL, registered_domain TEXT NOT NULL,"
    " started_at INTEGER NOT NULL, finished_at INTEGER NOT NULL,"
    " verdict TEXT NOT NULL, finding_ids TEXT NOT NULL, findings TEXT NOT NULL,"
    " facts BLOB NOT NULL, facts_encoding TEXT NOT NULL,"
    " tool_version TEXT NOT NULL, rules_version TEXT NOT NULL,"
    " asked_by TEXT NOT NULL, ticket TEXT NOT NULL, source TEXT NOT NULL,"
    " cert_not_after INTEGER, provider TEXT NOT NULL)",
    // 2: a domain's history, last_ok and prune read by these.
    "CREATE INDEX checks_by_domain ON checks (domain, started_at);"
    "CREATE INDEX checks_by_time ON checks (started_at)",
    // 3: the queue of checks that workers drain. Workers take items only from PostgreSQL (see
    // store/queue.hpp); the table is here too so that both backends hold one schema.
    "CREATE TABLE queue ("
    " id INTEGER PRIMARY KEY AUTOINCREMENT,"
    " domain TEXT NOT NULL, options TEXT NOT NULL,"
    " state TEXT NOT NULL DEFAULT 'queued' CHECK (state IN ('queued', 'running', 'done', 'failed')),"
    " attempts INTEGER NOT NULL DEFAULT 0,"
    " leased_by TEXT, lease_token TEXT, lease_until INTEGER,"
    " check_id INTEGER REFERENCES checks (id) ON DELETE SET NULL,"
    " last_error TEXT NOT NULL DEFAULT '',"
    " enqueued_at INTEGER NOT NULL, started_at INTEGER, finished_at INTEGER)",
    // 4: the check's id and request of an item `serve` queued (see the PostgreSQL backend), and
    // the service's result links found by ticket without a scan.
    "ALTER TABLE queue ADD COLUMN ticket TEXT;"
    "ALTER TABLE queue ADD COLUMN request_key TEXT;"
    "CREATE UNIQUE INDEX queue_by_ticket ON queue (ticket) WHERE ticket IS NOT NULL;"
    "CREATE INDEX queue_by_request ON queue (request_key, enqueued_at) WHERE request_key IS NOT NULL;"
    "CREATE INDEX checks_by_ticket ON checks (ticket) WHERE ticket <> ''",
};

class SqliteStore final : public Store {
public:
  SqliteStore(std::string path, Open how, const SqliteOptions& o) : path_(std::move(path)) {
    std::error_code exists_ec;
    const bool exists = fs::exists(path_, exists_ec);
    if (exists && fs::is_directory(path_, exists_ec))
      throw StoreError(path_ + " is a folder: give the history's file, for example --db " +
                       (fs::path(path_) / "history.sqlite3").string());
    if (!exists && how == Open::existing)
      throw StoreError(path_ + ": no history here yet; record checks with `certdoctor check --record` (or give --db)");
    if (!exists) {
      std::error_code ec;
      const auto parent = fs::path(path_).parent_path();
      if (!parent.empty()) fs::create_directories(parent, ec);
      if (ec) throw StoreError(path_ + ": cannot create the folder " + parent.string() + ": " + ec.message() +
                               "; create it or give another --db FILE");
    }
    // A history that this user may read but not write is opened read-only for the commands that
    // only read it (history, due): a team's file shared read-only stays readable.
    read_only_ = how == Open::existing && access(path_.c_str(), W_OK) != 0;
    const int flags = (read_only_ ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE) |
                      (how == Open::create ? SQLITE_OPEN_CREATE : 0) | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_URI;
    // Reading a WAL database needs its -shm index, which a reader who may not write cannot make.
    // Without a -wal file (no writer at work, everything checkpointed) the file alone is the whole
    // history, and SQLite reads it as immutable; with one, the -shm beside it is used as it is.
    std::error_code wal_ec;
    const bool immutable = read_only_ && !fs::exists(path_ + "-wal", wal_ec);
    const std::string name = immutable ? "file:" + uri_path(path_) + "?immutable=1" : path_;
    const int rc = sqlite3_open_v2(name.c_str(), &db_, flags, nullptr);
    try {
      if (rc != SQLITE_OK) fail(rc, "cannot open it");
      set_up(o);
    } catch (...) {
      sqlite3_close_v2(db_);
      throw;
    }
  }

  void set_up(const SqliteOptions& o) {
    sqlite3_extended_result_codes(db_, 1);
    sqlite3_busy_timeout(db_, o.busy_timeout_ms);
    if (o.max_page_count > 0) exec("PRAGMA max_page_count = " + std::to_string(o.max_page_count), "cannot set a size limit");
    const int target = o.target_version > 0 ? o.target_version : current_schema_version();
    if (read_only_) {
      check_read_only(target);
      return;
    }
    // WAL is a property of the file: set once, every later connection finds it.
    // The switch needs the file to itself. When two processes open a new file at once, SQLite may
    // answer BUSY at once, without waiting, where waiting could deadlock: try again, within the
    // busy timeout.
    if (sqlite3_db_readonly(db_, "main") != 1) {
      const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(o.busy_timeout_ms);
      while (true) {
        try {
          query_text("PRAGMA journal_mode = WAL", "cannot switch it to WAL mode");
          break;
        } catch (const StoreError&) {
          const int code = sqlite3_extended_errcode(db_) & 0xff;
          if ((code != SQLITE_BUSY && code != SQLITE_LOCKED) || std::chrono::steady_clock::now() >= until) throw;
          std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
      }
    }
    exec("PRAGMA synchronous = NORMAL", "cannot set it up");
    migrate(target);
  }
  ~SqliteStore() override { sqlite3_close_v2(db_); }

  std::int64_t add(const Record& r) override {
    Tx tx(*this);
    Stmt s(*this, "INSERT INTO checks (domain, registered_domain, started_at, finished_at, verdict, finding_ids, findings,"
                  " facts, facts_encoding, tool_version, rules_version, asked_by, ticket, source, cert_not_after, provider)"
                  " VALUES (?,?,?,?,?,?,?,?,'zlib',?,?,?,?,?,?,?)");
    const std::string packed = compress(r.facts);
    int i = 1;
    s.text(i++, r.domain);
    s.text(i++, r.registered_domain);
    s.integer(i++, r.started_at);
    s.integer(i++, r.finished_at);
    s.text(i++, r.verdict);
    s.text(i++, ids_text(r.finding_ids));
    s.text(i++, r.findings.dump());
    s.blob(i++, packed);
    s.text(i++, r.tool_version);
    s.text(i++, r.rules_version);
    s.text(i++, r.user);
    s.text(i++, r.ticket);
    s.text(i++, r.source);
    if (r.cert_not_after) s.integer(i++, *r.cert_not_after);
    else sqlite3_bind_null(s.st, i++);
    s.text(i++, r.provider);
    s.done("cannot record the check");
    const std::int64_t id = sqlite3_last_insert_rowid(db_);
    tx.commit();
    return id;
  }

  std::optional<Record> get(std::int64_t id) override {
    Stmt s(*this, std::string("SELECT ") + kColumns + ", facts, facts_encoding FROM checks WHERE id = ?");
    s.integer(1, id);
    auto rows = read(s, true);
    if (rows.empty()) return std::nullopt;
    return rows.front();
  }

  std::vector<Record> list(const std::string& domain, std::size_t limit) override {
    Stmt s(*this, std::string("SELECT ") + kColumns + " FROM checks WHERE domain = ? ORDER BY started_at DESC, id DESC" +
                      (limit ? " LIMIT " + std::to_string(limit) : ""));
    s.text(1, domain);
    return read(s, false);
  }

  std::optional<Record> by_ticket(const std::string& ticket) override {
    Stmt s(*this, std::string("SELECT ") + kColumns + ", facts, facts_encoding FROM checks WHERE ticket = ? ORDER BY id DESC LIMIT 1");
    s.text(1, ticket);
    auto rows = read(s, true);
    if (rows.empty()) return std::nullopt;
    return rows.front();
  }

  std::optional<Record> last_ok(const std::string& domain) override {
    Stmt s(*this, std::string("SELECT ") + kColumns +
                      ", facts, facts_encoding FROM checks WHERE domain = ? AND verdict IN ('ok', 'warning')"
                      " ORDER BY started_at DESC, id DESC LIMIT 1");
    s.text(1, domain);
    auto rows = read(s, true);
    if (rows.empty()) return std::nullopt;
    return rows.front();
  }

  std::size_t prune(std::int64_t before) override {
    Tx tx(*this);
    Stmt s(*this, "DELETE FROM checks WHERE started_at < ?");
    s.integer(1, before);
    s.done("cannot delete old checks");
    const auto n = static_cast<std::size_t>(sqlite3_changes(db_));
    tx.commit();
    return n;
  }

  std::vector<Record> latest_per_domain() override {
    Stmt s(*this, std::string("SELECT ") + kColumns +
                      " FROM checks c WHERE id = (SELECT id FROM checks d WHERE d.domain = c.domain"
                      " ORDER BY started_at DESC, id DESC LIMIT 1) ORDER BY domain");
    return read(s, false);
  }

  int schema_version() override {
    Stmt s(*this, "SELECT COALESCE(MAX(version), 0) FROM schema_version");
    if (s.step("cannot read its schema version") != SQLITE_ROW) return 0;
    return sqlite3_column_int(s.st, 0);
  }

  std::string where() const override { return path_; }

private:
  [[noreturn]] void fail(int rc, const std::string& what) const {
    const int primary = rc & 0xff;
    std::string detail = db_ ? sqlite3_errmsg(db_) : sqlite3_errstr(rc);
    std::string fix;
    switch (primary) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      fix = "another process held it locked for too long; retry, or find the process that keeps it open";
      break;
    case SQLITE_FULL:
      fix = "the disk (or the database's size limit) is full; free space or give another --db FILE";
      break;
    case SQLITE_READONLY:
    case SQLITE_PERM:
    case SQLITE_CANTOPEN:
    case SQLITE_AUTH:
      fix = "it cannot be written here; check the permissions of the file and of its folder (the -wal and -shm files "
            "beside it are written too), or give another --db FILE";
      break;
    case SQLITE_NOTADB:
    case SQLITE_CORRUPT:
      fix = "it is not a certdoctor history or it is damaged; move it aside (a new one is made at the next --record) "
            "or restore it from a backup";
      break;
    case SQLITE_IOERR:
      fix = "reading or writing the disk failed; check the disk and the file system";
      break;
    default:
      fix = "see the message above; give another --db FILE to record elsewhere";
    }
    throw StoreError(path_ + ": " + what + ": " + detail + "; " + fix);
  }

  struct Stmt {
    SqliteStore& s;
    sqlite3_stmt* st = nullptr;
    Stmt(SqliteStore& store, const std::string& sql) : s(store) {
      const int rc = sqlite3_prepare_v2(s.db_, sql.c_str(), -1, &st, nullptr);
      if (rc != SQLITE_OK) s.fail(rc, "cannot read it");
    }
    ~Stmt() { sqlite3_finalize(st); }
    void text(int i, const std::string& v) { sqlite3_bind_text(st, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT); }
    void blob(int i, const std::string& v) { sqlite3_bind_blob(st, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT); }
    void integer(int i, std::int64_t v) { sqlite3_bind_int64(st, i, v); }
    int step(const std::string& what) {
      const int rc = sqlite3_step(st);
      if (rc != SQLITE_ROW && rc != SQLITE_DONE) s.fail(rc, what);
      return rc;
    }
    void done(const std::string& what) { step(what); }
  };

  // BEGIN IMMEDIATE takes the write lock at once (waiting up to the busy timeout), so that two
  // writers never deadlock upgrading a read lock.
  struct Tx {
    SqliteStore& s;
    bool open = true;
    explicit Tx(SqliteStore& store) : s(store) { s.exec("BEGIN IMMEDIATE", "cannot start writing"); }
    void commit() {
      s.exec("COMMIT", "cannot finish writing");
      open = false;
    }
    ~Tx() {
      if (open) sqlite3_exec(s.db_, "ROLLBACK", nullptr, nullptr, nullptr);
    }
  };

  void exec(const std::string& sql, const std::string& what) {
    const int rc = sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, nullptr);
    if (rc != SQLITE_OK) fail(rc, what);
  }

  std::string query_text(const std::string& sql, const std::string& what) {
    Stmt s(*this, sql);
    if (s.step(what) != SQLITE_ROW) return "";
    const auto* t = sqlite3_column_text(s.st, 0);
    return t ? reinterpret_cast<const char*>(t) : "";
  }

  static std::string column_text(sqlite3_stmt* st, int i) {
    const auto* t = sqlite3_column_text(st, i);
    return t ? std::string(reinterpret_cast<const char*>(t), static_cast<std::size_t>(sqlite3_column_bytes(st, i))) : "";
  }

  std::vector<Record> read(Stmt& s, bool with_facts) {
    std::vector<Record> out;
    while (s.step("cannot read it") == SQLITE_ROW) {
      Record r;
      int i = 0;
      r.id = sqlite3_column_int64(s.st, i++);
      r.domain = column_text(s.st, i++);
      r.registered_domain = column_text(s.st, i++);
      r.started_at = sqlite3_column_int64(s.st, i++);
      r.finished_at = sqlite3_column_int64(s.st, i++);
      r.verdict = column_text(s.st, i++);
      r.finding_ids = ids_of(column_text(s.st, i++));
      r.findings = nlohmann::json::parse(column_text(s.st, i++), nullptr, false);
      r.tool_version = column_text(s.st, i++);
      r.rules_version = column_text(s.st, i++);
      r.user = column_text(s.st, i++);
      r.ticket = column_text(s.st, i++);
      r.source = column_text(s.st, i++);
      if (sqlite3_column_type(s.st, i) != SQLITE_NULL) r.cert_not_after = sqlite3_column_int64(s.st, i);
      ++i;
      r.provider = column_text(s.st, i++);
      if (with_facts) {
        const auto* b = static_cast<const char*>(sqlite3_column_blob(s.st, i));
        const std::string packed(b ? b : "", static_cast<std::size_t>(sqlite3_column_bytes(s.st, i)));
        const std::string encoding = column_text(s.st, i + 1);
        if (encoding != "zlib") throw StoreError(path_ + ": check " + std::to_string(r.id) + ": facts in an unknown encoding '" + encoding + "'");
        try {
          r.facts = decompress(packed);
        } catch (const StoreError& e) {
          throw StoreError(path_ + ": check " + std::to_string(r.id) + ": " + e.what());
        }
      }
      out.push_back(std::move(r));
    }
    return out;
  }

  // Read-only: the schema must already be the one this build reads.
  void check_read_only(int target) {
    Stmt t(*this, "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'");
    const int have = t.step("cannot read it") == SQLITE_ROW && sqlite3_column_int(t.st, 0) > 0 ? schema_version() : 0;
    if (have > current_schema_version())
      throw StoreError(path_ + ": its schema is version " + std::to_string(have) + ", made by a newer certdoctor (this one knows up to " +
                       std::to_string(current_schema_version()) + "); use that version, or give another --db FILE");
    if (have < target)
      throw StoreError(path_ + ": its schema (version " + std::to_string(have) + ") needs updating to version " +
                       std::to_string(target) + ", and this user may not write it; run certdoctor once as a user who may");
  }

  void migrate(int target) {
    Tx tx(*this);
    exec("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL, applied_at INTEGER NOT NULL)",
         "cannot set up its schema");
    const int have = schema_version();
    const int known = current_schema_version();
    if (have > known)
      throw StoreError(path_ + ": its schema is version " + std::to_string(have) + ", made by a newer certdoctor (this one knows up to " +
                       std::to_string(known) + "); use that version, or give another --db FILE");
    for (int v = have + 1; v <= target; ++v) {
      exec(kMigrations[v - 1], "cannot migrate its schema to version " + std::to_string(v));
      exec("INSERT INTO schema_version (version, applied_at) VALUES (" + std::to_string(v) + ", CAST(strftime('%s','now') AS INTEGER))",
           "cannot migrate its schema");
    }
    tx.commit();
  }

  std::string path_;
  sqlite3* db_ = nullptr;
  bool read_only_ = false;
};

static_assert(sizeof kMigrations / sizeof kMigrations[0] == 4, "one migration per schema version");

} // namespace

std::unique_ptr<Store> open_sqlite(const std::string& path, Open how, const SqliteOptions& o) {
  return std::make_unique<SqliteStore>(path, how, o);
}

} // namespace certdoctor::store
