// A thin RAII layer over libpq: a connection and its query results. Every
// failure is a sql::StoreError carrying the server's SQLSTATE (in the
// message), its message and the SQL that failed. This header does not
// include libpq-fe.h: the handles are opaque to callers.
//
// Thread-safety: a Connection belongs to one thread at a time.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

#include <ethos/log/sqlite.hpp>

struct pg_conn;
struct pg_result;

namespace ethos::pg {

// True for "postgresql://..." and "postgres://..." (libpq's URI forms).
bool is_postgres_url(std::string_view location);
// The URL with any password replaced by `***`, for messages and logs.
std::string redact_url(std::string_view url);

// One query's result; cleared on destruction.
class Result {
 public:
  Result() = default;
  explicit Result(pg_result* r) : r_(r) {}
  ~Result();
  Result(Result&& other) noexcept;
  Result& operator=(Result&& other) noexcept;
  Result(const Result&) = delete;
  Result& operator=(const Result&) = delete;

  int rows() const;
  bool is_null(int row, int column) const;
  std::string_view text(int row, int column) const;
  int64_t integer(int row, int column) const;

 private:
  pg_result* r_ = nullptr;
};

class Connection {
 public:
  // Connects to `url` (a libpq connection URI). Throws sql::StoreError.
  explicit Connection(const std::string& url);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Runs `sql` with text parameters ($1, $2, ...); without parameters `sql`
  // may hold several statements. Throws sql::StoreError when the server
  // refuses it or the connection is lost.
  Result exec(std::string_view sql, const std::vector<std::string_view>& params = {});
  Result exec(std::string_view sql, std::initializer_list<std::string_view> params) {
    return exec(sql, std::vector<std::string_view>(params));
  }
  // Prepares `sql` under `name` for exec_prepared() on this connection (until
  // a reset). Throws sql::StoreError.
  void prepare(const std::string& name, std::string_view sql, int params);
  Result exec_prepared(const std::string& name, const std::vector<std::string_view>& params);
  // True while the connection is up (false after the server went away).
  bool ok() const;
  // Reconnects after a lost connection. Throws sql::StoreError.
  void reset();
  const std::string& location() const { return location_; }  // the URL without its password

 private:
  // `raw` as a Result, or a StoreError naming `sql` when it failed.
  Result checked(pg_result* raw, const std::string& sql);
  pg_conn* conn_ = nullptr;
  std::string location_;
};

// BEGIN on construction, ROLLBACK in the destructor unless commit() ran.
class Transaction {
 public:
  explicit Transaction(Connection& c);
  ~Transaction();
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  void commit();

 private:
  Connection& c_;
  bool done_ = false;
};

}  // namespace ethos::pg
