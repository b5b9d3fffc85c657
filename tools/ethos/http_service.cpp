// The HTTP front of the decision service, on cpp-httplib (Debian's
// libcpp-httplib, built with OpenSSL). Everything the service decides is in
// engine/service.hpp; this file maps HTTP onto it: routes, bearer tokens and
// roles, body and content-type checks, TLS, the worker pool, signals.
#include "http_service.hpp"

#include <arpa/inet.h>
#include <httplib.h>
#include <pthread.h>
#include <signal.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <deque>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <thread>

#include "cli.hpp"
#include "tokens.hpp"

namespace ethos::cli {

namespace {

using Clock = std::chrono::steady_clock;

// A fixed set of workers with a bounded queue of accepted connections. When
// the queue is full the acceptor waits here, so new connections wait in the
// kernel's listen backlog instead of piling up in memory.
class BoundedPool final : public httplib::TaskQueue {
 public:
  BoundedPool(size_t threads, size_t max_queued) : max_queued_(std::max<size_t>(max_queued, 1)) {
    for (size_t i = 0; i < std::max<size_t>(threads, 1); ++i)
      workers_.emplace_back([this] {
        pthread_setname_np(pthread_self(), "ethos-http");
        work();
      });
  }
  ~BoundedPool() override = default;

  void enqueue(std::function<void()> fn) override {
    {
      std::unique_lock lk(mu_);
      not_full_.wait(lk, [&] { return jobs_.size() < max_queued_ || stopping_; });
      jobs_.push_back(std::move(fn));
    }
    not_empty_.notify_one();
  }

  // Runs what is queued, then joins the workers.
  void shutdown() override {
    {
      std::lock_guard lk(mu_);
      stopping_ = true;
    }
    not_empty_.notify_all();
    not_full_.notify_all();
    for (auto& t : workers_) t.join();
  }

 private:
  void work() {
    for (;;) {
      std::function<void()> fn;
      {
        std::unique_lock lk(mu_);
        not_empty_.wait(lk, [&] { return !jobs_.empty() || stopping_; });
        if (jobs_.empty()) return;
        fn = std::move(jobs_.front());
        jobs_.pop_front();
      }
      not_full_.notify_one();
      fn();
    }
  }

  size_t max_queued_;
  std::mutex mu_;
  std::condition_variable not_empty_, not_full_;
  std::deque<std::function<void()>> jobs_;
  std::vector<std::thread> workers_;
  bool stopping_ = false;
};

enum class Access { kPublic, kAnyRole, kDecider, kAuditor, kAdmin };

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
};

struct Route {
  Endpoint endpoint;
  const char* method;  // GET routes answer HEAD too
  Access access;
};

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
  if (path == "/v1/decide") return &kDecide;
  if (path == "/healthz") return &kHealthz;
  if (path == "/readyz") return &kReadyz;
  if (path == "/metrics") return &kMetrics;
  if (path == "/v1/policy") return &kPolicy;
  if (path == "/v1/policy/reload") return &kReload;
  if (path == "/v1/decisions") return &kDecisions;
  if (path == "/v1/replay") return &kReplay;
  if (path == "/v1/verify") return &kVerify;
  constexpr std::string_view prefix = "/v1/decisions/";
  if (path.size() > prefix.size() && path.compare(0, prefix.size(), prefix) == 0 &&
      path.find('/', prefix.size()) == std::string::npos) {
    id = path.substr(prefix.size());
    return &kDecision;
  }
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
  }
  return false;
}

bool json_content_type(const std::string& ct) {
  std::string lower = ct.substr(0, std::min<size_t>(ct.size(), 16));
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  return lower == "application/json";
}

