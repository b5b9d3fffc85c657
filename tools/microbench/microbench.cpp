// Google Benchmark micro-benchmarks of the hot pieces: binding a request,
// evaluating a bound request, writing a decision, compiling the pack.
//   build/tools/ethos_microbench [--benchmark_filter=...]
#include <benchmark/benchmark.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include <ethos/compile/bundle.hpp>
#include <ethos/eval/evaluator.hpp>
#include <ethos/eval/request.hpp>

namespace {

std::string policies_dir() {
  const char* env = std::getenv("ETHOS_POLICIES");
  return env ? env : ETHOS_DEFAULT_POLICIES;
}

std::string read(const std::filesystem::path& p) {
  std::ifstream f(p, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

struct Fixture {
  ethos::Bundle bundle;
  std::vector<std::string> requests;
  Fixture() {
    ethos::Diagnostics diags;
    bundle = ethos::load_bundle({policies_dir()}, diags);
    if (!bundle.policy) throw std::runtime_error("the policy pack does not compile");
    for (const auto& e : std::filesystem::directory_iterator(policies_dir() + "/examples"))
      if (e.path().extension() == ".json") requests.push_back(read(e.path()));
    std::sort(requests.begin(), requests.end());
  }
};

const Fixture& fixture() {
  static const Fixture f;
  return f;
}

void BM_Bind(benchmark::State& state) {
  const auto& f = fixture();
  ethos::RequestBinder binder(*f.bundle.policy);
  ethos::BoundRequest out;
  ethos::BindError err;
  size_t i = 0;
  for (auto _ : state) {
    binder.bind(f.requests[i++ % f.requests.size()], out, err);
    benchmark::DoNotOptimize(out.values.data());
  }
}
BENCHMARK(BM_Bind);

void BM_Evaluate(benchmark::State& state) {
  const auto& f = fixture();
  ethos::RequestBinder binder(*f.bundle.policy);
  std::vector<ethos::BoundRequest> bound(f.requests.size());
  ethos::BindError err;
  for (size_t k = 0; k < bound.size(); ++k) binder.bind(f.requests[k], bound[k], err);
  ethos::Evaluator ev(f.bundle.policy);
  ethos::Decision d;
  size_t i = 0;
  for (auto _ : state) {
    ev.evaluate(bound[i++ % bound.size()], d);
    benchmark::DoNotOptimize(d.outcome);
  }
}
BENCHMARK(BM_Evaluate);

void BM_WriteDecision(benchmark::State& state) {
  const auto& f = fixture();
  ethos::RequestBinder binder(*f.bundle.policy);
  ethos::BoundRequest bound;
  ethos::BindError err;
  binder.bind(f.requests[0], bound, err);
  ethos::Evaluator ev(f.bundle.policy);
  ethos::Decision d = ev.evaluate(bound);
  ethos::DecisionWriter writer(*f.bundle.policy);
  ethos::DecisionFormat fmt;
  fmt.bundle_hash = f.bundle.hash;
  fmt.trace_mode = state.range(0) ? ethos::TraceMode::kFull : ethos::TraceMode::kNone;
  std::string out;
  for (auto _ : state) {
    out.clear();
    writer.write(d, fmt, out);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetLabel(state.range(0) ? "full trace" : "no trace");
}
BENCHMARK(BM_WriteDecision)->Arg(1)->Arg(0);

void BM_CompilePack(benchmark::State& state) {
  for (auto _ : state) {
    ethos::Diagnostics diags;
    auto b = ethos::load_bundle({policies_dir()}, diags);
    benchmark::DoNotOptimize(b.policy.get());
  }
}
BENCHMARK(BM_CompilePack)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
