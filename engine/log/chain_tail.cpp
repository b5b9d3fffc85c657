// The writer's check of its chain before it appends (docs/decision-log.md,
// "A damaged log is not extended"): the last rows must hold together, and
// the chain must still hold what the last checkpoints signed.
#include <ethos/base/time.hpp>
#include <ethos/log/log_store.hpp>

namespace ethos {

namespace {

// Rows read from the tail: enough to see a broken link at the end.
constexpr size_t kTailRows = 8;

std::string row_name(const LogEntry& e) {
  return "decision `" + e.id + "` (row " + std::to_string(e.seq) + ")";
}

// The chain against one checkpoint: its signature (when made with `key`),
// then the row it covers.
std::optional<std::string> against_checkpoint(LogAppender& a, const ChainState& st,
                                              const SigningKey* key, const Checkpoint& c,
                                              const std::string& where) {
  std::string signed_at =
      "the checkpoint signed at " + format_timestamp(c.time) + " (" + where + ")";
  if (key && c.key_id == key->id() && !checkpoint_signature_ok(c, key->verifying_key()))
    return signed_at + " does not verify with the signing key: it was altered";
  if (c.seq == 0) return std::nullopt;
  auto row = a.row_at(c.seq);
  if (!row) {
    if (st.tail.empty())
      return "the log holds no decisions, but " + signed_at + " covers rows up to " +
             std::to_string(c.seq) + ": every row was removed";
    return "the chain ends at row " + std::to_string(st.tail.back().seq) + ", but " + signed_at +
           " covers rows up to " + std::to_string(c.seq) + ": rows were removed from its tail";
  }
  if (row->hash != c.head)
    return "row " + std::to_string(c.seq) + " has hash " + row->hash.substr(0, 16) + "…, but " +
           signed_at + " says " + c.head.substr(0, 16) + "…: the log was rewritten";
  return std::nullopt;
}

}  // namespace

std::optional<std::string> find_tail_damage(LogAppender& a, const SigningKey* key,
                                            const std::optional<SourcedCheckpoint>& anchored) {
  ChainState st = a.chain_state(kTailRows);
  const bool one_chain = a.chain().empty();  // SQLite: seq counts the chain's rows
  for (size_t i = 0; i < st.tail.size(); ++i) {
    const LogEntry& e = st.tail[i];
    if (chain_hash(e.prev_hash, content_hash(e)) != e.hash)
      return row_name(e) + " was altered: its contents do not match its hash";
    if (i == 0) {
      // The whole chain was read: its first row follows nothing.
      bool whole = st.tail.size() < kTailRows;
      if (whole && e.prev_hash != kGenesisHash)
        return row_name(e) + " is the first row, but decisions before it were removed";
      if (one_chain && e.seq == 1 && e.prev_hash != kGenesisHash)
        return row_name(e) + " is row 1, but it follows another decision";
      continue;
    }
    const LogEntry& prev = st.tail[i - 1];
    if (e.prev_hash != prev.hash)
      return row_name(e) + " does not follow " + row_name(prev) +
             ": a decision between them was removed, or that one was rewritten";
    if (one_chain && e.seq != prev.seq + 1)
      return "rows " + std::to_string(prev.seq + 1) + " to " + std::to_string(e.seq - 1) +
             " are missing before " + row_name(e);
  }
  int64_t last = st.tail.empty() ? 0 : st.tail.back().seq;
  if (st.known_through > last)
    return st.tail.empty()
               ? "the log holds no decisions, but its request-id table was filled up to row " +
                     std::to_string(st.known_through) + ": every row was removed"
               : "the chain ends at row " + std::to_string(last) +
                     ", but its request-id table was filled up to row " +
                     std::to_string(st.known_through) + ": rows were removed from its tail";
  if (st.checkpoint)
    if (auto d = against_checkpoint(a, st, key, *st.checkpoint, "the log's checkpoints table"))
      return d;
  if (anchored)
    if (auto d = against_checkpoint(a, st, key, anchored->checkpoint, anchored->where)) return d;
  return std::nullopt;
}

}  // namespace ethos
