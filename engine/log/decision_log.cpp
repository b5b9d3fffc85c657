#include <ethos/log/decision_log.hpp>

#include <pthread.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <random>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <variant>

#include <ethos/base/hash.hpp>
#include <ethos/log/log_migrations.hpp>

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

int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
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

struct BundleContext {
  std::string hash;
  std::string canonical_text;
  std::shared_ptr<const Policy> policy;
  RequestPrivacy privacy;
  BundleContext(const Bundle& b, const LogKey& key)
      : hash(b.hash), canonical_text(b.canonical_text), policy(b.policy), privacy(*b.policy, key) {}
};

struct Pending {
  uint64_t ticket = 0;
  LogEntry entry;
  std::string content_hash;
  std::shared_ptr<const BundleContext> bundle;
  DecisionLog::Done done;  // empty: someone wait()s for the ticket instead
};

struct Failure {
  uint64_t first = 0, last = 0;
  std::shared_ptr<const StoreError> error;
};

// The writer's own connection and statements; used only by the writer thread.
struct Writer {
  Database db;
  Statement insert_bundle;
  Statement insert_decision;
  Statement head;
  Statement request_ids_through, index_request_ids, set_request_ids_through;
  std::unordered_set<std::string> known_bundles;
  Writer(const std::string& path, const LogOptions& options)
      : db(open(path, options)),
        insert_bundle(db, kInsertBundle),
        insert_decision(db, kInsertDecision),
        head(db, kChainHead),
        request_ids_through(db, kRequestIdsThrough),
        index_request_ids(db, kIndexRequestIds),
        set_request_ids_through(db, kSetRequestIdsThrough) {}
  static Database open(const std::string& path, const LogOptions& options) {
    Database d(path, sql::OpenMode::kReadWrite);
    configure(d, options, true);
    return d;
  }
};

}  // namespace

const char* chain_break_name(ChainBreak::Kind k) {
  switch (k) {
    case ChainBreak::Kind::kAltered:
      return "altered";
    case ChainBreak::Kind::kRemoved:
      return "removed";
    case ChainBreak::Kind::kReordered:
      return "reordered";
    case ChainBreak::Kind::kBundleAltered:
      return "bundle altered";
    case ChainBreak::Kind::kRequestIdsAltered:
      return "request ids altered";
  }
  return "altered";
}

struct DecisionLog::Impl {
  std::string path;
  LogOptions options;
  int version = 0;

  mutable std::recursive_mutex read_mu;  // recursive: a scan callback may look up a bundle
  mutable Database db;                   // reads and migrations

  // ---- recording ----
  std::unique_ptr<Writer> writer;
  std::thread thread;
  std::mutex mu;
  std::condition_variable work_cv, space_cv, done_cv;
  std::deque<std::unique_ptr<Pending>> queue;
  std::vector<std::unique_ptr<Pending>> pool;
  uint64_t next_ticket = 1;
  uint64_t done_through = 0;
  uint64_t flushed_through = 0;
  std::vector<Failure> failures;
  bool stopping = false;
  // The writer waits for work (not in its commit delay): a submit wakes it.
  bool writer_idle = false;
  Stats stats;

  std::mutex bundles_mu;
  std::unordered_map<std::string, std::shared_ptr<const BundleContext>> bundles;

  unsigned id_tag = 0;
  std::atomic<uint64_t> id_counter{0};

  Impl(const std::string& p, LogOptions o)
      : path(p),
        options(std::move(o)),
        db(p, options.read_only ? sql::OpenMode::kRead : sql::OpenMode::kReadWrite) {
    configure(db, options, false);
    // Identify the file before any pragma writes to it.
    version = log_schema::check_identity(db, path);
    if (options.read_only) return;
    if (db.read_only())
      throw StoreError("`" + path + "` is read-only: decisions cannot be recorded in it",
                       sql::kReadOnly, sql::kReadOnly);
    if (!options.key)
      throw StoreError("`" + path + "`: recording needs a key to pseudonymise the log");
    configure(db, options, true);
    version = log_schema::migrate(db);
    check_key();
    std::random_device rd;
    id_tag = rd() & 0xffffu;
    id_counter = rd();  // two processes with the same tag still differ
    writer = std::make_unique<Writer>(path, options);
    thread = std::thread([this] {
      pthread_setname_np(pthread_self(), "ethos-log");  // names it in top, perf and gdb
      write_loop();
    });
  }

