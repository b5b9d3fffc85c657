#include <ethos/log/decision_log.hpp>

#include <pthread.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <mutex>
#include <random>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <variant>

#include <ethos/base/hash.hpp>
#include <ethos/log/log_store.hpp>

namespace ethos {

using sql::StoreError;

namespace {

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
    case ChainBreak::Kind::kTruncated:
      return "truncated";
    case ChainBreak::Kind::kRewritten:
      return "rewritten";
    case ChainBreak::Kind::kKeyChanged:
      return "key changed";
    case ChainBreak::Kind::kCheckpointInvalid:
      return "checkpoint invalid";
  }
  return "altered";
}

struct DecisionLog::Impl {
  std::string path;
  LogOptions options;
  int version = 0;

  mutable std::recursive_mutex read_mu;  // recursive: a scan callback may look up a bundle
  std::unique_ptr<LogReader> reader;     // reads (and, when writing, set-up and migrations)

  // ---- recording ----
  std::unique_ptr<LogAppender> writer;  // used only by the writer thread
  std::thread thread;
  std::mutex mu;
  std::condition_variable work_cv, space_cv, done_cv;
  std::deque<std::unique_ptr<Pending>> queue;
  std::vector<std::unique_ptr<Pending>> pool;
  uint64_t next_ticket = 1;
  uint64_t done_through = 0;
  uint64_t flushed_through = 0;
  std::vector<Failure> failures;
  std::vector<AppendRow> rows;  // the writer thread's, reused
  bool stopping = false;
  // The writer waits for work (not in its commit delay): a submit wakes it.
  bool writer_idle = false;
  Stats stats;

  std::mutex bundles_mu;
  std::unordered_map<std::string, std::shared_ptr<const BundleContext>> bundles;

  unsigned id_tag = 0;
  std::atomic<uint64_t> id_counter{0};

  // Set on opening when the chain is damaged: the writer refuses to extend it.
  std::optional<std::string> damage;
  // ---- checkpoints (the writer thread's, once it runs) ----
  std::string log_key_id;
  ChainTip checkpointed;  // what the last checkpoint signed
  uint64_t rows_since_checkpoint = 0;
  std::chrono::steady_clock::time_point checkpoint_due;  // a timed checkpoint

  Impl(const std::string& p, LogOptions o) : path(p), options(std::move(o)) {
    LogStores stores = open_log_stores(path, options);
    reader = std::move(stores.reader);
    version = reader->schema_version();
    if (options.read_only) return;
    writer = std::move(stores.appender);
    log_key_id = reader->key_id();
    check_tail();
    if (damage) return;  // no writer thread: submit() refuses
    std::random_device rd;
    id_tag = rd() & 0xffffu;
    id_counter = rd();  // two processes with the same tag still differ
    thread = std::thread([this] {
      pthread_setname_np(pthread_self(), "ethos-log");  // names it in top, perf and gdb
      write_loop();
    });
  }

  // Before the writer thread starts: the appender is still this thread's.
  void check_tail() {
    const CheckpointOptions& co = options.checkpoints;
    std::optional<SourcedCheckpoint> anchored;
    if (!co.anchor_file.empty() && co.anchor_file != "-" &&
        std::filesystem::exists(co.anchor_file)) {
      try {
        for (auto& c : read_anchor_file(co.anchor_file))
          if (c.checkpoint.chain == writer->chain()) anchored = std::move(c);
      } catch (const std::exception& e) {
        damage = std::string("the anchor file cannot be read: ") + e.what();
        return;
      }
    }
    ChainState st = writer->chain_state(1);
    damage = find_tail_damage(*writer, co.key.get(), anchored);
    checkpointed = writer->tip();
    if (!st.checkpoint || st.checkpoint->seq != checkpointed.seq ||
        st.checkpoint->head != checkpointed.hash)
      checkpointed.seq = -1;  // the head is not checkpointed yet
    checkpoint_due = next_checkpoint_due();
  }

  // Signs the chain's head unless the last checkpoint already did. On the
  // writer thread (or before it starts, or after it ends). A checkpoint that
  // fails is retried later; the decisions are committed either way.
  void checkpoint() {
    const CheckpointOptions& co = options.checkpoints;
    if (!co.key) return;
    rows_since_checkpoint = 0;
    checkpoint_due = next_checkpoint_due();
    try {
      ChainTip tip = writer->tip();
      if (tip.seq == checkpointed.seq && tip.hash == checkpointed.hash) return;
      Checkpoint c;
      c.chain = tip.chain;
      c.seq = tip.seq;
      c.head = tip.hash;
      c.time = now_ms() / 1000;
      c.log_key_id = log_key_id;
      sign_checkpoint(c, *co.key);
      writer->store_checkpoint(c);
      checkpointed = tip;
      {
        std::lock_guard lk(mu);
        ++stats.checkpoints;
      }
      if (!co.anchor_file.empty()) append_anchor(co.anchor_file, c);
    } catch (const std::exception& e) {
      spdlog::error("decision log `{}`: cannot checkpoint the chain's head: {}",
                    display_location(path), e.what());
    }
  }

