// The SQLite store of the decision log: one file, one chain
// (docs/decision-log.md). Today's default.
#include <algorithm>
#include <unordered_set>

#include <ethos/log/log_migrations.hpp>
#include <ethos/log/log_store.hpp>
#include <ethos/log/sqlite.hpp>

namespace ethos {

using sql::Database;
using sql::Statement;
using sql::StoreError;

namespace {

constexpr char kInsertBundle[] =
    "INSERT OR IGNORE INTO bundles (hash, canonical_text, first_seen) VALUES (?, ?, ?)";
constexpr char kInsertDecision[] =
    "INSERT INTO decisions (id, request_id, time, recorded_at, outcome, bundle, default_module, "
    "request, reasons, obligations, advice, overridden, missing_facts, trace, prev_hash, hash) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
constexpr char kChainHead[] = "SELECT hash FROM decisions ORDER BY seq DESC LIMIT 1";
// The request_id lookup table (schema version 3): rows with seq above the
// mark are not in it yet.
#define ETHOS_REQUEST_IDS_THROUGH                                              \
  "SELECT coalesce(max(CAST(value AS INTEGER)), 0) FROM log_meta WHERE key = " \
  "'request_ids_through'"
constexpr char kRequestIdsThrough[] = ETHOS_REQUEST_IDS_THROUGH;
constexpr char kIndexRequestIds[] =
    "INSERT OR IGNORE INTO request_ids (request_id, seq) SELECT request_id, seq FROM decisions "
    "WHERE seq > ? ORDER BY request_id, seq";
constexpr char kSetRequestIdsThrough[] =
    "INSERT INTO log_meta (key, value) VALUES ('request_ids_through', ?) "
    "ON CONFLICT (key) DO UPDATE SET value = excluded.value";
constexpr char kSelectColumns[] =
    "SELECT seq, id, request_id, time, recorded_at, outcome, bundle, default_module, request, "
    "reasons, obligations, advice, overridden, missing_facts, trace, prev_hash, hash FROM "
    "decisions";
// The two ends of the primary key: SQLite's min()/max() shortcut does not
// apply under a WHERE clause, and a scan of a large log takes a second.
constexpr char kSeqEnds[] =
    "SELECT (SELECT seq FROM decisions ORDER BY seq LIMIT 1), (SELECT seq FROM decisions ORDER BY "
    "seq DESC LIMIT 1)";
constexpr char kSelectBundle[] = "SELECT canonical_text FROM bundles WHERE hash = ?";
constexpr char kSelectBundles[] = "SELECT hash, canonical_text FROM bundles ORDER BY hash";
constexpr char kFindRowByHash[] = "SELECT id FROM decisions WHERE hash = ? LIMIT 1";
constexpr char kDecisionWithoutBundle[] =
    "SELECT d.seq, d.id, d.bundle FROM decisions d LEFT JOIN bundles b ON b.hash = d.bundle "
    "WHERE b.hash IS NULL ORDER BY d.seq LIMIT 1";
// The request_ids table against the rows (schema version 3): a row up to the
// mark without its entry, or an entry that names no row with that request id.
constexpr char kRowWithoutRequestId[] =
    "SELECT d.seq, d.id, d.request_id FROM decisions d WHERE d.seq <= (" ETHOS_REQUEST_IDS_THROUGH
    ") AND NOT EXISTS (SELECT 1 FROM request_ids r WHERE r.request_id = d.request_id AND r.seq = "
    "d.seq) ORDER BY d.seq LIMIT 1";
constexpr char kRequestIdWithoutRow[] =
    "SELECT r.seq, r.request_id FROM request_ids r WHERE NOT EXISTS (SELECT 1 FROM decisions d "
    "WHERE d.seq = r.seq AND d.request_id = r.request_id) ORDER BY r.seq LIMIT 1";
constexpr char kSelectKeyId[] = "SELECT value FROM log_meta WHERE key = 'key_id'";
constexpr char kInsertKeyId[] = "INSERT INTO log_meta (key, value) VALUES ('key_id', ?)";
// Schema version 4.
constexpr char kCheckpointColumns[] =
    "SELECT chain, seq, head, time, log_key_id, key_id, signature FROM checkpoints";
constexpr char kInsertCheckpoint[] =
    "INSERT INTO checkpoints (chain, seq, head, time, log_key_id, key_id, signature) VALUES (?, ?, "
    "?, ?, ?, ?, ?)";
constexpr char kTip[] = "SELECT seq, hash FROM decisions ORDER BY seq DESC LIMIT 1";

void read_checkpoint(const Statement& s, Checkpoint& c) {
  c.chain.assign(s.column_text(0));
  c.seq = s.column_int(1);
  c.head.assign(s.column_text(2));
  c.time = s.column_int(3);
  c.log_key_id.assign(s.column_text(4));
  c.key_id.assign(s.column_text(5));
  c.signature.assign(s.column_text(6));
}

ChainTip read_tip(Database& db) {
  Statement s(db, kTip);
  if (!s.step()) return {"", 0, std::string(kGenesisHash)};
  return {"", s.column_int(0), std::string(s.column_text(1))};
}

void read_entry(const Statement& s, LogEntry& e) {
  e.seq = s.column_int(0);
  e.id.assign(s.column_text(1));
  e.request_id.assign(s.column_text(2));
  e.time = s.column_int(3);
  e.recorded_at = s.column_int(4);
  e.decision.outcome.assign(s.column_text(5));
  e.bundle.assign(s.column_text(6));
  e.decision.default_module.assign(s.column_text(7));
  e.request.assign(s.column_text(8));
  e.decision.reasons.assign(s.column_text(9));
  e.decision.obligations.assign(s.column_text(10));
  e.decision.advice.assign(s.column_text(11));
  e.decision.overridden.assign(s.column_text(12));
  e.decision.missing_facts.assign(s.column_text(13));
  e.decision.trace.assign(s.column_text(14));
  e.prev_hash.assign(s.column_text(15));
  e.hash.assign(s.column_text(16));
}

// The one place where a connection gets its settings (docs/decision-log.md).
void configure(Database& db, const LogOptions& options, bool writer) {
  db.set_busy_timeout(options.busy_timeout_ms);
  if (!writer) return;
  // 16 KiB pages hold a dozen decisions each (a row is about 1 KB): fewer
  // page splits and b-tree levels than 4 KiB. Only a new file takes it.
  db.exec("PRAGMA page_size = 16384");
  std::string mode = db.query_text("PRAGMA journal_mode = WAL");
  if (mode != "wal")
    throw StoreError("`" + db.path() + "`: cannot switch the log to WAL mode (got `" + mode + "`)");
  // FULL: each commit syncs the WAL, so a decision reported as recorded
  // survives a power cut as well as a crash. Group commit pays one fsync per
  // batch, not per decision.
  db.exec("PRAGMA synchronous = FULL");
  db.exec("PRAGMA foreign_keys = ON");
  // 64 MiB of page cache: the ends of the indexes stay in memory as the log grows.
  db.exec("PRAGMA cache_size = -65536");
  if (options.max_page_count > 0)
    db.exec("PRAGMA max_page_count = " + std::to_string(options.max_page_count));
}

// `request_table`: the log has the request_ids table (schema version 3);
// older logs have an index on decisions.request_id instead.
FilterQuery filter_query(std::string select, const LogFilter& f, bool order, bool request_table) {
  FilterQuery q;
  q.sql = std::move(select);
  append_filter(q, f, SqlDialect::kSqlite);
  if (f.request_id && request_table) {
    // The table, and the rows the writer has not added to it yet.
    q.sql +=
        " AND seq IN (SELECT seq FROM request_ids WHERE request_id = ? UNION ALL SELECT seq FROM "
        "decisions WHERE seq > (";
    q.sql += kRequestIdsThrough;
    q.sql += ") AND request_id = ?)";
    q.params.emplace_back(*f.request_id);
    q.params.emplace_back(*f.request_id);
  } else if (f.request_id) {
    q.sql += " AND request_id = ?";
    q.params.emplace_back(*f.request_id);
  }
  if (order) q.sql += f.newest_first ? " ORDER BY seq DESC" : " ORDER BY seq";
  if (f.limit) q.sql += " LIMIT " + std::to_string(f.limit);
  return q;
}

void bind_query(Statement& s, const FilterQuery& q) {
  int i = 0;
  for (const auto& p : q.params) {
    ++i;
    if (const auto* n = std::get_if<int64_t>(&p))
      s.bind(i, *n);
    else
      s.bind(i, std::get<std::string>(p));
  }
}

// The writer's own connection and statements; used only by the writer thread.
class SqliteAppender final : public LogAppender {
 public:
  SqliteAppender(const std::string& path, const LogOptions& options)
      : options_(options),
        db_(open(path, options)),
        insert_bundle_(db_, kInsertBundle),
        insert_decision_(db_, kInsertDecision),
        head_(db_, kChainHead),
        request_ids_through_(db_, kRequestIdsThrough),
        index_request_ids_(db_, kIndexRequestIds),
        set_request_ids_through_(db_, kSetRequestIdsThrough) {}

