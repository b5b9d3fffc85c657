// The HTTP front of the decision service, on Boost.Beast (Boost.Asio; TLS
// through Asio's OpenSSL stream). Everything the service decides is in
// engine/service.hpp; this file maps HTTP onto it: routes, bearer tokens and
// roles, body and content-type checks, timeouts, TLS, signals.
//
// Why Beast and not cpp-httplib (which served here first): cpp-httplib gives
// every connection a thread that blocks until the log has committed the
// decision, so each request cost several context switches, and a group
// commit held at most as many decisions as there were workers. Beast is
// event-driven: a few I/O threads parse, authorise and decide inline, hand
// each decision to the log's writer with a completion callback
// (Session::decide_async), and write the response when the commit is done.
// No thread waits per request, and group commits grow with the load. The
// endpoints that read the log or compile a policy (and decide with
// remedies, which searches) can take long: they run on a small worker pool,
// so they never stall the event loop.
//
// Per connection: one request at a time (HTTP/1.1 keep-alive; a pipelined
// request waits in the buffer until the previous one is answered); its own
// strand, so its handlers never run concurrently; one timer that bounds
// whatever the connection is waiting for: the next request on keep-alive,
// the rest of a request (--read-timeout; a body that stalls gets 408), the
// response's write (--write-timeout).
#include "http_service.hpp"

#include <arpa/inet.h>
#include <pthread.h>
#include <signal.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include <algorithm>
#include <atomic>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_set>

#include "cli.hpp"
#include "tokens.hpp"

namespace ethos::cli {

namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
namespace ssl = net::ssl;
using tcp = net::ip::tcp;
using Clock = std::chrono::steady_clock;
// Concrete executor types (a strand per connection) rather than Asio's
// type-erased any_io_executor, and plain sockets rather than beast::tcp_stream
// (whose own timeouts this file does not use): less work per operation.
using Strand = net::strand<net::io_context::executor_type>;
using Socket = tcp::socket::rebind_executor<Strand>::other;
using Timer = net::steady_timer::rebind_executor<Strand>::other;
using TlsStream = ssl::stream<Socket>;

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

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

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

// A request as the routes see it.
struct Incoming {
  std::string method;
  std::string path;  // decoded, without the query
  QueryParams params;
  std::string authorization;
  std::optional<std::string> content_type;
  std::string body;
};

// A response before it becomes HTTP.
struct Outgoing {
  int status = 200;
  std::string body;
  const char* content_type = "application/json";
  std::vector<std::pair<std::string, std::string>> headers;
};

class HttpService;

// The connections' shared state: options, the service, the worker pool, the
// count of open connections (bounded), and shutdown.
class Server {
 public:
  Server(Service& service, const HttpOptions& options, HttpService& http, net::io_context& ioc,
         ssl::context* tls)
      : service_(service),
        options_(options),
        http_(http),
        ioc_(ioc),
        tls_(tls),
        acceptor_(net::make_strand(ioc)),
        workers_(std::max<size_t>(options.threads, 1)),
        work_(net::make_work_guard(ioc)) {}

  Service& service() { return service_; }
  const HttpOptions& options() const { return options_; }
  HttpService& http() { return http_; }
  net::thread_pool& workers() { return workers_; }
  bool stopping() const { return stopping_.load(std::memory_order_acquire); }

  // Binds; returns the port or 0 with errno-like text in `error`.
  int bind(const std::string& host, int port, std::string& error);
  void start_accepting() {
    net::post(acceptor_.get_executor(), [this] { accept(); });
  }

  // Stops accepting, closes idle connections, lets the others finish their
  // request; run() returns once every connection is closed.
  void stop();

  // Connections register so that stop() can close the idle ones.
  struct Closer {
    std::function<void()> close_if_idle;
  };
  void opened(Closer* c) {
    std::lock_guard lk(mu_);
    live_.insert(c);
  }
  void closed(Closer* c);

  void join_workers() { workers_.join(); }

 private:
  void accept();
  void start_connection(Socket socket);

