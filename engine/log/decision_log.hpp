// The decision log: every decision ethos made, with the request as it was
// evaluated (after privacy.hpp), stored with the policy bundle that made it,
// in a hash chain that `verify()` walks (docs/decision-log.md). The log is an
// SQLite file (one chain) or a PostgreSQL database that several nodes write
// to, one chain per node (log_store.hpp).
//
// Recording is fail-closed: submit()/wait()/record() either end with the
// decision durably committed or throw sql::StoreError (disk full, read-only
// file, database locked past the busy timeout, ...). There is no silent
// success. A writer thread batches concurrent submissions into one
// transaction each (group commit): one fsync covers many decisions.
//
// Thread-safety: submit(), wait(), record() and flush() may be called from
// any number of threads. The reading functions (scan, find, verify, ...)
// share one read connection under a mutex: safe from any thread, serialised.
#pragma once

#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <ethos/compile/bundle.hpp>
#include <ethos/eval/decision.hpp>
#include <ethos/eval/request.hpp>
#include <ethos/log/checkpoint.hpp>
#include <ethos/log/log_entry.hpp>
#include <ethos/log/log_migrations.hpp>
#include <ethos/log/privacy.hpp>
#include <ethos/log/sqlite.hpp>

namespace ethos {

struct LogOptions {
  // Open for reading only: no migration, no writer; record() throws.
  bool read_only = false;
  // PostgreSQL: the chain this process appends to (one per node; empty: the
  // host name). A second process with the same node id is refused while the
  // first one runs. SQLite logs have one chain and ignore it.
  std::string node_id;
  // Required to record (privacy.hpp). A log remembers the id of the key it
  // was first written with and refuses another one.
  std::optional<LogKey> key;
  // How long a write waits for another connection's lock before failing.
  int busy_timeout_ms = 5000;
  // 0: no cap. Otherwise the file never grows beyond this many pages (of
  // 4 KiB); recording then fails with SQLITE_FULL, as on a full disk.
  int64_t max_page_count = 0;
  // Group commit: at most this many decisions per transaction, and at most
  // `max_pending` waiting for the writer before submit() blocks.
  size_t max_batch = 4096;
  size_t max_pending = 32768;
  // Group commit delay: once woken with fewer than max_batch decisions
  // queued, the writer waits up to this long for more before it commits
  // (0: commit at once). Each commit pays a fixed cost (WAL frames of whole
  // pages, an fsync); when decisions arrive one by one from many clients, a
  // short wait lets one commit carry many of them, at the price of that much
  // latency. Durability is unchanged: nothing is reported recorded before
  // its commit.
  int commit_delay_us = 0;
  // The writer adds decisions to the request_id lookup table once this many
  // are not yet in it, sorted, in the transaction of the commit that passes
  // the mark. Lookups by request_id also scan those unindexed rows, so the
  // answer is the same either way; larger batches share more pages of the
  // lookup table between decisions (docs/decision-log.md).
  int request_index_every = 256;
  // Signed checkpoints of the chain's head (checkpoint.hpp): every so many
  // rows and seconds, and when the log closes. Without a key, none.
  CheckpointOptions checkpoints;
};

struct LogFilter {
  std::optional<int64_t> from;            // decision time >= from (seconds since the epoch)
  std::optional<int64_t> to;              // decision time <= to
  std::optional<std::string> outcome;     // "permit", "deny" or "escalate"
  std::optional<std::string> rule;        // a reason, obligation's rule, advice or override
  std::optional<std::string> request_id;  // as stored
  std::optional<std::string> module;      // a rule of this module decided, or its default did
  std::optional<std::string> missing;     // this attribute path is among the missing facts
  int64_t after_seq = 0;                  // only rows with seq > after_seq
  int64_t before_seq = 0;                 // and, unless 0, seq < before_seq
  size_t limit = 0;                       // 0: all
  bool newest_first = false;              // scan() visits rows in descending seq order
};

// Counts over the rows a filter matches (the console's statistics, `ethos
// report`): decisions per outcome in time buckets, and the rules and missing
// facts that occur most often.
struct LogSummary {
  struct Bucket {
    int64_t start = 0;  // seconds since the epoch
    uint64_t permit = 0, deny = 0, escalate = 0;
  };
  std::vector<Bucket> buckets;  // ascending, only buckets with decisions
  uint64_t permit = 0, deny = 0, escalate = 0;
  std::vector<std::pair<std::string, uint64_t>> top_rules;    // reasons, most frequent first
  std::vector<std::pair<std::string, uint64_t>> top_missing;  // missing facts, most frequent first
  std::vector<std::pair<std::string, int64_t>> bundles;       // hash, first decision time
};

struct ChainBreak {
  enum class Kind {
    kAltered,
    kRemoved,
    kReordered,
    kBundleAltered,
    kRequestIdsAltered,
    // Found against a signed checkpoint or an expected head (checkpoint.hpp):
    kTruncated,          // the row a checkpoint covers is gone (tail or every row removed)
    kRewritten,          // that row has another hash
    kKeyChanged,         // the log's key id is not the one the checkpoint signed
    kCheckpointInvalid,  // the checkpoint's signature does not verify with the key
  };
  Kind kind = Kind::kAltered;
  int64_t seq = 0;
  std::string decision_id;  // the row where the chain first fails (empty for a bundle)
  std::string message;      // one line, lowercase
};
const char* chain_break_name(ChainBreak::Kind k);

struct ChainHead {
  std::string chain;  // the node id ("" for an SQLite log's one chain)
  uint64_t decisions = 0;
  std::string head;  // hash of the chain's last row
};

// The last row of a chain.
struct ChainTip {
  std::string chain;  // the node id ("" for an SQLite log's one chain)
  int64_t seq = 0;    // 0: the chain is empty
  std::string hash;   // kGenesisHash for an empty chain
};

struct VerifyReport {
  uint64_t decisions = 0;
  uint64_t bundles = 0;
  std::string head;               // hash of the last row (kGenesisHash for an empty log); with
                                  // several chains, of the last chain walked
  std::vector<ChainHead> chains;  // every chain walked, in name order

