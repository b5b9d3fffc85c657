// The rule graph of a checked policy: attributes, params, definitions, rules
// and obligations, with their reads, overrides and requires edges (what
// `ethos graph` draws and lint walks).
#pragma once

#include <optional>
#include <string>

#include <ethos/check/policy.hpp>
#include <ethos/graph/rule_graph.hpp>

namespace ethos {

RuleGraph build_rule_graph(const Policy& policy);

struct PolicyDotOptions {
  std::string title;
  // Only this module's rules, what they read and require, and the rules that
  // override them or that they override (empty: the whole policy).
  std::string module;
  // Each rule links to this prefix + its id (empty: no links).
  std::string rule_url;
};

// The rule graph as DOT, drawn for a committee: vertices in one box per
// module (request facts and obligations in their own), and a legend of the
// vertex and edge kinds. `ethos graph` and the console draw it.
// An unknown module gives std::nullopt.
std::optional<std::string> policy_dot(const Policy& policy, const PolicyDotOptions& options);

}  // namespace ethos
