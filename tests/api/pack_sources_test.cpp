// Every shipped example, moved to other places and to the day before each
// date the pack knows: each declared source a decision cites is in force for
// the request's jurisdiction and time. The places are a US state with none of
// the pack's state laws (Ohio) and Germany, where no US law, state or
// federal, may be cited.
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include <ethos/api/engine.hpp>
#include <ethos/base/time.hpp>

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

fs::path source_dir() {
  const char* dir = std::getenv("ETHOS_SOURCE_DIR");
  return dir ? fs::path(dir) : fs::current_path();
}

json read_json(const fs::path& p) {
  std::ifstream f(p);
  std::stringstream ss;
  ss << f.rdbuf();
  return json::parse(ss.str());
}

// Whether a source of `jurisdiction` applies to request `r`: written apart
// from the engine's own matcher.
bool applies_in(const std::string& jurisdiction, const json& r) {
  const json& j = r["jurisdiction"];
  const std::string country = j.value("country", "");
  const std::string state =
      j.contains("state") && j["state"].is_string() ? j["state"].get<std::string>() : "";
  if (jurisdiction == "global") return true;
  if (jurisdiction == "EU") return j.value("eu", false);
  if (jurisdiction.size() == 2) return country == jurisdiction;
  return country + "-" + state == jurisdiction;
}

int64_t seconds(const std::string& text) {
  int64_t t = 0;
  REQUIRE(ethos::parse_timestamp(text, t));
  return t;
}

bool in_force(const ethos::api::SourceCitation& s, int64_t time) {
  if (!s.from.empty() && time < seconds(s.from)) return false;
  if (!s.until.empty() && time >= seconds(s.until)) return false;
  return true;
}

}  // namespace

TEST_CASE("every example, moved in place and time, cites only sources in force there and then") {
  const auto engine = ethos::api::Engine::load({(source_dir() / "policies").string()});
  const auto& policy = *engine.bundle().policy;
  std::set<int64_t> dates;
  for (const auto& s : policy.sources) {
    if (s.from != INT64_MIN) dates.insert(s.from);
    if (s.until != INT64_MAX) dates.insert(s.until);
  }
  const std::vector<json> places = {
      json::parse(R"({"country": "US", "state": "OH", "eu": false})"),
      json::parse(R"({"country": "DE", "state": null, "eu": true})"),
  };
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(source_dir() / "policies/examples"))
    if (e.path().extension() == ".json") files.push_back(e.path());
  std::sort(files.begin(), files.end());
  REQUIRE(files.size() >= 20);

  size_t decisions = 0, declared = 0, state_laws = 0, federal_laws = 0;
  auto check = [&](const json& request, const std::string& variant) {
    auto d = engine.evaluate(request.dump());
    ++decisions;
    const int64_t time = d.time;
    std::vector<const ethos::api::Reason*> reasons;
    for (const auto& r : d.reasons) reasons.push_back(&r);
    for (const auto& r : d.advice) reasons.push_back(&r);
    for (const auto* r : reasons) {
      if (!r->sources) continue;
      for (const auto& s : *r->sources) {
        ++declared;
        if (s.jurisdiction.size() > 2 && s.jurisdiction != "global") ++state_laws;
        if (s.jurisdiction == "US") ++federal_laws;
        INFO(variant << ": " << r->rule << " cites " << s.id << " (" << s.jurisdiction << ")");
        CHECK(applies_in(s.jurisdiction, request));
        CHECK(in_force(s, time));
      }
    }
  };
  for (const auto& file : files) {
    json request = read_json(file);
    const std::string name = file.filename().string();
    check(request, name);
    for (const auto& place : places) {
      json moved = request;
      moved["jurisdiction"]["country"] = place["country"];
      moved["jurisdiction"]["eu"] = place["eu"];
      if (place["state"].is_null())
        moved["jurisdiction"].erase("state");
      else
        moved["jurisdiction"]["state"] = place["state"];
      check(moved, name + " in " + place.dump());
    }
    for (int64_t date : dates) {
      json earlier = request;
      earlier["time"] = ethos::format_timestamp(date - 86400);
      check(earlier, name + " at " + earlier["time"].get<std::string>());
    }
  }
  // Not vacuous: the pack declares dated sources and the examples cite state laws.
  CHECK(dates.size() >= 5);
  CHECK(declared > 0);
  CHECK(state_laws > 0);
  CHECK(federal_laws > 0);  // US federal law (HIPAA, Part 2, ...) is declared and scoped too
  INFO(decisions << " decisions");
  CHECK(decisions > files.size() * 3);
}

