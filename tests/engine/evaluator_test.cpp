// The semantics of docs/semantics.md, one behaviour per test.
#include <catch2/catch.hpp>

#include "support.hpp"

using namespace ethos;
using namespace ethos::testing;
using V = std::vector<std::string>;

namespace {
const std::string kCite = " because \"b\" cite \"c\"";
std::string module(const std::string& body, const std::string& header = "") {
  return "module m \"M\"" + header +
         "\nobligation review \"a clinician reviews the output\"\n"
         "obligation notice \"give the notice\"\n" +
         body + "\n";
}
}  // namespace

TEST_CASE("forbid beats escalate beats permit") {
  auto p = compile(module("rule p: permit" + kCite + "\nrule e: escalate when risk.self_harm" +
                          kCite + "\nrule f: forbid when patient.opted_out" + kCite +
                          "\nrule r: require review when risk.self_harm" + kCite));
  CHECK(decide(p, request()).outcome == Outcome::kPermit);
  CHECK(decide(p, request(R"({"risk":{"self_harm":true}})")).outcome == Outcome::kEscalate);
  auto d = decide(p, request(R"({"risk":{"self_harm":true},"patient":{"opted_out":true}})"));
  CHECK(d.outcome == Outcome::kDeny);
  CHECK(reason_ids(*p, d) == V{"m.f"});
}

TEST_CASE("when nothing permits the decision is deny by default") {
  auto p = compile(module("rule f: forbid when patient.opted_out" + kCite));
  auto d = decide(p, request());
  CHECK(d.outcome == Outcome::kDeny);
  CHECK(d.reasons.empty());
  CHECK(d.default_module == -1);
}

TEST_CASE("a module's default permit applies when no rule decides") {
  auto p = compile(module("rule f: forbid when patient.opted_out" + kCite, " default permit"));
  auto d = decide(p, request());
  CHECK(d.outcome == Outcome::kPermit);
  CHECK(d.default_module == 0);
}

TEST_CASE("require permits and attaches its obligation") {
  auto p = compile(module("rule r: require review" + kCite));
  auto d = decide(p, request());
  CHECK(d.outcome == Outcome::kPermit);
  REQUIRE(d.obligations.size() == 1);
  CHECK(p->obligations[d.obligations[0].first].name == "review");
}

TEST_CASE("obligations and advice are collected from every rule that fires") {
  auto p = compile(module(
      "rule r1: require review" + kCite + "\nrule r2: require notice when patient.age > 18" +
      kCite + "\nrule a1: advise when patient.age > 18" + kCite + "\nrule a2: advise" + kCite));
  auto d = decide(p, request());
  CHECK(d.obligations.size() == 2);
  CHECK(d.advice.size() == 2);
}

TEST_CASE("obligations are collected even when a forbid decides") {
  auto p = compile(module("rule r1: require review" + kCite + "\nrule f: forbid" + kCite));
  auto d = decide(p, request());
  CHECK(d.outcome == Outcome::kDeny);
  CHECK(d.obligations.size() == 1);
}

TEST_CASE("an override suppresses the overridden rule and the decision records it") {
  auto p = compile(module("rule no_disclosure: forbid when patient.opted_out" + kCite +
                          "\nrule imminent: permit when risk.self_harm overrides no_disclosure" +
                          kCite));
  auto d = decide(p, request(R"({"patient":{"opted_out":true},"risk":{"self_harm":true}})"));
  CHECK(d.outcome == Outcome::kPermit);
  REQUIRE(d.overridden.size() == 1);
  CHECK(p->rules[d.overridden[0].first].id == "m.no_disclosure");
  CHECK(p->rules[d.overridden[0].second].id == "m.imminent");
  CHECK(d.trace[p->rule_by_id.at("m.no_disclosure")] == RuleStatus::kOverridden);
}

TEST_CASE("an override that does not fire leaves its target in force") {
  auto p = compile(module("rule no_disclosure: forbid when patient.opted_out" + kCite +
                          "\nrule imminent: permit when risk.self_harm overrides no_disclosure" +
                          kCite));
  auto d = decide(p, request(R"({"patient":{"opted_out":true}})"));
  CHECK(d.outcome == Outcome::kDeny);
  CHECK(d.overridden.empty());
}

TEST_CASE("an overridden overrider does not suppress its own targets") {
  auto p = compile(module("rule a: forbid when patient.opted_out" + kCite +
                          "\nrule b: permit overrides a" + kCite +
                          "\nrule c: forbid when risk.self_harm overrides b" + kCite));
  auto d = decide(p, request(R"({"patient":{"opted_out":true},"risk":{"self_harm":true}})"));
  CHECK(d.outcome == Outcome::kDeny);
  CHECK(reason_ids(*p, d) == V{"m.a", "m.c"});
}

