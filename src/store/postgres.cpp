// The PostgreSQL backend, over libpq's C API (the schema is one table and a handful of
// statements, so a C++ wrapper would add a dependency without saving code). Every statement
// sends its values as parameters; the migrations run under an advisory lock so that two
// processes opening a new database at once do not both create the schema.
#include <libpq-fe.h>

#include <algorithm>
#include <cstdlib>

#include "store/backends.hpp"
#include "store/queue.hpp"

namespace certdoctor::store {

namespace {

const char* const kMigrations[] = {
    "CREATE TABLE checks ("
    " id BIGSERIAL PRIMARY KEY,"
    " domain TEXT NOT NULL, registered_domain TEXT NOT NULL,"
    " started_at BIGINT NOT NULL, finished_at BIGINT NOT NULL,"
    " verdict TEXT NOT NULL, finding_ids TEXT NOT NULL, findings TEXT NOT NULL,"
    " facts BYTEA NOT NULL, facts_encoding TEXT NOT NULL,"
    " tool_version TEXT NOT NULL, rules_version TEXT NOT NULL,"
    " asked_by TEXT NOT NULL, ticket TEXT NOT NULL, source TEXT NOT NULL,"
    " cert_not_after BIGINT, provider TEXT NOT NULL)",
    "CREATE INDEX checks_by_domain ON checks (domain, started_at);"
    "CREATE INDEX checks_by_time ON checks (started_at)",
    // 3: the queue of checks that workers drain (store/queue.hpp).
    "CREATE TABLE queue ("
    " id BIGSERIAL PRIMARY KEY,"
    " domain TEXT NOT NULL, options TEXT NOT NULL,"
    " state TEXT NOT NULL DEFAULT 'queued' CHECK (state IN ('queued', 'running', 'done', 'failed')),"
    " attempts INTEGER NOT NULL DEFAULT 0,"
    " leased_by TEXT, lease_token TEXT, lease_until BIGINT,"
    " check_id BIGINT REFERENCES checks (id) ON DELETE SET NULL,"
    " last_error TEXT NOT NULL DEFAULT '',"
    " enqueued_at BIGINT NOT NULL, started_at BIGINT, finished_at BIGINT);"
    "CREATE INDEX queue_open ON queue (id) WHERE state IN ('queued', 'running');"
    "CREATE INDEX queue_by_state ON queue (state, id)",
    // 4: items that `serve` queued: the check's id (ticket web:ID) and the request it answers, so
    // that any front end finds an item by its id and an identical request within a short window.
    "ALTER TABLE queue ADD COLUMN ticket TEXT, ADD COLUMN request_key TEXT;"
    "CREATE UNIQUE INDEX queue_by_ticket ON queue (ticket) WHERE ticket IS NOT NULL;"
    "CREATE INDEX queue_by_request ON queue (request_key, enqueued_at) WHERE request_key IS NOT NULL;"
    "CREATE INDEX checks_by_ticket ON checks (ticket) WHERE ticket <> ''",
};
static_assert(sizeof kMigrations / sizeof kMigrations[0] == 4, "one migration per schema version");

// The server's clock, so that workers on machines whose clocks differ agree on leases.
#define CD_NOW "EXTRACT(EPOCH FROM clock_timestamp())::BIGINT"

// An arbitrary constant: the key of the advisory lock the migrations hold.
constexpr const char* kMigrationLock = "SELECT pg_advisory_xact_lock(7170013)";

class Result {
public:
  explicit Result(PGresult* r) : r_(r) {}
  ~Result() { PQclear(r_); }
  Result(const Result&) = delete;
  Result& operator=(const Result&) = delete;
  PGresult* get() const { return r_; }
  int rows() const { return PQntuples(r_); }
  std::string text(int row, int col) const { return PQgetvalue(r_, row, col); }
  bool null(int row, int col) const { return PQgetisnull(r_, row, col); }

private:
  PGresult* r_;
};

class PostgresStore final : public Store, public Queue {
public:
  PostgresStore(const std::string& url, int target) : where_(redact(url)) {
    conn_ = PQconnectdb(url.c_str());
    if (!conn_ || PQstatus(conn_) != CONNECTION_OK) {
      std::string why = conn_ ? PQerrorMessage(conn_) : "out of memory";
      while (!why.empty() && (why.back() == '\n' || why.back() == ' ')) why.pop_back();
      PQfinish(conn_);
      for (auto& c : why)
        if (c == '\n' || c == '\t') c = ' ';
      throw StoreError(Message{"store-connect", {{"db", where_}, {"reason", why}}});
    }
    try {
      exec("SET client_min_messages = warning");
      migrate(target > 0 ? target : current_schema_version());
    } catch (...) {
      PQfinish(conn_);
      throw;
    }
  }
  ~PostgresStore() override { PQfinish(conn_); }

