// The AuthZEN Decision for an ethos decision (docs/api.md, "AuthZEN", "The
// response"). Pure text work: no state, safe from any thread.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <ethos/eval/decision.hpp>
#include <ethos/service/authzen_mapping.hpp>

namespace ethos {

// An AuthZEN Decision: `decision` true only for a permit; `context` is the
// ethos decision itself (decision-format.md, without the trace) plus where
// its missing facts go in the AuthZEN body, the ignored properties, and for
// an escalation the rules that call for a person.
// `decision` is the ethos decision's JSON text as the service renders it
// (without its trace); `origins` say where the evaluation's entities came
// from; `ignored` the properties the mapping did not use; `stopped_by` names
// the evaluation semantic that ended a batch here, or is null.
void append_authzen_decision(std::string& out, std::string_view decision, Outcome outcome,
                             const AuthzenMapping& mapping, const AuthzenOrigins& origins,
                             const std::vector<std::string>& ignored, const char* stopped_by);

}  // namespace ethos