TEST_CASE("a forbid rule with an unknown condition is not a permit and names the missing fact") {
  auto p = compile(module(
      "rule p: permit" + kCite +
      "\nrule minor: forbid when patient.age < 18 and not patient.guardian_permission" + kCite));
  std::string req = request(R"({"patient":{"age":15,"guardian_permission":null}})");
  auto d = decide(p, req);
  CHECK(d.outcome == Outcome::kDeny);
  CHECK(reason_ids(*p, d) == V{"m.minor"});
  CHECK(d.trace[p->rule_by_id.at("m.minor")] == RuleStatus::kUnknown);
  CHECK(missing_paths(*p, d) == V{"patient.guardian_permission"});
}

TEST_CASE("false and unknown is false, so a missing fact does not always matter") {
  auto p = compile(module(
      "rule p: permit" + kCite +
      "\nrule minor: forbid when patient.age < 18 and not patient.guardian_permission" + kCite));
  auto d = decide(p, request(R"({"patient":{"age":40,"guardian_permission":null}})"));
  CHECK(d.outcome == Outcome::kPermit);
  CHECK(d.missing.empty());
}

TEST_CASE("true or unknown is true") {
  auto p =
      compile(module("rule f: forbid when patient.opted_out or vendor.trains_on_inputs" + kCite));
  auto d =
      decide(p, request(R"({"patient":{"opted_out":true},"vendor":{"trains_on_inputs":null}})"));
  CHECK(d.trace[0] == RuleStatus::kFired);
}

TEST_CASE("an escalate rule with an unknown condition escalates") {
  auto p = compile(
      module("rule p: permit" + kCite + "\nrule e: escalate when vendor.trains_on_inputs" + kCite));
  auto d = decide(p, request(R"({"vendor":{"trains_on_inputs":null}})"));
  CHECK(d.outcome == Outcome::kEscalate);
  CHECK(missing_paths(*p, d) == V{"vendor.trains_on_inputs"});
}

TEST_CASE("a permit rule with an unknown condition does not permit") {
  auto p = compile(module("rule p: permit when vendor.trains_on_inputs == false" + kCite));
  auto d = decide(p, request(R"({"vendor":{"trains_on_inputs":null}})"));
  CHECK(d.outcome == Outcome::kDeny);
  CHECK(missing_paths(*p, d) == V{"vendor.trains_on_inputs"});
}

TEST_CASE("an absent optional record is named as the missing fact") {
  auto p = compile(module("rule p: permit" + kCite +
                          "\nrule stale: forbid when days_since(audit.last) > 365" + kCite));
  auto d = decide(p, request(R"({"audit":null})"));
  CHECK(d.outcome == Outcome::kDeny);
  CHECK(missing_paths(*p, d) == V{"audit"});
}

TEST_CASE("is missing and is present are known even when the fact is absent") {
  auto p = compile(module("rule p: permit" + kCite +
                          "\nrule never_audited: forbid when audit.last is missing" + kCite));
  CHECK(decide(p, request(R"({"audit":null})")).outcome == Outcome::kDeny);
  CHECK(decide(p, request()).outcome == Outcome::kPermit);
  CHECK(decide(p, request(R"({"audit":null})")).missing.empty());
}

TEST_CASE("time arithmetic is relative to the request's own time, not the clock") {
  auto p = compile(module("rule p: permit" + kCite +
                          "\nrule stale: forbid when consent.date + 365 days < now" + kCite));
  CHECK(decide(p, request(R"({"time":"2026-11-26T00:00:00Z","consent":{"date":"2025-11-25"}})"))
            .outcome == Outcome::kDeny);
  CHECK(decide(p, request(R"({"time":"2026-11-26T00:00:00Z","consent":{"date":"2025-11-27"}})"))
            .outcome == Outcome::kPermit);
  // The same request replayed "years later" gives the same answer: time is in the request.
  CHECK(decide(p, request(R"({"time":"2026-11-26T00:00:00Z","consent":{"date":"2025-11-27"}})"))
            .outcome == Outcome::kPermit);
}

TEST_CASE("days_since counts whole days up to the request time") {
  auto p = compile(module("rule p: permit" + kCite +
                          "\nrule stale: forbid when days_since(audit.last) > 365" + kCite));
  CHECK(decide(p, request(R"({"time":"2026-11-26T00:00:00Z","audit":{"last":"2025-11-26"}})"))
            .outcome == Outcome::kPermit);
  CHECK(decide(p, request(R"({"time":"2026-11-26T00:00:00Z","audit":{"last":"2025-11-25"}})"))
            .outcome == Outcome::kDeny);
}

TEST_CASE("set membership operators") {
  auto p = compile(
      module("rule any: advise when data.categories has_any [\"psychotherapy_notes\", \"part2\"]" +
             kCite + "\nrule all: advise when data.categories has_all [\"phi\", \"part2\"]" +
             kCite + "\nrule has_one: advise when data.categories has \"phi\"" + kCite +
             "\nrule in_list: advise when jurisdiction.country in [\"US\", \"CA\"]" + kCite +
             "\nrule enum_in: advise when data.identifiability in [identified, limited]" + kCite));
  auto d = decide(p, request(R"({"data":{"categories":["phi","part2","other"]}})"));
  CHECK(d.advice.size() == 5);
  d = decide(
      p,
      request(
          R"({"data":{"categories":["other"],"identifiability":"deidentified"},"jurisdiction":{"country":"FR"}})"));
  CHECK(d.advice.empty());
}

