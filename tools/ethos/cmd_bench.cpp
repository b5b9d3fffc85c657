#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <thread>

#include <ethos/eval/evaluator.hpp>
#include <ethos/eval/request.hpp>
#include <ethos/eval/request_split.hpp>
#include "cli.hpp"
#include "log_cli.hpp"
#include "synthetic.hpp"

namespace ethos::cli {
namespace {

using Clock = std::chrono::steady_clock;

struct Percentiles {
  double p50 = 0, p90 = 0, p99 = 0, p999 = 0;
};

Percentiles percentiles(std::vector<double>& ns) {
  std::sort(ns.begin(), ns.end());
  auto at = [&](double q) {
    return ns.empty() ? 0.0
                      : ns[std::min(ns.size() - 1,
                                    static_cast<size_t>(q * static_cast<double>(ns.size())))];
  };
  return {at(0.50), at(0.90), at(0.99), at(0.999)};
}

double peak_rss_mib() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_maxrss) / 1024.0;
}

double since_ns(Clock::time_point t) {
  return std::chrono::duration<double, std::nano>(Clock::now() - t).count();
}

// CPU time of this thread: unlike wall time, it does not grow when other
// processes take the core, so it is the steadier figure on a busy machine.
double thread_cpu_ns() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) * 1e9 + static_cast<double>(ts.tv_nsec);
}

// What the benchmark is doing, on standard error, so that a long run (a
// generated pack of 100,000 rules takes minutes) does not leave the user
// without output: a line as each stage starts, stamped with the time since
// the run began. Only when standard error is a terminal or with --progress,
// so that what a script reads is unchanged.
class Stages {
 public:
  explicit Stages(bool on) : on_(on) {}
  void start(const std::string& what) const {
    if (!on_) return;
    std::fprintf(stderr, "ethos bench: [%6.1f s] %s\n",
                 std::chrono::duration<double>(Clock::now() - begun_).count(), what.c_str());
    std::fflush(stderr);
  }

 private:
  bool on_;
  Clock::time_point begun_ = Clock::now();
};

struct Opts {
  std::string policies = "policies";
  std::vector<std::string> inputs;
  size_t iterations = 200000;
  size_t synthetic = 0;
  uint64_t seed = 1;
  std::string write;
  unsigned threads = 1;
  std::string record;
  CheckpointCliOptions checkpoints;  // with --record
  std::string trace = "compact";
  bool json = false;
  bool progress = false;
};

// JSON text in -> decision JSON out, on `threads` threads sharing one policy.
double json_throughput(const Bundle& b, const std::vector<std::string>& requests, size_t n,
                       unsigned threads, const DecisionFormat& fmt) {
  std::vector<std::thread> pool;
  auto start = Clock::now();
  for (unsigned t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      RequestBinder binder(*b.policy);
      Evaluator evaluator(b.policy);
      DecisionWriter writer(*b.policy);
      BoundRequest bound;
      Decision d;
      std::string out;
      BindError err;
      for (size_t i = t; i < n; i += threads) {
        binder.bind(requests[i % requests.size()], bound, err);
        evaluator.evaluate(bound, d);
        out.clear();
        writer.write(d, fmt, out);
      }
    });
  }
  for (auto& th : pool) th.join();
  return static_cast<double>(n) / std::chrono::duration<double>(Clock::now() - start).count();
}

