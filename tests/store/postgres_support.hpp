// PostgreSQL for the decision-log tests: the server tools/test starts
// (tools/pg-server), named by ETHOS_TEST_POSTGRES_URL. Each test gets a fresh
// database of its own, dropped at the end.
#pragma once

#include <catch2/catch.hpp>
#include <cstdlib>
#include <optional>
#include <random>
#include <string>

#include <ethos/log/postgres.hpp>

namespace ethos::testing {

// The test server's URL; without one, a PostgreSQL test is skipped with a
// warning, unless ETHOS_REQUIRE_POSTGRES is set (tools/test sets it): then it fails.
inline std::optional<std::string> postgres_server_url() {
  const char* url = std::getenv("ETHOS_TEST_POSTGRES_URL");
  if (url && *url) return std::string(url);
  const char* required = std::getenv("ETHOS_REQUIRE_POSTGRES");
  if (required && *required)
    FAIL("ETHOS_REQUIRE_POSTGRES is set but ETHOS_TEST_POSTGRES_URL is not");
  WARN("no PostgreSQL server (ETHOS_TEST_POSTGRES_URL): skipped; tools/test starts one");
  return std::nullopt;
}

// `url` with its database replaced by `database`.
inline std::string with_database(const std::string& url, const std::string& database) {
  size_t start = url.find('/', url.find("://") + 3);
  size_t end = url.find('?', start == std::string::npos ? 0 : start);
  std::string base = start == std::string::npos ? url : url.substr(0, start);
  return base + "/" + database + (end == std::string::npos ? "" : url.substr(end));
}

class PostgresDatabase {
 public:
  explicit PostgresDatabase(const std::string& server_url) : server_(server_url) {
    std::random_device rd;
    name_ = "ethos_test_" + std::to_string(rd()) + std::to_string(rd() % 100000);
    pg::Connection admin(server_);
    admin.exec("CREATE DATABASE " + name_);
    url_ = with_database(server_, name_);
  }
  ~PostgresDatabase() {
    try {
      pg::Connection admin(server_);
      admin.exec("DROP DATABASE IF EXISTS " + name_ + " WITH (FORCE)");
    } catch (...) {
      // The server is gone (a fault test stopped it): nothing to drop.
    }
  }
  PostgresDatabase(const PostgresDatabase&) = delete;
  PostgresDatabase& operator=(const PostgresDatabase&) = delete;
  const std::string& url() const { return url_; }

 private:
  std::string server_, name_, url_;
};

}  // namespace ethos::testing
