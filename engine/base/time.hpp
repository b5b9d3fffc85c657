// Times as the language and the log write them: RFC 3339 timestamps in UTC
// and short durations ("30d"). Pure functions: no clock, no locale.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace ethos {

// Parses "2026-11-26T10:15:00Z", "2026-11-26T10:15:00+02:00" or "2026-11-26" into
// seconds since the epoch (UTC). False when the text is not such a time.
bool parse_timestamp(std::string_view text, int64_t& out);
std::string format_timestamp(int64_t seconds);
void append_timestamp(std::string& out, int64_t seconds);  // the same, appended
// "2026-11-26T10:15:00.123Z" for milliseconds since the epoch.
std::string format_millis(int64_t ms);
// "30d", "12h", "15m", "45s", "2w" -> seconds.
bool parse_duration(std::string_view text, int64_t& out);

}  // namespace ethos
