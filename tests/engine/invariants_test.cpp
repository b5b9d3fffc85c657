// Ranges on schema fields (`age: int in 0..130`) and the schema's
// invariants: the checker's errors, and binding (both binder paths) that
// refuses a request outside a range or breaking an invariant.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <ethos/authoring/format.hpp>
#include <ethos/syntax/parser.hpp>

#include "support.hpp"

using namespace ethos;
using namespace ethos::testing;

namespace {

const char* kSchema = R"(schema request {
  request_id: string
  time: timestamp
  patient: {
    age: int in 0..130 @fixed
    populations: set<string>
    sessions: int? in -1..8
  }
  data: {
    identifiability: enum { identified, limited, deidentified }
    identifiers_present: set<string>
  }
  risk: { self_harm: bool?, harm_to_others: bool }
}

invariant a_child_is_under_18:
  patient.age < 18
  when patient.populations has "child"
  because "a child is under 18"
  cite "UN Convention on the Rights of the Child, Art. 1"

invariant deidentified_data_holds_no_name:
  not data.identifiers_present has "name"
  when data.identifiability == deidentified
  because "named data is not de-identified"

invariant a_threat_needs_a_risk:
  risk.self_harm or risk.harm_to_others
  when patient.sessions == 8
  because "eight sessions need a risk"
)";

const char* kModule = "module m \"M\"\nrule r: permit because \"x\" cite \"y\"\n";

std::shared_ptr<const Policy> ranged_policy() {
  Diagnostics diags;
  Bundle b = load_bundle_texts({{"schema.ethos", kSchema}, {"policy.ethos", kModule}}, diags);
  INFO(render_all(b.sources, diags));
  REQUIRE(b.policy != nullptr);
  return b.policy;
}

std::string ranged_request(const std::string& patch = "{}") {
  nlohmann::json base = nlohmann::json::parse(R"({
    "request_id": "r-1", "time": "2026-11-26T10:00:00Z",
    "patient": {"age": 40, "populations": ["adult"], "sessions": 2},
    "data": {"identifiability": "identified", "identifiers_present": ["name"]},
    "risk": {"self_harm": false, "harm_to_others": false}
  })");
  base.merge_patch(nlohmann::json::parse(patch));
  return base.dump();
}

// Binds with both binder paths, which must agree; returns the error (empty path: bound).
BindError bind_both(const Policy& p, const std::string& json) {
  BindError errors[2];
  bool ok[2];
  int k = 0;
  for (auto path : {RequestBinder::Path::kFastThenFull, RequestBinder::Path::kFullOnly}) {
    RequestBinder binder(p, path);
    BoundRequest bound;
    ok[k] = binder.bind(json, bound, errors[k]);
    if (ok[k]) errors[k] = BindError{};
    ++k;
  }
  CHECK(ok[0] == ok[1]);
  CHECK(errors[0].path == errors[1].path);
  CHECK(errors[0].message == errors[1].message);
  CHECK(errors[0].invariant == errors[1].invariant);
  return errors[0];
}

std::string schema_diagnostics(const std::string& schema_tail) {
  return diagnose({{"schema.ethos",
                    "schema request {\n  request_id: string\n  time: timestamp\n" + schema_tail},
                   {"policy.ethos", kModule}});
}

}  // namespace

// ---- the checker -------------------------------------------------------------

TEST_CASE("a range on a field that is not an int is a check error at the range") {
  std::string out = schema_diagnostics("  name: string in 0..3\n}\n");
  CHECK(out.find("schema.ethos:4:16: error: a range applies to `int` fields only; `name` is "
                 "`string`") != std::string::npos);
}

TEST_CASE("a range bound that is not an integer is a check error at the bound") {
  std::string out = schema_diagnostics("  age: int in 0..many\n}\n");
  CHECK(out.find("schema.ethos:4:18: error: a range bound must be an integer, found `many`") !=
        std::string::npos);
  out = schema_diagnostics("  age: int in \"0\"..5\n}\n");
  CHECK(out.find("schema.ethos:4:15: error: a range bound must be an integer, found `\"0\"`") !=
        std::string::npos);
}

