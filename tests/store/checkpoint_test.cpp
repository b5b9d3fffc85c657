// Signed checkpoints (checkpoint.hpp): the writer signs its chain's head
// every N rows and on closing, stores it in the log and in the anchor file,
// and a check against them finds the tamperings the chain alone cannot see.
#include <catch2/catch.hpp>
#include <chrono>
#include <thread>

#include <ethos/log/checkpoint.hpp>
#include <ethos/log/sqlite.hpp>
#include "store_support.hpp"

using namespace ethos;
using namespace ethos::testing;
using Catch::Matchers::Contains;

namespace {

std::shared_ptr<const SigningKey> test_key() {
  static auto key = std::make_shared<const SigningKey>(SigningKey::generate());
  return key;
}

LogOptions signing_options(const std::string& anchor, uint64_t every_rows = 4) {
  LogOptions o = writer_options();
  o.checkpoints.key = test_key();
  o.checkpoints.every_rows = every_rows;
  o.checkpoints.every_seconds = 0;
  o.checkpoints.anchor_file = anchor;
  return o;
}

// Twelve decisions recorded one commit each with a checkpoint every four
// rows: checkpoints at rows 4, 8 and 12, in the log and in the anchor file.
struct AnchoredLog {
  std::string dir = temp_dir();
  std::string path = log_path(dir);
  std::string anchor = dir + "/anchors.jsonl";
  std::shared_ptr<Bundle> bundle = store_bundle();
  AnchoredLog() {
    DecisionLog log(path, signing_options(anchor));
    for (size_t i = 0; i < 12; ++i) record_run(log, *bundle, 1, i);
  }
  ~AnchoredLog() { std::filesystem::remove_all(dir); }

  void sql(const std::string& statements) const {
    sql::Database raw(path, sql::OpenMode::kReadWrite);
    raw.exec(statements);
  }
  // The first break any anchor-file checkpoint finds, lowest row first.
  std::optional<ChainBreak> anchored_break() const {
    LogOptions ro;
    ro.read_only = true;
    DecisionLog log(path, ro);
    VerifyingKey key = test_key()->verifying_key();
    std::optional<ChainBreak> first;
    for (const auto& c : read_anchor_file(anchor)) {
      auto b = log.check(c.checkpoint, &key, c.where);
      if (b && (!first || b->seq < first->seq)) first = b;
    }
    return first;
  }
  VerifyReport verify() const {
    LogOptions ro;
    ro.read_only = true;
    return DecisionLog(path, ro).verify();
  }
};

// Rewrites every row with new contents and recomputed hashes: a chain that
// verifies on its own.
void rewrite_all(const std::string& path) {
  LogOptions ro;
  ro.read_only = true;
  std::vector<LogEntry> rows;
  {
    DecisionLog log(path, ro);
    log.scan({}, [&](const LogEntry& e) {
      rows.push_back(e);
      return true;
    });
  }
  sql::Database raw(path, sql::OpenMode::kReadWrite);
  std::string prev(kGenesisHash);
  for (auto& e : rows) {
    e.decision.outcome = "permit";
    e.prev_hash = prev;
    e.hash = chain_hash(prev, content_hash(e));
    prev = e.hash;
    sql::Statement s(raw,
                     "UPDATE decisions SET outcome = ?, prev_hash = ?, hash = ? WHERE seq = ?");
    s.bind(1, e.decision.outcome);
    s.bind(2, e.prev_hash);
    s.bind(3, e.hash);
    s.bind(4, e.seq);
    s.run();
  }
}

}  // namespace

TEST_CASE("a checkpoint's signature verifies with its key and fails with another") {
  Checkpoint c{"", 12, std::string(64, 'a'), 1795687200, "k-1", "", ""};
  sign_checkpoint(c, *test_key());
  CHECK(c.key_id == test_key()->id());
  CHECK(c.signature.size() == 128);
  CHECK(checkpoint_signature_ok(c, test_key()->verifying_key()));
  SigningKey other = SigningKey::generate();
  CHECK_FALSE(checkpoint_signature_ok(c, other.verifying_key()));
  // Even when the checkpoint claims the other key's id.
  c.key_id = other.id();
  CHECK_FALSE(checkpoint_signature_ok(c, other.verifying_key()));
}