// The tokens file, re-read when it changes (mtime, size or inode).
class TokenWatch {
 public:
  explicit TokenWatch(std::string path) : path_(std::move(path)) {
    store_ = std::make_shared<const TokenStore>(TokenStore::load(path_));
    stamp_ = stamp();
  }
  std::shared_ptr<const TokenStore> current() const {
    std::lock_guard lk(mu_);
    return store_;
  }
  // Re-reads the file if it changed (or when `force`); keeps the old tokens on errors.
  void refresh(bool force) {
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

 private:
  std::string stamp() const {
    struct stat st {};
    if (::stat(path_.c_str(), &st) != 0) return "missing";
    return std::to_string(st.st_ino) + ":" + std::to_string(st.st_size) + ":" +
           std::to_string(st.st_mtim.tv_sec) + "." + std::to_string(st.st_mtim.tv_nsec);
  }
  std::string path_;
  std::string stamp_;  // touched by the signal thread only
  mutable std::mutex mu_;
  std::shared_ptr<const TokenStore> store_;
};

class HttpService {
 public:
  HttpService(Service& service, const HttpOptions& options)
      : service_(service), options_(options), tokens_(options.tokens_path) {}

  TokenWatch& tokens() { return tokens_; }

  void handle(const httplib::Request& req, httplib::Response& res) {
    auto t0 = Clock::now();
    const char* type = "application/json";
    Reply reply = dispatch(req, res, type);
    res.status = reply.status;
    if (reply.error != ErrorCode::kNone) service_.metrics().error(reply.error);
    service_.metrics().http_response(reply.status);
    if (reply.status >= 500) warn_rate_limited(req, reply);
    res.set_content(reply.body, type);
    service_.metrics().http_seconds.observe_ns(
        std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - t0).count());
  }

  // Answers a response that httplib made itself (a bad request line, a body
  // over the limit, a read timeout, ...) with the JSON error body.
  httplib::Server::HandlerResponse library_error(const httplib::Request& req,
                                                 httplib::Response& res) {
    if (!res.body.empty()) return httplib::Server::HandlerResponse::Unhandled;
    ErrorCode code = ErrorCode::kInvalidRequest;
    std::string message =
        "the request could not be read: not HTTP, or not complete within the read timeout";
    size_t declared = 0;
    if (req.has_header("Content-Length"))
      declared = std::strtoul(req.get_header_value("Content-Length").c_str(), nullptr, 10);
    switch (res.status) {
      case 413:
        code = ErrorCode::kBodyTooLarge;
        message = "the body is larger than " +
                  std::to_string(std::max(options_.max_body, options_.max_policy_body)) + " bytes";
        break;
      case 400:
        if (declared > req.body.size()) {
          // The body stopped short of its Content-Length: a slow or vanished client.
          res.status = 408;
          code = ErrorCode::kTimeout;
          message = "the body did not arrive within the read timeout (" +
                    std::to_string(req.body.size()) + " of " + std::to_string(declared) + " bytes)";
        }
        break;
      case 414:
      case 431:
        message = "the request line or headers are too long";
        break;
      case 404:
        code = ErrorCode::kNotFound;
        message = "no such endpoint";
        break;
      default:
        if (res.status >= 500) {
          code = ErrorCode::kInternal;
          message = "internal error";
        }
    }
    res.set_content(error_json(code, message, {}), "application/json");
    service_.metrics().error(code);
    service_.metrics().http_response(res.status);
    return httplib::Server::HandlerResponse::Handled;
  }