  ~Impl() {
    if (!thread.joinable()) return;
    {
      std::lock_guard lk(mu);
      stopping = true;
    }
    work_cv.notify_all();
    thread.join();
  }

  void check_key() {
    sql::Transaction txn(db);
    std::string stored = db.query_text(kSelectKeyId);
    if (stored.empty()) {
      Statement s(db, kInsertKeyId);
      s.bind(1, options.key->id);
      s.run();
    } else if (stored != options.key->id) {
      throw StoreError("`" + path + "` is pseudonymised with key `" + stored +
                       "`, not with the given key `" + options.key->id +
                       "`: use the key this log was started with");
    }
    txn.commit();
  }

  std::shared_ptr<const BundleContext> context(const Bundle& b) {
    std::lock_guard lk(bundles_mu);
    auto it = bundles.find(b.hash);
    if (it != bundles.end()) return it->second;
    auto ctx = std::make_shared<const BundleContext>(b, *options.key);
    if (!ctx->privacy.sensitive_reads().empty()) {
      std::string list;
      for (const auto& p : ctx->privacy.sensitive_reads())
        list += (list.empty() ? "`" : ", `") + p + "`";
      spdlog::warn(
          "bundle {} has rules that read {}, which the log pseudonymises or redacts: a replay of "
          "their decisions may not reproduce them",
          b.hash.substr(0, 19), list);
    }
    bundles.emplace(b.hash, ctx);
    return ctx;
  }

  // "d-" + 12 hex digits of unix milliseconds + 4 of a per-log random tag
  // + 8 of a counter: unique, and increasing within a process, so the
  // unique index on `id` grows at its end instead of at random pages (random
  // ids cost several times the I/O per decision).
  std::string next_id() {
    uint64_t n = id_counter.fetch_add(1, std::memory_order_relaxed);
    char buf[32];
    std::snprintf(buf, sizeof buf, "d-%012llx%04x%08llx",
                  static_cast<unsigned long long>(now_ms()) & 0xffffffffffffULL, id_tag,
                  static_cast<unsigned long long>(n & 0xffffffffULL));
    return buf;
  }

  void write_loop() {
    std::vector<std::unique_ptr<Pending>> batch;
    for (;;) {
      {
        std::unique_lock lk(mu);
        writer_idle = true;
        work_cv.wait(lk, [&] { return !queue.empty() || stopping; });
        writer_idle = false;
        if (queue.empty()) return;  // stopping, and everything is written
        if (options.commit_delay_us > 0 && !stopping)
          work_cv.wait_for(lk, std::chrono::microseconds(options.commit_delay_us), [&] {
            return queue.size() >= std::max<size_t>(options.max_batch, 1) || stopping;
          });
        size_t n = std::min(queue.size(), std::max<size_t>(options.max_batch, 1));
        for (size_t i = 0; i < n; ++i) {
          batch.push_back(std::move(queue.front()));
          queue.pop_front();
        }
      }
      space_cv.notify_all();
      std::shared_ptr<const StoreError> error;
      try {
        commit(batch);
      } catch (const StoreError& e) {
        error = std::make_shared<const StoreError>(e);
      } catch (const std::exception& e) {
        error = std::make_shared<const StoreError>(std::string("`") + path + "`: " + e.what());
      }
      {
        std::lock_guard lk(mu);
        uint64_t first = batch.front()->ticket, last = batch.back()->ticket;
        if (error) {
          if (!failures.empty() && failures.back().last + 1 == first &&
              failures.back().error->code() == error->code())
            failures.back().last = last;
          else
            failures.push_back({first, last, error});
        } else {
          stats.committed += batch.size();
          ++stats.transactions;
        }
        stats.largest_group = std::max<uint64_t>(stats.largest_group, batch.size());
      }
      // Outside the lock: a callback may submit again (an event loop's next
      // request). Before done_through moves: once flush() returns, every
      // callback of what it waited for has returned too.
      std::exception_ptr failed = error ? std::make_exception_ptr(*error) : nullptr;
      for (auto& p : batch) {
        if (!p->done) continue;
        try {
          p->done(failed);
        } catch (const std::exception& e) {
          spdlog::error("decision log: a commit callback threw: {}", e.what());
        }
        p->done = nullptr;
      }
      {
        std::lock_guard lk(mu);
        done_through = batch.back()->ticket;
        for (auto& p : batch) {
          p->bundle.reset();
          pool.push_back(std::move(p));
        }
      }
      done_cv.notify_all();
      batch.clear();
    }
  }

