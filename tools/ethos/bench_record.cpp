// `ethos bench --record <db>`: the recording rate of the decision log, with
// the hash chain, privacy and group commit, as an app sees it: each decision
// is evaluated, submitted, and counted only once its commit has returned.
#include <chrono>
#include <cstdlib>
#include <deque>
#include <iostream>
#include <nlohmann/json.hpp>

#include <ethos/eval/evaluator.hpp>
#include <ethos/eval/request.hpp>
#include <ethos/log/decision_log.hpp>
#include "cli.hpp"

namespace ethos::cli {

int run_record_bench(const Bundle& bundle, const std::vector<std::string>& requests,
                     const std::string& db, size_t n, bool json,
                     const CheckpointOptions& checkpoints) {
  using Clock = std::chrono::steady_clock;
  RequestBinder binder(*bundle.policy);
  std::vector<BoundRequest> bound(requests.size());
  for (size_t i = 0; i < requests.size(); ++i) {
    BindError err;
    if (!binder.bind(requests[i], bound[i], err)) {
      std::cerr << "request " << i << ": " << err.path << ": " << err.message << "\n";
      return kBadRequest;
    }
  }
  LogOptions options;
  options.checkpoints = checkpoints;
  // The bench log is a measurement artefact: ETHOS_LOG_KEY if set, else the
  // development key (the cost of pseudonymising is the same).
  const char* env = std::getenv("ETHOS_LOG_KEY");
  try {
    options.key = env && *env ? log_key_from_secret(env) : insecure_dev_log_key();
  } catch (const std::exception& e) {
    std::cerr << "ethos: " << e.what() << "\n";
    return kUsage;
  }
  // Up to `kInFlight` decisions wait for their commit at once, as with that
  // many concurrent callers of record(); each is counted when its wait returns.
  constexpr size_t kInFlight = 8192;
  try {
    DecisionLog log(db, options);
    Evaluator evaluator(bundle.policy);
    Decision d;
    std::deque<DecisionLog::Ticket> in_flight;
    auto t0 = Clock::now();
    for (size_t i = 0; i < n; ++i) {
      const BoundRequest& r = bound[i % bound.size()];
      evaluator.evaluate(r, d);
      in_flight.push_back(log.submit(bundle, r, d));
      if (in_flight.size() >= kInFlight) {
        log.wait(in_flight.front());
        in_flight.pop_front();
      }
    }
    for (const auto& t : in_flight) log.wait(t);
    double seconds = std::chrono::duration<double>(Clock::now() - t0).count();
    auto stats = log.stats();
    double rate = static_cast<double>(n) / seconds;
    double batch = stats.transactions ? static_cast<double>(stats.committed) /
                                            static_cast<double>(stats.transactions)
                                      : 0;
    if (json) {
      nlohmann::json j = {{"recorded", n},
                          {"seconds", seconds},
                          {"recorded_per_sec", rate},
                          {"transactions", stats.transactions},
                          {"mean_batch", batch},
                          {"synchronous", "FULL"},
                          {"db", db}};
      std::cout << j.dump(2) << "\n";
    } else {
      std::printf("recorded %zu decisions into %s in %.2f s: %.0f decisions/s\n", n, db.c_str(),
                  seconds, rate);
      std::printf(
          "  (evaluate + privacy + chain hash + insert; %llu group commits of %.0f decisions on "
          "average,"
          " synchronous=FULL)\n",
          static_cast<unsigned long long>(stats.transactions), batch);
    }
  } catch (const sql::StoreError& e) {
    std::cerr << "ethos: cannot record: " << e.what() << "\n";
    return kInternal;
  }
  return kOk;
}

}  // namespace ethos::cli
