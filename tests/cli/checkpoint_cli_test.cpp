// `ethos key`, and `ethos verify` against signed checkpoints and expected
// heads; `ethos eval --record` and `ethos log` on a damaged log (issue 17).
#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include <ethos/log/sqlite.hpp>
#include "support.hpp"

using namespace ethos::testing;
using Catch::Matchers::Contains;

namespace {

std::string pack() { return source_dir() + "/policies"; }
std::string example(const char* name) { return pack() + "/examples/" + name; }

std::string read(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Six decisions recorded by `ethos eval --record` with a checkpoint after
// each one, in the log and in dir/anchors.jsonl.
struct SignedLog {
  std::string dir = temp_dir();
  std::string db = dir + "/log.db", key = dir + "/ck.key", anchors = dir + "/anchors.jsonl";
  SignedLog() {
    std::ofstream(dir + "/log.key") << std::string(64, '7');
    REQUIRE(run_ethos({"key", "new", "--out", key}).exit_code == 0);
    REQUIRE(record(6).exit_code == 0);
  }
  ~SignedLog() { std::filesystem::remove_all(dir); }
  RunResult record(int n) const {
    std::vector<std::string> args = {"eval",
                                     "--policies",
                                     pack(),
                                     "--record",
                                     db,
                                     "--log-key-file",
                                     dir + "/log.key",
                                     "--checkpoint-key",
                                     key,
                                     "--checkpoint-every-rows",
                                     "1",
                                     "--anchor-file",
                                     anchors};
    for (int i = 0; i < n; ++i) args.push_back(example("01-session-summary-enterprise-baa.json"));
    return run_ethos(args);
  }
  void sql(const std::string& statements) const {
    ethos::sql::Database raw(db, ethos::sql::OpenMode::kReadWrite);
    raw.exec(statements);
  }
  RunResult verify(std::vector<std::string> extra = {}) const {
    std::vector<std::string> args = {"verify",        db,     "--public-key", key + ".pub",
                                     "--checkpoints", anchors};
    args.insert(args.end(), extra.begin(), extra.end());
    return run_ethos(args);
  }
};

}  // namespace

TEST_CASE("ethos key new writes a private key only its owner reads, its public key, and its id") {
  std::string dir = temp_dir(), key = dir + "/ck.key";
  auto r = run_ethos({"key", "new", "--out", key});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  struct stat st {};
  REQUIRE(::stat(key.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  CHECK_THAT(read(key), Contains("-----BEGIN PRIVATE KEY-----"));
  CHECK_THAT(read(key + ".pub"), Contains("-----BEGIN PUBLIC KEY-----"));
  REQUIRE(r.out.rfind("key id ", 0) == 0);
  std::string id = r.out.substr(7, 16);
  auto shown = run_ethos({"key", "show-public", key + ".pub"});
  CHECK(shown.exit_code == 0);
  CHECK(shown.out == r.out);
  auto again = run_ethos({"key", "new", "--out", key});
  CHECK(again.exit_code == 64);
  CHECK_THAT(again.err, Contains("never overwritten"));
  std::filesystem::remove_all(dir);
}

TEST_CASE("ethos verify checks an intact log against its signed checkpoints") {
  SignedLog l;
  auto r = l.verify();
  INFO(r.out << r.err);
  CHECK(r.exit_code == 0);
  CHECK_THAT(r.out, Contains("ok: the log holds what 12 signed checkpoints"));
}

TEST_CASE("ethos verify names the row a tail deletion cut, from the anchor file") {
  SignedLog l;
  l.sql("DELETE FROM decisions WHERE seq > 4; DELETE FROM checkpoints WHERE seq > 4");
  CHECK(run_ethos({"verify", l.db}).exit_code == 0);  // the chain alone holds
  auto r = l.verify();
  INFO(r.out << r.err);
  CHECK(r.exit_code == 1);
  CHECK_THAT(r.out, Contains("broken chain (truncated): row 5 is gone") &&
                        Contains("anchors.jsonl:5") && Contains("the chain ends at row 4"));
  CHECK(r.out.find("row 0") == std::string::npos);
}

TEST_CASE("ethos verify refuses checkpoints under another public key") {
  SignedLog l;
  REQUIRE(run_ethos({"key", "new", "--out", l.dir + "/other.key"}).exit_code == 0);
  auto r = run_ethos({"verify", l.db, "--public-key", l.dir + "/other.key.pub"});
  INFO(r.out << r.err);
  CHECK(r.exit_code == 1);
  CHECK_THAT(r.out, Contains("checkpoint invalid") && Contains("not the given key"));
}

TEST_CASE("ethos verify --expect-head passes the recorded head and names a rewritten one") {
  SignedLog l;
  auto v = run_ethos({"verify", l.db, "--json"});
  REQUIRE(v.exit_code == 0);
  std::string head = nlohmann::json::parse(v.out)["head"];
  CHECK(run_ethos({"verify", l.db, "--expect-head", "6:" + head}).exit_code == 0);
  auto bad = run_ethos({"verify", l.db, "--expect-head", "5:" + head});
  CHECK(bad.exit_code == 1);
  CHECK_THAT(bad.out, Contains("(row 5) has hash") && Contains("the expected head"));
  auto syntax = run_ethos({"verify", l.db, "--expect-head", "six:" + head});
  CHECK(syntax.exit_code == 64);
  CHECK_THAT(syntax.err, Contains("is not SEQ:HASH"));
}

TEST_CASE("ethos verify names the line of a malformed checkpoint") {
  SignedLog l;
  std::ofstream(l.anchors, std::ios::app) << "{\"chain\": \"\"}\n";
  auto r = l.verify();
  CHECK(r.exit_code == 4);
  CHECK_THAT(r.err, Contains("anchors.jsonl:7: `head` must be a string"));
}

TEST_CASE("ethos eval --record refuses a log whose every row was deleted, and records nothing") {
  SignedLog l;
  l.sql("DELETE FROM decisions");
  auto r = l.record(1);
  INFO(r.out << r.err);
  CHECK(r.exit_code == 70);
  CHECK_THAT(r.err, Contains("is damaged") && Contains("every row was removed") &&
                        Contains("ethos verify"));
  ethos::sql::Database raw(l.db, ethos::sql::OpenMode::kRead);
  CHECK(raw.query_int("SELECT count(*) FROM decisions") == 0);
}

TEST_CASE("ethos log reports a row whose decision is not JSON as damage, not an exception") {
  SignedLog l;
  l.sql("UPDATE decisions SET reasons = 'not json' WHERE seq = 3");
  auto r = run_ethos({"log", l.db});
  INFO(r.err);
  CHECK(r.exit_code == 70);
  CHECK_THAT(r.err, Contains("(row 3) is damaged") && Contains("ethos verify"));
  CHECK(r.err.find("json.exception") == std::string::npos);
}
