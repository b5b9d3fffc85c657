// The AuthZEN endpoints under the shipped mapping (policies/authzen.json):
// what cannot be mapped is a 400 naming the AuthZEN property, never a
// permit; roles; escalations and missing facts in the context; every
// decision in the log, verifiable and replayable; fail closed.
#include <algorithm>
#include <catch2/catch.hpp>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <thread>

#include "authzen_support.hpp"
#include "server_fixture.hpp"
#include "support.hpp"

using ethos::testing::authzen_example;
using ethos::testing::HttpResult;
using ethos::testing::json;
using ethos::testing::json_of;
using ethos::testing::logged;
using ethos::testing::post_authzen;
using ethos::testing::ServeProcess;

namespace {

const char* kPermit = "01-session-summary-enterprise-baa.json";

json error_400(ServeProcess& s, const json& body, const std::string& rid,
               const std::string& endpoint = "/access/v1/evaluation") {
  HttpResult r = post_authzen(s, endpoint, body, rid);
  INFO(r.body);
  CHECK(r.body.find("\"decision\"") == std::string::npos);
  json e = json_of(r, 400)["error"];
  CHECK(logged(s, rid).empty());
  return e;
}

}  // namespace

TEST_CASE("a fact the schema requires but the AuthZEN request lacks is a 400 naming its property",
          "[serve][authzen]") {
  ServeProcess s;
  json body = authzen_example(kPermit);
  body["resource"]["properties"]["patient"].erase("age");
  json e = error_400(s, body, "no-age");
  CHECK(e["code"] == "invalid_request");
  CHECK(e["path"] == "$.resource.properties.patient.age");
  CHECK(e["message"].get<std::string>().find("patient.age") != std::string::npos);

  json no_jurisdiction = authzen_example(kPermit);
  no_jurisdiction["context"].erase("jurisdiction");
  CHECK(error_400(s, no_jurisdiction, "no-place")["path"] == "$.context.jurisdiction");

  json no_time = authzen_example(kPermit);
  no_time.erase("context");
  CHECK(error_400(s, no_time, "no-context")["path"] == "$.context.time");
}

TEST_CASE("a property of the wrong type is a 400 at its AuthZEN path", "[serve][authzen]") {
  ServeProcess s;
  json body = authzen_example(kPermit);
  body["resource"]["properties"]["patient"]["age"] = "34";
  CHECK(error_400(s, body, "age-text")["path"] == "$.resource.properties.patient.age");
  json purpose = authzen_example(kPermit);
  purpose["action"]["name"] = "can_read";  // not a purpose of the schema
  CHECK(error_400(s, purpose, "bad-purpose")["path"] == "$.action.name");
}

TEST_CASE("what AuthZEN itself requires is checked first, each with its path", "[serve][authzen]") {
  ServeProcess s;
  json no_action = authzen_example(kPermit);
  no_action.erase("action");
  CHECK(error_400(s, no_action, "no-action")["path"] == "$.action");
  json no_id = authzen_example(kPermit);
  no_id["subject"].erase("id");
  CHECK(error_400(s, no_id, "no-id")["path"] == "$.subject.id");
  json bad_props = authzen_example(kPermit);
  bad_props["resource"]["properties"] = "none";
  CHECK(error_400(s, bad_props, "bad-props")["path"] == "$.resource.properties");
  json document = authzen_example(kPermit);
  document["resource"]["type"] = "document";  // the shipped mapping decides patient records
  CHECK(error_400(s, document, "document")["path"] == "$.resource.type");
  CHECK(error_400(s, json::array(), "array")["path"] == "$");
}

TEST_CASE("a key given twice, and the same attribute from two properties, are refused",
          "[serve][authzen]") {
  ServeProcess s;
  std::string text = authzen_example(kPermit).dump();
  text.insert(1, R"("action":{"name":"diagnosis"},)");
  httplib::Headers h{{"Authorization", "Bearer " + s.decider}, {"X-Request-ID", "dup"}};
  json e = json_of(s.send("POST", "/access/v1/evaluation", text, h), 400)["error"];
  CHECK(e["path"] == "$.action");
  CHECK(e["message"].get<std::string>().rfind("duplicate field `action`", 0) == 0);
  CHECK(logged(s, "dup").empty());
  json twice = authzen_example(kPermit);
  twice["resource"]["properties"]["patient"]["id"] = "p-other";  // resource.id gives it too
  json e2 = error_400(s, twice, "twice");
  CHECK(e2["path"] == "$.resource.properties.patient.id");
  CHECK(e2["message"].get<std::string>().find("$.resource.id") != std::string::npos);
}

