// Builds the rule index of a checked policy (see RuleIndex in policy.hpp).
#pragma once

#include <ethos/check/policy.hpp>

namespace ethos {

// Chooses for each rule the most selective guard among the top-level
// conjuncts of its module's `applies when` and its `when` (looking through
// boolean defines): `attr == c`, `attr in [..]`, `set has c`,
// `set has_any [..]`, `flag`, `not flag`. Rules without one stay unguarded.
void build_rule_index(Policy& policy);

}  // namespace ethos
