// Schema migrations of the decision log: from nothing, from an empty file,
// from a fixture of every older version; newer and foreign files refused.
#include <catch2/catch.hpp>

#include <ethos/log/log_migrations.hpp>
#include <ethos/log/replay.hpp>
#include <ethos/log/sqlite.hpp>
#include "store_support.hpp"

using namespace ethos;
using namespace ethos::testing;
using Catch::Matchers::Contains;

namespace {

// Builds a log file from a fixture: the SQL dump of a log written by an ethos
// of that schema version (tests/store/fixtures/log-vN.sql).
std::string from_fixture(const std::string& dir, int version) {
  std::string sql =
      slurp_file(source_dir() + "/tests/store/fixtures/log-v" + std::to_string(version) + ".sql");
  REQUIRE(!sql.empty());
  std::string path = log_path(dir);
  sql::Database db(path, sql::OpenMode::kReadWrite);
  db.exec(sql);
  REQUIRE(db.query_int("PRAGMA user_version") == version);
  return path;
}

LogOptions reader() {
  LogOptions o;
  o.read_only = true;
  return o;
}

}  // namespace

TEST_CASE("a new log file is created at the current schema version, in WAL mode") {
  std::string dir = temp_dir(), path = log_path(dir);
  {
    DecisionLog log(path, writer_options());
    CHECK(log.schema_version() == DecisionLog::kSchemaVersion);
  }
  sql::Database raw(path, sql::OpenMode::kRead);
  CHECK(raw.query_int("PRAGMA user_version") == DecisionLog::kSchemaVersion);
  CHECK(raw.query_int("PRAGMA application_id") == log_schema::kApplicationId);
  CHECK(raw.query_text("PRAGMA journal_mode") == "wal");
  CHECK(raw.query_int("SELECT count(*) FROM sqlite_schema WHERE name IN ('bundles', 'decisions', "
                      "'log_meta')") == 3);
  std::filesystem::remove_all(dir);
}

TEST_CASE("an empty existing file becomes a log at the current schema version") {
  std::string dir = temp_dir(), path = log_path(dir);
  std::ofstream(path).close();
  REQUIRE(std::filesystem::file_size(path) == 0);
  auto b = store_bundle();
  DecisionLog log(path, writer_options());
  CHECK(log.schema_version() == DecisionLog::kSchemaVersion);
  CHECK(record_run(log, *b, 3).size() == 3);
  CHECK(log.verify().ok());
  std::filesystem::remove_all(dir);
}

TEST_CASE(
    "a version 1 log is readable as it is, and migrated keeps its decisions, chain and replay") {
  std::string dir = temp_dir();
  std::string path = from_fixture(dir, 1);
  {
    // Readers never migrate: the auditor's copy stays as it was.
    DecisionLog old(path, reader());
    CHECK(old.schema_version() == 1);
    CHECK(old.count() == 6);
    CHECK(old.verify().ok());
  }
  CHECK(sql::Database(path, sql::OpenMode::kRead).query_int("PRAGMA user_version") == 1);
  auto b = store_bundle();
  DecisionLog log(path, writer_options());
  CHECK(log.schema_version() == DecisionLog::kSchemaVersion);
  CHECK(log.count() == 6);
  auto before = log.verify();
  CHECK(before.ok());
  CHECK(replay(log, {}).reproduced == 6);
  // The chain continues from the migrated rows.
  record_run(log, *b, 4, 100);
  auto after = log.verify();
  CHECK(after.ok());
  CHECK(after.decisions == 10);
  std::filesystem::remove_all(dir);
}

TEST_CASE(
    "a version 2 log is found by request id as it is, and migrated moves its index to "
    "request_ids") {
  std::string dir = temp_dir();
  std::string path = from_fixture(dir, 2);
  LogFilter by_request;
  by_request.request_id = "r-101";
  {
    DecisionLog old(path, reader());
    CHECK(old.schema_version() == 2);
    CHECK(old.count(by_request) == 1);
    CHECK(old.verify().ok());
  }
  auto b = store_bundle();
  DecisionLog log(path, writer_options());
  CHECK(log.schema_version() == DecisionLog::kSchemaVersion);
  {
    sql::Database raw(path, sql::OpenMode::kRead);
    CHECK(raw.query_int("SELECT count(*) FROM request_ids") == 10);
    CHECK(raw.query_int("SELECT value FROM log_meta WHERE key = 'request_ids_through'") == 10);
    CHECK(raw.query_int("SELECT count(*) FROM sqlite_schema WHERE name = 'decisions_by_request'") ==
          0);
  }
  CHECK(log.count(by_request) == 1);
  record_run(log, *b, 1, 101);  // r-101 again, after the mark
  CHECK(log.count(by_request) == 2);
  CHECK(log.verify().ok());
  std::filesystem::remove_all(dir);
}

TEST_CASE("a migration that fails leaves the file at its previous version") {
  std::string dir = temp_dir();
  std::string path = from_fixture(dir, 1);
  {
    // Migration 2 creates log_meta: an object of that name makes it fail half-way.
    sql::Database raw(path, sql::OpenMode::kReadWrite);
    raw.exec("CREATE VIEW log_meta AS SELECT 1");
  }
  CHECK_THROWS_AS(DecisionLog(path, writer_options()), sql::StoreError);
  sql::Database raw(path, sql::OpenMode::kRead);
  CHECK(raw.query_int("PRAGMA user_version") == 1);
  CHECK(raw.query_int("SELECT count(*) FROM sqlite_schema WHERE name = 'decisions_by_time'") == 0);
  std::filesystem::remove_all(dir);
}

TEST_CASE("a log written by a newer ethos is refused with a clear message and left untouched") {
  std::string dir = temp_dir(), path = log_path(dir);
  {
    sql::Database raw(path, sql::OpenMode::kReadWrite);
    raw.exec(log_schema::migration_sql(1));
    raw.exec("PRAGMA user_version = 99");
  }
  for (bool read_only : {false, true}) {
    LogOptions o = writer_options();
    o.read_only = read_only;
    try {
      DecisionLog log(path, o);
      FAIL("a version 99 log was opened");
    } catch (const sql::StoreError& e) {
      CHECK_THAT(e.what(), Contains("written by a newer ethos (log schema version 99"));
      CHECK_THAT(e.what(), Contains("upgrade ethos"));
    }
  }
  sql::Database raw(path, sql::OpenMode::kRead);
  CHECK(raw.query_text("PRAGMA journal_mode") == "delete");
  CHECK(raw.query_int("PRAGMA user_version") == 99);
  std::filesystem::remove_all(dir);
}

TEST_CASE("an SQLite file that is not an ethos log is refused") {
  std::string dir = temp_dir(), path = log_path(dir);
  {
    sql::Database raw(path, sql::OpenMode::kReadWrite);
    raw.exec("CREATE TABLE patients (name TEXT)");
  }
  CHECK_THROWS_WITH(DecisionLog(path, writer_options()), Contains("not an ethos decision log"));
  std::filesystem::remove_all(dir);
}

TEST_CASE("a file that is not SQLite is refused with SQLite's code") {
  std::string dir = temp_dir(), path = log_path(dir);
  std::ofstream(path) << std::string(4096, 'x');
  try {
    DecisionLog log(path, writer_options());
    FAIL("a text file was opened as a log");
  } catch (const sql::StoreError& e) {
    CHECK(e.code() == sql::kNotADatabase);
    CHECK_THAT(e.what(), Contains("not a database"));
  }
  std::filesystem::remove_all(dir);
}
