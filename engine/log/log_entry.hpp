// One row of the decision log, its compact encoding of a Decision, and the
// canonical serialisation that the hash chain covers
// (docs/decision-log.md, "The chain").
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include <ethos/check/policy.hpp>
#include <ethos/eval/decision.hpp>

namespace ethos {

// The fields of a Decision as the log stores them. Rules, obligations and
// attributes are named by id (not index) so that a decision can be compared
// with one made under another bundle:
//   reasons      JSON array of rule ids            ["privacy.baa_required"]
//   obligations  JSON array of [obligation, rule]  [["clinician_review","bias.x"]]
//   advice       JSON array of rule ids
//   overridden   JSON array of [rule, by]
//   missing      JSON array of attribute paths
//   trace        one character per rule in the bundle's rule order:
//                F fired, . not_fired, ? unknown, o overridden, - not_applicable
//   default_module  the module whose `default permit` decided, else ""
struct EncodedDecision {
  std::string outcome;
  std::string default_module;
  std::string reasons;
  std::string obligations;
  std::string advice;
  std::string overridden;
  std::string missing_facts;
  std::string trace;
};

// Reuses `out`'s storage.
void encode_decision(const Policy& policy, const Decision& d, EncodedDecision& out);
char trace_char(RuleStatus s);

// A decision row. Owning strings; scans reuse one LogEntry so that its
// buffers are allocated once.
struct LogEntry {
  int64_t seq = 0;          // position in the chain, from 1
  std::string id;           // "d-" + 24 hex digits
  std::string request_id;   // as stored (a pseudonym if the schema says so)
  int64_t time = 0;         // the request's time, seconds since the epoch
  int64_t recorded_at = 0;  // wall clock when recorded, milliseconds since the epoch
  std::string bundle;       // "sha256:<hex>" of the bundle's canonical text
  std::string request;      // the request as evaluated, after privacy (privacy.hpp)
  EncodedDecision decision;
  std::string chain;      // the node whose chain holds it ("" in an SQLite log)
  std::string prev_hash;  // `hash` of the previous row; 64 zeros for the first
  std::string hash;       // chain_hash(prev_hash, content_hash(*this))
};

// The canonical serialisation: "ethos-decision 1\n", then for each field in
// this order, `name length\nvalue\n`: id, request_id, time, recorded_at,
// outcome, bundle, default, request, reasons, obligations, advice,
// overridden, missing_facts, trace. Integers in decimal. `seq`, `prev_hash`
// and `hash` are not part of it: the order lives in the chain itself.
void canonical_row(const LogEntry& e, std::string& out);
// SHA-256 (hex) of canonical_row(e).
std::string content_hash(const LogEntry& e);
// SHA-256 (hex) of "ethos-chain 1\n" + prev_hash + "\n" + content_hash + "\n".
std::string chain_hash(std::string_view prev_hash, std::string_view content_hash);
// Appends "NAME LENGTH\nVALUE\n": the length-prefixed field of the bytes a
// row's content hash and a checkpoint's signature cover.
void append_hashed_field(std::string& out, std::string_view name, std::string_view value);

inline constexpr std::string_view kGenesisHash =
    "0000000000000000000000000000000000000000000000000000000000000000";

// Rebuilds a Decision (indices into `policy`) from an entry recorded under
// that policy, to render it in full. Throws std::runtime_error if the entry
// names a rule, obligation or attribute the policy does not have.
Decision decode_decision(const Policy& policy, const LogEntry& e);

}  // namespace ethos