TEST_CASE("properties the schema does not know are ignored and reported", "[serve][authzen]") {
  ServeProcess s;
  json body = authzen_example(kPermit);
  body["subject"]["properties"]["department"] = "Sales";  // the spec's own example property
  json d = json_of(post_authzen(s, "/access/v1/evaluation", body, "extra"));
  CHECK(d["decision"] == true);
  CHECK(d["context"]["ignored_properties"] == json::array({"$.subject.properties.department"}));
}

TEST_CASE("an escalation is not a permit: false, with the escalation in the context",
          "[serve][authzen]") {
  ServeProcess s;
  json body = authzen_example("04-self-harm-signal-patient-chat.json");
  json d = json_of(post_authzen(s, "/access/v1/evaluation", body, "escalate"));
  CHECK(d["decision"] == false);
  const json& c = d["context"];
  CHECK(c["outcome"] == "escalate");
  CHECK(c["escalation"]["rules"] == json::array({"safety.risk_signals_are_escalated_to_a_human"}));
  std::vector<std::string> obligations;
  for (const auto& o : c["obligations"]) obligations.push_back(o["id"].get<std::string>());
  CHECK(std::find(obligations.begin(), obligations.end(), "crisis_resources_988") !=
        obligations.end());
}

TEST_CASE("missing facts deny, and the context names where they go in an AuthZEN request",
          "[serve][authzen]") {
  ServeProcess s;
  json body = authzen_example("11-minor-guardian-permission-unknown.json");
  json d = json_of(post_authzen(s, "/access/v1/evaluation", body, "missing"));
  CHECK(d["decision"] == false);
  CHECK(d["context"]["missing_facts"] == json::array({"consent.guardian_permission"}));
  CHECK(d["context"]["missing_properties"] ==
        json::array({"$.resource.properties.consent.guardian_permission"}));
  REQUIRE(!d["context"]["reasons"].empty());
  CHECK(d["context"]["reasons"][0]["rule"] ==
        "safety.those_who_cannot_consent_alone_need_permission");
}

TEST_CASE("the AuthZEN endpoints need a decider token", "[serve][authzen][auth]") {
  ServeProcess s;
  json body = authzen_example(kPermit);
  for (const char* path : {"/access/v1/evaluation", "/access/v1/evaluations"}) {
    HttpResult auditor = post_authzen(s, path, body, "role", s.auditor);
    CHECK(json_of(auditor, 403)["error"]["code"] == "forbidden");
    CHECK(auditor.header("X-Request-ID") == "role");
    CHECK(json_of(post_authzen(s, path, body, "role", s.admin), 403)["error"]["code"] ==
          "forbidden");
    httplib::Headers none{{"Content-Type", "application/json"}};
    CHECK(s.send("POST", path, body.dump(), none).status == 401);
  }
  CHECK(logged(s, "role").empty());
  CHECK(s.get("/access/v1/evaluation", s.decider).status == 405);
}

TEST_CASE("every AuthZEN decision is in the log, verifies, and replays to itself",
          "[serve][authzen][log]") {
  ServeProcess s;
  json batch = {{"evaluations", json::array()}};
  for (const char* name : {kPermit, "02-consumer-chatbot-identifiable-notes.json",
                           "04-self-harm-signal-patient-chat.json"})
    batch["evaluations"].push_back(authzen_example(name));
  json d = json_of(post_authzen(s, "/access/v1/evaluations", batch, "logged-batch"));
  REQUIRE(d["evaluations"].size() == 3);
  for (const auto& e : d["evaluations"]) {
    const json& c = e["context"];
    json one = json_of(s.get("/v1/decisions/" + c["decision_id"].get<std::string>(), s.auditor));
    CHECK(one["decision"]["outcome"] == c["outcome"]);
    CHECK(one["request"]["request_id"] == "logged-batch");
    CHECK(e["decision"] == (c["outcome"] == "permit"));
  }
  json v = json_of(s.get("/v1/verify", s.auditor));
  CHECK(v["ok"] == true);
  CHECK(v["decisions"] == 3);
  json replay = json_of(s.post("/v1/replay", "{}", s.auditor));
  CHECK(replay["replayed"] == 3);
  CHECK(replay["reproduced"] == 3);
}

