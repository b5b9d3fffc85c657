// The PostgreSQL log with several writers: one chain per node, a node id
// taken by one process at a time, and copying an SQLite log into it
// (docs/decision-log.md, "Several nodes").
#include <catch2/catch.hpp>
#include <thread>

#include <ethos/log/log_copy.hpp>
#include <ethos/log/replay.hpp>
#include "postgres_support.hpp"
#include "store_support.hpp"

using namespace ethos;
using namespace ethos::testing;

namespace {

LogOptions node(const std::string& id) {
  LogOptions o = writer_options();
  o.node_id = id;
  return o;
}

}  // namespace

TEST_CASE("a second writer with the same node id is refused while the first one runs",
          "[postgres]") {
  auto server = postgres_server_url();
  if (!server) return;
  PostgresDatabase db(*server);
  {
    DecisionLog first(db.url(), node("clinic-a"));
    CHECK_THROWS_WITH(DecisionLog(db.url(), node("clinic-a")),
                      Catch::Contains("node id `clinic-a` is already writing"));
    DecisionLog other(db.url(), node("clinic-b"));  // another node id is fine
  }
  DecisionLog again(db.url(), node("clinic-a"));  // free once the first one closed
}

TEST_CASE("nodes append at once, each to its own chain, and every chain verifies", "[postgres]") {
  auto server = postgres_server_url();
  if (!server) return;
  PostgresDatabase db(*server);
  auto b = store_bundle();
  std::vector<std::vector<std::string>> ids(3);
  {
    std::vector<std::unique_ptr<DecisionLog>> logs;
    for (int n = 0; n < 3; ++n)
      logs.push_back(std::make_unique<DecisionLog>(db.url(), node("node-" + std::to_string(n))));
    std::vector<std::thread> threads;
    for (size_t n = 0; n < 3; ++n)
      threads.emplace_back([&, n] {
        // REQUIREs inside record_run are not thread-safe: bind outside, record here.
        RequestBinder binder(*b->policy);
        Evaluator ev(b->policy);
        BoundRequest bound;
        Decision d;
        std::vector<DecisionLog::Ticket> tickets;
        for (size_t i = 0; i < 150; ++i) {
          BindError err;
          if (!binder.bind(nth_request(i), bound, err)) return;
          ev.evaluate(bound, d);
          tickets.push_back(logs[n]->submit(*b, bound, d));
        }
        for (const auto& t : tickets) {
          logs[n]->wait(t);
          ids[n].push_back(t.decision_id);
        }
      });
    for (auto& t : threads) t.join();
  }
  for (const auto& v : ids) REQUIRE(v.size() == 150);
  LogOptions ro;
  ro.read_only = true;
  DecisionLog log(db.url(), ro);
  auto v = log.verify();
  INFO((v.first_break ? v.first_break->message : ""));
  CHECK(v.ok());
  CHECK(v.decisions == 450);
  REQUIRE(v.chains.size() == 3);
  for (size_t n = 0; n < 3; ++n) {
    CHECK(v.chains[n].chain == "node-" + std::to_string(n));
    CHECK(v.chains[n].decisions == 150);
    auto e = log.find(ids[n].back());
    REQUIRE(e);
    CHECK(e->chain == v.chains[n].chain);
    CHECK(v.chains[n].head == e->hash);
  }
  // Replay reads every node's decisions, in the order the database took them.
  ReplayOptions o;
  auto r = replay(log, o);
  CHECK(r.replayed == 450);
  CHECK(r.reproduced_all());
  int64_t last = 0;
  bool ordered = true;
  log.scan({}, [&](const LogEntry& e) {
    ordered = ordered && e.seq > last;
    last = e.seq;
    return true;
  });
  CHECK(ordered);
}

