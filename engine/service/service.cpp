#include <ethos/service/service.hpp>

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <chrono>
#include <nlohmann/json.hpp>

#include <ethos/check/check.hpp>
#include <ethos/base/time.hpp>
#include <ethos/base/hash.hpp>
#include <ethos/log/log_entry.hpp>
#include <ethos/eval/remedies.hpp>
#include <ethos/log/replay.hpp>
#include <ethos/log/stored_request.hpp>

namespace ethos {

namespace {

using Clock = std::chrono::steady_clock;
using json = nlohmann::json;

int64_t elapsed_ns(Clock::time_point since) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - since).count();
}

int64_t wall_seconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

int64_t steady_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now().time_since_epoch())
      .count();
}

// "2026-11-26T10:15:00.123Z" for milliseconds since the epoch.
std::string format_millis(int64_t ms) {
  int64_t s = ms >= 0 ? ms / 1000 : (ms - 999) / 1000;
  std::string t = format_timestamp(s);
  int64_t frac = ms - s * 1000;
  char buf[8];
  std::snprintf(buf, sizeof buf, ".%03d", static_cast<int>(frac));
  if (!t.empty() && t.back() == 'Z') t.insert(t.size() - 1, buf);
  return t;
}

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

// Splits a JSON array (a batch) into the texts of its elements. Checks the
// array's own punctuation: a comma between elements, the closing `]`, nothing
// after it. Each element's text is checked when it is bound. On failure
// `error` says what is wrong (with the byte offset) and false is returned.
bool split_batch(std::string_view text, std::vector<std::string_view>& out, std::string& error) {
  size_t i = text.find('[') + 1;
  auto skip_space = [&] {
    while (i < text.size() && is_space(text[i])) ++i;
  };
  auto fail = [&](std::string what) {
    error = "malformed JSON: " + what + " at byte " + std::to_string(i);
    return false;
  };
  skip_space();
  if (i < text.size() && text[i] == ']') {
    ++i;
  } else {
    for (;;) {
      skip_space();
      if (i >= text.size()) return fail("the batch ends before its `]`");
      size_t start = i;
      char first = text[i];
      if (first == '{' || first == '[') {
        int depth = 0;
        bool in_string = false;
        for (; i < text.size(); ++i) {
          char c = text[i];
          if (in_string) {
            if (c == '\\')
              ++i;
            else if (c == '"')
              in_string = false;
          } else if (c == '"') {
            in_string = true;
          } else if (c == '{' || c == '[') {
            ++depth;
          } else if ((c == '}' || c == ']') && --depth == 0) {
            ++i;
            break;
          }
        }
        if (depth != 0) {
          i = text.size();
          return fail("the batch ends inside request " + std::to_string(out.size()));
        }
      } else if (first == '"') {
        bool closed = false;
        for (++i; i < text.size() && !closed; ++i) {
          if (text[i] == '\\')
            ++i;
          else if (text[i] == '"')
            closed = true;
        }
        if (!closed) return fail("the batch ends inside a string");
      } else {
        // A scalar: the binder will say that a request is an object.
        while (i < text.size() && text[i] != ',' && text[i] != ']' && !is_space(text[i])) ++i;
      }
      if (i == start) return fail("expected a request");
      out.push_back(text.substr(start, i - start));
      skip_space();
      if (i >= text.size()) return fail("the batch ends before its `]`");
      if (text[i] == ',') {
        ++i;
        continue;
      }
      if (text[i] == ']') {
        ++i;
        break;
      }
      return fail("expected `,` or `]` after request " + std::to_string(out.size() - 1));
    }
  }
  skip_space();
  if (i != text.size()) return fail("unexpected text after the batch's `]`");
  return true;
}

void append_raw_or(std::string& out, std::string_view raw, std::string_view fallback) {
  out += raw.empty() ? fallback : raw;
}

bool parse_int(std::string_view s, int64_t& out) {
  if (s.empty()) return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && p == s.data() + s.size();
}

}  // namespace

// ---- errors ------------------------------------------------------------------

