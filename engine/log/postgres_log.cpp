// The PostgreSQL store of the decision log: one database shared by several
// nodes, one hash chain per node (docs/decision-log.md, "Several nodes").
#include <unistd.h>

#include <algorithm>
#include <optional>
#include <unordered_set>

#include <ethos/log/log_store.hpp>
#include <ethos/log/postgres.hpp>

namespace ethos {

using sql::StoreError;

namespace {

constexpr int kPgSchemaVersion = 2;
// pg_advisory_xact_lock key that serialises migrations ("ETHO").
constexpr char kMigrationLock[] = "SELECT pg_advisory_xact_lock(1163150415)";
constexpr char kMigration1[] = R"sql(
CREATE TABLE log_meta (
  key   text NOT NULL PRIMARY KEY,
  value text NOT NULL
);
CREATE TABLE bundles (
  hash           text   NOT NULL PRIMARY KEY,  -- "sha256:<hex>" of canonical_text
  canonical_text text   NOT NULL,
  first_seen     bigint NOT NULL                -- unix milliseconds
);
CREATE TABLE chains (
  chain      text   NOT NULL PRIMARY KEY,       -- a node id
  created_at bigint NOT NULL                    -- unix milliseconds
);
CREATE TABLE decisions (
  seq            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,  -- order across every chain
  chain          text   NOT NULL,
  id             text   NOT NULL UNIQUE,
  request_id     text   NOT NULL,
  time           bigint NOT NULL,
  recorded_at    bigint NOT NULL,
  outcome        text   NOT NULL CHECK (outcome IN ('permit', 'deny', 'escalate')),
  bundle         text   NOT NULL REFERENCES bundles (hash),
  default_module text   NOT NULL,
  request        text   NOT NULL,
  reasons        text   NOT NULL,
  obligations    text   NOT NULL,
  advice         text   NOT NULL,
  overridden     text   NOT NULL,
  missing_facts  text   NOT NULL,
  trace          text   NOT NULL,
  prev_hash      text   NOT NULL,
  hash           text   NOT NULL,
  -- A chain cannot fork: two rows never follow the same row.
  CONSTRAINT decisions_chain_link UNIQUE (chain, prev_hash)
);
CREATE INDEX decisions_by_chain ON decisions (chain, seq);
CREATE INDEX decisions_by_time ON decisions (time);
CREATE INDEX decisions_by_request ON decisions (request_id);
INSERT INTO log_meta (key, value) VALUES ('application', 'ethos decision log');
)sql";

// Version 2: signed checkpoints of each chain's head (docs/decision-log.md, "Checkpoints").
constexpr char kMigration2[] = R"sql(
CREATE TABLE checkpoints (
  id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  chain      text   NOT NULL,  -- a node id
  seq        bigint NOT NULL,  -- the chain's last row when signed
  head       text   NOT NULL,  -- that row's hash
  time       bigint NOT NULL,  -- when signed, unix seconds
  log_key_id text   NOT NULL,  -- log_meta's key_id then
  key_id     text   NOT NULL,  -- the signing key's id
  signature  text   NOT NULL   -- Ed25519, hex
);
CREATE INDEX checkpoints_by_chain ON checkpoints (chain, id);
INSERT INTO log_meta (key, value) VALUES ('schema', '2')
  ON CONFLICT (key) DO UPDATE SET value = excluded.value;
)sql";
constexpr char kCheckpointColumns[] =
    "SELECT chain, seq, head, time, log_key_id, key_id, signature FROM checkpoints";

void read_checkpoint(const pg::Result& r, int i, Checkpoint& c) {
  c.chain.assign(r.text(i, 0));
  c.seq = r.integer(i, 1);
  c.head.assign(r.text(i, 2));
  c.time = r.integer(i, 3);
  c.log_key_id.assign(r.text(i, 4));
  c.key_id.assign(r.text(i, 5));
  c.signature.assign(r.text(i, 6));
}