TEST_CASE("a module's applies when guards every rule and marks them not applicable") {
  auto p = compile(module("rule f: forbid" + kCite, " applies when jurisdiction.state == \"NV\""));
  auto d = decide(p, request());
  CHECK(d.trace[0] == RuleStatus::kNotApplicable);
  d = decide(p, request(R"({"jurisdiction":{"state":"NV"}})"));
  CHECK(d.outcome == Outcome::kDeny);
}

TEST_CASE("an applies when on an absent fact makes the module's forbid rules unknown") {
  auto p = compile(module("rule f: forbid" + kCite, " applies when jurisdiction.state == \"NV\""));
  auto d = decide(p, request(R"({"jurisdiction":{"state":null}})"));
  CHECK(d.outcome == Outcome::kDeny);
  CHECK(missing_paths(*p, d) == V{"jurisdiction.state"});
}

TEST_CASE("unless is an exception inside the rule") {
  auto p = compile(
      module("rule p: permit" + kCite +
             "\nrule f: forbid when patient.age < 18 unless patient.guardian_permission" + kCite));
  CHECK(decide(p, request(R"({"patient":{"age":15,"guardian_permission":true}})")).outcome ==
        Outcome::kPermit);
  CHECK(decide(p, request(R"({"patient":{"age":15,"guardian_permission":false}})")).outcome ==
        Outcome::kDeny);
}

TEST_CASE("params are constants that a deployment can override") {
  std::string text = module("param max_days: int = 30\nrule p: permit" + kCite +
                            "\nrule f: forbid when vendor.retention_days > max_days" + kCite);
  auto p = compile(text);
  CHECK(decide(p, request(R"({"vendor":{"retention_days":60}})")).outcome == Outcome::kDeny);
  Diagnostics diags;
  CheckOptions opts;
  opts.params["m.max_days"] = "90";
  Bundle b =
      load_bundle_texts({{"schema.ethos", kTestSchema}, {"policy.ethos", text}}, diags, opts);
  REQUIRE(b.policy);
  CHECK(decide(b.policy, request(R"({"vendor":{"retention_days":60}})")).outcome ==
        Outcome::kPermit);
}

TEST_CASE("defines are shared between rules and between modules") {
  auto p = compile(
      "module a \"A\"\ndefine adult = patient.age >= 18\n"
      "module b \"B\"\nrule f: forbid when not a.adult" +
      kCite + "\nrule p: permit" + kCite + "\n");
  CHECK(decide(p, request(R"({"patient":{"age":15}})")).outcome == Outcome::kDeny);
  CHECK(decide(p, request()).outcome == Outcome::kPermit);
}

TEST_CASE("strings the policy never mentions compare by their text") {
  auto p = compile(module("rule f: forbid when jurisdiction.country == patient.id" + kCite));
  CHECK(decide(p, request(R"({"patient":{"id":"XX"},"jurisdiction":{"country":"XX"}})")).outcome ==
        Outcome::kDeny);
  CHECK(decide(p, request(R"({"patient":{"id":"XY"},"jurisdiction":{"country":"XX"}})")).trace[0] ==
        RuleStatus::kNotFired);
}

TEST_CASE("integer overflow makes a condition unknown, never wrong") {
  auto p =
      compile(module("rule p: permit" + kCite +
                     "\nrule f: forbid when vendor.retention_days * 1000000000000 > 5" + kCite));
  auto d = decide(p, request(R"({"vendor":{"retention_days":9000000000}})"));
  CHECK(d.outcome == Outcome::kDeny);
  CHECK(d.trace[1] == RuleStatus::kUnknown);
}

TEST_CASE("a decision is a pure function of policy and request") {
  auto p = compile(
      module("rule p: permit" + kCite +
             "\nrule f: forbid when patient.age < 18 and not patient.guardian_permission" + kCite));
  std::string req = request(R"({"patient":{"age":15,"guardian_permission":null}})");
  DecisionFormat fmt;
  fmt.bundle_hash = "sha256:x";
  std::string first = decision_json(*p, decide(p, req), fmt);
  for (int i = 0; i < 5; ++i) CHECK(decision_json(*p, decide(p, req), fmt) == first);
}

TEST_CASE("a top-level or in a when keeps every operand (regression: only the first was kept)") {
  auto p = compile(module(
      "rule f: forbid when patient.opted_out or risk.self_harm" + kCite +
          "\nrule g: forbid when risk.self_harm unless patient.opted_out or patient.age > 100" +
          kCite,
      " applies when jurisdiction.eu or jurisdiction.country == \"US\""));
  auto d = decide(p, request(R"({"risk":{"self_harm":true}})"));
  CHECK(d.trace[0] == RuleStatus::kFired);
  d = decide(p, request(R"({"risk":{"self_harm":true},"patient":{"age":101}})"));
  CHECK(d.trace[1] == RuleStatus::kNotFired);
}