const char* error_code_name(ErrorCode code) {
  switch (code) {
    case ErrorCode::kNone:
      return "none";
    case ErrorCode::kMalformedJson:
      return "malformed_json";
    case ErrorCode::kInvalidRequest:
      return "invalid_request";
    case ErrorCode::kBadQuery:
      return "bad_query";
    case ErrorCode::kUnauthorized:
      return "unauthorized";
    case ErrorCode::kForbidden:
      return "forbidden";
    case ErrorCode::kNotFound:
      return "not_found";
    case ErrorCode::kMethodNotAllowed:
      return "method_not_allowed";
    case ErrorCode::kTimeout:
      return "timeout";
    case ErrorCode::kBodyTooLarge:
      return "body_too_large";
    case ErrorCode::kUnsupportedMediaType:
      return "unsupported_media_type";
    case ErrorCode::kPolicyErrors:
      return "policy_errors";
    case ErrorCode::kLogUnavailable:
      return "log_unavailable";
    case ErrorCode::kShuttingDown:
      return "shutting_down";
    case ErrorCode::kInternal:
      return "internal";
    case ErrorCode::kCount_:
      break;
  }
  return "internal";
}

int http_status(ErrorCode code) {
  switch (code) {
    case ErrorCode::kNone:
      return 200;
    case ErrorCode::kMalformedJson:
    case ErrorCode::kInvalidRequest:
    case ErrorCode::kBadQuery:
      return 400;
    case ErrorCode::kUnauthorized:
      return 401;
    case ErrorCode::kForbidden:
      return 403;
    case ErrorCode::kNotFound:
      return 404;
    case ErrorCode::kMethodNotAllowed:
      return 405;
    case ErrorCode::kTimeout:
      return 408;
    case ErrorCode::kBodyTooLarge:
      return 413;
    case ErrorCode::kUnsupportedMediaType:
      return 415;
    case ErrorCode::kPolicyErrors:
      return 422;
    case ErrorCode::kLogUnavailable:
    case ErrorCode::kShuttingDown:
      return 503;
    case ErrorCode::kInternal:
    case ErrorCode::kCount_:
      break;
  }
  return 500;
}

std::string error_json(ErrorCode code, std::string_view message, std::string_view path) {
  std::string out = R"({"error":{"code":")";
  out += error_code_name(code);
  out += R"(","message":)";
  append_json_string(out, message);
  out += R"(,"path":)";
  if (path.empty())
    out += "null";
  else
    append_json_string(out, path);
  out += "}}";
  return out;
}

Reply error_reply(ErrorCode code, std::string_view message, std::string_view path) {
  return Reply{http_status(code), error_json(code, message, path), code};
}

