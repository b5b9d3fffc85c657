// What a rule does when its condition holds: the one Effect of the language,
// shared by the syntax tree, the checked policy, the rule graph and decisions.
#pragma once

#include <cstdint>

namespace ethos {

enum class Effect : uint8_t { kPermit, kForbid, kEscalate, kAdvise, kRequire };
// "permit", "forbid", "escalate", "advise", "require".
const char* effect_name(Effect e);

}  // namespace ethos
