// A writer that finds its log damaged on opening refuses to extend it
// (issue 17, D4): no decision is recorded, none starts the chain again at row 1.
#include <catch2/catch.hpp>

#include <ethos/log/sqlite.hpp>
#include "store_support.hpp"

using namespace ethos;
using namespace ethos::testing;
using Catch::Matchers::Contains;

namespace {

std::shared_ptr<const SigningKey> damage_key() {
  static auto key = std::make_shared<const SigningKey>(SigningKey::generate());
  return key;
}

struct CheckpointedLog {
  std::string dir = temp_dir();
  std::string path = log_path(dir);
  std::string anchor = dir + "/anchors.jsonl";
  std::shared_ptr<Bundle> bundle = store_bundle();
  // `request_index_every` large: the request-id mark says nothing, so only
  // the checkpoints can tell that rows are gone.
  LogOptions options(bool anchored = true) const {
    LogOptions o = writer_options();
    o.request_index_every = 1 << 20;
    o.checkpoints.key = damage_key();
    o.checkpoints.every_rows = 5;
    o.checkpoints.every_seconds = 0;
    if (anchored) o.checkpoints.anchor_file = anchor;
    return o;
  }
  CheckpointedLog() {
    DecisionLog log(path, options());
    for (size_t i = 0; i < 10; ++i) record_run(log, *bundle, 1, i);
  }
  ~CheckpointedLog() { std::filesystem::remove_all(dir); }
  void sql(const std::string& statements) const {
    sql::Database raw(path, sql::OpenMode::kReadWrite);
    raw.exec(statements);
  }
  int64_t rows() const {
    sql::Database raw(path, sql::OpenMode::kRead);
    return raw.query_int("SELECT count(*) FROM decisions");
  }
  // Opens a writer and tries to record one decision; returns why it refused.
  std::string refusal(const LogOptions& o) const {
    DecisionLog log(path, o);
    REQUIRE(log.damage());
    CHECK_THROWS_WITH(record_run(log, *bundle, 1, 100), Contains("is damaged"));
    return *log.damage();
  }
};

}  // namespace

TEST_CASE("an intact log with checkpoints opens for writing and grows") {
  CheckpointedLog l;
  DecisionLog log(l.path, l.options());
  CHECK_FALSE(log.damage());
  record_run(log, *l.bundle, 1, 100);
  CHECK(l.rows() == 11);
}

TEST_CASE("a writer refuses a log whose tail rows were deleted, per its stored checkpoint") {
  CheckpointedLog l;
  l.sql("DELETE FROM decisions WHERE seq > 7");
  std::string why = l.refusal(l.options(false));
  CHECK_THAT(why, Contains("the chain ends at row 7") && Contains("up to 10"));
  CHECK(l.rows() == 7);
}

TEST_CASE("a writer refuses a log whose tail rows and checkpoints were deleted, per the anchor") {
  CheckpointedLog l;
  l.sql("DELETE FROM decisions WHERE seq > 7; DELETE FROM checkpoints");
  std::string why = l.refusal(l.options(true));
  CHECK_THAT(why, Contains("anchors.jsonl:2") && Contains("removed from its tail"));
  CHECK(l.rows() == 7);
}

TEST_CASE("a writer refuses a log whose every row was deleted, and writes no row 1") {
  CheckpointedLog l;
  l.sql("DELETE FROM decisions");
  std::string why = l.refusal(l.options(false));
  CHECK_THAT(why, Contains("holds no decisions") && Contains("every row was removed"));
  CHECK(l.rows() == 0);
}

TEST_CASE("a writer without checkpoints refuses a log emptied below its request-id mark") {
  std::string dir = temp_dir(), path = log_path(dir);
  auto b = store_bundle();
  LogOptions o = writer_options();
  o.request_index_every = 1;
  {
    DecisionLog log(path, o);
    record_run(log, *b, 6);
  }
  {
    sql::Database raw(path, sql::OpenMode::kReadWrite);
    raw.exec("DELETE FROM decisions");
  }
  DecisionLog log(path, o);
  REQUIRE(log.damage());
  CHECK_THAT(*log.damage(), Contains("request-id table was filled up to row 6"));
  CHECK_THROWS(record_run(log, *b, 1, 100));
  std::filesystem::remove_all(dir);
}

TEST_CASE("a writer refuses a log whose last row was altered") {
  CheckpointedLog l;
  l.sql("UPDATE decisions SET request_id = 'tampered' WHERE seq = 10");
  std::string why = l.refusal(l.options());
  CHECK_THAT(why, Contains("(row 10) was altered"));
}

TEST_CASE("a writer refuses a log whose last stored checkpoint was edited") {
  CheckpointedLog l;
  l.sql("UPDATE checkpoints SET head = '" + std::string(64, 'f') + "' WHERE seq = 10");
  std::string why = l.refusal(l.options(false));
  CHECK_THAT(why, Contains("does not verify with the signing key"));
}

TEST_CASE("a reader still opens a damaged log, to verify it") {
  CheckpointedLog l;
  l.sql("DELETE FROM decisions WHERE seq > 7");
  LogOptions ro;
  ro.read_only = true;
  DecisionLog log(l.path, ro);
  CHECK_FALSE(log.damage());
  CHECK(log.count() == 7);
}
