// Privacy of the log itself: @pseudonymize values are keyed hashes, @redact
// values are dropped, and neither raw value ever reaches the file.
#include <catch2/catch.hpp>
#include <cstdlib>

#include <ethos/base/hash.hpp>
#include <ethos/log/replay.hpp>
#include <ethos/log/stored_request.hpp>
#include "store_support.hpp"

using namespace ethos;
using namespace ethos::testing;
using Catch::Matchers::Contains;

namespace {

// Every byte SQLite wrote for the log: the file, and its WAL if one is left.
std::string file_bytes(const std::string& path) {
  std::string bytes = slurp_file(path);
  if (std::filesystem::exists(path + "-wal")) bytes += slurp_file(path + "-wal");
  return bytes;
}

LogOptions reader() {
  LogOptions o;
  o.read_only = true;
  return o;
}

}  // namespace

TEST_CASE("pseudonymised values never reach the log file's bytes, their keyed hashes do") {
  std::string dir = temp_dir(), path = log_path(dir);
  auto b = store_bundle();
  LogOptions o = writer_options();
  {
    DecisionLog log(path, o);
    record_run(log, *b, 20);
    // While open too: the WAL holds the rows before a checkpoint.
    CHECK(file_bytes(path).find("patient-secret") == std::string::npos);
  }
  std::string bytes = file_bytes(path);
  CHECK(bytes.find("patient-secret") == std::string::npos);
  std::string pseudonym = "ps-" + hmac_sha256_hex(o.key->secret, "patient-secret-3").substr(0, 32);
  CHECK(bytes.find(pseudonym) != std::string::npos);
  std::filesystem::remove_all(dir);
}

TEST_CASE("redacted fields never reach the log file's bytes") {
  std::string dir = temp_dir(), path = log_path(dir);
  auto b = store_bundle();
  {
    DecisionLog log(path, writer_options());
    record_run(log, *b, 20);
    CHECK(file_bytes(path).find("free text about patient") == std::string::npos);
  }
  std::string bytes = file_bytes(path);
  CHECK(bytes.find("free text about patient") == std::string::npos);
  std::filesystem::remove_all(dir);
}

TEST_CASE(
    "the stored request keeps a pseudonym's type, drops redacted fields, and replays exactly") {
  std::string dir = temp_dir(), path = log_path(dir);
  auto b = store_bundle();
  std::vector<std::string> ids;
  {
    DecisionLog log(path, writer_options());
    ids = record_run(log, *b, 12);
  }
  DecisionLog log(path, reader());
  auto e = log.find(ids[3]);
  REQUIRE(e);
  auto request = nlohmann::json::parse(expand_stored_request(b->policy->schema, e->request));
  REQUIRE(request["patient"]["id"].is_string());
  CHECK(request["patient"]["id"].get<std::string>().rfind("ps-", 0) == 0);
  CHECK(request["patient"]["note"] == "");
  CHECK_FALSE(request["patient"].contains("guardian_permission"));  // absent stays absent
  CHECK(request["request_id"] == "r-3");
  auto report = replay(log, {});
  CHECK(report.replayed == 12);
  CHECK(report.reproduced_all());
  std::filesystem::remove_all(dir);
}

TEST_CASE("equal values get equal pseudonyms under one key and different ones under another") {
  auto b = store_bundle();
  LogKey k1 = log_key_from_secret("first key, sixteen bytes or more");
  LogKey k2 = log_key_from_secret("second key, sixteen bytes or more");
  RequestPrivacy p1(*b->policy, k1), p1_again(*b->policy, k1), p2(*b->policy, k2);
  CHECK(p1.pseudonym("p-0088") == p1_again.pseudonym("p-0088"));
  CHECK(p1.pseudonym("p-0088") != p1.pseudonym("p-0089"));
  CHECK(p1.pseudonym("p-0088") != p2.pseudonym("p-0088"));
  CHECK(k1.id != k2.id);
}

