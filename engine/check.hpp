// The checker: syntax trees -> a typed, resolved, compiled Policy.
// The user's mistakes are appended to `diags` (every one, not only the
// first); the result is null when there was any error.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "ast.hpp"
#include "policy.hpp"
#include "source.hpp"

namespace ethos {

struct CheckOptions {
  // Deployment values for params: "module.name" -> literal text ("14", "true", "\"x\"").
  std::map<std::string, std::string> params;
};

std::shared_ptr<const Policy> check(const SourceSet& sources, const std::vector<ast::File>& files,
                                    Diagnostics& diags, const CheckOptions& options = {});

// Parses "2026-11-26T10:15:00Z", "2026-11-26T10:15:00+02:00" or "2026-11-26" into
// seconds since the epoch (UTC). False when the text is not such a time.
bool parse_timestamp(std::string_view text, int64_t& out);
std::string format_timestamp(int64_t seconds);
void append_timestamp(std::string& out, int64_t seconds);  // the same, appended
// "30d", "12h", "15m", "45s", "2w" -> seconds.
bool parse_duration(std::string_view text, int64_t& out);

// Levenshtein distance, for "did you mean" help.
size_t edit_distance(std::string_view a, std::string_view b);
// The closest candidate within a small distance, or empty.
std::string closest(std::string_view word, const std::vector<std::string>& candidates);

}  // namespace ethos
