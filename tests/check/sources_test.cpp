// Declared sources: where and when a law applies (docs/language.md, "Sources").
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <ethos/api/engine.hpp>

#include "support.hpp"

using ethos::api::Engine;
using ethos::testing::diagnose_policy;
using ethos::testing::kTestSchema;
using ethos::testing::request;

namespace {

const char* kSources = R"E(
source apa "APA Ethics Code"
  kind code
  confidence verified

source il_act "Illinois Wellness and Oversight for Psychological Resources Act (225 ILCS 155)"
  kind statute
  jurisdiction "US-IL"
  from "2025-08-01"
  confidence verified

source eu_gdpr "GDPR"
  kind regulation
  jurisdiction "EU"
  from "2018-05-25"
)E";

Engine engine_with(const std::string& rules) {
  return Engine::load_texts(
      {{"schema.ethos", kTestSchema}, {"p.ethos", std::string(kSources) + rules}});
}

// A module limited to Illinois whose rule rests on the Illinois act alone,
// and a global rule that rests on the APA code with the act as support.
const char* kRules = R"E(
module us_il "Illinois"
  applies when jurisdiction.country == "US" and jurisdiction.state == "IL"

rule no_ai_therapy:
  forbid
  when risk.self_harm
  because "in Illinois an AI may not provide therapy"
  cite il_act § "20(b)"

module global "Everywhere"

rule records_are_protected:
  advise
  when patient.opted_out
  because "records are protected"
  cite apa § "4.01", il_act § "10", eu_gdpr § "Art. 9"
)E";

std::vector<std::string> cites_of(const ethos::api::Decision& d, const std::string& rule) {
  for (const auto& r : d.reasons)
    if (r.rule == rule) return r.citations;
  for (const auto& r : d.advice)
    if (r.rule == rule) return r.citations;
  return {"<rule did not fire>"};
}

}  // namespace

TEST_CASE("check refuses a rule that can fire outside the only state whose statute it cites") {
  std::string out = diagnose_policy(std::string(kSources) + R"E(
module global "Everywhere"
rule r:
  forbid
  when risk.self_harm
  because "x"
  cite il_act § "20(b)"
rule keeps_apa:
  advise
  when patient.opted_out
  because "y"
  cite apa § "4.01"
rule keeps_gdpr:
  advise
  when patient.opted_out
  because "y"
  cite eu_gdpr § "Art. 9", "a global guideline"
)E");
  INFO(out);
  CHECK(out.find("policy.ethos:18:6: error: rule `global.r` can fire outside US-IL, where `il_act` "
                 "applies") != std::string::npos);
  CHECK(out.find("error", out.find("error") + 1) == std::string::npos);  // the only one
}

TEST_CASE("a rule whose when clause limits it to the statute's state is accepted") {
  std::string out = diagnose_policy(std::string(kSources) + R"E(
module global "Everywhere"
rule r:
  forbid
  when jurisdiction.state == "IL" and jurisdiction.country == "US" and risk.self_harm
  because "x"
  cite il_act § "20(b)"
rule keeps_others:
  advise
  when patient.opted_out
  because "y"
  cite apa, eu_gdpr § "Art. 9"
)E");
  CHECK(out.empty());
}

TEST_CASE("a rule drawn from a dated statute does not fire before the statute's date") {
  auto e = engine_with(kRules);
  auto before =
      e.evaluate(request(R"({"time": "2025-07-31T23:59:59Z", "risk": {"self_harm": true}})"));
  auto on = e.evaluate(request(R"({"time": "2025-08-01T00:00:00Z", "risk": {"self_harm": true}})"));
  CHECK(cites_of(before, "us_il.no_ai_therapy") == std::vector<std::string>{"<rule did not fire>"});
  CHECK(cites_of(on, "us_il.no_ai_therapy") ==
        std::vector<std::string>{"Illinois Wellness and Oversight for Psychological Resources Act "
                                 "(225 ILCS 155) \u00a7 20(b)"});
  CHECK(on.outcome == ethos::Outcome::kDeny);
}

TEST_CASE("a decision cites a state statute only in that state and from its date") {
  auto e = engine_with(kRules);
  const std::string apa = "APA Ethics Code \u00a7 4.01";
  const std::string il =
      "Illinois Wellness and Oversight for Psychological Resources Act (225 ILCS 155) \u00a7 10";
  const std::string gdpr = "GDPR \u00a7 Art. 9";
  auto in_il = e.evaluate(request(R"({"patient": {"opted_out": true}})"));
  CHECK(cites_of(in_il, "global.records_are_protected") == std::vector<std::string>{apa, il});
  auto in_ohio =
      e.evaluate(request(R"({"jurisdiction": {"state": "OH"}, "patient": {"opted_out": true}})"));
  CHECK(cites_of(in_ohio, "global.records_are_protected") == std::vector<std::string>{apa});
  auto in_il_2024 =
      e.evaluate(request(R"({"time": "2024-01-01T00:00:00Z", "patient": {"opted_out": true}})"));
  CHECK(cites_of(in_il_2024, "global.records_are_protected") == std::vector<std::string>{apa});
  auto in_germany = e.evaluate(request(
      R"({"jurisdiction": {"country": "DE", "state": null, "eu": true}, "patient": {"opted_out": true}})"));
  CHECK(cites_of(in_germany, "global.records_are_protected") ==
        std::vector<std::string>{apa, gdpr});
}

