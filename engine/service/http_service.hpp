// `ethos serve`: the decision service over HTTP (docs/api.md). The HTTP
// library (Boost.Beast) is included by http_service.cpp only.
#pragma once

#include <cstddef>
#include <string>

#include <ethos/base/exit_code.hpp>
#include <ethos/service/console_assets.hpp>
#include <ethos/service/service.hpp>

namespace ethos::server {

struct HttpOptions {
  std::string host = "127.0.0.1";
  int port = 8181;  // 0: any free port (see port_file)
  std::string tokens_path;
  std::string tls_cert, tls_key;  // both or neither
  bool insecure = false;          // allow a non-loopback address without TLS
  size_t io_threads = 2;          // event loops: read, decide, write
  size_t threads = 4;             // workers for the log, policy and remedies endpoints
  size_t max_connections = 1024;  // beyond it, new connections wait in the listen backlog
  size_t max_body = 64 * 1024;
  size_t max_policy_body = 1024 * 1024;  // POST /v1/replay carries a candidate policy
  int read_timeout_ms = 5000;
  int write_timeout_ms = 5000;
  int keep_alive_timeout_s = 5;
  size_t keep_alive_max = 100000;  // requests on one connection before it is closed
  std::string port_file;           // written with the bound port once listening
  ConsoleAssets console;           // the web console at `/` (none: `/` is 404)
};

// Blocks SIGTERM, SIGINT and SIGHUP in the calling thread, so that every
// thread started afterwards inherits the mask and run_http_service() can
// wait for them in one place. Call it before anything starts a thread.
void block_service_signals();

// True for 127.0.0.0/8, ::1 and `localhost`.
bool is_loopback(const std::string& host);

// Serves until SIGTERM or SIGINT: then stops accepting, finishes the requests
// in flight, waits until the log has every decision, and returns 0. SIGHUP
// reloads the policy and the tokens file; the tokens file is also re-read
// when it changes. Returns an exit code (cli.hpp).
int run_http_service(Service& service, const HttpOptions& options);

}  // namespace ethos::server
