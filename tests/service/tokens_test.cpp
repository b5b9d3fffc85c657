// Bearer tokens: only hashes are stored; authentication, revocation, the
// file format and the `ethos token` commands.
#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <ethos/base/hash.hpp>
#include <ethos/service/tokens.hpp>
#include "server_fixture.hpp"
#include "support.hpp"

using ethos::Role;
using ethos::TokenStore;

TEST_CASE("a token authenticates with its role, and another secret does not", "[tokens]") {
  TokenStore store;
  std::string d = store.add("notes-app", Role::kDecider, 1700000000);
  std::string a = store.add("audit", Role::kAuditor, 1700000000);
  CHECK(d.rfind("ethos_", 0) == 0);
  CHECK(d.size() == 6 + 64);
  CHECK(d != a);
  const auto* t = store.authenticate(d);
  REQUIRE(t != nullptr);
  CHECK(t->name == "notes-app");
  CHECK(t->role == Role::kDecider);
  CHECK(store.authenticate(a)->role == Role::kAuditor);
  CHECK(store.authenticate("") == nullptr);
  CHECK(store.authenticate(d.substr(0, d.size() - 1)) == nullptr);
  std::string flipped = d;
  flipped.back() = flipped.back() == '0' ? '1' : '0';
  CHECK(store.authenticate(flipped) == nullptr);
  // The stored hash, never the secret.
  CHECK(t->sha256 == ethos::sha256_hex(d));
}

TEST_CASE("names are unique and plain, and revoking removes the token", "[tokens]") {
  TokenStore store;
  std::string s = store.add("app", Role::kDecider, 0);
  CHECK_THROWS_AS(store.add("app", Role::kAdmin, 0), std::invalid_argument);
  CHECK_THROWS_AS(store.add("two words", Role::kAdmin, 0), std::invalid_argument);
  CHECK_THROWS_AS(store.add("", Role::kAdmin, 0), std::invalid_argument);
  CHECK(store.unused_name(Role::kAuditor) == "auditor-1");
  CHECK(store.revoke("app"));
  CHECK(!store.revoke("app"));
  CHECK(store.authenticate(s) == nullptr);
}

TEST_CASE("the tokens file round-trips, holds no secret and is private", "[tokens]") {
  std::string dir = ethos::testing::temp_dir();
  std::string path = dir + "/tokens.json";
  TokenStore store;
  std::string secret = store.add("ehr", Role::kAdmin, 1764151200);
  store.save(path);
  std::string text = ethos::testing::slurp_file(path);
  CHECK(text.find(secret) == std::string::npos);
  CHECK(text.find(secret.substr(6)) == std::string::npos);
  CHECK(text.find("2025-11-26T10:00:00Z") != std::string::npos);
  struct stat st {};
  REQUIRE(stat(path.c_str(), &st) == 0);
  CHECK((st.st_mode & 077) == 0);
  TokenStore back = TokenStore::load(path);
  REQUIRE(back.tokens().size() == 1);
  CHECK(back.tokens()[0].created == 1764151200);
  CHECK(back.authenticate(secret)->name == "ehr");

  CHECK_THROWS_WITH(TokenStore::load(dir + "/none.json"), Catch::Contains("cannot read"));
  CHECK(TokenStore::load(dir + "/none.json", true).tokens().empty());
  ethos::testing::write_file(path, "{\"tokens\": []}");
  CHECK_THROWS_WITH(TokenStore::load(path), Catch::Contains("not an ethos tokens file"));
  ethos::testing::write_file(
      path, R"({"format": "ethos-tokens 1", "tokens": [{"name": "x", "role": "root",
    "created": "2026-01-01T00:00:00Z", "sha256": "00"}]})");
  CHECK_THROWS_WITH(TokenStore::load(path), Catch::Contains("unknown role `root`"));
}

TEST_CASE("ethos token new prints the secret once, and list and revoke never show it",
          "[tokens][cli]") {
  using ethos::testing::run_ethos;
  std::string dir = ethos::testing::temp_dir();
  std::string path = dir + "/tokens.json";
  auto made = run_ethos({"token", "new", "--role", "auditor", "--tokens", path});
  REQUIRE(made.exit_code == 0);
  std::string secret = made.out.substr(0, made.out.find('\n'));
  CHECK(secret.rfind("ethos_", 0) == 0);
  CHECK(made.err.find("auditor-1") != std::string::npos);
  auto second = run_ethos(
      {"token", "new", "--role", "decider", "--name", "notes", "--tokens", path, "--json"});
  REQUIRE(second.exit_code == 0);
  CHECK(nlohmann::json::parse(second.out)["role"] == "decider");

  auto list = run_ethos({"token", "list", "--tokens", path});
  CHECK(list.exit_code == 0);
  CHECK(list.out.find("auditor-1") != std::string::npos);
  CHECK(list.out.find("notes") != std::string::npos);
  CHECK(list.out.find(secret) == std::string::npos);
  auto json_list = run_ethos({"token", "list", "--tokens", path, "--json"});
  CHECK(nlohmann::json::parse(json_list.out).size() == 2);

  CHECK(run_ethos({"token", "new", "--role", "root", "--tokens", path}).exit_code == 64);
  CHECK(run_ethos({"token", "new", "--role", "admin", "--name", "notes", "--tokens", path})
            .exit_code == 64);
  CHECK(run_ethos({"token", "revoke", "notes", "--tokens", path}).exit_code == 0);
  CHECK(run_ethos({"token", "revoke", "notes", "--tokens", path}).exit_code == 64);
  CHECK(TokenStore::load(path).tokens().size() == 1);
}
