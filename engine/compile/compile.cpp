#include <ethos/compile/compile.hpp>

#include <utility>

#include <ethos/compile/index.hpp>
#include <ethos/compile/program.hpp>

namespace ethos {

std::shared_ptr<const Policy> compile(std::shared_ptr<Policy> checked) {
  if (!checked) return nullptr;
  build_program(*checked);
  build_rule_index(*checked);
  return checked;
}

}  // namespace ethos