TEST_CASE("a range whose lower bound is above its upper bound is a check error") {
  std::string out = schema_diagnostics("  age: int in 130..0\n}\n");
  CHECK(out.find("schema.ethos:4:12: error: the range of `age` is empty: `130` is above `0`") !=
        std::string::npos);
  CHECK(out.find("help: write the lower bound first, e.g. `in 0..130`") != std::string::npos);
}

TEST_CASE("a range bound beyond 64 bits is a check error at the bound") {
  std::string out = schema_diagnostics("  age: int in 0..99999999999999999999\n}\n");
  CHECK(out.find("schema.ethos:4:18: error: integer literal out of range") != std::string::npos);
}

TEST_CASE("a field named `in` after an int field is a field, not a range") {
  std::string out = schema_diagnostics("  age: int\n  in: bool\n}\n");
  CHECK(out.empty());
}

TEST_CASE("an invariant without `because` is a check error at its name") {
  std::string out = schema_diagnostics("  age: int\n}\ninvariant adult: age >= 18\n");
  CHECK(out.find("schema.ethos:6:11: error: invariant `adult` has no `because`") !=
        std::string::npos);
}

TEST_CASE("an invariant that is not a condition is a check error") {
  std::string out = schema_diagnostics("  age: int\n}\ninvariant adult: age because \"x\"\n");
  CHECK(out.find("schema.ethos:6:18: error: expected a condition (bool) for an invariant, found "
                 "`int`") != std::string::npos);
}

TEST_CASE("an invariant names request facts only, not a module's define") {
  std::string out = diagnose({{"schema.ethos",
                               "schema request {\n  request_id: string\n  time: timestamp\n  age: "
                               "int\n}\ninvariant adult: m.grown because \"x\"\n"},
                              {"policy.ethos",
                               "module m \"M\"\ndefine grown = age >= 18\n"
                               "rule r: permit when grown because \"x\" cite "
                               "\"y\"\n"}});
  CHECK(out.find("schema.ethos:6:18: error: an invariant reads request facts only: `m.grown` is "
                 "a define of a module") != std::string::npos);
}

TEST_CASE("an unknown fact in an invariant is a check error with the closest name") {
  std::string out =
      schema_diagnostics("  age: int\n}\ninvariant adult: agee >= 18 because \"x\"\n");
  CHECK(out.find("schema.ethos:6:18: error: unknown name `agee`") != std::string::npos);
  CHECK(out.find("help: did you mean `age`?") != std::string::npos);
}

TEST_CASE("an invariant declared twice is a check error") {
  std::string out = schema_diagnostics(
      "  age: int\n}\ninvariant a: age >= 0 because \"x\"\ninvariant a: age < 200 because \"y\"\n");
  CHECK(out.find("schema.ethos:7:11: error: duplicate invariant `a`") != std::string::npos);
}

TEST_CASE("an invariant clause written twice is a check error") {
  std::string out =
      schema_diagnostics("  age: int\n}\ninvariant a: age >= 0 because \"x\" because \"y\"\n");
  CHECK(out.find("schema.ethos:6:35: error: this clause is written twice in invariant `a`") !=
        std::string::npos);
}

// ---- binding: ranges ------------------------------------------------------------

TEST_CASE("a value below its field's range is refused with its path, the value and the range") {
  auto p = ranged_policy();
  BindError e = bind_both(*p, ranged_request(R"({"patient": {"age": -3}})"));
  CHECK(e.path == "$.patient.age");
  CHECK(e.message == "`-3` is outside the range of `patient.age`, 0..130");
  CHECK(e.invariant.empty());
}

TEST_CASE("a value above its field's range is refused") {
  auto p = ranged_policy();
  BindError e = bind_both(*p, ranged_request(R"({"patient": {"age": 131}})"));
  CHECK(e.path == "$.patient.age");
  CHECK(e.message == "`131` is outside the range of `patient.age`, 0..130");
}

TEST_CASE("the bounds of a range are inside it") {
  auto p = ranged_policy();
  CHECK(bind_both(*p, ranged_request(R"({"patient": {"age": 0, "sessions": -1}})")).path.empty());
  CHECK(bind_both(*p, ranged_request(R"({"patient": {"age": 130}})")).path.empty());
}