void run(const Opts& o) {
  std::vector<std::string> requests;
  std::vector<std::string> labels;  // `file` or `file[k]`, for an error
  Bundle b;
  double compile_ms = 0;
  Stages stages(o.progress || isatty(STDERR_FILENO) == 1);
  if (o.synthetic > 0) {
    stages.start("generating a pack of " + std::to_string(o.synthetic) + " rules");
    SyntheticPack pack = make_synthetic_pack(o.synthetic, o.seed, 1000);
    if (!o.write.empty()) {
      std::filesystem::create_directories(o.write);
      for (const auto& [name, text] : pack.files) std::ofstream(o.write + "/" + name) << text;
      std::ofstream reqs(o.write + "/requests.jsonl");
      for (const auto& r : pack.requests) reqs << r << "\n";
    }
    requests = pack.requests;
    Diagnostics diags;
    stages.start("compiling it");
    auto t0 = Clock::now();
    b = load_bundle_texts(std::move(pack.files), diags);
    compile_ms = since_ns(t0) / 1e6;
    if (!b.policy) {
      std::cerr << render_all(b.sources, diags);
      throw kPolicyError;
    }
  } else {
    stages.start("compiling " + o.policies);
    auto t0 = Clock::now();
    b = load_and_report({o.policies}, {});
    compile_ms = since_ns(t0) / 1e6;
    if (!b.policy) throw kPolicyError;
    for (const auto& in : o.inputs) {
      std::string text, err;
      if (!read_input(in, text)) {
        std::cerr << in << ": cannot read\n";
        throw kBadRequest;
      }
      std::vector<std::string_view> found;
      if (!split_requests(text, RequestSplit::kStream, found, err)) {
        std::cerr << in << ": $: " << err << "\n";
        throw kBadRequest;
      }
      for (size_t k = 0; k < found.size(); ++k) {
        labels.push_back(found.size() > 1 ? in + "[" + std::to_string(k) + "]" : in);
        requests.emplace_back(found[k]);
      }
    }
  }
  if (requests.empty()) {
    std::cerr
        << "ethos bench: give request files (e.g. policies/examples/*.json) or --synthetic N\n";
    throw kUsage;
  }
  if (!o.record.empty()) {
    stages.start("recording " + std::to_string(o.iterations) + " decisions");
    int rc = run_record_bench(b, requests, o.record, o.iterations, o.json,
                              load_checkpoint_options(o.checkpoints));
    if (rc != 0) throw static_cast<Exit>(rc);
    return;
  }
  stages.start("binding " + std::to_string(requests.size()) + " requests");
  RequestBinder binder(*b.policy);
  Evaluator evaluator(b.policy);
  std::vector<BoundRequest> bound(requests.size());
  for (size_t i = 0; i < requests.size(); ++i) {
    BindError err;
    if (!binder.bind(requests[i], bound[i], err)) {
      std::cerr << (i < labels.size() ? labels[i] : "request " + std::to_string(i)) << ": "
                << err.path << ": " << err.message << "\n";
      throw kBadRequest;
    }
  }
  Decision d;
  const size_t n = o.iterations;
  // Phase 1: a bound request -> Decision (evaluation alone).
  stages.start("running " + std::to_string(n) + " decisions from bound requests");
  std::vector<double> bound_ns;
  bound_ns.reserve(n);
  for (size_t i = 0; i < std::min<size_t>(n, 20000); ++i)
    evaluator.evaluate(bound[i % bound.size()], d);
  size_t evaluated = 0;
  double bound_cpu0 = thread_cpu_ns();
  auto b0 = Clock::now();
  for (size_t i = 0; i < n; ++i) {
    auto s = Clock::now();
    evaluator.evaluate(bound[i % bound.size()], d);
    bound_ns.push_back(since_ns(s));
    evaluated += d.evaluated.size();
  }
  double bound_rate = static_cast<double>(n) / (since_ns(b0) / 1e9);
  double bound_cpu = (thread_cpu_ns() - bound_cpu0) / static_cast<double>(n);
  // Phase 2: JSON text -> decision JSON, one thread, per-call latency.
  stages.start("running " + std::to_string(n) + " decisions from JSON text");
  DecisionFormat fmt;
  fmt.bundle_hash = b.hash;
  if (!parse_trace_mode(o.trace, fmt.trace_mode)) throw kUsage;
  DecisionWriter writer(*b.policy);
  std::vector<double> json_ns;
  json_ns.reserve(n);
  BoundRequest scratch;
  std::string out;
  size_t bytes = 0;
  double json_cpu0 = thread_cpu_ns();
  auto j0 = Clock::now();
  for (size_t i = 0; i < n; ++i) {
    auto s = Clock::now();
    BindError err;
    binder.bind(requests[i % requests.size()], scratch, err);
    evaluator.evaluate(scratch, d);
    out.clear();
    writer.write(d, fmt, out);
    json_ns.push_back(since_ns(s));
    bytes += out.size();
  }
  double json_rate = static_cast<double>(n) / (since_ns(j0) / 1e9);
  double json_cpu = (thread_cpu_ns() - json_cpu0) / static_cast<double>(n);
  // Phase 3: throughput on N threads sharing the policy.
  if (o.threads > 1)
    stages.start("running " + std::to_string(n) + " decisions on " + std::to_string(o.threads) +
                 " threads");
  double threaded_rate =
      o.threads > 1 ? json_throughput(b, requests, n, o.threads, fmt) : json_rate;
  stages.start("done");
  Percentiles pb = percentiles(bound_ns), pj = percentiles(json_ns);
  double avg_evaluated = static_cast<double>(evaluated) / static_cast<double>(n);
  if (o.json) {
    nlohmann::json j = {{"rules", b.policy->rules.size()},
                        {"modules", b.policy->modules.size()},
                        {"requests", requests.size()},
                        {"iterations", n},
                        {"threads", o.threads},
                        {"trace", o.trace},
                        {"compile_ms", compile_ms},
                        {"rules_evaluated_per_decision", avg_evaluated},
                        {"bound_p50_ns", pb.p50},
                        {"bound_p90_ns", pb.p90},
                        {"bound_p99_ns", pb.p99},
                        {"bound_p999_ns", pb.p999},
                        {"bound_decisions_per_sec", bound_rate},
                        {"bound_cpu_ns_per_decision", bound_cpu},
                        {"json_p50_ns", pj.p50},
                        {"json_p90_ns", pj.p90},
                        {"json_p99_ns", pj.p99},
                        {"json_p999_ns", pj.p999},
                        {"json_decisions_per_sec_1_thread", json_rate},
                        {"json_cpu_ns_per_decision", json_cpu},
                        {"decisions_per_sec", threaded_rate},
                        {"decision_json_bytes", bytes / std::max<size_t>(n, 1)},
                        {"peak_rss_mib", peak_rss_mib()}};
    std::cout << j.dump(2) << "\n";
    return;
  }
  std::printf(
      "policy: %zu rules in %zu modules; compile %.1f ms; %.1f rules evaluated per decision (rule "
      "index)\n",
      b.policy->rules.size(), b.policy->modules.size(), compile_ms, avg_evaluated);
  std::printf("requests: %zu distinct; %zu decisions per phase\n", requests.size(), n);
  std::printf(
      "bound request -> decision, 1 thread:    %10.0f decisions/s  p50 %7.0f ns  p90 %7.0f ns  p99 "
      "%7.0f ns  p99.9 %7.0f ns\n",
      bound_rate, pb.p50, pb.p90, pb.p99, pb.p999);
  std::printf(
      "JSON in -> decision JSON out, 1 thread: %10.0f decisions/s  p50 %7.0f ns  p90 %7.0f ns  p99 "
      "%7.0f ns  p99.9 %7.0f ns\n",
      json_rate, pj.p50, pj.p90, pj.p99, pj.p999);
  std::printf("CPU time per decision (includes the timing calls): bound %.0f ns, JSON %.0f ns\n",
              bound_cpu, json_cpu);
  if (o.threads > 1)
    std::printf("JSON in -> decision JSON out, %u threads: %9.0f decisions/s  (%.2fx one thread)\n",
                o.threads, threaded_rate, threaded_rate / json_rate);
  std::printf("decision JSON: %zu bytes on average (trace: %s); peak memory %.1f MiB\n",
              bytes / std::max<size_t>(n, 1), o.trace.c_str(), peak_rss_mib());
}

}  // namespace

