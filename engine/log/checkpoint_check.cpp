// DecisionLog::check and check_head: whether the log still holds what a
// signed checkpoint, or a head recorded elsewhere, says it held
// (docs/decision-log.md, "What verify detects").
#include <ethos/base/time.hpp>
#include <ethos/log/decision_log.hpp>

namespace ethos {

namespace {

std::optional<LogEntry> row_at(const DecisionLog& log, int64_t seq) {
  LogFilter f;
  f.after_seq = seq - 1;
  f.limit = 1;
  std::optional<LogEntry> out;
  log.scan(f, [&](const LogEntry& e) {
    if (e.seq == seq) out = e;
    return false;
  });
  return out;
}

std::string short_hash(std::string_view h) { return std::string(h.substr(0, 16)) + "…"; }

// The row at `seq` against `hash` in `chain`; `what` names the claim.
std::optional<ChainBreak> against_row(const DecisionLog& log, const std::string& chain, int64_t seq,
                                      std::string_view hash, const std::string& what) {
  if (seq == 0) {
    // A checkpoint of an empty chain: nothing to lose.
    return std::nullopt;
  }
  auto row = row_at(log, seq);
  if (!row || row->chain != chain) {
    int64_t end = 0;
    for (const auto& t : log.tips())
      if (t.chain == chain) end = t.seq;
    std::string msg =
        end == 0
            ? "row " + std::to_string(seq) + " is gone: " + what + " covers rows up to " +
                  std::to_string(seq) + ", but the chain holds no decisions: every row was removed"
            : "row " + std::to_string(seq) + " is gone: " + what + " covers rows up to " +
                  std::to_string(seq) + ", but the chain ends at row " + std::to_string(end) +
                  ": rows were removed from its tail";
    return ChainBreak{ChainBreak::Kind::kTruncated, seq, {}, std::move(msg)};
  }
  if (row->hash != hash)
    return ChainBreak{ChainBreak::Kind::kRewritten, seq, row->id,
                      "decision `" + row->id + "` (row " + std::to_string(seq) + ") has hash " +
                          short_hash(row->hash) + ", but " + what + " says " + short_hash(hash) +
                          ": the log was rewritten at or before this row"};
  return std::nullopt;
}

}  // namespace

std::optional<ChainBreak> DecisionLog::check(const Checkpoint& c, const VerifyingKey* key,
                                             std::string_view where) const {
  std::string what =
      "the checkpoint signed at " + format_timestamp(c.time) + " (" + std::string(where) + ")";
  if (key) {
    if (c.key_id != key->id())
      return ChainBreak{ChainBreak::Kind::kCheckpointInvalid,
                        c.seq,
                        {},
                        what + " names signing key `" + c.key_id + "`, not the given key `" +
                            key->id() + "`: verify it with that key's public key"};
    if (!checkpoint_signature_ok(c, *key))
      return ChainBreak{ChainBreak::Kind::kCheckpointInvalid,
                        c.seq,
                        {},
                        what + " does not verify with key `" + key->id() +
                            "`: the checkpoint was altered or forged"};
  }
  std::string stored = key_id();
  if (stored != c.log_key_id)
    return ChainBreak{ChainBreak::Kind::kKeyChanged,
                      c.seq,
                      {},
                      "the log says it is pseudonymised with key `" + stored + "`, but " + what +
                          " says `" + c.log_key_id + "`: the log's key id was changed"};
  return against_row(*this, c.chain, c.seq, c.head, what);
}

std::optional<ChainBreak> DecisionLog::check_head(int64_t seq, std::string_view hash) const {
  std::optional<LogEntry> row = seq > 0 ? row_at(*this, seq) : std::nullopt;
  std::string chain = row ? row->chain : std::string();
  if (seq == 0) {
    if (hash == kGenesisHash) return std::nullopt;
    return ChainBreak{ChainBreak::Kind::kRewritten,
                      0,
                      {},
                      "the expected head names row 0 with a hash other than the empty chain's"};
  }
  return against_row(*this, chain, seq, hash, "the expected head");
}

std::vector<Checkpoint> DecisionLog::latest_checkpoints() const {
  std::vector<Checkpoint> out;
  for (auto& c : checkpoints()) {
    bool found = false;
    for (auto& o : out)
      if (o.chain == c.chain) {
        o = c;
        found = true;
      }
    if (!found) out.push_back(c);
  }
  return out;
}

}  // namespace ethos
