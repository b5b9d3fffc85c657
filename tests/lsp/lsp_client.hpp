// A scripted LSP client for the tests: starts the real `ethos lsp` binary
// (ETHOS_BIN) as a child process on two pipes and speaks the base protocol
// to it. Reads wait on poll() for the server's output with a deadline (no
// sleeps); a server that does not answer in time fails the test.
#pragma once

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <cstdlib>
#include <deque>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include <ethos/lsp/framing.hpp>
#include <ethos/lsp/workspace.hpp>

namespace ethos::testing {

using nlohmann::json;

class LspProcess {
 public:
  explicit LspProcess(std::vector<std::string> args = {"lsp", "--stdio"}) {
    const char* bin = std::getenv("ETHOS_BIN");
    REQUIRE(bin != nullptr);
    int to_child[2], from_child[2];
    REQUIRE(::pipe(to_child) == 0);
    REQUIRE(::pipe(from_child) == 0);
    signal(SIGPIPE, SIG_IGN);  // a server that exits early must fail a write, not kill the test
    pid_ = fork();
    REQUIRE(pid_ >= 0);
    if (pid_ == 0) {
      ::dup2(to_child[0], STDIN_FILENO);
      ::dup2(from_child[1], STDOUT_FILENO);
      ::close(to_child[0]);
      ::close(to_child[1]);
      ::close(from_child[0]);
      ::close(from_child[1]);
      std::vector<char*> argv;
      argv.push_back(const_cast<char*>(bin));
      for (auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
      argv.push_back(nullptr);
      execv(bin, argv.data());
      _exit(127);
    }
    ::close(to_child[0]);
    ::close(from_child[1]);
    in_ = to_child[1];
    out_ = from_child[0];
    reader_ = std::make_unique<lsp::MessageReader>([this](char* buf, size_t n) -> size_t {
      pollfd p{out_, POLLIN, 0};
      int ready = ::poll(&p, 1, kTimeoutMs);
      if (ready <= 0) throw std::runtime_error("the server did not answer within 30 s");
      ssize_t got = ::read(out_, buf, n);
      return got > 0 ? static_cast<size_t>(got) : 0;
    });
  }
  ~LspProcess() {
    if (in_ >= 0) ::close(in_);
    if (out_ >= 0) ::close(out_);
    if (pid_ > 0 && !waited_) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
  }
  LspProcess(const LspProcess&) = delete;
  LspProcess& operator=(const LspProcess&) = delete;

  // Bytes as they are, no framing added. False when the server is gone.
  bool send_raw(const std::string& bytes) {
    size_t done = 0;
    while (done < bytes.size()) {
      ssize_t n = ::write(in_, bytes.data() + done, bytes.size() - done);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return false;
      done += static_cast<size_t>(n);
    }
    return true;
  }
  bool send(const json& msg) { return send_raw(lsp::frame(msg.dump())); }
  int request(const std::string& method, json params = json::object()) {
    int id = next_id_++;
    send({{"jsonrpc", "2.0"}, {"id", id}, {"method", method}, {"params", std::move(params)}});
    return id;
  }
  void notify(const std::string& method, json params = json::object()) {
    send({{"jsonrpc", "2.0"}, {"method", method}, {"params", std::move(params)}});
  }
  // The next message the server sends (a response or a notification).
  json read() {
    lsp::ReadResult r = reader_->next();
    if (r.kind != lsp::ReadResult::Kind::kMessage)
      throw std::runtime_error("no message from the server: " + r.error);
    return json::parse(r.body);
  }
  // The response to request `id`; notifications read on the way are kept.
  json response(int id) {
    for (;;) {
      json m = read();
      if (m.contains("id") && m["id"] == id && !m.contains("method")) return m;
      pending_.push_back(std::move(m));
    }
  }
  json call(const std::string& method, json params = json::object()) {
    return response(request(method, std::move(params)));
  }
  // The next `textDocument/publishDiagnostics` for `uri`.
  json diagnostics_for(const std::string& uri) {
    for (auto it = pending_.begin(); it != pending_.end(); ++it) {
      if (is_diagnostics(*it, uri)) {
        json m = *it;
        pending_.erase(it);
        return m["params"]["diagnostics"];
      }
    }
    for (;;) {
      json m = read();
      if (is_diagnostics(m, uri)) return m["params"]["diagnostics"];
      pending_.push_back(std::move(m));
    }
  }
  void initialize(json capabilities = json::object()) {
    json r = call(
        "initialize",
        {{"processId", nullptr}, {"rootUri", nullptr}, {"capabilities", std::move(capabilities)}});
    REQUIRE(r.contains("result"));
    notify("initialized");
  }
  void open(const std::string& uri, const std::string& text) {
    notify("textDocument/didOpen",
           {{"textDocument",
             {{"uri", uri}, {"languageId", "ethos"}, {"version", 1}, {"text", text}}}});
  }
  void change(const std::string& uri, const std::string& text, int version) {
    notify("textDocument/didChange", {{"textDocument", {{"uri", uri}, {"version", version}}},
                                      {"contentChanges", {{{"text", text}}}}});
  }
  // Closes the server's stdin and waits for it to exit; its exit code.
  int wait_exit() {
    ::close(in_);
    in_ = -1;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(kTimeoutMs);
    int status = 0;
    for (;;) {
      pid_t r = ::waitpid(pid_, &status, WNOHANG);
      if (r == pid_) break;
      if (std::chrono::steady_clock::now() > deadline)
        throw std::runtime_error("the server did not exit");
      // Wait for the server's stdout to close (it exits) rather than sleeping.
      pollfd p{out_, POLLIN, 0};
      if (::poll(&p, 1, 100) > 0) {
        char buf[4096];
        if (::read(out_, buf, sizeof buf) <= 0) {
          ::waitpid(pid_, &status, 0);
          break;
        }
      }
    }
    waited_ = true;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }

 private:
  static bool is_diagnostics(const json& m, const std::string& uri) {
    return m.value("method", "") == "textDocument/publishDiagnostics" && m["params"]["uri"] == uri;
  }
  static constexpr int kTimeoutMs = 30000;
  pid_t pid_ = -1;
  int in_ = -1, out_ = -1;
  bool waited_ = false;
  int next_id_ = 1;
  std::unique_ptr<lsp::MessageReader> reader_;
  std::deque<json> pending_;
};

// A copy of the shipped pack in a fresh directory, for a test to edit.
inline std::string copy_of_pack(const std::string& dir) {
  namespace fs = std::filesystem;
  const char* src = std::getenv("ETHOS_SOURCE_DIR");
  fs::path from = fs::path(src ? src : ".") / "policies";
  fs::copy(from, fs::path(dir) / "policies", fs::copy_options::recursive);
  return (fs::path(dir) / "policies").string();
}

inline std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace ethos::testing
