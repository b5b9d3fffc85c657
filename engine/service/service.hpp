// The decision service, independent of any transport: what `ethos serve`
// answers over HTTP, and what an app embeds to decide in-process
// (docs/embedding.md, docs/api.md).
//
// A Service owns the active policy bundle, the decision log and the
// metrics. Its methods take and return JSON text; each answer is a Reply
// whose status uses HTTP's numbers (200, 400, 404, 413, 422, 503, ...), so
// a transport copies it through and an embedding app can branch on it.
// Every error body is {"error": {"code", "message", "path"}}.
//
// Deciding goes through a Session: it holds the per-thread parser, binder,
// evaluator and buffers. Use one Session per thread; the Service itself is
// safe to share between any number of threads. A decision is recorded in
// the log before decide() returns it; if it cannot be recorded, decide()
// answers 503 and no decision.
//
// reload() re-reads the policy paths, checks them, and swaps the new bundle
// in atomically: sessions pick it up on their next decision, decisions in
// flight finish under the bundle they started with. On errors the active
// bundle stays and the reply carries the diagnostics.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <ethos/compile/bundle.hpp>
#include <ethos/eval/decision.hpp>
#include <ethos/eval/evaluator.hpp>
#include <ethos/eval/request.hpp>
#include <ethos/log/decision_log.hpp>
#include <ethos/service/service_error.hpp>
#include <ethos/service/service_metrics.hpp>

namespace ethos {

struct ServiceOptions {
  std::vector<std::string> policy_paths;  // files or directories, as for `ethos check`
  CheckOptions check;                     // deployment param values
  std::string log_path;                   // the decision log; empty: decisions are not recorded
  LogOptions log;                         // needs a key to record (privacy.hpp)
  size_t max_batch = 1000;                // requests in one decide() call
  TraceMode trace = TraceMode::kCompact;  // the trace decide() returns unless asked otherwise
};

// Thrown by the Service constructor when the policy does not compile; what()
// holds the rendered diagnostics. (A log that cannot be opened throws
// sql::StoreError.)
class ServiceStartError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct Reply {
  int status = 200;  // HTTP's numbers
  std::string body;  // JSON
  ErrorCode error = ErrorCode::kNone;
};

Reply error_reply(ErrorCode code, std::string_view message, std::string_view path = {});
// The reply to a request the binder refused (`path`: where, as the caller
// names it): invariant_violated, malformed_json or invalid_request.
Reply bind_error_reply(const BindError& e, std::string_view path);

// Query parameters, in order, decoded.
using QueryParams = std::vector<std::pair<std::string, std::string>>;

// The log filter's query parameters, shared by GET /v1/decisions and GET
// /v1/statistics: from, to (a time or a date), outcome, rule, module, missing
// and request_id. True when `key` is one of them: then its value is read into
// `filter`, or `error` says why it cannot be (at path query.KEY).
bool read_log_filter_param(const std::string& key, const std::string& value, LogFilter& filter,
                           std::optional<Reply>& error);

class Service;

// The compiled, active bundle and what is prebuilt for it. Immutable.
struct ServiceBundle {
  Bundle bundle;
  std::unique_ptr<DecisionWriter> writer;
  std::string policy_json;  // the body of policy()
  uint64_t generation = 0;
  int64_t loaded_at = 0;  // wall clock, seconds
};

struct DecideOptions {
  std::optional<TraceMode> trace;  // default: ServiceOptions::trace
  // Each decision carries `remedies` (remedies.hpp): the smallest changes of
  // facts that would make it a permit, each verified; `remedies_cut_short`
  // when the search's time budget ran out. Costs a search per deny/escalate.
  bool remedies = false;
};

struct DecideResult {
  Reply reply;  // the decision JSON (a batch: {"decisions": [...]}), or an error
  struct Decided {
    std::string decision_id;
    Outcome outcome = Outcome::kDeny;
  };
  std::vector<Decided> decided;  // in request order; empty on error
  bool ok() const { return reply.status == 200; }
};

class Session {
 public:
  explicit Session(Service& service);
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  // `body` is one request (a JSON object) or a batch (a JSON array of them).
  // Binds every request first: one that does not bind rejects the call (400,
  // the path names it: `$[2].patient.age`) and nothing is decided. Then
  // evaluates, records and renders each.
  DecideResult decide(std::string_view body, const DecideOptions& options = {});

  // decide() without blocking for the log: binds, evaluates, submits and
  // renders on the calling thread, then returns; `done` receives the result
  // once every decision of the call is committed (or a 503 if one could not
  // be). `done` runs on the log's writer thread, or on the calling thread
  // before decide_async() returns when nothing is recorded (an error reply,
  // or a service without a log); it must be quick and must not block. The
  // body need not outlive the call. This is what `ethos serve`'s event loop
  // uses, so that no thread waits per request.
  void decide_async(std::string_view body, const DecideOptions& options,
                    std::function<void(DecideResult)> done);

