#include <ethos/log/log_migrations.hpp>

namespace ethos::log_schema {

namespace {

// Version 1: bundles stored once by hash, and the hash-chained decisions.
constexpr char kMigration1[] = R"sql(
CREATE TABLE bundles (
  hash           TEXT    NOT NULL PRIMARY KEY,  -- "sha256:<hex>" of canonical_text
  canonical_text TEXT    NOT NULL,              -- rebuilds the bundle (load_bundle_canonical)
  first_seen     INTEGER NOT NULL               -- unix milliseconds
);
CREATE TABLE decisions (
  seq            INTEGER NOT NULL PRIMARY KEY,  -- chain position
  id             TEXT    NOT NULL UNIQUE,
  request_id     TEXT    NOT NULL,
  time           INTEGER NOT NULL,              -- the request's time, unix seconds
  recorded_at    INTEGER NOT NULL,              -- unix milliseconds
  outcome        TEXT    NOT NULL CHECK (outcome IN ('permit', 'deny', 'escalate')),
  bundle         TEXT    NOT NULL REFERENCES bundles (hash),
  default_module TEXT    NOT NULL,              -- '' unless a module's default permit decided
  request        TEXT    NOT NULL,              -- the request as evaluated, after privacy
  reasons        TEXT    NOT NULL,
  obligations    TEXT    NOT NULL,
  advice         TEXT    NOT NULL,
  overridden     TEXT    NOT NULL,
  missing_facts  TEXT    NOT NULL,
  trace          TEXT    NOT NULL,
  prev_hash      TEXT    NOT NULL,
  hash           TEXT    NOT NULL
);
PRAGMA application_id = 1163151439;
)sql";

// Version 2: the key the log is pseudonymised with, and indexes for the
// filters of `ethos log`.
constexpr char kMigration2[] = R"sql(
CREATE TABLE log_meta (
  key   TEXT NOT NULL PRIMARY KEY,
  value TEXT NOT NULL
);
CREATE INDEX decisions_by_time ON decisions (time);
CREATE INDEX decisions_by_request ON decisions (request_id);
)sql";

// Version 3: the request_id lookup moves from an index on `decisions` to a
// table the writer fills in sorted batches (docs/decision-log.md, "Finding a
// decision by request id"). An index on a key the apps choose dirtied one
// page per decision, which was most of what each commit wrote.
constexpr char kMigration3[] = R"sql(
CREATE TABLE request_ids (
  request_id TEXT    NOT NULL,
  seq        INTEGER NOT NULL,
  PRIMARY KEY (request_id, seq)
) WITHOUT ROWID;
INSERT INTO request_ids (request_id, seq) SELECT request_id, seq FROM decisions ORDER BY request_id, seq;
INSERT INTO log_meta (key, value)
  VALUES ('request_ids_through', (SELECT coalesce(max(seq), 0) FROM decisions));
DROP INDEX decisions_by_request;
)sql";

// Version 4: signed checkpoints of the chain's head (docs/decision-log.md,
// "Checkpoints"), stored in the log as well as in the anchor file.
constexpr char kMigration4[] = R"sql(
CREATE TABLE checkpoints (
  id         INTEGER NOT NULL PRIMARY KEY,
  chain      TEXT    NOT NULL,  -- '' in an SQLite log
  seq        INTEGER NOT NULL,  -- the chain's last row when signed
  head       TEXT    NOT NULL,  -- that row's hash
  time       INTEGER NOT NULL,  -- when signed, unix seconds
  log_key_id TEXT    NOT NULL,  -- log_meta's key_id then
  key_id     TEXT    NOT NULL,  -- the signing key's id
  signature  TEXT    NOT NULL   -- Ed25519, hex
);
)sql";

constexpr const char* kMigrations[] = {kMigration1, kMigration2, kMigration3, kMigration4};
constexpr int kLatest = static_cast<int>(sizeof kMigrations / sizeof kMigrations[0]);
static_assert(kLatest == kLatestVersion);
static_assert(kApplicationId == 1163151439);

}  // namespace

const char* migration_sql(int version) {
  return version >= 1 && version <= kLatest ? kMigrations[version - 1] : nullptr;
}

int check_identity(sql::Database& db, const std::string& path) {
  // The first read also fails here, with SQLITE_NOTADB, for a file that is not SQLite.
  auto objects = db.query_int("SELECT count(*) FROM sqlite_schema");
  auto version = static_cast<int>(db.query_int("PRAGMA user_version"));
  auto app = db.query_int("PRAGMA application_id");
  if ((objects > 0 || version > 0) && app != kApplicationId)
    throw sql::StoreError("`" + path + "` is an SQLite file but not an ethos decision log");
  if (version > kLatest)
    throw sql::StoreError("`" + path + "` was written by a newer ethos (log schema version " +
                          std::to_string(version) + "; this ethos knows versions up to " +
                          std::to_string(kLatest) + "): upgrade ethos to open it");
  return version;
}

int migrate(sql::Database& db) {
  int version = 0;
  for (int v = 1; v <= kLatest; ++v) {
    sql::Transaction txn(db);
    // Read inside the write lock: another process may have migrated meanwhile.
    version = static_cast<int>(db.query_int("PRAGMA user_version"));
    if (version >= v) continue;
    db.exec(kMigrations[v - 1]);
    db.exec("PRAGMA user_version = " + std::to_string(v));
    txn.commit();
    version = v;
  }
  return version;
}

}  // namespace ethos::log_schema