// ---- Session -------------------------------------------------------------------

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
  ErrorCode code = e.message.rfind("malformed JSON", 0) == 0 ? ErrorCode::kMalformedJson
                                                             : ErrorCode::kInvalidRequest;
  return error_reply(code, e.message, path);
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
    if (!split_batch(body, items_, error))
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
      return [state](std::exception_ptr e) {
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

// ---- Service -------------------------------------------------------------------

Service::Service(ServiceOptions options) : options_(std::move(options)) {
  Diagnostics diags;
  Bundle b = load_bundle(options_.policy_paths, diags, options_.check);
  diags.sort();
  if (!b.policy) throw ServiceStartError(render_all(b.sources, diags));
  active_ = build(std::move(b), 1);
  generation_.store(1, std::memory_order_release);
  if (!options_.log_path.empty())
    log_ = std::make_unique<DecisionLog>(options_.log_path, options_.log);
}

Service::~Service() {
  try {
    if (log_) log_->flush();
  } catch (...) {
    // The callers whose decisions failed were told (503); nothing more to do here.
  }
}

std::shared_ptr<const ServiceBundle> Service::active() const {
  std::lock_guard lk(active_mu_);
  return active_;
}

std::shared_ptr<const ServiceBundle> Service::build(Bundle bundle, uint64_t generation) const {
  auto sb = std::make_shared<ServiceBundle>();
  sb->bundle = std::move(bundle);
  sb->writer = std::make_unique<DecisionWriter>(*sb->bundle.policy);
  sb->generation = generation;
  sb->loaded_at = wall_seconds();
  const Policy& p = *sb->bundle.policy;
  json doc;
  doc["bundle"] = sb->bundle.hash;
  doc["loaded_at"] = format_timestamp(sb->loaded_at);
  doc["generation"] = generation;
  json modules = json::array();
  for (const auto& m : p.modules) {
    json rules = json::array();
    for (uint32_t r : m.rules) rules.push_back(p.rules[r].id);
    modules.push_back({{"name", m.name},
                       {"title", m.title},
                       {"concern", m.concern},
                       {"default", m.default_permit ? "permit" : "deny"},
                       {"rules", rules}});
  }
  doc["modules"] = modules;
  json rules = json::array();
  for (const auto& r : p.rules) {
    json rule = {{"id", r.id},
                 {"module", p.modules[r.module].name},
                 {"effect", effect_name(r.effect)},
                 {"because", r.because},
                 {"cite", r.cites},
                 {"concern", r.concern},
                 {"severity", r.severity.empty() ? json(nullptr) : json(r.severity)},
                 {"confidence", r.confidence},
                 {"tags", r.tags}};
    if (r.obligation >= 0) {
      const Obligation& o = p.obligations[static_cast<size_t>(r.obligation)];
      rule["obligation"] = {{"id", o.name}, {"text", o.text}};
    } else {
      rule["obligation"] = nullptr;
    }
    json overrides = json::array();
    for (uint32_t o : r.overrides) overrides.push_back(p.rules[o].id);
    rule["overrides"] = overrides;
    rules.push_back(std::move(rule));
  }
  doc["rules"] = rules;
  json params = json::array();
  for (const auto& prm : p.params) {
    auto it = options_.check.params.find(prm.id);
    params.push_back({{"id", prm.id},
                      {"value", it != options_.check.params.end() ? it->second : prm.written},
                      {"deployment", it != options_.check.params.end()}});
  }
  doc["params"] = params;
  sb->policy_json = doc.dump();
  return sb;
}

Reply Service::policy() const {
  Reply r;
  r.body = active()->policy_json;
  return r;
}

Reply Service::reload() {
  std::lock_guard guard(reload_mu_);
  Diagnostics diags;
  Bundle b = load_bundle(options_.policy_paths, diags, options_.check);
  diags.sort();
  auto current = active();
  if (!b.policy) {
    metrics_.reloaded(false);
    metrics_.error(ErrorCode::kPolicyErrors);
    std::string path;
    for (const auto& d : diags.items())
      if (d.severity == Severity::kError) {
        if (d.span.file < b.sources.files.size()) path = b.sources.files[d.span.file].path();
        break;
      }
    std::string message =
        std::to_string(diags.error_count()) + " error" + (diags.error_count() == 1 ? "" : "s") +
        " in the policy; the active bundle " + current->bundle.hash + " keeps serving";
    std::string body = error_json(ErrorCode::kPolicyErrors, message, path);
    body.pop_back();  // reopen the top-level object to add the diagnostics
    body += R"(,"diagnostics":)";
    body += diagnostics_json(b.sources, diags);
    body += R"(,"rendered":)";
    append_json_string(body, render_all(b.sources, diags));
    body += '}';
    return Reply{422, std::move(body), ErrorCode::kPolicyErrors};
  }
  json doc;
  doc["previous"] = current->bundle.hash;
  doc["bundle"] = b.hash;
  doc["changed"] = b.hash != current->bundle.hash;
  doc["warnings"] = diags.warning_count();
  doc["rules"] = b.policy->rules.size();
  doc["modules"] = b.policy->modules.size();
  if (b.hash != current->bundle.hash) {
    auto next = build(std::move(b), current->generation + 1);
    {
      std::lock_guard lk(active_mu_);
      active_ = next;
    }
    generation_.store(next->generation, std::memory_order_release);
  }
  doc["generation"] = generation_.load(std::memory_order_acquire);
  metrics_.reloaded(true);
  return Reply{200, doc.dump(), ErrorCode::kNone};
}

std::shared_ptr<const ServiceBundle> Service::bundle_for(const std::string& hash) const {
  auto current = active();
  if (current->bundle.hash == hash) return current;
  std::lock_guard lk(past_mu_);
  for (const auto& b : past_)
    if (b->bundle.hash == hash) return b;
  auto text = log_->bundle_text(hash);
  if (!text) return nullptr;
  Diagnostics diags;
  Bundle b = load_bundle_canonical(*text, diags);
  if (!b.policy) return nullptr;
  auto sb = build(std::move(b), 0);
  if (past_.size() >= 8) past_.erase(past_.begin());
  past_.push_back(sb);
  return sb;
}

Reply Service::require_log() const {
  if (log_) return {};
  return error_reply(ErrorCode::kNotFound, "this service keeps no decision log");
}

Reply Service::decision(std::string_view id) const {
  if (!log_) return require_log();
  try {
    auto e = log_->find(id);
    if (!e)
      return error_reply(ErrorCode::kNotFound, "no decision `" + std::string(id) + "` in the log",
                         "id");
    auto sb = bundle_for(e->bundle);
    if (!sb)
      return error_reply(ErrorCode::kInternal, "the bundle " + e->bundle + " of decision `" +
                                                   e->id + "` cannot be rebuilt");
    Decision d = decode_decision(*sb->bundle.policy, *e);
    DecisionFormat fmt;
    fmt.decision_id = e->id;
    fmt.bundle_hash = e->bundle;
    fmt.trace_mode = TraceMode::kFull;
    Reply r;
    std::string& out = r.body;
    out = R"({"decision":)";
    sb->writer->write(d, fmt, out);
    out += R"(,"request":)";
    // The log keeps the request positionally (stored_request.hpp): spell it out.
    std::string request;
    try {
      request = expand_stored_request(sb->bundle.policy->schema, e->request);
    } catch (const std::exception&) {
      request = e->request;
    }
    append_raw_or(out, request, "null");
    out += R"(,"seq":)" + std::to_string(e->seq);
    out += R"(,"recorded_at":")" + format_millis(e->recorded_at) + '"';
    out += R"(,"prev_hash":")" + e->prev_hash + '"';
    out += R"(,"hash":")" + e->hash + "\"}";
    return r;
  } catch (const std::exception& e) {
    return error_reply(ErrorCode::kInternal, std::string("cannot read the log: ") + e.what());
  }
}

