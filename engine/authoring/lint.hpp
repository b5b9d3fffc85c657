// `ethos lint`: what a committee cannot see by reading its rules.
//
// Each finding names the rules involved with their source locations, and
// comes with a witness (a concrete request, valid against the schema, that
// ethos has evaluated to show the finding) and, where the finding says that
// something can never happen, a short proof (the conditions that cannot hold
// together). The proofs come from PolicySolver (lint_solver.hpp), which is
// sound: a question it cannot settle is counted as undecided, never reported.
//
// Findings, by kind:
// - never-fires (error): a rule's condition, with its module's `applies
//   when` and its `unless`, can never be true;
// - shadowed (error): a permit or require rule never decides a permit,
//   because whenever it fires some forbid or escalate fires or is unknown;
// - always-overridden (error): whenever a rule's condition holds, a rule
//   that overrides it fires;
// - dead-exception (error): an `overrides` whose target's condition is false
//   whenever the overriding rule fires;
// - redundant (warning): a rule with the same effect (the same obligation
//   for require) as another that fires whenever it does;
// - unused-define, unused-param, unused-obligation, unused-attribute
//   (warning): never read by any rule (attributes: `request_id`, `time` and
//   @pseudonymize identifiers are exempt; they exist for the log);
// - indistinct-enum-values (note): enum values that every rule treats alike.
//
// Thread-safe: lint() shares nothing; the Bundle is only read.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include <ethos/base/source.hpp>
#include <ethos/compile/bundle.hpp>

namespace ethos {

enum class FindingKind : uint8_t {
  kNeverFires,
  kShadowed,
  kAlwaysOverridden,
  kDeadException,
  kRedundant,
  kUnusedDefine,
  kUnusedParam,
  kUnusedObligation,
  kUnusedAttribute,
  kIndistinctEnumValues,
};
const char* finding_kind_name(FindingKind k);  // "never-fires", "shadowed", ...

struct Finding {
  FindingKind kind = FindingKind::kNeverFires;
  Severity severity = Severity::kError;
  std::string message;                // one line, lowercase, names in backticks
  Span span;                          // the subject's declaration
  std::vector<std::string> rules;     // rule ids involved, the subject first
  std::vector<Note> notes;            // the other rules' locations
  std::string witness;                // request JSON that ethos evaluated; empty when none
  std::string checked;                // what evaluating the witness showed
  std::vector<std::string> relevant;  // witness facts worth showing a person (`path = value`)
  std::string proof;  // why no request can do otherwise; empty when not a claim of impossibility
  std::string help;
};

struct LintOptions {
  size_t solver_steps = 200000;  // per question; an exhausted budget leaves the question undecided
};

struct LintReport {
  std::vector<Finding> findings;  // sorted by file and position
  size_t questions = 0;           // questions put to the solver
  size_t undecided = 0;           // ... that it could not settle (no finding reported)
  size_t errors() const;
  size_t warnings() const;
};

// Lints a bundle that compiled (bundle.policy not null).
LintReport lint(const Bundle& bundle, const LintOptions& options = {});

// For a person: each finding rendered like a diagnostic, then its witness and proof.
std::string lint_text(const Bundle& bundle, const LintReport& report);
// For tools: {"findings": [...], "summary": {...}}.
std::string lint_json(const Bundle& bundle, const LintReport& report);

}  // namespace ethos
