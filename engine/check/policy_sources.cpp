// Where and when a declared source applies, and a rule's citations in force.
#include <ethos/check/policy.hpp>

namespace ethos {

bool Source::applies_in(const Place& place) const {
  switch (scope) {
    case Scope::kGlobal:
      return true;
    case Scope::kEu:
      return place.eu;
    case Scope::kCountry:
      return place.country == country;
    case Scope::kState:
      return place.country == country && place.state == state;
  }
  return false;
}

std::vector<const Citation*> Policy::citations_in_force(const Rule& rule, int64_t time,
                                                        const Place& place) const {
  std::vector<const Citation*> out;
  for (const auto& c : rule.citations)
    if (c.source < 0 || sources[static_cast<size_t>(c.source)].applies(time, place))
      out.push_back(&c);
  return out;
}

}  // namespace ethos