  void append(std::vector<AppendRow>& rows) override { insert(rows, false); }
  void append_copied(std::vector<AppendRow>& rows) override { insert(rows, true); }

  const std::string& chain() const override { return chain_; }

  ChainState chain_state(size_t rows) override {
    ChainState st;
    Statement s(db_, std::string(kSelectColumns) + " ORDER BY seq DESC LIMIT " +
                         std::to_string(std::max<size_t>(rows, 1)));
    LogEntry e;
    while (s.step()) {
      read_entry(s, e);
      st.tail.insert(st.tail.begin(), e);
    }
    st.known_through = db_.query_int(kRequestIdsThrough);
    Statement c(db_, std::string(kCheckpointColumns) + " ORDER BY id DESC LIMIT 1");
    if (c.step()) read_checkpoint(c, st.checkpoint.emplace());
    return st;
  }

  std::optional<LogEntry> row_at(int64_t seq) override {
    Statement s(db_, std::string(kSelectColumns) + " WHERE seq = ?");
    s.bind(1, seq);
    if (!s.step()) return std::nullopt;
    LogEntry e;
    read_entry(s, e);
    return e;
  }

  ChainTip tip() override { return read_tip(db_); }

  void store_checkpoint(const Checkpoint& c) override {
    sql::Transaction txn(db_);
    Statement s(db_, kInsertCheckpoint);
    s.bind(1, c.chain);
    s.bind(2, c.seq);
    s.bind(3, c.head);
    s.bind(4, c.time);
    s.bind(5, c.log_key_id);
    s.bind(6, c.key_id);
    s.bind(7, c.signature);
    s.run();
    txn.commit();
  }