Reply Service::decisions(const QueryParams& query) const {
  if (!log_) return require_log();
  LogFilter f;
  size_t limit = 100;
  for (const auto& [key, value] : query) {
    std::string path = "query." + key;
    if (key == "from" || key == "to") {
      int64_t t = 0;
      if (!parse_timestamp(value, t))
        return error_reply(
            ErrorCode::kBadQuery,
            "`" + key + "` is a time like 2026-11-26T10:15:00Z or 2026-11-26, got `" + value + "`",
            path);
      (key == "from" ? f.from : f.to) = t;
    } else if (key == "outcome") {
      if (value != "permit" && value != "deny" && value != "escalate")
        return error_reply(ErrorCode::kBadQuery,
                           "`outcome` is permit, deny or escalate, got `" + value + "`", path);
      f.outcome = value;
    } else if (key == "rule") {
      f.rule = value;
    } else if (key == "request_id") {
      f.request_id = value;
    } else if (key == "limit") {
      int64_t n = 0;
      if (!parse_int(value, n) || n < 1 || n > 1000)
        return error_reply(ErrorCode::kBadQuery,
                           "`limit` is an integer from 1 to 1000, got `" + value + "`", path);
      limit = static_cast<size_t>(n);
    } else if (key == "cursor") {
      int64_t n = 0;
      if (!parse_int(value, n) || n < 0)
        return error_reply(ErrorCode::kBadQuery,
                           "`cursor` is the `next_cursor` of a previous page, got `" + value + "`",
                           path);
      f.after_seq = n;
    } else {
      return error_reply(ErrorCode::kBadQuery,
                         "unknown query parameter `" + key +
                             "`; expected from, to, outcome, rule, request_id, limit or cursor",
                         path);
    }
  }
  f.limit = limit + 1;  // one more tells whether there is a next page
  Reply r;
  std::string& out = r.body;
  out = R"({"decisions":[)";
  size_t rows = 0;
  int64_t last_seq = 0;
  try {
    log_->scan(f, [&](const LogEntry& e) {
      if (rows == limit) return false;
      if (rows++) out += ',';
      out += R"({"decision_id":)";
      append_json_string(out, e.id);
      out += R"(,"seq":)" + std::to_string(e.seq);
      out += R"(,"request_id":)";
      append_json_string(out, e.request_id);
      out += R"(,"time":")" + format_timestamp(e.time) + '"';
      out += R"(,"recorded_at":")" + format_millis(e.recorded_at) + '"';
      out += R"(,"outcome":)";
      append_json_string(out, e.decision.outcome);
      out += R"(,"bundle":)";
      append_json_string(out, e.bundle);
      out += R"(,"default":)";
      if (e.decision.default_module.empty())
        out += "null";
      else
        append_json_string(out, e.decision.default_module);
      out += R"(,"reasons":)";
      append_raw_or(out, e.decision.reasons, "[]");
      out += R"(,"obligations":)";
      append_raw_or(out, e.decision.obligations, "[]");
      out += R"(,"advice":)";
      append_raw_or(out, e.decision.advice, "[]");
      out += R"(,"overridden":)";
      append_raw_or(out, e.decision.overridden, "[]");
      out += R"(,"missing_facts":)";
      append_raw_or(out, e.decision.missing_facts, "[]");
      out += '}';
      last_seq = e.seq;
      return true;
    });
  } catch (const std::exception& e) {
    return error_reply(ErrorCode::kInternal, std::string("cannot read the log: ") + e.what());
  }
  out += R"(],"next_cursor":)";
  // A full page may have a next one: scan asked for limit + 1 rows and stopped at the extra.
  bool more = rows == limit && last_seq > 0;
  if (more) {
    LogFilter probe = f;
    probe.after_seq = last_seq;
    probe.limit = 1;
    more = log_->count(probe) > 0;
  }
  if (more)
    out += '"' + std::to_string(last_seq) + '"';
  else
    out += "null";
  out += '}';
  return r;
}