  void commit(std::vector<std::unique_ptr<Pending>>& batch) {
    Writer& w = *writer;
    sql::Transaction txn(w.db);
    // Read the head inside the write lock: another process may have appended.
    std::string prev(kGenesisHash);
    if (w.head.step()) prev.assign(w.head.column_text(0));
    w.head.reset();
    std::vector<const std::string*> new_bundles;
    int64_t now = now_ms();
    for (auto& p : batch) {
      const BundleContext& b = *p->bundle;
      if (!w.known_bundles.count(b.hash)) {
        w.insert_bundle.bind(1, b.hash);
        w.insert_bundle.bind(2, b.canonical_text);
        w.insert_bundle.bind(3, now);
        w.insert_bundle.run();
        w.known_bundles.insert(b.hash);
        new_bundles.push_back(&b.hash);
      }
      LogEntry& e = p->entry;
      e.prev_hash = prev;
      e.hash = chain_hash(prev, p->content_hash);
      Statement& s = w.insert_decision;
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
      try {
        s.run();
      } catch (...) {
        for (const auto* h : new_bundles) w.known_bundles.erase(*h);
        throw;
      }
      prev = e.hash;
    }
    try {
      index_request_ids(w);
      txn.commit();
    } catch (...) {
      for (const auto* h : new_bundles) w.known_bundles.erase(*h);
      throw;
    }
  }

  // Once request_index_every decisions are not in the request_id table, adds
  // them, sorted, so that they share its pages (one page written per batch
  // and key range, not one per decision). Inside the commit's transaction:
  // the table and its mark move together with the rows.
  void index_request_ids(Writer& w) {
    int64_t last = w.db.last_insert_rowid();
    int64_t through = w.request_ids_through.step() ? w.request_ids_through.column_int(0) : 0;
    w.request_ids_through.reset();
    if (last - through < std::max(options.request_index_every, 1)) return;
    w.index_request_ids.bind(1, through);
    w.index_request_ids.run();
    w.set_request_ids_through.bind(1, last);  // stored as text: the column has TEXT affinity
    w.set_request_ids_through.run();
  }

  void throw_if_failed(uint64_t first, uint64_t last) {
    for (const auto& f : failures)
      if (f.first <= last && first <= f.last) throw *f.error;
  }
};

DecisionLog::DecisionLog(const std::string& path, LogOptions options)
    : impl_(std::make_unique<Impl>(path, std::move(options))) {}

DecisionLog::~DecisionLog() = default;

DecisionLog::Ticket DecisionLog::submit(const Bundle& bundle, const BoundRequest& request,
                                        const Decision& decision) {
  return submit(bundle, request, decision, nullptr);
}

DecisionLog::Ticket DecisionLog::submit(const Bundle& bundle, const BoundRequest& request,
                                        const Decision& decision, Done done) {
  Impl& m = *impl_;
  if (!m.writer)
    throw StoreError("`" + m.path + "` is open for reading only", sql::kReadOnly, sql::kReadOnly);
  if (!bundle.policy) throw std::invalid_argument("DecisionLog::submit: the bundle has errors");
  if (decision.trace.size() != bundle.policy->rules.size())
    throw std::invalid_argument("DecisionLog::submit: the decision was not made by this bundle");
  auto ctx = m.context(bundle);
  std::unique_ptr<Pending> p;
  {
    std::lock_guard lk(m.mu);
    if (!m.pool.empty()) {
      p = std::move(m.pool.back());
      m.pool.pop_back();
    }
  }
  if (!p) p = std::make_unique<Pending>();
  LogEntry& e = p->entry;
  e.id = m.next_id();
  ctx->privacy.write(request, e.request, e.request_id);
  e.time = decision.time;
  e.recorded_at = now_ms();
  e.bundle = bundle.hash;
  encode_decision(*ctx->policy, decision, e.decision);
  p->content_hash = content_hash(e);
  p->bundle = std::move(ctx);
  p->done = std::move(done);
  Ticket t;
  t.decision_id = e.id;
  bool wake = false;
  {
    std::unique_lock lk(m.mu);
    m.space_cv.wait(lk, [&] {
      return m.queue.size() < std::max<size_t>(m.options.max_pending, 1) || m.stopping;
    });
    if (m.stopping) throw StoreError("`" + m.path + "`: the log is closing");
    t.seq = p->ticket = m.next_ticket++;
    m.queue.push_back(std::move(p));
    // Wake the writer when it waits for work, or when its delay can end
    // early; not for every decision that arrives while it delays or commits.
    wake = m.writer_idle || m.queue.size() >= std::max<size_t>(m.options.max_batch, 1);
  }
  if (wake) m.work_cv.notify_one();
  return t;
}