TEST_CASE("recording without a key is refused unless the insecure development key is asked for") {
  const char* saved = std::getenv("ETHOS_LOG_KEY");
  std::string saved_value = saved ? saved : "";
  unsetenv("ETHOS_LOG_KEY");
  CHECK_THROWS_WITH(load_log_key({}), Contains("ETHOS_LOG_KEY"));
  CHECK(load_log_key({"", true}).insecure_dev);
  setenv("ETHOS_LOG_KEY", "key from the environment, long enough", 1);
  CHECK(load_log_key({"", true}).secret == "key from the environment, long enough");
  CHECK_THROWS_WITH(log_key_from_secret("short"), Contains("too short"));
  if (saved)
    setenv("ETHOS_LOG_KEY", saved_value.c_str(), 1);
  else
    unsetenv("ETHOS_LOG_KEY");

  std::string dir = temp_dir();
  LogOptions no_key;
  CHECK_THROWS_WITH(DecisionLog(log_path(dir), no_key), Contains("needs a key"));
  auto run = run_ethos(
      {"eval", "--policies", source_dir() + "/policies", "--record", log_path(dir, "cli.db"),
       source_dir() + "/policies/examples/01-session-summary-enterprise-baa.json"});
  if (!saved) {
    CHECK(run.exit_code == 64);
    CHECK_THAT(run.err, Contains("no key to pseudonymise"));
    CHECK_FALSE(std::filesystem::exists(log_path(dir, "cli.db")));
  }
  std::filesystem::remove_all(dir);
}

TEST_CASE("a log refuses a key other than the one it was started with") {
  std::string dir = temp_dir(), path = log_path(dir);
  { DecisionLog log(path, writer_options()); }
  LogOptions other;
  other.key = log_key_from_secret("another key of at least sixteen bytes");
  CHECK_THROWS_WITH(DecisionLog(path, other), Contains("use the key this log was started with"));
  std::filesystem::remove_all(dir);
}

TEST_CASE("a rule that tests only a redacted field's presence replays exactly") {
  auto b = store_bundle(
      "module notes \"Notes\"\nrule no_free_text: forbid when patient.note is present"
      " because \"free text may not be sent\" cite \"committee\"\n"
      "rule otherwise: permit because \"fine\" cite \"committee\"\n");
  CHECK(RequestPrivacy(*b->policy, insecure_dev_log_key()).sensitive_reads().empty());
  std::string dir = temp_dir(), path = log_path(dir);
  {
    DecisionLog log(path, writer_options());
    record_run(log, *b, 4);
  }
  DecisionLog log(path, reader());
  auto report = replay(log, {});
  CHECK(report.reproduced == 4);
  CHECK(report.reproduced_all());
  std::filesystem::remove_all(dir);
}

TEST_CASE(
    "a decision that depended on a redacted field's value does not replay, and the replay says "
    "why") {
  // Documented limit: a rule that reads a redacted value sees the placeholder on replay.
  auto b = store_bundle(
      "module notes \"Notes\"\nrule no_free_text: forbid when patient.note != \"\""
      " because \"free text may not be sent\" cite \"committee\"\n"
      "rule otherwise: permit because \"fine\" cite \"committee\"\n");
  CHECK(RequestPrivacy(*b->policy, insecure_dev_log_key()).sensitive_reads() ==
        std::vector<std::string>{"patient.note"});
  std::string dir = temp_dir(), path = log_path(dir);
  std::vector<std::string> ids;
  {
    DecisionLog log(path, writer_options());
    ids = record_run(log, *b, 2);  // both requests carry a note: deny
  }
  DecisionLog log(path, reader());
  auto report = replay(log, {});
  REQUIRE(report.differences.size() == 2);
  CHECK(report.differences[0].decision_id == ids[0]);
  CHECK_THAT(report.differences[0].fields, Contains("outcome"));
  CHECK_THAT(report.differences[0].note, Contains("patient.note"));
  std::filesystem::remove_all(dir);
}
