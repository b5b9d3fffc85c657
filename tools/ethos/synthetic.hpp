// Generated policy packs and request streams for scaling benchmarks:
// seeded and reproducible, readable when written out with --write.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace ethos::cli {

struct SyntheticPack {
  std::vector<std::pair<std::string, std::string>> files;  // (name, text)
  std::vector<std::string> requests;                       // JSON objects
  size_t rules = 0;
  size_t modules = 0;
};

// `rules` rules in modules of 20, two modules per region, so that a request
// (one region) has about 40 candidate rules whatever the pack's size.
SyntheticPack make_synthetic_pack(size_t rules, uint64_t seed, size_t request_count);

}  // namespace ethos::cli