constexpr char kColumns[] =
    "seq, id, request_id, time, recorded_at, outcome, bundle, default_module, request, reasons, "
    "obligations, advice, overridden, missing_facts, trace, prev_hash, hash, chain";
constexpr int kInsertColumns = 17;
constexpr char kInsertColumnList[] =
    "INSERT INTO decisions (chain, id, request_id, time, recorded_at, outcome, bundle, "
    "default_module, request, reasons, obligations, advice, overridden, missing_facts, trace, "
    "prev_hash, hash) VALUES ";
// Rows per INSERT: 17 parameters each, within the protocol's 65535.
constexpr size_t kRowsPerInsert = 1000;
constexpr int kPageRows = 2000;
// Inserts of up to this many rows are prepared once per size and session.
constexpr size_t kPreparedRows = 64;

void read_entry(const pg::Result& r, int i, LogEntry& e) {
  e.seq = r.integer(i, 0);
  e.id.assign(r.text(i, 1));
  e.request_id.assign(r.text(i, 2));
  e.time = r.integer(i, 3);
  e.recorded_at = r.integer(i, 4);
  e.decision.outcome.assign(r.text(i, 5));
  e.bundle.assign(r.text(i, 6));
  e.decision.default_module.assign(r.text(i, 7));
  e.request.assign(r.text(i, 8));
  e.decision.reasons.assign(r.text(i, 9));
  e.decision.obligations.assign(r.text(i, 10));
  e.decision.advice.assign(r.text(i, 11));
  e.decision.overridden.assign(r.text(i, 12));
  e.decision.missing_facts.assign(r.text(i, 13));
  e.decision.trace.assign(r.text(i, 14));
  e.prev_hash.assign(r.text(i, 15));
  e.hash.assign(r.text(i, 16));
  e.chain.assign(r.text(i, 17));
}

std::vector<std::string_view> views(const std::vector<std::string>& v) {
  return {v.begin(), v.end()};
}

FilterQuery filter_query(const std::string& select, const LogFilter& f) {
  FilterQuery q;
  q.sql = select;
  append_filter(q, f, SqlDialect::kPostgres);
  if (f.request_id) {
    q.params.emplace_back(*f.request_id);
    q.sql += " AND request_id = $" + std::to_string(q.params.size());
  }
  return q;
}

std::vector<std::string> param_texts(const FilterQuery& q) {
  std::vector<std::string> out;
  for (const auto& p : q.params)
    out.push_back(std::holds_alternative<int64_t>(p) ? std::to_string(std::get<int64_t>(p))
                                                     : std::get<std::string>(p));
  return out;
}

// The version of the log in `c`'s database, after checking that it is an
// ethos log (or holds none yet: 0). Throws StoreError.
int check_identity(pg::Connection& c) {
  pg::Result t =
      c.exec("SELECT to_regclass('log_meta') IS NOT NULL, to_regclass('decisions') IS NOT NULL");
  bool meta = t.text(0, 0) == "t", decisions = t.text(0, 1) == "t";
  if (!meta && !decisions) return 0;
  std::string app, version;
  if (meta) {
    pg::Result m = c.exec("SELECT key, value FROM log_meta WHERE key IN ('application', 'schema')");
    for (int i = 0; i < m.rows(); ++i)
      (m.text(i, 0) == "application" ? app : version).assign(m.text(i, 1));
  }
  if (app != "ethos decision log")
    throw StoreError("`" + c.location() +
                     "` holds tables that are not an ethos decision log: give ethos a database of "
                     "its own");
  int v = version.empty() ? 1 : std::stoi(version);
  if (v > kPgSchemaVersion)
    throw StoreError("`" + c.location() + "` was written by a newer ethos (log schema version " +
                     std::to_string(v) + "; this ethos knows versions up to " +
                     std::to_string(kPgSchemaVersion) + "): upgrade ethos to open it");
  return v;
}

