// The decision log's conformance suite: the same cases against each store,
// an SQLite file and a PostgreSQL database (docs/decision-log.md,
// "Backends"). Each case is one behaviour a log must have whatever holds it.
#include <algorithm>
#include <array>
#include <catch2/catch.hpp>
#include <map>
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

// ---- the console's queries (GET /v1/decisions, /v1/statistics, ethos report) ----

namespace {

std::vector<LogEntry> scan_all(const DecisionLog& log, const LogFilter& f = {}) {
  std::vector<LogEntry> rows;
  log.scan(f, [&](const LogEntry& e) {
    rows.push_back(e);
    return true;
  });
  return rows;
}

std::vector<std::string> ids_of(const std::vector<LogEntry>& rows) {
  std::vector<std::string> ids;
  for (const auto& e : rows) ids.push_back(e.id);
  return ids;
}

// The most frequent strings of a JSON array column, counted here rather than
// by the database: count descending, then by byte order; at most `top`.
std::vector<std::pair<std::string, uint64_t>> top_of(const std::vector<LogEntry>& rows,
                                                     std::string EncodedDecision::*column,
                                                     size_t top) {
  std::map<std::string, uint64_t> n;
  for (const auto& e : rows)
    for (const auto& v : nlohmann::json::parse(e.decision.*column)) ++n[v.get<std::string>()];
  std::vector<std::pair<std::string, uint64_t>> out(n.begin(), n.end());
  std::stable_sort(out.begin(), out.end(),
                   [](const auto& a, const auto& b) { return a.second > b.second; });
  if (out.size() > top) out.resize(top);
  return out;
}

}  // namespace

TEMPLATE_TEST_CASE("the module filter matches a module's rules, not a module named by a prefix",
                   "[conformance]", SqliteStore, PostgresStore) {
  TestType store;
  if (!store.available()) return;
  auto b = store_bundle();
  DecisionLog log(store.location(), writer_options());
  record_run(log, *b, 12);
  uint64_t with_reasons = 0;
  for (const auto& e : scan_all(log)) with_reasons += e.decision.reasons != "[]";
  REQUIRE(with_reasons > 0);
  LogFilter care;
  care.module = "care";
  CHECK(log.count(care) == with_reasons);
  for (const auto& e : scan_all(log, care)) CHECK(e.decision.reasons.find("\"care.") == 1);
  LogFilter prefix;
  prefix.module = "car";
  CHECK(log.count(prefix) == 0);
}

TEMPLATE_TEST_CASE("the missing-fact filter matches one attribute path exactly", "[conformance]",
                   SqliteStore, PostgresStore) {
  TestType store;
  if (!store.available()) return;
  auto b = store_bundle();
  DecisionLog log(store.location(), writer_options());
  auto ids = record_run(log, *b, 18);
  LogFilter missing;
  missing.missing = "patient.guardian_permission";
  // nth_request(i) leaves it unknown for i % 6 == 3.
  CHECK(ids_of(scan_all(log, missing)) == std::vector<std::string>{ids[3], ids[9], ids[15]});
  LogFilter prefix;
  prefix.missing = "patient.guardian";
  CHECK(log.count(prefix) == 0);
  missing.outcome = "deny";
  CHECK(log.count(missing) == 0);
}

TEMPLATE_TEST_CASE("a newest-first scan visits a window's rows in descending order",
                   "[conformance]", SqliteStore, PostgresStore) {
  TestType store;
  if (!store.available()) return;
  auto b = store_bundle();
  DecisionLog log(store.location(), writer_options());
  auto ids = record_run(log, *b, 20);
  auto rows = scan_all(log);
  // The console's paging window: seq bounds, newest first, a limit.
  LogFilter w;
  w.newest_first = true;
  w.after_seq = rows[4].seq;    // rows 5..
  w.before_seq = rows[15].seq;  // ..14
  w.limit = 6;
  CHECK(ids_of(scan_all(log, w)) ==
        std::vector<std::string>{ids[14], ids[13], ids[12], ids[11], ids[10], ids[9]});
  w.limit = 0;
  w.outcome = "deny";  // rows 7 and 13 (i % 6 == 1)
  CHECK(ids_of(scan_all(log, w)) == std::vector<std::string>{ids[13], ids[7]});
  // A scan can stop early.
  LogFilter newest;
  newest.newest_first = true;
  std::vector<std::string> first_two;
  log.scan(newest, [&](const LogEntry& e) {
    first_two.push_back(e.id);
    return first_two.size() < 2;
  });
  CHECK(first_two == std::vector<std::string>{ids[19], ids[18]});
}

