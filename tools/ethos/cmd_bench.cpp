#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <iostream>
#include <nlohmann/json.hpp>

#include "cli.hpp"
#include "evaluator.hpp"
#include "request.hpp"

namespace ethos::cli {
namespace {

using Clock = std::chrono::steady_clock;

struct Percentiles {
  double p50 = 0, p90 = 0, p99 = 0, p999 = 0;
};

Percentiles percentiles(std::vector<double>& ns) {
  std::sort(ns.begin(), ns.end());
  auto at = [&](double q) { return ns.empty() ? 0.0 : ns[std::min(ns.size() - 1, static_cast<size_t>(q * static_cast<double>(ns.size())))]; };
  return {at(0.50), at(0.90), at(0.99), at(0.999)};
}

double peak_rss_mib() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_maxrss) / 1024.0;
}

}  // namespace

void add_bench(CLI::App& app) {
  struct Opts {
    std::string policies = "policies";
    std::vector<std::string> inputs;
    size_t iterations = 200000;
    bool json = false;
  };
  auto opts = std::make_shared<Opts>();
  auto* cmd = app.add_subcommand("bench", "Measure compile time, decisions/s and latency percentiles");
  cmd->add_option("--policies", opts->policies, "Policy directory (default: policies)");
  cmd->add_option("requests", opts->inputs, "Request files (default: policies/examples/*.json)");
  cmd->add_option("-n,--iterations", opts->iterations, "Decisions to time in each phase (default 200000)");
  cmd->add_flag("--json", opts->json, "One JSON object for scripts");
  cmd->footer("Example:\n  ethos bench --policies policies policies/examples/*.json");
  cmd->callback([opts] {
    auto t0 = Clock::now();
    Bundle b = load_and_report({opts->policies}, {});
    double compile_ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
    if (!b.policy) throw kPolicyError;
    std::vector<std::string> requests;
    for (const auto& in : opts->inputs) {
      std::string text, err;
      if (!read_input(in, text)) {
        std::cerr << in << ": cannot read\n";
        throw kBadRequest;
      }
      for (auto& r : split_requests(text, err)) requests.push_back(std::move(r));
    }
    if (requests.empty()) {
      std::cerr << "ethos bench: give request files (e.g. policies/examples/*.json)\n";
      throw kUsage;
    }
    RequestBinder binder(*b.policy);
    Evaluator evaluator(b.policy);
    std::vector<BoundRequest> bound(requests.size());
    for (size_t i = 0; i < requests.size(); ++i) {
      BindError err;
      if (!binder.bind(requests[i], bound[i], err)) {
        std::cerr << "request " << i << ": " << err.path << ": " << err.message << "\n";
        throw kBadRequest;
      }
    }
    Decision d;
    const size_t n = opts->iterations;
    // Phase 1: bound requests -> Decision.
    std::vector<double> bound_ns;
    bound_ns.reserve(n);
    for (size_t i = 0; i < n / 10; ++i) evaluator.evaluate(bound[i % bound.size()], d);  // warm up
    auto b0 = Clock::now();
    for (size_t i = 0; i < n; ++i) {
      auto s = Clock::now();
      evaluator.evaluate(bound[i % bound.size()], d);
      bound_ns.push_back(std::chrono::duration<double, std::nano>(Clock::now() - s).count());
    }
    double bound_s = std::chrono::duration<double>(Clock::now() - b0).count();
    // Phase 2: JSON text -> decision JSON.
    std::vector<double> json_ns;
    json_ns.reserve(n);
    BoundRequest scratch;
    DecisionFormat fmt;
    fmt.bundle_hash = b.hash;
    size_t bytes = 0;
    DecisionWriter writer(*b.policy);
    std::string out;
    auto j0 = Clock::now();
    for (size_t i = 0; i < n; ++i) {
      auto s = Clock::now();
      BindError err;
      binder.bind(requests[i % requests.size()], scratch, err);
      evaluator.evaluate(scratch, d);
      out.clear();
      writer.write(d, fmt, out);
      bytes += out.size();
      json_ns.push_back(std::chrono::duration<double, std::nano>(Clock::now() - s).count());
    }
    double json_s = std::chrono::duration<double>(Clock::now() - j0).count();
    Percentiles pb = percentiles(bound_ns), pj = percentiles(json_ns);
    double bound_rate = static_cast<double>(n) / bound_s, json_rate = static_cast<double>(n) / json_s;
    if (opts->json) {
      nlohmann::json j = {{"rules", b.policy->rules.size()},
                          {"requests", requests.size()},
                          {"iterations", n},
                          {"threads", 1},
                          {"compile_ms", compile_ms},
                          {"bound_p50_ns", pb.p50}, {"bound_p90_ns", pb.p90}, {"bound_p99_ns", pb.p99}, {"bound_p999_ns", pb.p999},
                          {"bound_decisions_per_sec", bound_rate},
                          {"json_p50_ns", pj.p50}, {"json_p90_ns", pj.p90}, {"json_p99_ns", pj.p99}, {"json_p999_ns", pj.p999},
                          {"json_decisions_per_sec", json_rate},
                          {"decisions_per_sec", json_rate},
                          {"peak_rss_mib", peak_rss_mib()}};
      std::cout << j.dump(2) << "\n";
    } else {
      std::printf("policy: %zu rules, %zu modules; compile %.2f ms\n", b.policy->rules.size(), b.policy->modules.size(), compile_ms);
      std::printf("requests: %zu distinct, %zu decisions per phase, 1 thread\n", requests.size(), n);
      std::printf("bound request -> decision:   %10.0f decisions/s   p50 %7.0f ns  p90 %7.0f ns  p99 %7.0f ns  p99.9 %7.0f ns\n",
                  bound_rate, pb.p50, pb.p90, pb.p99, pb.p999);
      std::printf("JSON in -> decision JSON out: %10.0f decisions/s   p50 %7.0f ns  p90 %7.0f ns  p99 %7.0f ns  p99.9 %7.0f ns\n",
                  json_rate, pj.p50, pj.p90, pj.p99, pj.p999);
      std::printf("peak memory: %.1f MiB  (decision JSON: %zu bytes on average)\n", peak_rss_mib(), bytes / std::max<size_t>(n, 1));
    }
  });
}

ETHOS_COMMAND(add_bench, 90);

}  // namespace ethos::cli
