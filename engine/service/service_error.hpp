// The errors the decision service answers with, by kind (docs/api.md,
// "Errors"): each has a stable code for programs, an HTTP status, and a
// body {"error": {"code", "message", "path"}}.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace ethos {

enum class ErrorCode : uint8_t {
  kNone,
  kMalformedJson,         // 400: the body is not JSON
  kInvalidRequest,        // 400: JSON that does not fit the schema or the endpoint
  kInvariantViolated,     // 400: a request that breaks an invariant of the schema
  kBadQuery,              // 400: a query parameter is unknown or malformed
  kUnauthorized,          // 401: no token, or one that is unknown or revoked
  kForbidden,             // 403: the token's role may not call this endpoint
  kNotFound,              // 404
  kMethodNotAllowed,      // 405
  kTimeout,               // 408: the client was too slow
  kBodyTooLarge,          // 413
  kUnsupportedMediaType,  // 415: a body that is not application/json
  kPolicyErrors,          // 422: a policy (reload, replay candidate) does not compile
  kLogUnavailable,        // 503: the decision could not be recorded
  kShuttingDown,          // 503
  kInternal,              // 500
  kCount_,
};

const char* error_code_name(ErrorCode code);
int http_status(ErrorCode code);
// {"error": {"code", "message", "path"}}; an empty path is JSON null. With
// an invariant (kInvariantViolated), also "invariant": its id.
std::string error_json(ErrorCode code, std::string_view message, std::string_view path = {},
                       std::string_view invariant = {});

}  // namespace ethos