  // T seconds from now; T at most ten years, so that the time point cannot overflow.
  std::chrono::steady_clock::time_point next_checkpoint_due() const {
    constexpr int64_t kMaxSeconds = 10LL * 365 * 86400;
    return std::chrono::steady_clock::now() +
           std::chrono::seconds(
               std::clamp<int64_t>(options.checkpoints.every_seconds, 0, kMaxSeconds));
  }

  bool checkpoint_is_due() const {
    const CheckpointOptions& co = options.checkpoints;
    if (!co.key || rows_since_checkpoint == 0) return false;
    return (co.every_rows && rows_since_checkpoint >= co.every_rows) ||
           (co.every_seconds && std::chrono::steady_clock::now() >= checkpoint_due);
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
        auto ready = [&] { return !queue.empty() || stopping; };
        if (options.checkpoints.key && options.checkpoints.every_seconds &&
            rows_since_checkpoint > 0) {
          if (!work_cv.wait_until(lk, checkpoint_due, ready)) {
            writer_idle = false;
            lk.unlock();
            checkpoint();  // T seconds since the last one, and rows since
            continue;
          }
        } else {
          work_cv.wait(lk, ready);
        }
        writer_idle = false;
        if (queue.empty()) {
          // Stopping, and everything is written: sign the head the log closes with.
          lk.unlock();
          checkpoint();
          return;
        }
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
        error = std::make_shared<const StoreError>("`" + display_location(path) + "`: " + e.what());
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
      if (!error) rows_since_checkpoint += batch.size();
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
      if (checkpoint_is_due()) checkpoint();
    }
  }

  void commit(std::vector<std::unique_ptr<Pending>>& batch) {
    rows.clear();
    for (auto& p : batch)
      rows.push_back({&p->entry, &p->content_hash, &p->bundle->hash, &p->bundle->canonical_text});
    writer->append(rows);
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
    throw StoreError("`" + display_location(m.path) + "` is open for reading only", sql::kReadOnly,
                     sql::kReadOnly);
  if (m.damage)
    throw StoreError("`" + display_location(m.path) +
                     "` is damaged, so no decision is added to it: " + *m.damage +
                     " (run `ethos verify`)");
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
    if (m.stopping) throw StoreError("`" + display_location(m.path) + "`: the log is closing");
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

uint64_t DecisionLog::count(const LogFilter& filter) const {
  std::lock_guard lk(impl_->read_mu);
  return impl_->reader->count(filter);
}

std::pair<int64_t, int64_t> DecisionLog::seq_range(const LogFilter& filter) const {
  std::lock_guard lk(impl_->read_mu);
  return impl_->reader->seq_range(filter);
}

void DecisionLog::scan(const LogFilter& filter,
                       const std::function<bool(const LogEntry&)>& visit) const {
  std::lock_guard lk(impl_->read_mu);
  impl_->reader->scan(filter, visit);
}

LogSummary DecisionLog::summarize(const LogFilter& filter, int64_t bucket_seconds,
                                  size_t top) const {
  std::lock_guard lk(impl_->read_mu);
  return impl_->reader->summarize(filter, bucket_seconds, top);
}

std::optional<LogEntry> DecisionLog::find(std::string_view decision_id) const {
  std::lock_guard lk(impl_->read_mu);
  return impl_->reader->find(decision_id);
}

std::optional<std::string> DecisionLog::bundle_text(std::string_view hash) const {
  std::lock_guard lk(impl_->read_mu);
  return impl_->reader->bundle_text(hash);
}

VerifyReport DecisionLog::verify(const std::function<void(uint64_t, uint64_t)>& progress) const {
  std::lock_guard lk(impl_->read_mu);
  return impl_->reader->verify(progress);
}

const std::optional<std::string>& DecisionLog::damage() const { return impl_->damage; }

std::string DecisionLog::key_id() const {
  std::lock_guard lk(impl_->read_mu);
  return impl_->reader->key_id();
}

std::vector<ChainTip> DecisionLog::tips() const {
  std::lock_guard lk(impl_->read_mu);
  return impl_->reader->tips();
}

std::vector<Checkpoint> DecisionLog::checkpoints() const {
  std::lock_guard lk(impl_->read_mu);
  return impl_->reader->checkpoints();
}

}  // namespace ethos