  std::int64_t add(const Record& r) override { return insert(r); }

  // --- the queue ------------------------------------------------------------------------------

  std::vector<std::int64_t> enqueue(const std::vector<NewItem>& items) override {
    std::vector<std::int64_t> ids;
    transaction([&] {
      for (const auto& item : items) ids.push_back(insert_item(item));
    });
    return ids;
  }

  std::optional<QueueRow> item_by_ticket(const std::string& ticket) override {
    auto rows = rows_of(std::string(kItemColumns) + " FROM queue WHERE ticket = $1", {ticket});
    if (rows.empty()) return std::nullopt;
    return rows.front();
  }

  std::int64_t pending() override {
    Result res(params("SELECT COUNT(*) FROM queue WHERE state = 'queued'", {}));
    check(res, "cannot read its queue");
    return std::stoll(res.text(0, 0));
  }

  std::optional<std::string> recent(const std::string& request_key, std::int64_t within_seconds) override {
    Result res(params("SELECT ticket FROM queue WHERE request_key = $1 AND ticket IS NOT NULL AND state <> 'failed'"
                      " AND enqueued_at >= " CD_NOW " - $2::bigint ORDER BY id DESC LIMIT 1",
                      {request_key, std::to_string(within_seconds)}));
    check(res, "cannot read its queue");
    if (res.rows() == 0) return std::nullopt;
    return res.text(0, 0);
  }

  std::string enqueue_once(const NewItem& item, std::int64_t within_seconds) override {
    std::string ticket;
    transaction([&] {
      if (!item.request_key.empty()) {
        Result lock(params("SELECT pg_advisory_xact_lock(7170014, hashtext($1))", {item.request_key}));
        check(lock, "cannot lock its queue");
        if (auto t = recent(item.request_key, within_seconds)) {
          ticket = *t;
          return;
        }
      }
      insert_item(item);
      ticket = item.ticket;
    });
    return ticket;
  }

