// Helpers of the AuthZEN tests: the pack's example requests told as AuthZEN
// evaluations, the mapping the specification's own examples are run under,
// and calls with an X-Request-ID.
#pragma once

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <string>

#include "server_fixture.hpp"

namespace ethos::testing {

using json = nlohmann::json;

// The facts of policies/examples/<name> under the shipped mapping
// (policies/authzen.json): subject = the actor, action = the purpose,
// resource = the patient's record, context = time, place, tool and the rest.
inline json authzen_example(const std::string& name) {
  json r = json::parse(example_request(name));
  json purpose = r["purpose"];
  // One action, one purpose: the example's first (they each have one).
  std::string category = purpose["categories"].at(0);
  purpose.erase("categories");
  json patient = r["patient"];
  std::string id = patient["id"];
  patient.erase("id");
  return json{
      {"subject", {{"type", "user"}, {"id", "clinician@example.org"}, {"properties", r["actor"]}}},
      {"action", {{"name", category}, {"properties", purpose}}},
      {"resource",
       {{"type", "patient_record"},
        {"id", id},
        {"properties", {{"patient", patient}, {"data", r["data"]}, {"consent", r["consent"]}}}}},
      {"context",
       {{"time", r["time"]},
        {"jurisdiction", r["jurisdiction"]},
        {"tool", r["tool"]},
        {"vendor", r["vendor"]},
        {"oversight", r["oversight"]},
        {"risk", r["risk"]}}}};
}

// The specification's examples name users, documents, accounts and todos,
// and the actions can_read, read and can_edit. This mapping runs them as
// written: every resource type is accepted, the three actions are
// translated into purposes, and the facts the schema needs come as
// properties (authzen_spec_facts) added to the examples: that addition is
// the only adaptation.
inline const char* kSpecExampleMapping = R"({
  "authzen_mapping": 1,
  "description": "the AuthZEN 1.0 specification's examples",
  "subject_types": ["user"],
  "map": [
    {"to": "request_id", "from": "@request_id"},
    {"to": "time", "from": "context.time"},
    {"to": "jurisdiction", "from": "context.jurisdiction"},
    {"to": "actor", "from": "subject.properties"},
    {"to": "purpose.categories", "from": "action.name",
     "values": {"can_read": "summarization", "read": "summarization", "can_edit": "documentation"}},
    {"to": "purpose", "from": "context.purpose"},
    {"to": "patient.id", "from": "resource.id"},
    {"to": "patient", "from": "resource.properties.patient"},
    {"to": "data", "from": "resource.properties.data"},
    {"to": "consent", "from": "resource.properties.consent"},
    {"to": "tool", "from": "context.tool"},
    {"to": "vendor", "from": "context.vendor"},
    {"to": "oversight", "from": "context.oversight"},
    {"to": "risk", "from": "context.risk"}
  ]
})";

// The facts added to a specification example, from policies/examples/<name>:
// subject.properties, resource.properties and the context beside its time.
struct SpecFacts {
  json subject_properties, resource_properties, context;
};
inline SpecFacts authzen_spec_facts(const std::string& name) {
  json a = authzen_example(name);
  json context = a["context"];
  context.erase("time");
  json purpose = a["action"]["properties"];
  context["purpose"] = purpose;
  return SpecFacts{a["subject"]["properties"], a["resource"]["properties"], context};
}

// A server whose pack carries `mapping` as its authzen.json (the shipped
// one when empty).
inline void use_mapping(ServeProcess& s, const std::string& mapping) {
  if (!mapping.empty()) write_file(s.policies() + "/authzen.json", mapping);
  s.start();
}

inline HttpResult post_authzen(ServeProcess& s, const std::string& path, const json& body,
                               const std::string& request_id, const std::string& token = {}) {
  httplib::Headers h{{"Authorization", "Bearer " + (token.empty() ? s.decider : token)},
                     {"Content-Type", "application/json"}};
  if (!request_id.empty()) h.emplace("X-Request-ID", request_id);
  return s.send("POST", path, body.dump(), h);
}

inline json json_of(const HttpResult& r, int status = 200) {
  INFO("status " << r.status << ": " << r.body);
  REQUIRE(r.status == status);
  return json::parse(r.body);
}

// The decisions the log holds for a request id (as the auditor reads them).
inline json logged(ServeProcess& s, const std::string& request_id) {
  return json_of(s.get("/v1/decisions?request_id=" + request_id, s.auditor))["decisions"];
}

}  // namespace ethos::testing
