// Replay: re-running recorded decisions (docs/decision-log.md, "Replay").
//
// - Under their own bundle (the one stored with each decision): every
//   decision must reproduce exactly, field by field; any that does not is a
//   ReplayDifference.
// - Under a candidate bundle: an impact report. A decision *changes* when its
//   outcome, its reasons or its obligations differ; the rules responsible are
//   those among the old and new reasons and obligations whose status differs
//   between the two runs.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include <ethos/compile/bundle.hpp>
#include <ethos/log/decision_log.hpp>

namespace ethos {

struct ReplayOptions {
  LogFilter filter;
  const Bundle* against = nullptr;  // null: each decision's own recorded bundle
  // Called now and then from the calling thread.
  std::function<void(uint64_t done, uint64_t total)> progress;
  // Rows are split by position among this many threads, each with its own
  // read connection (0: one per core, at most 8; small logs use one).
  size_t threads = 0;
};

// A decision that did not reproduce under its own bundle.
struct ReplayDifference {
  std::string decision_id;
  int64_t seq = 0;
  std::string fields;    // the fields that differ, e.g. "outcome, reasons"; or "request", "bundle"
  std::string recorded;  // the first differing field as recorded ...
  std::string replayed;  // ... and as replayed (or the error)
  std::string note;      // why it may differ, e.g. a rule reads a redacted attribute
};

// A decision that a candidate bundle would decide differently.
struct ImpactChange {
  std::string decision_id;
  int64_t seq = 0;
  std::string request_id;
  int64_t time = 0;
  std::string from, to;            // outcomes
  std::vector<std::string> rules;  // responsible rules (ids)
  bool reasons_changed = false;
  bool obligations_changed = false;
};

struct ReplayReport {
  bool against = false;
  std::string candidate_bundle;  // hash, when `against`
  uint64_t replayed = 0;
  uint64_t reproduced = 0;  // own bundle: identical; candidate: unchanged
  std::vector<ReplayDifference> differences;

  uint64_t changed = 0;          // outcome, reasons or obligations differ
  uint64_t outcome_changed = 0;  // of which the outcome differs
  uint64_t not_bound = 0;        // requests the candidate's schema rejects
  std::vector<std::pair<std::string, std::string>>
      not_bound_examples;  // (decision id, error), first few
  std::map<std::pair<std::string, std::string>, uint64_t> transitions;  // (from, to) -> decisions
  std::map<std::string, uint64_t> rules;  // responsible rule -> decisions
  std::vector<ImpactChange> changes;
  double seconds = 0;

  bool reproduced_all() const { return differences.empty() && replayed == reproduced; }
};

// Throws sql::StoreError if the log cannot be read.
ReplayReport replay(const DecisionLog& log, const ReplayOptions& options);

// The report as JSON: one document for `ethos replay --json` and
// `POST /v1/replay` (docs/api.md). At most `max_changes` changed decisions
// are listed; `changes_truncated` says whether there were more.
std::string replay_report_json(const ReplayReport& report, size_t max_changes);

}  // namespace ethos
