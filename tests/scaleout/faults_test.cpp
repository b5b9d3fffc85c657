// Faults of a multi-node deployment, with real processes: `ethos serve`
// nodes on one PostgreSQL log, one of them killed with SIGKILL under load,
// and the database stopped and started again under a node
// (docs/decision-log.md, "Several nodes").
#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include <ethos/log/decision_log.hpp>
#include "postgres_support.hpp"
#include "server_fixture.hpp"
#include "support.hpp"

using namespace ethos;
using namespace ethos::testing;
using json = nlohmann::json;

namespace {

const char* kPermitExample = "01-session-summary-enterprise-baa.json";

// Decides in a loop against one node and keeps the id of every decision it
// was answered 200 for, until told to stop or the node stops answering.
struct Client {
  ServeProcess* node = nullptr;
  std::string request;
  std::atomic<bool> stop{false};
  std::atomic<size_t> acknowledged{0};
  std::atomic<size_t> failures{0};
  std::mutex mu;
  std::vector<std::string> ids;
  std::thread thread;

  void start() {
    thread = std::thread([this] {
      while (!stop) {
        HttpResult r = node->post("/v1/decide", request, node->decider);
        if (r.status != 200) {
          ++failures;
          if (r.status == 0) return;  // the node is gone
          continue;
        }
        auto id = json::parse(r.body).at("decision_id").get<std::string>();
        std::lock_guard lk(mu);
        ids.push_back(id);
        ++acknowledged;
      }
    });
  }
  void join() {
    stop = true;
    if (thread.joinable()) thread.join();
  }
};

// Waits for `done()` for up to `seconds`, looking every 20 ms.
template <class F>
bool wait_for(F done, int seconds = 60) {
  auto until = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
  while (!done()) {
    if (std::chrono::steady_clock::now() > until) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return true;
}

std::unique_ptr<ServeProcess> start_node(const std::string& url, const std::string& id) {
  auto p = std::make_unique<ServeProcess>(std::vector<std::string>{"--node-id", id}, false);
  p->log_location = url;
  p->start();
  return p;
}

std::string shell(const std::string& command, int* status = nullptr) {
  std::string out;
  FILE* f = popen(command.c_str(), "r");
  REQUIRE(f != nullptr);
  char buf[512];
  while (size_t n = fread(buf, 1, sizeof buf, f)) out.append(buf, n);
  int rc = pclose(f);
  if (status) *status = rc;
  return out;
}

// A PostgreSQL server of this test's own (tools/pg-server), which it may stop.
class OwnPostgres {
 public:
  OwnPostgres() : tool_(source_dir() + "/tools/pg-server") {
    std::string parent = temp_dir();
    // The server runs as another user (ethos-pg) when the tests run as root.
    std::filesystem::permissions(parent, std::filesystem::perms(0755));
    dir_ = parent + "/pg";
    int rc = 0;
    std::string out = shell(tool_ + " start " + dir_, &rc);
    INFO(out);
    REQUIRE(rc == 0);
    url_ = out.substr(out.find('=') + 1);
    while (!url_.empty() && url_.back() == '\n') url_.pop_back();
  }
  ~OwnPostgres() { shell(tool_ + " stop " + dir_); }
  OwnPostgres(const OwnPostgres&) = delete;
  OwnPostgres& operator=(const OwnPostgres&) = delete;
  void stop() { REQUIRE(std::system((tool_ + " stop " + dir_).c_str()) == 0); }
  void restart() { REQUIRE(std::system((tool_ + " restart " + dir_).c_str()) == 0); }
  const std::string& url() const { return url_; }

 private:
  std::string dir_, tool_, url_;
};

}  // namespace

TEST_CASE(
    "a node killed with SIGKILL under load loses no acknowledged decision, and the others go on",
    "[faults][postgres]") {
  auto server = postgres_server_url();
  if (!server) return;
  PostgresDatabase db(*server);
  std::vector<std::unique_ptr<ServeProcess>> nodes;
  for (int n = 0; n < 3; ++n) nodes.push_back(start_node(db.url(), "node-" + std::to_string(n)));
  std::vector<std::unique_ptr<Client>> clients;
  for (auto& node : nodes) {
    auto c = std::make_unique<Client>();
    c->node = node.get();
    c->request = example_request(kPermitExample);
    clients.push_back(std::move(c));
  }
  for (auto& c : clients) c->start();
  REQUIRE(wait_for([&] { return clients[1]->acknowledged >= 50; }));
  CHECK(nodes[1]->stop(SIGKILL) == 128 + SIGKILL);
  clients[1]->join();
  size_t before0 = clients[0]->acknowledged, before2 = clients[2]->acknowledged;
  // The others go on.
  CHECK(wait_for([&] {
    return clients[0]->acknowledged >= before0 + 50 && clients[2]->acknowledged >= before2 + 50;
  }));
  for (auto& c : clients) c->join();
  CHECK(clients[0]->failures == 0);
  CHECK(clients[2]->failures == 0);
  for (size_t n : {0, 2}) CHECK(nodes[n]->stop() == 0);

  LogOptions ro;
  ro.read_only = true;
  DecisionLog log(db.url(), ro);
  auto v = log.verify();
  INFO((v.first_break ? v.first_break->message : ""));
  CHECK(v.ok());
  CHECK(v.chains.size() == 3);
  size_t acknowledged = 0;
  for (auto& c : clients)
    for (const auto& id : c->ids) {
      ++acknowledged;
      INFO(id);
      CHECK(log.find(id));
    }
  // Every decision answered is there; the killed node may also have
  // committed some it never got to answer.
  CHECK(v.decisions >= acknowledged);
  auto replayed = run_ethos({"replay", db.url()});
  INFO(replayed.out << replayed.err);
  CHECK(replayed.exit_code == 0);
  // The killed node's id is free again: it comes back and goes on with its chain.
  auto back = start_node(db.url(), "node-1");
  CHECK(back->post("/v1/decide", example_request(kPermitExample), back->decider).status == 200);
  CHECK(back->stop() == 0);
  CHECK(run_ethos({"verify", db.url()}).exit_code == 0);
}

TEST_CASE("a second node with a node id already running is refused at start",
          "[faults][postgres]") {
  auto server = postgres_server_url();
  if (!server) return;
  PostgresDatabase db(*server);
  auto first = start_node(db.url(), "clinic-a");
  ServeProcess second({"--node-id", "clinic-a"}, false);
  second.log_location = db.url();
  // Started by hand: ServeProcess::start() expects the server to listen.
  auto r = run_ethos({"serve", "--policies", second.policies(), "--log", db.url(), "--node-id",
                      "clinic-a", "--tokens", second.tokens_path(), "--listen", "127.0.0.1:0",
                      "--insecure-dev-key"});
  CHECK(r.exit_code == 70);
  CHECK(r.err.find("node id `clinic-a` is already writing") != std::string::npos);
  CHECK(first->post("/v1/decide", example_request(kPermitExample), first->decider).status == 200);
}

TEST_CASE(
    "while PostgreSQL is down a node answers 503 log_unavailable and never a permit, then "
    "recovers by itself",
    "[faults][postgres]") {
  OwnPostgres pg;
  auto node = start_node(pg.url(), "node-0");
  std::string permit = example_request(kPermitExample);
  std::vector<std::string> answered;
  HttpResult ok = node->post("/v1/decide", permit, node->decider);
  REQUIRE(ok.status == 200);
  answered.push_back(json::parse(ok.body).at("decision_id").get<std::string>());

  pg.stop();
  for (int i = 0; i < 3; ++i) {
    HttpResult r = node->post("/v1/decide", permit, node->decider);
    CHECK(r.status == 503);
    CHECK(r.body.find("log_unavailable") != std::string::npos);
    CHECK(r.body.find("permit") == std::string::npos);
  }
  HttpResult batch = node->post("/v1/decide", "[" + permit + "," + permit + "]", node->decider);
  CHECK(batch.status == 503);
  CHECK(batch.body.find("permit") == std::string::npos);

  pg.restart();
  // No restart of the node: its next decisions are recorded again.
  HttpResult again;
  CHECK(wait_for([&] {
    again = node->post("/v1/decide", permit, node->decider);
    CHECK((again.status == 200 || again.status == 503));
    return again.status == 200;
  }));
  answered.push_back(json::parse(again.body).at("decision_id").get<std::string>());
  for (int i = 0; i < 5; ++i) {
    HttpResult r = node->post("/v1/decide", permit, node->decider);
    REQUIRE(r.status == 200);
    answered.push_back(json::parse(r.body).at("decision_id").get<std::string>());
  }
  CHECK(node->stop() == 0);
  LogOptions ro;
  ro.read_only = true;
  DecisionLog log(pg.url(), ro);
  auto v = log.verify();
  CHECK(v.ok());
  for (const auto& id : answered) CHECK(log.find(id));
  CHECK(v.decisions == answered.size());  // nothing refused went in
}