TEMPLATE_TEST_CASE("a newest-first scan of a large log visits every row once, descending",
                   "[conformance]", SqliteStore, PostgresStore) {
  TestType store;
  if (!store.available()) return;
  auto b = store_bundle();
  DecisionLog log(store.location(), writer_options());
  // More rows than a PostgreSQL scan reads per page (2000).
  auto ids = record_run(log, *b, 4100);
  LogFilter newest;
  newest.newest_first = true;
  auto got = ids_of(scan_all(log, newest));
  std::reverse(ids.begin(), ids.end());
  CHECK(got == ids);
  newest.limit = 2500;
  CHECK(ids_of(scan_all(log, newest)) == std::vector<std::string>(ids.begin(), ids.begin() + 2500));
}

TEMPLATE_TEST_CASE("seq_range gives the ends of the log and of a filter's rows", "[conformance]",
                   SqliteStore, PostgresStore) {
  TestType store;
  if (!store.available()) return;
  auto b = store_bundle();
  DecisionLog log(store.location(), writer_options());
  CHECK(log.seq_range() == std::pair<int64_t, int64_t>{0, 0});
  record_run(log, *b, 14);
  auto rows = scan_all(log);
  CHECK(log.seq_range() == std::pair{rows.front().seq, rows.back().seq});
  LogFilter deny;
  deny.outcome = "deny";  // rows 1 and 7 and 13
  CHECK(log.seq_range(deny) == std::pair{rows[1].seq, rows[13].seq});
  LogFilter none;
  none.rule = "care.no_such_rule";
  CHECK(log.seq_range(none) == std::pair<int64_t, int64_t>{0, 0});
}

TEMPLATE_TEST_CASE("summarize counts outcomes per time bucket, top rules and facts, and bundles",
                   "[conformance]", SqliteStore, PostgresStore) {
  TestType store;
  if (!store.available()) return;
  auto b = store_bundle();
  DecisionLog log(store.location(), writer_options());
  record_run(log, *b, 30, 0, 3600);  // hourly from 10:00: 14 on the first day, 16 on the next
  auto rows = scan_all(log);

  LogSummary s = log.summarize({}, 86400, 2);
  std::map<int64_t, std::array<uint64_t, 3>> buckets;  // permit, deny, escalate
  for (const auto& e : rows) {
    auto& c = buckets[e.time / 86400 * 86400];
    ++c[e.decision.outcome == "permit" ? 0 : e.decision.outcome == "deny" ? 1 : 2];
  }
  REQUIRE(s.buckets.size() == 2);
  size_t i = 0;
  for (const auto& [start, c] : buckets) {
    CHECK(s.buckets[i].start == start);
    CHECK(s.buckets[i].permit == c[0]);
    CHECK(s.buckets[i].deny == c[1]);
    CHECK(s.buckets[i].escalate == c[2]);
    ++i;
  }
  CHECK(s.buckets[0].permit + s.buckets[0].deny + s.buckets[0].escalate == 14);
  CHECK(s.permit + s.deny + s.escalate == 30);
  CHECK(s.deny == 5);
  CHECK(s.top_rules == top_of(rows, &EncodedDecision::reasons, 2));
  CHECK(s.top_missing == top_of(rows, &EncodedDecision::missing_facts, 2));
  REQUIRE(s.top_missing.size() == 1);
  CHECK(s.top_missing[0] == std::pair<std::string, uint64_t>{"patient.guardian_permission", 5});
  CHECK(s.bundles == std::vector<std::pair<std::string, int64_t>>{{b->hash, kRunStart}});

  // A filter and a time range bound it; a limit does not.
  LogFilter f;
  f.outcome = "deny";
  f.from = kRunStart + 14 * 3600;  // the second day
  f.limit = 1;
  LogSummary d = log.summarize(f, 3600, 10);
  CHECK(d.deny == 2);  // rows 19 and 25 (1, 7 and 13 are on the first day)
  CHECK(d.permit + d.escalate == 0);
  CHECK(d.buckets.size() == 2);
  CHECK(d.top_rules == top_of(scan_all(log,
                                       [&] {
                                         auto g = f;
                                         g.limit = 0;
                                         return g;
                                       }()),
                              &EncodedDecision::reasons, 10));
  CHECK(d.top_missing.empty());
}
