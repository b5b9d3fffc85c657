// A real `ethos serve` in a child process on a free loopback port, with a
// fresh copy of the policy pack, a fresh log and one token per role; and an
// HTTP client to talk to it (cpp-httplib).
#pragma once

#include <httplib.h>

#include <map>
#include <string>
#include <vector>

namespace ethos::testing {

struct HttpResult {
  int status = 0;  // 0: no response (connection failed or closed)
  std::string body;
  std::multimap<std::string, std::string> headers;
  std::string header(const std::string& name) const;
};

class ServeProcess {
 public:
  // Copies policies/ into a temporary directory, makes a decider, an auditor
  // and an admin token, and starts the server with `extra` arguments.
  explicit ServeProcess(std::vector<std::string> extra = {}, bool start_now = true);
  ~ServeProcess();
  ServeProcess(const ServeProcess&) = delete;
  ServeProcess& operator=(const ServeProcess&) = delete;

  void start();
  // Sends `sig` and waits up to `seconds` for the exit; returns the exit
  // code (128 + signal if it was killed, -1 if it had to be killed).
  int stop(int sig = SIGTERM, int seconds = 60);
  void signal(int sig);
  bool running() const { return pid_ > 0; }

  int port() const { return port_; }
  const std::string& dir() const { return dir_; }
  std::string policies() const { return dir_ + "/policies"; }
  std::string log_path() const { return dir_ + "/log.db"; }
  std::string tokens_path() const { return dir_ + "/tokens.json"; }
  std::string server_output() const;  // what the server wrote to stderr and stdout

  std::string decider, auditor, admin;  // bearer tokens
  std::string log_location;             // --log; empty: log_path()

  HttpResult get(const std::string& path, const std::string& token = {});
  HttpResult post(const std::string& path, const std::string& body, const std::string& token = {},
                  const std::string& content_type = "application/json");
  // Any method, any headers.
  HttpResult send(const std::string& method, const std::string& path, const std::string& body,
                  const httplib::Headers& headers);

 private:
  std::vector<std::string> extra_;
  std::string dir_;
  int pid_ = -1;
  int port_ = 0;
};

// A request from policies/examples (the file's text).
std::string example_request(const std::string& name);
std::string slurp_file(const std::string& path);
void write_file(const std::string& path, const std::string& text);

// `chattr +i` / `-i` on a file that exists (immutable: not writable even by
// root), and whether the filesystem under `dir` supports it.
void chattr(const std::string& flag, const std::string& path);
bool immutable_supported(const std::string& dir);

}  // namespace ethos::testing