int migrate(pg::Connection& c) {
  pg::Transaction txn(c);
  c.exec(kMigrationLock);  // two nodes starting at once: one creates, the other sees it
  int v = check_identity(c);
  if (v < 1) {
    c.exec(kMigration1);
    c.exec("INSERT INTO log_meta (key, value) VALUES ('schema', '1')");
    v = 1;
  }
  if (v < 2) {
    c.exec(kMigration2);
    v = 2;
  }
  txn.commit();
  return v;
}

class PostgresReader final : public LogReader {
 public:
  PostgresReader(const std::string& url, const LogOptions& options) : c_(url) {
    if (options.read_only) {
      c_.exec("SET default_transaction_read_only = on");
      version_ = check_identity(c_);
      if (version_ == 0)
        throw StoreError("`" + c_.location() + "` holds no ethos decision log yet");
      return;
    }
    if (!options.key)
      throw StoreError("`" + c_.location() + "`: recording needs a key to pseudonymise the log");
    version_ = migrate(c_);
    check_key(options.key->id);
  }

  int schema_version() const override { return version_; }

  uint64_t count(const LogFilter& filter) override {
    ensure();
    LogFilter f = filter;
    f.limit = 0;
    FilterQuery q = filter_query("SELECT count(*) FROM decisions", f);
    auto params = param_texts(q);
    uint64_t n = static_cast<uint64_t>(c_.exec(q.sql, views(params)).integer(0, 0));
    return filter.limit ? std::min<uint64_t>(n, filter.limit) : n;
  }

  std::pair<int64_t, int64_t> seq_range(const LogFilter& filter) override {
    ensure();
    LogFilter f = filter;
    f.limit = 0;
    FilterQuery q = filter_query("SELECT min(seq), max(seq) FROM decisions", f);
    auto params = param_texts(q);
    pg::Result r = c_.exec(q.sql, views(params));
    if (r.rows() == 0 || r.is_null(0, 0)) return {0, 0};
    return {r.integer(0, 0), r.integer(0, 1)};
  }

  // In pages by seq, so that a large log is never read into memory at once.
  void scan(const LogFilter& filter, const std::function<bool(const LogEntry&)>& visit) override {
    ensure();
    LogFilter f = filter;
    size_t left = filter.limit;
    LogEntry e;
    for (;;) {
      FilterQuery q = filter_query(std::string("SELECT ") + kColumns + " FROM decisions", f);
      size_t page = left ? std::min<size_t>(left, kPageRows) : kPageRows;
      q.sql += f.newest_first ? " ORDER BY seq DESC LIMIT " : " ORDER BY seq LIMIT ";
      q.sql += std::to_string(page);
      auto params = param_texts(q);
      pg::Result r = c_.exec(q.sql, views(params));
      for (int i = 0; i < r.rows(); ++i) {
        read_entry(r, i, e);
        if (!visit(e)) return;
      }
      if (static_cast<size_t>(r.rows()) < page) return;
      (f.newest_first ? f.before_seq : f.after_seq) = e.seq;
      if (left && (left -= page) == 0) return;
    }
  }