  std::vector<Leased> lease(const std::string& worker, std::size_t count, std::int64_t lease_seconds,
                            int max_attempts) override {
    std::vector<Leased> out;
    if (count == 0) return out;
    const std::string token = new_token(), seconds = std::to_string(lease_seconds), n = std::to_string(count),
                      most = std::to_string(max_attempts);
    {
      // Items whose workers never came back from their last allowed attempt.
      Result res(params("UPDATE queue SET state = 'failed', finished_at = " CD_NOW ", lease_token = NULL,"
                        " last_error = 'its check never finished: the lease ran out ' || attempts || ' times"
                        " (the worker stopped or hung; last held by ' || COALESCE(leased_by, '?') || ')'"
                        " WHERE state = 'running' AND lease_until < " CD_NOW " AND attempts >= $1::integer",
                        {most}));
      check(res, "cannot read its queue");
    }
    Result res(params("UPDATE queue q SET state = 'running', leased_by = $1, lease_token = $2,"
                      " lease_until = " CD_NOW " + $3::bigint, attempts = q.attempts + 1, started_at = " CD_NOW
                      " FROM (SELECT id FROM queue WHERE state = 'queued' OR (state = 'running' AND lease_until < " CD_NOW
                      ") ORDER BY id LIMIT $4::bigint FOR UPDATE SKIP LOCKED) pick"
                      " WHERE q.id = pick.id RETURNING q.id, q.domain, q.options, q.attempts, q.lease_until, COALESCE(q.ticket, '')",
                      {worker, token, seconds, n}));
    check(res, "cannot lease from its queue");
    for (int row = 0; row < res.rows(); ++row) {
      Leased l;
      l.id = std::stoll(res.text(row, 0));
      l.domain = res.text(row, 1);
      l.options = nlohmann::json::parse(res.text(row, 2), nullptr, false);
      if (!l.options.is_object()) l.options = nlohmann::json::object();
      l.attempts = std::atoi(res.text(row, 3).c_str());
      l.token = token;
      l.lease_until = std::stoll(res.text(row, 4));
      l.ticket = res.text(row, 5);
      out.push_back(std::move(l));
    }
    std::sort(out.begin(), out.end(), [](const Leased& a, const Leased& b) { return a.id < b.id; });
    return out;
  }

  std::vector<std::int64_t> renew(const std::vector<Leased>& held, std::int64_t lease_seconds) override {
    std::vector<std::int64_t> kept;
    const std::string seconds = std::to_string(lease_seconds);
    for (const auto& l : held) {
      Result res(params("UPDATE queue SET lease_until = " CD_NOW " + $3::bigint"
                        " WHERE id = $1::bigint AND lease_token = $2 AND state = 'running' RETURNING id",
                        {std::to_string(l.id), l.token, seconds}));
      check(res, "cannot renew a lease in its queue");
      if (res.rows() == 1) kept.push_back(l.id);
    }
    return kept;
  }

  std::optional<std::int64_t> complete(const Leased& l, const Record& r) override {
    std::optional<std::int64_t> id;
    transaction([&] {
      Result held(params("SELECT id FROM queue WHERE id = $1::bigint AND lease_token = $2 AND state = 'running' FOR UPDATE",
                         {std::to_string(l.id), l.token}));
      check(held, "cannot read its queue");
      if (held.rows() != 1) return;  // another worker holds it now: it records its own check
      id = insert(r);
      Result done(params("UPDATE queue SET state = 'done', check_id = $2::bigint, finished_at = " CD_NOW ","
                         " lease_token = NULL, last_error = '' WHERE id = $1::bigint",
                         {std::to_string(l.id), std::to_string(*id)}));
      check(done, "cannot mark a queued check done");
    });
    return id;
  }

  bool fail(const Leased& l, const std::string& reason, bool permanent, int max_attempts) override {
    Result res(params("UPDATE queue SET"
                      " state = CASE WHEN $3::boolean OR attempts >= $4::integer THEN 'failed' ELSE 'queued' END,"
                      " finished_at = CASE WHEN $3::boolean OR attempts >= $4::integer THEN " CD_NOW " END,"
                      " last_error = $5, lease_token = NULL, lease_until = NULL"
                      " WHERE id = $1::bigint AND lease_token = $2 AND state = 'running' RETURNING id",
                      {std::to_string(l.id), l.token, permanent ? "true" : "false", std::to_string(max_attempts), reason}));
    check(res, "cannot mark a queued check failed");
    return res.rows() == 1;
  }

  std::map<std::string, std::int64_t> counts() override {
    std::map<std::string, std::int64_t> out;
    for (const auto& s : queue_states()) out[s] = 0;
    Result res(params("SELECT state, COUNT(*) FROM queue GROUP BY state", {}));
    check(res, "cannot read its queue");
    for (int row = 0; row < res.rows(); ++row) out[res.text(row, 0)] = std::stoll(res.text(row, 1));
    return out;
  }

