#include <doctest/doctest.h>

#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "../temp_dir.hpp"
#include "store/backends.hpp"
#include "store/store.hpp"

using namespace certdoctor;
using namespace certdoctor::store;
namespace fs = std::filesystem;

namespace {

Record make(const std::string& domain, std::int64_t started, const std::string& verdict,
            std::vector<std::string> ids = {}) {
  Record r;
  r.domain = domain;
  r.registered_domain = domain;
  r.started_at = started;
  r.finished_at = started + 3;
  r.verdict = verdict;
  r.finding_ids = ids;
  for (const auto& i : ids) r.findings.push_back({{"id", i}, {"severity", "error"}, {"arguments", {{"name", domain}}}});
  r.facts = R"({"version":1,"domain":")" + domain + R"(","padding":")" + std::string(5000, 'x') + "\"}";
  r.tool_version = "0.1.0";
  r.rules_version = "abc123";
  r.user = "sato";
  r.ticket = "T-1";
  r.source = "cli";
  r.cert_not_after = started + 50 * 86400;
  r.provider = "xserver";
  return r;
}

std::string message_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const StoreError& e) {
    return e.what();
  }
  return "";
}

// Runs `f` as the unprivileged user nobody in a child process (root writes any file, so a
// read-only file is read-only only for another user); true when `f` returned true.
bool as_nobody(const std::function<bool()>& f) {
  const pid_t pid = fork();
  if (pid == 0) {
    if (getuid() == 0 && (setgid(65534) != 0 || setuid(65534) != 0)) _exit(3);
    bool ok = false;
    try {
      ok = f();
    } catch (...) {
    }
    _exit(ok ? 0 : 1);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

} // namespace

TEST_CASE("store::Sqlite: a new file is made with the current schema, in WAL mode") {
  TempDir t;
  const std::string db = (t.path() / "sub" / "history.sqlite3").string();
  auto s = open(db, Open::create);
  CHECK(s->schema_version() == current_schema_version());
  CHECK(s->where() == db);
  sqlite3* raw = nullptr;
  REQUIRE(sqlite3_open(db.c_str(), &raw) == SQLITE_OK);
  sqlite3_stmt* st = nullptr;
  sqlite3_prepare_v2(raw, "PRAGMA journal_mode", -1, &st, nullptr);
  REQUIRE(sqlite3_step(st) == SQLITE_ROW);
  CHECK(std::string(reinterpret_cast<const char*>(sqlite3_column_text(st, 0))) == "wal");
  sqlite3_finalize(st);
  sqlite3_close(raw);
}

TEST_CASE("store::Sqlite: an older schema is migrated at open and keeps its records") {
  TempDir t;
  const std::string db = t.str() + "/h.sqlite3";
  {
    SqliteOptions o;
    o.target_version = 1;
    auto s = open_sqlite(db, Open::create, o);
    CHECK(s->schema_version() == 1);
    s->add(make("old.jp", 1000, "ok"));
  }
  auto s = open(db, Open::existing);
  CHECK(s->schema_version() == current_schema_version());
  REQUIRE(s->list("old.jp", 0).size() == 1);
  sqlite3* raw = nullptr;
  REQUIRE(sqlite3_open(db.c_str(), &raw) == SQLITE_OK);
  sqlite3_stmt* st = nullptr;
  sqlite3_prepare_v2(raw, "SELECT count(*) FROM sqlite_master WHERE type = 'index' AND name = 'checks_by_domain'", -1, &st, nullptr);
  REQUIRE(sqlite3_step(st) == SQLITE_ROW);
  CHECK(sqlite3_column_int(st, 0) == 1);
  sqlite3_finalize(st);
  sqlite3_close(raw);
}

TEST_CASE("store::Sqlite: a database from a newer version is a clear error") {
  TempDir t;
  const std::string db = t.str() + "/h.sqlite3";
  open(db, Open::create);
  sqlite3* raw = nullptr;
  REQUIRE(sqlite3_open(db.c_str(), &raw) == SQLITE_OK);
  REQUIRE(sqlite3_exec(raw, "INSERT INTO schema_version VALUES (99, 0)", nullptr, nullptr, nullptr) == SQLITE_OK);
  sqlite3_close(raw);
  const auto m = message_of([&] { open(db, Open::existing); });
  CHECK(m.find(db) != std::string::npos);
  CHECK(m.find("version 99") != std::string::npos);
  CHECK(m.find("newer certdoctor") != std::string::npos);
}

TEST_CASE("store::Sqlite: a record comes back as it was stored; listings are newest first without facts") {
  TempDir t;
  auto s = open(t.str() + "/h.sqlite3", Open::create);
  Record a = make("example.jp", 1000, "fail", {"a-not-host", "caa-forbids"});
  a.cert_not_after.reset();
  a.ticket = "";
  const auto id_a = s->add(a);
  const auto id_b = s->add(make("example.jp", 2000, "ok"));
  s->add(make("other.jp", 3000, "ok"));
  auto got = s->get(id_a);
  REQUIRE(got);
  CHECK(got->id == id_a);
  CHECK(got->domain == "example.jp");
  CHECK(got->started_at == 1000);
  CHECK(got->finished_at == 1003);
  CHECK(got->verdict == "fail");
  CHECK(got->finding_ids == std::vector<std::string>{"a-not-host", "caa-forbids"});
  CHECK(got->findings == a.findings);
  CHECK(got->facts == a.facts);
  CHECK(got->tool_version == "0.1.0");
  CHECK(got->rules_version == "abc123");
  CHECK(got->user == "sato");
  CHECK(got->ticket == "");
  CHECK(got->source == "cli");
  CHECK(!got->cert_not_after);
  CHECK(got->provider == "xserver");
  CHECK(!s->get(9999));
  auto list = s->list("example.jp", 0);
  REQUIRE(list.size() == 2);
  CHECK(list[0].id == id_b);
  CHECK(list[1].id == id_a);
  CHECK(list[0].facts.empty());
  CHECK(list[0].cert_not_after == 2000 + 50 * 86400);
  CHECK(s->list("example.jp", 1).size() == 1);
  CHECK(s->list("nothing.jp", 0).empty());
}

TEST_CASE("store::Sqlite: the facts are stored compressed") {
  TempDir t;
  const std::string db = t.str() + "/h.sqlite3";
  auto s = open(db, Open::create);
  s->add(make("example.jp", 1000, "ok"));
  sqlite3* raw = nullptr;
  REQUIRE(sqlite3_open(db.c_str(), &raw) == SQLITE_OK);
  sqlite3_stmt* st = nullptr;
  sqlite3_prepare_v2(raw, "SELECT length(facts), facts_encoding FROM checks", -1, &st, nullptr);
  REQUIRE(sqlite3_step(st) == SQLITE_ROW);
  CHECK(sqlite3_column_int(st, 0) < 200);  // 5 KB of facts
  CHECK(std::string(reinterpret_cast<const char*>(sqlite3_column_text(st, 1))) == "zlib");
  sqlite3_finalize(st);
  sqlite3_close(raw);
}

TEST_CASE("store::Sqlite: last_ok is the newest check whose verdict passed") {
  TempDir t;
  auto s = open(t.str() + "/h.sqlite3", Open::create);
  CHECK(!s->last_ok("example.jp"));
  s->add(make("example.jp", 1000, "ok"));
  const auto warn = s->add(make("example.jp", 2000, "warning"));
  s->add(make("example.jp", 3000, "fail"));
  s->add(make("example.jp", 4000, "incomplete"));
  s->add(make("other.jp", 5000, "ok"));
  auto last = s->last_ok("example.jp");
  REQUIRE(last);
  CHECK(last->id == warn);
  CHECK(!last->facts.empty());
  s->add(make("never.jp", 1000, "fail"));
  CHECK(!s->last_ok("never.jp"));
}

TEST_CASE("store::Sqlite: prune deletes the checks started before the limit") {
  TempDir t;
  auto s = open(t.str() + "/h.sqlite3", Open::create);
  for (int i = 1; i <= 5; ++i) s->add(make("example.jp", i * 1000, "ok"));
  CHECK(s->prune(3000) == 2);
  auto list = s->list("example.jp", 0);
  REQUIRE(list.size() == 3);
  CHECK(list.back().started_at == 3000);
  CHECK(s->prune(0) == 0);
}

TEST_CASE("store::Sqlite: latest_per_domain holds the newest record of each domain") {
  TempDir t;
  auto s = open(t.str() + "/h.sqlite3", Open::create);
  s->add(make("b.jp", 1000, "ok"));
  const auto b2 = s->add(make("b.jp", 2000, "fail"));
  const auto a1 = s->add(make("a.jp", 1500, "ok"));
  auto latest = s->latest_per_domain();
  REQUIRE(latest.size() == 2);
  CHECK(latest[0].id == a1);
  CHECK(latest[1].id == b2);
}

TEST_CASE("store::Sqlite: a file that is not a database is a clear error naming it and the fix") {
  TempDir t;
  const std::string db = t.write("h.sqlite3", std::string(4096, 'G') + "garbage");
  const auto m = message_of([&] { open(db, Open::create); });
  CHECK(m.find(db) != std::string::npos);
  CHECK(m.find("not a certdoctor history or it is damaged") != std::string::npos);
  CHECK(m.find("move it aside") != std::string::npos);
}

TEST_CASE("store::Sqlite: a missing file read without --record says that nothing was recorded") {
  TempDir t;
  const auto m = message_of([&] { open(t.str() + "/none.sqlite3", Open::existing); });
  CHECK(m.find("no history here yet") != std::string::npos);
  CHECK(!fs::exists(t.path() / "none.sqlite3"));
}

TEST_CASE("store::Sqlite: a read-only file or folder is a clear error for a writer") {
  TempDir t;
  fs::permissions(t.path(), fs::perms::owner_all | fs::perms::group_all | fs::perms::others_all);
  // A database made by someone else, readable by all.
  const std::string db = t.str() + "/h.sqlite3";
  open(db, Open::create)->add(make("example.jp", 1000, "ok"));
  fs::permissions(t.path(), fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                                fs::perms::others_read | fs::perms::others_exec);
  fs::permissions(db, fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read | fs::perms::others_read);
  for (const char* side : {"-wal", "-shm"})
    if (fs::exists(db + side))
      fs::permissions(db + side, fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read | fs::perms::others_read);
  CHECK(as_nobody([&] {
    const auto m = message_of([&] { open(db, Open::create)->add(make("example.jp", 2000, "ok")); });
    return m.find(db) != std::string::npos && m.find("cannot be written here") != std::string::npos;
  }));
  // ... who may still read it: history and due open it read-only.
  CHECK(as_nobody([&] {
    auto s = open(db, Open::existing);
    return s->list("example.jp", 0).size() == 1 && s->get(1) && !s->get(1)->facts.empty();
  }));
  // A new file in a folder the user may not write.
  CHECK(as_nobody([&] {
    const std::string other = t.str() + "/new.sqlite3";
    const auto m = message_of([&] { open(other, Open::create); });
    return m.find(other) != std::string::npos && m.find("cannot be written here") != std::string::npos;
  }));
  // A folder that cannot be made.
  CHECK(as_nobody([&] {
    const std::string deeper = t.str() + "/sub/new.sqlite3";
    const auto m = message_of([&] { open(deeper, Open::create); });
    return m.find("cannot create the folder") != std::string::npos;
  }));
}

TEST_CASE("store::Sqlite: a database locked by another writer for longer than the timeout is a clear error") {
  TempDir t;
  const std::string db = t.str() + "/h.sqlite3";
  open(db, Open::create);
  sqlite3* holder = nullptr;
  REQUIRE(sqlite3_open(db.c_str(), &holder) == SQLITE_OK);
  REQUIRE(sqlite3_exec(holder, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr) == SQLITE_OK);
  SqliteOptions o;
  o.busy_timeout_ms = 200;
  const auto m = message_of([&] { open_sqlite(db, Open::create, o)->add(make("example.jp", 1000, "ok")); });
  CHECK(m.find(db) != std::string::npos);
  CHECK(m.find("locked") != std::string::npos);
  sqlite3_exec(holder, "ROLLBACK", nullptr, nullptr, nullptr);
  sqlite3_close(holder);
  // Once the lock is released the same write goes through.
  CHECK(open_sqlite(db, Open::create, o)->add(make("example.jp", 1000, "ok")) > 0);
}

TEST_CASE("store::Sqlite: a full database is a clear error") {
  TempDir t;
  const std::string db = t.str() + "/h.sqlite3";
  SqliteOptions o;
  o.max_page_count = 12;
  auto s = open_sqlite(db, Open::create, o);
  std::string m;
  for (int i = 0; i < 200 && m.empty(); ++i) {
    Record r = make("example.jp", 1000 + i, "ok");
    r.findings = nlohmann::json::array({std::string(3000, static_cast<char>('a' + i % 26))});
    m = message_of([&] { s->add(r); });
  }
  CHECK(m.find(db) != std::string::npos);
  CHECK(m.find("is full") != std::string::npos);
}

TEST_CASE("store: compression round trip; damaged data is an error") {
  const std::string text = std::string(10000, 'a') + "end";
  CHECK(decompress(compress(text)) == text);
  CHECK(decompress(compress("")) == "");
  CHECK(message_of([] { decompress("not zlib at all"); }).find("damaged") != std::string::npos);
  const std::string packed = compress(text);
  CHECK(message_of([&] { decompress(packed.substr(0, packed.size() / 2)); }).find("damaged") != std::string::npos);
}

TEST_CASE("store: ages, URLs and the default path") {
  CHECK(parse_age("400d", "--older-than") == 400 * 86400);
  CHECK(parse_age("2w", "--older-than") == 14 * 86400);
  CHECK(parse_age("36h", "--older-than") == 36 * 3600);
  CHECK(parse_age("30", "--within") == 30 * 86400);
  CHECK_THROWS_AS(parse_age("d", "--within"), UsageError);
  CHECK_THROWS_AS(parse_age("-3d", "--within"), UsageError);
  CHECK_THROWS_AS(parse_age("3y", "--within"), UsageError);
  CHECK(redact("postgresql://ops:secret@db.example/history") == "postgresql://ops:***@db.example/history");
  CHECK(redact("postgresql://ops@db.example/history") == "postgresql://ops@db.example/history");
  CHECK(redact("postgresql:///history?host=/tmp") == "postgresql:///history?host=/tmp");
  CHECK(is_postgres("postgresql://x/y"));
  CHECK(is_postgres("postgres://x/y"));
  CHECK(!is_postgres("history.sqlite3"));
  setenv("XDG_DATA_HOME", "/srv/data", 1);
  CHECK(default_path() == "/srv/data/certdoctor/history.sqlite3");
  unsetenv("XDG_DATA_HOME");
  setenv("HOME", "/home/sato", 1);
  CHECK(default_path() == "/home/sato/.local/share/certdoctor/history.sqlite3");
}

TEST_CASE("store::Sqlite: by_ticket finds the newest record made with a ticket, with its facts") {
  TempDir t;
  auto s = open(t.str() + "/h.sqlite3", Open::create);
  Record a = make("example.jp", 1000, "fail");
  a.ticket = "web:abc";
  Record b = make("example.jp", 2000, "ok");
  b.ticket = "web:abc";
  Record c = make("other.jp", 3000, "ok");
  c.ticket = "web:other";
  s->add(a);
  const auto id_b = s->add(b);
  s->add(c);
  auto got = s->by_ticket("web:abc");
  REQUIRE(got);
  CHECK(got->id == id_b);
  CHECK(got->facts == b.facts);
  CHECK(s->by_ticket("web:other")->domain == "other.jp");
  CHECK(!s->by_ticket("web:nothing"));
  CHECK(!s->by_ticket(""));
}
