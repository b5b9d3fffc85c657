#include <ethos/service/console_jobs.hpp>

#include <atomic>
#include <exception>

#include <ethos/eval/decision.hpp>

namespace ethos {

struct ConsoleJobs::Job {
  std::string id;
  std::string kind;
  std::atomic<uint64_t> done{0}, total{0};
  std::atomic<bool> finished{false};
  Reply result;  // written once before `finished` is set
  std::thread thread;
};

ConsoleJobs::~ConsoleJobs() {
  std::lock_guard lk(mu_);
  for (auto& j : jobs_)
    if (j->thread.joinable()) j->thread.join();
}

Reply ConsoleJobs::start(std::string kind, Work work) {
  std::lock_guard lk(mu_);
  size_t running = 0;
  for (const auto& j : jobs_)
    if (!j->finished.load(std::memory_order_acquire)) ++running;
  if (running >= kMaxRunning)
    return error_reply(
        ErrorCode::kLogUnavailable,
        std::to_string(running) + " jobs are running; try again when one of them has finished");
  // Forget the oldest finished jobs beyond the ones kept for polling.
  size_t finished = jobs_.size() - running;
  for (auto it = jobs_.begin(); it != jobs_.end() && finished >= kKept;) {
    if ((*it)->finished.load(std::memory_order_acquire)) {
      if ((*it)->thread.joinable()) (*it)->thread.join();  // it has ended: quick
      it = jobs_.erase(it);
      --finished;
    } else {
      ++it;
    }
  }
  auto job = std::make_shared<Job>();
  job->id = "job-" + std::to_string(next_++);
  job->kind = std::move(kind);
  jobs_.push_back(job);
  Job* self = job.get();  // the registry owns the job and joins its thread before dropping it
  job->thread = std::thread([self, work = std::move(work)] {
    Reply r;
    try {
      r = work([self](uint64_t done, uint64_t total) {
        self->total.store(total, std::memory_order_relaxed);
        self->done.store(done, std::memory_order_relaxed);
      });
    } catch (const std::exception& e) {
      r = error_reply(ErrorCode::kInternal, e.what());
    }
    self->result = std::move(r);
    self->finished.store(true, std::memory_order_release);
  });
  std::string body = R"({"job":)";
  append_json_string(body, job->id);
  body += R"(,"kind":)";
  append_json_string(body, job->kind);
  body += '}';
  return Reply{202, std::move(body), ErrorCode::kNone};
}

Reply ConsoleJobs::status(const std::string& id) const {
  std::shared_ptr<Job> job;
  {
    std::lock_guard lk(mu_);
    for (const auto& j : jobs_)
      if (j->id == id) job = j;
  }
  if (!job) return error_reply(ErrorCode::kNotFound, "no job `" + id + "`", "id");
  bool finished = job->finished.load(std::memory_order_acquire);
  std::string body = R"({"job":)";
  append_json_string(body, job->id);
  body += R"(,"kind":)";
  append_json_string(body, job->kind);
  body += R"(,"state":)";
  body += finished ? R"("done")" : R"("running")";
  body += R"(,"done":)" + std::to_string(job->done.load(std::memory_order_relaxed));
  body += R"(,"total":)" + std::to_string(job->total.load(std::memory_order_relaxed));
  if (finished) {
    body += R"(,"status":)" + std::to_string(job->result.status);
    body += R"(,"result":)";
    body += job->result.body.empty() ? "null" : job->result.body;
  }
  body += '}';
  return Reply{200, std::move(body), ErrorCode::kNone};
}

}  // namespace ethos