  std::vector<QueueRow> items(const std::string& state, std::size_t limit) override {
    return rows_of(std::string(kItemColumns) + " FROM queue" + (state.empty() ? "" : " WHERE state = $1") + " ORDER BY id" +
                       (limit ? " LIMIT " + std::to_string(limit) : ""),
                   state.empty() ? std::vector<std::string>{} : std::vector<std::string>{state});
  }

  std::size_t clear(const std::string& state) override {
    Result res(params("DELETE FROM queue WHERE state = $1", {state}));
    check(res, "cannot delete from its queue");
    return static_cast<std::size_t>(std::atoll(PQcmdTuples(res.get())));
  }

  Store& history() override { return *this; }

private:
  static constexpr const char* kItemColumns =
      "SELECT id, domain, state, attempts, COALESCE(leased_by, ''), lease_until, check_id, last_error, COALESCE(ticket, '')";

  std::vector<QueueRow> rows_of(const std::string& sql, const std::vector<std::string>& values) {
    Result res(params(sql, values));
    check(res, "cannot read its queue");
    std::vector<QueueRow> out;
    for (int row = 0; row < res.rows(); ++row) {
      QueueRow q;
      q.id = std::stoll(res.text(row, 0));
      q.domain = res.text(row, 1);
      q.state = res.text(row, 2);
      q.attempts = std::atoi(res.text(row, 3).c_str());
      q.leased_by = res.text(row, 4);
      if (!res.null(row, 5)) q.lease_until = std::stoll(res.text(row, 5));
      if (!res.null(row, 6)) q.check_id = std::stoll(res.text(row, 6));
      q.last_error = res.text(row, 7);
      q.ticket = res.text(row, 8);
      out.push_back(std::move(q));
    }
    return out;
  }

  std::int64_t insert_item(const NewItem& item) {
    Result res(params("INSERT INTO queue (domain, options, ticket, request_key, enqueued_at)"
                      " VALUES ($1, $2, NULLIF($3, ''), NULLIF($4, ''), " CD_NOW ") RETURNING id",
                      {item.domain, item.options.dump(), item.ticket, item.request_key}));
    check(res, "cannot add to its queue");
    return std::stoll(res.text(0, 0));
  }

  std::int64_t insert(const Record& r) {
    const std::string packed = compress(r.facts);
    const std::string started = std::to_string(r.started_at), finished = std::to_string(r.finished_at);
    const std::string ids = ids_text(r.finding_ids), findings = r.findings.dump();
    const std::string not_after = r.cert_not_after ? std::to_string(*r.cert_not_after) : "";
    const char* values[] = {r.domain.c_str(), r.registered_domain.c_str(), started.c_str(), finished.c_str(),
                            r.verdict.c_str(), ids.c_str(), findings.c_str(), packed.data(),
                            r.tool_version.c_str(), r.rules_version.c_str(), r.user.c_str(), r.ticket.c_str(),
                            r.source.c_str(), r.cert_not_after ? not_after.c_str() : nullptr, r.provider.c_str()};
    int lengths[15] = {};
    int formats[15] = {};
    lengths[7] = static_cast<int>(packed.size());
    formats[7] = 1;  // the compressed facts as binary
    Result res(PQexecParams(conn_,
                            "INSERT INTO checks (domain, registered_domain, started_at, finished_at, verdict, finding_ids,"
                            " findings, facts, facts_encoding, tool_version, rules_version, asked_by, ticket, source,"
                            " cert_not_after, provider) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,'zlib',$9,$10,$11,$12,$13,$14,$15)"
                            " RETURNING id",
                            15, nullptr, values, lengths, formats, 0));
    check(res, "cannot record the check");
    return std::stoll(res.text(0, 0));
  }

public:
  std::optional<Record> get(std::int64_t id) override {
    const std::string v = std::to_string(id);
    auto rows = select(std::string("SELECT ") + kColumns + ", facts, facts_encoding FROM checks WHERE id = $1", {v}, true);
    if (rows.empty()) return std::nullopt;
    return rows.front();
  }