  LogSummary summarize(const LogFilter& filter, int64_t bucket_seconds, size_t top) override {
    ensure();
    LogFilter f = filter;
    f.limit = 0;
    SummaryQueries sq = summary_queries(bucket_seconds, top, SqlDialect::kPostgres);
    // One snapshot: the four queries count the same rows.
    pg::Transaction txn(c_);
    c_.exec("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY");
    auto run = [&](const SummaryQuery& part) {
      FilterQuery q = filter_query(part.select, f);
      q.sql += part.tail;
      auto params = param_texts(q);
      return c_.exec(q.sql, views(params));
    };
    LogSummary out;
    pg::Result buckets = run(sq.buckets);
    for (int i = 0; i < buckets.rows(); ++i)
      add_bucket_count(out, buckets.integer(i, 0), buckets.text(i, 1),
                       static_cast<uint64_t>(buckets.integer(i, 2)));
    for (auto [part, into] :
         {std::pair{&sq.rules, &out.top_rules}, std::pair{&sq.missing, &out.top_missing}}) {
      pg::Result r = run(*part);
      for (int i = 0; i < r.rows(); ++i)
        into->emplace_back(std::string(r.text(i, 0)), static_cast<uint64_t>(r.integer(i, 1)));
    }
    pg::Result bundles = run(sq.bundles);
    for (int i = 0; i < bundles.rows(); ++i)
      out.bundles.emplace_back(std::string(bundles.text(i, 0)), bundles.integer(i, 1));
    txn.commit();
    return out;
  }

  std::optional<LogEntry> find(std::string_view decision_id) override {
    ensure();
    pg::Result r =
        c_.exec(std::string("SELECT ") + kColumns + " FROM decisions WHERE id = $1", {decision_id});
    if (r.rows() == 0) return std::nullopt;
    LogEntry e;
    read_entry(r, 0, e);
    return e;
  }

  std::optional<std::string> bundle_text(std::string_view hash) override {
    ensure();
    pg::Result r = c_.exec("SELECT canonical_text FROM bundles WHERE hash = $1", {hash});
    if (r.rows() == 0) return std::nullopt;
    return std::string(r.text(0, 0));
  }

  void bundles(const std::function<void(std::string_view, std::string_view)>& visit) override {
    ensure();
    pg::Result r = c_.exec("SELECT hash, canonical_text FROM bundles ORDER BY hash");
    for (int i = 0; i < r.rows(); ++i) visit(r.text(i, 0), r.text(i, 1));
  }

  std::string key_id() override {
    ensure();
    pg::Result r = c_.exec("SELECT value FROM log_meta WHERE key = 'key_id'");
    return r.rows() ? std::string(r.text(0, 0)) : std::string();
  }

  VerifyReport verify(const std::function<void(uint64_t, uint64_t)>& progress) override;

  std::vector<Checkpoint> checkpoints() override {
    ensure();
    std::vector<Checkpoint> out;
    if (version_ < 2) return out;
    pg::Result r = c_.exec(std::string(kCheckpointColumns) + " ORDER BY id");
    for (int i = 0; i < r.rows(); ++i) read_checkpoint(r, i, out.emplace_back());
    return out;
  }

  std::vector<ChainTip> tips() override {
    ensure();
    // The chains table lists a chain from its writer's start, before its first row.
    pg::Result r = c_.exec(
        "SELECT c.chain, d.seq, d.hash FROM (SELECT chain FROM chains UNION SELECT DISTINCT chain "
        "FROM decisions) c LEFT JOIN LATERAL (SELECT seq, hash FROM decisions WHERE chain = "
        "c.chain ORDER BY seq DESC LIMIT 1) d ON true ORDER BY c.chain COLLATE \"C\"");
    std::vector<ChainTip> out;
    for (int i = 0; i < r.rows(); ++i)
      out.push_back(
          r.is_null(i, 1)
              ? ChainTip{std::string(r.text(i, 0)), 0, std::string(kGenesisHash)}
              : ChainTip{std::string(r.text(i, 0)), r.integer(i, 1), std::string(r.text(i, 2))});
    return out;
  }

 private:
  // After the server restarted, the next read reconnects.
  void ensure() {
    if (!c_.ok()) c_.reset();
  }

  void check_key(const std::string& id) {
    if (id.empty()) return;  // a copy of a log from before key ids
    pg::Transaction txn(c_);
    c_.exec(kMigrationLock);
    std::string stored = key_id();
    if (stored.empty())
      c_.exec("INSERT INTO log_meta (key, value) VALUES ('key_id', $1)", {id});
    else if (stored != id)
      throw StoreError("`" + c_.location() + "` is pseudonymised with key `" + stored +
                       "`, not with the given key `" + id +
                       "`: use the key this log was started with");
    txn.commit();
  }

