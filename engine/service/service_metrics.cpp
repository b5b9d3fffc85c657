#include <ethos/service/service_metrics.hpp>

#include <cstdio>

namespace ethos {

namespace {

std::string number(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.9g", v);
  return buf;
}

void header(std::string& out, std::string_view name, std::string_view help, std::string_view type) {
  out += "# HELP ";
  out += name;
  out += ' ';
  out += help;
  out += "\n# TYPE ";
  out += name;
  out += ' ';
  out += type;
  out += '\n';
}

}  // namespace

void LatencyHistogram::observe_ns(int64_t ns) {
  if (ns < 0) ns = 0;
  double s = static_cast<double>(ns) * 1e-9;
  size_t i = 0;
  while (i < kBounds.size() && s > kBounds[i]) ++i;
  buckets_[i].fetch_add(1, std::memory_order_relaxed);
  sum_ns_.fetch_add(static_cast<uint64_t>(ns), std::memory_order_relaxed);
  count_.fetch_add(1, std::memory_order_relaxed);
}

void LatencyHistogram::render(std::string& out, std::string_view name,
                              std::string_view help) const {
  header(out, name, help, "histogram");
  uint64_t cumulative = 0;
  for (size_t i = 0; i < kBounds.size(); ++i) {
    cumulative += buckets_[i].load(std::memory_order_relaxed);
    out += name;
    out += "_bucket{le=\"" + number(kBounds[i]) + "\"} " + std::to_string(cumulative) + "\n";
  }
  cumulative += buckets_[kBounds.size()].load(std::memory_order_relaxed);
  out += name;
  out += "_bucket{le=\"+Inf\"} " + std::to_string(cumulative) + "\n";
  out += name;
  out +=
      "_sum " + number(static_cast<double>(sum_ns_.load(std::memory_order_relaxed)) * 1e-9) + "\n";
  out += name;
  // The count is the +Inf bucket, read once, so that the two always agree.
  out += "_count " + std::to_string(cumulative) + "\n";
}

void ServiceMetrics::http_response(int status) {
  size_t i = 0;
  while (i + 1 < kStatuses.size() && kStatuses[i] != status) ++i;
  http_[i].fetch_add(1, kRelaxed);
}

void ServiceMetrics::render(std::string& out) const {
  header(out, "ethos_decisions_total", "Decisions answered (and recorded), by outcome.", "counter");
  for (Outcome o : {Outcome::kPermit, Outcome::kDeny, Outcome::kEscalate})
    out += std::string("ethos_decisions_total{outcome=\"") + outcome_name(o) + "\"} " +
           std::to_string(decisions(o)) + "\n";

  decide_seconds.render(out, "ethos_decide_duration_seconds",
                        "Time to decide one call (one request or a batch): parse, bind, "
                        "evaluate, record, render.");
  log_write_seconds.render(out, "ethos_log_write_duration_seconds",
                           "Time from submitting a decision to the log until it is committed.");
  http_seconds.render(
      out, "ethos_http_request_duration_seconds",
      "Time to answer an HTTP request, from its first byte read to the handler's end.");

  header(out, "ethos_errors_total", "Requests answered with an error, by kind.", "counter");
  for (size_t i = 1; i < errors_.size(); ++i)
    out += std::string("ethos_errors_total{kind=\"") + error_code_name(static_cast<ErrorCode>(i)) +
           "\"} " + std::to_string(errors_[i].load(kRelaxed)) + "\n";

  header(out, "ethos_http_responses_total", "HTTP responses, by status code.", "counter");
  for (size_t i = 0; i < kStatuses.size(); ++i) {
    uint64_t n = http_[i].load(kRelaxed);
    if (n == 0) continue;
    std::string code = kStatuses[i] ? std::to_string(kStatuses[i]) : "other";
    out += "ethos_http_responses_total{code=\"" + code + "\"} " + std::to_string(n) + "\n";
  }

  header(out, "ethos_policy_reloads_total", "Policy reloads, by result.", "counter");
  out += "ethos_policy_reloads_total{result=\"ok\"} " + std::to_string(reloads_ok_.load(kRelaxed)) +
         "\n";
  out += "ethos_policy_reloads_total{result=\"error\"} " +
         std::to_string(reloads_failed_.load(kRelaxed)) + "\n";
}

}  // namespace ethos
