// Small text utilities shared by every stage's diagnostics.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace ethos {

// Levenshtein distance, for "did you mean" help.
size_t edit_distance(std::string_view a, std::string_view b);
// The closest candidate within a small distance, or empty.
std::string closest(std::string_view word, const std::vector<std::string>& candidates);
// A whole decimal integer (an optional `-`, then digits, nothing else); false
// when `text` is anything else or out of range.
bool parse_int(std::string_view text, int64_t& out);

}  // namespace ethos
