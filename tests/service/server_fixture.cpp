#include "server_fixture.hpp"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "support.hpp"

namespace fs = std::filesystem;

namespace ethos::testing {

std::string slurp_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

void write_file(const std::string& path, const std::string& text) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f << text;
}

std::string example_request(const std::string& name) {
  return slurp_file(source_dir() + "/policies/examples/" + name);
}

void chattr(const std::string& flag, const std::string& path) {
  if (std::filesystem::exists(path)) {
    std::string cmd = "chattr " + flag + " '" + path + "' 2>/dev/null";
    (void)std::system(cmd.c_str());
  }
}

bool immutable_supported(const std::string& dir) {
  std::string probe = dir + "/probe";
  write_file(probe, "x");
  bool ok = std::system(("chattr +i '" + probe + "' 2>/dev/null").c_str()) == 0;
  if (ok) {
    // Immutable means not writable even by root, which the tests rely on.
    FILE* f = std::fopen(probe.c_str(), "a");
    ok = f == nullptr;
    if (f) std::fclose(f);
    (void)std::system(("chattr -i '" + probe + "' 2>/dev/null").c_str());
  }
  std::filesystem::remove(probe);
  return ok;
}

std::string HttpResult::header(const std::string& name) const {
  auto it = headers.find(name);
  return it == headers.end() ? std::string() : it->second;
}

namespace {

std::string make_token(const std::string& tokens, const std::string& role) {
  RunResult r =
      run_ethos({"token", "new", "--role", role, "--name", role, "--tokens", tokens, "--json"});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  return nlohmann::json::parse(r.out).at("token").get<std::string>();
}

}  // namespace

ServeProcess::ServeProcess(std::vector<std::string> extra, bool start_now)
    : extra_(std::move(extra)) {
  dir_ = temp_dir();
  fs::copy(source_dir() + "/policies", policies(), fs::copy_options::recursive);
  decider = make_token(tokens_path(), "decider");
  auditor = make_token(tokens_path(), "auditor");
  admin = make_token(tokens_path(), "admin");
  if (start_now) start();
}

ServeProcess::~ServeProcess() {
  if (pid_ > 0) {
    ::kill(pid_, SIGKILL);
    int status = 0;
    waitpid(pid_, &status, 0);
  }
  std::error_code ec;
  fs::remove_all(dir_, ec);
}

void ServeProcess::start() {
  const char* bin = std::getenv("ETHOS_BIN");
  REQUIRE(bin != nullptr);
  std::string port_file = dir_ + "/port";
  fs::remove(port_file);
  std::vector<std::string> args = {bin,
                                   "serve",
                                   "--policies",
                                   policies(),
                                   "--log",
                                   log_location.empty() ? log_path() : log_location,
                                   "--tokens",
                                   tokens_path(),
                                   "--listen",
                                   "127.0.0.1:0",
                                   "--port-file",
                                   port_file,
                                   "--insecure-dev-key",
                                   "--keep-alive-timeout",
                                   "1"};
  args.insert(args.end(), extra_.begin(), extra_.end());
  std::string out = dir_ + "/server.out";
  pid_t pid = fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    if (!freopen(out.c_str(), "a", stdout) || !freopen(out.c_str(), "a", stderr)) _exit(127);
    execv(bin, argv.data());
    _exit(127);
  }
  pid_ = pid;
  // Wait for the port file (the policy compiles first; the machine may be busy).
  for (int i = 0; i < 1200; ++i) {
    std::string text = slurp_file(port_file);
    if (!text.empty()) {
      port_ = std::stoi(text);
      return;
    }
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      FAIL("ethos serve exited before listening:\n" << server_output());
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  FAIL("ethos serve did not start listening within 60 s:\n" << server_output());
}

void ServeProcess::signal(int sig) {
  REQUIRE(pid_ > 0);
  ::kill(pid_, sig);
}

int ServeProcess::stop(int sig, int seconds) {
  if (pid_ <= 0) return -1;
  ::kill(pid_, sig);
  int status = 0;
  for (int i = 0; i < seconds * 20; ++i) {
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ::kill(pid_, SIGKILL);
  waitpid(pid_, &status, 0);
  pid_ = -1;
  return -1;
}

std::string ServeProcess::server_output() const { return slurp_file(dir_ + "/server.out"); }

HttpResult ServeProcess::send(const std::string& method, const std::string& path,
                              const std::string& body, const httplib::Headers& headers) {
  httplib::Client cli("127.0.0.1", port_);
  cli.set_connection_timeout(10);
  cli.set_read_timeout(60);
  cli.set_write_timeout(60);
  httplib::Request req;
  req.method = method;
  req.path = path;
  req.headers = headers;
  req.body = body;
  if (!body.empty() && !req.has_header("Content-Type"))
    req.set_header("Content-Type", "application/json");
  auto res = cli.send(req);
  HttpResult r;
  if (!res) return r;
  r.status = res->status;
  r.body = res->body;
  for (const auto& [k, v] : res->headers) r.headers.emplace(k, v);
  return r;
}

HttpResult ServeProcess::get(const std::string& path, const std::string& token) {
  httplib::Headers h;
  if (!token.empty()) h.emplace("Authorization", "Bearer " + token);
  return send("GET", path, "", h);
}

HttpResult ServeProcess::post(const std::string& path, const std::string& body,
                              const std::string& token, const std::string& content_type) {
  httplib::Headers h;
  if (!token.empty()) h.emplace("Authorization", "Bearer " + token);
  if (!content_type.empty()) h.emplace("Content-Type", content_type);
  return send("POST", path, body, h);
}

}  // namespace ethos::testing