  Service& service_;
  const HttpOptions& options_;
  HttpService& http_;
  net::io_context& ioc_;
  ssl::context* tls_;
  tcp::acceptor acceptor_;
  net::thread_pool workers_;
  net::executor_work_guard<net::io_context::executor_type> work_;
  std::atomic<bool> stopping_{false};
  std::mutex mu_;
  std::unordered_set<Closer*> live_;
  bool accept_paused_ = false;  // at --max-connections; resumed by closed()
  bool work_released_ = false;
};

class HttpService {
 public:
  HttpService(Service& service, const HttpOptions& options)
      : service_(service), options_(options), tokens_(options.tokens_path) {}

  TokenWatch& tokens() { return tokens_; }

  // Where a request runs: inline on the connection's I/O thread (fast,
  // never blocks), or on the worker pool (reads the log, compiles a policy,
  // searches remedies).
  bool runs_inline(const Incoming& req) const {
    std::string id;
    const Route* route = find_route(req.path, id);
    if (!route || route->endpoint == Endpoint::kHealthz || route->endpoint == Endpoint::kReadyz)
      return true;
    if (route->endpoint != Endpoint::kDecide) return false;
    for (const auto& [k, v] : req.params)
      if (k == "remedies" && v == "true") return false;
    return true;
  }

