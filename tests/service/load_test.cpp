// A short burst from ethos-load over keep-alive: no request is lost or
// answered twice, and the log holds exactly the decisions answered. (The
// timed run is in docs/performance.md; this one checks correctness only.)
#include <catch2/catch.hpp>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include <ethos/log/decision_log.hpp>
#include "server_fixture.hpp"
#include "support.hpp"

namespace {

// Runs ethos-load against `s` with a decider token, `args` and the named
// example files; requires that it exits 0 and returns its JSON report.
nlohmann::json run_load(ethos::testing::ServeProcess& s, const std::string& args,
                        const std::vector<std::string>& example_files) {
  std::string token_file = s.dir() + "/decider.token";
  ethos::testing::write_file(token_file, s.decider + "\n");
  std::string out = s.dir() + "/load.json";
  std::string cmd = std::string(ETHOS_LOAD_BIN) + " --port " + std::to_string(s.port()) +
                    " --token-file '" + token_file + "' --json " + args;
  for (const auto& f : example_files)
    cmd += " '" + ethos::testing::source_dir() + "/policies/examples/" + f + "'";
  cmd += " > '" + out + "'";
  int rc = std::system(cmd.c_str());
  std::string report = ethos::testing::slurp_file(out);
  INFO(report);
  REQUIRE(rc == 0);
  return nlohmann::json::parse(report);
}

}  // namespace

TEST_CASE("under load every answered decision is in the log exactly once", "[serve][load]") {
  ethos::testing::ServeProcess s({"--threads", "8"});
  std::string ids = s.dir() + "/ids.txt";
  auto r =
      run_load(s, "-c 8 --seconds 1.5 --warmup 0.2 --ids-out '" + ids + "'",
               {"01-session-summary-enterprise-baa.json",
                "02-consumer-chatbot-identifiable-notes.json", "05-illinois-therapy-chatbot.json"});
  INFO(r.dump());
  CHECK(r["errors"] == 0);
  CHECK(r["duplicate_ids"] == 0);
  CHECK(r["decisions"].get<uint64_t>() > 0);
  CHECK(s.stop() == 0);

  std::ifstream f(ids);
  std::set<std::string> answered;
  std::string id;
  size_t lines = 0;
  while (std::getline(f, id)) {
    answered.insert(id);
    ++lines;
  }
  CHECK(lines == r["decisions"].get<size_t>());
  CHECK(answered.size() == lines);
  ethos::LogOptions ro;
  ro.read_only = true;
  ethos::DecisionLog log(s.log_path(), ro);
  CHECK(log.count() == answered.size());
  size_t found = 0;
  log.scan({}, [&](const ethos::LogEntry& e) {
    found += answered.count(e.id);
    return true;
  });
  CHECK(found == answered.size());
  CHECK(log.verify().ok());
}

TEST_CASE("ethos-load --unique-request-ids sends every request with a request_id of its own",
          "[serve][load]") {
  ethos::testing::ServeProcess s;
  // Batches of 3 of one file: three request_ids in each body, each made unique.
  auto r = run_load(s, "-c 4 --batch 3 --seconds 0.5 --warmup 0.1 --unique-request-ids",
                    {"01-session-summary-enterprise-baa.json"});
  INFO(r.dump());
  CHECK(r["errors"] == 0);
  CHECK(s.stop() == 0);
  ethos::LogOptions ro;
  ro.read_only = true;
  ethos::DecisionLog log(s.log_path(), ro);
  std::set<std::string> request_ids;
  size_t rows = 0;
  log.scan({}, [&](const ethos::LogEntry& e) {
    ++rows;
    request_ids.insert(e.request_id);
    CHECK(e.request_id.rfind("r-2026-000101-", 0) == 0);  // the file's id, then the serial
    return true;
  });
  CHECK(rows == r["decisions"].get<size_t>());
  CHECK(rows > 3);
  CHECK(request_ids.size() == rows);
}
