// A Decision: the outcome of one evaluation with everything that justifies it.
// Rules, obligations and attributes are referred to by index into the Policy
// that made it; decision_json() renders the documented JSON shape
// (docs/decision-format.md).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <ethos/check/policy.hpp>

namespace ethos {

enum class Outcome : uint8_t { kPermit, kDeny, kEscalate };
const char* outcome_name(Outcome o);

const char* rule_status_name(RuleStatus s);

struct Decision {
  Outcome outcome = Outcome::kDeny;
  std::string request_id;
  int64_t time = 0;
  // Rules that decided the outcome (fired or unknown), in rule order.
  std::vector<uint32_t> reasons;
  // When no rule decided: the module whose `default permit` applied, or -1
  // for the built-in default deny.
  int32_t default_module = -1;
  std::vector<std::pair<uint32_t, uint32_t>> obligations;  // (obligation, rule)
  std::vector<uint32_t> advice;                            // advise rules that fired
  std::vector<std::pair<uint32_t, uint32_t>> overridden;   // (rule, overridden by)
  std::vector<uint32_t> missing;                           // attribute slots, sorted
  std::vector<RuleStatus> trace;                           // by rule index
  // Rules whose condition was evaluated (the others were excluded by the
  // rule index), in the order they were evaluated (rank order, not
  // declaration order); the evaluator uses it to reset `trace` cheaply when
  // the Decision is reused for the same policy.
  std::vector<uint32_t> evaluated;
  const Policy* trace_policy = nullptr;
  // Where the request was made, read when the policy declares sources: a
  // reason cites only the sources in force there at `time`.
  Place place;
};

// How much of the per-rule trace a decision's JSON carries
// (docs/decision-format.md, "The trace").
enum class TraceMode : uint8_t {
  kFull,     // every rule's status
  kCompact,  // the rules that fired, were unknown or overridden; counts of the rest
  kNone,
};

// "full", "compact", "none"; parse_trace_mode() is false for anything else.
const char* trace_mode_name(TraceMode m);
bool parse_trace_mode(std::string_view text, TraceMode& out);

struct DecisionFormat {
  std::string decision_id;  // empty: omitted
  std::string bundle_hash;  // "sha256:..."
  TraceMode trace_mode = TraceMode::kCompact;
  bool pretty = false;
};

// The compact trace of a decision: what decided it, so that its size follows
// the rules that fired, were unknown or were overridden, not the pack.
struct CompactTrace {
  std::vector<uint32_t> rules;  // fired, unknown or overridden, in declaration order
  size_t not_fired = 0;         // how many of the other rules ended not_fired
  size_t not_applicable = 0;    // and not_applicable
};

// Summarises decisions made under one policy. For a decision the evaluator
// made under that policy, the cost follows the rules it evaluated (the rule
// index's candidates), not the pack; any other decision (decoded from the
// log) is read rule by rule. Immutable; share freely. The policy must
// outlive it.
class TraceSummarizer {
 public:
  explicit TraceSummarizer(const Policy& policy);
  void summarize(const Decision& d, CompactTrace& out) const;

 private:
  const Policy& policy_;
  size_t excluded_not_applicable_ = 0;  // rules whose excluded status is not_applicable
};

// Writes decisions as JSON (docs/decision-format.md). Built once per policy:
// every rule's reason object, trace key and every attribute path are escaped
// ahead of time, so writing a decision is mostly copying. Immutable after
// construction; share freely. The policy must outlive the writer.
class DecisionWriter {
 public:
  explicit DecisionWriter(const Policy& policy);
  // Appends the decision to `out` (compact JSON; pretty when fmt.pretty).
  void write(const Decision& d, const DecisionFormat& fmt, std::string& out) const;
  std::string write(const Decision& d, const DecisionFormat& fmt) const;

 private:
  const Policy& policy_;
  TraceSummarizer summarizer_;
  void write_compact_trace(const Decision& d, std::string& out) const;
  std::vector<std::string> reason_head_;  // {"rule":"id","effect":"e","status":"
  void write_citations(const Rule& r, const Decision& d, std::string& out) const;
  std::vector<std::string> reason_tail_;  // ","because":...} (without cite, if below)
  std::vector<std::string> reason_rest_;  // by rule: ,"concern":...} when cites are per decision
  std::vector<std::string> rule_id_;      // "id"
  std::vector<std::string> trace_entry_;  // by rule * kStatuses + status: ,"id":"status"
  std::vector<std::string> obligation_head_;  // {"id":"o","text":"t","rule":
  std::vector<std::string> attribute_;        // "path"
  std::vector<std::string> module_default_;
};

// The decision as JSON (docs/decision-format.md); builds a writer each call.
std::string decision_json(const Policy& policy, const Decision& d, const DecisionFormat& fmt);
// Appends `s` to `out` as a JSON string literal.
void append_json_string(std::string& out, std::string_view s);
// The decision for a person: outcome first, reasons with citations, obligations, missing facts.
std::string decision_text(const Policy& policy, const Decision& d);

}  // namespace ethos
