// The embedding API (engine/api/engine.hpp): typed decisions, errors with
// their place, thread safety, recording and replay.
#include <unistd.h>
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include <ethos/api/engine.hpp>
#include <ethos/eval/evaluator.hpp>
#include <ethos/eval/request.hpp>
#include <ethos/log/privacy.hpp>

#include "support.hpp"

namespace fs = std::filesystem;
using ethos::api::Engine;

namespace {

fs::path source_dir() {
  const char* dir = std::getenv("ETHOS_SOURCE_DIR");
  return dir ? fs::path(dir) : fs::current_path();
}

std::string read(const fs::path& p) {
  std::ifstream f(p);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

const Engine& shipped() {
  static const Engine engine = Engine::load({(source_dir() / "policies").string()});
  return engine;
}

std::vector<std::string> example_requests() {
  std::vector<std::string> out;
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(source_dir() / "policies/examples"))
    if (e.path().extension() == ".json") files.push_back(e.path());
  std::sort(files.begin(), files.end());
  for (const auto& f : files) out.push_back(read(f));
  return out;
}

// The engine's own JSON for the same request (the writer `ethos eval --json` uses).
nlohmann::json engine_json(const Engine& engine, const std::string& request,
                           const std::string& decision_id,
                           ethos::TraceMode trace = ethos::TraceMode::kNone) {
  const auto& policy = engine.bundle().policy;
  ethos::RequestBinder binder(*policy);
  ethos::BoundRequest bound;
  ethos::BindError error;
  REQUIRE(binder.bind(request, bound, error));
  ethos::Evaluator ev(policy);
  ethos::Decision d = ev.evaluate(bound);
  ethos::DecisionFormat fmt;
  fmt.decision_id = decision_id;
  fmt.bundle_hash = engine.bundle_hash();
  fmt.trace_mode = trace;
  return nlohmann::json::parse(ethos::decision_json(*policy, d, fmt));
}

}  // namespace

TEST_CASE("the typed decision of a shipped example names its outcome, reasons and obligations") {
  auto d = shipped().evaluate(
      read(source_dir() / "policies/examples/02-consumer-chatbot-identifiable-notes.json"));
  CHECK(d.outcome == ethos::Outcome::kDeny);
  CHECK(d.request_id == "r-2026-000102");
  REQUIRE_FALSE(d.reasons.empty());
  bool baa = false;
  for (const auto& r : d.reasons)
    if (r.rule == "privacy.baa_required") {
      baa = true;
      CHECK(r.effect == ethos::Effect::kForbid);
      CHECK_FALSE(r.unknown);
      CHECK(r.citations.front() == "HIPAA Privacy and Security Rules, 45 CFR \u00a7 164.502(e)");
      CHECK_FALSE(r.because.empty());
    }
  CHECK(baa);
  CHECK(d.bundle_hash == shipped().bundle_hash());
}

TEST_CASE("to_json of a typed decision equals the engine's decision JSON for every example") {
  for (const auto& request : example_requests()) {
    auto d = shipped().evaluate(request, {.trace = ethos::TraceMode::kNone});
    auto expected = engine_json(shipped(), request, d.decision_id);
    auto got = nlohmann::json::parse(ethos::api::to_json(d));
    INFO(request);
    CHECK(got == expected);
  }
}

TEST_CASE("to_json of a typed decision carries the engine's trace in each trace mode") {
  for (auto mode : {ethos::TraceMode::kFull, ethos::TraceMode::kCompact}) {
    for (const auto& request : example_requests()) {
      auto d = shipped().evaluate(request, {.trace = mode});
      INFO(ethos::trace_mode_name(mode) << ": " << request);
      CHECK(nlohmann::json::parse(ethos::api::to_json(d)) ==
            engine_json(shipped(), request, d.decision_id, mode));
    }
  }
}

TEST_CASE("a typed decision's default trace holds the rules that decided and counts the rest") {
  auto d = shipped().evaluate(
      read(source_dir() / "policies/examples/12-imminent-threat-disclosure.json"));
  CHECK(d.trace_mode == ethos::TraceMode::kCompact);
  bool overridden = false;
  for (const auto& t : d.trace) {
    CHECK(t.status != ethos::RuleStatus::kNotFired);
    CHECK(t.status != ethos::RuleStatus::kNotApplicable);
    overridden = overridden || t.status == ethos::RuleStatus::kOverridden;
  }
  CHECK(overridden);
  CHECK(d.trace.size() + d.trace_not_fired + d.trace_not_applicable ==
        shipped().bundle().policy->rules.size());
  CHECK(d.trace_not_fired > 0);
  auto full = shipped().evaluate(
      read(source_dir() / "policies/examples/12-imminent-threat-disclosure.json"),
      {.trace = ethos::TraceMode::kFull});
  CHECK(full.trace.size() == shipped().bundle().policy->rules.size());
}

