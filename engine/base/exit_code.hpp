// The exit codes of the `ethos` program and of run_http_service(), as
// documented in the README and docs/api.md.
#pragma once

namespace ethos {

// Documented exit codes.
enum Exit : int {
  kOk = 0,
  kPolicyError = 1,  // the policy has errors, a test failed, a chain is broken
  kDeny = 2,         // eval --exit-code: the (last/worst) decision is deny
  kEscalate = 3,     // eval --exit-code: escalate
  kBadRequest = 4,   // a request could not be read or bound
  kUsage = 64,       // bad command line
  kInternal = 70,    // could not complete (I/O, database)
};

}  // namespace ethos
