// The routes of `ethos serve` (docs/api.md): which endpoint a request is
// for, who may call it (bearer tokens and roles), the checks on its body,
// and the call into the Service that answers it. No HTTP library here:
// http_service.cpp reads and writes HTTP, and hands each request over as an
// Incoming and gets an Outgoing back.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <ethos/service/console_api.hpp>
#include <ethos/service/http_service.hpp>
#include <ethos/service/service.hpp>
#include <ethos/service/tokens.hpp>

namespace ethos::server {

// A request as the routes see it.
struct Incoming {
  std::string method;
  std::string path;  // decoded, without the query
  QueryParams params;
  std::string authorization;
  std::optional<std::string> content_type;
  std::string host;        // the Host header
  std::string request_id;  // the X-Request-ID header (AuthZEN)
  std::string body;
};

// A response before it becomes HTTP.
struct Outgoing {
  int status = 200;
  std::string body;
  const char* content_type = "application/json";
  std::vector<std::pair<std::string, std::string>> headers;
};

// Percent-decoding; in a query, '+' is a space too.
std::string url_decode(std::string_view in, bool query);
QueryParams parse_query(std::string_view q);

// The tokens file, re-read when it changes (mtime, size or inode).
class TokenWatch {
 public:
  explicit TokenWatch(std::string path);
  std::shared_ptr<const TokenStore> current() const;
  // Re-reads the file if it changed (or when `force`); keeps the old tokens on errors.
  void refresh(bool force);

 private:
  std::string stamp() const;
  std::string path_;
  std::string stamp_;  // touched by the signal thread only
  mutable std::mutex mu_;
  std::shared_ptr<const TokenStore> store_;
};

struct Route;
class AuthzenEndpoints;

// GET `/` and `/assets/...`: the console's files with their security headers
// (console_routes.cpp). False when `req` is not for one of them.
bool serve_console_asset(const ConsoleAssets& assets, const Incoming& req, Outgoing& out, Reply& r);

class HttpService {
 public:
  HttpService(Service& service, const HttpOptions& options);
  ~HttpService();

  TokenWatch& tokens() { return tokens_; }

  // Where a request runs: inline on the connection's I/O thread (fast,
  // never blocks), or on the worker pool (reads the log, compiles a policy,
  // searches remedies).
  bool runs_inline(const Incoming& req) const;

  // Answers `req` through `reply` exactly once: at once for most endpoints,
  // from the log's writer thread for a decision (once it is committed).
  void handle(Incoming& req, std::function<void(Outgoing)> reply);

  // A response for a request that could not be read as HTTP.
  Outgoing transport_error(int status, ErrorCode code, const std::string& message);

 private:
  using Finish = std::function<void(Outgoing, ErrorCode)>;

  // True when the answer will come through `finish` later (a decision);
  // otherwise the answer is in `r` (and headers in `out`).
  bool dispatch(Incoming& req, Outgoing& out, Reply& r, const Finish& finish);
  bool decide(const Incoming& req, Reply& r, const Finish& finish);
  bool authorize(const Incoming& req, Outgoing& out, const Route& route, Reply& denied);
  // One Session per thread (I/O or worker): the parser, binder and evaluator are reused.
  Session& session();
  void warn_rate_limited(const std::string& method, const std::string& path, int status,
                         const std::string& body);

  Service& service_;
  const HttpOptions& options_;
  TokenWatch tokens_;
  std::unique_ptr<AuthzenEndpoints> authzen_;
  std::atomic<int64_t> last_warn_s_{0};
  ConsoleApi console_;
  Reply whoami(const Incoming& req) const;  // console_routes.cpp
};

}  // namespace ethos::server