 private:
  void insert(std::vector<AppendRow>& rows, bool copied) {
    sql::Transaction txn(db_);
    // Read the head inside the write lock: another process may have appended.
    std::string prev(kGenesisHash);
    if (head_.step()) prev.assign(head_.column_text(0));
    head_.reset();
    std::vector<const std::string*> new_bundles;
    int64_t now = now_ms();
    try {
      for (auto& row : rows) {
        if (!known_bundles_.count(*row.bundle_hash)) {
          insert_bundle_.bind(1, *row.bundle_hash);
          insert_bundle_.bind(2, *row.bundle_text);
          insert_bundle_.bind(3, now);
          insert_bundle_.run();
          known_bundles_.insert(*row.bundle_hash);
          new_bundles.push_back(row.bundle_hash);
        }
        LogEntry& e = *row.entry;
        if (!copied) {
          e.prev_hash = prev;
          e.hash = chain_hash(prev, *row.content_hash);
        } else if (e.prev_hash != prev) {
          throw StoreError("`" + db_.path() + "`: decision `" + e.id +
                           "` does not follow the head of this log's chain (is it empty?)");
        }
        Statement& s = insert_decision_;
        s.bind(1, e.id);
        s.bind(2, e.request_id);
        s.bind(3, e.time);
        s.bind(4, e.recorded_at);
        s.bind(5, e.decision.outcome);
        s.bind(6, e.bundle);
        s.bind(7, e.decision.default_module);
        s.bind(8, e.request);
        s.bind(9, e.decision.reasons);
        s.bind(10, e.decision.obligations);
        s.bind(11, e.decision.advice);
        s.bind(12, e.decision.overridden);
        s.bind(13, e.decision.missing_facts);
        s.bind(14, e.decision.trace);
        s.bind(15, e.prev_hash);
        s.bind(16, e.hash);
        s.run();
        prev = e.hash;
      }
      index_request_ids();
      txn.commit();
    } catch (...) {
      for (const auto* h : new_bundles) known_bundles_.erase(*h);
      throw;
    }
  }

  static Database open(const std::string& path, const LogOptions& options) {
    Database d(path, sql::OpenMode::kReadWrite);
    configure(d, options, true);
    return d;
  }

  // Once request_index_every decisions are not in the request_id table, adds
  // them, sorted, so that they share its pages (one page written per batch
  // and key range, not one per decision). Inside the commit's transaction:
  // the table and its mark move together with the rows.
  void index_request_ids() {
    int64_t last = db_.last_insert_rowid();
    int64_t through = request_ids_through_.step() ? request_ids_through_.column_int(0) : 0;
    request_ids_through_.reset();
    if (last - through < std::max(options_.request_index_every, 1)) return;
    index_request_ids_.bind(1, through);
    index_request_ids_.run();
    set_request_ids_through_.bind(1, last);  // stored as text: the column has TEXT affinity
    set_request_ids_through_.run();
  }

