// The checker: syntax trees -> a typed, resolved Policy (not yet compiled).
// The user's mistakes are appended to `diags` (every one, not only the
// first); the result is null when there was any error.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include <ethos/syntax/ast.hpp>
#include <ethos/check/policy.hpp>
#include <ethos/base/source.hpp>

namespace ethos {

struct CheckOptions {
  // Deployment values for params: "module.name" -> literal text ("14", "true", "\"x\"").
  std::map<std::string, std::string> params;
};

// The policy is typed and resolved, rules ordered by the rule graph; the
// compile stage (ethos/compile/compile.hpp) lowers it for the evaluator.
std::shared_ptr<Policy> check(const SourceSet& sources, const std::vector<ast::File>& files,
                              Diagnostics& diags, const CheckOptions& options = {});

}  // namespace ethos
