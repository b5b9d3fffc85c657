// Remedies: the smallest changes of facts a person can change that turn a
// deny or an escalate into a permit, each re-evaluated here.
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include <ethos/eval/remedies.hpp>
#include "support.hpp"

namespace fs = std::filesystem;
using namespace ethos;
using namespace ethos::testing;

namespace {

const char* kTail = " because \"b\" cite \"c\"\n";

// The request with the remedy's changes made, as an app would send it.
std::string with_changes(const std::string& request_json, const Remedy& r) {
  nlohmann::json j = nlohmann::json::parse(request_json);
  for (const FactChange& c : r.changes) {
    nlohmann::json* at = &j;
    std::string path = c.path;
    size_t dot;
    while ((dot = path.find('.')) != std::string::npos) {
      at = &(*at)[path.substr(0, dot)];
      path = path.substr(dot + 1);
    }
    if (c.after.empty())
      at->erase(path);
    else
      (*at)[path] = nlohmann::json::parse(c.after);
  }
  return j.dump();
}

RemedySearch remedies_for(const std::shared_ptr<const Policy>& p, const std::string& json,
                          Decision& d, RemedyOptions options = {}) {
  d = decide(p, json);
  return find_remedies(p, json, d, options);
}

std::string slurp(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

}  // namespace

TEST_CASE("a single fact that blocks a permit is a remedy, and so is the other way out") {
  auto p = compile(std::string("module m \"m\"\nrule base: permit") + kTail +
                   "rule baa: forbid when data.categories has \"phi\" and not vendor.baa_signed" +
                   kTail);
  std::string json = request(R"({"vendor": {"baa_signed": false}})");
  Decision d;
  RemedySearch s = remedies_for(p, json, d);
  REQUIRE(d.outcome == Outcome::kDeny);
  REQUIRE(s.remedies.size() == 2);
  CHECK_FALSE(s.cut_short);
  CHECK(remedy_text(*p, s.remedies[0]) == "permitted if `data.categories` becomes empty");
  CHECK(remedy_text(*p, s.remedies[1]) == "permitted if `vendor.baa_signed` becomes true");
  for (const auto& r : s.remedies)
    CHECK(decide(p, with_changes(json, r)).outcome == Outcome::kPermit);
}

TEST_CASE("two facts that are only enough together make one remedy of two changes") {
  auto p =
      compile(std::string("module m \"m\"\nrule base: permit") + kTail +
              "rule both: forbid when not (vendor.baa_signed and consent.form == written)" + kTail);
  std::string json = request(R"({"vendor": {"baa_signed": false}, "consent": {"form": "verbal"}})");
  Decision d;
  RemedySearch s = remedies_for(p, json, d);
  REQUIRE(s.remedies.size() == 1);
  CHECK(remedy_text(*p, s.remedies[0]) ==
        "permitted if `vendor.baa_signed` becomes true and `consent.form` becomes written");
  CHECK(decide(p, with_changes(json, s.remedies[0])).outcome == Outcome::kPermit);
}

TEST_CASE("fixed facts never appear in a remedy") {
  auto p = compile(std::string("module m \"m\"\nrule base: permit") + kTail +
                   "rule minors: forbid when patient.age < 18 or jurisdiction.country != \"US\"" +
                   kTail);
  Decision d;
  RemedySearch s = remedies_for(p, request(R"({"patient": {"age": 16}})"), d);
  REQUIRE(d.outcome == Outcome::kDeny);
  CHECK(s.remedies.empty());
  CHECK(remedies_text(*p, s).find("no change of at most 3 facts") != std::string::npos);
}

TEST_CASE(
    "a missing fact is a remedy when giving it settles the rule, with the obligations that "
    "follow") {
  auto p = compile(
      std::string(
          "module m \"m\"\nobligation review \"a clinician reviews\"\nrule base: require review") +
      kTail + "rule training: forbid when vendor.trains_on_inputs" + kTail);
  std::string json = request(R"({"vendor": {"trains_on_inputs": null}})");
  Decision d;
  RemedySearch s = remedies_for(p, json, d);
  REQUIRE(d.outcome == Outcome::kDeny);
  REQUIRE(s.remedies.size() == 1);
  CHECK(remedy_text(*p, s.remedies[0]) ==
        "permitted if `vendor.trains_on_inputs` is given as false");
  REQUIRE(s.remedies[0].obligations.size() == 1);
  CHECK(p->obligations[s.remedies[0].obligations[0]].name == "review");
  auto j = nlohmann::json::parse(remedies_json(*p, s));
  CHECK(j[0]["changes"][0]["fact"] == "vendor.trains_on_inputs");
  CHECK(j[0]["changes"][0]["from"].is_null());
  CHECK(j[0]["changes"][0]["to"] == false);
  CHECK(j[0]["obligations"][0]["id"] == "review");
}

TEST_CASE("numbers move just across the constant they are compared with") {
  auto p = compile(
      std::string("module m \"m\"\nrule base: permit") + kTail +
      "rule keep: forbid when vendor.retention_days > 30 or days_since(consent.date) > 365" +
      kTail);
  std::string json =
      request(R"({"vendor": {"retention_days": 90}, "consent": {"date": "2024-01-01"}})");
  Decision d;
  RemedySearch s = remedies_for(p, json, d);
  REQUIRE(s.remedies.size() >= 1);
  CHECK(remedy_text(*p, s.remedies[0]).find("`vendor.retention_days` becomes 30") !=
        std::string::npos);
  CHECK(remedy_text(*p, s.remedies[0]).find("`consent.date` becomes \"2025-11-26T10:00:00Z\"") !=
        std::string::npos);
  CHECK(decide(p, with_changes(json, s.remedies[0])).outcome == Outcome::kPermit);
}

TEST_CASE("the search stops at its time budget and says so") {
  auto p =
      compile(std::string("module m \"m\"\nrule base: permit") + kTail +
              "rule both: forbid when not (vendor.baa_signed and consent.form == written)" + kTail);
  RemedyOptions options;
  options.budget = std::chrono::milliseconds(0);
  Decision d;
  RemedySearch s = remedies_for(p, request(R"({"vendor": {"baa_signed": false}})"), d, options);
  CHECK(s.cut_short);
  CHECK(remedies_text(*p, s, options).find("cut short") != std::string::npos);
}

TEST_CASE(
    "every remedy for the shipped examples is verified: it makes a permit, changes no fixed fact") {
  Diagnostics diags;
  Bundle b = load_bundle({source_dir() + "/policies"}, diags);
  REQUIRE(b.policy);
  size_t denied = 0, with_remedies = 0;
  for (const auto& entry :
       fs::directory_iterator(fs::path(source_dir()) / "policies" / "examples")) {
    if (entry.path().extension() != ".json") continue;
    INFO(entry.path().filename().string());
    std::string json = slurp(entry.path());
    Decision d;
    RemedyOptions options;
    options.budget = std::chrono::milliseconds(2000);
    RemedySearch s = remedies_for(b.policy, json, d, options);
    if (d.outcome == Outcome::kPermit) {
      CHECK(s.remedies.empty());
      continue;
    }
    ++denied;
    if (!s.remedies.empty()) ++with_remedies;
    CHECK(s.remedies.size() <= 5);
    size_t last = 0;
    for (const Remedy& r : s.remedies) {
      INFO(remedy_text(*b.policy, r));
      CHECK(r.changes.size() >= last);
      last = r.changes.size();
      CHECK(r.changes.size() <= 3);
      for (const FactChange& c : r.changes) {
        for (auto at = static_cast<int32_t>(c.slot); at >= 0;
             at = b.policy->schema.attributes[static_cast<size_t>(at)].parent)
          CHECK_FALSE(b.policy->schema.attributes[static_cast<size_t>(at)].fixed);
      }
      Decision after = decide(b.policy, with_changes(json, r));
      CHECK(after.outcome == Outcome::kPermit);
      std::vector<uint32_t> obligations;
      for (const auto& [o, rule] : after.obligations)
        if (std::find(obligations.begin(), obligations.end(), o) == obligations.end())
          obligations.push_back(o);
      CHECK(obligations == r.obligations);
    }
  }
  CHECK(denied >= 10);
  CHECK(with_remedies >= denied - 2);
}

TEST_CASE("ethos eval --remedies prints the remedies and adds them to --json") {
  std::string example = source_dir() + "/policies/examples/13-utah-chatbot-targeted-ads.json";
  auto text = run_ethos({"eval", "--policies", source_dir() + "/policies", "--remedies", example});
  CHECK(text.exit_code == 0);
  CHECK(text.out.find("what would make this a permit:") != std::string::npos);
  CHECK(text.out.find("  - permitted if `") != std::string::npos);
  auto json = run_ethos(
      {"eval", "--policies", source_dir() + "/policies", "--remedies", "--json", example});
  CHECK(json.exit_code == 0);
  auto doc = nlohmann::json::parse(json.out);
  REQUIRE(doc["remedies"].is_array());
  CHECK_FALSE(doc["remedies"].empty());
  CHECK(doc["remedies"][0]["outcome"] == "permit");
  CHECK(doc["remedies"][0]["text"].get<std::string>().rfind("permitted if", 0) == 0);
  auto permit =
      run_ethos({"eval", "--policies", source_dir() + "/policies", "--remedies", "--json",
                 source_dir() + "/policies/examples/01-session-summary-enterprise-baa.json"});
  CHECK(nlohmann::json::parse(permit.out)["remedies"].empty());
}

// Missing facts: only those that could change the outcome (check_missing_facts).

TEST_CASE("a missing fact that a rule reads but that cannot change the outcome is not useful") {
  auto p = compile(std::string("module m \"m\"\nrule base: permit") + kTail +
                   "rule r: forbid when not patient.guardian_permission"
                   " or (vendor.trains_on_inputs and patient.age > 200)" +
                   kTail);
  std::string json = request(
      R"({"patient": {"guardian_permission": null}, "vendor": {"trains_on_inputs": null}})");
  Decision d = decide(p, json);
  REQUIRE(d.outcome == Outcome::kDeny);
  REQUIRE(d.missing.size() == 2);  // the evaluator names both facts the rule reads
  MissingFactCheck m = check_missing_facts(p, json, d);
  CHECK(m.exhaustive);
  REQUIRE(m.useful.size() == 1);
  CHECK(p->schema.attributes[m.useful[0]].path == "patient.guardian_permission");
  REQUIRE(m.useless.size() == 1);
  CHECK(p->schema.attributes[m.useless[0]].path == "vendor.trains_on_inputs");
}

TEST_CASE("two missing facts that change the outcome only together are both useful") {
  auto p =
      compile(std::string("module m \"m\"\nrule base: permit") + kTail +
              "rule r: forbid when patient.guardian_permission or vendor.trains_on_inputs" + kTail);
  std::string json = request(
      R"({"patient": {"guardian_permission": null}, "vendor": {"trains_on_inputs": null}})");
  Decision d = decide(p, json);
  REQUIRE(d.outcome == Outcome::kDeny);
  MissingFactCheck m = check_missing_facts(p, json, d);
  CHECK(m.exhaustive);
  CHECK(m.useful.size() == 2);
  CHECK(m.useless.empty());
}

TEST_CASE("a missing record is kept, and too many combinations keep every fact") {
  auto p = compile(std::string("module m \"m\"\nrule base: permit") + kTail +
                   "rule r: forbid when days_since(audit.last) > 30"
                   " or not patient.guardian_permission" +
                   kTail);
  std::string json = request(R"({"patient": {"guardian_permission": null}, "audit": null})");
  Decision d = decide(p, json);
  REQUIRE(d.missing.size() == 2);
  MissingFactCheck m = check_missing_facts(p, json, d);
  CHECK_FALSE(m.exhaustive);
  CHECK(m.useful == d.missing);
  std::string no_record =
      request(R"({"patient": {"guardian_permission": null}, "audit": {"last": "2026-11-20"}})");
  Decision e = decide(p, no_record);
  REQUIRE(e.missing.size() == 1);
  MissingFactCheck cut = check_missing_facts(p, no_record, e, 1);
  CHECK_FALSE(cut.exhaustive);
  CHECK(cut.useful == e.missing);
  CHECK(cut.useless.empty());
}

TEST_CASE("every missing fact of every shipped example could change its outcome") {
  Diagnostics diags;
  Bundle b = load_bundle({source_dir() + "/policies"}, diags);
  REQUIRE(b.policy);
  size_t named = 0;
  for (const auto& entry :
       fs::directory_iterator(fs::path(source_dir()) / "policies" / "examples")) {
    if (entry.path().extension() != ".json") continue;
    std::string json = slurp(entry.path());
    Decision d = decide(b.policy, json);
    MissingFactCheck m = check_missing_facts(b.policy, json, d);
    named += d.missing.size();
    INFO(entry.path().filename().string());
    CHECK(m.exhaustive);
    for (uint32_t slot : m.useless) {
      INFO("named but cannot change the outcome: " << b.policy->schema.attributes[slot].path);
      CHECK(false);
    }
  }
  CHECK(named >= 3);  // not vacuous: examples 11 and 21 name missing facts
}
