// Counters and latency histograms of the decision service, rendered in the
// Prometheus text format (docs/api.md, "Metrics"). Every update is a relaxed
// atomic increment: safe and cheap from any thread.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <string>
#include <string_view>

#include <ethos/eval/decision.hpp>
#include <ethos/service/service_error.hpp>

namespace ethos {

// A cumulative histogram of durations with fixed bucket bounds (seconds).
class LatencyHistogram {
 public:
  static constexpr std::array<double, 14> kBounds = {
      0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5};
  void observe_ns(int64_t ns);
  // Appends `# HELP`, `# TYPE` and the bucket, sum and count lines.
  void render(std::string& out, std::string_view name, std::string_view help) const;
  uint64_t count() const { return count_.load(std::memory_order_relaxed); }

 private:
  std::array<std::atomic<uint64_t>, kBounds.size() + 1> buckets_{};  // last: +Inf only
  std::atomic<uint64_t> sum_ns_{0};
  std::atomic<uint64_t> count_{0};
};

class ServiceMetrics {
 public:
  void decided(Outcome o) { by_outcome_[static_cast<size_t>(o)].fetch_add(1, kRelaxed); }
  void error(ErrorCode c) { errors_[static_cast<size_t>(c)].fetch_add(1, kRelaxed); }
  void http_response(int status);
  void reloaded(bool ok) { (ok ? reloads_ok_ : reloads_failed_).fetch_add(1, kRelaxed); }

  LatencyHistogram decide_seconds;     // a decide() call: parse, bind, evaluate, record, render
  LatencyHistogram log_write_seconds;  // submit to commit, per decision
  LatencyHistogram http_seconds;       // an HTTP request, as the server saw it

  uint64_t decisions(Outcome o) const { return by_outcome_[static_cast<size_t>(o)].load(kRelaxed); }
  uint64_t errors(ErrorCode c) const { return errors_[static_cast<size_t>(c)].load(kRelaxed); }

  // Appends every metric (ethos_*) in the text exposition format.
  void render(std::string& out) const;

 private:
  static constexpr auto kRelaxed = std::memory_order_relaxed;
  static constexpr std::array<int, 16> kStatuses = {200, 400, 401, 403, 404, 405, 408, 413,
                                                    415, 422, 429, 431, 500, 503, 505, 0};
  std::array<std::atomic<uint64_t>, 3> by_outcome_{};
  std::array<std::atomic<uint64_t>, static_cast<size_t>(ErrorCode::kCount_)> errors_{};
  std::array<std::atomic<uint64_t>, kStatuses.size()> http_{};  // last: any other status
  std::atomic<uint64_t> reloads_ok_{0}, reloads_failed_{0};
};

}  // namespace ethos