Reply Service::replay(std::string_view body) const {
  if (!log_) return require_log();
  json req;
  std::string_view trimmed = body;
  while (!trimmed.empty() && is_space(trimmed.front())) trimmed.remove_prefix(1);
  if (trimmed.empty()) {
    req = json::object();
  } else {
    try {
      req = json::parse(body);
    } catch (const json::exception& e) {  // parse_error, or out_of_range for 1e400
      std::string what = e.what();
      auto pos = what.find("parse error");
      return error_reply(ErrorCode::kMalformedJson,
                         "malformed JSON: " + (pos == std::string::npos ? what : what.substr(pos)),
                         "$");
    }
  }
  if (!req.is_object())
    return error_reply(ErrorCode::kInvalidRequest, "a replay request is a JSON object", "$");
  ReplayOptions ro;
  size_t changes_limit = 100;
  std::optional<Bundle> candidate;
  auto bad = [](std::string message, std::string path) {
    return error_reply(ErrorCode::kInvalidRequest, message, path);
  };
  for (auto it = req.begin(); it != req.end(); ++it) {
    const std::string& key = it.key();
    const json& v = it.value();
    std::string path = "$." + key;
    if (key == "from" || key == "to") {
      int64_t t = 0;
      if (!v.is_string() || !parse_timestamp(v.get<std::string>(), t))
        return bad("`" + key + "` is a time like \"2026-11-26T10:15:00Z\"", path);
      (key == "from" ? ro.filter.from : ro.filter.to) = t;
    } else if (key == "outcome") {
      if (!v.is_string() || (v != "permit" && v != "deny" && v != "escalate"))
        return bad("`outcome` is \"permit\", \"deny\" or \"escalate\"", path);
      ro.filter.outcome = v.get<std::string>();
    } else if (key == "rule" || key == "request_id") {
      if (!v.is_string()) return bad("`" + key + "` is a string", path);
      (key == "rule" ? ro.filter.rule : ro.filter.request_id) = v.get<std::string>();
    } else if (key == "limit" || key == "changes_limit") {
      if (!v.is_number_unsigned()) return bad("`" + key + "` is a non-negative integer", path);
      if (key == "limit")
        ro.filter.limit = v.get<size_t>();
      else
        changes_limit = v.get<size_t>();
    } else if (key == "against") {
      if (!v.is_object())
        return bad("`against` is {\"files\": {\"name.ethos\": \"text\", ...}}", path);
      std::vector<std::pair<std::string, std::string>> files;
      CheckOptions check = options_.check;
      for (auto a = v.begin(); a != v.end(); ++a) {
        std::string apath = path + "." + a.key();
        if (a.key() == "files") {
          if (!a.value().is_object() || a.value().empty())
            return bad("`files` maps file names to policy text", apath);
          for (auto f = a.value().begin(); f != a.value().end(); ++f) {
            if (!f.value().is_string())
              return bad("a policy file's text is a string", apath + "." + f.key());
            files.emplace_back(f.key(), f.value().get<std::string>());
          }
        } else if (a.key() == "params") {
          if (!a.value().is_object())
            return bad("`params` maps `module.name` to a value's text", apath);
          for (auto pr = a.value().begin(); pr != a.value().end(); ++pr) {
            if (!pr.value().is_string())
              return bad("a param value is its literal text, e.g. \"14\"", apath + "." + pr.key());
            check.params[pr.key()] = pr.value().get<std::string>();
          }
        } else {
          return bad("unknown field `" + a.key() + "`; expected files or params", apath);
        }
      }
      if (files.empty()) return bad("`against` needs `files`", path);
      Diagnostics diags;
      Bundle b = load_bundle_texts(std::move(files), diags, check);
      diags.sort();
      if (!b.policy) {
        std::string body_out = error_json(
            ErrorCode::kPolicyErrors,
            std::to_string(diags.error_count()) + " error(s) in the candidate policy", path);
        body_out.pop_back();
        body_out += R"(,"diagnostics":)" + diagnostics_json(b.sources, diags);
        body_out += R"(,"rendered":)";
        append_json_string(body_out, render_all(b.sources, diags));
        body_out += '}';
        return Reply{422, std::move(body_out), ErrorCode::kPolicyErrors};
      }
      candidate = std::move(b);
    } else {
      return bad(
          "unknown field `" + key +
              "`; expected against, from, to, outcome, rule, request_id, limit or changes_limit",
          path);
    }
  }
  if (candidate) ro.against = &*candidate;
  ReplayReport rep;
  try {
    rep = ethos::replay(*log_, ro);
  } catch (const std::exception& e) {
    return error_reply(ErrorCode::kInternal, std::string("cannot replay: ") + e.what());
  }
  return Reply{200, replay_report_json(rep, changes_limit), ErrorCode::kNone};
}

