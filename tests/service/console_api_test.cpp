// The console's endpoints (docs/api.md, "Console endpoints") on a real
// `ethos serve`: keyset paging, the new filters, statistics, the playground,
// jobs, the rule graph, bundle texts, and the console's own files.
#include <algorithm>
#include <catch2/catch.hpp>
#include <chrono>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "server_fixture.hpp"

using ethos::testing::example_request;
using ethos::testing::HttpResult;
using ethos::testing::ServeProcess;
using json = nlohmann::json;

namespace {

json body_of(const HttpResult& r, int status = 200) {
  INFO("status " << r.status << ": " << r.body);
  REQUIRE(r.status == status);
  return json::parse(r.body);
}

// Records `n` decisions, cycling through a few examples; returns them by outcome.
std::map<std::string, int> record(ServeProcess& s, int n) {
  const char* examples[] = {"01-session-summary-enterprise-baa.json",
                            "02-consumer-chatbot-identifiable-notes.json",
                            "11-minor-guardian-permission-unknown.json"};
  json batch = json::array();
  for (int i = 0; i < n; ++i) {
    json r = json::parse(example_request(examples[i % 3]));
    r["request_id"] = "r-console-" + std::to_string(i);
    batch.push_back(r);
  }
  json out = body_of(s.post("/v1/decide", batch.dump(), s.decider));
  std::map<std::string, int> by_outcome;
  for (const auto& d : out["decisions"]) ++by_outcome[d["outcome"].get<std::string>()];
  return by_outcome;
}

json wait_for_job(ServeProcess& s, const std::string& start_path, const std::string& body) {
  json started = body_of(s.post(start_path, body, s.auditor), 202);
  std::string id = started["job"];
  auto until = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  for (;;) {
    json job = body_of(s.get("/v1/jobs/" + id, s.auditor));
    if (job["state"] == "done") return job;
    REQUIRE(std::chrono::steady_clock::now() < until);
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

}  // namespace

TEST_CASE("newest-first pages follow the cursor through every decision once, in descending order",
          "[console]") {
  ServeProcess s;
  record(s, 23);
  std::vector<int64_t> seqs;
  std::string cursor;
  for (int pages = 0; pages < 10; ++pages) {
    json page = body_of(
        s.get("/v1/decisions?order=newest&limit=5" + (cursor.empty() ? "" : "&cursor=" + cursor),
              s.auditor));
    for (const auto& d : page["decisions"]) seqs.push_back(d["seq"]);
    if (page["next_cursor"].is_null()) break;
    cursor = page["next_cursor"];
  }
  REQUIRE(seqs.size() == 23);
  for (size_t i = 1; i < seqs.size(); ++i) CHECK(seqs[i] < seqs[i - 1]);
  CHECK(seqs.front() == 23);
  CHECK(seqs.back() == 1);
}

TEST_CASE("the missing-fact and module filters list exactly the decisions they name", "[console]") {
  ServeProcess s;
  record(s, 9);
  json missing =
      body_of(s.get("/v1/decisions?missing=consent.guardian_permission&limit=100", s.auditor));
  REQUIRE(missing["decisions"].size() == 3);
  for (const auto& d : missing["decisions"]) {
    std::set<std::string> facts(d["missing_facts"].begin(), d["missing_facts"].end());
    CHECK(facts.count("consent.guardian_permission") == 1);
  }
  json privacy = body_of(s.get("/v1/decisions?module=privacy&limit=100", s.auditor));
  REQUIRE(!privacy["decisions"].empty());
  for (const auto& d : privacy["decisions"]) {
    bool any = false;
    for (const auto& r : d["reasons"]) any |= r.get<std::string>().rfind("privacy.", 0) == 0;
    CHECK(any);
  }
  CHECK(s.get("/v1/decisions?order=sideways", s.auditor).status == 400);
}

TEST_CASE("statistics count every decision by outcome, rule and missing fact", "[console]") {
  ServeProcess s;
  auto by_outcome = record(s, 12);
  json st = body_of(s.get("/v1/statistics?bucket=hour", s.auditor));
  CHECK(st["totals"]["permit"] == by_outcome["permit"]);
  CHECK(st["totals"]["deny"] == by_outcome["deny"]);
  CHECK(st["totals"]["escalate"] == by_outcome["escalate"]);
  uint64_t in_buckets = 0;
  for (const auto& b : st["buckets"])
    in_buckets +=
        b["permit"].get<uint64_t>() + b["deny"].get<uint64_t>() + b["escalate"].get<uint64_t>();
  CHECK(in_buckets == 12);
  REQUIRE(!st["top_missing"].empty());
  CHECK(st["top_missing"][0]["fact"] == "consent.guardian_permission");
  CHECK(st["top_missing"][0]["decisions"] == 4);
  REQUIRE(!st["top_rules"].empty());
  CHECK(s.get("/v1/statistics?bucket=year", s.auditor).status == 400);
}

TEST_CASE("statistics take the decision list's filters: a missing-fact filter counts only those",
          "[console]") {
  ServeProcess s;
  record(s, 12);  // every third decision misses consent.guardian_permission
  json st =
      body_of(s.get("/v1/statistics?missing=consent.guardian_permission&bucket=hour", s.auditor));
  uint64_t total = 0;
  for (const auto& [outcome, n] : st["totals"].items()) total += n.get<uint64_t>();
  CHECK(total == 4);
  json bad = body_of(s.get("/v1/statistics?outcome=maybe", s.auditor), 400);
  CHECK(bad["error"]["path"] == "query.outcome");
}

TEST_CASE("the playground decides a request under posted policy text and records nothing",
          "[console]") {
  ServeProcess s;
  record(s, 2);
  json start = body_of(s.get("/v1/playground/start", s.admin));
  json files = json::object();
  for (const auto& f : start["files"]) files[f["name"].get<std::string>()] = f["text"];
  REQUIRE(files.contains("privacy.ethos"));
  REQUIRE(!start["schema"].empty());
  REQUIRE(!start["examples"].empty());
  json req = {
      {"files", files},
      {"request", json::parse(example_request("02-consumer-chatbot-identifiable-notes.json"))},
      {"remedies", true}};
  json out = body_of(s.post("/v1/playground", req.dump(), s.admin));
  CHECK(out["ok"] == true);
  CHECK(out["bind_error"].is_null());
  CHECK(out["decision"]["outcome"] == "deny");
  CHECK(out["decision"].contains("remedies"));
  CHECK(body_of(s.get("/v1/verify", s.auditor))["decisions"] == 2);
}

TEST_CASE("the playground's form schema gives purpose.categories as a set of the purposes",
          "[console]") {
  ServeProcess s;
  json start = body_of(s.get("/v1/playground/start", s.auditor));
  const json* categories = nullptr;
  for (const auto& a : start["schema"]) {
    CHECK(a["path"] != "patient.may_self_consent");
    CHECK(a["path"] != "purpose.category");
    if (a["path"] == "purpose.categories") categories = &a;
  }
  REQUIRE(categories != nullptr);
  CHECK((*categories)["type"].get<std::string>().rfind("set<enum {", 0) == 0);
  const json& values = (*categories)["values"];
  CHECK(std::find(values.begin(), values.end(), "summarization") != values.end());
  CHECK(std::find(values.begin(), values.end(), "disclosure_to_third_party") != values.end());
}

TEST_CASE("the playground names a broken rule's file, line and column", "[console]") {
  ServeProcess s;
  json files = {{"schema.ethos", ethos::testing::slurp_file(s.policies() + "/schema.ethos")},
                {"draft.ethos",
                 "module draft \"Draft\"\n\nrule a: forbid when patient.agee > 3 because \"x\" "
                 "cite \"y\"\n"}};
  json out = body_of(s.post("/v1/playground", json{{"files", files}}.dump(), s.auditor));
  CHECK(out["ok"] == false);
  CHECK(out["decision"].is_null());
  REQUIRE(!out["diagnostics"].empty());
  const json& d = out["diagnostics"][0];
  CHECK(d["file"] == "draft.ethos");
  CHECK(d["line"] == 3);
  CHECK(d["col"] == 21);
  CHECK(d["message"] == "unknown name `patient.agee`");
  CHECK(s.post("/v1/playground", "{\"files\": 3}", s.auditor).status == 400);
  CHECK(s.post("/v1/playground", "{}", s.decider).status == 403);
}

TEST_CASE("a verify job reports its progress and ends with the verify report", "[console]") {
  ServeProcess s;
  record(s, 6);
  json job = wait_for_job(s, "/v1/jobs/verify", "{}");
  CHECK(job["status"] == 200);
  CHECK(job["result"]["ok"] == true);
  CHECK(job["result"]["decisions"] == 6);
  CHECK(job["done"] == job["total"]);
  CHECK(s.get("/v1/jobs/job-999", s.auditor).status == 404);
}

TEST_CASE("an impact job against a recorded bundle changes nothing", "[console]") {
  ServeProcess s;
  record(s, 6);
  std::string bundle = body_of(s.get("/v1/policy", s.auditor))["bundle"];
  json job = wait_for_job(s, "/v1/jobs/impact", json{{"bundle", bundle}}.dump());
  CHECK(job["status"] == 200);
  CHECK(job["result"]["replayed"] == 6);
  CHECK(job["result"]["changed"] == 0);
  CHECK(job["result"]["changes_by_day"].empty());
  json text = body_of(s.get("/v1/bundles/" + bundle, s.auditor));
  CHECK(text["hash"] == bundle);
  CHECK(!text["text"].get<std::string>().empty());
  CHECK(s.get("/v1/bundles/sha256:00", s.auditor).status == 404);
}

TEST_CASE("replaying one decision by id replays that decision only", "[console]") {
  ServeProcess s;
  record(s, 5);
  json page = body_of(s.get("/v1/decisions?limit=1&order=newest", s.auditor));
  std::string id = page["decisions"][0]["decision_id"];
  json rep = body_of(s.post("/v1/replay", json{{"decision_id", id}}.dump(), s.auditor));
  CHECK(rep["replayed"] == 1);
  CHECK(rep["reproduced"] == 1);
  CHECK(rep["ok"] == true);
  CHECK(s.post("/v1/replay", R"({"decision_id":"d-nope"})", s.auditor).status == 404);
}

TEST_CASE("a module's rule graph is SVG with module clusters, a legend and links to rules",
          "[console]") {
  ServeProcess s;
  HttpResult r = s.get("/v1/graph?module=privacy", s.decider);
  REQUIRE(r.status == 200);
  CHECK(r.header("Content-Type") == "image/svg+xml");
  CHECK(r.body.find("<svg") != std::string::npos);
  CHECK(r.body.find("cluster_legend") != std::string::npos);
  CHECK(r.body.find("module privacy") != std::string::npos);
  CHECK(r.body.find("#/policy/rule/privacy.baa_required") != std::string::npos);
  CHECK(s.get("/v1/graph?module=nosuch", s.decider).status == 404);
}

TEST_CASE("the console's page and modules are served with a CSP that forbids inline script",
          "[console]") {
  ServeProcess s;
  HttpResult page = s.get("/");
  REQUIRE(page.status == 200);
  CHECK(page.header("Content-Type") == "text/html; charset=utf-8");
  std::string csp = page.header("Content-Security-Policy");
  CHECK(csp.find("script-src 'self'") != std::string::npos);
  CHECK(csp.find("unsafe-inline") == std::string::npos);
  CHECK(page.body.find("<script type=\"module\" src=\"/assets/app.js\">") != std::string::npos);
  HttpResult app = s.get("/assets/app.js");
  REQUIRE(app.status == 200);
  CHECK(app.header("Content-Type") == "text/javascript; charset=utf-8");
  CHECK(s.get("/assets/vendor/uPlot.esm.js").status == 200);
  CHECK(s.get("/assets/nosuch.js").status == 404);
  json who = body_of(s.get("/v1/whoami", s.auditor));
  CHECK(who["role"] == "auditor");
}
