// The storage behind a DecisionLog (docs/decision-log.md, "Backends"): the
// SQLite file (the default) or a PostgreSQL database shared by several
// nodes. DecisionLog does everything that does not depend on the database
// (privacy, encoding, content hashes, the group-commit queue, tickets) and
// hands each batch to a LogAppender, and every read to a LogReader.
//
// Thread-safety: each object is one connection, used by one thread at a
// time (DecisionLog serialises the reader and gives the appender to its
// writer thread).
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include <ethos/log/decision_log.hpp>
#include <ethos/log/log_entry.hpp>

namespace ethos {

// Which database a log location names: `postgresql://...` (or
// `postgres://...`) is PostgreSQL; `sqlite:FILE` and a plain path are SQLite.
struct LogLocation {
  enum class Kind { kSqlite, kPostgres };
  Kind kind = Kind::kSqlite;
  std::string target;  // the file, or the connection URL
};
LogLocation parse_log_location(const std::string& location);
// The location for messages: a URL without its password.
std::string display_location(const std::string& location);

// Wall clock, unix milliseconds.
int64_t now_ms();

// One decision for the appender: it fills in prev_hash and hash, linking the
// row to the head of its chain.
struct AppendRow {
  LogEntry* entry = nullptr;
  const std::string* content_hash = nullptr;
  const std::string* bundle_hash = nullptr;
  const std::string* bundle_text = nullptr;
};

class LogReader {
 public:
  virtual ~LogReader() = default;
  virtual int schema_version() const = 0;
  virtual uint64_t count(const LogFilter& filter) = 0;
  virtual std::pair<int64_t, int64_t> seq_range(const LogFilter& filter) = 0;
  // Visits the rows `filter` matches, in seq order (descending with
  // newest_first), at most its limit; stops when `visit` returns false.
  virtual void scan(const LogFilter& filter, const std::function<bool(const LogEntry&)>& visit) = 0;
  // DecisionLog::summarize: counts over the rows `filter` matches (not its limit).
  virtual LogSummary summarize(const LogFilter& filter, int64_t bucket_seconds, size_t top) = 0;
  virtual std::optional<LogEntry> find(std::string_view decision_id) = 0;
  virtual std::optional<std::string> bundle_text(std::string_view hash) = 0;
  // Every stored bundle, by hash (for copying a log).
  virtual void bundles(
      const std::function<void(std::string_view hash, std::string_view text)>& visit) = 0;
  // The fingerprint of the key the log is pseudonymised with ("" if none yet).
  virtual std::string key_id() = 0;
  virtual VerifyReport verify(const std::function<void(uint64_t, uint64_t)>& progress) = 0;
  // The stored checkpoints, oldest first (none before the schema had them).
  virtual std::vector<Checkpoint> checkpoints() = 0;
  // The last row of every chain.
  virtual std::vector<ChainTip> tips() = 0;
};

// What a writer reads of its own chain when it opens (find_tail_damage).
struct ChainState {
  std::vector<LogEntry> tail;            // the chain's last rows, oldest first
  int64_t known_through = 0;             // a seq another table says the chain reached (0: none)
  std::optional<Checkpoint> checkpoint;  // the newest stored checkpoint of the chain
};

class LogAppender {
 public:
  virtual ~LogAppender() = default;
  // Links and inserts `rows` (and any bundle not stored yet) in one
  // transaction: all of them are committed, or none and this throws
  // sql::StoreError.
  virtual void append(std::vector<AppendRow>& rows) = 0;
  // The same for rows linked in another log (a copy): their prev_hash and
  // hash are kept, and the first must follow this chain's head, or this
  // throws sql::StoreError and inserts nothing.
  virtual void append_copied(std::vector<AppendRow>& rows) = 0;

  // The chain this appender writes ("" in SQLite).
  virtual const std::string& chain() const = 0;
  // Its last `rows` rows, and what else says how far it reached.
  virtual ChainState chain_state(size_t rows) = 0;
  // The row at `seq`, if it is in this chain.
  virtual std::optional<LogEntry> row_at(int64_t seq) = 0;
  // Its last row (seq 0 and kGenesisHash when empty).
  virtual ChainTip tip() = 0;
  // Stores a checkpoint of this chain, in its own transaction. Throws sql::StoreError.
  virtual void store_checkpoint(const Checkpoint& c) = 0;
};

// Why a writer must not extend its chain, if it must not: the last rows do
// not link (hash, prev_hash, seq), the chain is shorter than another table
// or a checkpoint (`stored`, or `anchored`, the anchor file's newest for this
// chain) says it was, or a checkpoint's row has another hash, or a checkpoint
// made with `key` does not verify. One line, lowercase.
std::optional<std::string> find_tail_damage(LogAppender& appender, const SigningKey* key,
                                            const std::optional<SourcedCheckpoint>& anchored);

struct LogStores {
  std::unique_ptr<LogReader> reader;
  std::unique_ptr<LogAppender> appender;  // null when opened for reading
};

// Opens the log at `location`: identifies it, migrates it and checks the key
// when writing (options.read_only false). Throws sql::StoreError.
LogStores open_log_stores(const std::string& location, const LogOptions& options);
LogStores open_sqlite_stores(const std::string& path, const LogOptions& options);
LogStores open_postgres_stores(const std::string& url, const LogOptions& options);

// ---- shared by the stores' verify() ----

// Walks one chain's rows in order and finds the first break.
class ChainWalk {
 public:
  // `find_by_hash(hash)`: the id of a row whose hash that is, or "" if none.
  explicit ChainWalk(std::function<std::string(const std::string&)> find_by_hash)
      : find_by_hash_(std::move(find_by_hash)) {}
  // The break at `e`, if the chain fails there (checks hash and link).
  std::optional<ChainBreak> next(const LogEntry& e);
  const std::string& head() const { return expected_prev_; }

 private:
  std::function<std::string(const std::string&)> find_by_hash_;
  std::string expected_prev_{kGenesisHash};
  std::string prev_id_;
};

// A bundle whose text no longer has its hash.
std::optional<ChainBreak> check_bundle_text(std::string_view hash, std::string_view text);
// A decision whose bundle is gone.
ChainBreak missing_bundle_break(int64_t seq, std::string_view decision_id, std::string_view bundle);

// The WHERE clause of a filtered query, for either database (markers `?` or
// `$n`).
struct FilterQuery {
  std::string sql;
  std::vector<std::variant<int64_t, std::string>> params;  // in marker order
};
enum class SqlDialect { kSqlite, kPostgres };
// Appends ` WHERE seq > ...` and a condition for everything else in `f`
// but request_id, the order and the limit (which the stores add their own way).
void append_filter(FilterQuery& q, const LogFilter& f, SqlDialect dialect);

// The queries of LogReader::summarize, for either database: each store puts
// its filter (append_filter and its request_id condition) between `select`
// and `tail`. Their rows: buckets (bucket start, outcome, count), rules and
// missing (value, count; most frequent first, at most `top`), bundles (hash,
// first decision time).
struct SummaryQuery {
  std::string select, tail;
};
struct SummaryQueries {
  SummaryQuery buckets, rules, missing, bundles;
};
SummaryQueries summary_queries(int64_t bucket_seconds, size_t top, SqlDialect dialect);
// Adds one row of the buckets query to `s` (its bucket and its totals).
void add_bucket_count(LogSummary& s, int64_t start, std::string_view outcome, uint64_t n);

}  // namespace ethos
