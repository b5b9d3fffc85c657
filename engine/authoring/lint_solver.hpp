// The decision procedure behind `ethos lint`: a small, sound solver for
// questions about a compiled Policy ("can this rule fire?", "does this rule
// fire whenever that one does?").
//
// Conditions are translated into propositional formulas over the language's
// atoms in Kleene's three values: each condition has a formula for "it is
// true" and one for "it is false" (neither: unknown), with the presence of
// every optional attribute a variable of its own. Atoms the solver
// understands exactly: booleans, enum and string equality and list
// membership, comparisons of int, timestamp and duration attributes (and of
// `days_since(attr)` and `now`) with constants and params, and set
// membership, `has_any` and `has_all` over a finite universe of the policy's
// strings plus enough fresh ones. Anything else (arithmetic, comparisons of
// two attributes) is an opaque atom that may take any value, which only
// over-approximates: "unsatisfiable" is therefore always a proof, while a
// satisfying assignment is only a candidate until its witness request has
// been run through the real evaluator (lint.cpp does).
//
// The search is DPLL over a Tseitin encoding, with unit propagation and
// consistency checks for finite domains and integer intervals, bounded by a
// step budget (an exhausted budget answers kUnknown, never a claim).
// Not thread-safe; one per thread. The Policy must outlive it.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <ethos/check/policy.hpp>

namespace ethos {

class PolicySolver {
 public:
  explicit PolicySolver(const Policy& policy, size_t step_budget = 200000);
  ~PolicySolver();
  PolicySolver(const PolicySolver&) = delete;
  PolicySolver& operator=(const PolicySolver&) = delete;

  // A formula, by handle.
  using Formula = uint32_t;

  Formula truth(uint32_t ir_node);    // the IR node evaluates to true
  Formula falsity(uint32_t ir_node);  // the IR node evaluates to false
  // A rule's condition including its module's `applies when`.
  Formula condition_true(uint32_t rule);
  Formula condition_false(uint32_t rule);
  // A rule's status as the evaluator computes it.
  Formula fired(uint32_t rule);
  Formula blocks(uint32_t rule);  // fired or unknown (a forbid or escalate then decides)
  Formula overridden(uint32_t rule);
  Formula all(const std::vector<Formula>& parts);
  Formula any(const std::vector<Formula>& parts);
  Formula negate(Formula f);

  enum class Answer { kSat, kUnsat, kUnknown };
  // Is there a request for which every part holds?
  Answer solve(const std::vector<Formula>& parts);
  // After kSat: a request, as JSON text valid against the schema, built from
  // the solver's model. Opaque atoms are not modelled, so run it before use.
  std::string witness() const;
  // After kUnsat on `parts`: the indices of a minimal subset that is still
  // unsatisfiable (only parts from `candidates` are dropped).
  std::vector<size_t> core(const std::vector<Formula>& parts,
                           const std::vector<size_t>& candidates);

  // The conjuncts of "node evaluates to `value`", flattened through `and`,
  // `not`, `or` (when false) and defines, for proofs.
  struct Conjunct {
    uint32_t node;
    bool value;
  };
  std::vector<Conjunct> conjuncts(uint32_t ir_node, bool value) const;
  Formula conjunct(const Conjunct& c) { return c.value ? truth(c.node) : falsity(c.node); }

  size_t steps_used() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// An IR expression as policy text (`patient.age < 18`, params and defines by name).
std::string ir_text(const Policy& policy, uint32_t node);

}  // namespace ethos
