// The AuthZEN 1.0 endpoints of `ethos serve` against the specification's own
// examples (openid/authzen, api/authorization-api-1_0.md): the Access
// Evaluation request, the Access Evaluations request with default values,
// the three evaluation semantics and the metadata document. The examples are
// sent as written, with the facts the pack needs added as properties
// (authzen_support.hpp says how); each decision is checked against the
// spec's response and in the log.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "authzen_support.hpp"
#include "server_fixture.hpp"

using ethos::testing::authzen_spec_facts;
using ethos::testing::HttpResult;
using ethos::testing::json;
using ethos::testing::json_of;
using ethos::testing::kSpecExampleMapping;
using ethos::testing::logged;
using ethos::testing::post_authzen;
using ethos::testing::ServeProcess;
using ethos::testing::use_mapping;

namespace {

const char* kPermitFacts = "01-session-summary-enterprise-baa.json";
const char* kDenyFacts = "22-patient-opted-out.json";  // the patient opted out of AI

// The spec's subject with the facts of `facts` as its properties.
json alice(const char* facts) {
  return {{"type", "user"},
          {"id", "alice@example.com"},
          {"properties", authzen_spec_facts(facts).subject_properties}};
}

json resource(const std::string& type, const std::string& id, const char* facts) {
  return {
      {"type", type}, {"id", id}, {"properties", authzen_spec_facts(facts).resource_properties}};
}

json context(const std::string& time, const char* facts) {
  json c = authzen_spec_facts(facts).context;
  c["time"] = time;
  return c;
}

std::vector<bool> decisions(const json& response) {
  std::vector<bool> out;
  for (const auto& e : response.at("evaluations")) out.push_back(e.at("decision").get<bool>());
  return out;
}

// The spec's "Evaluate `read` action for three documents" request, with
// documents 1 and 3 permitted and document 2 denied by their facts.
json read_three_documents(const char* semantic) {
  json body = {{"subject", alice(kPermitFacts)},
               {"action", {{"name", "read"}}},
               {"context", context("2026-11-26T10:15-05:00", kPermitFacts)},
               {"evaluations",
                {{{"resource", resource("document", "1", kPermitFacts)}},
                 {{"resource", resource("document", "2", kDenyFacts)}},
                 {{"resource", resource("document", "3", kPermitFacts)}}}}};
  if (semantic) body["options"] = {{"evaluations_semantic", semantic}};
  return body;
}

}  // namespace

TEST_CASE("the specification's HTTPS access evaluation example is a permit with its X-Request-ID",
          "[serve][authzen]") {
  ServeProcess s({}, false);
  use_mapping(s, kSpecExampleMapping);
  // As in the spec, time included, with the facts added as properties.
  json body = {{"subject", alice(kPermitFacts)},
               {"resource", resource("todo", "1", kPermitFacts)},
               {"action", {{"name", "can_read"}}},
               {"context", context("1985-10-26T01:22-07:00", kPermitFacts)}};
  const std::string rid = "bfe9eb29-ab87-4ca3-be83-a1d5d8305716";
  HttpResult r = post_authzen(s, "/access/v1/evaluation", body, rid);
  json d = json_of(r);
  CHECK(r.header("X-Request-ID") == rid);
  CHECK(r.header("Content-Type") == "application/json");
  CHECK(d["decision"] == true);  // the spec's response: {"decision": true}
  CHECK(d["context"]["outcome"] == "permit");
  CHECK(d["context"]["request_id"] == rid);
  // The time without seconds, as the spec writes it, is that minute.
  CHECK(d["context"]["time"] == "1985-10-26T08:22:00Z");
  json log = logged(s, rid);
  REQUIRE(log.size() == 1);
  CHECK(log[0]["decision_id"] == d["context"]["decision_id"]);
}

TEST_CASE("the specification's access evaluation request example is answered as /v1/decide answers",
          "[serve][authzen]") {
  ServeProcess s({}, false);
  use_mapping(s, kSpecExampleMapping);
  json body = {{"subject", alice(kPermitFacts)},
               {"resource", resource("account", "123", kPermitFacts)},
               {"action", {{"name", "can_read"}, {"properties", {{"method", "GET"}}}}},
               {"context", context("1985-10-26T01:22-07:00", kPermitFacts)}};
  json d = json_of(post_authzen(s, "/access/v1/evaluation", body, "spec-request-example"));
  CHECK(d["decision"] == true);
  // The same interaction asked the ethos way gets the same decision.
  json request = json::parse(ethos::testing::example_request(kPermitFacts));
  request["request_id"] = "spec-request-example";
  request["patient"]["id"] = "123";
  request["time"] = "1985-10-26T01:22:00-07:00";
  json direct = json_of(s.post("/v1/decide?trace=none", request.dump(), s.decider));
  for (const char* key : {"outcome", "reasons", "obligations", "advice", "missing_facts"})
    CHECK(d["context"][key] == direct[key]);
}