 private:
  Reply dispatch(const httplib::Request& req, httplib::Response& res, const char*& content_type) {
    std::string id;
    const Route* route = find_route(req.path, id);
    if (!route)
      return error_reply(ErrorCode::kNotFound, "no endpoint `" + req.path + "`; see docs/api.md");
    bool head = req.method == "HEAD";
    if (req.method != route->method && !(head && std::string_view(route->method) == "GET")) {
      res.set_header("Allow", std::string(route->method) +
                                  (std::string_view(route->method) == "GET" ? ", HEAD" : ""));
      return error_reply(ErrorCode::kMethodNotAllowed,
                         "`" + req.path + "` takes " + route->method + ", not " + req.method);
    }
    if (route->access != Access::kPublic) {
      Reply denied;
      if (!authorize(req, res, *route, denied)) return denied;
    }
    if (route->method == std::string_view("POST") && !req.body.empty()) {
      if (req.has_header("Content-Type") &&
          !json_content_type(req.get_header_value("Content-Type")))
        return error_reply(ErrorCode::kUnsupportedMediaType,
                           "the body must be application/json, got `" +
                               req.get_header_value("Content-Type") + "`");
      size_t limit =
          route->endpoint == Endpoint::kReplay ? options_.max_policy_body : options_.max_body;
      if (req.body.size() > limit) {
        return error_reply(ErrorCode::kBodyTooLarge,
                           "the body has " + std::to_string(req.body.size()) +
                               " bytes; the limit is " + std::to_string(limit));
      }
    }
    switch (route->endpoint) {
      case Endpoint::kHealthz:
        return Reply{200, R"({"status":"ok"})", ErrorCode::kNone};
      case Endpoint::kReadyz:
        return service_.ready();
      case Endpoint::kMetrics:
        content_type = "text/plain; version=0.0.4";
        return Reply{200, service_.metrics_text(), ErrorCode::kNone};
      case Endpoint::kPolicy:
        return service_.policy();
      case Endpoint::kReload: {
        tokens_.refresh(false);
        Reply r = service_.reload();
        if (r.status == 200)
          spdlog::info("reload: {}", r.body);
        else
          spdlog::error("reload: the policy has errors; the active bundle keeps serving");
        return r;
      }
      case Endpoint::kDecide:
        return decide(req);
      case Endpoint::kDecisions: {
        QueryParams q(req.params.begin(), req.params.end());
        return service_.decisions(q);
      }
      case Endpoint::kDecision:
        return service_.decision(id);
      case Endpoint::kReplay:
        return service_.replay(req.body);
      case Endpoint::kVerify:
        return service_.verify();
    }
    return error_reply(ErrorCode::kInternal, "unrouted endpoint");
  }

  Reply decide(const httplib::Request& req) {
    DecideOptions opts;
    for (const auto& [key, value] : req.params) {
      if (key == "remedies") {
        if (value != "true" && value != "false")
          return error_reply(ErrorCode::kBadQuery,
                             "`remedies` is true or false, got `" + value + "`", "query.remedies");
        opts.remedies = value == "true";
        continue;
      }
      if (key != "trace")
        return error_reply(ErrorCode::kBadQuery,
                           "unknown query parameter `" + key + "`; expected trace or remedies",
                           "query." + key);
      if (value == "full")
        opts.trace = TraceMode::kFull;
      else if (value == "compact")
        opts.trace = TraceMode::kCompact;
      else if (value == "none")
        opts.trace = TraceMode::kNone;
      else
        return error_reply(ErrorCode::kBadQuery,
                           "`trace` is full, compact or none, got `" + value + "`", "query.trace");
    }
    DecideResult r = session().decide(req.body, opts);
    // decide() counted its own errors; keep the reply's code for the status only.
    Reply out = std::move(r.reply);
    if (out.error != ErrorCode::kNone) out.error = ErrorCode::kNone;
    return out;
  }

  bool authorize(const httplib::Request& req, httplib::Response& res, const Route& route,
                 Reply& denied) {
    const std::string& auth = req.get_header_value("Authorization");
    constexpr std::string_view kBearer = "Bearer ";
    if (auth.empty() || auth.size() <= kBearer.size() ||
        !std::equal(kBearer.begin(), kBearer.end(), auth.begin(), [](char a, char b) {
          return std::tolower(static_cast<unsigned char>(a)) ==
                 std::tolower(static_cast<unsigned char>(b));
        })) {
      res.set_header("WWW-Authenticate", "Bearer realm=\"ethos\"");
      denied = error_reply(
          ErrorCode::kUnauthorized,
          "this endpoint needs `Authorization: Bearer <token>` (make one with `ethos token new`)");
      return false;
    }
    auto store = tokens_.current();
    const TokenRecord* t = store->authenticate(std::string_view(auth).substr(kBearer.size()));
    if (!t) {
      res.set_header("WWW-Authenticate", "Bearer realm=\"ethos\", error=\"invalid_token\"");
      denied = error_reply(ErrorCode::kUnauthorized, "the token is unknown or was revoked");
      return false;
    }
    if (!role_allows(route.access, t->role)) {
      denied = error_reply(ErrorCode::kForbidden, "a `" + std::string(role_name(t->role)) +
                                                      "` token may not call " + req.method + " " +
                                                      req.path + "; it needs the `" +
                                                      access_name(route.access) + "` role");
      return false;
    }
    return true;
  }

