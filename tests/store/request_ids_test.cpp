// Finding decisions by request id (docs/decision-log.md, "Finding a decision
// by request id"): the writer adds them to the request_ids table in sorted
// batches; lookups read the table and the rows not yet in it.
#include <catch2/catch.hpp>

#include <ethos/log/sqlite.hpp>
#include "store_support.hpp"

using namespace ethos;
using namespace ethos::testing;

namespace {

LogOptions batches_of(int n) {
  LogOptions o = writer_options();
  o.request_index_every = n;
  return o;
}

std::vector<std::string> ids_for(const DecisionLog& log, const std::string& request_id) {
  LogFilter f;
  f.request_id = request_id;
  std::vector<std::string> ids;
  log.scan(f, [&](const LogEntry& e) {
    CHECK(e.request_id == request_id);
    ids.push_back(e.id);
    return true;
  });
  CHECK(log.count(f) == ids.size());
  return ids;
}

// One commit per decision, so that the mark moves at a known decision.
std::vector<std::string> one_by_one(DecisionLog& log, const Bundle& b, size_t n, size_t first = 0) {
  std::vector<std::string> ids;
  for (size_t i = first; i < first + n; ++i) ids.push_back(record_run(log, b, 1, i).at(0));
  return ids;
}

int64_t table_rows(const std::string& path) {
  return sql::Database(path, sql::OpenMode::kRead).query_int("SELECT count(*) FROM request_ids");
}

int64_t mark(const std::string& path) {
  return sql::Database(path, sql::OpenMode::kRead)
      .query_int("SELECT value FROM log_meta WHERE key = 'request_ids_through'");
}

}  // namespace

TEST_CASE("a decision is found by its request id before the writer adds it to the table") {
  std::string dir = temp_dir(), path = log_path(dir);
  auto b = store_bundle();
  DecisionLog log(path, batches_of(4));
  auto ids = record_run(log, *b, 3);
  REQUIRE(table_rows(path) == 0);
  for (size_t i = 0; i < ids.size(); ++i)
    CHECK(ids_for(log, "r-" + std::to_string(i)) == std::vector<std::string>{ids[i]});
  CHECK(ids_for(log, "r-99").empty());
}

TEST_CASE("the writer adds a batch to the request_ids table once it reaches the set size") {
  std::string dir = temp_dir(), path = log_path(dir);
  auto b = store_bundle();
  DecisionLog log(path, batches_of(4));
  auto ids = one_by_one(log, *b, 3);
  CHECK(table_rows(path) == 0);
  auto more = one_by_one(log, *b, 3, 3);
  // The fourth decision's commit added the four unindexed rows and moved the mark.
  CHECK(table_rows(path) == 4);
  CHECK(mark(path) == 4);
  ids.insert(ids.end(), more.begin(), more.end());
  for (size_t i = 0; i < ids.size(); ++i)
    CHECK(ids_for(log, "r-" + std::to_string(i)) == std::vector<std::string>{ids[i]});
}

TEST_CASE("a request id recorded twice finds both decisions, in chain order, across the mark") {
  std::string dir = temp_dir(), path = log_path(dir);
  auto b = store_bundle();
  DecisionLog log(path, batches_of(4));
  auto first = one_by_one(log, *b, 3);
  auto second = one_by_one(log, *b, 3);  // r-0, r-1, r-2 again, as seq 4, 5, 6
  REQUIRE(mark(path) == 4);              // seq 5 and 6 are not in the table
  for (size_t i = 0; i < 3; ++i)
    CHECK(ids_for(log, "r-" + std::to_string(i)) == std::vector<std::string>{first[i], second[i]});
}

TEST_CASE("a reader that opens the log finds request ids the writer has not added yet") {
  std::string dir = temp_dir(), path = log_path(dir);
  auto b = store_bundle();
  DecisionLog log(path, batches_of(1000));
  auto ids = record_run(log, *b, 5);
  LogOptions ro;
  ro.read_only = true;
  DecisionLog reader(path, ro);
  CHECK(table_rows(path) == 0);
  CHECK(ids_for(reader, "r-3") == std::vector<std::string>{ids[3]});
}

TEST_CASE("verify reports a decision whose request_ids entry was deleted") {
  std::string dir = temp_dir(), path = log_path(dir);
  auto b = store_bundle();
  DecisionLog log(path, batches_of(4));
  auto ids = one_by_one(log, *b, 6);
  REQUIRE(log.verify().ok());
  sql::Database(path, sql::OpenMode::kReadWrite).exec("DELETE FROM request_ids WHERE seq = 2");
  auto v = log.verify();
  REQUIRE(v.first_break);
  CHECK(v.first_break->kind == ChainBreak::Kind::kRequestIdsAltered);
  CHECK(v.first_break->seq == 2);
  CHECK(v.first_break->decision_id == ids[1]);
  CHECK_THAT(v.first_break->message, Catch::Matchers::Contains("request id `r-1`"));
}

TEST_CASE("verify reports a request_ids entry that names no decision with that request id") {
  std::string dir = temp_dir(), path = log_path(dir);
  auto b = store_bundle();
  DecisionLog log(path, batches_of(4));
  one_by_one(log, *b, 6);
  sql::Database(path, sql::OpenMode::kReadWrite)
      .exec("INSERT INTO request_ids (request_id, seq) VALUES ('r-ghost', 3)");
  auto v = log.verify();
  REQUIRE(v.first_break);
  CHECK(v.first_break->kind == ChainBreak::Kind::kRequestIdsAltered);
  CHECK(v.first_break->seq == 3);
  CHECK_THAT(v.first_break->message, Catch::Matchers::Contains("`r-ghost` at row 3"));
}