  pg::Connection c_;
  int version_ = 0;
};

VerifyReport PostgresReader::verify(const std::function<void(uint64_t, uint64_t)>& progress) {
  ensure();
  VerifyReport r;
  // One snapshot: rows appended while it runs are not half seen.
  pg::Transaction txn(c_);
  c_.exec("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY");
  uint64_t total = static_cast<uint64_t>(c_.exec("SELECT count(*) FROM decisions").integer(0, 0));
  pg::Result chains = c_.exec("SELECT DISTINCT chain FROM decisions ORDER BY chain");
  const std::string page_sql = std::string("SELECT ") + kColumns +
                               " FROM decisions WHERE chain = $1 AND seq > $2 ORDER BY seq LIMIT " +
                               std::to_string(kPageRows);
  LogEntry e;
  for (int c = 0; c < chains.rows(); ++c) {
    std::string chain(chains.text(c, 0));
    ChainWalk walk([&](const std::string& hash) {
      pg::Result f = c_.exec("SELECT id FROM decisions WHERE hash = $1 LIMIT 1", {hash});
      return f.rows() ? std::string(f.text(0, 0)) : std::string();
    });
    ChainHead head{chain, 0, {}};
    int64_t after = 0;
    for (;;) {
      std::string after_text = std::to_string(after);
      pg::Result page = c_.exec(page_sql, {chain, after_text});
      for (int i = 0; i < page.rows(); ++i) {
        read_entry(page, i, e);
        ++r.decisions;
        ++head.decisions;
        if (progress && r.decisions % 8192 == 0) progress(r.decisions, total);
        if (r.first_break) continue;
        r.first_break = walk.next(e);
      }
      if (page.rows() < kPageRows) break;
      after = e.seq;
    }
    head.head = walk.head();
    r.head = head.head;
    r.chains.push_back(std::move(head));
  }
  if (r.chains.empty()) r.head = std::string(kGenesisHash);
  if (progress) progress(r.decisions, total);
  if (r.first_break) return r;
  pg::Result missing = c_.exec(
      "SELECT d.seq, d.id, d.bundle FROM decisions d LEFT JOIN bundles b ON b.hash = d.bundle "
      "WHERE b.hash IS NULL ORDER BY d.seq LIMIT 1");
  if (missing.rows()) {
    r.first_break =
        missing_bundle_break(missing.integer(0, 0), missing.text(0, 1), missing.text(0, 2));
    return r;
  }
  bundles([&](std::string_view hash, std::string_view text) {
    ++r.bundles;
    if (!r.first_break) r.first_break = check_bundle_text(hash, text);
  });
  txn.commit();
  return r;
}

// The writer of one node's chain. It holds a session advisory lock on the
// chain for as long as its connection lives: a second process with the same
// node id is refused, and the lock goes with the connection when the
// process dies.
class PostgresAppender final : public LogAppender {
 public:
  PostgresAppender(const std::string& url, std::string chain) : c_(url), chain_(std::move(chain)) {
    lock_chain();
    c_.exec("INSERT INTO chains (chain, created_at) VALUES ($1, $2) ON CONFLICT (chain) DO NOTHING",
            {chain_, std::to_string(now_ms())});
  }

  void append(std::vector<AppendRow>& rows) override { write(rows, false); }
  void append_copied(std::vector<AppendRow>& rows) override { write(rows, true); }

  const std::string& chain() const override { return chain_; }