  Session& session() {
    // One Session per worker thread: the parser, binder and evaluator are reused.
    thread_local std::unique_ptr<Session> s;
    thread_local Service* owner = nullptr;
    if (!s || owner != &service_) {
      s = std::make_unique<Session>(service_);
      owner = &service_;
    }
    return *s;
  }

  void warn_rate_limited(const httplib::Request& req, const Reply& reply) {
    int64_t now =
        std::chrono::duration_cast<std::chrono::seconds>(Clock::now().time_since_epoch()).count();
    int64_t last = last_warn_s_.load(std::memory_order_relaxed);
    if (now == last || !last_warn_s_.compare_exchange_strong(last, now)) return;
    spdlog::warn("{} {} -> {}: {}", req.method, req.path, reply.status, reply.body);
  }

  Service& service_;
  const HttpOptions& options_;
  TokenWatch tokens_;
  std::atomic<int64_t> last_warn_s_{0};
};

bool write_port_file(const std::string& path, int port) {
  std::string tmp = path + ".tmp";
  {
    std::ofstream f(tmp);
    if (!f) return false;
    f << port << "\n";
    if (!f) return false;
  }
  return std::rename(tmp.c_str(), path.c_str()) == 0;
}

}  // namespace

void block_service_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  // A client that goes away mid-response must not kill the server.
  signal(SIGPIPE, SIG_IGN);
}

bool is_loopback(const std::string& host) {
  if (host == "localhost") return true;
  in_addr v4{};
  if (inet_pton(AF_INET, host.c_str(), &v4) == 1) return (ntohl(v4.s_addr) >> 24) == 127;
  in6_addr v6{};
  if (inet_pton(AF_INET6, host.c_str(), &v6) == 1) {
    if (IN6_IS_ADDR_LOOPBACK(&v6)) return true;
    if (IN6_IS_ADDR_V4MAPPED(&v6)) return v6.s6_addr[12] == 127;
  }
  return false;
}