  // Answers `req` through `reply` exactly once: at once for most endpoints,
  // from the log's writer thread for a decision (once it is committed).
  void handle(Incoming& req, std::function<void(Outgoing)> reply) {
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
  Outgoing transport_error(int status, ErrorCode code, const std::string& message) {
    Outgoing out;
    out.status = status;
    out.body = error_json(code, message, {});
    service_.metrics().error(code);
    service_.metrics().http_response(status);
    return out;
  }

 private:
  using Finish = std::function<void(Outgoing, ErrorCode)>;

  // True when the answer will come through `finish` later (a decision);
  // otherwise the answer is in `r` (and headers in `out`).
  bool dispatch(Incoming& req, Outgoing& out, Reply& r, const Finish& finish) {
    std::string id;
    const Route* route = find_route(req.path, id);
    if (!route) {
      r = error_reply(ErrorCode::kNotFound, "no endpoint `" + req.path + "`; see docs/api.md");
      return false;
    }
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
      size_t limit =
          route->endpoint == Endpoint::kReplay ? options_.max_policy_body : options_.max_body;
      if (req.body.size() > limit) {
        r = error_reply(ErrorCode::kBodyTooLarge,
                        "the body has " + std::to_string(req.body.size()) +
                            " bytes; the limit is " + std::to_string(limit));
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
    }
    r = error_reply(ErrorCode::kInternal, "unrouted endpoint");
    return false;
  }

  bool decide(const Incoming& req, Reply& r, const Finish& finish) {
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
      if (value == "full") {
        opts.trace = TraceMode::kFull;
      } else if (value == "compact") {
        opts.trace = TraceMode::kCompact;
      } else if (value == "none") {
        opts.trace = TraceMode::kNone;
      } else {
        r = error_reply(ErrorCode::kBadQuery,
                        "`trace` is full, compact or none, got `" + value + "`", "query.trace");
        return false;
      }
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

  bool authorize(const Incoming& req, Outgoing& out, const Route& route, Reply& denied) {
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
      out.headers.emplace_back("WWW-Authenticate",
                               "Bearer realm=\"ethos\", error=\"invalid_token\"");
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
    // One Session per thread (I/O or worker): the parser, binder and evaluator are reused.
    thread_local std::unique_ptr<Session> s;
    thread_local Service* owner = nullptr;
    if (!s || owner != &service_) {
      s = std::make_unique<Session>(service_);
      owner = &service_;
    }
    return *s;
  }

  void warn_rate_limited(const std::string& method, const std::string& path, int status,
                         const std::string& body) {
    int64_t now =
        std::chrono::duration_cast<std::chrono::seconds>(Clock::now().time_since_epoch()).count();
    int64_t last = last_warn_s_.load(std::memory_order_relaxed);
    if (now == last || !last_warn_s_.compare_exchange_strong(last, now)) return;
    spdlog::warn("{} {} -> {}: {}", method, path, status, body);
  }

  Service& service_;
  const HttpOptions& options_;
  TokenWatch tokens_;
  std::atomic<int64_t> last_warn_s_{0};
};

// One connection, plain (Socket) or TLS (TlsStream over it).
template <class Stream>
class Connection : public std::enable_shared_from_this<Connection<Stream>> {
 public:
  template <class... Args>
  Connection(Server& server, Socket&& socket, Args&&... args)
      : server_(server),
        stream_(std::move(socket), std::forward<Args>(args)...),
        timer_(stream_.get_executor()) {
    // Beast reads as much as the buffer has room for (at least 512 bytes):
    // with room for a whole request, one recv() reads it, not five or six.
    buffer_.reserve(16 * 1024);
  }
  ~Connection() { server_.closed(&closer_); }

  void start() {
    auto self = this->shared_from_this();
    // stop() calls it under the server's lock, so the connection is alive then;
    // it may be gone by the time the posted check runs.
    closer_.close_if_idle = [weak = std::weak_ptr<Connection>(self), ex = stream_.get_executor()] {
      net::post(ex, [weak] {
        if (auto c = weak.lock(); c && c->state_ == State::kIdle) c->close();
      });
    };
    server_.opened(&closer_);
    net::dispatch(stream_.get_executor(), [self] {
      if constexpr (kTls) {
        self->state_ = State::kReading;
        self->arm(self->server_.options().read_timeout_ms);
        self->stream_.async_handshake(ssl::stream_base::server, [self](beast::error_code ec) {
          self->disarm();
          if (ec) return self->close();
          self->read();
        });
      } else {
        self->read();
      }
    });
  }

 private:
  static constexpr bool kTls = !std::is_same_v<Stream, Socket>;
  enum class State { kIdle, kReading, kHandling, kWriting, kClosed };

  Socket& socket() { return beast::get_lowest_layer(stream_); }

  // The one timer: when it fires, the pending read or write is cancelled
  // and `timed_out_` tells the handler why.
  // A generation number guards against a timer that fired just as its
  // operation completed: its handler must not cancel the next operation.
  void arm(int ms) {
    timed_out_ = false;
    uint64_t gen = ++timer_gen_;
    timer_.expires_after(std::chrono::milliseconds(std::max(ms, 1)));
    timer_.async_wait([self = this->shared_from_this(), gen](beast::error_code ec) {
      if (ec || gen != self->timer_gen_) return;  // cancelled or stale: finished in time
      self->timed_out_ = true;
      beast::error_code ignored;
      self->socket().cancel(ignored);
    });
  }
  void disarm() {
    ++timer_gen_;
    timer_.cancel();
  }

  void read() {
    if (server_.stopping() || requests_ >= server_.options().keep_alive_max) return close();
    state_ = State::kIdle;
    parser_.emplace();
    parser_->header_limit(16 * 1024);
    parser_->body_limit(std::max(server_.options().max_body, server_.options().max_policy_body));
    // Waiting for the next request: the keep-alive timeout (the read timeout
    // for the first one, or once part of it is in the buffer).
    bool fresh = requests_ == 0 || buffer_.size() > 0;
    arm(fresh ? server_.options().read_timeout_ms : server_.options().keep_alive_timeout_s * 1000);
    if (buffer_.size() == 0 && requests_ > 0) {
      if constexpr (kTls) {
        // TLS may hold decrypted bytes the socket no longer shows: read at
        // once, still counted idle so that a stop closes it.
        return read_header(State::kIdle);
      }
      // Idle on keep-alive until the first byte of the next request.
      socket().async_wait(
          tcp::socket::wait_read,
          net::bind_executor(
              stream_.get_executor(),
              [self = this->shared_from_this()](beast::error_code ec) { self->on_idle_wake(ec); }));
      return;
    }
    read_header();
  }

  void on_idle_wake(beast::error_code ec) {
    if (ec || state_ == State::kClosed) return close();
    arm(server_.options().read_timeout_ms);
    read_header();
  }

  void read_header(State state = State::kReading) {
    state_ = state;
    http::async_read_header(
        stream_, buffer_, *parser_,
        [self = this->shared_from_this()](beast::error_code ec, size_t) { self->on_header(ec); });
  }

  void on_header(beast::error_code ec) {
    if (ec) return on_read_error(ec, false);
    state_ = State::kReading;
    auto& req = parser_->get();
    // The whole body must come within the read timeout from here.
    if (!parser_->is_done()) {
      std::string_view expect = header(req, http::field::expect);
      if (beast::iequals(beast::string_view(expect.data(), expect.size()), "100-continue")) {
        disarm();
        arm(server_.options().write_timeout_ms);
        static const std::string kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
        net::async_write(stream_, net::buffer(kContinue),
                         [self = this->shared_from_this()](beast::error_code e, size_t) {
                           self->disarm();
                           if (e) return self->close();
                           self->arm(self->server_.options().read_timeout_ms);
                           self->read_body();
                         });
        return;
      }
    }
    read_body();
  }

  void read_body() {
    http::async_read(
        stream_, buffer_, *parser_,
        [self = this->shared_from_this()](beast::error_code ec, size_t) { self->on_body(ec); });
  }

  static std::string_view header(const http::request<http::string_body>& req, http::field f) {
    auto it = req.find(f);
    if (it == req.end()) return {};
    return {it->value().data(), it->value().size()};
  }

  void on_read_error(beast::error_code ec, bool in_body) {
    disarm();
    bool timed_out = timed_out_ || ec == beast::error::timeout;
    if (ec == http::error::end_of_stream || ec == net::error::eof ||
        ec == net::error::connection_reset || state_ == State::kClosed)
      return close();
    HttpService& h = server_.http();
    if (timed_out) {
      size_t declared = 0;
      auto& req = parser_->get();
      std::string_view cl = header(req, http::field::content_length);
      if (in_body && !cl.empty()) {
        declared = std::strtoull(std::string(cl).c_str(), nullptr, 10);
        return send_close(h.transport_error(408, ErrorCode::kTimeout,
                                            "the body did not arrive within the read timeout (" +
                                                std::to_string(req.body().size()) + " of " +
                                                std::to_string(declared) + " bytes)"));
      }
      return close();  // headers that never finished, or an idle connection
    }
    if (ec == http::error::body_limit) {
      return send_close(
          h.transport_error(413, ErrorCode::kBodyTooLarge,
                            "the body is larger than " +
                                std::to_string(std::max(server_.options().max_body,
                                                        server_.options().max_policy_body)) +
                                " bytes"));
    }
    if (ec == http::error::header_limit)
      return send_close(h.transport_error(431, ErrorCode::kInvalidRequest,
                                          "the request line or headers are too long"));
    if (ec.category() == http::make_error_code(http::error::bad_target).category() ||
        ec == http::error::partial_message)
      return send_close(
          h.transport_error(400, ErrorCode::kInvalidRequest,
                            "the request could not be read as HTTP/1.1: " + ec.message()));
    close();  // a socket error: nobody to answer
  }

  void on_body(beast::error_code ec) {
    if (ec) return on_read_error(ec, true);
    disarm();
    ++requests_;
    state_ = State::kHandling;
    auto& req = parser_->get();
    keep_alive_ = req.keep_alive();
    head_ = req.method() == http::verb::head;
    Incoming in;
    in.method = std::string(req.method_string());
    std::string_view target(req.target().data(), req.target().size());
    size_t q = target.find('?');
    in.path = url_decode(target.substr(0, q), false);
    if (q != std::string_view::npos) in.params = parse_query(target.substr(q + 1));
    in.authorization = std::string(header(req, http::field::authorization));
    auto ct = req.find(http::field::content_type);
    if (ct != req.end()) in.content_type = std::string(ct->value());
    in.body = std::move(req.body());
    version_ = req.version();

    HttpService& h = server_.http();
    auto self = this->shared_from_this();
    auto reply = [self](Outgoing out) {
      // From any thread: the answer goes back to the connection's strand.
      net::post(self->stream_.get_executor(),
                [self, out = std::move(out)]() mutable { self->respond(std::move(out)); });
    };
    if (h.runs_inline(in)) {
      h.handle(in, std::move(reply));
    } else {
      net::post(server_.workers(), [&h, in = std::move(in), reply = std::move(reply)]() mutable {
        h.handle(in, std::move(reply));
      });
    }
  }

  void respond(Outgoing out) {
    if (state_ == State::kClosed) return;
    bool keep = keep_alive_ && !server_.stopping() && requests_ < server_.options().keep_alive_max;
    write(std::move(out), keep);
  }

  // Answers and closes: the request could not be read.
  void send_close(Outgoing out) {
    head_ = false;
    version_ = 11;
    write(std::move(out), false);
  }

  void write(Outgoing out, bool keep) {
    state_ = State::kWriting;
    res_.emplace();
    auto& res = *res_;
    res.version(version_ == 10 ? 10 : 11);
    res.result(static_cast<unsigned>(out.status));
    res.set(http::field::content_type, out.content_type);
    for (auto& [k, v] : out.headers) res.set(k, v);
    res.body() = std::move(out.body);
    res.prepare_payload();
    res.keep_alive(keep);
    if (head_) res.body().clear();  // HEAD: the headers (and Content-Length) only
    keep_ = keep;
    arm(server_.options().write_timeout_ms);
    http::async_write(stream_, *res_,
                      [self = this->shared_from_this()](beast::error_code ec, size_t) {
                        self->disarm();
                        self->res_.reset();
                        if (ec || !self->keep_) return self->close_after_write(ec);
                        self->read();
                      });
  }

  // After a response that ends the connection: stop sending, and read (and
  // drop) what the client still sends for a moment, so that unread input
  // does not make the kernel reset the connection before the client has read
  // the response.
  void close_after_write(beast::error_code ec) {
    if (ec || kTls) return close();
    beast::error_code ignored;
    socket().shutdown(tcp::socket::shutdown_send, ignored);
    state_ = State::kClosed;
    arm(std::min(server_.options().read_timeout_ms, 2000));
    drain();
  }

  void drain() {
    socket().async_read_some(
        net::buffer(drain_buf_),
        net::bind_executor(stream_.get_executor(),
                           [self = this->shared_from_this()](beast::error_code ec, size_t) {
                             if (ec) return self->close();
                             self->drain();
                           }));
  }

  void close() {
    state_ = State::kClosed;
    disarm();
    beast::error_code ignored;
    socket().shutdown(tcp::socket::shutdown_both, ignored);
    socket().close(ignored);
  }

  Server& server_;
  Stream stream_;
  Timer timer_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::optional<http::response<http::string_body>> res_;
  Server::Closer closer_;
  State state_ = State::kIdle;
  bool timed_out_ = false;
  uint64_t timer_gen_ = 0;
  bool keep_alive_ = true, keep_ = true, head_ = false;
  unsigned version_ = 11;
  size_t requests_ = 0;
  char drain_buf_[4096];
};

int Server::bind(const std::string& host, int port, std::string& error) {
  beast::error_code ec;
  auto addr = net::ip::make_address(host == "localhost" ? "127.0.0.1" : host, ec);
  if (ec) {
    error = "not an IP address: " + ec.message();
    return 0;
  }
  tcp::endpoint ep(addr, static_cast<unsigned short>(port));
  acceptor_.open(ep.protocol(), ec);
  if (!ec) acceptor_.set_option(net::socket_base::reuse_address(true), ec);
  if (!ec) acceptor_.bind(ep, ec);
  if (!ec) acceptor_.listen(net::socket_base::max_listen_connections, ec);
  if (ec) {
    error = ec.message();
    return 0;
  }
  return acceptor_.local_endpoint().port();
}

void Server::accept() {
  if (stopping()) return;
  {
    std::lock_guard lk(mu_);
    if (live_.size() >= std::max<size_t>(options_.max_connections, 1)) {
      accept_paused_ = true;  // new connections wait in the kernel's backlog
      return;
    }
  }
  acceptor_.async_accept(net::make_strand(ioc_), [this](beast::error_code ec, Socket socket) {
    if (stopping()) return;
    if (!ec) {
      beast::error_code ignored;
      socket.set_option(tcp::no_delay(true), ignored);
      start_connection(std::move(socket));
    } else if (ec == net::error::operation_aborted) {
      return;
    } else {
      spdlog::warn("accept: {}", ec.message());
    }
    accept();
  });
}

void Server::start_connection(Socket socket) {
  if (tls_) {
    auto c = std::make_shared<Connection<TlsStream>>(*this, std::move(socket), *tls_);
    c->start();
  } else {
    auto c = std::make_shared<Connection<Socket>>(*this, std::move(socket));
    c->start();
  }
}

void Server::closed(Closer* c) {
  bool resume = false, release = false;
  {
    std::lock_guard lk(mu_);
    live_.erase(c);
    if (accept_paused_ && !stopping()) {
      accept_paused_ = false;
      resume = true;
    }
    if (stopping() && live_.empty() && !work_released_) release = work_released_ = true;
  }
  if (resume) start_accepting();
  if (release) work_.reset();
}

void Server::stop() {
  if (stopping_.exchange(true)) return;
  net::post(acceptor_.get_executor(), [this] {
    beast::error_code ignored;
    acceptor_.close(ignored);
  });
  bool release = false;
  {
    std::lock_guard lk(mu_);
    // Each connection closes itself on its strand if it has no request.
    for (Closer* c : live_)
      if (c->close_if_idle) c->close_if_idle();
    if (live_.empty() && !work_released_) release = work_released_ = true;
  }
  if (release) work_.reset();
}

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

  std::unique_ptr<ssl::context> tls_context;
  if (tls) {
    tls_context = std::make_unique<ssl::context>(ssl::context::tls_server);
    tls_context->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                             ssl::context::no_sslv3 | ssl::context::no_tlsv1 |
                             ssl::context::no_tlsv1_1);
    beast::error_code ec;
    tls_context->use_certificate_chain_file(options.tls_cert, ec);
    if (!ec) tls_context->use_private_key_file(options.tls_key, ssl::context::pem, ec);
    if (ec) {
      spdlog::error("cannot load the TLS certificate `{}` or key `{}`: {}", options.tls_cert,
                    options.tls_key, ec.message());
      return kUsage;
    }
  }