TEST_CASE("changing any signed field of a checkpoint breaks its signature") {
  Checkpoint c{"node-a", 12, std::string(64, 'a'), 1795687200, "k-1", "", ""};
  sign_checkpoint(c, *test_key());
  VerifyingKey key = test_key()->verifying_key();
  for (int field = 0; field < 5; ++field) {
    Checkpoint t = c;
    switch (field) {
      case 0:
        t.chain = "node-b";
        break;
      case 1:
        t.seq = 11;
        break;
      case 2:
        t.head[0] = 'b';
        break;
      case 3:
        t.time += 1;
        break;
      default:
        t.log_key_id = "k-2";
    }
    INFO("field " << field);
    CHECK_FALSE(checkpoint_signature_ok(t, key));
  }
}

TEST_CASE("a checkpoint survives its JSON line unchanged") {
  Checkpoint c{"node-a", 7, std::string(64, 'c'), 1795687200, "k-1", "", ""};
  sign_checkpoint(c, *test_key());
  Checkpoint back;
  std::string error;
  REQUIRE(parse_checkpoint_json(checkpoint_json(c), back, error));
  CHECK(checkpoint_message(back) == checkpoint_message(c));
  CHECK(back.signature == c.signature);
  CHECK_FALSE(parse_checkpoint_json(R"({"chain":"","seq":-1})", back, error));
  CHECK_THAT(error, Contains("`head`"));
}

TEST_CASE("the writer signs its head every N rows, in the log and in the anchor file") {
  AnchoredLog a;
  LogOptions ro;
  ro.read_only = true;
  DecisionLog log(a.path, ro);
  auto stored = log.checkpoints();
  REQUIRE(stored.size() == 3);
  CHECK(stored[0].seq == 4);
  CHECK(stored[1].seq == 8);
  CHECK(stored[2].seq == 12);
  CHECK(stored[2].head == log.verify().head);
  CHECK(stored[2].log_key_id == log.key_id());
  auto anchored = read_anchor_file(a.anchor);
  REQUIRE(anchored.size() == 3);
  CHECK(anchored[2].checkpoint.signature == stored[2].signature);
  CHECK(anchored[0].where == a.anchor + ":1");
  CHECK_FALSE(a.anchored_break());
}

TEST_CASE("closing the writer signs the rows since the last checkpoint, once") {
  AnchoredLog a;
  {
    DecisionLog log(a.path, signing_options(a.anchor, 1000));
    REQUIRE_FALSE(log.damage());
    record_run(log, *a.bundle, 2, 12);
  }
  {
    DecisionLog again(a.path, signing_options(a.anchor, 1000));  // no new rows: no new checkpoint
  }
  auto anchored = read_anchor_file(a.anchor);
  REQUIRE(anchored.size() == 4);
  CHECK(anchored[3].checkpoint.seq == 14);
}