  std::vector<Record> list(const std::string& domain, std::size_t limit) override {
    return select(std::string("SELECT ") + kColumns + " FROM checks WHERE domain = $1 ORDER BY started_at DESC, id DESC" +
                      (limit ? " LIMIT " + std::to_string(limit) : ""),
                  {domain}, false);
  }

  std::optional<Record> by_ticket(const std::string& ticket) override {
    auto rows = select(std::string("SELECT ") + kColumns + ", facts, facts_encoding FROM checks WHERE ticket = $1 ORDER BY id DESC LIMIT 1",
                       {ticket}, true);
    if (rows.empty()) return std::nullopt;
    return rows.front();
  }

  std::optional<Record> last_ok(const std::string& domain) override {
    auto rows = select(std::string("SELECT ") + kColumns +
                           ", facts, facts_encoding FROM checks WHERE domain = $1 AND verdict IN ('ok', 'warning')"
                           " ORDER BY started_at DESC, id DESC LIMIT 1",
                       {domain}, true);
    if (rows.empty()) return std::nullopt;
    return rows.front();
  }

  std::size_t prune(std::int64_t before) override {
    const std::string v = std::to_string(before);
    const char* values[] = {v.c_str()};
    Result res(PQexecParams(conn_, "DELETE FROM checks WHERE started_at < $1", 1, nullptr, values, nullptr, nullptr, 0));
    check(res, "cannot delete old checks");
    return static_cast<std::size_t>(std::atoll(PQcmdTuples(res.get())));
  }

  std::vector<Record> latest_per_domain() override {
    return select(std::string("SELECT DISTINCT ON (domain) ") + kColumns +
                      " FROM checks ORDER BY domain, started_at DESC, id DESC",
                  {}, false);
  }

  int schema_version() override {
    Result res(PQexec(conn_, "SELECT COALESCE(MAX(version), 0) FROM schema_version"));
    check(res, "cannot read its schema version");
    return std::atoi(res.text(0, 0).c_str());
  }

  std::string where() const override { return where_; }

private:
  // A statement with its values as text parameters.
  PGresult* params(const std::string& sql, const std::vector<std::string>& values) {
    std::vector<const char*> v;
    for (const auto& x : values) v.push_back(x.c_str());
    return PQexecParams(conn_, sql.c_str(), static_cast<int>(v.size()), nullptr, v.data(), nullptr, nullptr, 0);
  }

  // Runs `f` inside BEGIN ... COMMIT; rolls back when it throws.
  template <class F>
  void transaction(F&& f) {
    exec("BEGIN", "cannot begin a transaction");
    try {
      f();
      exec("COMMIT", "cannot commit a transaction");
    } catch (...) {
      PQclear(PQexec(conn_, "ROLLBACK"));
      throw;
    }
  }

  void check(const Result& res, const std::string& what) const {
    const auto status = PQresultStatus(res.get());
    if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) return;
    std::string why = PQresultErrorMessage(res.get());
    while (!why.empty() && (why.back() == '\n' || why.back() == ' ')) why.pop_back();
    const char* state = PQresultErrorField(res.get(), PG_DIAG_SQLSTATE);
    const std::string code = state ? state : "";
    std::string fix = "see the server's message";
    if (code == "53100") fix = "the server's disk is full; ask its administrator to free space";
    else if (code == "25006" || code == "42501") fix = "this user may not write there; use a user with INSERT and DELETE on the tables";
    else if (code.rfind("55P03", 0) == 0 || code == "40P01") fix = "another session held a lock; retry";
    else if (code.rfind("08", 0) == 0 || PQstatus(conn_) != CONNECTION_OK) fix = "the connection to the server was lost; retry";
    throw StoreError(where_ + ": " + what + ": " + why + "; " + fix);
  }

