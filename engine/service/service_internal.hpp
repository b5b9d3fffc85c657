// Private to service.cpp and session.cpp: the clock of a log failure, and JSON's whitespace.
#pragma once

#include <chrono>
#include <cstdint>

namespace ethos::service_internal {

// Session notes when a decision could not be recorded, Service::ready() reads it.
inline int64_t steady_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

inline bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

}  // namespace ethos::service_internal
