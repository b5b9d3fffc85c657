// Signed checkpoints through `ethos serve`: GET /v1/log/head, and a damaged
// log that the service refuses to extend (503 log_unavailable, never a
// decision, never a row 1 over it).
#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <thread>

#include <ethos/log/sqlite.hpp>
#include "server_fixture.hpp"
#include "support.hpp"

using ethos::testing::example_request;
using ethos::testing::HttpResult;
using ethos::testing::ServeProcess;
using nlohmann::json;

namespace {

constexpr const char* kExample = "01-session-summary-enterprise-baa.json";

// A signing key made by `ethos key new` in a directory of its own.
struct KeyDir {
  std::string dir = ethos::testing::temp_dir();
  std::string key = dir + "/checkpoint.key";
  std::string anchor = dir + "/anchors.jsonl";
  KeyDir() {
    auto made = ethos::testing::run_ethos({"key", "new", "--out", key});
    INFO(made.err);
    REQUIRE(made.exit_code == 0);
  }
  ~KeyDir() { std::filesystem::remove_all(dir); }
  std::vector<std::string> serve_args() const {
    return {"--checkpoint-key", key, "--checkpoint-every-rows", "1", "--anchor-file", anchor};
  }
};

int64_t rows(const std::string& path) {
  ethos::sql::Database raw(path, ethos::sql::OpenMode::kRead);
  return raw.query_int("SELECT count(*) FROM decisions");
}

}  // namespace

TEST_CASE("GET /v1/log/head returns the newest signed checkpoint and the head, to auditors",
          "[serve][checkpoint]") {
  KeyDir k;
  ServeProcess s(k.serve_args());
  for (int i = 0; i < 3; ++i)
    REQUIRE(s.post("/v1/decide", example_request(kExample), s.decider).status == 200);
  // A decision is answered once committed; its checkpoint follows on the
  // writer thread, so wait until it is there.
  HttpResult r;
  json head;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  do {
    r = s.get("/v1/log/head", s.auditor);
    REQUIRE(r.status == 200);
    head = json::parse(r.body);
    if (head["checkpoint"].is_object() && head["checkpoint"]["seq"] == 3) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  } while (std::chrono::steady_clock::now() < deadline);
  INFO(r.body);
  CHECK(head["seq"] == 3);
  CHECK(head["checkpointing"] == true);
  CHECK(head["damage"].is_null());
  REQUIRE(head["checkpoint"].is_object());
  CHECK(head["checkpoint"]["seq"] == 3);
  CHECK(head["checkpoint"]["head"] == head["head"]);
  CHECK(head["checkpoint"]["signature_check"] == "verified");
  CHECK(head["checkpoint"]["signature"].get<std::string>().size() == 128);
  CHECK(head["checkpoint"]["matches"] == true);
  CHECK(s.get("/v1/log/head", s.decider).status == 403);
  CHECK(s.get("/v1/log/head").status == 401);
}

TEST_CASE("serve answers 503 log_unavailable over a log whose tail was cut, and records nothing",
          "[serve][checkpoint]") {
  KeyDir k;
  ServeProcess s(k.serve_args());
  for (int i = 0; i < 4; ++i)
    REQUIRE(s.post("/v1/decide", example_request(kExample), s.decider).status == 200);
  REQUIRE(s.stop() == 0);
  {
    ethos::sql::Database raw(s.log_path(), ethos::sql::OpenMode::kReadWrite);
    raw.exec("DELETE FROM decisions WHERE seq > 2");
  }
  s.start();
  HttpResult r = s.post("/v1/decide", example_request(kExample), s.decider);
  INFO(r.body);
  CHECK(r.status == 503);
  CHECK(json::parse(r.body)["error"]["code"] == "log_unavailable");
  CHECK_THAT(r.body, Catch::Contains("damaged"));
  CHECK(s.get("/readyz").status == 503);
  json head = json::parse(s.get("/v1/log/head", s.auditor).body);
  CHECK_THAT(head["damage"].get<std::string>(), Catch::Contains("removed from its tail"));
  // The chain alone holds; the checkpoints the log keeps show the cut.
  json v = json::parse(s.get("/v1/verify", s.auditor).body);
  CHECK(v["ok"] == false);
  CHECK(v["first_break"]["kind"] == "truncated");
  CHECK(v["first_break"]["seq"] == 3);
  REQUIRE(s.stop() == 0);
  CHECK(rows(s.log_path()) == 2);
}
