// The rule graph of a checked policy: attributes, params, definitions, rules
// and obligations, with their reads, overrides and requires edges (what
// `ethos graph` draws and lint walks).
#pragma once

#include <ethos/check/policy.hpp>
#include <ethos/graph/rule_graph.hpp>

namespace ethos {

RuleGraph build_rule_graph(const Policy& policy);

}  // namespace ethos
