// Copying a decision log into another database (`ethos log copy`), e.g. an
// SQLite file into the PostgreSQL log that several nodes share
// (docs/decision-log.md, "Copying a log").
//
// Rows keep their ids, contents, prev_hash and hash: each chain of the copy
// verifies with the same head as the original. The pseudonymisation key's id
// goes with them (a target pseudonymised with another key is refused), and
// so does every bundle.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <ethos/log/decision_log.hpp>

namespace ethos {

struct CopyOptions {
  // The target chain for the source's rows that have no chain of their own
  // (an SQLite log). Rows of a PostgreSQL source keep their node's chain.
  std::string chain;
  // Called now and then with (rows copied, rows in the source).
  std::function<void(uint64_t, uint64_t)> progress;
};

struct CopyReport {
  uint64_t decisions = 0;
  uint64_t bundles = 0;
  std::vector<ChainHead> chains;  // the copied chains, with their heads in the target
};

// Copies everything in the log at `from` to the log at `to` (created if
// absent). A target chain must be empty, or hold exactly the rows before the
// first one copied into it. Throws sql::StoreError.
CopyReport copy_log(const std::string& from, const std::string& to, const CopyOptions& options);

}  // namespace ethos