TEST_CASE("an X-Request-ID is made when absent, answered and recorded, and refused when too long",
          "[serve][authzen]") {
  ServeProcess s;
  HttpResult r = post_authzen(s, "/access/v1/evaluation", authzen_example(kPermit), "");
  json d = json_of(r);
  std::string rid = r.header("X-Request-ID");
  CHECK(rid.rfind("authzen-", 0) == 0);
  CHECK(d["context"]["request_id"] == rid);
  CHECK(logged(s, rid).size() == 1);
  // One the server could not echo safely in a header line of its own is refused.
  std::string long_id(300, 'x');
  json e = error_400(s, authzen_example(kPermit), long_id);
  CHECK(e["path"] == "header X-Request-ID");
}

TEST_CASE("when the log cannot record, an AuthZEN evaluation answers 503 and never a decision",
          "[serve][authzen][log]") {
  ServeProcess s;
  if (!ethos::testing::immutable_supported(s.dir())) {
    WARN("skipped: cannot make files immutable here (needs root on ext4/xfs: chattr +i)");
    return;
  }
  json body = authzen_example(kPermit);
  REQUIRE(json_of(post_authzen(s, "/access/v1/evaluation", body, "before"))["decision"] == true);
  for (const char* suffix : {"", "-wal"}) ethos::testing::chattr("+i", s.log_path() + suffix);
  HttpResult one = post_authzen(s, "/access/v1/evaluation", body, "refused");
  json batch = {{"evaluations", {body, body}}};
  HttpResult many = post_authzen(s, "/access/v1/evaluations", batch, "refused-batch");
  batch["options"] = {{"evaluations_semantic", "deny_on_first_deny"}};
  HttpResult ordered = post_authzen(s, "/access/v1/evaluations", batch, "refused-ordered");
  for (const char* suffix : {"", "-wal"}) ethos::testing::chattr("-i", s.log_path() + suffix);
  for (const HttpResult* r : {&one, &many, &ordered}) {
    INFO(r->body);
    CHECK(json_of(*r, 503)["error"]["code"] == "log_unavailable");
    CHECK(r->body.find("\"decision\"") == std::string::npos);
  }
  json v = json_of(s.get("/v1/verify", s.auditor));
  CHECK(v["ok"] == true);
}

TEST_CASE("a pack without a mapping has no AuthZEN endpoints and a broken mapping stops serve",
          "[serve][authzen]") {
  {
    ServeProcess s({}, false);
    std::filesystem::remove(s.policies() + "/authzen.json");
    s.start();
    CHECK(json_of(s.get("/.well-known/authzen-configuration"), 404)["error"]["code"] ==
          "not_found");
    CHECK(json_of(post_authzen(s, "/access/v1/evaluation", authzen_example(kPermit), "none"),
                  404)["error"]["code"] == "not_found");
  }
  ServeProcess s({}, false);
  json mapping = json::parse(ethos::testing::slurp_file(s.policies() + "/authzen.json"));
  mapping["map"][4]["to"] = "purpose.kind";
  ethos::testing::write_file(s.policies() + "/authzen.json", mapping.dump());
  auto run = ethos::testing::run_ethos({"serve", "--policies", s.policies(), "--log", s.log_path(),
                                        "--tokens", s.tokens_path(), "--listen", "127.0.0.1:0",
                                        "--insecure-dev-key"});
  CHECK(run.exit_code == 64);
  CHECK(run.err.find("authzen.json: $.map[4].to: `purpose.kind` is not an attribute") !=
        std::string::npos);
}

TEST_CASE("a changed mapping file is read again without a restart", "[serve][authzen]") {
  ServeProcess s;
  json body = authzen_example(kPermit);
  body["resource"]["type"] = "document";
  CHECK(error_400(s, body, "before-change")["path"] == "$.resource.type");
  std::string file = s.policies() + "/authzen.json";
  json mapping = json::parse(ethos::testing::slurp_file(file));
  mapping["resource_types"].push_back("document");
  ethos::testing::write_file(file, mapping.dump());
  // The server looks at the file once a second at most: wait for the answer to change.
  int status = 0;
  for (int i = 0; i < 200 && status != 200; ++i) {
    status = post_authzen(s, "/access/v1/evaluation", body, "after-change").status;
    if (status != 200) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  CHECK(status == 200);
  CHECK(logged(s, "after-change").size() == 1);
}
