#include <ethos/service/http_routes.hpp>

#include <ethos/service/authzen.hpp>

#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <exception>

namespace ethos::server {

using Clock = std::chrono::steady_clock;

// The endpoints and who may call them (Route is declared in http_routes.hpp).
enum class Access { kPublic, kAnyRole, kDecider, kAuditor, kAdmin, kAuditorOrAdmin };

enum class Endpoint {
  kHealthz,
  kReadyz,
  kMetrics,
  kPolicy,
  kReload,
  kDecide,
  kDecisions,
  kDecision,
  kReplay,
  kVerify,
  kLogHead,
  // The console's (console_api.hpp).
  kWhoami,
  kBundle,
  kGraph,
  kStatistics,
  kPlaygroundStart,
  kPlayground,
  kJobVerify,
  kJobImpact,
  kJob,
  // AuthZEN's (authzen.hpp).
  kAuthzenEvaluation,
  kAuthzenEvaluations,
  kAuthzenConfiguration,
};

struct Route {
  Endpoint endpoint;
  const char* method;  // GET routes answer HEAD too
  Access access;
};

namespace {

// Finds the route of a path; `id` receives the {id} of /v1/decisions/{id}.
const Route* find_route(const std::string& path, std::string& id) {
  static const Route kHealthz{Endpoint::kHealthz, "GET", Access::kPublic};
  static const Route kReadyz{Endpoint::kReadyz, "GET", Access::kPublic};
  static const Route kMetrics{Endpoint::kMetrics, "GET", Access::kAnyRole};
  static const Route kPolicy{Endpoint::kPolicy, "GET", Access::kAnyRole};
  static const Route kReload{Endpoint::kReload, "POST", Access::kAdmin};
  static const Route kDecide{Endpoint::kDecide, "POST", Access::kDecider};
  static const Route kDecisions{Endpoint::kDecisions, "GET", Access::kAuditor};
  static const Route kDecision{Endpoint::kDecision, "GET", Access::kAuditor};
  static const Route kReplay{Endpoint::kReplay, "POST", Access::kAuditor};
  static const Route kVerify{Endpoint::kVerify, "GET", Access::kAuditor};
  static const Route kLogHead{Endpoint::kLogHead, "GET", Access::kAuditor};
  static const Route kAzEvaluation{Endpoint::kAuthzenEvaluation, "POST", Access::kDecider};
  static const Route kAzEvaluations{Endpoint::kAuthzenEvaluations, "POST", Access::kDecider};
  static const Route kAzConfiguration{Endpoint::kAuthzenConfiguration, "GET", Access::kPublic};
  if (path == "/v1/decide") return &kDecide;
  if (path == "/healthz") return &kHealthz;
  if (path == "/readyz") return &kReadyz;
  if (path == "/metrics") return &kMetrics;
  if (path == "/v1/policy") return &kPolicy;
  if (path == "/v1/policy/reload") return &kReload;
  if (path == "/v1/decisions") return &kDecisions;
  if (path == "/v1/replay") return &kReplay;
  if (path == "/v1/verify") return &kVerify;
  if (path == "/v1/log/head") return &kLogHead;
  if (path == "/access/v1/evaluation") return &kAzEvaluation;
  if (path == "/access/v1/evaluations") return &kAzEvaluations;
  if (path == "/.well-known/authzen-configuration") return &kAzConfiguration;
  static const Route kWhoami{Endpoint::kWhoami, "GET", Access::kAnyRole};
  static const Route kBundle{Endpoint::kBundle, "GET", Access::kAuditor};
  static const Route kGraph{Endpoint::kGraph, "GET", Access::kAnyRole};
  static const Route kStatistics{Endpoint::kStatistics, "GET", Access::kAuditor};
  static const Route kPlaygroundStart{Endpoint::kPlaygroundStart, "GET", Access::kAuditorOrAdmin};
  static const Route kPlayground{Endpoint::kPlayground, "POST", Access::kAuditorOrAdmin};
  static const Route kJobVerify{Endpoint::kJobVerify, "POST", Access::kAuditor};
  static const Route kJobImpact{Endpoint::kJobImpact, "POST", Access::kAuditor};
  static const Route kJob{Endpoint::kJob, "GET", Access::kAuditor};
  if (path == "/v1/whoami") return &kWhoami;
  if (path == "/v1/graph") return &kGraph;
  if (path == "/v1/statistics") return &kStatistics;
  if (path == "/v1/playground") return &kPlayground;
  if (path == "/v1/playground/start") return &kPlaygroundStart;
  auto tail = [&](std::string_view prefix) {
    if (path.size() > prefix.size() && path.compare(0, prefix.size(), prefix) == 0 &&
        path.find('/', prefix.size()) == std::string::npos) {
      id = path.substr(prefix.size());
      return true;
    }
    return false;
  };
  if (path == "/v1/jobs/verify") return &kJobVerify;
  if (path == "/v1/jobs/impact") return &kJobImpact;
  if (tail("/v1/jobs/")) return &kJob;
  if (tail("/v1/bundles/")) return &kBundle;
  if (tail("/v1/decisions/")) return &kDecision;
  return nullptr;
}

const char* access_name(Access a) {
  switch (a) {
    case Access::kDecider:
      return "decider";
    case Access::kAuditor:
      return "auditor";
    case Access::kAdmin:
      return "admin";
    case Access::kAuditorOrAdmin:
      return "auditor` or `admin";
    default:
      return "any";
  }
}

bool role_allows(Access a, Role r) {
  switch (a) {
    case Access::kPublic:
    case Access::kAnyRole:
      return true;
    case Access::kDecider:
      return r == Role::kDecider;
    case Access::kAuditor:
      return r == Role::kAuditor;
    case Access::kAdmin:
      return r == Role::kAdmin;
    case Access::kAuditorOrAdmin:
      return r == Role::kAuditor || r == Role::kAdmin;
  }
  return false;
}

// `application/json`, in any case, alone or with parameters
// (`application/json; charset=utf-8`): the media type is exactly that one.
bool json_content_type(const std::string& ct) {
  std::string_view type(ct);
  type = type.substr(0, type.find(';'));
  auto space = [](char c) { return c == ' ' || c == '\t'; };
  while (!type.empty() && space(type.front())) type.remove_prefix(1);
  while (!type.empty() && space(type.back())) type.remove_suffix(1);
  constexpr std::string_view kJson = "application/json";
  return type.size() == kJson.size() &&
         std::equal(type.begin(), type.end(), kJson.begin(), [](char a, char b) {
           return std::tolower(static_cast<unsigned char>(a)) == b;
         });
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

// Percent-decoding; in a query, '+' is a space too.
std::string url_decode(std::string_view in, bool query) {
  std::string out;
  out.reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    char c = in[i];
    if (c == '%' && i + 2 < in.size() && hex_value(in[i + 1]) >= 0 && hex_value(in[i + 2]) >= 0) {
      out += static_cast<char>(hex_value(in[i + 1]) * 16 + hex_value(in[i + 2]));
      i += 2;
    } else if (query && c == '+') {
      out += ' ';
    } else {
      out += c;
    }
  }
  return out;
}

QueryParams parse_query(std::string_view q) {
  QueryParams out;
  while (!q.empty()) {
    size_t amp = q.find('&');
    std::string_view part = q.substr(0, amp);
    q = amp == std::string_view::npos ? std::string_view() : q.substr(amp + 1);
    if (part.empty()) continue;
    size_t eq = part.find('=');
    if (eq == std::string_view::npos)
      out.emplace_back(url_decode(part, true), std::string());
    else
      out.emplace_back(url_decode(part.substr(0, eq), true), url_decode(part.substr(eq + 1), true));
  }
  return out;
}

TokenWatch::TokenWatch(std::string path) : path_(std::move(path)) {
  store_ = std::make_shared<const TokenStore>(TokenStore::load(path_));
  stamp_ = stamp();
}

std::shared_ptr<const TokenStore> TokenWatch::current() const {
  std::lock_guard lk(mu_);
  return store_;
}

void TokenWatch::refresh(bool force) {
  std::string s = stamp();
  if (!force && s == stamp_) return;
  try {
    auto next = std::make_shared<const TokenStore>(TokenStore::load(path_));
    {
      std::lock_guard lk(mu_);
      store_ = std::move(next);
    }
    stamp_ = s;
    spdlog::info("tokens: read {} token(s) from {}", current()->tokens().size(), path_);
  } catch (const std::exception& e) {
    stamp_ = s;
    spdlog::error("tokens: {}; the previous tokens stay in force", e.what());
  }
}

std::string TokenWatch::stamp() const {
  struct stat st {};
  if (::stat(path_.c_str(), &st) != 0) return "missing";
  return std::to_string(st.st_ino) + ":" + std::to_string(st.st_size) + ":" +
         std::to_string(st.st_mtim.tv_sec) + "." + std::to_string(st.st_mtim.tv_nsec);
}

HttpService::HttpService(Service& service, const HttpOptions& options)
    : service_(service),
      options_(options),
      tokens_(options.tokens_path),
      authzen_(std::make_unique<AuthzenEndpoints>(service, !options.tls_cert.empty())),
      console_(service) {}

HttpService::~HttpService() = default;

// Where a request runs: inline on the connection's I/O thread (fast,
// never blocks), or on the worker pool (reads the log, compiles a policy,
// searches remedies).
bool HttpService::runs_inline(const Incoming& req) const {
  std::string id;
  const Route* route = find_route(req.path, id);
  if (!route || route->endpoint == Endpoint::kHealthz || route->endpoint == Endpoint::kReadyz ||
      route->endpoint == Endpoint::kAuthzenEvaluation ||
      route->endpoint == Endpoint::kAuthzenConfiguration)
    return true;
  if (route->endpoint != Endpoint::kDecide) return false;
  for (const auto& [k, v] : req.params)
    if (k == "remedies" && v == "true") return false;
  return true;
}

// Answers `req` through `reply` exactly once: at once for most endpoints,
// from the log's writer thread for a decision (once it is committed).
void HttpService::handle(Incoming& req, std::function<void(Outgoing)> reply) {
  auto t0 = Clock::now();
  auto finish = [this, t0, reply = std::move(reply), method = req.method, path = req.path](
                    Outgoing out, ErrorCode error) {
    if (error != ErrorCode::kNone) service_.metrics().error(error);
    service_.metrics().http_response(out.status);
    if (out.status >= 500) warn_rate_limited(method, path, out.status, out.body);
    service_.metrics().http_seconds.observe_ns(
        std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - t0).count());
    reply(std::move(out));
  };
  Outgoing out;
  Reply r;
  try {
    if (dispatch(req, out, r, finish)) return;  // decide: answered from its callback
  } catch (const std::exception& e) {
    spdlog::error("internal error: {}", e.what());
    r = error_reply(ErrorCode::kInternal, e.what());
  }
  out.status = r.status;
  out.body = std::move(r.body);
  finish(std::move(out), r.error);
}

// A response for a request that could not be read as HTTP.
Outgoing HttpService::transport_error(int status, ErrorCode code, const std::string& message) {
  Outgoing out;
  out.status = status;
  out.body = error_json(code, message, {});
  service_.metrics().error(code);
  service_.metrics().http_response(status);
  return out;
}

// True when the answer will come through `finish` later (a decision);
// otherwise the answer is in `r` (and headers in `out`).
bool HttpService::dispatch(Incoming& req, Outgoing& out, Reply& r, const Finish& finish) {
  std::string id;
  const Route* route = find_route(req.path, id);
  if (!route && serve_console_asset(options_.console, req, out, r)) return false;
  if (!route) {
    r = error_reply(ErrorCode::kNotFound, "no endpoint `" + req.path + "`; see docs/api.md");
    return false;
  }
  bool authzen = route->endpoint == Endpoint::kAuthzenEvaluation ||
                 route->endpoint == Endpoint::kAuthzenEvaluations;
  if (authzen && !req.request_id.empty()) out.headers.emplace_back("X-Request-ID", req.request_id);
  bool head = req.method == "HEAD";
  if (req.method != route->method && !(head && std::string_view(route->method) == "GET")) {
    out.headers.emplace_back(
        "Allow",
        std::string(route->method) + (std::string_view(route->method) == "GET" ? ", HEAD" : ""));
    r = error_reply(ErrorCode::kMethodNotAllowed,
                    "`" + req.path + "` takes " + route->method + ", not " + req.method);
    return false;
  }
  if (route->access != Access::kPublic && !authorize(req, out, *route, r)) return false;
  if (route->method == std::string_view("POST") && !req.body.empty()) {
    if (req.content_type && !json_content_type(*req.content_type)) {
      r = error_reply(ErrorCode::kUnsupportedMediaType,
                      "the body must be application/json, got `" + *req.content_type + "`");
      return false;
    }
    bool policy_body = route->endpoint == Endpoint::kReplay ||
                       route->endpoint == Endpoint::kJobImpact ||
                       route->endpoint == Endpoint::kPlayground;
    size_t limit = policy_body ? options_.max_policy_body : options_.max_body;
    if (req.body.size() > limit) {
      r = error_reply(ErrorCode::kBodyTooLarge, "the body has " + std::to_string(req.body.size()) +
                                                    " bytes; the limit is " +
                                                    std::to_string(limit));
      return false;
    }
  }
  switch (route->endpoint) {
    case Endpoint::kHealthz:
      r = Reply{200, R"({"status":"ok"})", ErrorCode::kNone};
      return false;
    case Endpoint::kReadyz:
      r = service_.ready();
      return false;
    case Endpoint::kMetrics:
      out.content_type = "text/plain; version=0.0.4";
      r = Reply{200, service_.metrics_text(), ErrorCode::kNone};
      return false;
    case Endpoint::kPolicy:
      r = service_.policy();
      return false;
    case Endpoint::kReload: {
      tokens_.refresh(false);
      r = service_.reload();
      if (r.status == 200)
        spdlog::info("reload: {}", r.body);
      else
        spdlog::error("reload: the policy has errors; the active bundle keeps serving");
      return false;
    }
    case Endpoint::kDecide:
      return decide(req, r, finish);
    case Endpoint::kDecisions:
      r = service_.decisions(req.params);
      return false;
    case Endpoint::kDecision:
      r = service_.decision(id);
      return false;
    case Endpoint::kReplay:
      r = service_.replay(req.body);
      return false;
    case Endpoint::kVerify:
      r = service_.verify();
      return false;
    case Endpoint::kLogHead:
      r = service_.log_head();
      return false;
    case Endpoint::kWhoami:
      r = whoami(req);
      return false;
    case Endpoint::kBundle:
      r = console_.bundle(id);
      return false;
    case Endpoint::kGraph:
      r = console_.graph(req.params);
      if (r.status == 200) out.content_type = "image/svg+xml";
      return false;
    case Endpoint::kStatistics:
      r = console_.statistics(req.params);
      return false;
    case Endpoint::kPlaygroundStart:
      r = console_.playground_start();
      return false;
    case Endpoint::kPlayground:
      r = console_.playground(req.body);
      return false;
    case Endpoint::kJobVerify:
      r = console_.start_verify();
      return false;
    case Endpoint::kJobImpact:
      r = console_.start_impact(req.body);
      return false;
    case Endpoint::kJob:
      r = console_.job(id);
      return false;
    case Endpoint::kAuthzenEvaluation:
    case Endpoint::kAuthzenEvaluations:
      return authzen_->evaluate(req, route->endpoint == Endpoint::kAuthzenEvaluations, session(),
                                out, r, finish);
    case Endpoint::kAuthzenConfiguration:
      r = authzen_->configuration(req);
      return false;
  }
  r = error_reply(ErrorCode::kInternal, "unrouted endpoint");
  return false;
}

bool HttpService::decide(const Incoming& req, Reply& r, const Finish& finish) {
  DecideOptions opts;
  for (const auto& [key, value] : req.params) {
    if (key == "remedies") {
      if (value != "true" && value != "false") {
        r = error_reply(ErrorCode::kBadQuery, "`remedies` is true or false, got `" + value + "`",
                        "query.remedies");
        return false;
      }
      opts.remedies = value == "true";
      continue;
    }
    if (key != "trace") {
      r = error_reply(ErrorCode::kBadQuery,
                      "unknown query parameter `" + key + "`; expected trace or remedies",
                      "query." + key);
      return false;
    }
    TraceMode mode = TraceMode::kCompact;
    if (!parse_trace_mode(value, mode)) {
      r = error_reply(ErrorCode::kBadQuery, "`trace` is full, compact or none, got `" + value + "`",
                      "query.trace");
      return false;
    }
    opts.trace = mode;
  }
  session().decide_async(req.body, opts, [finish](DecideResult result) {
    // decide_async() counted its own errors; keep the reply's code for the status only.
    Outgoing out;
    out.status = result.reply.status;
    out.body = std::move(result.reply.body);
    finish(std::move(out), ErrorCode::kNone);
  });
  return true;
}

bool HttpService::authorize(const Incoming& req, Outgoing& out, const Route& route, Reply& denied) {
  const std::string& auth = req.authorization;
  constexpr std::string_view kBearer = "Bearer ";
  if (auth.empty() || auth.size() <= kBearer.size() ||
      !std::equal(kBearer.begin(), kBearer.end(), auth.begin(), [](char a, char b) {
        return std::tolower(static_cast<unsigned char>(a)) ==
               std::tolower(static_cast<unsigned char>(b));
      })) {
    out.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"ethos\"");
    denied = error_reply(
        ErrorCode::kUnauthorized,
        "this endpoint needs `Authorization: Bearer <token>` (make one with `ethos token new`)");
    return false;
  }
  auto store = tokens_.current();
  const TokenRecord* t = store->authenticate(std::string_view(auth).substr(kBearer.size()));
  if (!t) {
    out.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"ethos\", error=\"invalid_token\"");
    denied = error_reply(ErrorCode::kUnauthorized, "the token is unknown or was revoked");
    return false;
  }
  if (!role_allows(route.access, t->role)) {
    denied =
        error_reply(ErrorCode::kForbidden,
                    "a `" + std::string(role_name(t->role)) + "` token may not call " + req.method +
                        " " + req.path + "; it needs the `" + access_name(route.access) + "` role");
    return false;
  }
  return true;
}

Session& HttpService::session() {
  // One Session per thread (I/O or worker): the parser, binder and evaluator are reused.
  thread_local std::unique_ptr<Session> s;
  thread_local Service* owner = nullptr;
  if (!s || owner != &service_) {
    s = std::make_unique<Session>(service_);
    owner = &service_;
  }
  return *s;
}

void HttpService::warn_rate_limited(const std::string& method, const std::string& path, int status,
                                    const std::string& body) {
  int64_t now =
      std::chrono::duration_cast<std::chrono::seconds>(Clock::now().time_since_epoch()).count();
  int64_t last = last_warn_s_.load(std::memory_order_relaxed);
  if (now == last || !last_warn_s_.compare_exchange_strong(last, now)) return;
  spdlog::warn("{} {} -> {}: {}", method, path, status, body);
}

}  // namespace ethos::server
