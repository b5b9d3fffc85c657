// Long-running work for the console (verifying the chain, an impact report):
// started by one request, run on a thread of its own, polled by the next
// ones for progress and, once finished, the result (docs/api.md, "Jobs").
//
// Thread-safe. At most kMaxRunning jobs run at once (more is 503); the
// latest kKept finished ones are kept for polling. The destructor waits for
// the running jobs to finish.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <ethos/service/service.hpp>

namespace ethos {

class ConsoleJobs {
 public:
  static constexpr size_t kMaxRunning = 2;
  static constexpr size_t kKept = 16;

  using Progress = std::function<void(uint64_t done, uint64_t total)>;
  using Work = std::function<Reply(const Progress&)>;

  ConsoleJobs() = default;
  ~ConsoleJobs();
  ConsoleJobs(const ConsoleJobs&) = delete;
  ConsoleJobs& operator=(const ConsoleJobs&) = delete;

  // 202 with {"job": id, "kind"} once started; 503 when too many run.
  Reply start(std::string kind, Work work);
  // {"job", "kind", "state": "running"|"done", "done", "total", "result"}:
  // `result` is the work's reply body once done (with its `status`); 404
  // for an unknown id.
  Reply status(const std::string& id) const;

 private:
  struct Job;
  mutable std::mutex mu_;
  std::vector<std::shared_ptr<Job>> jobs_;
  uint64_t next_ = 1;
};

}  // namespace ethos
