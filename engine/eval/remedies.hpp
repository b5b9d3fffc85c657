// Remedies: what would make a deny or an escalate a permit.
//
// A remedy is a set of at most `max_facts` changes to the request's facts
// (a value changes, an absent fact is given, an optional fact is removed)
// after which ethos permits the request; every remedy has been verified by
// evaluating the changed request, and carries the obligations and advice
// the permit would come with. Facts a person cannot change never appear:
// `@fixed` ones (and the fields of a `@fixed` record), `@pseudonymize`
// identifiers, `request_id` and `time`.
//
// The search is breadth-first, smallest sets first. Which facts it tries
// comes from the decision: the attributes read by the rules that block a
// permit (forbid and escalate rules that fired or are unknown, and the rules
// that could override them), the missing facts, and, when no permit rule
// fired, the attributes the permit rules read. Which values it tries comes
// from the policy: booleans flip; enums take each other value; numbers and
// timestamps go just across each constant they are compared with (for
// `days_since(t) > 365`, t moves to 365 and 366 days before the request's
// time); strings take the constants they are compared with; sets gain or
// lose the strings the rules look for. A remedy is minimal: no smaller set
// of its changes is also a remedy. The search stops at the time budget and
// says so.
//
// Thread-safe: find_remedies() uses its own evaluator.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <ethos/check/policy.hpp>
#include <ethos/eval/decision.hpp>

namespace ethos {

struct FactChange {
  uint32_t slot = 0;
  std::string path;
  std::string before;  // the old value as JSON, or empty when the fact was absent
  std::string after;   // the new value as JSON, or empty when the fact becomes absent
};

struct Remedy {
  std::vector<FactChange> changes;  // in schema order
  Outcome outcome = Outcome::kPermit;
  std::vector<uint32_t>
      obligations;                // obligation indices, as the changed request's decision has them
  std::vector<uint32_t> advice;   // advise rules that would fire
  std::vector<uint32_t> reasons;  // the rules that would permit it
};

struct RemedyOptions {
  size_t max_facts = 3;
  size_t max_remedies = 5;
  std::chrono::milliseconds budget{300};
};

struct RemedySearch {
  std::vector<Remedy> remedies;  // smallest first
  bool cut_short = false;        // the budget ran out; smaller or other remedies may exist
  size_t evaluated = 0;          // changed requests evaluated
};

// Remedies for a request (JSON text, valid against the policy's schema)
// whose decision is `decision`. A permit has none.
RemedySearch find_remedies(const std::shared_ptr<const Policy>& policy,
                           std::string_view request_json, const Decision& decision,
                           const RemedyOptions& options = {});

// Which of a decision's missing facts could change its outcome. Each missing
// fact takes "absent" or one of the values the remedies would try for it
// (the values the policy compares it with); a fact is useful when, for some
// choice of values of all the missing facts, giving it a value instead of
// leaving it absent changes the outcome. So two facts that matter only
// together (`a or b`, both absent) are both useful, and a fact that a rule
// reads but that cannot matter (`b and false`) is not. When a missing fact
// is a whole absent record (its fields are not enumerated) or the
// combinations would exceed `max_evaluations`, every fact is kept and
// `exhaustive` is false.
struct MissingFactCheck {
  std::vector<uint32_t> useful;   // attribute slots, a sorted subset of decision.missing
  std::vector<uint32_t> useless;  // the rest of decision.missing
  bool exhaustive = true;
  size_t evaluated = 0;
};
MissingFactCheck check_missing_facts(const std::shared_ptr<const Policy>& policy,
                                     std::string_view request_json, const Decision& decision,
                                     size_t max_evaluations = 4096);

// "permitted if `vendor.baa_signed` becomes true and `vendor.baa_covers_product` becomes true"
std::string remedy_text(const Policy& policy, const Remedy& remedy);
// The remedies for a person, one per line with their obligations, or why there are none.
std::string remedies_text(const Policy& policy, const RemedySearch& search,
                          const RemedyOptions& options = {});
// The remedies as a JSON array: [{"changes": [{"fact", "from", "to"}], "outcome", "obligations",
// "advice", "text"}].
std::string remedies_json(const Policy& policy, const RemedySearch& search);

}  // namespace ethos
