// The HTTP front of the decision service, on Boost.Beast (Boost.Asio; TLS
// through Asio's OpenSSL stream). Everything the service decides is in
// engine/service.hpp, and http_routes.cpp maps requests onto it (routes,
// bearer tokens and roles, body and content-type checks); this file reads
// and writes HTTP: connections, timeouts, TLS, the worker pool, signals.
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
#include <ethos/service/http_service.hpp>

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

#include <ethos/service/http_routes.hpp>

namespace ethos::server {

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
      // The parser stops at the larger of the two limits; the answer quotes
      // the limit of the endpoint asked for, as dispatch() does below it.
      auto& req = parser_->get();
      std::string_view target(req.target().data(), req.target().size());
      size_t limit = target.substr(0, target.find('?')) == "/v1/replay"
                         ? server_.options().max_policy_body
                         : server_.options().max_body;
      std::string_view cl = header(req, http::field::content_length);
      return send_close(
          h.transport_error(413, ErrorCode::kBodyTooLarge,
                            (cl.empty() ? std::string("the body is larger than the limit")
                                        : "the body has " + std::string(cl) + " bytes") +
                                "; the limit is " + std::to_string(limit)));
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
    in.host = std::string(header(req, http::field::host));
    if (auto rid = req.find("X-Request-ID"); rid != req.end())
      in.request_id = std::string(rid->value());
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

}  // namespace ethos::server
