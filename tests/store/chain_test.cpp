// The hash chain: verify() finds the first altered, removed or reordered
// decision and names it.
#include <catch2/catch.hpp>

#include <ethos/log/sqlite.hpp>
#include "store_support.hpp"

using namespace ethos;
using namespace ethos::testing;
using Catch::Matchers::Contains;

namespace {

struct RecordedLog {
  std::string dir, path;
  std::vector<std::string> ids;  // in chain order
  ~RecordedLog() { std::filesystem::remove_all(dir); }
};

// Twelve decisions, the log closed (so the WAL is checkpointed into the file).
void make_log(RecordedLog& r) {
  r.dir = temp_dir();
  r.path = log_path(r.dir);
  auto b = store_bundle();
  DecisionLog log(r.path, writer_options());
  r.ids = record_run(log, *b, 12);
}

VerifyReport verify(const std::string& path) {
  LogOptions o;
  o.read_only = true;
  return DecisionLog(path, o).verify();
}

void sql_edit(const std::string& path, const std::string& statements) {
  sql::Database raw(path, sql::OpenMode::kReadWrite);
  raw.exec(statements);
}

}  // namespace

TEST_CASE("an untouched log verifies, counting every decision and bundle") {
  RecordedLog r;
  make_log(r);
  auto v = verify(r.path);
  CHECK(v.ok());
  CHECK(v.decisions == 12);
  CHECK(v.bundles == 1);
  CHECK(v.head.size() == 64);
}

TEST_CASE("one byte altered in the file is reported as an altered decision with its id") {
  RecordedLog r;
  make_log(r);
  std::string bytes = slurp_file(r.path);
  // The stored request of the sixth decision starts with its own request id.
  const std::string marker = R"(["r-5")";
  size_t at = bytes.find(marker);
  REQUIRE(at != std::string::npos);
  REQUIRE(bytes.find(marker, at + 1) == std::string::npos);
  bytes[at + marker.size() - 2] = '6';  // "r-5" -> "r-6"
  std::ofstream(r.path, std::ios::binary | std::ios::trunc) << bytes;
  auto v = verify(r.path);
  REQUIRE_FALSE(v.ok());
  CHECK(v.first_break->kind == ChainBreak::Kind::kAltered);
  CHECK(v.first_break->decision_id == r.ids[5]);
  CHECK(v.first_break->seq == 6);
  CHECK_THAT(v.first_break->message, Contains("was altered"));
}

TEST_CASE("a deleted decision is reported at the decision that follows the gap") {
  RecordedLog r;
  make_log(r);
  sql_edit(r.path, "DELETE FROM decisions WHERE id = '" + r.ids[4] + "'");
  auto v = verify(r.path);
  REQUIRE_FALSE(v.ok());
  CHECK(v.first_break->kind == ChainBreak::Kind::kRemoved);
  CHECK(v.first_break->decision_id == r.ids[5]);
  CHECK_THAT(v.first_break->message, Contains("does not follow decision `" + r.ids[3] + "`"));
  CHECK(v.decisions == 11);
}

TEST_CASE("a deleted first decision is reported at the new first row") {
  RecordedLog r;
  make_log(r);
  sql_edit(r.path, "DELETE FROM decisions WHERE id = '" + r.ids[0] + "'");
  auto v = verify(r.path);
  REQUIRE_FALSE(v.ok());
  CHECK(v.first_break->kind == ChainBreak::Kind::kRemoved);
  CHECK(v.first_break->decision_id == r.ids[1]);
}

TEST_CASE("two swapped decisions are reported as reordered at the first one out of place") {
  RecordedLog r;
  make_log(r);
  // Rows 4 and 5 (ids[3], ids[4]) exchange places in the table.
  sql_edit(r.path,
           "UPDATE decisions SET seq = -1 WHERE seq = 4;"
           "UPDATE decisions SET seq = 4 WHERE seq = 5;"
           "UPDATE decisions SET seq = 5 WHERE seq = -1;");
  auto v = verify(r.path);
  REQUIRE_FALSE(v.ok());
  CHECK(v.first_break->kind == ChainBreak::Kind::kReordered);
  CHECK(v.first_break->decision_id == r.ids[4]);
  CHECK(v.first_break->seq == 4);
  CHECK_THAT(v.first_break->message, Contains("recorded after decision `" + r.ids[3] + "`"));
}

TEST_CASE("a decision altered and rehashed in place is caught at the next decision") {
  RecordedLog r;
  make_log(r);
  // An editor who recomputes the altered row's own hash still breaks the link to it.
  LogEntry e;
  {
    LogOptions o;
    o.read_only = true;
    e = *DecisionLog(r.path, o).find(r.ids[1]);
  }
  e.decision.outcome = e.decision.outcome == "permit" ? "deny" : "permit";
  std::string rehashed = chain_hash(e.prev_hash, content_hash(e));
  sql_edit(r.path, "UPDATE decisions SET outcome = '" + e.decision.outcome + "', hash = '" +
                       rehashed + "' WHERE id = '" + r.ids[1] + "'");
  auto v = verify(r.path);
  REQUIRE_FALSE(v.ok());
  CHECK(v.first_break->decision_id == r.ids[2]);
  CHECK(v.first_break->kind == ChainBreak::Kind::kRemoved);
  CHECK_THAT(v.first_break->message, Contains("or that one was rewritten"));
}

TEST_CASE("an altered bundle text is reported even when every decision is intact") {
  RecordedLog r;
  make_log(r);
  sql_edit(r.path, "UPDATE bundles SET canonical_text = replace(canonical_text, '30', '90')");
  auto v = verify(r.path);
  REQUIRE_FALSE(v.ok());
  CHECK(v.first_break->kind == ChainBreak::Kind::kBundleAltered);
  CHECK_THAT(v.first_break->message, Contains("was altered"));
}

TEST_CASE("ethos verify exits 1 and names the first broken decision") {
  RecordedLog r;
  make_log(r);
  auto ok = run_ethos({"verify", r.path});
  CHECK(ok.exit_code == 0);
  CHECK_THAT(ok.out, Contains("ok: 12 decisions"));
  sql_edit(r.path, "DELETE FROM decisions WHERE id = '" + r.ids[7] + "'");
  auto broken = run_ethos({"verify", r.path});
  CHECK(broken.exit_code == 1);
  CHECK_THAT(broken.out, Contains("broken chain (removed)"));
  CHECK_THAT(broken.out, Contains(r.ids[8]));
  auto json = run_ethos({"verify", "--json", r.path});
  CHECK(json.exit_code == 1);
  auto j = nlohmann::json::parse(json.out);
  CHECK(j["ok"] == false);
  CHECK(j["first_break"]["decision_id"] == r.ids[8]);
}

TEST_CASE(
    "ethos verify --json names an intact chain's first_break null, as GET /v1/log/verify does") {
  RecordedLog r;
  make_log(r);
  auto json = run_ethos({"verify", "--json", r.path});
  CHECK(json.exit_code == 0);
  auto j = nlohmann::json::parse(json.out);
  CHECK(j["ok"] == true);
  REQUIRE(j.contains("first_break"));
  CHECK(j["first_break"].is_null());
  CHECK_FALSE(j.contains("break"));
}