void DecisionLog::wait(const Ticket& ticket) {
  Impl& m = *impl_;
  std::unique_lock lk(m.mu);
  m.done_cv.wait(lk, [&] { return m.done_through >= ticket.seq; });
  m.throw_if_failed(ticket.seq, ticket.seq);
}

std::string DecisionLog::record(const Bundle& bundle, const BoundRequest& request,
                                const Decision& decision) {
  Ticket t = submit(bundle, request, decision);
  wait(t);
  return t.decision_id;
}

void DecisionLog::flush() {
  Impl& m = *impl_;
  std::unique_lock lk(m.mu);
  uint64_t last = m.next_ticket - 1;
  m.done_cv.wait(lk, [&] { return m.done_through >= last; });
  uint64_t first = m.flushed_through + 1;
  m.flushed_through = std::max(m.flushed_through, last);
  if (first <= last) m.throw_if_failed(first, last);
}

DecisionLog::Stats DecisionLog::stats() const {
  std::lock_guard lk(impl_->mu);
  return impl_->stats;
}

int DecisionLog::schema_version() const { return impl_->version; }
const std::string& DecisionLog::path() const { return impl_->path; }

namespace {

struct Query {
  std::string sql;
  std::vector<std::variant<int64_t, std::string>> params;  // in placeholder order
};

// `request_table`: the log has the request_ids table (schema version 3);
// older logs have an index on decisions.request_id instead.
Query filter_query(std::string select, const LogFilter& f, bool order, bool request_table) {
  Query q;
  q.sql = std::move(select);
  q.sql += " WHERE seq > ?";
  q.params.emplace_back(f.after_seq);
  if (f.before_seq) {
    q.sql += " AND seq < ?";
    q.params.emplace_back(f.before_seq);
  }
  if (f.from) {
    q.sql += " AND time >= ?";
    q.params.emplace_back(*f.from);
  }
  if (f.to) {
    q.sql += " AND time <= ?";
    q.params.emplace_back(*f.to);
  }
  if (f.outcome) {
    q.sql += " AND outcome = ?";
    q.params.emplace_back(*f.outcome);
  }
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
  if (f.rule) {
    // Rule ids are identifiers joined by dots: the quoted id matches exactly.
    q.sql +=
        " AND (instr(reasons, ?) OR instr(obligations, ?) OR instr(advice, ?) OR instr(overridden, "
        "?))";
    for (int i = 0; i < 4; ++i) q.params.emplace_back("\"" + *f.rule + "\"");
  }
  if (f.module) {
    // A rule id is `module.rule`: the quoted prefix matches the module's rules only.
    q.sql += " AND (instr(reasons, ?) OR default_module = ?)";
    q.params.emplace_back("\"" + *f.module + ".");
    q.params.emplace_back(*f.module);
  }
  if (f.missing) {
    q.sql += " AND instr(missing_facts, ?)";
    q.params.emplace_back("\"" + *f.missing + "\"");
  }
  if (order) q.sql += f.newest_first ? " ORDER BY seq DESC" : " ORDER BY seq";
  if (f.limit) q.sql += " LIMIT " + std::to_string(f.limit);
  return q;
}

void bind_query(Statement& s, const Query& q) {
  int i = 0;
  for (const auto& p : q.params) {
    ++i;
    if (const auto* n = std::get_if<int64_t>(&p))
      s.bind(i, *n);
    else
      s.bind(i, std::get<std::string>(p));
  }
}

}  // namespace

uint64_t DecisionLog::count(const LogFilter& filter) const {
  std::lock_guard lk(impl_->read_mu);
  LogFilter f = filter;
  f.limit = 0;
  Query q = filter_query("SELECT count(*) FROM decisions", f, false, impl_->version >= 3);
  Statement s(impl_->db, q.sql);
  bind_query(s, q);
  uint64_t n = s.step() ? static_cast<uint64_t>(s.column_int(0)) : 0;
  return filter.limit ? std::min<uint64_t>(n, filter.limit) : n;
}

