// End-to-end tests of the ethos binary with real files and exit codes.
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "support.hpp"

using namespace ethos::testing;
using Catch::Matchers::Contains;

namespace {
std::string pack() { return source_dir() + "/policies"; }
std::string example(const std::string& name) { return pack() + "/examples/" + name; }

std::string write_policy_dir(const std::string& policy) {
  std::string dir = temp_dir();
  std::ofstream(dir + "/schema.ethos") << kTestSchema;
  std::ofstream(dir + "/policy.ethos") << policy;
  return dir;
}
}  // namespace

TEST_CASE("ethos check exits 0 on the shipped pack") {
  auto r = run_ethos({"check", pack()});
  INFO(r.err);
  CHECK(r.exit_code == 0);
  CHECK_THAT(r.out, Contains("ok: "));
}

TEST_CASE("ethos check exits 1 and prints every error with line:col and carets") {
  std::string dir = write_policy_dir(
      "module m \"M\"\nrule a: forbid when patient.agee > 3 because \"x\" cite \"y\"\n"
      "rule b: forbid when patient.age > \"x\" because \"x\" cite \"y\"\n"
      "rule c: forbid when patient.opted_out cite \"y\"\n");
  auto r = run_ethos({"check", dir});
  CHECK(r.exit_code == 1);
  CHECK_THAT(r.err, Contains("policy.ethos:2:21: error: unknown name `patient.agee`"));
  CHECK_THAT(r.err, Contains("policy.ethos:3:21: error: cannot compare `int` `>` `string`"));
  CHECK_THAT(r.err, Contains("policy.ethos:4:6: error: rule `m.c` has no `because`"));
  CHECK_THAT(r.err, Contains("^~~~"));
  CHECK_THAT(r.err, Contains("3 errors, 0 warnings"));
  std::filesystem::remove_all(dir);
}

TEST_CASE("ethos check --json prints diagnostics as JSON") {
  std::string dir =
      write_policy_dir("module m \"M\"\nrule a: forbid when nope because \"x\" cite \"y\"\n");
  auto r = run_ethos({"check", "--json", dir});
  CHECK(r.exit_code == 1);
  auto j = nlohmann::json::parse(r.err);
  REQUIRE(j.size() == 1);
  CHECK(j[0]["file"] == "policy.ethos");
  CHECK(j[0]["line"] == 2);
  CHECK(j[0]["col"] == 21);
  CHECK(j[0]["severity"] == "error");
  std::filesystem::remove_all(dir);
}

TEST_CASE("ethos eval prints the outcome first, then reasons with citations") {
  auto r = run_ethos(
      {"eval", "--policies", pack(), example("02-consumer-chatbot-identifiable-notes.json")});
  INFO(r.err);
  CHECK(r.exit_code == 0);
  CHECK_THAT(r.out, Contains("DENY  "));
  CHECK_THAT(r.out, Contains("cite: "));
  CHECK_THAT(r.out, Contains("HIPAA Privacy and Security Rules, 45 CFR \u00a7 164.502(e)"));
}

TEST_CASE("ethos eval --exit-code maps permit, deny and escalate to 0, 2 and 3") {
  CHECK(run_ethos({"eval", "--exit-code", "--policies", pack(),
                   example("01-session-summary-enterprise-baa.json")})
            .exit_code == 0);
  CHECK(run_ethos({"eval", "--exit-code", "--policies", pack(),
                   example("02-consumer-chatbot-identifiable-notes.json")})
            .exit_code == 2);
  CHECK(run_ethos({"eval", "--exit-code", "--policies", pack(),
                   example("04-self-harm-signal-patient-chat.json")})
            .exit_code == 3);
}

TEST_CASE("ethos eval --json gives the documented decision shape") {
  auto r = run_ethos({"eval", "--json", "--policies", pack(),
                      example("11-minor-guardian-permission-unknown.json")});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  auto j = nlohmann::json::parse(r.out);
  for (const char* key : {"decision_id", "request_id", "time", "outcome", "bundle", "reasons",
                          "obligations", "advice", "overridden", "missing_facts", "trace"})
    CHECK(j.contains(key));
  CHECK(j["outcome"] == "deny");
  CHECK(j["missing_facts"] == nlohmann::json::array({"consent.guardian_permission"}));
  CHECK(j["reasons"][0]["status"] == "unknown");
}