 private:
  using Clock = std::chrono::steady_clock;
  // Everything but waiting for the log; `on_commit(k)`, when given, makes the
  // callback submitted with request k. False with the error reply in `result`.
  bool prepare(std::string_view body, const DecideOptions& options, DecideResult& result,
               const std::function<DecisionLog::Done(size_t)>& on_commit);
  static void finish(Service& service, DecideResult& result, const std::exception_ptr& log_error,
                     Clock::time_point started, Clock::time_point submitted, bool recorded);
  static void complete_async(const std::shared_ptr<void>& state);
  void refresh();
  Reply bind_error(const BindError& e, long index);

  Service& service_;
  std::shared_ptr<const ServiceBundle> bundle_;
  std::unique_ptr<RequestBinder> binder_;
  std::unique_ptr<Evaluator> evaluator_;
  std::vector<BoundRequest> bound_;
  std::vector<Decision> decisions_;
  std::vector<DecisionLog::Ticket> tickets_;
  std::vector<std::string_view> items_;
};

class Service {
 public:
  explicit Service(ServiceOptions options);
  ~Service();  // waits until every submitted decision is recorded
  Service(const Service&) = delete;
  Service& operator=(const Service&) = delete;

  // GET /v1/policy: the active bundle's hash, modules, and rules with citations.
  Reply policy() const;
  // POST /v1/policy/reload: 200 with the new (or unchanged) hash, or 422
  // with the diagnostics while the old bundle keeps serving.
  Reply reload();
  // GET /v1/decisions/{id}: the decision as recorded, rendered in full, with
  // the request as stored and its place in the chain. 404 when unknown.
  Reply decision(std::string_view id) const;
  // GET /v1/decisions?from=&to=&outcome=&rule=&module=&missing=&request_id=
  //   &order=&limit=&cursor=
  Reply decisions(const QueryParams& query) const;
  // Called now and then from the calling thread with (done, total).
  using Progress = std::function<void(uint64_t, uint64_t)>;
  // POST /v1/replay: {} re-runs decisions under their own bundles; with
  // "against": {"files": {...}} (or "bundle": a recorded bundle's hash) it
  // reports the impact of a candidate policy; "decision_id" replays one.
  Reply replay(std::string_view body, const Progress& progress = {}) const;
  // GET /v1/verify: walks the hash chain.
  Reply verify(const Progress& progress = {}) const;
  // GET /v1/log/head: each chain's last row and newest signed checkpoint,
  // whether the log still holds what it signed, and the newest checkpoint of
  // all (docs/api.md).
  Reply log_head() const;
  // GET /readyz: 200 when a bundle is active, the log is writable and the
  // service is not shutting down; 503 otherwise.
  Reply ready() const;

  // Prometheus text exposition of the metrics.
  std::string metrics_text() const;
  ServiceMetrics& metrics() { return metrics_; }

  // Marks the service as shutting down (readiness fails, decide() answers
  // 503) and waits until every decision submitted so far is committed.
  // Throws sql::StoreError if one could not be that no decide() call has
  // already answered with 503.
  void drain();

  std::shared_ptr<const ServiceBundle> active() const;
  const ServiceOptions& options() const { return options_; }
  bool recording() const { return log_ != nullptr; }
  DecisionLog* log() { return log_.get(); }

 private:
  friend class Session;
  std::shared_ptr<const ServiceBundle> build(Bundle bundle, uint64_t generation) const;
  std::shared_ptr<const ServiceBundle> bundle_for(const std::string& hash) const;
  Reply require_log() const;

  ServiceOptions options_;
  std::unique_ptr<DecisionLog> log_;
  ServiceMetrics metrics_;

  mutable std::mutex active_mu_;
  std::shared_ptr<const ServiceBundle> active_;
  std::atomic<uint64_t> generation_{0};
  std::mutex reload_mu_;  // one reload at a time

  // Bundles recorded in the log, compiled on demand to render old decisions.
  mutable std::mutex past_mu_;
  mutable std::vector<std::shared_ptr<const ServiceBundle>> past_;

  // Readiness fails for a while after a decision could not be recorded, so a
  // load balancer stops sending, then tries again.
  static constexpr int64_t kNotReadyAfterLogFailureMs = 10000;
  std::atomic<bool> draining_{false};
  std::atomic<int64_t> log_failed_at_ms_{0};  // steady clock; 0: never
};

}  // namespace ethos
