// The schema's ranges and invariants in `ethos serve`: /v1/decide (one
// request and a batch) and AuthZEN refuse a request outside a range (400
// invalid_request at its path) or breaking an invariant (400
// invariant_violated with its id), record nothing, and a replay against a
// candidate with a new invariant reports the stored requests that break it.
#include <catch2/catch.hpp>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "authzen_support.hpp"
#include "server_fixture.hpp"
#include "support.hpp"

using ethos::testing::authzen_example;
using ethos::testing::example_request;
using ethos::testing::HttpResult;
using ethos::testing::post_authzen;
using ethos::testing::ServeProcess;
using json = nlohmann::json;

namespace {

const char* kPermit = "01-session-summary-enterprise-baa.json";

json error_of(const HttpResult& r, const std::string& code) {
  INFO(r.body.substr(0, 500));
  REQUIRE(r.status == 400);
  json e = json::parse(r.body)["error"];
  CHECK(e["code"] == code);
  return e;
}

json child_aged(int age) {
  json r = json::parse(example_request(kPermit));
  r["patient"]["populations"] = json::array({"child"});
  r["patient"]["age"] = age;
  return r;
}

}  // namespace

TEST_CASE("serve refuses an age outside its range with 400 at its path", "[serve][invariants]") {
  ServeProcess s;
  json r = json::parse(example_request(kPermit));
  r["patient"]["age"] = -3;
  json e = error_of(s.post("/v1/decide", r.dump(), s.decider), "invalid_request");
  CHECK(e["path"] == "$.patient.age");
  CHECK(e["message"] == "`-3` is outside the range of `patient.age`, 0..130");
  CHECK_FALSE(e.contains("invariant"));
}

TEST_CASE("serve refuses a request that breaks an invariant with invariant_violated",
          "[serve][invariants]") {
  ServeProcess s;
  json e = error_of(s.post("/v1/decide", child_aged(34).dump(), s.decider), "invariant_violated");
  CHECK(e["path"] == "$");
  CHECK(e["invariant"] == "a_child_is_under_18");
  CHECK(e["message"].get<std::string>().find("a child is a person below the age of eighteen") !=
        std::string::npos);
  // In a batch, the path is the request's place; nothing of the batch is decided.
  std::string batch = "[" + example_request(kPermit) + "," + child_aged(34).dump() + "]";
  json b = error_of(s.post("/v1/decide", batch, s.decider), "invariant_violated");
  CHECK(b["path"] == "$[1]");
  // A child of 12 is decided.
  CHECK(s.post("/v1/decide", child_aged(12).dump(), s.decider).status == 200);
}

TEST_CASE("AuthZEN refuses an age outside its range and a broken invariant",
          "[serve][invariants][authzen]") {
  ServeProcess s;
  json body = authzen_example(kPermit);
  body["resource"]["properties"]["patient"]["age"] = 200;
  HttpResult r = post_authzen(s, "/access/v1/evaluation", body, "age-200");
  json e = error_of(r, "invalid_request");
  CHECK(e["path"] == "$.resource.properties.patient.age");
  body["resource"]["properties"]["patient"]["age"] = 34;
  body["resource"]["properties"]["patient"]["populations"] = json::array({"child"});
  json v =
      error_of(post_authzen(s, "/access/v1/evaluation", body, "child-34"), "invariant_violated");
  CHECK(v["invariant"] == "a_child_is_under_18");
}

TEST_CASE("a replay against a candidate with a new invariant reports the requests that break it",
          "[serve][invariants]") {
  ServeProcess s;
  REQUIRE(s.post("/v1/decide", example_request(kPermit), s.decider).status == 200);
  // The candidate: the shipped pack, with an invariant every adult of 34 breaks.
  json candidate;
  for (const auto& f : std::filesystem::directory_iterator(s.policies()))
    if (f.path().extension() == ".ethos")
      candidate["files"][f.path().filename().string()] =
          ethos::testing::slurp_file(f.path().string());
  candidate["files"]["schema.ethos"] =
      candidate["files"]["schema.ethos"].get<std::string>() +
      "\ninvariant young: patient.age < 30 because \"the study takes patients under 30\"\n";
  HttpResult r = s.post("/v1/replay", json{{"against", candidate}}.dump(), s.auditor);
  INFO(r.body.substr(0, 1000));
  REQUIRE(r.status == 200);
  json rep = json::parse(r.body);
  CHECK(rep["not_bound"] == 1);
  REQUIRE(rep["not_bound_examples"].size() == 1);
  CHECK(rep["not_bound_examples"][0]["error"].get<std::string>().find(
            "breaks invariant `young`: the study takes patients under 30") != std::string::npos);
}
