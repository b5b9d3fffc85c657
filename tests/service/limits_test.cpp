// `ethos serve` on input past its limits (nesting, body size, media type) and
// on bodies that hold no request: each gets a 4xx that names the problem, and
// the server keeps deciding afterwards.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "server_fixture.hpp"
#include "support.hpp"

using ethos::testing::example_request;
using ethos::testing::HttpResult;
using ethos::testing::ServeProcess;
using json = nlohmann::json;

namespace {

const char* kPermitExample = "01-session-summary-enterprise-baa.json";

std::string repeat(const std::string& s, size_t n) {
  std::string out;
  out.reserve(s.size() * n);
  for (size_t i = 0; i < n; ++i) out += s;
  return out;
}

// The error object of a reply with this status and code.
json error_of(const HttpResult& r, int status, const std::string& code) {
  INFO(r.body.substr(0, 500));
  REQUIRE(r.status == status);
  json b = json::parse(r.body);
  REQUIRE(b.contains("error"));
  CHECK(b["error"]["code"] == code);
  return b["error"];
}

// A policy whose one rule nests 100,000 parentheses deep.
std::string deep_policy() {
  return "module privacy \"Privacy\"\nrule deep: forbid when " + repeat("(", 100000) +
         "patient.opted_out_of_ai" + repeat(")", 100000) + " because \"x\" cite \"y\"\n";
}

// The diagnostic of a 422 policy_errors reply with this message (null if none).
json diagnostic(const HttpResult& r, const std::string& message) {
  json body = json::parse(r.body);
  for (const json& d : body["diagnostics"])
    if (d["message"] == message) return d;
  return nullptr;
}

// Decides the permit example: the server is still serving.
void still_decides(ServeProcess& s) {
  HttpResult r = s.post("/v1/decide", example_request(kPermitExample), s.decider);
  INFO(r.body.substr(0, 500));
  CHECK(r.status == 200);
}

}  // namespace

TEST_CASE("a candidate policy nested too deep gets its diagnostic on /v1/replay, and serve goes on",
          "[serve][limits]") {
  ServeProcess s;
  json candidate;
  candidate["files"]["schema.ethos"] = ethos::testing::slurp_file(s.policies() + "/schema.ethos");
  candidate["files"]["privacy.ethos"] = deep_policy();
  HttpResult r = s.post("/v1/replay", json{{"against", candidate}}.dump(), s.auditor);
  // A candidate that does not compile: 422 policy_errors (docs/api.md), with the place.
  error_of(r, 422, "policy_errors");
  json diag = diagnostic(r, "expression nests deeper than 256 levels");
  REQUIRE(diag.is_object());
  CHECK(diag["file"] == "privacy.ethos");
  CHECK(diag["line"] == 2);
  CHECK(diag["col"] == 24 + 256);
  still_decides(s);
}

TEST_CASE("a reloaded policy nested too deep is refused and the old bundle keeps serving",
          "[serve][limits]") {
  ServeProcess s;
  std::string before = json::parse(s.get("/v1/policy", s.admin).body)["bundle"];
  ethos::testing::write_file(s.policies() + "/privacy.ethos", deep_policy());
  HttpResult r = s.post("/v1/policy/reload", "", s.admin);
  error_of(r, 422, "policy_errors");
  CHECK(diagnostic(r, "expression nests deeper than 256 levels").is_object());
  CHECK(json::parse(s.get("/v1/policy", s.admin).body)["bundle"] == before);
  still_decides(s);
}

TEST_CASE("a request nested too deep gets 400 with its path and the limit", "[serve][limits]") {
  ServeProcess s;
  std::string deep = example_request(kPermitExample);
  deep.insert(deep.rfind('}'), ", \"x\": " + repeat("[", 25000) + repeat("]", 25000));
  json e = error_of(s.post("/v1/decide", deep, s.decider), 400, "invalid_request");
  CHECK(e["path"] == "$.x" + repeat("[0]", 255));
  CHECK(e["message"] == "JSON nests deeper than 256 levels");
  // In a batch, the path starts at the request's place in it.
  json b = error_of(
      s.post("/v1/decide", "[" + example_request(kPermitExample) + "," + deep + "]", s.decider),
      400, "invalid_request");
  CHECK(b["path"] == "$[1].x" + repeat("[0]", 255));
  still_decides(s);
}

TEST_CASE("a body that holds no request is refused with 400", "[serve][limits]") {
  ServeProcess s;
  CHECK(error_of(s.post("/v1/decide", "\"permit me\"", s.decider), 400,
                 "invalid_request")["path"] == "$");
  error_of(s.post("/v1/decide", "null", s.decider), 400, "invalid_request");
  error_of(s.post("/v1/decide", "[]", s.decider), 400, "invalid_request");
  error_of(s.post("/v1/decide", "[\"x\"]", s.decider), 400, "invalid_request");
  error_of(s.post("/v1/replay", "\"x\"", s.auditor), 400, "invalid_request");
  error_of(s.post("/v1/replay", "[]", s.auditor), 400, "invalid_request");
  // A replay body 100,000 levels deep is read without recursion, and refused.
  error_of(s.post("/v1/replay", "{\"against\": " + repeat("[", 100000) + repeat("]", 100000) + "}",
                  s.auditor),
           400, "invalid_request");
  still_decides(s);
}

TEST_CASE("only application/json is a JSON body: parameters allowed, jsonx refused with 415",
          "[serve][limits]") {
  ServeProcess s;
  std::string good = example_request(kPermitExample);
  CHECK(s.post("/v1/decide", good, s.decider, "application/json; charset=utf-8").status == 200);
  CHECK(s.post("/v1/decide", good, s.decider, "Application/JSON").status == 200);
  for (const char* type : {"application/jsonx", "application/json-seq", "application/jsonp; x=y"})
    error_of(s.post("/v1/decide", good, s.decider, type), 415, "unsupported_media_type");
}

TEST_CASE("a 413 quotes the configured limit of the endpoint asked", "[serve][limits]") {
  ServeProcess s({"--max-body", "1000", "--max-policy-body", "200000"});
  // Over the larger limit too: refused from its Content-Length, before it is read.
  json e =
      error_of(s.post("/v1/decide", std::string(300000, ' '), s.decider), 413, "body_too_large");
  CHECK(e["message"] == "the body has 300000 bytes; the limit is 1000");
  // Read, then refused: the same message.
  json read =
      error_of(s.post("/v1/decide", std::string(2000, ' '), s.decider), 413, "body_too_large");
  CHECK(read["message"] == "the body has 2000 bytes; the limit is 1000");
  json replay =
      error_of(s.post("/v1/replay", std::string(300000, ' '), s.auditor), 413, "body_too_large");
  CHECK(replay["message"] == "the body has 300000 bytes; the limit is 200000");
}