Reply Service::verify() const {
  if (!log_) return require_log();
  VerifyReport v;
  try {
    v = log_->verify();
  } catch (const std::exception& e) {
    return error_reply(ErrorCode::kInternal, std::string("cannot read the log: ") + e.what());
  }
  json doc;
  doc["ok"] = v.ok();
  doc["decisions"] = v.decisions;
  doc["bundles"] = v.bundles;
  doc["head"] = v.head;
  if (v.first_break) {
    const ChainBreak& b = *v.first_break;
    doc["first_break"] = {{"kind", chain_break_name(b.kind)},
                          {"seq", b.seq},
                          {"decision_id", b.decision_id},
                          {"message", b.message}};
  } else {
    doc["first_break"] = nullptr;
  }
  return Reply{200, doc.dump(), ErrorCode::kNone};
}

Reply Service::ready() const {
  if (draining_.load(std::memory_order_relaxed))
    return error_reply(ErrorCode::kShuttingDown, "the service is shutting down");
  int64_t failed = log_failed_at_ms_.load(std::memory_order_relaxed);
  if (log_ && failed != 0 && steady_ms() - failed < kNotReadyAfterLogFailureMs)
    return error_reply(ErrorCode::kLogUnavailable,
                       "a decision could not be recorded in the last " +
                           std::to_string(kNotReadyAfterLogFailureMs / 1000) + " s");
  std::string out = R"({"status":"ready","bundle":")" + active()->bundle.hash + R"(","recording":)";
  out += log_ ? "true}" : "false}";
  return Reply{200, std::move(out), ErrorCode::kNone};
}

void Service::drain() {
  draining_.store(true, std::memory_order_relaxed);
  if (!log_) return;
  try {
    log_->flush();
  } catch (const std::exception&) {
    // Every decision is waited for by the decide() call that made it, so a
    // failed commit was already answered with 503 (and counted). Only a
    // failure that no caller saw is an error here.
    if (log_failed_at_ms_.load(std::memory_order_relaxed) == 0) throw;
  }
}

std::string Service::metrics_text() const {
  std::string out;
  out.reserve(8192);
  metrics_.render(out);
  auto sb = active();
  out += "# HELP ethos_policy_info The active policy bundle.\n# TYPE ethos_policy_info gauge\n";
  out += "ethos_policy_info{bundle=\"" + sb->bundle.hash + "\"} 1\n";
  out += "# HELP ethos_policy_generation Bundles loaded since start (1 = the first).\n";
  out += "# TYPE ethos_policy_generation gauge\n";
  out += "ethos_policy_generation " + std::to_string(sb->generation) + "\n";
  if (log_) {
    auto st = log_->stats();
    out += "# HELP ethos_log_committed_total Decisions committed to the log by this process.\n";
    out += "# TYPE ethos_log_committed_total counter\n";
    out += "ethos_log_committed_total " + std::to_string(st.committed) + "\n";
    out += "# HELP ethos_log_transactions_total Group commits (transactions) of the log writer.\n";
    out += "# TYPE ethos_log_transactions_total counter\n";
    out += "ethos_log_transactions_total " + std::to_string(st.transactions) + "\n";
  }
  out +=
      "# HELP ethos_ready 1 when the service is ready for decisions.\n# TYPE ethos_ready gauge\n";
  out += std::string("ethos_ready ") + (ready().status == 200 ? "1" : "0") + "\n";
  return out;
}

}  // namespace ethos
