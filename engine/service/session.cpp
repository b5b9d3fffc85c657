// Session: deciding, synchronously or not, and recording each decision in the log.
#include <ethos/service/service.hpp>

#include <atomic>
#include <chrono>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>

#include <ethos/base/hash.hpp>
#include <ethos/eval/remedies.hpp>
#include <ethos/eval/request_split.hpp>
#include <ethos/service/service_internal.hpp>

namespace ethos {

namespace {

using Clock = std::chrono::steady_clock;
using service_internal::is_space;
using service_internal::steady_ms;

int64_t elapsed_ns(Clock::time_point since) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - since).count();
}

}  // namespace

Session::Session(Service& service) : service_(service) {}
Session::~Session() = default;

void Session::refresh() {
  if (bundle_ && bundle_->generation == service_.generation_.load(std::memory_order_acquire))
    return;
  auto current = service_.active();
  if (bundle_ == current) return;
  // The binder refers to the policy: drop it before the bundle it reads.
  binder_.reset();
  evaluator_.reset();
  bundle_ = std::move(current);
  binder_ = std::make_unique<RequestBinder>(*bundle_->bundle.policy);
  evaluator_ = std::make_unique<Evaluator>(bundle_->bundle.policy);
  decisions_.clear();
}

Reply Session::bind_error(const BindError& e, long index) {
  std::string path = e.path;
  if (index >= 0) {
    std::string rest = path.size() > 1 ? path.substr(1) : std::string();
    path = "$[" + std::to_string(index) + "]" + rest;
  }
  return bind_error_reply(e, path);
}

bool Session::prepare(std::string_view body, const DecideOptions& options, DecideResult& result,
                      const std::function<DecisionLog::Done(size_t)>& on_commit) {
  ServiceMetrics& metrics = service_.metrics_;
  auto fail = [&](Reply r) {
    metrics.error(r.error);
    result.reply = std::move(r);
    result.decided.clear();
    return false;
  };
  if (service_.draining_.load(std::memory_order_relaxed))
    return fail(error_reply(ErrorCode::kShuttingDown, "the service is shutting down"));
  refresh();

  size_t first = 0;
  while (first < body.size() && is_space(body[first])) ++first;
  if (first == body.size())
    return fail(error_reply(ErrorCode::kMalformedJson, "malformed JSON: the body is empty", "$"));

  bool batch = body[first] == '[';
  items_.clear();
  if (batch) {
    std::string error;
    if (!split_requests(body, RequestSplit::kBatch, items_, error))
      return fail(error_reply(ErrorCode::kMalformedJson, error, "$"));
    if (items_.empty())
      return fail(
          error_reply(ErrorCode::kInvalidRequest, "a batch holds at least one request", "$"));
    if (items_.size() > service_.options_.max_batch)
      return fail(error_reply(ErrorCode::kInvalidRequest,
                              "a batch holds at most " +
                                  std::to_string(service_.options_.max_batch) + " requests, got " +
                                  std::to_string(items_.size()),
                              "$"));
  } else {
    items_.push_back(body);
  }

  const size_t n = items_.size();
  if (bound_.size() < n) bound_.resize(n);
  if (decisions_.size() < n) decisions_.resize(n);
  BindError err;
  for (size_t k = 0; k < n; ++k)
    if (!binder_->bind(items_[k], bound_[k], err))
      return fail(bind_error(err, batch ? static_cast<long>(k) : -1));
  for (size_t k = 0; k < n; ++k) evaluator_->evaluate(bound_[k], decisions_[k]);

  const ServiceBundle& sb = *bundle_;
  DecisionLog* log = service_.log_.get();
  tickets_.clear();
  if (log) {
    try {
      for (size_t k = 0; k < n; ++k)
        tickets_.push_back(on_commit
                               ? log->submit(sb.bundle, bound_[k], decisions_[k], on_commit(k))
                               : log->submit(sb.bundle, bound_[k], decisions_[k]));
    } catch (const std::exception& e) {
      service_.log_failed_at_ms_.store(steady_ms(), std::memory_order_relaxed);
      return fail(error_reply(ErrorCode::kLogUnavailable,
                              std::string("the decision could not be recorded: ") + e.what()));
    }
  }

  // Render while the log's writer commits.
  DecisionFormat fmt;
  fmt.bundle_hash = sb.bundle.hash;
  fmt.trace_mode = options.trace.value_or(service_.options_.trace);
  std::string& out = result.reply.body;
  out.reserve(batch ? n * 4096 + 32 : 6144);
  if (batch) out += R"({"decisions":[)";
  result.decided.resize(n);
  for (size_t k = 0; k < n; ++k) {
    if (log) {
      fmt.decision_id = tickets_[k].decision_id;
    } else {
      // Without a log, the id is derived from the bundle and the request, as `ethos eval` does.
      std::string seed = sb.bundle.hash;
      seed += '\n';
      seed += items_[k];
      fmt.decision_id = "d-" + sha256_hex(seed).substr(0, 24);
    }
    if (k) out += ',';
    sb.writer->write(decisions_[k], fmt, out);
    if (options.remedies) {
      // One more member before the decision's closing brace.
      RemedySearch found = find_remedies(sb.bundle.policy, items_[k], decisions_[k]);
      out.pop_back();
      out += R"(,"remedies":)";
      out += remedies_json(*sb.bundle.policy, found);
      if (found.cut_short) out += R"(,"remedies_cut_short":true)";
      out += '}';
    }
    result.decided[k].decision_id = fmt.decision_id;
    result.decided[k].outcome = decisions_[k].outcome;
  }
  if (batch) out += "]}";
  result.reply.status = 200;
  return true;
}