  LogOptions options_;
  std::string chain_;  // SQLite logs have one chain, named ""
  Database db_;
  Statement insert_bundle_;
  Statement insert_decision_;
  Statement head_;
  Statement request_ids_through_, index_request_ids_, set_request_ids_through_;
  std::unordered_set<std::string> known_bundles_;
};

class SqliteReader final : public LogReader {
 public:
  SqliteReader(const std::string& path, const LogOptions& options)
      : path_(path),
        db_(path, options.read_only ? sql::OpenMode::kRead : sql::OpenMode::kReadWrite) {
    configure(db_, options, false);
    // Identify the file before any pragma writes to it.
    version_ = log_schema::check_identity(db_, path_);
    if (options.read_only) return;
    if (db_.read_only())
      throw StoreError("`" + path_ + "` is read-only: decisions cannot be recorded in it",
                       sql::kReadOnly, sql::kReadOnly);
    if (!options.key)
      throw StoreError("`" + path_ + "`: recording needs a key to pseudonymise the log");
    configure(db_, options, true);
    version_ = log_schema::migrate(db_);
    check_key(options.key->id);
  }

  int schema_version() const override { return version_; }

  uint64_t count(const LogFilter& filter) override {
    LogFilter f = filter;
    f.limit = 0;
    FilterQuery q = filter_query("SELECT count(*) FROM decisions", f, false, version_ >= 3);
    Statement s(db_, q.sql);
    bind_query(s, q);
    uint64_t n = s.step() ? static_cast<uint64_t>(s.column_int(0)) : 0;
    return filter.limit ? std::min<uint64_t>(n, filter.limit) : n;
  }

  std::pair<int64_t, int64_t> seq_range(const LogFilter& filter) override {
    LogFilter f = filter;
    f.limit = 0;
    f.newest_first = false;
    bool unfiltered = !f.from && !f.to && !f.outcome && !f.rule && !f.request_id && !f.module &&
                      !f.missing && f.after_seq == 0 && f.before_seq == 0;
    FilterQuery q = unfiltered ? FilterQuery{kSeqEnds, {}}
                               : filter_query("SELECT min(seq), max(seq) FROM decisions", f, false,
                                              version_ >= 3);
    Statement s(db_, q.sql);
    bind_query(s, q);
    if (!s.step() || s.column_is_null(0)) return {0, 0};
    return {s.column_int(0), s.column_int(1)};
  }

  void scan(const LogFilter& filter, const std::function<bool(const LogEntry&)>& visit) override {
    FilterQuery q = filter_query(kSelectColumns, filter, true, version_ >= 3);
    Statement s(db_, q.sql);
    bind_query(s, q);
    LogEntry e;
    while (s.step()) {
      read_entry(s, e);
      if (!visit(e)) break;
    }
  }

  LogSummary summarize(const LogFilter& filter, int64_t bucket_seconds, size_t top) override {
    LogFilter f = filter;
    f.limit = 0;
    SummaryQueries sq = summary_queries(bucket_seconds, top, SqlDialect::kSqlite);
    auto run = [&](const SummaryQuery& part, const std::function<void(const Statement&)>& row) {
      FilterQuery q = filter_query(part.select, f, false, version_ >= 3);
      q.sql += part.tail;
      Statement s(db_, q.sql);
      bind_query(s, q);
      while (s.step()) row(s);
    };
    LogSummary out;
    run(sq.buckets, [&](const Statement& s) {
      add_bucket_count(out, s.column_int(0), s.column_text(1),
                       static_cast<uint64_t>(s.column_int(2)));
    });
    auto top_of = [&](std::vector<std::pair<std::string, uint64_t>>& into) {
      return [&into](const Statement& s) {
        into.emplace_back(std::string(s.column_text(0)), static_cast<uint64_t>(s.column_int(1)));
      };
    };
    run(sq.rules, top_of(out.top_rules));
    run(sq.missing, top_of(out.top_missing));
    run(sq.bundles, [&](const Statement& s) {
      out.bundles.emplace_back(std::string(s.column_text(0)), s.column_int(1));
    });
    return out;
  }

  std::optional<LogEntry> find(std::string_view decision_id) override {
    Statement s(db_, std::string(kSelectColumns) + " WHERE id = ?");
    s.bind(1, decision_id);
    if (!s.step()) return std::nullopt;
    LogEntry e;
    read_entry(s, e);
    return e;
  }

  std::optional<std::string> bundle_text(std::string_view hash) override {
    Statement s(db_, kSelectBundle);
    s.bind(1, hash);
    if (!s.step()) return std::nullopt;
    return std::string(s.column_text(0));
  }

  void bundles(const std::function<void(std::string_view, std::string_view)>& visit) override {
    Statement s(db_, kSelectBundles);
    while (s.step()) visit(s.column_text(0), s.column_text(1));
  }

