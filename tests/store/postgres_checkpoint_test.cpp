// Signed checkpoints in a PostgreSQL log: each node signs its own chain's
// head, and a node whose chain was cut refuses to extend it while the other
// nodes go on.
#include <catch2/catch.hpp>

#include "postgres_support.hpp"
#include "store_support.hpp"

using namespace ethos;
using namespace ethos::testing;
using Catch::Matchers::Contains;

namespace {

std::shared_ptr<const SigningKey> node_key() {
  static auto key = std::make_shared<const SigningKey>(SigningKey::generate());
  return key;
}

LogOptions signing_node(const std::string& id) {
  LogOptions o = writer_options();
  o.node_id = id;
  o.checkpoints.key = node_key();
  o.checkpoints.every_rows = 2;
  o.checkpoints.every_seconds = 0;
  return o;
}

}  // namespace

TEST_CASE("each PostgreSQL node signs its own chain's head, and each checkpoint checks",
          "[postgres][checkpoint]") {
  auto server = postgres_server_url();
  if (!server) return;
  PostgresDatabase db(*server);
  auto b = store_bundle();
  {
    DecisionLog a(db.url(), signing_node("clinic-a"));
    DecisionLog c(db.url(), signing_node("clinic-b"));
    for (size_t i = 0; i < 4; ++i) {
      record_run(a, *b, 1, i);
      record_run(c, *b, 1, 100 + i);
    }
  }
  LogOptions ro;
  ro.read_only = true;
  DecisionLog log(db.url(), ro);
  auto latest = log.latest_checkpoints();
  REQUIRE(latest.size() == 2);
  VerifyingKey key = node_key()->verifying_key();
  for (const auto& c : latest) {
    INFO(c.chain);
    CHECK((c.chain == "clinic-a" || c.chain == "clinic-b"));
    CHECK_FALSE(log.check(c, &key, "table"));
  }
  CHECK(log.checkpoints().size() == 4);  // rows 2 and 4 of each chain
}

TEST_CASE("a PostgreSQL node refuses a chain whose tail was cut, and the other node records on",
          "[postgres][checkpoint]") {
  auto server = postgres_server_url();
  if (!server) return;
  PostgresDatabase db(*server);
  auto b = store_bundle();
  {
    DecisionLog a(db.url(), signing_node("clinic-a"));
    DecisionLog c(db.url(), signing_node("clinic-b"));
    for (size_t i = 0; i < 4; ++i) {
      record_run(a, *b, 1, i);
      record_run(c, *b, 1, 100 + i);
    }
  }
  {
    pg::Connection raw(db.url());
    raw.exec(
        "DELETE FROM decisions WHERE chain = 'clinic-a' AND seq > (SELECT min(seq) FROM decisions "
        "WHERE chain = 'clinic-a')");
  }
  DecisionLog a(db.url(), signing_node("clinic-a"));
  REQUIRE(a.damage());
  CHECK_THAT(*a.damage(), Contains("rows were removed from its tail"));
  CHECK_THROWS_WITH(record_run(a, *b, 1, 50), Contains("is damaged"));
  DecisionLog c(db.url(), signing_node("clinic-b"));
  CHECK_FALSE(c.damage());
  record_run(c, *b, 1, 200);
  LogOptions ro;
  ro.read_only = true;
  DecisionLog log(db.url(), ro);
  VerifyingKey key = node_key()->verifying_key();
  std::optional<ChainBreak> found;
  for (const auto& cp : log.checkpoints())
    if (auto brk = log.check(cp, &key, "table"); brk && !found) found = brk;
  REQUIRE(found);
  CHECK(found->kind == ChainBreak::Kind::kTruncated);
}

TEST_CASE("a PostgreSQL log of schema 1 gets the checkpoints table when a writer opens it",
          "[postgres][checkpoint]") {
  auto server = postgres_server_url();
  if (!server) return;
  PostgresDatabase db(*server);
  auto b = store_bundle();
  {
    DecisionLog a(db.url(), signing_node("clinic-a"));
    record_run(a, *b, 3);
  }
  {
    // What an ethos before checkpoints left behind.
    pg::Connection raw(db.url());
    raw.exec("DROP TABLE checkpoints; UPDATE log_meta SET value = '1' WHERE key = 'schema'");
  }
  {
    LogOptions ro;
    ro.read_only = true;
    DecisionLog old(db.url(), ro);
    CHECK(old.checkpoints().empty());
    CHECK(old.verify().ok());
  }
  {
    DecisionLog a(db.url(), signing_node("clinic-a"));
    CHECK_FALSE(a.damage());
    record_run(a, *b, 1, 3);
  }
  pg::Connection raw(db.url());
  CHECK(raw.exec("SELECT value FROM log_meta WHERE key = 'schema'").text(0, 0) == "2");
  CHECK(raw.exec("SELECT count(*) FROM checkpoints").integer(0, 0) >= 1);
}