std::pair<int64_t, int64_t> DecisionLog::seq_range(const LogFilter& filter) const {
  std::lock_guard lk(impl_->read_mu);
  bool unfiltered = !filter.from && !filter.to && !filter.outcome && !filter.rule &&
                    !filter.request_id && !filter.module && !filter.missing &&
                    filter.after_seq == 0 && filter.before_seq == 0;
  if (unfiltered) {
    // Two ends of the primary key: SQLite's min()/max() shortcut does not
    // apply under a WHERE clause, and a scan of a large log takes a second.
    Statement s(impl_->db, kSeqEnds);
    if (!s.step() || s.column_is_null(0)) return {0, 0};
    return {s.column_int(0), s.column_int(1)};
  }
  LogFilter f = filter;
  f.limit = 0;
  Query q = filter_query("SELECT min(seq), max(seq) FROM decisions", f, false, impl_->version >= 3);
  Statement s(impl_->db, q.sql);
  bind_query(s, q);
  if (!s.step() || s.column_is_null(0)) return {0, 0};
  return {s.column_int(0), s.column_int(1)};
}

void DecisionLog::scan(const LogFilter& filter,
                       const std::function<bool(const LogEntry&)>& visit) const {
  std::lock_guard lk(impl_->read_mu);
  Query q = filter_query(kSelectColumns, filter, true, impl_->version >= 3);
  Statement s(impl_->db, q.sql);
  bind_query(s, q);
  LogEntry e;
  while (s.step()) {
    read_entry(s, e);
    if (!visit(e)) break;
  }
}

LogSummary DecisionLog::summarize(const LogFilter& filter, int64_t bucket_seconds,
                                  size_t top) const {
  std::lock_guard lk(impl_->read_mu);
  bool table = impl_->version >= 3;
  LogFilter f = filter;
  f.limit = 0;
  LogSummary out;
  int64_t width = std::max<int64_t>(bucket_seconds, 1);
  std::string w = std::to_string(width);
  {
    Query q = filter_query(
        "SELECT (time / " + w + ") * " + w + ", outcome, count(*) FROM decisions", f, false, table);
    q.sql += " GROUP BY 1, 2 ORDER BY 1";
    Statement s(impl_->db, q.sql);
    bind_query(s, q);
    while (s.step()) {
      int64_t start = s.column_int(0);
      if (out.buckets.empty() || out.buckets.back().start != start)
        out.buckets.push_back(LogSummary::Bucket{start, 0, 0, 0});
      auto n = static_cast<uint64_t>(s.column_int(2));
      std::string_view outcome = s.column_text(1);
      LogSummary::Bucket& b = out.buckets.back();
      if (outcome == "permit") {
        b.permit += n;
        out.permit += n;
      } else if (outcome == "deny") {
        b.deny += n;
        out.deny += n;
      } else {
        b.escalate += n;
        out.escalate += n;
      }
    }
  }
  // The arrays are JSON (log_entry.hpp): SQLite's json_each takes them apart.
  auto top_of = [&](const char* column, std::vector<std::pair<std::string, uint64_t>>& into) {
    Query q =
        filter_query(std::string("SELECT j.value, count(*) FROM decisions, json_each(decisions.") +
                         column + ") j",
                     f, false, table);
    q.sql += " GROUP BY j.value ORDER BY 2 DESC, 1 LIMIT " + std::to_string(top);
    Statement s(impl_->db, q.sql);
    bind_query(s, q);
    while (s.step())
      into.emplace_back(std::string(s.column_text(0)), static_cast<uint64_t>(s.column_int(1)));
  };
  top_of("reasons", out.top_rules);
  top_of("missing_facts", out.top_missing);
  Query q = filter_query("SELECT bundle, min(time) FROM decisions", f, false, table);
  q.sql += " GROUP BY bundle ORDER BY 2, 1";
  Statement s(impl_->db, q.sql);
  bind_query(s, q);
  while (s.step()) out.bundles.emplace_back(std::string(s.column_text(0)), s.column_int(1));
  return out;
}

