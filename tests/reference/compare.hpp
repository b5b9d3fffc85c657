// Glue for the differential tests and fuzz targets: the engine's Decision in
// the reference's terms (rules, obligations and attributes by name), and a
// comparison. Not part of the reference interpreter itself.
#pragma once

#include <string>

#include <ethos/check/policy.hpp>
#include <ethos/eval/decision.hpp>
#include <ethos/eval/request.hpp>
#include "reference.hpp"

namespace ethos::reference {

RefDecision from_engine(const Policy& p, const Decision& d);

// Empty when the two decisions agree; else both, as text.
std::string difference(const RefDecision& engine, const RefDecision& reference);

// Empty when two bindings of one request are the same request (present
// slots, their values and texts, sets as multisets of symbols and other
// strings, request id, time); else the first difference, by attribute path.
std::string binding_difference(const Policy& p, const BoundRequest& a, const BoundRequest& b);

}  // namespace ethos::reference
