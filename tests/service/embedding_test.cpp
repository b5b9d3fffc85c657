// The C++ API that `ethos serve` uses, as an app embeds it: the example of
// docs/embedding.md compiled and run, and the Service driven directly.
#include <catch2/catch.hpp>
#include <condition_variable>
#include <filesystem>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <thread>

#include <ethos/log/decision_log.hpp>
#include <ethos/log/privacy.hpp>
#include <ethos/service/service.hpp>
#include "server_fixture.hpp"
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

TEST_CASE("a Session decides and records, and the Service reads the log back", "[embed]") {
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

namespace {

// Runs decide_async and waits (here, in the test) for its answer.
struct AsyncAnswer {
  std::mutex mu;
  std::condition_variable cv;
  std::optional<ethos::DecideResult> result;
  std::thread::id answered_on;
  ethos::DecideResult wait() {
    std::unique_lock lk(mu);
    REQUIRE(cv.wait_for(lk, std::chrono::seconds(30), [&] { return result.has_value(); }));
    return std::move(*result);
  }
  std::function<void(ethos::DecideResult)> callback() {
    return [this](ethos::DecideResult r) {
      std::lock_guard lk(mu);
      result = std::move(r);
      answered_on = std::this_thread::get_id();
      cv.notify_all();
    };
  }
};

}  // namespace

TEST_CASE("decide_async answers a batch once every decision of it is committed", "[embed]") {
  std::string dir = ethos::testing::temp_dir();
  {
    ethos::Service service(options_for(dir + "/log.db"));
    ethos::Session session(service);
    std::string batch = "[" + example_request("01-session-summary-enterprise-baa.json") + "," +
                        example_request("02-consumer-chatbot-identifiable-notes.json") + "]";
    AsyncAnswer answer;
    {
      std::string body = batch;  // the body need not outlive the call
      session.decide_async(body, {}, answer.callback());
    }
    ethos::DecideResult r = answer.wait();
    REQUIRE(r.ok());
    REQUIRE(r.decided.size() == 2);
    CHECK(r.decided[0].outcome == ethos::Outcome::kPermit);
    CHECK(r.decided[1].outcome == ethos::Outcome::kDeny);
    // Answered from the log's writer, after the commit: another connection sees both.
    CHECK(answer.answered_on != std::this_thread::get_id());
    ethos::LogOptions ro;
    ro.read_only = true;
    ethos::DecisionLog reader(dir + "/log.db", ro);
    for (const auto& d : r.decided) CHECK(reader.find(d.decision_id).has_value());
    json body = json::parse(r.reply.body);
    CHECK(body["decisions"][1]["decision_id"] == r.decided[1].decision_id);

    // An error before recording is answered at once, on the calling thread.
    AsyncAnswer bad;
    session.decide_async(R"({"request_id": 7})", {}, bad.callback());
    ethos::DecideResult e = bad.wait();
    CHECK(e.reply.status == 400);
    CHECK(bad.answered_on == std::this_thread::get_id());
    CHECK(reader.count() == 2);
  }
  std::filesystem::remove_all(dir);
}

TEST_CASE("decide_async answers 503 and no decision when the log cannot record it", "[embed]") {
  std::string dir = ethos::testing::temp_dir();
  {
    ethos::ServiceOptions o = options_for(dir + "/log.db");
    // A cap of 48 pages: the log fills up after some decisions, as on a full disk.
    o.log.max_page_count = 48;
    ethos::Service service(std::move(o));
    ethos::Session session(service);
    std::string request = example_request("01-session-summary-enterprise-baa.json");
    int refused = 0, decided = 0;
    for (int i = 0; i < 3000 && refused == 0; ++i) {
      AsyncAnswer answer;
      session.decide_async(request, {}, answer.callback());
      ethos::DecideResult r = answer.wait();
      if (r.reply.status == 503) {
        ++refused;
        CHECK(r.decided.empty());
        CHECK(r.reply.body.find("\"outcome\"") == std::string::npos);
        CHECK(json::parse(r.reply.body)["error"]["code"] == "log_unavailable");
      } else {
        REQUIRE(r.ok());
        ++decided;
      }
    }
    CHECK(refused == 1);
    CHECK(decided > 0);
    CHECK(service.ready().status == 503);
    ethos::LogOptions ro;
    ro.read_only = true;
    CHECK(ethos::DecisionLog(dir + "/log.db", ro).count() == static_cast<uint64_t>(decided));
  }
  std::filesystem::remove_all(dir);
}