std::optional<LogEntry> DecisionLog::find(std::string_view decision_id) const {
  std::lock_guard lk(impl_->read_mu);
  Statement s(impl_->db, std::string(kSelectColumns) + " WHERE id = ?");
  s.bind(1, decision_id);
  if (!s.step()) return std::nullopt;
  LogEntry e;
  read_entry(s, e);
  return e;
}

std::optional<std::string> DecisionLog::bundle_text(std::string_view hash) const {
  std::lock_guard lk(impl_->read_mu);
  Statement s(impl_->db, kSelectBundle);
  s.bind(1, hash);
  if (!s.step()) return std::nullopt;
  return std::string(s.column_text(0));
}

VerifyReport DecisionLog::verify(const std::function<void(uint64_t, uint64_t)>& progress) const {
  VerifyReport r;
  uint64_t total = count();
  std::lock_guard lk(impl_->read_mu);
  Database& db = impl_->db;
  Statement rows(db, std::string(kSelectColumns) + " ORDER BY seq");
  Statement by_hash(db, kFindRowByHash);
  LogEntry e;
  std::string expected_prev(kGenesisHash);
  std::string prev_id;
  // Schema 3: how many rows the request_ids table should list.
  const bool request_table = impl_->version >= 3;
  const int64_t request_ids_through = request_table ? db.query_int(kRequestIdsThrough) : 0;
  uint64_t rows_through_mark = 0;
  auto brk = [&](ChainBreak::Kind kind, std::string message) {
    r.first_break = ChainBreak{kind, e.seq, e.id, std::move(message)};
  };
  while (rows.step()) {
    read_entry(rows, e);
    ++r.decisions;
    if (e.seq <= request_ids_through) ++rows_through_mark;
    if (progress && r.decisions % 8192 == 0) progress(r.decisions, total);
    if (r.first_break) continue;  // keep counting; the first break is the one reported
    std::string where = "decision `" + e.id + "` (row " + std::to_string(e.seq) + ")";
    if (chain_hash(e.prev_hash, content_hash(e)) != e.hash) {
      brk(ChainBreak::Kind::kAltered, where + " was altered: its contents do not match its hash");
    } else if (e.prev_hash != expected_prev) {
      by_hash.bind(1, e.prev_hash);
      std::string after = by_hash.step() ? std::string(by_hash.column_text(0)) : std::string();
      by_hash.reset();
      if (!after.empty())
        brk(ChainBreak::Kind::kReordered,
            where + " is out of order: it was recorded after decision `" + after +
                "`, but follows " +
                (prev_id.empty() ? std::string("nothing") : "decision `" + prev_id + "`"));
      else if (prev_id.empty())
        brk(ChainBreak::Kind::kRemoved,
            where + " is the first row, but decisions before it were removed");
      else
        brk(ChainBreak::Kind::kRemoved,
            where + " does not follow decision `" + prev_id +
                "`: a decision between them was removed, or that one was rewritten");
    }
    expected_prev = e.hash;
    prev_id = e.id;
  }
  r.head = expected_prev;
  if (progress) progress(r.decisions, total);
  if (r.first_break) return r;
  Statement missing(db, kDecisionWithoutBundle);
  if (missing.step()) {
    r.first_break =
        ChainBreak{ChainBreak::Kind::kBundleAltered, missing.column_int(0),
                   std::string(missing.column_text(1)),
                   "decision `" + std::string(missing.column_text(1)) + "` refers to bundle `" +
                       std::string(missing.column_text(2)) + "`, which was removed"};
    return r;
  }
  Statement bundles(db, kSelectBundles);
  while (bundles.step()) {
    ++r.bundles;
    std::string_view hash = bundles.column_text(0);
    if (!r.first_break && "sha256:" + sha256_hex(bundles.column_text(1)) != hash)
      r.first_break = ChainBreak{
          ChainBreak::Kind::kBundleAltered,
          0,
          {},
          "bundle `" + std::string(hash) + "` was altered: its text no longer has that hash"};
  }
  if (r.first_break || !request_table) return r;
  // The chain does not cover the request_ids table, but lookups by request id
  // depend on it: an entry removed or changed would hide a decision from them.
  Statement unlisted(db, kRowWithoutRequestId);
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
  if (static_cast<uint64_t>(db.query_int("SELECT count(*) FROM request_ids")) <= rows_through_mark)
    return r;
  Statement stray(db, kRequestIdWithoutRow);
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

}  // namespace ethos
