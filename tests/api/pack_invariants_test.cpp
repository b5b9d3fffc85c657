// The shipped schema's ranges and invariants (policies/schema.ethos), through
// the embedding API: each one refuses a request that breaks it, with its
// path and message, and a nearby request that keeps it is decided.
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include <ethos/api/engine.hpp>

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

fs::path source_dir() {
  const char* dir = std::getenv("ETHOS_SOURCE_DIR");
  return dir ? fs::path(dir) : fs::current_path();
}

const ethos::api::Engine& pack() {
  static const ethos::api::Engine engine =
      ethos::api::Engine::load({(source_dir() / "policies").string()});
  return engine;
}

json example(const char* name) {
  std::ifstream f(source_dir() / "policies" / "examples" / name);
  std::stringstream ss;
  ss << f.rdbuf();
  return json::parse(ss.str());
}

json base() { return example("01-session-summary-enterprise-baa.json"); }
json disclosure() { return example("12-imminent-threat-disclosure.json"); }

struct Refusal {
  std::string path, invariant, message;
};

// The refusal of `request`, or an empty one when it is decided.
Refusal refusal(const json& request) {
  try {
    (void)pack().evaluate(request.dump());
    return {};
  } catch (const ethos::api::RequestError& e) {
    return {e.path(), e.invariant(), e.what()};
  }
}

}  // namespace

TEST_CASE("pack: an age outside 0..130 is refused with its path") {
  json r = base();
  r["patient"]["age"] = -3;
  Refusal x = refusal(r);
  CHECK(x.path == "$.patient.age");
  CHECK(x.message == "$.patient.age: `-3` is outside the range of `patient.age`, 0..130");
  r["patient"]["age"] = 130;
  CHECK(refusal(r).path.empty());
}

TEST_CASE("pack: counts and retention outside their ranges are refused") {
  for (const char* field : {"fields_needed", "fields_sent"}) {
    json r = base();
    r["data"][field] = -1;
    CHECK(refusal(r).path == std::string("$.data.") + field);
  }
  json r = base();
  r["vendor"]["retention_days"] = 36501;
  CHECK(refusal(r).path == "$.vendor.retention_days");
  r["vendor"]["retention_days"] = 36500;
  CHECK(refusal(r).path.empty());
  r = base();
  r["patient"]["sessions_without_guardian"] = -2;
  CHECK(refusal(r).path == "$.patient.sessions_without_guardian");
}

TEST_CASE("pack: de-identified data that holds a direct identifier is refused") {
  json r = base();
  r["data"]["identifiability"] = "deidentified";
  r["data"]["deid_method"] = "safe_harbor";
  r["data"]["identifiers_present"] = json::array({"email"});
  Refusal x = refusal(r);
  CHECK(x.path == "$");
  CHECK(x.invariant == "deidentified_data_holds_no_direct_identifier");
  CHECK(x.message.find("is not de-identified") != std::string::npos);
  // Contact details among the categories are a direct identifier too.
  r["data"]["identifiers_present"] = json::array();
  r["data"]["categories"].push_back("contact");
  CHECK(refusal(r).invariant == "deidentified_data_holds_no_direct_identifier");
  // A date is not a direct identifier (a limited data set may keep it): decided,
  // and the Safe Harbor rule then denies it.
  r["data"]["categories"] = json::array({"phi"});
  r["data"]["identifiers_present"] = json::array({"date"});
  CHECK(refusal(r).path.empty());
  // Identified data may hold identifiers.
  r["data"]["identifiability"] = "identified";
  r["data"]["identifiers_present"] = json::array({"name", "email"});
  CHECK(refusal(r).path.empty());
}

TEST_CASE("pack: a child aged 18 or more is refused") {
  json r = base();
  r["patient"]["populations"] = json::array({"child"});
  r["patient"]["age"] = 34;
  Refusal x = refusal(r);
  CHECK(x.invariant == "a_child_is_under_18");
  CHECK(x.message ==
        "$: the request breaks invariant `a_child_is_under_18`: the patient is listed among "
        "children but is 18 or older; a child is a person below the age of eighteen (facts: "
        "`$.patient.populations`, `$.patient.age`)");
  r["patient"]["age"] = 17;
  CHECK(refusal(r).path.empty());
}

TEST_CASE("pack: a disclosure not named among the purposes is refused") {
  json r = disclosure();
  REQUIRE(refusal(r).path.empty());
  json cats = json::array();
  for (const auto& c : r["purpose"]["categories"])
    if (c != "disclosure_to_third_party") cats.push_back(c);
  r["purpose"]["categories"] = cats;
  CHECK(refusal(r).invariant == "a_described_disclosure_is_among_the_purposes");
  r.erase("disclosure");
  CHECK(refusal(r).path.empty());
}

TEST_CASE("pack: a serious-threat disclosure with no risk flagged is refused") {
  json r = disclosure();
  r["disclosure"]["basis"] = "serious_threat";
  r["disclosure"]["recipient"] = "law_enforcement";
  r["oversight"]["clinician_judged_imminent_threat"] = false;
  r["risk"]["self_harm"] = false;
  r["risk"]["harm_to_others"] = false;
  CHECK(refusal(r).invariant == "a_serious_threat_disclosure_needs_a_risk");
  r["risk"]["self_harm"] = true;
  CHECK(refusal(r).path.empty());
}

TEST_CASE("pack: a disclosure to a potential victim with no threat to others is refused") {
  json r = disclosure();
  r["disclosure"]["recipient"] = "potential_victim";
  r["risk"]["harm_to_others"] = false;
  r["risk"]["self_harm"] = true;
  CHECK(refusal(r).invariant == "a_potential_victim_is_threatened_by_the_patient");
  r["risk"]["harm_to_others"] = true;
  CHECK(refusal(r).path.empty());
}

TEST_CASE("pack: an imminent-threat judgement with no risk flagged is refused") {
  json r = base();
  r["oversight"]["clinician_judged_imminent_threat"] = true;
  r["risk"]["self_harm"] = false;
  r["risk"]["harm_to_others"] = false;
  CHECK(refusal(r).invariant == "an_imminent_threat_judgement_needs_a_risk");
  r["risk"]["self_harm"] = true;
  CHECK(refusal(r).path.empty());
}