  std::optional<ChainBreak> first_break;
  bool ok() const { return !first_break; }
};

class DecisionLog {
 public:
  static constexpr int kSchemaVersion = log_schema::kLatestVersion;

  // Opens or creates the log at `location`: a file (or `sqlite:FILE`), or a
  // `postgresql://` URL. Sets it up, migrates an older schema (each step one
  // transaction), refuses a newer one. Throws sql::StoreError (code 0 for
  // ethos's own refusals and for PostgreSQL's errors).
  DecisionLog(const std::string& location, LogOptions options);
  ~DecisionLog();  // commits what was submitted, then stops the writer
  DecisionLog(const DecisionLog&) = delete;
  DecisionLog& operator=(const DecisionLog&) = delete;

  struct Ticket {
    uint64_t seq = 0;
    std::string decision_id;
  };
  // Queues a decision made by `bundle` for `request` and returns at once.
  // The decision is recorded only when wait() on its ticket returns.
  Ticket submit(const Bundle& bundle, const BoundRequest& request, const Decision& decision);
  // The same, without anyone blocking for the commit: the writer thread calls
  // `done` once the decision's transaction has committed (with nullptr) or
  // failed (with the sql::StoreError), after wait() on the ticket would
  // return. `done` runs on the writer thread, so it must be quick (hand the
  // result to another thread) and must not call into the log. An event loop
  // answers its client from `done`, so no thread waits per decision and group
  // commits grow with the load.
  using Done = std::function<void(std::exception_ptr)>;
  Ticket submit(const Bundle& bundle, const BoundRequest& request, const Decision& decision,
                Done done);
  // Blocks until the ticket's decision is committed; throws sql::StoreError
  // if its transaction failed.
  void wait(const Ticket& ticket);
  // submit() + wait(): the decision's id once it is durably recorded.
  std::string record(const Bundle& bundle, const BoundRequest& request, const Decision& decision);
  // Waits for everything submitted so far; throws if any of it failed.
  void flush();

  // ---- reading ----
  int schema_version() const;
  const std::string& path() const;  // the location as given
  uint64_t count(const LogFilter& filter = {}) const;
  // The first and last seq of the matching rows ({0, 0} when none).
  std::pair<int64_t, int64_t> seq_range(const LogFilter& filter = {}) const;
  // Visits matching rows in chain order until `visit` returns false. The
  // entry is reused between calls.
  void scan(const LogFilter& filter, const std::function<bool(const LogEntry&)>& visit) const;
  std::optional<LogEntry> find(std::string_view decision_id) const;
  // The canonical text of a recorded bundle.
  std::optional<std::string> bundle_text(std::string_view hash) const;
  // Counts of the rows `filter` matches (its seq bounds apply, not its limit),
  // `bucket_seconds` wide buckets, at most `top` rules and missing facts.
  LogSummary summarize(const LogFilter& filter, int64_t bucket_seconds, size_t top) const;
  // Walks the whole chain and every bundle; `progress(done, total)` now and then.
  VerifyReport verify(const std::function<void(uint64_t, uint64_t)>& progress = {}) const;

  // ---- checkpoints (checkpoint.hpp) ----
  // Why the writer refuses to extend this log, when it found it damaged on
  // opening (its tail does not hold together, or disagrees with the last
  // checkpoint): then submit() and record() throw sql::StoreError with it.
  const std::optional<std::string>& damage() const;
  // The id of the key the log is pseudonymised with ("" if none yet).
  std::string key_id() const;
  // The last row of every chain (one, {"", 0, genesis}, for an empty SQLite log).
  std::vector<ChainTip> tips() const;
  // The stored checkpoints, oldest first; and the newest of each chain.
  std::vector<Checkpoint> checkpoints() const;
  std::vector<Checkpoint> latest_checkpoints() const;
  // Whether the log still holds what `c` signed: with `key`, its signature
  // first; then the log's key id, and the row at c.seq with c.head in
  // c.chain. `where` names the checkpoint in the message ("anchors:3").
  std::optional<ChainBreak> check(const Checkpoint& c, const VerifyingKey* key,
                                  std::string_view where) const;
  // The same for a head recorded elsewhere (`ethos verify --expect-head`).
  std::optional<ChainBreak> check_head(int64_t seq, std::string_view hash) const;

  struct Stats {
    uint64_t committed = 0;      // decisions committed by this process
    uint64_t transactions = 0;   // group commits
    uint64_t largest_group = 0;  // the most decisions one transaction held
    uint64_t checkpoints = 0;    // checkpoints signed by this process
  };
  Stats stats() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace ethos