  size_t io_threads = std::max<size_t>(options.io_threads, 1);
  net::io_context ioc(static_cast<int>(io_threads));
  Server server(service, options, *http, ioc, tls_context.get());
  std::string error;
  int port = server.bind(options.host, options.port, error);
  if (port <= 0) {
    spdlog::error("cannot listen on {}:{}: {}", options.host, options.port, error);
    return kInternal;
  }
  if (!options.port_file.empty() && !write_port_file(options.port_file, port)) {
    spdlog::error("cannot write the port file `{}`", options.port_file);
    return kInternal;
  }
  std::string host =
      options.host.find(':') != std::string::npos ? "[" + options.host + "]" : options.host;
  spdlog::info("listening on {}://{}:{} ({} I/O thread(s), {} workers); bundle {}; log {}",
               tls ? "https" : "http", host, port, io_threads, options.threads,
               service.active()->bundle.hash, service.options().log_path);

  std::atomic<bool> serving_done{false};
  std::thread signals([&] {
    pthread_setname_np(pthread_self(), "ethos-signals");
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    bool stopping = false;
    while (!serving_done.load()) {
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
        server.stop();
      } else if (!stopping) {
        http->tokens().refresh(false);
      }
    }
  });

  server.start_accepting();
  std::vector<std::thread> loops;
  for (size_t i = 1; i < io_threads; ++i)
    loops.emplace_back([&ioc] {
      pthread_setname_np(pthread_self(), "ethos-io");
      ioc.run();
    });
  pthread_setname_np(pthread_self(), "ethos-io");
  ioc.run();  // returns once stopped and every connection is closed
  for (auto& t : loops) t.join();
  server.join_workers();
  serving_done.store(true);
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
