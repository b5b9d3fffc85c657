// Lowers a checked policy's conditions to the evaluator's program (Program
// in policy.hpp): one pre-order subtree per rule, boolean define and module
// guard, with the common comparisons fused into single instructions.
#pragma once

#include <ethos/check/policy.hpp>

namespace ethos {

void build_program(Policy& policy);

}  // namespace ethos