  ChainState chain_state(size_t rows) override {
    reconnect_if_lost();
    ChainState st;
    pg::Result r = c_.exec(std::string("SELECT ") + kColumns +
                               " FROM decisions WHERE chain = $1 ORDER BY seq DESC LIMIT " +
                               std::to_string(std::max<size_t>(rows, 1)),
                           {chain_});
    for (int i = r.rows() - 1; i >= 0; --i) read_entry(r, i, st.tail.emplace_back());
    pg::Result c = c_.exec(
        std::string(kCheckpointColumns) + " WHERE chain = $1 ORDER BY id DESC LIMIT 1", {chain_});
    if (c.rows()) read_checkpoint(c, 0, st.checkpoint.emplace());
    return st;
  }

  std::optional<LogEntry> row_at(int64_t seq) override {
    reconnect_if_lost();
    std::string n = std::to_string(seq);
    pg::Result r =
        c_.exec(std::string("SELECT ") + kColumns + " FROM decisions WHERE seq = $1 AND chain = $2",
                {n, chain_});
    if (r.rows() == 0) return std::nullopt;
    LogEntry e;
    read_entry(r, 0, e);
    return e;
  }

  ChainTip tip() override {
    reconnect_if_lost();
    pg::Result r = c_.exec(
        "SELECT seq, hash FROM decisions WHERE chain = $1 ORDER BY seq DESC LIMIT 1", {chain_});
    if (r.rows() == 0) return {chain_, 0, std::string(kGenesisHash)};
    return {chain_, r.integer(0, 0), std::string(r.text(0, 1))};
  }

  void store_checkpoint(const Checkpoint& c) override {
    reconnect_if_lost();
    std::string seq = std::to_string(c.seq), time = std::to_string(c.time);
    c_.exec(
        "INSERT INTO checkpoints (chain, seq, head, time, log_key_id, key_id, signature) VALUES "
        "($1, $2, $3, $4, $5, $6, $7)",
        {c.chain, seq, c.head, time, c.log_key_id, c.key_id, c.signature});
  }

 private:
  // The server restarted or the network broke: reconnect, take the chain
  // again and read its head from the database.
  void reconnect_if_lost() {
    if (!c_.ok()) {
      locked_ = false;
      prepared_.clear();  // the server forgot them with the session
      c_.reset();
    }
    if (!locked_) {
      head_.clear();
      lock_chain();
    }
  }

  void write(std::vector<AppendRow>& rows, bool copied) {
    reconnect_if_lost();
    try {
      insert(rows, copied);
    } catch (...) {
      // The commit may or may not have reached the server: read the head
      // again before the next batch (the chain link constraint refuses a
      // fork either way).
      head_.clear();
      throw;
    }
  }

  void lock_chain() {
    pg::Result r =
        c_.exec("SELECT pg_try_advisory_lock(hashtextextended('ethos chain ' || $1, 0))", {chain_});
    if (r.text(0, 0) != "t")
      throw StoreError("node id `" + chain_ + "` is already writing to `" + c_.location() +
                       "`: another ethos process runs with this node id; give each node its own "
                       "(--node-id)");
    locked_ = true;
  }

