// A thin RAII layer over SQLite: a connection, prepared statements and
// transactions. Every failure is a StoreError carrying SQLite's result code,
// extended result code, message and the SQL that failed. This header does
// not include sqlite3.h: the handles are opaque to callers.
//
// Thread-safety: a Database and its Statements belong to one thread at a
// time (the connection is opened without SQLite's internal mutex).
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>

struct sqlite3;
struct sqlite3_stmt;

namespace ethos::sql {

// "Could not complete": the database refused or failed an operation.
class StoreError : public std::runtime_error {
 public:
  StoreError(const std::string& message, int code = 0, int extended_code = 0, std::string sql = {});
  int code() const { return code_; }  // SQLite primary result code (0: not SQLite's)
  int extended_code() const { return extended_code_; }  // e.g. SQLITE_READONLY_DBMOVED
  const std::string& sql() const { return sql_; }       // the statement that failed, if any

 private:
  int code_;
  int extended_code_;
  std::string sql_;
};

// SQLite result codes the store reacts to (same values as sqlite3.h).
inline constexpr int kBusy = 5;
inline constexpr int kReadOnly = 8;
inline constexpr int kFull = 13;
inline constexpr int kNotADatabase = 26;

enum class OpenMode { kRead, kReadWrite };  // kReadWrite creates the file if needed

class Database {
 public:
  // Opens (or creates) `path`. Throws StoreError.
  Database(const std::string& path, OpenMode mode);
  ~Database();
  Database(Database&& other) noexcept;
  Database& operator=(Database&& other) noexcept;
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  // Runs one or more statements without results.
  void exec(std::string_view sql);
  // The first column of the first row of `sql` as an integer / text (empty when no row).
  int64_t query_int(std::string_view sql);
  std::string query_text(std::string_view sql);
  void set_busy_timeout(int milliseconds);
  // The rowid of this connection's most recent successful INSERT (0: none).
  int64_t last_insert_rowid() const;
  // True when SQLite opened the file read-only (e.g. the OS refused write access).
  bool read_only() const;
  const std::string& path() const { return path_; }
  sqlite3* handle() const { return db_; }

  // Builds a StoreError from the connection's last error.
  [[nodiscard]] StoreError error(int rc, std::string_view sql) const;

 private:
  sqlite3* db_ = nullptr;
  std::string path_;
};

// A prepared statement, finalized on destruction. Text bound with bind()
// is not copied: it must outlive the next step()/reset().
class Statement {
 public:
  Statement(Database& db, std::string_view sql);
  ~Statement();
  Statement(Statement&& other) noexcept;
  Statement& operator=(Statement&& other) noexcept;
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  // Parameters are 1-based, as in SQLite.
  void bind(int index, int64_t value);
  void bind(int index, std::string_view text);
  void bind_null(int index);
  // Advances: true when a row is available, false when done. Throws on error.
  bool step();
  // Steps a statement that returns no rows, then resets it.
  void run();
  void reset();

  // Columns are 0-based. Text views stay valid until the next step()/reset().
  int64_t column_int(int index) const;
  std::string_view column_text(int index) const;
  bool column_is_null(int index) const;

 private:
  Database* db_ = nullptr;
  sqlite3_stmt* stmt_ = nullptr;
  std::string sql_;
};

// BEGIN IMMEDIATE on construction (the write lock is taken up front, so a
// busy database fails here, within the busy timeout, and not half-way
// through); ROLLBACK in the destructor unless commit() ran.
class Transaction {
 public:
  explicit Transaction(Database& db);
  ~Transaction();
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  void commit();

 private:
  Database& db_;
  bool done_ = false;
};

}  // namespace ethos::sql
