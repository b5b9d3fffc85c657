// Embedding ethos in an app (docs/embedding.md): decide in-process, with
// every decision recorded in the decision log before the app sees it.
//
//   embed <policy dir> <decision log> <request.json>...
//
// Prints one line per request: the decision id, the outcome and the
// obligations the app must carry out. Exit 0 when every request was decided
// and recorded, 1 otherwise.
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>
#include <vector>

#include <ethos/log/privacy.hpp>
#include <ethos/service/service.hpp>

int main(int argc, char** argv) {
  if (argc < 4) {
    std::cerr << "usage: embed <policy dir> <decision log> <request.json>...\n";
    return 64;
  }
  ethos::ServiceOptions options;
  options.policy_paths = {argv[1]};
  options.log_path = argv[2];
  // The key that pseudonymises the log: $ETHOS_LOG_KEY, or a key file. This
  // example falls back to the development key, which protects nothing.
  options.log.key = ethos::load_log_key({.file = "", .insecure_dev_key = true});
  options.trace = ethos::TraceMode::kNone;  // the app needs the outcome and reasons, not the trace

  std::unique_ptr<ethos::Service> service;
  try {
    service = std::make_unique<ethos::Service>(std::move(options));
  } catch (const ethos::ServiceStartError& e) {
    std::cerr << e.what();  // the policy's diagnostics
    return 1;
  } catch (const std::exception& e) {
    std::cerr << "cannot open the decision log: " << e.what() << "\n";
    return 1;
  }

  std::vector<std::string> requests;
  for (int i = 3; i < argc; ++i) {
    std::ifstream f(argv[i]);
    std::stringstream ss;
    ss << f.rdbuf();
    requests.push_back(ss.str());
  }

  // A Session per thread; the Service is shared. Two threads decide half each.
  std::vector<std::string> lines(requests.size());
  bool failed = false;
  auto work = [&](size_t first, size_t step) {
    ethos::Session session(*service);
    for (size_t i = first; i < requests.size(); i += step) {
      ethos::DecideResult r = session.decide(requests[i]);
      if (!r.ok()) {
        // r.reply.status is 400 for a request that does not bind (the body
        // names the JSON path), 503 when the log cannot record: never act on it.
        lines[i] = "error " + std::to_string(r.reply.status) + " " + r.reply.body;
        failed = true;
        continue;
      }
      const auto& decided = r.decided.front();
      std::string line = decided.decision_id + " " + ethos::outcome_name(decided.outcome);
      nlohmann::json d = nlohmann::json::parse(r.reply.body);
      for (const auto& o : d["obligations"]) line += " obligation:" + o["id"].get<std::string>();
      lines[i] = line;
    }
  };
  std::thread other(work, 1, 2);
  work(0, 2);
  other.join();
  for (const auto& l : lines) std::cout << l << "\n";

  // Before exiting: wait until the log holds every decision (drain() throws if it cannot).
  service->drain();
  return failed ? 1 : 0;
}
