// The VFS that gathers a writing connection's WAL writes (engine/wal_vfs.cpp):
// one write per commit, and nothing read, synced or seen by another
// connection before its bytes are in the file.
#include <catch2/catch.hpp>
#include <string>

#include <ethos/log/sqlite.hpp>
#include <ethos/log/wal_vfs.hpp>
#include "support.hpp"

using namespace ethos;

namespace {

// Row k's value: 600 bytes that differ from row to row and from version to version.
std::string value_of(int64_t k, int version) {
  std::string v(600, ' ');
  for (size_t i = 0; i < v.size(); ++i)
    v[i] = static_cast<char>('a' + (k * 7 + static_cast<int64_t>(i) + version * 13) % 26);
  return v;
}

sql::Database open_wal(const std::string& path, const char* cache_size) {
  sql::Database db(path, sql::OpenMode::kReadWrite);
  REQUIRE(db.query_text("PRAGMA journal_mode = WAL") == "wal");
  db.exec("PRAGMA synchronous = FULL");
  db.exec(std::string("PRAGMA cache_size = ") + cache_size);
  db.exec("CREATE TABLE IF NOT EXISTS t (k INTEGER PRIMARY KEY, v TEXT NOT NULL)");
  return db;
}

void insert_rows(sql::Database& db, int64_t first, int64_t count, int version) {
  sql::Statement ins(db, "INSERT OR REPLACE INTO t (k, v) VALUES (?, ?)");
  for (int64_t k = first; k < first + count; ++k) {
    std::string v = value_of(k, version);
    ins.bind(1, k);
    ins.bind(2, v);
    ins.run();
  }
}

}  // namespace

TEST_CASE("a writing connection's commit reaches the WAL in one write, not one per frame") {
  std::string path = testing::temp_dir() + "/wal.db";
  sql::Database db = open_wal(path, "2000");
  auto before = sql::wal_write_counts();
  {
    sql::Transaction txn(db);
    insert_rows(db, 0, 60, 0);  // 60 rows of 600 bytes: about ten 4 KiB pages
    txn.commit();
  }
  auto after = sql::wal_write_counts();
  unsigned long long asked = after.asked - before.asked, made = after.made - before.made;
  // Two writes per frame (header and page) asked; the WAL header of a new
  // WAL and the frames of the commit made.
  CHECK(asked >= 20);
  CHECK(made >= 1);
  CHECK(made <= 2);
}

TEST_CASE(
    "pages a transaction spills to the WAL are read back, and rewritten, through the buffer") {
  std::string path = testing::temp_dir() + "/spill.db";
  {
    // A cache of a few pages: the transaction writes frames to the WAL long
    // before it commits, reads them back, and rewrites some in place.
    sql::Database db = open_wal(path, "4");
    sql::Transaction txn(db);
    insert_rows(db, 0, 3000, 0);
    insert_rows(db, 0, 3000, 1);  // every row again: its pages come back from the WAL
    txn.commit();
  }
  sql::Database reader(path, sql::OpenMode::kRead);
  CHECK(reader.query_text("PRAGMA integrity_check") == "ok");
  CHECK(reader.query_int("SELECT count(*) FROM t") == 3000);
  sql::Statement rows(reader, "SELECT k, v FROM t ORDER BY k");
  int64_t wrong = 0;
  while (rows.step())
    if (rows.column_text(1) != value_of(rows.column_int(0), 1)) ++wrong;
  CHECK(wrong == 0);
}

TEST_CASE("a transaction larger than one write of the VFS commits whole") {
  std::string path = testing::temp_dir() + "/large.db";
  {
    sql::Database db = open_wal(path, "20000");
    sql::Transaction txn(db);
    insert_rows(db, 0, 5000, 0);  // about 3 MiB of frames in one commit
    txn.commit();
  }
  sql::Database reader(path, sql::OpenMode::kRead);
  CHECK(reader.query_text("PRAGMA integrity_check") == "ok");
  CHECK(reader.query_int("SELECT count(*) FROM t") == 5000);
  CHECK(reader.query_int("SELECT count(*) FROM t WHERE length(v) = 600") == 5000);
}
