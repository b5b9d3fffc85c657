// The service's errors: their codes, HTTP statuses and JSON bodies.
#include <ethos/service/service_error.hpp>

#include <ethos/eval/decision.hpp>
#include <ethos/service/service.hpp>

namespace ethos {

const char* error_code_name(ErrorCode code) {
  switch (code) {
    case ErrorCode::kNone:
      return "none";
    case ErrorCode::kMalformedJson:
      return "malformed_json";
    case ErrorCode::kInvalidRequest:
      return "invalid_request";
    case ErrorCode::kInvariantViolated:
      return "invariant_violated";
    case ErrorCode::kBadQuery:
      return "bad_query";
    case ErrorCode::kUnauthorized:
      return "unauthorized";
    case ErrorCode::kForbidden:
      return "forbidden";
    case ErrorCode::kNotFound:
      return "not_found";
    case ErrorCode::kMethodNotAllowed:
      return "method_not_allowed";
    case ErrorCode::kTimeout:
      return "timeout";
    case ErrorCode::kBodyTooLarge:
      return "body_too_large";
    case ErrorCode::kUnsupportedMediaType:
      return "unsupported_media_type";
    case ErrorCode::kPolicyErrors:
      return "policy_errors";
    case ErrorCode::kLogUnavailable:
      return "log_unavailable";
    case ErrorCode::kShuttingDown:
      return "shutting_down";
    case ErrorCode::kInternal:
      return "internal";
    case ErrorCode::kCount_:
      break;
  }
  return "internal";
}

int http_status(ErrorCode code) {
  switch (code) {
    case ErrorCode::kNone:
      return 200;
    case ErrorCode::kMalformedJson:
    case ErrorCode::kInvalidRequest:
    case ErrorCode::kInvariantViolated:
    case ErrorCode::kBadQuery:
      return 400;
    case ErrorCode::kUnauthorized:
      return 401;
    case ErrorCode::kForbidden:
      return 403;
    case ErrorCode::kNotFound:
      return 404;
    case ErrorCode::kMethodNotAllowed:
      return 405;
    case ErrorCode::kTimeout:
      return 408;
    case ErrorCode::kBodyTooLarge:
      return 413;
    case ErrorCode::kUnsupportedMediaType:
      return 415;
    case ErrorCode::kPolicyErrors:
      return 422;
    case ErrorCode::kLogUnavailable:
    case ErrorCode::kShuttingDown:
      return 503;
    case ErrorCode::kInternal:
    case ErrorCode::kCount_:
      break;
  }
  return 500;
}

std::string error_json(ErrorCode code, std::string_view message, std::string_view path,
                       std::string_view invariant) {
  std::string out = R"({"error":{"code":")";
  out += error_code_name(code);
  out += R"(","message":)";
  append_json_string(out, message);
  out += R"(,"path":)";
  if (path.empty())
    out += "null";
  else
    append_json_string(out, path);
  if (!invariant.empty()) {
    out += R"(,"invariant":)";
    append_json_string(out, invariant);
  }
  out += "}}";
  return out;
}

Reply error_reply(ErrorCode code, std::string_view message, std::string_view path) {
  return Reply{http_status(code), error_json(code, message, path), code};
}

Reply bind_error_reply(const BindError& e, std::string_view path) {
  ErrorCode code = !e.invariant.empty()                        ? ErrorCode::kInvariantViolated
                   : e.message.rfind("malformed JSON", 0) == 0 ? ErrorCode::kMalformedJson
                                                               : ErrorCode::kInvalidRequest;
  return Reply{http_status(code), error_json(code, e.message, path, e.invariant), code};
}

}  // namespace ethos
