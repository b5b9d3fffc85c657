// The decision log's conformance suite: the same cases against each store,
// an SQLite file and a PostgreSQL database (docs/decision-log.md,
// "Backends"). Each case is one behaviour a log must have whatever holds it.
#include <catch2/catch.hpp>
#include <optional>

#include <ethos/log/replay.hpp>
#include <ethos/log/sqlite.hpp>
#include "postgres_support.hpp"
#include "store_support.hpp"

using namespace ethos;
using namespace ethos::testing;

namespace {

struct SqliteStore {
  std::string dir = temp_dir();
  bool available() const { return true; }
  std::string location() const { return "sqlite:" + dir + "/decisions.db"; }
  void exec(const std::string& sql) const {
    sql::Database db(dir + "/decisions.db", sql::OpenMode::kReadWrite);
    db.exec(sql);
  }
};

struct PostgresStore {
  std::optional<PostgresDatabase> db;
  PostgresStore() {
    if (auto url = postgres_server_url()) db.emplace(*url);
  }
  bool available() const { return db.has_value(); }
  std::string location() const { return db->url(); }
  void exec(const std::string& sql) const {
    pg::Connection c(db->url());
    c.exec(sql);
  }
};

}  // namespace

TEMPLATE_TEST_CASE("a log gives back every recorded decision in order, by id and by filter",
                   "[conformance]", SqliteStore, PostgresStore) {
  TestType store;
  if (!store.available()) return;
  auto b = store_bundle();
  DecisionLog log(store.location(), writer_options());
  auto ids = record_run(log, *b, 30);
  CHECK(log.count() == 30);
  std::vector<std::string> scanned;
  log.scan({}, [&](const LogEntry& e) {
    scanned.push_back(e.id);
    return true;
  });
  CHECK(scanned == ids);
  auto e = log.find(ids[7]);
  REQUIRE(e);
  CHECK(e->request_id == "r-7");
  CHECK(e->decision.outcome == "deny");  // nth_request(7): 7 % 6 == 1, no BAA
  CHECK(log.bundle_text(b->hash) == b->canonical_text);
  CHECK_FALSE(log.find("d-000000000000000000000000"));

  LogFilter deny;
  deny.outcome = "deny";
  CHECK(log.count(deny) == 5);
  LogFilter by_request;
  by_request.request_id = "r-12";
  CHECK(log.count(by_request) == 1);
  LogFilter by_rule;
  by_rule.rule = "care.baa_required";
  CHECK(log.count(by_rule) == 5);
  LogFilter limited;
  limited.limit = 4;
  std::vector<std::string> first;
  log.scan(limited, [&](const LogEntry& x) {
    first.push_back(x.id);
    return true;
  });
  CHECK(first == std::vector<std::string>(ids.begin(), ids.begin() + 4));
  auto [lo, hi] = log.seq_range();
  LogFilter after;
  after.after_seq = lo;
  CHECK(log.count(after) == 29);
  CHECK(hi > lo);
}

TEMPLATE_TEST_CASE("a log's chain verifies, and goes on across a reopen", "[conformance]",
                   SqliteStore, PostgresStore) {
  TestType store;
  if (!store.available()) return;
  auto b = store_bundle();
  std::string head;
  {
    DecisionLog log(store.location(), writer_options());
    record_run(log, *b, 12);
    auto v = log.verify();
    CHECK(v.ok());
    CHECK(v.decisions == 12);
    CHECK(v.bundles == 1);
    head = v.head;
  }
  DecisionLog log(store.location(), writer_options());
  auto more = record_run(log, *b, 5, 12);
  auto v = log.verify();
  INFO((v.first_break ? v.first_break->message : ""));
  CHECK(v.ok());
  CHECK(v.decisions == 17);
  REQUIRE(v.chains.size() == 1);
  CHECK(v.chains[0].decisions == 17);
  CHECK(v.head != head);
  CHECK(log.find(more[0])->prev_hash == head);
}

TEMPLATE_TEST_CASE("verify names a decision whose contents were altered", "[conformance]",
                   SqliteStore, PostgresStore) {
  TestType store;
  if (!store.available()) return;
  auto b = store_bundle();
  std::vector<std::string> ids;
  {
    DecisionLog log(store.location(), writer_options());
    ids = record_run(log, *b, 10);
  }
  store.exec("UPDATE decisions SET outcome = 'permit' WHERE id = '" + ids[1] + "'");
  LogOptions ro;
  ro.read_only = true;
  DecisionLog log(store.location(), ro);
  auto v = log.verify();
  REQUIRE(v.first_break);
  CHECK(v.first_break->kind == ChainBreak::Kind::kAltered);
  CHECK(v.first_break->decision_id == ids[1]);
}

