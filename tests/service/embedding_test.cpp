// The C++ API that `ethos serve` uses, as an app embeds it: the example of
// docs/embedding.md compiled and run, and the Service driven directly.
#include <catch2/catch.hpp>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "decision_log.hpp"
#include "privacy.hpp"
#include "server_fixture.hpp"
#include "service.hpp"
#include "support.hpp"

using ethos::testing::example_request;
using json = nlohmann::json;

namespace {

ethos::ServiceOptions options_for(const std::string& log) {
  ethos::ServiceOptions o;
  o.policy_paths = {ethos::testing::source_dir() + "/policies"};
  o.log_path = log;
  o.log.key = ethos::insecure_dev_log_key();
  return o;
}

}  // namespace

TEST_CASE("the embedding example of docs/embedding.md decides, records and exits 0", "[embed]") {
  std::string dir = ethos::testing::temp_dir();
  std::string log = dir + "/embed.db";
  std::string examples = ethos::testing::source_dir() + "/policies/examples/";
  std::string cmd =
      std::string(ETHOS_EMBED_EXAMPLE) + " '" + ethos::testing::source_dir() + "/policies' '" +
      log + "' '" + examples + "01-session-summary-enterprise-baa.json' '" + examples +
      "02-consumer-chatbot-identifiable-notes.json' '" + examples +
      "04-self-harm-signal-patient-chat.json' > '" + dir + "/out.txt' 2> '" + dir + "/err.txt'";
  int rc = std::system(cmd.c_str());
  std::string out = ethos::testing::slurp_file(dir + "/out.txt");
  INFO(out << ethos::testing::slurp_file(dir + "/err.txt"));
  REQUIRE(rc == 0);
  std::istringstream lines(out);
  std::vector<std::string> ids, outcomes;
  std::string id, outcome, rest;
  while (lines >> id >> outcome) {
    ids.push_back(id);
    outcomes.push_back(outcome);
    std::getline(lines, rest);
  }
  REQUIRE(ids.size() == 3);
  CHECK(outcomes[0] == "permit");
  CHECK(outcomes[1] == "deny");
  ethos::LogOptions ro;
  ro.read_only = true;
  ethos::DecisionLog dl(log, ro);
  CHECK(dl.count() == 3);
  for (const auto& i : ids) CHECK(dl.find(i).has_value());
  std::filesystem::remove_all(dir);
}

TEST_CASE("a Session decides and records; the Service reads the log back", "[embed]") {
  std::string dir = ethos::testing::temp_dir();
  {
    ethos::Service service(options_for(dir + "/log.db"));
    ethos::Session session(service);
    ethos::DecideResult r =
        session.decide(example_request("02-consumer-chatbot-identifiable-notes.json"));
    REQUIRE(r.ok());
    REQUIRE(r.decided.size() == 1);
    CHECK(r.decided[0].outcome == ethos::Outcome::kDeny);
    json d = json::parse(r.reply.body);
    CHECK(d["decision_id"] == r.decided[0].decision_id);
    ethos::Reply back = service.decision(r.decided[0].decision_id);
    CHECK(back.status == 200);
    CHECK(json::parse(back.body)["decision"]["outcome"] == "deny");

    ethos::DecideResult bad = session.decide(R"({"request_id": 7})");
    CHECK(bad.reply.status == 400);
    CHECK(bad.reply.error == ethos::ErrorCode::kInvalidRequest);
    CHECK(json::parse(bad.reply.body)["error"]["path"] == "$.request_id");
    CHECK(bad.decided.empty());

    ethos::Reply v = service.verify();
    CHECK(json::parse(v.body)["decisions"] == 1);
    service.drain();
    CHECK(service.ready().status == 503);
    CHECK(session.decide(example_request("01-session-summary-enterprise-baa.json")).reply.status ==
          503);
  }
  std::filesystem::remove_all(dir);
}

TEST_CASE("without a log the Service still decides, with ids derived from the request", "[embed]") {
  ethos::ServiceOptions o = options_for("");
  ethos::Service service(std::move(o));
  ethos::Session session(service);
  auto a = session.decide(example_request("01-session-summary-enterprise-baa.json"));
  auto b = session.decide(example_request("01-session-summary-enterprise-baa.json"));
  REQUIRE(a.ok());
  CHECK(a.decided[0].decision_id == b.decided[0].decision_id);
  CHECK(service.decisions({}).status == 404);
}

TEST_CASE("sessions on many threads share one Service across a reload", "[embed]") {
  std::string dir = ethos::testing::temp_dir();
  std::filesystem::copy(ethos::testing::source_dir() + "/policies", dir + "/policies",
                        std::filesystem::copy_options::recursive);
  ethos::ServiceOptions o = options_for(dir + "/log.db");
  o.policy_paths = {dir + "/policies"};
  ethos::Service service(std::move(o));
  std::string h0 = service.active()->bundle.hash;
  std::atomic<int> ok{0}, bad{0};
  std::vector<std::thread> threads;
  std::string request = example_request("01-session-summary-enterprise-baa.json");
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&] {
      ethos::Session s(service);
      for (int i = 0; i < 200; ++i) (s.decide(request).ok() ? ok : bad)++;
    });
  std::string file = dir + "/policies/privacy.ethos";
  ethos::testing::write_file(file, ethos::testing::slurp_file(file) + "\n// touched\n");
  ethos::Reply r = service.reload();
  for (auto& t : threads) t.join();
  CHECK(r.status == 200);
  CHECK(service.active()->bundle.hash != h0);
  CHECK(ok == 800);
  CHECK(bad == 0);
  service.drain();
  CHECK(json::parse(service.verify().body)["decisions"] == 800);
  std::filesystem::remove_all(dir);
}
