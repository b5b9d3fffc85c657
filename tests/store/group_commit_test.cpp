// Group commit as an event loop uses it: submit() with a commit callback,
// and the writer's commit delay.
#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <mutex>
#include <thread>

#include <ethos/log/sqlite.hpp>
#include "store_support.hpp"

using namespace ethos;
using namespace ethos::testing;

namespace {

// Waits until `n` callbacks have run; false after 30 s.
struct Countdown {
  std::mutex mu;
  std::condition_variable cv;
  size_t left;
  explicit Countdown(size_t n) : left(n) {}
  void hit() {
    std::lock_guard lk(mu);
    --left;
    cv.notify_all();
  }
  bool wait() {
    std::unique_lock lk(mu);
    return cv.wait_for(lk, std::chrono::seconds(30), [&] { return left == 0; });
  }
};

}  // namespace

TEST_CASE(
    "a commit callback runs once per decision, after it is readable from another connection") {
  std::string dir = temp_dir(), path = log_path(dir);
  auto b = store_bundle();
  RequestBinder binder(*b->policy);
  Evaluator ev(b->policy);
  LogOptions ro;
  ro.read_only = true;
  {
    DecisionLog log(path, writer_options());
    DecisionLog reader(path, ro);
    const size_t n = 40;
    Countdown done(n);
    std::mutex mu;
    std::vector<std::string> failures, calls;
    BoundRequest bound;
    Decision d;
    for (size_t i = 0; i < n; ++i) {
      BindError err;
      REQUIRE(binder.bind(nth_request(i), bound, err));
      ev.evaluate(bound, d);
      auto id = std::make_shared<std::string>();
      auto t = log.submit(*b, bound, d, [&, id](std::exception_ptr e) {
        std::lock_guard lk(mu);
        calls.push_back(*id);
        if (e) failures.push_back(*id + ": failed");
        done.hit();
      });
      // The callback may already have run: it reads the id only under the lock.
      std::lock_guard lk(mu);
      *id = t.decision_id;
    }
    REQUIRE(done.wait());
    CHECK(calls.size() == n);
    CHECK(failures.empty());
    log.flush();
    CHECK(reader.count() == n);
  }
  std::filesystem::remove_all(dir);
}

TEST_CASE("a commit callback receives the error when its decision's commit fails") {
  std::string dir = temp_dir(), path = log_path(dir);
  auto b = store_bundle();
  LogOptions o = writer_options();
  o.max_page_count = 48;  // fills after some decisions, as a full disk does
  RequestBinder binder(*b->policy);
  Evaluator ev(b->policy);
  std::atomic<int> ok{0}, failed{0};
  std::atomic<int> full_code{0};
  {
    DecisionLog log(path, o);
    BoundRequest bound;
    Decision d;
    for (size_t i = 0; i < 3000 && failed == 0; ++i) {
      BindError err;
      REQUIRE(binder.bind(nth_request(i), bound, err));
      ev.evaluate(bound, d);
      Countdown one(1);
      log.submit(*b, bound, d, [&](std::exception_ptr e) {
        if (!e) {
          ++ok;
        } else {
          ++failed;
          try {
            std::rethrow_exception(e);
          } catch (const sql::StoreError& s) {
            full_code = s.code();
          } catch (...) {
          }
        }
        one.hit();
      });
      REQUIRE(one.wait());
    }
  }
  CHECK(failed == 1);
  CHECK(full_code == sql::kFull);
  LogOptions ro;
  ro.read_only = true;
  DecisionLog reader(path, ro);
  CHECK(reader.count() == static_cast<uint64_t>(ok.load()));
  CHECK(reader.verify().ok());
  std::filesystem::remove_all(dir);
}

TEST_CASE("with a commit delay, decisions submitted together share a few commits") {
  std::string dir = temp_dir(), path = log_path(dir);
  auto b = store_bundle();
  LogOptions o = writer_options();
  o.commit_delay_us = 200000;  // far longer than submitting the decisions takes
  {
    DecisionLog log(path, o);
    auto ids = record_run(log, *b, 60);
    CHECK(ids.size() == 60);
    DecisionLog::Stats st = log.stats();
    CHECK(st.committed == 60);
    // Without the delay, the writer commits the first decision at once, then
    // the ones that came meanwhile, and so on; with it, a handful of commits.
    CHECK(st.transactions <= 3);
    CHECK(st.largest_group >= 20);
  }
  std::filesystem::remove_all(dir);
}