TEST_CASE(
    "the specification's evaluations example takes defaults from the top level and an "
    "evaluation's own action replaces the default",
    "[serve][authzen]") {
  ServeProcess s({}, false);
  use_mapping(s, kSpecExampleMapping);
  json body = {{"subject", alice(kPermitFacts)},
               {"context", context("2024-05-31T15:22-07:00", kPermitFacts)},
               {"action", {{"name", "can_read"}}},
               {"evaluations",
                {{{"resource", resource("document", "boxcarring.md", kPermitFacts)}},
                 {{"resource", resource("document", "subject-search.md", kDenyFacts)}},
                 {{"action", {{"name", "can_edit"}}},
                  {"resource", resource("document", "resource-search.md", kDenyFacts)}}}}};
  const std::string rid = "spec-evaluations-example";
  HttpResult r = post_authzen(s, "/access/v1/evaluations", body, rid);
  json d = json_of(r);
  CHECK(r.header("X-Request-ID") == rid);
  CHECK(!d.contains("decision"));  // RECOMMENDED to omit beside `evaluations`
  CHECK(decisions(d) == std::vector<bool>{true, false, false});  // as the spec's response
  // Each evaluation was recorded with the action it had: the default, or its own.
  std::vector<std::string> categories;
  for (const auto& e : d["evaluations"]) {
    json one = json_of(
        s.get("/v1/decisions/" + e["context"]["decision_id"].get<std::string>(), s.auditor));
    categories.push_back(one["request"]["purpose"]["categories"].at(0).get<std::string>());
  }
  CHECK(categories == std::vector<std::string>{"summarization", "summarization", "documentation"});
  CHECK(logged(s, rid).size() == 3);
}

TEST_CASE("the specification's evaluations example without defaults is answered in order",
          "[serve][authzen]") {
  ServeProcess s({}, false);
  use_mapping(s, kSpecExampleMapping);
  json body = {{"evaluations", json::array()}};
  for (const auto& [id, facts] :
       {std::pair{"boxcarring.md", kPermitFacts}, std::pair{"subject-search.md", kDenyFacts},
        std::pair{"resource-search.md", kPermitFacts}})
    body["evaluations"].push_back({{"subject", alice(kPermitFacts)},
                                   {"action", {{"name", "can_read"}}},
                                   {"resource", resource("document", id, facts)},
                                   {"context", context("2024-05-31T15:22-07:00", kPermitFacts)}});
  json d = json_of(post_authzen(s, "/access/v1/evaluations", body, "spec-no-defaults"));
  CHECK(decisions(d) == std::vector<bool>{true, false, true});
  CHECK(logged(s, "spec-no-defaults").size() == 3);
}

TEST_CASE("execute_all evaluates and records every evaluation, in order", "[serve][authzen]") {
  ServeProcess s({}, false);
  use_mapping(s, kSpecExampleMapping);
  json all = read_three_documents("execute_all");
  all["options"]["another_option"] = "value";  // as in the spec's options example: ignored
  json d = json_of(post_authzen(s, "/access/v1/evaluations", all, "sem-all"));
  CHECK(decisions(d) == std::vector<bool>{true, false, true});  // the spec's response
  CHECK(logged(s, "sem-all").size() == 3);
  // Without options, execute_all is the default.
  json dflt = json_of(
      post_authzen(s, "/access/v1/evaluations", read_three_documents(nullptr), "sem-default"));
  CHECK(decisions(dflt) == std::vector<bool>{true, false, true});
}

TEST_CASE("deny_on_first_deny stops at the first denial and records only what it answered",
          "[serve][authzen]") {
  ServeProcess s({}, false);
  use_mapping(s, kSpecExampleMapping);
  json d = json_of(post_authzen(s, "/access/v1/evaluations",
                                read_three_documents("deny_on_first_deny"), "sem-deny"));
  CHECK(decisions(d) == std::vector<bool>{true, false});  // the spec's response
  // Marked as the spec's example marks it.
  CHECK(d["evaluations"][1]["context"]["code"] == "200");
  CHECK(d["evaluations"][1]["context"]["reason"] == "deny_on_first_deny");
  CHECK(!d["evaluations"][0]["context"].contains("reason"));
  CHECK(logged(s, "sem-deny").size() == 2);
}

