// The endpoints the web console needs beyond the decision API
// (docs/api.md, "Console endpoints"; docs/console.md): the text of a
// recorded bundle, the rule graph of a module as SVG, statistics over the
// log, the playground, and jobs with progress for verify and impact.
//
// Thread-safe: every method may be called from any thread.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include <ethos/service/console_jobs.hpp>
#include <ethos/service/service.hpp>

namespace ethos {

class ConsoleApi {
 public:
  explicit ConsoleApi(Service& service);
  ~ConsoleApi();
  ConsoleApi(const ConsoleApi&) = delete;
  ConsoleApi& operator=(const ConsoleApi&) = delete;

  // GET /v1/bundles/{hash}: {"hash", "text"}, the canonical text the log keeps.
  Reply bundle(std::string_view hash) const;
  // GET /v1/playground: what the playground starts from: the active bundle's
  // files, the schema's attributes (for the request form), example requests.
  Reply playground_start() const;
  // POST /v1/playground: {"files": {"name.ethos": "text", ...}, "request":
  // {...} or "raw JSON text", "remedies": true}. Checks the files, and if they
  // compile and a request is given, binds and decides it. Nothing is
  // recorded. Always 200 unless the body itself is malformed: the answer
  // carries the diagnostics, the bind error or the decision.
  Reply playground(std::string_view body) const;
  // GET /v1/graph?module=M: the rule graph as SVG (Content-Type image/svg+xml).
  Reply graph(const QueryParams& query) const;
  // GET /v1/statistics?from=&to=&bucket=hour|day|week (+ the decision filters).
  Reply statistics(const QueryParams& query) const;
  // POST /v1/jobs/verify, POST /v1/jobs/impact (a /v1/replay body); GET /v1/jobs/{id}.
  Reply start_verify();
  Reply start_impact(std::string body);
  Reply job(const std::string& id) const { return jobs_.status(id); }

 private:
  Service& service_;
  ConsoleJobs jobs_;
  mutable std::mutex graph_mu_;
  mutable std::map<std::string, std::string> graph_cache_;  // bundle + module -> SVG
};

}  // namespace ethos