  std::string key_id() override {
    if (version_ < 2) return {};
    return db_.query_text(kSelectKeyId);
  }

  VerifyReport verify(const std::function<void(uint64_t, uint64_t)>& progress) override;

  std::vector<Checkpoint> checkpoints() override {
    std::vector<Checkpoint> out;
    if (version_ < 4) return out;
    Statement s(db_, std::string(kCheckpointColumns) + " ORDER BY id");
    while (s.step()) read_checkpoint(s, out.emplace_back());
    return out;
  }

  std::vector<ChainTip> tips() override { return {read_tip(db_)}; }

 private:
  void check_key(const std::string& id) {
    if (id.empty()) return;  // a copy of a log from before key ids
    sql::Transaction txn(db_);
    std::string stored = db_.query_text(kSelectKeyId);
    if (stored.empty()) {
      Statement s(db_, kInsertKeyId);
      s.bind(1, id);
      s.run();
    } else if (stored != id) {
      throw StoreError("`" + path_ + "` is pseudonymised with key `" + stored +
                       "`, not with the given key `" + id +
                       "`: use the key this log was started with");
    }
    txn.commit();
  }

  std::string path_;
  Database db_;
  int version_ = 0;
};

VerifyReport SqliteReader::verify(const std::function<void(uint64_t, uint64_t)>& progress) {
  VerifyReport r;
  uint64_t total = count({});
  Statement rows(db_, std::string(kSelectColumns) + " ORDER BY seq");
  Statement by_hash(db_, kFindRowByHash);
  ChainWalk walk([&](const std::string& hash) {
    by_hash.bind(1, hash);
    std::string id = by_hash.step() ? std::string(by_hash.column_text(0)) : std::string();
    by_hash.reset();
    return id;
  });
  LogEntry e;
  // Schema 3: how many rows the request_ids table should list.
  const bool request_table = version_ >= 3;
  const int64_t request_ids_through = request_table ? db_.query_int(kRequestIdsThrough) : 0;
  uint64_t rows_through_mark = 0;
  while (rows.step()) {
    read_entry(rows, e);
    ++r.decisions;
    if (e.seq <= request_ids_through) ++rows_through_mark;
    if (progress && r.decisions % 8192 == 0) progress(r.decisions, total);
    if (r.first_break) continue;  // keep counting; the first break is the one reported
    r.first_break = walk.next(e);
  }
  r.head = walk.head();
  r.chains.push_back({"", r.decisions, r.head});
  if (progress) progress(r.decisions, total);
  if (r.first_break) return r;
  Statement missing(db_, kDecisionWithoutBundle);
  if (missing.step()) {
    r.first_break =
        missing_bundle_break(missing.column_int(0), missing.column_text(1), missing.column_text(2));
    return r;
  }
  bundles([&](std::string_view hash, std::string_view text) {
    ++r.bundles;
    if (!r.first_break) r.first_break = check_bundle_text(hash, text);
  });
  if (r.first_break || !request_table) return r;
  // The chain does not cover the request_ids table, but lookups by request id
  // depend on it: an entry removed or changed would hide a decision from them.
  Statement unlisted(db_, kRowWithoutRequestId);
  if (unlisted.step()) {
    std::string id(unlisted.column_text(1));
    r.first_break =
        ChainBreak{ChainBreak::Kind::kRequestIdsAltered, unlisted.column_int(0), id,
                   "decision `" + id + "` (row " + std::to_string(unlisted.column_int(0)) +
                       ") is missing from the request_ids table under request id `" +
                       std::string(unlisted.column_text(2)) + "`"};
    return r;
  }
  // Every row up to the mark has its own entry; any entry beyond those is stray.
  if (static_cast<uint64_t>(db_.query_int("SELECT count(*) FROM request_ids")) <= rows_through_mark)
    return r;
  Statement stray(db_, kRequestIdWithoutRow);
  if (stray.step())
    r.first_break =
        ChainBreak{ChainBreak::Kind::kRequestIdsAltered,
                   stray.column_int(0),
                   {},
                   "the request_ids table lists request id `" + std::string(stray.column_text(1)) +
                       "` at row " + std::to_string(stray.column_int(0)) +
                       ", which holds no decision with that request id"};
  return r;
}

}  // namespace

LogStores open_sqlite_stores(const std::string& path, const LogOptions& options) {
  LogStores s;
  s.reader = std::make_unique<SqliteReader>(path, options);
  if (!options.read_only) s.appender = std::make_unique<SqliteAppender>(path, options);
  return s;
}

}  // namespace ethos
