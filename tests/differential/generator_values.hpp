// Private to generator.cpp and generator_requests.cpp: the ints and times both draw from.
#pragma once

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "generator.hpp"

namespace ethos::differential {

inline constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
inline constexpr int64_t kMin = std::numeric_limits<int64_t>::min();
inline constexpr int64_t kBaseTime = 1795687200;  // 2026-11-26T10:00:00Z

inline const std::vector<int64_t> kInts = {
    0,  1,   2,          3,          17,         18,          21,   65,  100,
    -1, -30, 2147483647, 2147483648, 4294967297, -4294967296, kMax, kMin};
inline const std::vector<int64_t> kSmallInts = {0, 1, 2, 3, 17, 18, 21, 65, 100, -1};

// `secs` as timestamp text in one of the spellings requests and policies accept, picked by
// `style` (0: `2026-11-26T10:00:00Z`, 1: a bare date when at midnight, 2-6: other zones).
std::string format_time(int64_t secs, int style);

}  // namespace ethos::differential