TEST_CASE("permit_on_first_permit stops at the first permit and records only what it answered",
          "[serve][authzen]") {
  ServeProcess s({}, false);
  use_mapping(s, kSpecExampleMapping);
  json d = json_of(post_authzen(s, "/access/v1/evaluations",
                                read_three_documents("permit_on_first_permit"), "sem-permit"));
  CHECK(decisions(d) == std::vector<bool>{true});  // the spec's response
  CHECK(logged(s, "sem-permit").size() == 1);
  // A denial first: evaluated on to the permit.
  json body = read_three_documents("permit_on_first_permit");
  std::swap(body["evaluations"][0], body["evaluations"][1]);
  json d2 = json_of(post_authzen(s, "/access/v1/evaluations", body, "sem-permit-2"));
  CHECK(decisions(d2) == std::vector<bool>{false, true});
  CHECK(logged(s, "sem-permit-2").size() == 2);
}

TEST_CASE("an unknown evaluations_semantic is refused with its path", "[serve][authzen]") {
  ServeProcess s({}, false);
  use_mapping(s, kSpecExampleMapping);
  json body = read_three_documents("first_come");
  json e = json_of(post_authzen(s, "/access/v1/evaluations", body, "sem-bad"), 400)["error"];
  CHECK(e["path"] == "$.options.evaluations_semantic");
  CHECK(logged(s, "sem-bad").empty());
}

TEST_CASE("an evaluation's context replaces the default context whole, and is not merged into it",
          "[serve][authzen]") {
  ServeProcess s({}, false);
  use_mapping(s, kSpecExampleMapping);
  json body = read_three_documents(nullptr);
  body["evaluations"][1]["context"] = {{"time", "2026-11-26T10:15:00Z"}};
  json e = json_of(post_authzen(s, "/access/v1/evaluations", body, "ctx-whole"), 400)["error"];
  CHECK(e["code"] == "invalid_request");
  // The first fact the request lacks is named where that evaluation's context is.
  CHECK(e["path"].get<std::string>().rfind("$.evaluations[1].context.", 0) == 0);
  CHECK(logged(s, "ctx-whole").empty());  // nothing is decided when one evaluation cannot be
}

TEST_CASE("an evaluation without a subject, and no default subject, is refused with its path",
          "[serve][authzen]") {
  ServeProcess s({}, false);
  use_mapping(s, kSpecExampleMapping);
  json body = read_three_documents(nullptr);
  body["evaluations"][0]["subject"] = body["subject"];
  body.erase("subject");
  json e = json_of(post_authzen(s, "/access/v1/evaluations", body, "no-subject"), 400)["error"];
  CHECK(e["path"] == "$.evaluations[1].subject");
  CHECK(logged(s, "no-subject").empty());
}

TEST_CASE("the evaluations endpoint without evaluations answers as a single evaluation",
          "[serve][authzen]") {
  ServeProcess s({}, false);
  use_mapping(s, kSpecExampleMapping);
  json body = read_three_documents(nullptr);
  body["resource"] = body["evaluations"][0]["resource"];
  body["evaluations"] = json::array();
  json d = json_of(post_authzen(s, "/access/v1/evaluations", body, "empty-batch"));
  CHECK(d["decision"] == true);
  CHECK(!d.contains("evaluations"));
}

TEST_CASE("the metadata document names the two evaluation endpoints and no search endpoint",
          "[serve][authzen]") {
  ServeProcess s;
  HttpResult r = s.get("/.well-known/authzen-configuration");  // no token: metadata is public
  json m = json_of(r);
  CHECK(r.header("Content-Type") == "application/json");
  std::string base = "http://127.0.0.1:" + std::to_string(s.port());
  CHECK(m == json{{"policy_decision_point", base},
                  {"access_evaluation_endpoint", base + "/access/v1/evaluation"},
                  {"access_evaluations_endpoint", base + "/access/v1/evaluations"}});
  // The URLs it names are the ones that answer.
  json body = ethos::testing::authzen_example(kPermitFacts);
  CHECK(json_of(post_authzen(s, "/access/v1/evaluation", body, "via-metadata"))["decision"] ==
        true);
}