TEST_CASE("each cited declared source in a decision carries its jurisdiction and dates") {
  auto e = engine_with(kRules);
  auto d = e.evaluate(request(R"({"patient": {"opted_out": true}})"));
  auto j = nlohmann::json::parse(ethos::api::to_json(d));
  REQUIRE(j["advice"].size() == 1);
  const auto& sources = j["advice"][0]["sources"];
  REQUIRE(sources.size() == 2);
  CHECK(sources[0]["id"] == "apa");
  CHECK(sources[0]["jurisdiction"] == "global");
  CHECK(sources[1]["id"] == "il_act");
  CHECK(sources[1]["jurisdiction"] == "US-IL");
  CHECK(sources[1]["from"] == "2025-08-01");
  CHECK(sources[1]["section"] == "10");
}

TEST_CASE("citing an undeclared source is an error that names the closest source") {
  std::string out = diagnose_policy(std::string(kSources) + R"E(
module global "Everywhere"
rule r:
  forbid
  when risk.self_harm
  because "x"
  cite il_akt § "20(b)", apa, eu_gdpr
)E");
  CHECK(out.find("error: unknown source `il_akt`") != std::string::npos);
  CHECK(out.find("help: did you mean `il_act`?") != std::string::npos);
}

TEST_CASE("a source's jurisdiction and dates are checked") {
  std::string out = diagnose_policy(R"E(
source a "A"
  jurisdiction "Illinois"
source b "B"
  from "2026-13-01"
source c "C"
  from "2026-01-01"
  until "2025-01-01"
module m "m"
rule r:
  forbid
  when risk.self_harm
  because "x"
  cite a, b, c
)E");
  CHECK(out.find("policy.ethos:3:16: error: unknown jurisdiction `Illinois`") != std::string::npos);
  CHECK(out.find("policy.ethos:5:8: error: expected a date such as `\"2026-01-01\"`, found "
                 "`2026-13-01`") != std::string::npos);
  CHECK(out.find("policy.ethos:8:9: error: source `c` ends before it starts") != std::string::npos);
}

TEST_CASE("a declared source that no rule cites is a warning") {
  std::string out = diagnose_policy(std::string(kSources) + R"E(
module global "Everywhere"
rule r:
  forbid
  when risk.self_harm
  because "x"
  cite apa
)E");
  CHECK(out.find("warning: source `il_act` is never cited") != std::string::npos);
  CHECK(out.find("warning: source `eu_gdpr` is never cited") != std::string::npos);
}

// Federal law is a country's: a rule resting on it alone must be limited to
// that country, as a rule resting on a state law must be limited to the
// state; a rule that also cites support that applies everywhere fires
// everywhere and cites the federal law only for a request in its country.
const char* kFederal = R"E(
source hipaa "HIPAA"
  kind regulation
  jurisdiction "US"
)E";

TEST_CASE("check refuses a rule resting on us federal law alone that can fire outside the us") {
  std::string out = diagnose_policy(std::string(kFederal) + R"E(
module global "Everywhere"
rule r:
  forbid
  when risk.self_harm
  because "x"
  cite hipaa § "164.502(e)"
)E");
  INFO(out);
  CHECK(out.find("error: rule `global.r` can fire outside US, where `hipaa` applies") !=
        std::string::npos);
}

TEST_CASE("a rule resting on us federal law and limited to the us is accepted") {
  std::string out = diagnose_policy(std::string(kFederal) + R"E(
module global "Everywhere"
rule r:
  forbid
  when jurisdiction.country == "US" and risk.self_harm
  because "x"
  cite hipaa § "164.502(e)"
)E");
  CHECK(out.empty());
}

TEST_CASE("a german decision does not cite us federal law that a global rule carries as support") {
  auto e =
      Engine::load_texts({{"schema.ethos", kTestSchema}, {"p.ethos", std::string(kFederal) + R"E(
module global "Everywhere"
rule r:
  advise
  when patient.opted_out
  because "y"
  cite "APA Ethics Code 4.01", hipaa § "164.502(e)"
)E"}});
  auto in_us = e.evaluate(request(R"({"patient": {"opted_out": true}})"));
  CHECK(cites_of(in_us, "global.r") ==
        std::vector<std::string>{"APA Ethics Code 4.01", "HIPAA \u00a7 164.502(e)"});
  auto in_germany = e.evaluate(request(
      R"({"jurisdiction": {"country": "DE", "state": null, "eu": true}, "patient": {"opted_out": true}})"));
  CHECK(cites_of(in_germany, "global.r") == std::vector<std::string>{"APA Ethics Code 4.01"});
}
