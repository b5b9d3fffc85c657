// Crash consistency: a writer killed with SIGKILL in the middle of a burst
// leaves a log that opens, verifies, and holds every decision whose call
// had returned.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <deque>
#include <set>

#include "store_support.hpp"

using namespace ethos;
using namespace ethos::testing;

namespace {

// The child: records decisions as fast as it can, 64 in flight, and writes
// the id of each one whose wait() returned to `fd`, one line each.
[[noreturn]] void write_burst(const std::string& path, const Bundle& b, int fd) {
  try {
    DecisionLog log(path, writer_options());
    RequestBinder binder(*b.policy);
    Evaluator ev(b.policy);
    std::vector<BoundRequest> bound(6);
    for (size_t i = 0; i < bound.size(); ++i) {
      BindError err;
      if (!binder.bind(nth_request(i), bound[i], err)) _exit(3);
    }
    Decision d;
    std::deque<DecisionLog::Ticket> in_flight;
    for (size_t i = 0;; ++i) {
      ev.evaluate(bound[i % bound.size()], d);
      in_flight.push_back(log.submit(b, bound[i % bound.size()], d));
      if (in_flight.size() == 64) {
        log.wait(in_flight.front());
        std::string line = in_flight.front().decision_id + "\n";
        if (write(fd, line.data(), line.size()) != static_cast<ssize_t>(line.size())) _exit(4);
        in_flight.pop_front();
      }
    }
  } catch (...) {
    _exit(5);
  }
}

}  // namespace

TEST_CASE(
    "a writer killed mid-burst leaves a log that opens, verifies and holds every returned "
    "decision") {
  std::string dir = temp_dir(), path = log_path(dir);
  auto b = store_bundle();  // built before fork: the child uses no test macros
  int fds[2];
  REQUIRE(pipe(fds) == 0);
  pid_t pid = fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    close(fds[0]);
    write_burst(path, *b, fds[1]);
  }
  close(fds[1]);
  std::string received;
  size_t lines = 0;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  char buf[4096];
  // Let the burst run until a good number of decisions have returned, then kill it.
  while (lines < 2000 && std::chrono::steady_clock::now() < deadline) {
    ssize_t n = read(fds[0], buf, sizeof buf);
    if (n <= 0) break;
    received.append(buf, static_cast<size_t>(n));
    lines = static_cast<size_t>(std::count(received.begin(), received.end(), '\n'));
  }
  REQUIRE(kill(pid, SIGKILL) == 0);
  for (ssize_t n; (n = read(fds[0], buf, sizeof buf)) > 0;)
    received.append(buf, static_cast<size_t>(n));
  close(fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  REQUIRE(WIFSIGNALED(status));
  CHECK(WTERMSIG(status) == SIGKILL);

  std::vector<std::string> returned;
  std::istringstream in(received);
  for (std::string line; std::getline(in, line);)
    if (!line.empty()) returned.push_back(line);
  REQUIRE(returned.size() >= 1000);

  LogOptions ro;
  ro.read_only = true;
  {
    DecisionLog log(path, ro);
    auto v = log.verify();
    INFO((v.first_break ? v.first_break->message : std::string()));
    CHECK(v.ok());
    CHECK(v.decisions >= returned.size());
    std::set<std::string> stored;
    log.scan({}, [&](const LogEntry& e) {
      stored.insert(e.id);
      return true;
    });
    size_t missing = 0;
    for (const auto& id : returned) missing += stored.count(id) ? 0 : 1;
    CHECK(missing == 0);
  }
  // And it takes new decisions after the crash, continuing the chain.
  DecisionLog log(path, writer_options());
  record_run(log, *b, 5, 9000);
  CHECK(log.verify().ok());
  std::filesystem::remove_all(dir);
}