  void exec(const std::string& sql, const std::string& what = "cannot set it up") {
    Result res(PQexec(conn_, sql.c_str()));
    check(res, what);
  }

  std::vector<Record> select(const std::string& sql, const std::vector<std::string>& params, bool with_facts) {
    std::vector<const char*> values;
    for (const auto& p : params) values.push_back(p.c_str());
    Result res(PQexecParams(conn_, sql.c_str(), static_cast<int>(values.size()), nullptr, values.data(), nullptr, nullptr, 0));
    check(res, "cannot read it");
    std::vector<Record> out;
    for (int row = 0; row < res.rows(); ++row) {
      Record r;
      int i = 0;
      r.id = std::stoll(res.text(row, i++));
      r.domain = res.text(row, i++);
      r.registered_domain = res.text(row, i++);
      r.started_at = std::stoll(res.text(row, i++));
      r.finished_at = std::stoll(res.text(row, i++));
      r.verdict = res.text(row, i++);
      r.finding_ids = ids_of(res.text(row, i++));
      r.findings = nlohmann::json::parse(res.text(row, i++), nullptr, false);
      r.tool_version = res.text(row, i++);
      r.rules_version = res.text(row, i++);
      r.user = res.text(row, i++);
      r.ticket = res.text(row, i++);
      r.source = res.text(row, i++);
      if (!res.null(row, i)) r.cert_not_after = std::stoll(res.text(row, i));
      ++i;
      r.provider = res.text(row, i++);
      if (with_facts) {
        std::size_t n = 0;
        unsigned char* raw = PQunescapeBytea(reinterpret_cast<const unsigned char*>(PQgetvalue(res.get(), row, i)), &n);
        if (!raw) throw StoreError(where_ + ": check " + std::to_string(r.id) + ": cannot read its facts (out of memory)");
        const std::string packed(reinterpret_cast<const char*>(raw), n);
        PQfreemem(raw);
        const std::string encoding = res.text(row, i + 1);
        if (encoding != "zlib")
          throw StoreError(where_ + ": check " + std::to_string(r.id) + ": facts in an unknown encoding '" + encoding + "'");
        try {
          r.facts = decompress(packed);
        } catch (const StoreError& e) {
          throw StoreError(where_ + ": check " + std::to_string(r.id) + ": " + e.what());
        }
      }
      out.push_back(std::move(r));
    }
    return out;
  }

  void migrate(int target) {
    exec("BEGIN");
    try {
      exec(kMigrationLock, "cannot lock its schema");
      exec("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL, applied_at BIGINT NOT NULL)",
           "cannot set up its schema");
      const int have = schema_version();
      const int known = current_schema_version();
      if (have > known)
        throw StoreError(where_ + ": its schema is version " + std::to_string(have) +
                         ", made by a newer certdoctor (this one knows up to " + std::to_string(known) +
                         "); use that version, or give another --db");
      for (int v = have + 1; v <= target; ++v) {
        exec(kMigrations[v - 1], "cannot migrate its schema to version " + std::to_string(v));
        exec("INSERT INTO schema_version (version, applied_at) VALUES (" + std::to_string(v) +
                 ", EXTRACT(EPOCH FROM now())::BIGINT)",
             "cannot migrate its schema");
      }
      exec("COMMIT", "cannot migrate its schema");
    } catch (...) {
      PQclear(PQexec(conn_, "ROLLBACK"));
      throw;
    }
  }

  std::string where_;
  PGconn* conn_ = nullptr;
};

} // namespace

std::unique_ptr<Store> open_postgres(const std::string& url, int target_version) {
  return std::make_unique<PostgresStore>(url, target_version);
}

std::unique_ptr<Queue> open_queue(const std::string& db) {
  if (!is_postgres(db)) throw StoreError(Message{"queue-not-postgresql", {{"db", db}}});
  return std::make_unique<PostgresStore>(db, 0);
}

} // namespace certdoctor::store