TEMPLATE_TEST_CASE("verify names the decision after one that was removed", "[conformance]",
                   SqliteStore, PostgresStore) {
  TestType store;
  if (!store.available()) return;
  auto b = store_bundle();
  std::vector<std::string> ids;
  {
    DecisionLog log(store.location(), writer_options());
    ids = record_run(log, *b, 10);
  }
  store.exec("DELETE FROM decisions WHERE id = '" + ids[4] + "'");
  LogOptions ro;
  ro.read_only = true;
  DecisionLog log(store.location(), ro);
  auto v = log.verify();
  REQUIRE(v.first_break);
  CHECK(v.first_break->kind == ChainBreak::Kind::kRemoved);
  CHECK(v.first_break->decision_id == ids[5]);
}

TEMPLATE_TEST_CASE("verify finds a bundle whose text was altered", "[conformance]", SqliteStore,
                   PostgresStore) {
  TestType store;
  if (!store.available()) return;
  auto b = store_bundle();
  {
    DecisionLog log(store.location(), writer_options());
    record_run(log, *b, 3);
  }
  store.exec("UPDATE bundles SET canonical_text = canonical_text || ' '");
  LogOptions ro;
  ro.read_only = true;
  DecisionLog log(store.location(), ro);
  auto v = log.verify();
  REQUIRE(v.first_break);
  CHECK(v.first_break->kind == ChainBreak::Kind::kBundleAltered);
}

TEMPLATE_TEST_CASE("a log refuses a writer with another key", "[conformance]", SqliteStore,
                   PostgresStore) {
  TestType store;
  if (!store.available()) return;
  auto b = store_bundle();
  {
    DecisionLog log(store.location(), writer_options());
    record_run(log, *b, 2);
  }
  LogOptions other;
  other.key = log_key_from_secret("another key of at least sixteen bytes");
  CHECK_THROWS_WITH(DecisionLog(store.location(), other),
                    Catch::Contains("use the key this log was started with"));
}

TEMPLATE_TEST_CASE("a log refuses to record without a key", "[conformance]", SqliteStore,
                   PostgresStore) {
  TestType store;
  if (!store.available()) return;
  CHECK_THROWS_WITH(DecisionLog(store.location(), LogOptions{}),
                    Catch::Contains("recording needs a key"));
}

TEMPLATE_TEST_CASE("a log stores pseudonyms and never the raw identifiers or free text",
                   "[conformance]", SqliteStore, PostgresStore) {
  TestType store;
  if (!store.available()) return;
  auto b = store_bundle();
  DecisionLog log(store.location(), writer_options());
  record_run(log, *b, 12);
  size_t rows = 0;
  log.scan({}, [&](const LogEntry& e) {
    ++rows;
    CHECK(e.request.find("patient-secret") == std::string::npos);
    CHECK(e.request.find("free text about") == std::string::npos);
    CHECK(e.request.find("ps-") != std::string::npos);
    return true;
  });
  CHECK(rows == 12);
}

TEMPLATE_TEST_CASE("every recorded decision replays to the same result", "[conformance]",
                   SqliteStore, PostgresStore) {
  TestType store;
  if (!store.available()) return;
  auto b = store_bundle();
  DecisionLog log(store.location(), writer_options());
  record_run(log, *b, 24);
  ReplayOptions o;
  o.threads = 2;
  auto r = replay(log, o);
  CHECK(r.replayed == 24);
  CHECK(r.reproduced_all());
}

TEMPLATE_TEST_CASE("a reader cannot record", "[conformance]", SqliteStore, PostgresStore) {
  TestType store;
  if (!store.available()) return;
  auto b = store_bundle();
  {
    DecisionLog log(store.location(), writer_options());
    record_run(log, *b, 1);
  }
  LogOptions ro;
  ro.read_only = true;
  DecisionLog log(store.location(), ro);
  CHECK_THROWS_AS(record_run(log, *b, 1), sql::StoreError);
  CHECK(log.count() == 1);
}
