#include <iostream>

#include "cli.hpp"

namespace ethos::cli {

int run_record_bench(const Bundle&, const std::vector<std::string>&, const std::string&, size_t, bool) {
  std::cerr << "ethos bench --record: the decision log is not built yet\n";
  return kInternal;
}

}  // namespace ethos::cli