namespace {

// Every (source, section) the decision's reasons and advice cite.
std::set<std::string> cited_sections(const ethos::api::Decision& d) {
  std::set<std::string> out;
  auto add = [&](const std::vector<ethos::api::Reason>& reasons) {
    for (const auto& r : reasons)
      if (r.sources)
        for (const auto& s : *r.sources) out.insert(s.id + " " + s.section);
  };
  add(d.reasons);
  add(d.advice);
  return out;
}

}  // namespace

TEST_CASE("a clinic that only deploys an ai tool is never cited the ai act's provider duties") {
  const auto engine = ethos::api::Engine::load({(source_dir() / "policies").string()});
  // A stale bias audit (07) and a patient outside the tool's validation (24),
  // both moved to a German clinic after the AI Act's high-risk date.
  for (const char* name : {"07-stale-bias-audit-assessment-scoring.json",
                           "24-vietnamese-speaking-patient-treatment-plan.json"}) {
    json request = read_json(source_dir() / "policies/examples" / name);
    request["time"] = "2026-09-01T10:00:00Z";
    request["jurisdiction"] = json::parse(R"({"country": "DE", "eu": true, "setting": "clinic"})");
    request["consent"]["gdpr_art9_basis"] = "health_care";
    request["vendor"]["professional_secrecy"] = true;
    request["vendor"]["processing_location"] = "eea";
    request["purpose"]["large_scale"] = false;
    INFO(name);
    request["actor"]["ai_act_role"] = "deployer";
    const auto deployer = cited_sections(engine.evaluate(request.dump()));
    CHECK(deployer.count("eu_ai_act_high_risk Art. 10") == 0);
    request["actor"]["ai_act_role"] = "provider_and_deployer";
    const auto provider = cited_sections(engine.evaluate(request.dump()));
    if (std::string(name).rfind("07-", 0) == 0) {
      CHECK(provider.count("eu_ai_act_high_risk Art. 10") == 1);  // the provider is cited Art. 10
    } else {
      CHECK(deployer.count("eu_ai_act_deployers Art. 26(4)") == 1);  // the deployer's own duty
    }
  }
}

TEST_CASE("oregon's crisis protocol duty is cited for an oregon request from 2027-01-01 only") {
  const auto engine = ethos::api::Engine::load({(source_dir() / "policies").string()});
  json request = read_json(source_dir() / "policies/examples/40-oregon-teen-ai-companion.json");
  request["tool"]["crisis_protocol_published"] = false;
  auto protocol_cites = [&](const std::string& time) {
    request["time"] = time;
    std::set<std::string> ids;
    for (const auto& r : engine.evaluate(request.dump()).reasons)
      if (r.rule == "safety.patient_facing_ai_has_a_published_crisis_protocol" && r.sources)
        for (const auto& s : *r.sources) ids.insert(s.id);
    return ids;
  };
  CHECK(protocol_cites("2027-01-02T10:00:00Z").count("or_sb1546") == 1);
  CHECK(protocol_cites("2026-12-31T10:00:00Z").count("or_sb1546") == 0);
  request["jurisdiction"]["state"] = "OH";  // Ohio has no such law
  CHECK(protocol_cites("2027-01-02T10:00:00Z").empty());
}