int run_http_service(Service& service, const HttpOptions& options) {
  bool tls = !options.tls_cert.empty();
  std::unique_ptr<HttpService> http;
  try {
    http = std::make_unique<HttpService>(service, options);
  } catch (const std::exception& e) {
    spdlog::error("{}", e.what());
    return kUsage;
  }
  if (http->tokens().current()->tokens().empty())
    spdlog::warn("the tokens file {} holds no tokens: every /v1 endpoint will answer 401",
                 options.tokens_path);

  std::unique_ptr<httplib::Server> svr;
  if (tls)
    svr = std::make_unique<httplib::SSLServer>(options.tls_cert.c_str(), options.tls_key.c_str());
  else
    svr = std::make_unique<httplib::Server>();
  if (!svr->is_valid()) {
    spdlog::error("cannot load the TLS certificate `{}` or key `{}`", options.tls_cert,
                  options.tls_key);
    return kUsage;
  }
  size_t threads = options.threads, queue = options.queue;
  svr->new_task_queue = [threads, queue] { return new BoundedPool(threads, queue); };
  svr->set_tcp_nodelay(true);
  svr->set_keep_alive_max_count(std::max<size_t>(options.keep_alive_max, 1));
  svr->set_keep_alive_timeout(options.keep_alive_timeout_s);
  svr->set_read_timeout(options.read_timeout_ms / 1000, (options.read_timeout_ms % 1000) * 1000);
  svr->set_write_timeout(options.write_timeout_ms / 1000, (options.write_timeout_ms % 1000) * 1000);
  svr->set_payload_max_length(std::max(options.max_body, options.max_policy_body));
  HttpService* h = http.get();
  auto handler = [h](const httplib::Request& req, httplib::Response& res) { h->handle(req, res); };
  // One catch-all route per method: HttpService routes by exact path.
  svr->Get(".*", handler);
  svr->Post(".*", handler);
  svr->Put(".*", handler);
  svr->Patch(".*", handler);
  svr->Delete(".*", handler);
  svr->Options(".*", handler);
  // A request without Content-Length or Transfer-Encoding has no body (RFC 9112,
  // 6.3), but this httplib would wait for the connection to close to read one
  // (e.g. `curl -X POST` without -d): answer such requests before it tries.
  svr->set_pre_routing_handler([h](const httplib::Request& req, httplib::Response& res) {
    if (req.has_header("Content-Length") || req.has_header("Transfer-Encoding"))
      return httplib::Server::HandlerResponse::Unhandled;
    h->handle(req, res);
    return httplib::Server::HandlerResponse::Handled;
  });
  svr->set_error_handler(httplib::Server::HandlerWithResponse(
      [h](const httplib::Request& req, httplib::Response& res) {
        return h->library_error(req, res);
      }));
  svr->set_exception_handler(
      [&service](const httplib::Request&, httplib::Response& res, std::exception_ptr ep) {
        std::string what = "internal error";
        try {
          if (ep) std::rethrow_exception(ep);
        } catch (const std::exception& e) {
          what = e.what();
        } catch (...) {
        }
        spdlog::error("internal error: {}", what);
        res.status = 500;
        res.set_content(error_json(ErrorCode::kInternal, what), "application/json");
        service.metrics().error(ErrorCode::kInternal);
        service.metrics().http_response(500);
      });

  int port = options.port;
  if (port == 0) {
    port = svr->bind_to_any_port(options.host);
    if (port <= 0) {
      spdlog::error("cannot listen on {}: {}", options.host, std::strerror(errno));
      return kInternal;
    }
  } else if (!svr->bind_to_port(options.host, port)) {
    spdlog::error("cannot listen on {}:{}: {}", options.host, port, std::strerror(errno));
    return kInternal;
  }
  if (!options.port_file.empty() && !write_port_file(options.port_file, port)) {
    spdlog::error("cannot write the port file `{}`", options.port_file);
    return kInternal;
  }
  std::string host =
      options.host.find(':') != std::string::npos ? "[" + options.host + "]" : options.host;
  spdlog::info("listening on {}://{}:{} ({} workers); bundle {}; log {}", tls ? "https" : "http",
               host, port, threads, service.active()->bundle.hash, service.options().log_path);

  std::atomic<bool> listening_done{false};
  httplib::Server* server = svr.get();
  std::thread signals([&] {
    pthread_setname_np(pthread_self(), "ethos-signals");
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    bool stopping = false;
    while (!listening_done.load()) {
      timespec timeout{0, stopping ? 100'000'000L : 500'000'000L};
      int sig = sigtimedwait(&set, nullptr, &timeout);
      if (sig == SIGHUP) {
        spdlog::info("SIGHUP: reloading the policy and the tokens");
        http->tokens().refresh(true);
        Reply r = service.reload();
        if (r.status == 200)
          spdlog::info("reload: {}", r.body);
        else
          spdlog::error("reload: the policy has errors; the active bundle keeps serving:\n{}",
                        r.body);
      } else if (sig == SIGTERM || sig == SIGINT) {
        if (!stopping)
          spdlog::info("{}: stopping; finishing the requests in flight",
                       sig == SIGTERM ? "SIGTERM" : "SIGINT");
        stopping = true;
      }
      if (stopping)
        server->stop();  // repeated: a stop() before listening starts is lost
      else
        http->tokens().refresh(false);
    }
  });

  svr->listen_after_bind();  // returns once stopped and every worker has finished
  listening_done.store(true);
  signals.join();
  int code = kOk;
  try {
    service.drain();
    uint64_t refused = service.metrics().errors(ErrorCode::kLogUnavailable);
    if (refused > 0)
      spdlog::warn("{} decide call(s) were answered 503 because the log could not record them",
                   refused);
    spdlog::info("stopped; every decision answered is in the log");
  } catch (const std::exception& e) {
    spdlog::error("stopped, but the log could not record every decision: {}", e.what());
    code = kInternal;
  }
  return code;
}

}  // namespace ethos::cli
