// The OpenID AuthZEN Authorization API 1.0 on `ethos serve` (docs/api.md,
// "AuthZEN"): POST /access/v1/evaluation, POST /access/v1/evaluations and
// GET /.well-known/authzen-configuration, for policy enforcement points that
// speak it. Each evaluation is mapped onto the pack's request schema by the
// mapping the pack declares (authzen_mapping.hpp), then decided and recorded
// exactly as POST /v1/decide decides and records: `decision` is true only
// for an ethos permit, and an evaluation that cannot be recorded is an
// error, never a decision.
//
// Safe to share between threads; the mapping is re-read when the policy is
// reloaded (on the first request after it).
#pragma once

#include <functional>
#include <memory>

#include <ethos/service/http_routes.hpp>
#include <ethos/service/service.hpp>

namespace ethos::server {

class AuthzenEndpoints {
 public:
  using Finish = std::function<void(Outgoing, ErrorCode)>;

  // Reads the pack's mapping (AuthzenMapping::kFileName in a policy
  // directory), if it has one. Throws std::runtime_error when the mapping
  // does not fit the active schema.
  AuthzenEndpoints(Service& service, bool tls);
  ~AuthzenEndpoints();
  AuthzenEndpoints(const AuthzenEndpoints&) = delete;
  AuthzenEndpoints& operator=(const AuthzenEndpoints&) = delete;

  // GET /.well-known/authzen-configuration: the PDP metadata, its URLs
  // formed from the request's Host header.
  Reply configuration(const Incoming& req) const;

  // POST /access/v1/evaluation (`batch` false) and /access/v1/evaluations.
  // True when the answer will come through `finish` (after the log has
  // committed); otherwise it is in `r`. Headers for either go in `out`.
  bool evaluate(const Incoming& req, bool batch, Session& session, Outgoing& out, Reply& r,
                const Finish& finish);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace ethos::server