TEST_CASE("ethos eval reads several requests from a JSON array on stdin") {
  std::ifstream a(example("01-session-summary-enterprise-baa.json")),
      b(example("04-self-harm-signal-patient-chat.json"));
  std::stringstream sa, sb;
  sa << a.rdbuf();
  sb << b.rdbuf();
  auto r = run_ethos({"eval", "--json", "--policies", pack(), "-"},
                     "[" + sa.str() + "," + sb.str() + "]");
  INFO(r.err);
  CHECK(r.exit_code == 0);
  std::stringstream lines(r.out);
  std::string line;
  std::vector<std::string> outcomes;
  while (std::getline(lines, line)) outcomes.push_back(nlohmann::json::parse(line)["outcome"]);
  CHECK(outcomes == std::vector<std::string>{"permit", "escalate"});
}

TEST_CASE("ethos eval names the JSON path of a bad request and exits 4") {
  auto r = run_ethos({"eval", "--policies", pack(), "-"}, R"({"request_id": "r", "time": 5})");
  CHECK(r.exit_code == 4);
  CHECK_THAT(r.err, Contains("$.time: expected a timestamp string"));
}

TEST_CASE("ethos graph writes DOT with every rule") {
  auto r = run_ethos({"graph", pack()});
  REQUIRE(r.exit_code == 0);
  CHECK_THAT(r.out, Contains("digraph ethos"));
  CHECK_THAT(r.out, Contains("privacy."));
}

TEST_CASE("ethos graph --format svg renders through Graphviz") {
  if (std::system("command -v dot >/dev/null 2>&1") != 0) {
    WARN("Graphviz is not installed; skipping the SVG check");
    return;
  }
  auto r = run_ethos({"graph", "--format", "svg", pack()});
  REQUIRE(r.exit_code == 0);
  CHECK_THAT(r.out, Contains("<svg"));
}

TEST_CASE("every command has --help with an example") {
  for (const char* cmd : {"check", "eval", "graph", "test", "bench"}) {
    auto r = run_ethos({cmd, "--help"});
    INFO(cmd);
    CHECK(r.exit_code == 0);
    CHECK_THAT(r.out, Contains("Example:"));
  }
}

TEST_CASE("an unknown command is a usage error") {
  CHECK(run_ethos({"frobnicate"}).exit_code == 64);
}

TEST_CASE("an unknown command is named with the closest command and exits 64") {
  auto r = ethos::testing::run_ethos({"chek", "policies"});
  CHECK(r.exit_code == 64);
  CHECK(r.err.find("ethos: unknown command `chek`") != std::string::npos);
  CHECK(r.err.find("help: did you mean `check`?") != std::string::npos);
}

TEST_CASE("ethos test --json reports every test and the coverage as one JSON document") {
  auto r = ethos::testing::run_ethos({"test", "policies", "--json", "--coverage", "--min", "100"});
  CHECK(r.exit_code == 0);
  auto j = nlohmann::json::parse(r.out);
  CHECK(j["ok"] == true);
  CHECK(j["failed"] == 0);
  CHECK(j["passed"].get<size_t>() == j["tests"].size());
  CHECK(j["tests"].size() > 10);
  CHECK(j["tests"][0].contains("file"));
  CHECK(j["coverage"]["meets_min"] == true);
  CHECK(j["coverage"]["by_rule"].size() == j["coverage"]["rules"].get<size_t>());
}

TEST_CASE("a request written for the schema before purposes were a set is refused with its path") {
  std::ifstream f(example("01-session-summary-enterprise-baa.json"));
  auto j = nlohmann::json::parse(f);
  j["purpose"]["category"] = "summarization";
  j["purpose"].erase("categories");
  auto r = run_ethos({"eval", "--policies", pack(), "-"}, j.dump());
  CHECK(r.exit_code == 4);
  CHECK_THAT(r.err, Contains("$.purpose.category: unknown field `category`"));
  j = nlohmann::json::parse(std::ifstream(example("01-session-summary-enterprise-baa.json")));
  j["patient"]["may_self_consent"] = true;
  j["patient"].erase("legal_authority_to_consent");
  r = run_ethos({"eval", "--policies", pack(), "-"}, j.dump());
  CHECK(r.exit_code == 4);
  CHECK_THAT(r.err, Contains("$.patient.may_self_consent: unknown field `may_self_consent`"));
}
