// End-to-end tests of `ethos serve`: the real binary on a free loopback port,
// spoken to over HTTP.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include <ethos/log/decision_log.hpp>
#include "server_fixture.hpp"
#include "support.hpp"

using ethos::testing::chattr;
using ethos::testing::example_request;
using ethos::testing::HttpResult;
using ethos::testing::immutable_supported;
using ethos::testing::ServeProcess;
using json = nlohmann::json;

namespace {

const char* kPermitExample = "01-session-summary-enterprise-baa.json";
const char* kDenyExample = "02-consumer-chatbot-identifiable-notes.json";

json body_of(const HttpResult& r) {
  INFO("status " << r.status << ": " << r.body);
  REQUIRE(!r.body.empty());
  return json::parse(r.body);
}

// Keeps the order of the keys: a full trace is in the pack's rule order.
nlohmann::ordered_json ordered_body_of(const HttpResult& r) {
  INFO("status " << r.status << ": " << r.body);
  REQUIRE(!r.body.empty());
  return nlohmann::ordered_json::parse(r.body);
}

// Asserts the documented error shape and returns the error object.
json error_of(const HttpResult& r, int status, const std::string& code) {
  INFO(r.body);
  REQUIRE(r.status == status);
  json b = body_of(r);
  REQUIRE(b.contains("error"));
  const json& e = b["error"];
  CHECK(e.at("code") == code);
  CHECK(e.at("message").is_string());
  CHECK(!e.at("message").get<std::string>().empty());
  CHECK(e.contains("path"));
  return e;
}

std::string with(const std::string& request, const std::string& patch) {
  json r = json::parse(request);
  r.merge_patch(json::parse(patch));
  return r.dump();
}

// A raw TCP connection, for clients that misbehave.
int connect_raw(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(fd >= 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
  REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  timeval tv{30, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  return fd;
}

std::string read_all(int fd) {
  std::string out;
  char buf[4096];
  for (;;) {
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

}  // namespace

TEST_CASE("healthz and readyz answer without a token, and readyz names the active bundle",
          "[serve]") {
  ServeProcess s;
  HttpResult h = s.get("/healthz");
  CHECK(h.status == 200);
  CHECK(body_of(h)["status"] == "ok");
  HttpResult r = s.get("/readyz");
  CHECK(r.status == 200);
  json ready = body_of(r);
  CHECK(ready["status"] == "ready");
  CHECK(ready["recording"] == true);
  json policy = body_of(s.get("/v1/policy", s.decider));
  CHECK(ready["bundle"] == policy["bundle"]);
}

TEST_CASE("a decider's decision is recorded before it is answered and reads back in full",
          "[serve]") {
  ServeProcess s;
  HttpResult r = s.post("/v1/decide", example_request(kDenyExample), s.decider);
  REQUIRE(r.status == 200);
  CHECK(r.header("Content-Type").rfind("application/json", 0) == 0);
  json d = body_of(r);
  std::string id = d.at("decision_id");
  CHECK(id.rfind("d-", 0) == 0);
  CHECK(d["outcome"] == "deny");
  CHECK(!d["reasons"].empty());
  CHECK(d["reasons"][0].contains("cite"));
  CHECK(d.contains("trace"));
  json policy = body_of(s.get("/v1/policy", s.decider));
  CHECK(d["bundle"] == policy["bundle"]);

  // The auditor reads the same decision back from the log.
  HttpResult back = s.get("/v1/decisions/" + id, s.auditor);
  REQUIRE(back.status == 200);
  json b = body_of(back);
  CHECK(b["decision"]["decision_id"] == id);
  CHECK(b["decision"]["outcome"] == "deny");
  CHECK(b["decision"]["reasons"] == d["reasons"]);
  // The answer carries the compact trace; the log renders the full one, which it summarises.
  CHECK(ordered_body_of(r)["trace"] ==
        ethos::testing::compact_trace_of(ordered_body_of(back)["decision"]["trace"]));
  CHECK(b["decision"]["trace"].size() == policy["rules"].size());
  CHECK(b["request"].is_object());
  CHECK(b["seq"] == 1);
  CHECK(b["hash"].get<std::string>().size() == 64);

  // Trace modes.
  json none = body_of(s.post("/v1/decide?trace=none", example_request(kDenyExample), s.decider));
  CHECK(!none.contains("trace"));
  CHECK(none["outcome"] == "deny");
  CHECK(none["decision_id"] != id);
  error_of(s.post("/v1/decide?trace=most", example_request(kDenyExample), s.decider), 400,
           "bad_query");
  CHECK(error_of(s.post("/v1/decide?explain=1", example_request(kDenyExample), s.decider), 400,
                 "bad_query")["path"] == "query.explain");

  // The log holds exactly the two decisions answered, and its chain verifies.
  s.stop();
  ethos::LogOptions ro;
  ro.read_only = true;
  ethos::DecisionLog log(s.log_path(), ro);
  CHECK(log.count() == 2);
  CHECK(log.find(id).has_value());
  CHECK(log.verify().ok());
}

TEST_CASE("a batch is decided in order, one decision per request, each recorded", "[serve]") {
  ServeProcess s;
  std::string batch =
      "[" + example_request(kPermitExample) + ",\n " + example_request(kDenyExample) + "]";
  HttpResult r = s.post("/v1/decide", batch, s.decider);
  REQUIRE(r.status == 200);
  json b = body_of(r);
  REQUIRE(b["decisions"].size() == 2);
  CHECK(b["decisions"][0]["outcome"] == "permit");
  CHECK(b["decisions"][1]["outcome"] == "deny");
  CHECK(b["decisions"][0]["decision_id"] != b["decisions"][1]["decision_id"]);
  for (const auto& d : b["decisions"])
    CHECK(s.get("/v1/decisions/" + d["decision_id"].get<std::string>(), s.auditor).status == 200);

  // One bad element rejects the whole batch, and nothing is recorded.
  std::string bad = "[" + example_request(kPermitExample) + "," +
                    with(example_request(kDenyExample), R"({"patient": {"age": "forty"}})") + "]";
  json e = error_of(s.post("/v1/decide", bad, s.decider), 400, "invalid_request");
  CHECK(e["path"] == "$[1].patient.age");
  error_of(s.post("/v1/decide", "[]", s.decider), 400, "invalid_request");
  json list = body_of(s.get("/v1/decisions", s.auditor));
  CHECK(list["decisions"].size() == 2);
}

TEST_CASE(
    "decide?trace=full answers every rule's status, one request or a batch, as the log "
    "renders it",
    "[serve]") {
  ServeProcess s;
  const std::size_t rules = body_of(s.get("/v1/policy", s.decider))["rules"].size();
  auto full =
      ordered_body_of(s.post("/v1/decide?trace=full", example_request(kDenyExample), s.decider));
  REQUIRE(full["trace"].size() == rules);
  auto back =
      ordered_body_of(s.get("/v1/decisions/" + full["decision_id"].get<std::string>(), s.auditor));
  CHECK(back["decision"]["trace"] == full["trace"]);

  std::string batch =
      "[" + example_request(kPermitExample) + ",\n " + example_request(kDenyExample) + "]";
  auto compact = ordered_body_of(s.post("/v1/decide", batch, s.decider));
  auto every = ordered_body_of(s.post("/v1/decide?trace=full", batch, s.decider));
  REQUIRE(compact["decisions"].size() == 2);
  REQUIRE(every["decisions"].size() == 2);
  for (std::size_t k = 0; k < 2; ++k) {
    CHECK(every["decisions"][k]["trace"].size() == rules);
    CHECK(compact["decisions"][k]["trace"] ==
          ethos::testing::compact_trace_of(every["decisions"][k]["trace"]));
  }
}

TEST_CASE("decide?remedies=true carries remedies that, applied, are decided as permits",
          "[serve][remedies]") {
  ServeProcess s;
  std::string request = example_request(kDenyExample);
  json plain = body_of(s.post("/v1/decide", request, s.decider));
  CHECK(!plain.contains("remedies"));
  json d = body_of(s.post("/v1/decide?remedies=true&trace=none", request, s.decider));
  CHECK(d["outcome"] == "deny");
  REQUIRE(d["remedies"].is_array());
  REQUIRE(!d["remedies"].empty());
  CHECK(d["remedies"].size() <= 5);
  for (const auto& remedy : d["remedies"]) {
    CHECK(remedy["outcome"] == "permit");
    REQUIRE(!remedy["changes"].empty());
    CHECK(remedy["changes"].size() <= 3);
    // Apply the changes to the request and ask the server again.
    json changed = json::parse(request);
    for (const auto& c : remedy["changes"]) {
      std::string pointer = "/" + c["fact"].get<std::string>();
      std::replace(pointer.begin(), pointer.end(), '.', '/');
      changed[json::json_pointer(pointer)] = c["to"];
    }
    json again = body_of(s.post("/v1/decide?trace=none", changed.dump(), s.decider));
    INFO(remedy.dump());
    CHECK(again["outcome"] == "permit");
  }
  json permit =
      body_of(s.post("/v1/decide?remedies=true", example_request(kPermitExample), s.decider));
  CHECK(permit["outcome"] == "permit");
  CHECK(permit["remedies"] == json::array());
  error_of(s.post("/v1/decide?remedies=yes", request, s.decider), 400, "bad_query");
}

TEST_CASE("each role may call its own endpoints and no others", "[serve][auth]") {
  ServeProcess s;
  std::string request = example_request(kPermitExample);
  std::string id = body_of(s.post("/v1/decide", request, s.decider))["decision_id"];
  std::string replay = "{}";

  struct Call {
    std::string method, path, body;
  };
  const std::vector<Call> calls = {
      {"POST", "/v1/decide", request},    {"GET", "/v1/decisions", ""},
      {"GET", "/v1/decisions/" + id, ""}, {"POST", "/v1/replay", replay},
      {"GET", "/v1/verify", ""},          {"POST", "/v1/policy/reload", ""},
      {"GET", "/v1/policy", ""},          {"GET", "/metrics", ""},
  };
  // Expected status for decider, auditor, admin (and 401 without a token).
  const std::map<std::string, std::vector<int>> expected = {
      {"/v1/decide", {200, 403, 403}},          {"/v1/decisions", {403, 200, 403}},
      {"/v1/decisions/" + id, {403, 200, 403}}, {"/v1/replay", {403, 200, 403}},
      {"/v1/verify", {403, 200, 403}},          {"/v1/policy/reload", {403, 403, 200}},
      {"/v1/policy", {200, 200, 200}},          {"/metrics", {200, 200, 200}},
  };
  const std::vector<std::pair<std::string, std::string>> roles = {
      {"decider", s.decider}, {"auditor", s.auditor}, {"admin", s.admin}};
  for (const auto& c : calls) {
    for (size_t r = 0; r < roles.size(); ++r) {
      INFO(roles[r].first << " " << c.method << " " << c.path);
      httplib::Headers h{{"Authorization", "Bearer " + roles[r].second}};
      HttpResult res = s.send(c.method, c.path, c.body, h);
      int want = expected.at(c.path)[r];
      CHECK(res.status == want);
      if (want == 403) error_of(res, 403, "forbidden");
    }
    INFO("no token: " << c.method << " " << c.path);
    HttpResult none = s.send(c.method, c.path, c.body, {});
    error_of(none, 401, "unauthorized");
    CHECK(none.header("WWW-Authenticate").rfind("Bearer", 0) == 0);
    httplib::Headers wrong{
        {"Authorization",
         "Bearer ethos_0000000000000000000000000000000000000000000000000000000000000000"}};
    error_of(s.send(c.method, c.path, c.body, wrong), 401, "unauthorized");
    httplib::Headers basic{{"Authorization", "Basic dXNlcjpwYXNz"}};
    error_of(s.send(c.method, c.path, c.body, basic), 401, "unauthorized");
  }
  // A decider's denial names the role it would need.
  json e = error_of(s.get("/v1/decisions", s.decider), 403, "forbidden");
  CHECK(e["message"].get<std::string>().find("auditor") != std::string::npos);

  // Nobody may write or delete log rows: there is no such endpoint, for any role.
  for (const auto& [name, token] : roles) {
    httplib::Headers h{{"Authorization", "Bearer " + token}};
    error_of(s.send("DELETE", "/v1/decisions/" + id, "", h), 405, "method_not_allowed");
    error_of(s.send("PUT", "/v1/decisions/" + id, "{}", h), 405, "method_not_allowed");
    error_of(s.send("POST", "/v1/decisions", "{}", h), 405, "method_not_allowed");
  }
  CHECK(body_of(s.get("/v1/verify", s.auditor))["decisions"] ==
        2);  // the decide above, and the role table's
}

TEST_CASE("a revoked token is refused without restarting the server", "[serve][auth]") {
  ServeProcess s;
  REQUIRE(s.post("/v1/decide", example_request(kPermitExample), s.decider).status == 200);
  auto r = ethos::testing::run_ethos({"token", "revoke", "decider", "--tokens", s.tokens_path()});
  REQUIRE(r.exit_code == 0);
  // The server re-reads the tokens file when it changes (checked twice a second).
  int status = 0;
  for (int i = 0; i < 100 && status != 401; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    status = s.post("/v1/decide", example_request(kPermitExample), s.decider).status;
  }
  CHECK(status == 401);
  // A new token works at once after the file changes.
  auto made = ethos::testing::run_ethos(
      {"token", "new", "--role", "decider", "--tokens", s.tokens_path(), "--json"});
  REQUIRE(made.exit_code == 0);
  std::string fresh = json::parse(made.out)["token"];
  status = 0;
  for (int i = 0; i < 100 && status != 200; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    status = s.post("/v1/decide", example_request(kPermitExample), fresh).status;
  }
  CHECK(status == 200);
}

TEST_CASE("bad input gets a 4xx that names the problem, and the server keeps serving",
          "[serve][input]") {
  ServeProcess s({"--read-timeout", "800"});
  std::string good = example_request(kPermitExample);

  SECTION("malformed JSON") {
    json e = error_of(s.post("/v1/decide", "{\"request_id\": ", s.decider), 400, "malformed_json");
    CHECK(e["path"] == "$");
    error_of(s.post("/v1/decide", "", s.decider, ""), 400, "malformed_json");
    error_of(s.post("/v1/decide", "[{\"a\":1},", s.decider), 400, "malformed_json");
    // A number beyond a double's range (found by the request fuzzer).
    error_of(s.post("/v1/decide", "{\"request_id\": 1e400}", s.decider), 400, "malformed_json");
    error_of(s.post("/v1/replay", "{\"limit\": 1e400}", s.auditor), 400, "malformed_json");
    error_of(s.post("/v1/decide", "[" + good + " " + good + "]", s.decider), 400, "malformed_json");
    error_of(s.post("/v1/decide", "[" + good + "] x", s.decider), 400, "malformed_json");
    CHECK(error_of(s.post("/v1/decide", "[" + good + ", 7]", s.decider), 400,
                   "invalid_request")["path"] == "$[1]");
    CHECK(error_of(s.post("/v1/decide", "[" + good + ", {\"time\": }]", s.decider), 400,
                   "malformed_json")["path"] == "$[1]");
    error_of(s.post("/v1/decide", "42", s.decider), 400, "invalid_request");
  }
  SECTION("wrong types, values outside an enum, unknown and missing fields") {
    CHECK(error_of(s.post("/v1/decide", with(good, R"({"patient": {"age": "forty"}})"), s.decider),
                   400, "invalid_request")["path"] == "$.patient.age");
    json unknown =
        error_of(s.post("/v1/decide", with(good, R"({"patient": {"agee": 40}})"), s.decider), 400,
                 "invalid_request");
    CHECK(unknown["path"] == "$.patient.agee");
    CHECK(unknown["message"].get<std::string>().find("unknown field") != std::string::npos);
    json missing = json::parse(good);
    missing.erase("time");
    CHECK(error_of(s.post("/v1/decide", missing.dump(), s.decider), 400,
                   "invalid_request")["path"] == "$.time");
    CHECK(error_of(s.post("/v1/decide", with(good, R"({"data": {"identifiability": "anonymous"}})"),
                          s.decider),
                   400, "invalid_request")["path"] == "$.data.identifiability");
  }
  SECTION("an oversize body") {
    std::string big = with(good, R"({"request_id": ")" + std::string(70 * 1024, 'x') + "\"}");
    error_of(s.post("/v1/decide", big, s.decider), 413, "body_too_large");
    // Far over every limit: refused from its Content-Length, before it is read.
    std::string huge(2 * 1024 * 1024, ' ');
    HttpResult r = s.post("/v1/decide", huge, s.decider);
    CHECK(r.status == 413);
  }
  SECTION("a body that is not JSON by its content type") {
    error_of(s.post("/v1/decide", good, s.decider, "text/plain"), 415, "unsupported_media_type");
  }
  SECTION("unknown endpoints, wrong methods and bad queries") {
    error_of(s.get("/v1/nothing", s.auditor), 404, "not_found");
    HttpResult m = s.get("/v1/decide", s.decider);
    error_of(m, 405, "method_not_allowed");
    CHECK(m.header("Allow") == "POST");
    error_of(s.get("/v1/decisions?limit=0", s.auditor), 400, "bad_query");
    error_of(s.get("/v1/decisions?outcome=maybe", s.auditor), 400, "bad_query");
    CHECK(error_of(s.get("/v1/decisions?colour=red", s.auditor), 400, "bad_query")["path"] ==
          "query.colour");
    error_of(s.get("/v1/decisions/d-nothing", s.auditor), 404, "not_found");
    error_of(s.post("/v1/replay", "{\"agianst\": {}}", s.auditor), 400, "invalid_request");
    error_of(s.post("/v1/replay", "[1", s.auditor), 400, "malformed_json");
  }
  SECTION("a client that sends half a request and stalls") {
    int fd = connect_raw(s.port());
    std::string partial =
        "POST /v1/decide HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + s.decider +
        "\r\nContent-Type: application/json\r\nContent-Length: 500\r\n\r\n{\"request_id\":";
    REQUIRE(::send(fd, partial.data(), partial.size(), MSG_NOSIGNAL) ==
            static_cast<ssize_t>(partial.size()));
    auto t0 = std::chrono::steady_clock::now();
    std::string answer = read_all(fd);  // the server gives up after the read timeout
    double waited = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    ::close(fd);
    CHECK(waited < 20);
    INFO(answer);
    CHECK(answer.rfind("HTTP/1.1 4", 0) == 0);
    CHECK(answer.find("\"error\"") != std::string::npos);
  }
  SECTION("a client that never finishes its headers") {
    int fd = connect_raw(s.port());
    std::string partial = "POST /v1/decide HTTP/1.1\r\nHost: x\r\n";
    REQUIRE(::send(fd, partial.data(), partial.size(), MSG_NOSIGNAL) ==
            static_cast<ssize_t>(partial.size()));
    auto t0 = std::chrono::steady_clock::now();
    std::string answer = read_all(fd);
    double waited = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    ::close(fd);
    CHECK(waited < 20);  // the connection is dropped, not held forever
  }
  SECTION("garbage instead of HTTP") {
    int fd = connect_raw(s.port());
    std::string junk = "HELLO THERE\r\n\r\n";
    REQUIRE(::send(fd, junk.data(), junk.size(), MSG_NOSIGNAL) ==
            static_cast<ssize_t>(junk.size()));
    std::string answer = read_all(fd);
    ::close(fd);
    CHECK(answer.rfind("HTTP/1.1 400", 0) == 0);
  }
  // Whatever came before, the server still decides.
  HttpResult ok = s.post("/v1/decide", good, s.decider);
  CHECK(ok.status == 200);
  CHECK(s.get("/healthz").status == 200);
  // Rejected requests were never recorded.
  CHECK(body_of(s.get("/v1/verify", s.auditor))["decisions"] == 1);
}

TEST_CASE("reload swaps in a checked policy, and a broken one keeps the old bundle serving",
          "[serve][reload]") {
  ServeProcess s;
  std::string h0 = body_of(s.get("/v1/policy", s.admin))["bundle"];

  // Unchanged files: nothing to swap.
  json same = body_of(s.post("/v1/policy/reload", "", s.admin));
  CHECK(same["changed"] == false);
  CHECK(same["bundle"] == h0);

  // A changed text: a new bundle, used by the next decision.
  std::string privacy = s.policies() + "/privacy.ethos";
  std::string text = ethos::testing::slurp_file(privacy);
  ethos::testing::write_file(privacy, text + "\n// reviewed by the committee\n");
  json changed = body_of(s.post("/v1/policy/reload", "", s.admin));
  CHECK(changed["changed"] == true);
  std::string h1 = changed["bundle"];
  CHECK(h1 != h0);
  CHECK(body_of(s.post("/v1/decide", example_request(kPermitExample), s.decider))["bundle"] == h1);

  // A broken policy: 422 with diagnostics, and the last good bundle keeps deciding.
  ethos::testing::write_file(privacy, text + "\nrule broken: permit when\n");
  HttpResult bad = s.post("/v1/policy/reload", "", s.admin);
  json e = error_of(bad, 422, "policy_errors");
  CHECK(e["path"].get<std::string>().find("privacy.ethos") != std::string::npos);
  json badb = body_of(bad);
  CHECK(badb["diagnostics"].is_array());
  CHECK(!badb["diagnostics"].empty());
  CHECK(body_of(s.get("/v1/policy", s.auditor))["bundle"] == h1);
  HttpResult still = s.post("/v1/decide", example_request(kDenyExample), s.decider);
  CHECK(still.status == 200);
  CHECK(body_of(still)["bundle"] == h1);

  // SIGHUP does the same: broken keeps serving h1, fixed swaps back to h0.
  // The failed reload is seen in the metrics (the POST above was the first).
  s.signal(SIGHUP);
  bool failed_reload_counted = false;
  for (int i = 0; i < 200 && !failed_reload_counted; ++i) {
    failed_reload_counted =
        s.get("/metrics", s.admin).body.find("ethos_policy_reloads_total{result=\"error\"} 2") !=
        std::string::npos;
    if (!failed_reload_counted) std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
  REQUIRE(failed_reload_counted);
  CHECK(body_of(s.get("/v1/policy", s.decider))["bundle"] == h1);
  ethos::testing::write_file(privacy, text);
  s.signal(SIGHUP);
  std::string now;
  for (int i = 0; i < 100 && now != h0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    now = body_of(s.get("/v1/policy", s.decider))["bundle"];
  }
  CHECK(now == h0);
  CHECK(body_of(s.post("/v1/decide", example_request(kDenyExample), s.decider))["bundle"] == h0);

  // Decisions under every bundle replay exactly under their own bundle.
  json rep = body_of(s.post("/v1/replay", "{}", s.auditor));
  CHECK(rep["ok"] == true);
  CHECK(rep["replayed"] == 3);
  std::string metrics = s.get("/metrics", s.admin).body;
  CHECK(metrics.find("ethos_policy_reloads_total{result=\"error\"} 2") != std::string::npos);
}

TEST_CASE("the log endpoints page, filter, verify and replay", "[serve][log]") {
  ServeProcess s;
  std::vector<std::string> files;
  for (const auto& e :
       std::filesystem::directory_iterator(ethos::testing::source_dir() + "/policies/examples"))
    if (e.path().extension() == ".json") files.push_back(e.path().filename().string());
  std::sort(files.begin(), files.end());
  REQUIRE(files.size() >= 5);
  std::map<std::string, std::string> outcome_of;
  for (const auto& f : files) {
    json d = body_of(s.post("/v1/decide", example_request(f), s.decider));
    outcome_of[d["decision_id"]] = d["outcome"];
  }

  // Pages of 3 until the cursor runs out: every decision once, in chain order.
  std::vector<std::string> seen;
  std::string cursor;
  for (int page = 0; page < 100; ++page) {
    json p = body_of(
        s.get("/v1/decisions?limit=3" + (cursor.empty() ? "" : "&cursor=" + cursor), s.auditor));
    CHECK(p["decisions"].size() <= 3);
    for (const auto& d : p["decisions"]) {
      seen.push_back(d["decision_id"]);
      CHECK(d["outcome"] == outcome_of[d["decision_id"]]);
    }
    if (p["next_cursor"].is_null()) break;
    cursor = p["next_cursor"];
  }
  CHECK(seen.size() == files.size());
  CHECK(std::set<std::string>(seen.begin(), seen.end()).size() == files.size());

  // Filters.
  size_t denies = 0;
  for (const auto& [id, o] : outcome_of) denies += o == "deny";
  json deny = body_of(s.get("/v1/decisions?outcome=deny", s.auditor));
  CHECK(deny["decisions"].size() == denies);
  for (const auto& d : deny["decisions"]) CHECK(d["outcome"] == "deny");
  json later = body_of(s.get("/v1/decisions?from=2100-01-01", s.auditor));
  CHECK(later["decisions"].empty());
  std::string rule = deny["decisions"][0]["reasons"][0];
  json by_rule = body_of(s.get("/v1/decisions?rule=" + rule, s.auditor));
  CHECK(!by_rule["decisions"].empty());

  // The chain.
  json v = body_of(s.get("/v1/verify", s.auditor));
  CHECK(v["ok"] == true);
  CHECK(v["decisions"] == files.size());
  CHECK(v["first_break"].is_null());

  // Replay under the recorded bundles reproduces everything.
  json own = body_of(s.post("/v1/replay", "{}", s.auditor));
  CHECK(own["mode"] == "own");
  CHECK(own["ok"] == true);
  CHECK(own["replayed"] == files.size());
  CHECK(own["differences"].empty());

  // Impact of a candidate policy: the pack without its base permit changes every permit.
  json candidate;
  for (const auto& e : std::filesystem::directory_iterator(s.policies()))
    if (e.path().extension() == ".ethos")
      candidate["files"][e.path().filename().string()] =
          ethos::testing::slurp_file(e.path().string());
  json impact = body_of(s.post("/v1/replay", json{{"against", candidate}}.dump(), s.auditor));
  CHECK(impact["mode"] == "against");
  CHECK(impact["changed"] == 0);
  CHECK(impact["replayed"] == files.size());

  candidate["files"]["standards.ethos"] = "module standards \"broken\"\nrule x: permit when\n";
  HttpResult broken = s.post("/v1/replay", json{{"against", candidate}}.dump(), s.auditor);
  CHECK(error_of(broken, 422, "policy_errors")["path"] == "$.against");
}

TEST_CASE("metrics count decisions by outcome, latencies and errors by kind", "[serve][metrics]") {
  ServeProcess s;
  for (int i = 0; i < 3; ++i)
    REQUIRE(s.post("/v1/decide", example_request(kDenyExample), s.decider).status == 200);
  REQUIRE(s.post("/v1/decide", example_request(kPermitExample), s.decider).status == 200);
  REQUIRE(s.post("/v1/decide", "{", s.decider).status == 400);
  REQUIRE(s.get("/v1/decisions", s.decider).status == 403);
  HttpResult m = s.get("/metrics", s.auditor);
  REQUIRE(m.status == 200);
  CHECK(m.header("Content-Type").rfind("text/plain", 0) == 0);
  const std::string& t = m.body;
  CHECK(t.find("ethos_decisions_total{outcome=\"deny\"} 3\n") != std::string::npos);
  CHECK(t.find("ethos_decisions_total{outcome=\"permit\"} 1\n") != std::string::npos);
  CHECK(t.find("ethos_decide_duration_seconds_bucket{le=\"+Inf\"} 4\n") != std::string::npos);
  CHECK(t.find("ethos_log_write_duration_seconds_count 4\n") != std::string::npos);
  CHECK(t.find("ethos_errors_total{kind=\"malformed_json\"} 1\n") != std::string::npos);
  CHECK(t.find("ethos_errors_total{kind=\"forbidden\"} 1\n") != std::string::npos);
  CHECK(t.find("ethos_log_committed_total 4\n") != std::string::npos);
  CHECK(t.find("ethos_policy_info{bundle=\"sha256:") != std::string::npos);
  CHECK(t.find("ethos_http_request_duration_seconds_count") != std::string::npos);
}

TEST_CASE("when the log cannot record, decide answers 503 and never a permit", "[serve][log]") {
  ServeProcess s;
  if (!immutable_supported(s.dir())) {
    WARN("skipped: cannot make files immutable here (needs root on ext4/xfs: chattr +i)");
    return;
  }
  std::string permit = example_request(kPermitExample);
  REQUIRE(body_of(s.post("/v1/decide", permit, s.decider))["outcome"] == "permit");
  // Read-only to everyone, root included: writes through the open handles
  // fail too. (Not the -shm file: SQLite maps it into memory, and a mapped
  // page that cannot be written is a SIGBUS, not an error.)
  for (const char* suffix : {"", "-wal"}) chattr("+i", s.log_path() + suffix);
  HttpResult r = s.post("/v1/decide", permit, s.decider);
  HttpResult batch = s.post("/v1/decide", "[" + permit + "," + permit + "]", s.decider);
  for (const char* suffix : {"", "-wal"}) chattr("-i", s.log_path() + suffix);
  json e = error_of(r, 503, "log_unavailable");
  CHECK(r.body.find("permit") == std::string::npos);
  error_of(batch, 503, "log_unavailable");
  CHECK(batch.body.find("permit") == std::string::npos);
  CHECK(s.get("/readyz").status == 503);
  // Writable again: recording resumes, and the chain holds only what was answered.
  HttpResult again = s.post("/v1/decide", permit, s.decider);
  CHECK(again.status == 200);
  json v = body_of(s.get("/v1/verify", s.auditor));
  CHECK(v["ok"] == true);
  CHECK(v["decisions"] == 2);
  CHECK(s.get("/readyz").status == 503);  // for a while after the failure
  // Shutdown is clean: the refused decisions were answered (503), every 200 is in the log.
  CHECK(s.stop() == 0);
  CHECK(s.server_output().find("answered 503 because the log could not record them") !=
        std::string::npos);
}

TEST_CASE("a log file that is read-only at start is refused", "[serve][log]") {
  ServeProcess s({}, false);
  // Create the log, then make it read-only for everyone (root bypasses chmod).
  auto r = ethos::testing::run_ethos(
      {"eval", "--policies", s.policies(), "--record", s.log_path(), "--insecure-dev-key",
       ethos::testing::source_dir() + "/policies/examples/" + kPermitExample});
  REQUIRE(r.exit_code == 0);
  if (!immutable_supported(s.dir())) {
    WARN("skipped: cannot make files immutable here");
    return;
  }
  chattr("+i", s.log_path());
  auto run = ethos::testing::run_ethos({"serve", "--policies", s.policies(), "--log", s.log_path(),
                                        "--tokens", s.tokens_path(), "--listen", "127.0.0.1:0",
                                        "--insecure-dev-key"});
  chattr("-i", s.log_path());
  CHECK(run.exit_code == 70);
  CHECK(run.err.find("decision log") != std::string::npos);
}

TEST_CASE("SIGTERM finishes the requests in flight, loses no decision and exits 0",
          "[serve][shutdown]") {
  ServeProcess s({"--threads", "8"});
  std::string request = example_request(kPermitExample);
  std::mutex mu;
  std::vector<std::string> answered;
  std::atomic<bool> stop{false};
  std::atomic<int> failures_after_stop{0}, bad_status{0};
  std::vector<std::thread> clients;
  for (int c = 0; c < 6; ++c)
    clients.emplace_back([&] {
      httplib::Client cli("127.0.0.1", s.port());
      cli.set_keep_alive(true);
      cli.set_read_timeout(60);
      httplib::Headers h{{"Authorization", "Bearer " + s.decider}};
      while (!stop) {
        auto res = cli.Post("/v1/decide", h, request, "application/json");
        if (!res) {
          ++failures_after_stop;  // the server has stopped accepting
          break;
        }
        if (res->status != 200) {
          ++bad_status;
          continue;
        }
        std::lock_guard lk(mu);
        answered.push_back(json::parse(res->body)["decision_id"]);
      }
    });
  for (int i = 0; i < 200; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    std::lock_guard lk(mu);
    if (answered.size() >= 200) break;
  }
  int code = s.stop(SIGTERM);
  stop = true;
  for (auto& t : clients) t.join();
  INFO(s.server_output());
  CHECK(code == 0);
  CHECK(bad_status == 0);
  REQUIRE(!answered.empty());
  CHECK(s.server_output().find("every decision answered is in the log") != std::string::npos);

  // Every answered decision is in the log, the log holds nothing else, and it verifies.
  ethos::LogOptions ro;
  ro.read_only = true;
  ethos::DecisionLog log(s.log_path(), ro);
  CHECK(log.count() == answered.size());
  for (const auto& id : answered) CHECK(log.find(id).has_value());
  CHECK(log.verify().ok());
  CHECK(std::set<std::string>(answered.begin(), answered.end()).size() == answered.size());
  auto v = ethos::testing::run_ethos({"verify", s.log_path()});
  CHECK(v.exit_code == 0);
}

TEST_CASE("SIGINT also stops cleanly, and a server idle on keep-alive stops promptly",
          "[serve][shutdown]") {
  ServeProcess s;
  httplib::Client cli("127.0.0.1", s.port());
  cli.set_keep_alive(true);
  httplib::Headers h{{"Authorization", "Bearer " + s.decider}};
  REQUIRE(cli.Post("/v1/decide", h, example_request(kPermitExample), "application/json")->status ==
          200);
  auto t0 = std::chrono::steady_clock::now();
  CHECK(s.stop(SIGINT) == 0);
  CHECK(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() < 15);
}

TEST_CASE("serve refuses a non-loopback address without TLS unless --insecure", "[serve][tls]") {
  ServeProcess s({}, false);
  auto r = ethos::testing::run_ethos({"serve", "--policies", s.policies(), "--log", s.log_path(),
                                      "--tokens", s.tokens_path(), "--listen", "0.0.0.0:0",
                                      "--insecure-dev-key"});
  CHECK(r.exit_code == 64);
  CHECK(r.err.find("without TLS") != std::string::npos);
  CHECK(!std::filesystem::exists(s.log_path()));
  auto half = ethos::testing::run_ethos({"serve", "--policies", s.policies(), "--log", s.log_path(),
                                         "--tokens", s.tokens_path(), "--tls-cert", "cert.pem",
                                         "--insecure-dev-key"});
  CHECK(half.exit_code == 64);
  auto no_tokens =
      ethos::testing::run_ethos({"serve", "--policies", s.policies(), "--log", s.log_path(),
                                 "--tokens", s.dir() + "/none.json", "--insecure-dev-key"});
  CHECK(no_tokens.exit_code == 64);
  CHECK(no_tokens.err.find("none.json") != std::string::npos);

  ServeProcess open({"--listen", "0.0.0.0:0", "--insecure"});
  CHECK(open.get("/healthz").status == 200);
  CHECK(open.stop() == 0);
}

TEST_CASE("serve speaks HTTPS with --tls-cert and --tls-key", "[serve][tls]") {
  std::string dir = ethos::testing::temp_dir();
  std::string cmd = "openssl req -x509 -newkey rsa:2048 -nodes -keyout '" + dir +
                    "/key.pem' -out '" + dir +
                    "/cert.pem' -days 1 -subj /CN=localhost >/dev/null 2>&1";
  if (std::system(cmd.c_str()) != 0) {
    WARN("skipped: the openssl command is not available to make a certificate");
    return;
  }
  ServeProcess s({"--tls-cert", dir + "/cert.pem", "--tls-key", dir + "/key.pem"});
  httplib::SSLClient cli("127.0.0.1", s.port());
  cli.enable_server_certificate_verification(false);
  cli.set_read_timeout(60);
  auto h = cli.Get("/healthz");
  REQUIRE(h);
  CHECK(h->status == 200);
  httplib::Headers auth{{"Authorization", "Bearer " + s.decider}};
  auto d = cli.Post("/v1/decide", auth, example_request(kPermitExample), "application/json");
  REQUIRE(d);
  CHECK(d->status == 200);
  CHECK(json::parse(d->body)["outcome"] == "permit");
  // Plain HTTP to the TLS port gets no decision.
  CHECK(s.get("/healthz").status != 200);
  CHECK(s.stop() == 0);
  std::filesystem::remove_all(dir);
}

namespace {

// Reads until `count` occurrences of `marker` have arrived (or the socket's 30 s timeout).
std::string read_until(int fd, const std::string& marker, int count) {
  std::string out;
  char buf[4096];
  auto seen = [&] {
    int n = 0;
    for (size_t p = out.find(marker); p != std::string::npos; p = out.find(marker, p + 1)) ++n;
    return n;
  };
  while (seen() < count) {
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

}  // namespace

TEST_CASE("requests pipelined on one connection are answered in order, each recorded once",
          "[serve][transport]") {
  ServeProcess s;
  std::string body = example_request(kPermitExample);
  std::string one =
      "POST /v1/decide HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + s.decider +
      "\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
      "\r\n\r\n" + body;
  std::string three = one + "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n" + one;
  int fd = connect_raw(s.port());
  REQUIRE(::send(fd, three.data(), three.size(), MSG_NOSIGNAL) ==
          static_cast<ssize_t>(three.size()));
  std::string answer = read_until(fd, "HTTP/1.1 200", 3);
  ::close(fd);
  INFO(answer);
  size_t first = answer.find("\"decision_id\"");
  size_t health = answer.find("{\"status\":\"ok\"}");
  size_t second = answer.find("\"decision_id\"", first + 1);
  REQUIRE(first != std::string::npos);
  REQUIRE(health != std::string::npos);
  REQUIRE(second != std::string::npos);
  CHECK(first < health);
  CHECK(health < second);
  CHECK(body_of(s.get("/v1/verify", s.auditor))["decisions"] == 2);
}

TEST_CASE("a body sent after Expect: 100-continue is read once the server says continue",
          "[serve][transport]") {
  ServeProcess s;
  std::string body = example_request(kPermitExample);
  std::string head = "POST /v1/decide HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + s.decider +
                     "\r\nContent-Type: application/json\r\nExpect: 100-continue\r\n"
                     "Content-Length: " +
                     std::to_string(body.size()) + "\r\n\r\n";
  int fd = connect_raw(s.port());
  REQUIRE(::send(fd, head.data(), head.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(head.size()));
  std::string interim = read_until(fd, "\r\n\r\n", 1);
  CHECK(interim.rfind("HTTP/1.1 100", 0) == 0);
  REQUIRE(::send(fd, body.data(), body.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(body.size()));
  std::string answer = read_until(fd, "\"decision_id\"", 1);
  ::close(fd);
  INFO(answer);
  CHECK(answer.rfind("HTTP/1.1 200", 0) == 0);
  CHECK(answer.find("\"outcome\":\"permit\"") != std::string::npos);
}
