// A Decision: the outcome of one evaluation with everything that justifies it.
// Rules, obligations and attributes are referred to by index into the Policy
// that made it; decision_json() renders the documented JSON shape
// (docs/decision-format.md).
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "policy.hpp"

namespace ethos {

enum class Outcome : uint8_t { kPermit, kDeny, kEscalate };
const char* outcome_name(Outcome o);

enum class RuleStatus : uint8_t {
  kNotApplicable,  // its module's `applies when` is false
  kNotFired,       // its condition is false
  kFired,          // its condition is true and it took effect
  kUnknown,        // its condition needs a fact the request does not have
  kOverridden,     // it fired (or was unknown) but a rule that overrides it fired
};
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
};

struct DecisionFormat {
  std::string decision_id;  // empty: omitted
  std::string bundle_hash;  // "sha256:..."
  bool trace = true;
  bool pretty = false;
};

// The decision as JSON (docs/decision-format.md).
std::string decision_json(const Policy& policy, const Decision& d, const DecisionFormat& fmt);
// The decision for a person: outcome first, reasons with citations, obligations, missing facts.
std::string decision_text(const Policy& policy, const Decision& d);

}  // namespace ethos