TEST_CASE("an optional ranged field that is absent or null binds") {
  auto p = ranged_policy();
  CHECK(bind_both(*p, ranged_request(R"({"patient": {"sessions": null}})")).path.empty());
  BindError e = bind_both(*p, ranged_request(R"({"patient": {"sessions": 9}})"));
  CHECK(e.path == "$.patient.sessions");
  CHECK(e.message == "`9` is outside the range of `patient.sessions`, -1..8");
}

// ---- binding: invariants ------------------------------------------------------

TEST_CASE("a request that breaks an invariant is refused with its id, reason and facts") {
  auto p = ranged_policy();
  BindError e =
      bind_both(*p, ranged_request(R"({"patient": {"age": 40, "populations": ["child"]}})"));
  CHECK(e.path == "$");
  CHECK(e.invariant == "a_child_is_under_18");
  CHECK(e.message ==
        "the request breaks invariant `a_child_is_under_18`: a child is under 18 (facts: "
        "`$.patient.populations`, `$.patient.age`)");
}

TEST_CASE("a request that keeps an invariant's condition binds") {
  auto p = ranged_policy();
  CHECK(bind_both(*p, ranged_request(R"({"patient": {"age": 12, "populations": ["child"]}})"))
            .path.empty());
}

TEST_CASE("an invariant whose `when` is false does not constrain the request") {
  auto p = ranged_policy();
  // Named data, but not said to be de-identified.
  CHECK(bind_both(*p, ranged_request()).path.empty());
  BindError e = bind_both(*p, ranged_request(R"({"data": {"identifiability": "deidentified"}})"));
  CHECK(e.invariant == "deidentified_data_holds_no_name");
}

TEST_CASE("an invariant that needs an absent fact is not broken") {
  auto p = ranged_policy();
  // self_harm absent, harm_to_others false: `self_harm or harm_to_others` is unknown.
  CHECK(
      bind_both(*p, ranged_request(R"({"patient": {"sessions": 8}, "risk": {"self_harm": null}})"))
          .path.empty());
  // Known false: broken.
  BindError e = bind_both(*p, ranged_request(R"({"patient": {"sessions": 8}})"));
  CHECK(e.invariant == "a_threat_needs_a_risk");
}

TEST_CASE("an error after an invariant error carries no invariant id") {
  auto p = ranged_policy();
  RequestBinder binder(*p);
  BoundRequest bound;
  BindError e;
  REQUIRE_FALSE(
      binder.bind(ranged_request(R"({"patient": {"populations": ["child"]}})"), bound, e));
  REQUIRE(e.invariant == "a_child_is_under_18");
  REQUIRE_FALSE(binder.bind(ranged_request(R"({"patient": {"age": 200}})"), bound, e));
  CHECK(e.invariant.empty());
  CHECK(e.path == "$.patient.age");
}

TEST_CASE("check_request refuses a request bound by other means outside a range or invariant") {
  auto p = ranged_policy();
  RequestBinder binder(*p);
  BoundRequest bound;
  BindError e;
  REQUIRE(binder.bind(ranged_request(), bound, e));
  CHECK(check_request(*p, bound, e));
  const auto age = p->schema.by_path.at("patient.age");
  bound.values[age].num = 500;
  CHECK_FALSE(check_request(*p, bound, e));
  CHECK(e.path == "$.patient.age");
  bound.values[age].num = 40;
  bound.values[p->schema.by_path.at("data.identifiability")].num = 2;  // deidentified
  CHECK_FALSE(check_request(*p, bound, e));
  CHECK(e.invariant == "deidentified_data_holds_no_name");
}

// ---- the formatter ----------------------------------------------------------------

TEST_CASE("fmt keeps ranges and lays out an invariant like a rule") {
  const std::string text =
      "schema request {\n  request_id: string\n  time: timestamp\n  age: int?   in   0 .. 130 "
      "@fixed\n}\ninvariant adult:   age >= 18 when   age is present because \"x\" cite \"y\"\n";
  Diagnostics diags;
  std::string out;
  REQUIRE(format_text("schema.ethos", text, out, diags));
  CHECK(out ==
        "schema request {\n  request_id: string\n  time: timestamp\n  age: int? in 0..130 "
        "@fixed\n}\n\ninvariant adult:\n  age >= 18\n  when age is present\n  because \"x\"\n  "
        "cite \"y\"\n");
  std::string again;
  REQUIRE(format_text("schema.ethos", out, again, diags));
  CHECK(again == out);
}
