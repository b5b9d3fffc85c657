// `ethos lsp`: a Language Server Protocol 3.17 server. Server handles one
// message at a time and returns what to send back; serve() runs it over two
// file descriptors (stdin and stdout for `ethos lsp`). Lifecycle and errors
// follow the spec: a request before `initialize` gets ServerNotInitialized
// (-32002), bytes that are not JSON ParseError (-32700), a message that is
// not a request InvalidRequest (-32600), an unknown method MethodNotFound
// (-32601), bad params InvalidParams (-32602); notifications it does not know
// are ignored. Nothing a client sends can crash it.
// Not thread-safe: one thread drives a Server.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <ethos/check/check.hpp>
#include <ethos/lsp/framing.hpp>

namespace ethos::lsp {

struct ServerOptions {
  CheckOptions check;  // params and the nesting limit, as for `ethos check`
  size_t max_message_bytes = kDefaultMaxMessageBytes;
};

class Workspace;

class Server {
 public:
  explicit Server(ServerOptions options = {});
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // One message's body in; the bodies of the responses and notifications to
  // send, in order, out.
  std::vector<std::string> handle(std::string_view body);
  // What to send for a message the reader could not read (a bad header, a
  // body over the limit): an error response with a null id.
  std::string framing_error(const ReadResult& r) const;

  bool exited() const;
  // 0 after `shutdown` then `exit`, 1 for `exit` without `shutdown`.
  int exit_code() const;
  Workspace& workspace();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Serves until `exit` or the end of input. Returns the process exit code
// (0 after shutdown and exit; 1 when the input ended or `exit` came first).
int serve(int in_fd, int out_fd, const ServerOptions& options = {});

}  // namespace ethos::lsp
