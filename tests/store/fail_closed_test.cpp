// Fail closed: when a decision cannot be recorded the caller gets an error,
// never a silent success, and nothing already committed is lost.
#include <fcntl.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include <ethos/log/sqlite.hpp>
#include "store_support.hpp"

using namespace ethos;
using namespace ethos::testing;
using Catch::Matchers::Contains;

namespace {

// Makes `path` read-only for this process: mode 0444, and for root (whom
// modes do not stop) the immutable attribute. Returns whether it worked.
bool make_read_only(const std::string& path, bool on) {
  chmod(path.c_str(), on ? 0444 : 0644);
  if (geteuid() == 0) {
    int fd = open(path.c_str(), O_RDONLY);
    if (fd < 0) return false;
    int flags = 0;
    bool ok = ioctl(fd, FS_IOC_GETFLAGS, &flags) == 0;
    flags = on ? (flags | FS_IMMUTABLE_FL) : (flags & ~FS_IMMUTABLE_FL);
    ok = ok && ioctl(fd, FS_IOC_SETFLAGS, &flags) == 0;
    close(fd);
    if (!ok) return false;
  }
  if (!on) return true;
  int fd = open(path.c_str(), O_RDWR);
  if (fd >= 0) close(fd);
  return fd < 0;
}

std::string one_request() { return nth_request(0); }

}  // namespace

TEST_CASE("a read-only log file cannot be opened for recording: an error, not a silent success") {
  std::string dir = temp_dir(), path = log_path(dir);
  auto b = store_bundle();
  {
    DecisionLog log(path, writer_options());
    record_run(log, *b, 3);
  }
  REQUIRE(make_read_only(path, true));
  try {
    DecisionLog log(path, writer_options());
    FAIL("a read-only file was opened for recording");
  } catch (const sql::StoreError& e) {
    CHECK(e.code() == sql::kReadOnly);
    CHECK_THAT(e.what(), Contains("read-only"));
  }
  // Readers still work, and refuse to record.
  LogOptions ro;
  ro.read_only = true;
  DecisionLog reader(path, ro);
  CHECK(reader.count() == 3);
  CHECK(reader.verify().ok());
  RequestBinder binder(*b->policy);
  BoundRequest bound;
  BindError err;
  REQUIRE(binder.bind(one_request(), bound, err));
  Decision d = Evaluator(b->policy).evaluate(bound);
  CHECK_THROWS_AS(reader.record(*b, bound, d), sql::StoreError);
  make_read_only(path, false);
  std::filesystem::remove_all(dir);
}

TEST_CASE(
    "when the disk is full recording fails with SQLITE_FULL and every decision that returned is "
    "kept") {
  std::string dir = temp_dir(), path = log_path(dir);
  auto b = store_bundle();
  LogOptions o = writer_options();
  o.max_page_count = 48;  // a 192 KiB disk
  RequestBinder binder(*b->policy);
  Evaluator ev(b->policy);
  std::vector<std::string> recorded;
  int full_errors = 0;
  {
    DecisionLog log(path, o);
    BoundRequest bound;
    Decision d;
    for (size_t i = 0; i < 2000 && full_errors < 3; ++i) {
      BindError err;
      REQUIRE(binder.bind(nth_request(i), bound, err));
      ev.evaluate(bound, d);
      try {
        recorded.push_back(log.record(*b, bound, d));
      } catch (const sql::StoreError& e) {
        CHECK(e.code() == sql::kFull);
        ++full_errors;
      }
    }
    // Once full, every further decision fails: never a silent success.
    CHECK(full_errors == 3);
    CHECK(recorded.size() > 10);
  }
  LogOptions ro;
  ro.read_only = true;
  DecisionLog reader(path, ro);
  CHECK(reader.count() == recorded.size());
  CHECK(reader.verify().ok());
  for (const auto& id : recorded) CHECK(reader.find(id));
  std::filesystem::remove_all(dir);
}

TEST_CASE("a log locked by another writer past the busy timeout fails with SQLITE_BUSY") {
  std::string dir = temp_dir(), path = log_path(dir);
  auto b = store_bundle();
  LogOptions o = writer_options();
  o.busy_timeout_ms = 50;
  DecisionLog log(path, o);
  record_run(log, *b, 2);
  RequestBinder binder(*b->policy);
  BoundRequest bound;
  BindError err;
  REQUIRE(binder.bind(nth_request(7), bound, err));
  Decision d = Evaluator(b->policy).evaluate(bound);
  {
    sql::Database other(path, sql::OpenMode::kReadWrite);
    other.exec("BEGIN EXCLUSIVE");
    try {
      log.record(*b, bound, d);
      FAIL("a decision was reported recorded while the log was locked");
    } catch (const sql::StoreError& e) {
      CHECK(e.code() == sql::kBusy);
    }
    other.exec("ROLLBACK");
  }
  // The lock gone, recording resumes and the chain is whole.
  log.record(*b, bound, d);
  CHECK(log.count() == 3);
  CHECK(log.verify().ok());
  std::filesystem::remove_all(dir);
}
