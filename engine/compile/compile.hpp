// The compile stage: a checked Policy -> the immutable form the evaluator
// runs (the flat instruction program and the rule index).
#pragma once

#include <memory>

#include <ethos/check/policy.hpp>

namespace ethos {

// Builds the program and the rule index of a checked policy. The result is
// immutable: share it freely between threads.
std::shared_ptr<const Policy> compile(std::shared_ptr<Policy> checked);

}  // namespace ethos