  void insert(std::vector<AppendRow>& rows, bool copied) {
    // No other process writes this chain (the lock), so the head read here
    // stays the head until this batch commits.
    if (head_.empty()) {
      pg::Result h = c_.exec(
          "SELECT hash FROM decisions WHERE chain = $1 ORDER BY seq DESC LIMIT 1", {chain_});
      head_ = h.rows() ? std::string(h.text(0, 0)) : std::string(kGenesisHash);
    }
    std::string prev = head_;
    for (auto& row : rows) {
      LogEntry& e = *row.entry;
      e.chain = chain_;
      if (!copied) {
        e.prev_hash = prev;
        e.hash = chain_hash(prev, *row.content_hash);
      } else if (e.prev_hash != prev) {
        throw StoreError("`" + c_.location() + "`: decision `" + e.id +
                         "` does not follow the head of chain `" + chain_ +
                         "` (a copy goes into a chain that is empty, or that holds the rows "
                         "before it)");
      }
      prev = e.hash;
    }
    // One statement is one transaction: a batch without a new bundle that
    // fits one INSERT costs one round trip. Otherwise BEGIN ... COMMIT.
    bool one_statement = rows.size() <= kRowsPerInsert;
    for (auto& row : rows) one_statement = one_statement && known_bundles_.count(*row.bundle_hash);
    std::optional<pg::Transaction> txn;
    if (!one_statement) txn.emplace(c_);
    std::vector<std::string> new_bundles;
    try {
      std::string now = std::to_string(now_ms());
      for (auto& row : rows) {
        if (known_bundles_.count(*row.bundle_hash)) continue;
        c_.exec(
            "INSERT INTO bundles (hash, canonical_text, first_seen) VALUES ($1, $2, $3) ON "
            "CONFLICT (hash) DO NOTHING",
            {*row.bundle_hash, *row.bundle_text, now});
        new_bundles.push_back(*row.bundle_hash);
        known_bundles_.insert(*row.bundle_hash);
      }
      for (size_t first = 0; first < rows.size(); first += kRowsPerInsert)
        insert_rows(rows, first, std::min(rows.size(), first + kRowsPerInsert));
      if (txn) txn->commit();
    } catch (...) {
      for (const auto& h : new_bundles) known_bundles_.erase(h);
      throw;
    }
    head_ = prev;
  }

  void insert_rows(const std::vector<AppendRow>& rows, size_t first, size_t last) {
    std::string sql = kInsertColumnList;
    std::vector<std::string_view> params;
    std::vector<std::string> numbers;  // time and recorded_at as text, kept alive
    numbers.reserve(2 * (last - first));
    params.reserve(kInsertColumns * (last - first));
    int n = 0;
    for (size_t i = first; i < last; ++i) {
      sql += i == first ? "(" : ", (";
      for (int k = 0; k < kInsertColumns; ++k) sql += (k ? ", $" : "$") + std::to_string(++n);
      sql += ")";
    }
    for (size_t i = first; i < last; ++i) {
      const LogEntry& e = *rows[i].entry;
      numbers.push_back(std::to_string(e.time));
      numbers.push_back(std::to_string(e.recorded_at));
      params.insert(
          params.end(),
          {chain_, e.id, e.request_id, numbers[numbers.size() - 2], numbers.back(),
           e.decision.outcome, e.bundle, e.decision.default_module, e.request, e.decision.reasons,
           e.decision.obligations, e.decision.advice, e.decision.overridden,
           e.decision.missing_facts, e.decision.trace, e.prev_hash, e.hash});
    }
    // Group commits of up to kPreparedRows rows reuse a prepared statement
    // per size: parsing and planning a statement of hundreds of parameters
    // cost more server CPU than inserting its rows.
    size_t count = last - first;
    if (count > kPreparedRows) {
      c_.exec(sql, params);
      return;
    }
    if (prepared_.size() <= count) prepared_.resize(count + 1);
    std::string name = "ethos_insert_" + std::to_string(count);
    if (!prepared_[count]) {
      c_.prepare(name, sql, n);
      prepared_[count] = true;
    }
    c_.exec_prepared(name, params);
  }

  pg::Connection c_;
  std::string chain_;
  bool locked_ = false;         // this session holds the chain's advisory lock
  std::vector<bool> prepared_;  // [rows]: ethos_insert_<rows> is prepared in this session
  std::string head_;            // empty: read it from the database
  std::unordered_set<std::string> known_bundles_;
};

}  // namespace

LogStores open_postgres_stores(const std::string& url, const LogOptions& options) {
  LogStores s;
  s.reader = std::make_unique<PostgresReader>(url, options);
  if (!options.read_only) {
    std::string node = options.node_id;
    if (node.empty()) {
      char host[256] = {};
      gethostname(host, sizeof host - 1);
      node = host;
    }
    s.appender = std::make_unique<PostgresAppender>(url, node);
  }
  return s;
}

}  // namespace ethos
