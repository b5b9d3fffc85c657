// Signed checkpoints of the decision log (docs/decision-log.md,
// "Checkpoints"): now and then the writer signs its chain's head with an
// Ed25519 key (base/signing.hpp), stores the checkpoint in the log and
// appends it to an anchor file outside the database. A later verify with the
// public key then sees what the chain alone cannot: rows removed from the
// tail, every row removed, a rewrite with recomputed hashes, a changed key id.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <ethos/base/signing.hpp>

namespace ethos {

struct Checkpoint {
  std::string chain;       // the node id ("" for an SQLite log's one chain)
  int64_t seq = 0;         // the chain's last row when signed (0: the chain was empty)
  std::string head;        // that row's hash (kGenesisHash for an empty chain)
  int64_t time = 0;        // when signed, seconds since the epoch
  std::string log_key_id;  // the id of the key that pseudonymises the log (log_meta key_id)
  std::string key_id;      // the id of the signing key (SigningKey::id)
  std::string signature;   // 128 hex digits: Ed25519 over checkpoint_message()
};

// The bytes a checkpoint's signature covers: "ethos-checkpoint 1\n", then
// for each field in this order, `name length\nvalue\n` (as the chain's
// canonical rows): chain, seq, head, time (RFC 3339 UTC, seconds), log_key_id,
// key_id. Integers in decimal.
std::string checkpoint_message(const Checkpoint& c);

// Fills in key_id and signature.
void sign_checkpoint(Checkpoint& c, const SigningKey& key);
// True when `c` names `key` and its signature verifies with it.
bool checkpoint_signature_ok(const Checkpoint& c, const VerifyingKey& key);

// One line of JSON (no newline): {"chain", "seq", "head", "time", "log_key_id",
// "key_id", "signature"}; the anchor file holds one per line.
std::string checkpoint_json(const Checkpoint& c);
// False with a one-line message (naming the member) when `line` is not such
// an object.
bool parse_checkpoint_json(std::string_view line, Checkpoint& out, std::string& error);

// A checkpoint and where it was read ("anchors.jsonl:3", "the log's checkpoints table").
struct SourcedCheckpoint {
  Checkpoint checkpoint;
  std::string where;
};
// Every checkpoint in an anchor file, in file order; blank lines are skipped.
// Throws std::runtime_error naming FILE:LINE for a line that is not one.
std::vector<SourcedCheckpoint> read_anchor_file(const std::string& path);
// Appends `c` as one line to the anchor file and syncs it; "-" writes it to
// standard output. Throws std::runtime_error.
void append_anchor(const std::string& path, const Checkpoint& c);

// How a writer checkpoints (DecisionLog, LogOptions::checkpoints).
struct CheckpointOptions {
  std::shared_ptr<const SigningKey> key;  // null: no checkpoints
  uint64_t every_rows = 1000;             // 0: not by count
  int64_t every_seconds = 60;             // 0: not by time
  std::string anchor_file;                // "" none, "-" standard output
};

}  // namespace ethos