TEST_CASE("the writer signs its head T seconds after the last checkpoint when rows came since") {
  std::string dir = temp_dir(), path = log_path(dir), anchor = dir + "/anchors.jsonl";
  auto b = store_bundle();
  LogOptions o = signing_options(anchor, 0);
  o.checkpoints.every_seconds = 1;
  DecisionLog log(path, o);
  record_run(log, *b, 1);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (log.stats().checkpoints == 0 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  CHECK(log.stats().checkpoints == 1);
  CHECK(log.checkpoints().size() == 1);
  std::filesystem::remove_all(dir);
}

TEST_CASE("rows deleted from the tail pass the chain but not the checkpoint that covered them") {
  AnchoredLog a;
  a.sql("DELETE FROM decisions WHERE seq > 9");
  CHECK(a.verify().ok());  // the chain alone cannot tell
  auto b = a.anchored_break();
  REQUIRE(b);
  CHECK(b->kind == ChainBreak::Kind::kTruncated);
  CHECK(b->seq == 12);
  CHECK_THAT(b->message, Contains("the chain ends at row 9") && Contains("removed from its tail"));
}

TEST_CASE("deleting every row passes the chain but not the checkpoints") {
  AnchoredLog a;
  a.sql("DELETE FROM decisions");
  CHECK(a.verify().ok());
  auto b = a.anchored_break();
  REQUIRE(b);
  CHECK(b->kind == ChainBreak::Kind::kTruncated);
  CHECK(b->seq == 4);
  CHECK_THAT(b->message, Contains("every row was removed"));
}

TEST_CASE("a full rewrite with recomputed hashes passes the chain but not the checkpoints") {
  AnchoredLog a;
  rewrite_all(a.path);
  CHECK(a.verify().ok());
  auto b = a.anchored_break();
  REQUIRE(b);
  CHECK(b->kind == ChainBreak::Kind::kRewritten);
  CHECK(b->seq == 4);
  CHECK_THAT(b->message, Contains("(row 4) has hash") && Contains("rewritten"));
}

TEST_CASE("a changed key id passes the chain but not the checkpoints") {
  AnchoredLog a;
  a.sql("UPDATE log_meta SET value = 'k-0000000000000000' WHERE key = 'key_id'");
  CHECK(a.verify().ok());
  auto b = a.anchored_break();
  REQUIRE(b);
  CHECK(b->kind == ChainBreak::Kind::kKeyChanged);
  CHECK_THAT(b->message, Contains("k-0000000000000000") && Contains("key id was changed"));
}

TEST_CASE("an edited checkpoint in the log's table no longer verifies") {
  AnchoredLog a;
  a.sql(
      "UPDATE checkpoints SET seq = 9, head = (SELECT hash FROM decisions WHERE seq = 9) "
      "WHERE seq = 12");
  LogOptions ro;
  ro.read_only = true;
  DecisionLog log(a.path, ro);
  VerifyingKey key = test_key()->verifying_key();
  auto stored = log.checkpoints();
  REQUIRE(stored.size() == 3);
  auto b = log.check(stored[2], &key, "table");
  REQUIRE(b);
  CHECK(b->kind == ChainBreak::Kind::kCheckpointInvalid);
  CHECK_FALSE(log.check(stored[1], &key, "table"));
}

TEST_CASE("a checkpoint is refused by a public key other than the one that signed it") {
  AnchoredLog a;
  LogOptions ro;
  ro.read_only = true;
  DecisionLog log(a.path, ro);
  VerifyingKey other = SigningKey::generate().verifying_key();
  auto b = log.check(log.checkpoints()[0], &other, "table");
  REQUIRE(b);
  CHECK(b->kind == ChainBreak::Kind::kCheckpointInvalid);
  CHECK_THAT(b->message, Contains("not the given key `" + other.id() + "`"));
}

TEST_CASE("an expected head names the rewritten row, or the missing one") {
  AnchoredLog a;
  std::string head = a.verify().head;
  {
    LogOptions ro;
    ro.read_only = true;
    DecisionLog log(a.path, ro);
    CHECK_FALSE(log.check_head(12, head));
    CHECK_FALSE(log.check_head(0, kGenesisHash));
  }
  a.sql("DELETE FROM decisions WHERE seq > 10");
  LogOptions ro;
  ro.read_only = true;
  DecisionLog log(a.path, ro);
  auto b = log.check_head(12, head);
  REQUIRE(b);
  CHECK(b->kind == ChainBreak::Kind::kTruncated);
  CHECK_THAT(b->message, Contains("row 12 is gone") && Contains("ends at row 10"));
  auto c = log.check_head(10, head);
  REQUIRE(c);
  CHECK(c->kind == ChainBreak::Kind::kRewritten);
  CHECK(c->seq == 10);
}
