// Charts for `ethos report` as inline SVG, drawn here so that the report is
// one self-contained file with no script: it prints to PDF as it shows.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ethos::cli {

// Text for HTML and SVG content and attribute values.
std::string html_escape(std::string_view s);

struct TimeSeries {
  std::string name;
  std::string colour;  // "#2e7d32"
  std::vector<uint64_t> values;
};

// Lines of counts over time; `times` are seconds since the epoch, one per value.
std::string svg_time_lines(const std::vector<int64_t>& times, const std::vector<TimeSeries>& series,
                           const std::string& title);

// A ranking as horizontal bars, most frequent first.
std::string svg_rank_bars(const std::vector<std::pair<std::string, uint64_t>>& rows,
                          const std::string& colour, const std::string& title);

}  // namespace ethos::cli
