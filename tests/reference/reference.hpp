// The reference interpreter: a deliberately simple, slow, tree-walking
// evaluator written from docs/semantics.md alone. It reads the syntax tree
// (ast::File) and the raw request JSON; it shares no code with the compiled
// evaluator (engine/evaluator.cpp), the binder (engine/request.cpp) or the IR.
// From the checked Policy it takes only the schema, to know each attribute's
// type and optionality. It exists to be obviously right, not fast: the
// differential tests compare it with the engine on generated policies.
//
// An Interpreter is immutable once built; decide() is thread-safe.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <ethos/base/source.hpp>
#include <ethos/check/policy.hpp>
#include <ethos/syntax/ast.hpp>

namespace ethos::reference {

// A decision, with rules, obligations and attributes named by their text
// so that it can be compared with the engine's without sharing indices.
struct RefDecision {
  std::string outcome;               // "permit", "deny" or "escalate"
  std::vector<std::string> reasons;  // rule ids, declaration order
  std::string default_module;        // module whose default permit decided, or ""
  std::vector<std::pair<std::string, std::string>> obligations;  // (obligation, rule id)
  std::vector<std::string> advice;                               // rule ids
  std::vector<std::pair<std::string, std::string>> overridden;   // (rule id, overridden by)
  std::vector<std::string> missing;                              // attribute paths, schema order
  std::vector<std::pair<std::string, std::string>> trace;        // (rule id, status)
};

// The request was rejected: the JSON path and what is wrong there.
struct RefBindError {
  std::string path;
  std::string message;
};

struct RefResult {
  bool ok = false;
  RefDecision decision;  // when ok
  RefBindError error;    // when !ok
};

// Renders a decision as text, one fact a line (for mismatch reports).
std::string to_text(const RefDecision& d);

struct Program;  // the bundle's declarations, as reference.cpp keeps them

class Interpreter {
 public:
  // `files` must be the parsed files of a bundle that checked clean against
  // `schema` (the reference does not re-check types); `params` are the
  // deployment's param values as given to CheckOptions.
  Interpreter(const SourceSet& sources, const std::vector<ast::File>& files, const Schema& schema,
              const std::map<std::string, std::string>& params = {});
  ~Interpreter();
  Interpreter(const Interpreter&) = delete;
  Interpreter& operator=(const Interpreter&) = delete;

  RefResult decide(const std::string& request_json) const;

 private:
  std::unique_ptr<Program> program_;
};

}  // namespace ethos::reference
