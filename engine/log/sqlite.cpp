#include <ethos/log/sqlite.hpp>

#include <sqlite3.h>

#include <utility>

#include <ethos/log/wal_vfs.hpp>

namespace ethos::sql {

static_assert(kBusy == SQLITE_BUSY && kReadOnly == SQLITE_READONLY && kFull == SQLITE_FULL &&
              kNotADatabase == SQLITE_NOTADB);

StoreError::StoreError(const std::string& message, int code, int extended_code, std::string sql)
    : std::runtime_error(message),
      code_(code),
      extended_code_(extended_code),
      sql_(std::move(sql)) {}

Database::Database(const std::string& path, OpenMode mode) : path_(path) {
  int flags =
      SQLITE_OPEN_NOMUTEX |
      (mode == OpenMode::kRead ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
  // A connection that writes gathers its WAL writes into one per commit.
  const char* vfs = mode == OpenMode::kRead ? nullptr : wal_coalescing_vfs();
  int rc = sqlite3_open_v2(path.c_str(), &db_, flags, vfs);
  if (rc != SQLITE_OK) {
    StoreError e =
        db_ ? error(rc, "") : StoreError("cannot open `" + path + "`: out of memory", rc, rc);
    sqlite3_close(db_);
    db_ = nullptr;
    throw e;
  }
  sqlite3_extended_result_codes(db_, 1);
}

Database::~Database() {
  // INVARIANT: every Statement was finalized first (they are members declared
  // after the Database, or scoped), so close cannot fail with SQLITE_BUSY.
  if (db_) sqlite3_close(db_);
}

Database::Database(Database&& other) noexcept
    : db_(std::exchange(other.db_, nullptr)), path_(std::move(other.path_)) {}

Database& Database::operator=(Database&& other) noexcept {
  if (this != &other) {
    if (db_) sqlite3_close(db_);
    db_ = std::exchange(other.db_, nullptr);
    path_ = std::move(other.path_);
  }
  return *this;
}

StoreError Database::error(int rc, std::string_view sql) const {
  int extended = db_ ? sqlite3_extended_errcode(db_) : rc;
  std::string msg = db_ ? sqlite3_errmsg(db_) : sqlite3_errstr(rc);
  // errmsg may lag behind rc when the error came from a step that was reset.
  if ((extended & 0xff) != (rc & 0xff)) {
    extended = rc;
    msg = sqlite3_errstr(rc);
  }
  std::string text = "`" + path_ + "`: " + msg;
  if (!sql.empty())
    text += " (in `" + std::string(sql.substr(0, 80)) + (sql.size() > 80 ? "...`)" : "`)");
  return StoreError(text, rc & 0xff, extended, std::string(sql));
}

void Database::exec(std::string_view sql) {
  std::string text(sql);
  char* msg = nullptr;
  int rc = sqlite3_exec(db_, text.c_str(), nullptr, nullptr, &msg);
  sqlite3_free(msg);
  if (rc != SQLITE_OK) throw error(rc, sql);
}

int64_t Database::last_insert_rowid() const { return sqlite3_last_insert_rowid(db_); }

int64_t Database::query_int(std::string_view sql) {
  Statement s(*this, sql);
  return s.step() ? s.column_int(0) : 0;
}

std::string Database::query_text(std::string_view sql) {
  Statement s(*this, sql);
  return s.step() ? std::string(s.column_text(0)) : std::string();
}

void Database::set_busy_timeout(int milliseconds) {
  int rc = sqlite3_busy_timeout(db_, milliseconds);
  if (rc != SQLITE_OK) throw error(rc, "busy_timeout");
}

bool Database::read_only() const { return sqlite3_db_readonly(db_, "main") == 1; }

Statement::Statement(Database& db, std::string_view sql) : db_(&db), sql_(sql) {
  int rc = sqlite3_prepare_v3(db.handle(), sql.data(), static_cast<int>(sql.size()),
                              SQLITE_PREPARE_PERSISTENT, &stmt_, nullptr);
  if (rc != SQLITE_OK) throw db.error(rc, sql);
}

Statement::~Statement() {
  if (stmt_) sqlite3_finalize(stmt_);
}

Statement::Statement(Statement&& other) noexcept
    : db_(other.db_), stmt_(std::exchange(other.stmt_, nullptr)), sql_(std::move(other.sql_)) {}

Statement& Statement::operator=(Statement&& other) noexcept {
  if (this != &other) {
    if (stmt_) sqlite3_finalize(stmt_);
    db_ = other.db_;
    stmt_ = std::exchange(other.stmt_, nullptr);
    sql_ = std::move(other.sql_);
  }
  return *this;
}

void Statement::bind(int index, int64_t value) {
  int rc = sqlite3_bind_int64(stmt_, index, value);
  if (rc != SQLITE_OK) throw db_->error(rc, sql_);
}

void Statement::bind(int index, std::string_view text) {
  // A non-null pointer even for empty text: a null pointer would bind NULL.
  int rc = sqlite3_bind_text64(stmt_, index, text.empty() ? "" : text.data(), text.size(),
                               SQLITE_STATIC, SQLITE_UTF8);
  if (rc != SQLITE_OK) throw db_->error(rc, sql_);
}

void Statement::bind_null(int index) {
  int rc = sqlite3_bind_null(stmt_, index);
  if (rc != SQLITE_OK) throw db_->error(rc, sql_);
}

bool Statement::step() {
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  StoreError e = db_->error(rc, sql_);
  sqlite3_reset(stmt_);
  throw e;
}

void Statement::run() {
  while (step()) {
  }
  reset();
}

void Statement::reset() {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
}

int64_t Statement::column_int(int index) const { return sqlite3_column_int64(stmt_, index); }

std::string_view Statement::column_text(int index) const {
  const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, index));
  if (!p) return {};
  return {p, static_cast<size_t>(sqlite3_column_bytes(stmt_, index))};
}

bool Statement::column_is_null(int index) const {
  return sqlite3_column_type(stmt_, index) == SQLITE_NULL;
}

Transaction::Transaction(Database& db) : db_(db) { db_.exec("BEGIN IMMEDIATE"); }

Transaction::~Transaction() {
  if (done_) return;
  // noexcept: a failed rollback leaves SQLite to roll back when the
  // connection closes; there is nothing better to do in a destructor.
  sqlite3_exec(db_.handle(), "ROLLBACK", nullptr, nullptr, nullptr);
}

void Transaction::commit() {
  db_.exec("COMMIT");
  done_ = true;
}

}  // namespace ethos::sql
