#include <ethos/log/postgres.hpp>

#include <libpq-fe.h>

#include <charconv>
#include <utility>

namespace ethos::pg {

bool is_postgres_url(std::string_view location) {
  return location.substr(0, 13) == "postgresql://" || location.substr(0, 11) == "postgres://";
}

std::string redact_url(std::string_view url) {
  std::string out(url);
  size_t scheme = out.find("://");
  if (scheme != std::string::npos) {
    size_t at = out.find('@', scheme + 3);
    size_t colon = out.find(':', scheme + 3);
    if (at != std::string::npos && colon != std::string::npos && colon < at)
      out.replace(colon + 1, at - colon - 1, "***");
  }
  size_t pw = out.find("password=");
  if (pw != std::string::npos) {
    size_t end = out.find('&', pw);
    out.replace(pw + 9, (end == std::string::npos ? out.size() : end) - pw - 9, "***");
  }
  return out;
}

Result::~Result() {
  if (r_) PQclear(r_);
}

Result::Result(Result&& other) noexcept : r_(std::exchange(other.r_, nullptr)) {}

Result& Result::operator=(Result&& other) noexcept {
  if (this != &other) {
    if (r_) PQclear(r_);
    r_ = std::exchange(other.r_, nullptr);
  }
  return *this;
}

int Result::rows() const { return r_ ? PQntuples(r_) : 0; }

bool Result::is_null(int row, int column) const { return PQgetisnull(r_, row, column) != 0; }

std::string_view Result::text(int row, int column) const {
  return {PQgetvalue(r_, row, column), static_cast<size_t>(PQgetlength(r_, row, column))};
}

int64_t Result::integer(int row, int column) const {
  std::string_view t = text(row, column);
  int64_t v = 0;
  std::from_chars(t.data(), t.data() + t.size(), v);
  return v;
}

namespace {

// libpq's messages span lines ("...failed: Connection refused\n\tIs the
// server running..."): one line, single spaces, for ethos's error style.
std::string one_line(std::string_view text) {
  std::string out;
  for (char ch : text) {
    if (ch == '\n' || ch == '\t' || ch == '\r') ch = ' ';
    if (ch == ' ' && (out.empty() || out.back() == ' ')) continue;
    out += ch;
  }
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

sql::StoreError connection_error(pg_conn* c, const std::string& location, std::string_view what) {
  std::string msg = c ? PQerrorMessage(c) : "out of memory";
  return sql::StoreError("`" + location + "`: " + std::string(what) + ": " + one_line(msg));
}

}  // namespace

Connection::Connection(const std::string& url) : location_(redact_url(url)) {
  conn_ = PQconnectdb(url.c_str());
  if (!conn_ || PQstatus(conn_) != CONNECTION_OK) {
    sql::StoreError e = connection_error(conn_, location_, "cannot connect");
    PQfinish(conn_);
    conn_ = nullptr;
    throw e;
  }
  // Server notices (e.g. "relation already exists, skipping") are not errors.
  PQsetNoticeProcessor(
      conn_, [](void*, const char*) {}, nullptr);
}

Connection::~Connection() {
  if (conn_) PQfinish(conn_);
}

bool Connection::ok() const { return conn_ && PQstatus(conn_) == CONNECTION_OK; }

void Connection::reset() {
  PQreset(conn_);
  if (PQstatus(conn_) != CONNECTION_OK)
    throw connection_error(conn_, location_, "cannot reconnect");
}

namespace {

struct ParamArrays {
  std::vector<const char*> values;
  std::vector<int> lengths;
  explicit ParamArrays(const std::vector<std::string_view>& params) {
    values.reserve(params.size());
    lengths.reserve(params.size());
    for (auto p : params) {
      values.push_back(p.data());
      lengths.push_back(static_cast<int>(p.size()));
    }
  }
};

}  // namespace

void Connection::prepare(const std::string& name, std::string_view sql, int params) {
  std::string text(sql);
  checked(PQprepare(conn_, name.c_str(), text.c_str(), params, nullptr), text);
}

Result Connection::exec_prepared(const std::string& name,
                                 const std::vector<std::string_view>& params) {
  ParamArrays a(params);
  return checked(PQexecPrepared(conn_, name.c_str(), static_cast<int>(params.size()),
                                a.values.data(), a.lengths.data(), nullptr, 0),
                 "EXECUTE " + name);
}

Result Connection::exec(std::string_view sql, const std::vector<std::string_view>& params) {
  std::string text(sql);
  ParamArrays a(params);
  // Without parameters, the simple protocol: it also runs several statements
  // (a migration) in one round trip.
  pg_result* raw = params.empty()
                       ? PQexec(conn_, text.c_str())
                       : PQexecParams(conn_, text.c_str(), static_cast<int>(params.size()), nullptr,
                                      a.values.data(), a.lengths.data(), nullptr, 0);
  return checked(raw, text);
}

Result Connection::checked(pg_result* raw, const std::string& text) {
  ExecStatusType status = raw ? PQresultStatus(raw) : PGRES_FATAL_ERROR;
  if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) return Result(raw);
  std::string msg;
  if (raw) {
    const char* state = PQresultErrorField(raw, PG_DIAG_SQLSTATE);
    const char* primary = PQresultErrorField(raw, PG_DIAG_MESSAGE_PRIMARY);
    if (primary)
      msg = std::string(primary) + (state ? " (SQLSTATE " + std::string(state) + ")" : "");
    PQclear(raw);
  }
  if (msg.empty()) {
    msg = one_line(PQerrorMessage(conn_));
  }
  std::string where = "`" + location_ + "`: " + msg;
  where += " (in `" + text.substr(0, 80) + (text.size() > 80 ? "...`)" : "`)");
  throw sql::StoreError(where, 0, 0, text);
}

Transaction::Transaction(Connection& c) : c_(c) { c_.exec("BEGIN"); }

Transaction::~Transaction() {
  if (done_ || !c_.ok()) return;
  try {
    c_.exec("ROLLBACK");
  } catch (...) {
    // The connection is gone or broken: the server rolls back on its own.
  }
}

void Transaction::commit() {
  c_.exec("COMMIT");
  done_ = true;
}

}  // namespace ethos::pg
