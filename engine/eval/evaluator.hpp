// The evaluator: a compiled Policy and a BoundRequest in, a Decision out.
// A pure function of (policy, request): "now" is the request's own time.
// The Evaluator keeps per-call scratch space: use one per thread; the
// Policy it reads is shared and never written.
#pragma once

#include <memory>

#include <ethos/check/policy.hpp>
#include <ethos/eval/decision.hpp>
#include <ethos/eval/request.hpp>

namespace ethos {

// The first invariant of `policy` (an index into Policy::invariants) that
// `request` breaks: its `when` true and its condition false, both known.
// -1 when it breaks none: a fact an invariant needs that is absent makes it
// unknown, and an unknown invariant is not broken.
int32_t broken_invariant(const Policy& policy, const BoundRequest& request);

class Evaluator {
 public:
  explicit Evaluator(std::shared_ptr<const Policy> policy);
  ~Evaluator();
  Evaluator(Evaluator&&) noexcept;
  Evaluator& operator=(Evaluator&&) noexcept;

  // Evaluates into `out`, reusing its storage.
  void evaluate(const BoundRequest& request, Decision& out);
  Decision evaluate(const BoundRequest& request);

  const Policy& policy() const { return *policy_; }

 private:
  std::shared_ptr<const Policy> policy_;
  struct Scratch;
  std::unique_ptr<Scratch> scratch_;
};

}  // namespace ethos
