// The checker: syntax trees -> a typed, resolved Policy (not yet compiled).
// The user's mistakes are appended to `diags` (every one, not only the
// first); the result is null when there was any error.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include <ethos/base/limits.hpp>
#include <ethos/base/source.hpp>
#include <ethos/check/policy.hpp>
#include <ethos/syntax/ast.hpp>

namespace ethos {

struct CheckOptions {
  // Deployment values for params: "module.name" -> literal text ("14", "true", "\"x\"").
  std::map<std::string, std::string> params;
  // How deeply the policy text may nest, and the requests bound to the
  // policy (ethos/base/limits.hpp); kept as Policy::max_depth.
  uint32_t max_depth = kDefaultMaxDepth;
};

// The policy is typed and resolved, rules ordered by the rule graph; the
// compile stage (ethos/compile/compile.hpp) lowers it for the evaluator.
std::shared_ptr<Policy> check(const SourceSet& sources, const std::vector<ast::File>& files,
                              Diagnostics& diags, const CheckOptions& options = {});

}  // namespace ethos
