// The committee's test runner: each `test` block starts from a request file,
// changes facts, evaluates, and compares with what the committee expects.
#pragma once

#include <string>
#include <vector>

#include <ethos/compile/bundle.hpp>
#include <ethos/eval/decision.hpp>

namespace ethos {

struct TestResult {
  std::string name;
  Span span;
  bool passed = false;
  std::vector<std::string> failures;  // one line each: what was expected, what came out
  Decision decision;                  // empty when the request could not be built
};

struct RuleCoverage {
  bool fired = false;      // some test made it fire
  bool not_fired = false;  // some test saw it not fire (false condition or not applicable)
};

struct TestReport {
  std::vector<TestResult> results;
  std::vector<RuleCoverage> coverage;  // by rule index
  size_t passed() const;
  size_t failed() const;
};

// Runs every test of a checked bundle. Requests are read relative to bundle.root.
TestReport run_tests(const Bundle& bundle);

}  // namespace ethos
