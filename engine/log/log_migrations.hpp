// The decision log's schema: numbered migrations tracked by
// `PRAGMA user_version` (docs/decision-log.md, "Tables").
#pragma once

#include <string>

#include <ethos/log/sqlite.hpp>

namespace ethos::log_schema {

// `PRAGMA application_id` of every ethos decision log ("ETHO").
inline constexpr int kApplicationId = 0x4554484f;

// The version the migrations below bring a log to (the writer's version).
inline constexpr int kLatestVersion = 4;

// The schema version of `db`, after checking that it is an ethos log (or a
// new, empty file) and not from a newer ethos. Throws sql::StoreError.
int check_identity(sql::Database& db, const std::string& path);

// Applies every migration above the file's version, each in its own
// transaction; returns the new version. Throws sql::StoreError.
int migrate(sql::Database& db);

// The SQL of migration `version` (1-based), for tests that build fixtures.
const char* migration_sql(int version);

}  // namespace ethos::log_schema