void add_bench(CLI::App& app) {
  auto opts = std::make_shared<Opts>();
  auto* cmd =
      app.add_subcommand("bench", "Measure compile time, decisions/s and latency percentiles");
  cmd->add_option("--policies", opts->policies, "Policy directory (default: policies)");
  cmd->add_option("requests", opts->inputs,
                  "Request files (JSON object, array or JSON lines), or - for stdin");
  cmd->add_option("-n,--iterations", opts->iterations,
                  "Decisions to time in each phase (default 200000)");
  cmd->add_option("--synthetic", opts->synthetic,
                  "Benchmark a generated pack of N rules instead of --policies");
  cmd->add_option("--seed", opts->seed, "Seed of the generated pack and requests (default 1)");
  cmd->add_option("--write", opts->write,
                  "With --synthetic: write the generated pack and requests.jsonl here");
  cmd->add_option("--threads", opts->threads, "Threads for the throughput phase (default 1)")
      ->check(CLI::Range(1u, 256u));
  cmd->add_option("--record", opts->record, "Measure recording into this decision log instead");
  add_checkpoint_options(cmd, opts->checkpoints);
  cmd->add_option(
         "--trace", opts->trace,
         "Trace in the decision JSON: compact, full or none (default compact, as eval and serve)")
      ->check(CLI::IsMember({"full", "compact", "none"}));
  cmd->add_flag("--json", opts->json, "One JSON object for scripts");
  cmd->add_flag("--progress", opts->progress,
                "Say on stderr what it is doing even when stderr is not a terminal");
  cmd->footer(
      "Example:\n  ethos bench --policies policies policies/examples/*.json\n"
      "  ethos bench --synthetic 10000 --seed 1 --threads 2 --json");
  cmd->callback([opts] { run(*opts); });
}

ETHOS_COMMAND(add_bench, 90);

}  // namespace ethos::cli
