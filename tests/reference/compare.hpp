// Glue for the differential tests and fuzz targets: the engine's Decision in
// the reference's terms (rules, obligations and attributes by name), and a
// comparison. Not part of the reference interpreter itself.
#pragma once

#include <string>

#include "decision.hpp"
#include "policy.hpp"
#include "reference.hpp"

namespace ethos::reference {

RefDecision from_engine(const Policy& p, const Decision& d);

// Empty when the two decisions agree; else both, as text.
std::string difference(const RefDecision& engine, const RefDecision& reference);

}  // namespace ethos::reference