TEST_CASE("a request that does not fit the schema throws RequestError with its JSON path") {
  nlohmann::json r = nlohmann::json::parse(
      read(source_dir() / "policies/examples/01-session-summary-enterprise-baa.json"));
  r["patient"]["age"] = "old";
  try {
    (void)shipped().evaluate(r.dump());
    FAIL("no RequestError");
  } catch (const ethos::api::RequestError& e) {
    CHECK(e.path() == "$.patient.age");
  }
}

TEST_CASE("an nlohmann::json request is decided as its written-out text is decided") {
  for (const auto& request : example_requests()) {
    const nlohmann::json value = nlohmann::json::parse(request);
    auto from_value = shipped().evaluate(value, {.trace = ethos::TraceMode::kFull});
    auto from_text =
        shipped().evaluate(std::string_view(value.dump()), {.trace = ethos::TraceMode::kFull});
    INFO(request);
    CHECK(ethos::api::to_json(from_value) == ethos::api::to_json(from_text));
    CHECK(from_value.outcome == shipped().evaluate(request).outcome);
  }
}

TEST_CASE(
    "an nlohmann::json request that does not fit the schema throws RequestError with its path") {
  nlohmann::json r = nlohmann::json::parse(
      read(source_dir() / "policies/examples/01-session-summary-enterprise-baa.json"));
  r["patient"]["age"] = "old";
  try {
    (void)shipped().evaluate(r);
    FAIL("no RequestError");
  } catch (const ethos::api::RequestError& e) {
    CHECK(e.path() == "$.patient.age");
  }
}

TEST_CASE("a policy that does not compile throws PolicyError with the rendered diagnostics") {
  try {
    (void)Engine::load_texts(
        {{"schema.ethos", ethos::testing::kTestSchema},
         {"p.ethos",
          "module m \"m\"\nrule a: forbid when patient.agee > 3 because \"x\" cite \"y\"\n"}});
    FAIL("no PolicyError");
  } catch (const ethos::api::PolicyError& e) {
    CHECK(std::string(e.what()).find("p.ethos:2:") != std::string::npos);
    CHECK(std::string(e.what()).find("unknown name `patient.agee`") != std::string::npos);
  }
}

TEST_CASE("the request builder sets nested fields by dotted path") {
  auto json = ethos::api::RequestBuilder()
                  .set("request_id", "r-1")
                  .set("patient.age", 34)
                  .set("patient.minor", false)
                  .set("data.categories", {"phi", "psychotherapy_notes"})
                  .json();
  CHECK(nlohmann::json::parse(json) ==
        nlohmann::json::parse(R"({"request_id":"r-1","patient":{"age":34,"minor":false},)"
                              R"("data":{"categories":["phi","psychotherapy_notes"]}})"));
}

TEST_CASE("one engine shared by four threads gives each request the same decision as one thread") {
  const auto requests = example_requests();
  std::vector<std::string> alone;
  for (const auto& r : requests) alone.push_back(ethos::api::to_json(shipped().evaluate(r)));
  std::vector<std::vector<std::string>> seen(4);
  std::vector<std::thread> threads;
  for (size_t t = 0; t < 4; ++t)
    threads.emplace_back([&, t] {
      for (int round = 0; round < 50; ++round)
        for (size_t k = 0; k < requests.size(); ++k) {
          size_t i = (k + t * 7) % requests.size();
          auto json = ethos::api::to_json(shipped().evaluate(requests[i]));
          if (json != alone[i]) seen[t].push_back(json);
        }
    });
  for (auto& th : threads) th.join();
  for (const auto& s : seen) CHECK(s.empty());
}

TEST_CASE("a recorded decision carries the log's id and replays to itself") {
  const fs::path dir = fs::temp_directory_path() / ("ethos-api-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  {
    ethos::LogOptions options;
    options.key = ethos::log_key_from_secret("0123456789abcdef0123456789abcdef");
    ethos::DecisionLog log((dir / "log.db").string(), options);
    auto requests = example_requests();
    auto first = shipped().record(log, requests[0]);
    auto second = shipped().record(log, requests[1]);
    CHECK(first.decision_id != second.decision_id);
    auto found = log.find(first.decision_id);
    REQUIRE(found);
    auto report = shipped().replay(log, false);
    CHECK(report.replayed == 2);
    CHECK(report.reproduced_all());
  }
  fs::remove_all(dir);
}