void Session::finish(Service& service, DecideResult& result, const std::exception_ptr& log_error,
                     Clock::time_point started, Clock::time_point submitted, bool recorded) {
  ServiceMetrics& metrics = service.metrics_;
  if (log_error) {
    std::string what = "unknown error";
    try {
      std::rethrow_exception(log_error);
    } catch (const std::exception& e) {
      what = e.what();
    } catch (...) {
    }
    service.log_failed_at_ms_.store(steady_ms(), std::memory_order_relaxed);
    result.reply =
        error_reply(ErrorCode::kLogUnavailable, "the decision could not be recorded: " + what);
    metrics.error(result.reply.error);
    result.decided.clear();
    return;
  }
  if (recorded) {
    int64_t write_ns = elapsed_ns(submitted);
    for (size_t k = 0; k < result.decided.size(); ++k)
      metrics.log_write_seconds.observe_ns(write_ns);
  }
  for (const auto& d : result.decided) metrics.decided(d.outcome);
  metrics.decide_seconds.observe_ns(elapsed_ns(started));
}

DecideResult Session::decide(std::string_view body, const DecideOptions& options) {
  auto t0 = Clock::now();
  DecideResult result;
  if (!prepare(body, options, result, nullptr)) return result;
  auto t_submit = Clock::now();
  DecisionLog* log = service_.log_.get();
  std::exception_ptr error;
  if (log) {
    try {
      for (const auto& t : tickets_) log->wait(t);
    } catch (...) {
      error = std::current_exception();
    }
  }
  finish(service_, result, error, t0, t_submit, log != nullptr);
  return result;
}

namespace {

// What the commit callbacks of one decide_async() call share.
struct AsyncDecide {
  Service* service = nullptr;
  DecideResult result;
  std::function<void(DecideResult)> done;
  // Commit callbacks still to come, + 1 held by decide_async() until it has
  // submitted everything: whoever brings it to 0 finishes the call.
  std::atomic<size_t> pending{1};
  std::mutex error_mu;
  std::exception_ptr error;   // the first failed commit
  bool failed_early = false;  // prepare() failed after submitting some: its reply stands
  Clock::time_point started, submitted;
};

}  // namespace

void Session::complete_async(const std::shared_ptr<void>& p) {
  auto& st = *static_cast<AsyncDecide*>(p.get());
  if (!st.failed_early) finish(*st.service, st.result, st.error, st.started, st.submitted, true);
  st.done(std::move(st.result));
}

void Session::decide_async(std::string_view body, const DecideOptions& options,
                           std::function<void(DecideResult)> done) {
  auto state = std::make_shared<AsyncDecide>();
  state->service = &service_;
  state->started = Clock::now();
  state->done = std::move(done);
  DecisionLog* log = service_.log_.get();
  size_t made = 0;
  std::function<DecisionLog::Done(size_t)> on_commit;
  if (log)
    on_commit = [&](size_t) -> DecisionLog::Done {
      if (made++ == 0) state->submitted = Clock::now();
      state->pending.fetch_add(1, std::memory_order_relaxed);
      return [state](const std::exception_ptr& e) {
        if (e) {
          std::lock_guard lk(state->error_mu);
          if (!state->error) state->error = e;
        }
        if (state->pending.fetch_sub(1, std::memory_order_acq_rel) == 1) complete_async(state);
      };
    };
  bool ok = prepare(body, options, state->result, on_commit);
  // Callbacks made for a submit() that threw will never run.
  if (made > tickets_.size())
    state->pending.fetch_sub(made - tickets_.size(), std::memory_order_relaxed);
  if (!ok) {
    if (tickets_.empty()) {
      state->done(std::move(state->result));
      return;
    }
    // A batch whose submission failed part-way answers its error once the
    // decisions already submitted have gone through the writer.
    state->failed_early = true;
  } else if (!log) {
    finish(service_, state->result, nullptr, state->started, state->started, false);
    state->done(std::move(state->result));
    return;
  }
  if (state->pending.fetch_sub(1, std::memory_order_acq_rel) == 1) complete_async(state);
}

}  // namespace ethos