TEST_CASE("a copied SQLite log verifies in PostgreSQL with the same head", "[postgres][copy]") {
  auto server = postgres_server_url();
  if (!server) return;
  PostgresDatabase db(*server);
  std::string file = log_path(temp_dir());
  auto b = store_bundle();
  std::string head;
  {
    DecisionLog log(file, writer_options());
    record_run(log, *b, 40);
    head = log.verify().head;
  }
  CopyOptions o;
  o.chain = "clinic-a";
  auto report = copy_log("sqlite:" + file, db.url(), o);
  CHECK(report.decisions == 40);
  CHECK(report.bundles == 1);
  REQUIRE(report.chains.size() == 1);
  CHECK(report.chains[0].head == head);
  LogOptions ro;
  ro.read_only = true;
  DecisionLog copy(db.url(), ro);
  auto v = copy.verify();
  CHECK(v.ok());
  CHECK(v.decisions == 40);
  REQUIRE(v.chains.size() == 1);
  CHECK(v.chains[0].chain == "clinic-a");
  CHECK(v.chains[0].head == head);
  // The copy keeps the key: a writer with another one is refused, with the same one it goes on.
  LogOptions other = node("clinic-a");
  other.key = log_key_from_secret("another key of at least sixteen bytes");
  CHECK_THROWS_WITH(DecisionLog(db.url(), other), Catch::Contains("use the key"));
  {
    DecisionLog go_on(db.url(), node("clinic-a"));
    record_run(go_on, *b, 3, 40);
  }
  auto after = copy.verify();
  CHECK(after.ok());
  CHECK(after.decisions == 43);
}

TEST_CASE("a copy into a chain that already holds other decisions is refused", "[postgres][copy]") {
  auto server = postgres_server_url();
  if (!server) return;
  PostgresDatabase db(*server);
  auto b = store_bundle();
  {
    DecisionLog log(db.url(), node("clinic-a"));
    record_run(log, *b, 2);
  }
  std::string file = log_path(temp_dir());
  {
    DecisionLog log(file, writer_options());
    record_run(log, *b, 2);
  }
  CopyOptions o;
  o.chain = "clinic-a";
  CHECK_THROWS_WITH(copy_log("sqlite:" + file, db.url(), o),
                    Catch::Contains("does not follow the head of chain `clinic-a`"));
  LogOptions ro;
  ro.read_only = true;
  CHECK(DecisionLog(db.url(), ro).count() == 2);  // nothing of the copy went in
}

TEST_CASE("a database holding other tables named like the log's is refused", "[postgres]") {
  auto server = postgres_server_url();
  if (!server) return;
  PostgresDatabase db(*server);
  {
    pg::Connection c(db.url());
    c.exec("CREATE TABLE decisions (x int)");
  }
  CHECK_THROWS_WITH(DecisionLog(db.url(), node("a")), Catch::Contains("not an ethos decision log"));
}

TEST_CASE("the ethos commands read and copy a PostgreSQL log", "[postgres][cli]") {
  auto server = postgres_server_url();
  if (!server) return;
  PostgresDatabase db(*server);
  std::string dir = temp_dir();
  std::string example = source_dir() + "/policies/examples/01-session-summary-enterprise-baa.json";
  auto rec = run_ethos({"eval", "--policies", source_dir() + "/policies", "--record",
                        dir + "/clinic.db", "--insecure-dev-key", example});
  INFO(rec.err);
  REQUIRE(rec.exit_code == 0);
  auto copy =
      run_ethos({"log", "copy", "--from", "sqlite:" + dir + "/clinic.db", "--to", db.url()});
  INFO(copy.err);
  REQUIRE(copy.exit_code == 0);
  CHECK(copy.out.find("chain clinic: 1 decision") != std::string::npos);
  auto sqlite_verify = run_ethos({"verify", "sqlite:" + dir + "/clinic.db"});
  auto pg_verify = run_ethos({"verify", db.url()});
  CHECK(sqlite_verify.exit_code == 0);
  CHECK(pg_verify.exit_code == 0);
  std::string head = sqlite_verify.out.substr(sqlite_verify.out.find("head ") + 5, 64);
  CHECK(pg_verify.out.find("chain clinic: 1 decision; head " + head) != std::string::npos);
  CHECK(run_ethos({"replay", db.url()}).exit_code == 0);
  auto listed = run_ethos({"log", db.url()});
  CHECK(listed.exit_code == 0);
  CHECK(listed.out.find("1 decision\n") != std::string::npos);
}
