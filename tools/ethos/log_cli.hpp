// Shared pieces of the decision-log commands (eval --record, log, show,
// verify, replay, bench --record).
#pragma once

#include <CLI/CLI.hpp>
#include <cstdint>
#include <memory>
#include <string>

#include <ethos/base/time.hpp>
#include <ethos/log/decision_log.hpp>

namespace ethos::cli {

// The help text of a command's log argument.
inline constexpr const char* kLogLocationHelp =
    "The decision log: an SQLite file (or sqlite:FILE) or a postgresql:// URL";

struct RecordOptions {
  std::string db;  // empty: do not record
  std::string key_file;
  bool insecure_dev_key = false;
};

// Adds --record, --log-key-file and --insecure-dev-key to `cmd`.
void add_record_options(CLI::App* cmd, RecordOptions& options);

// Opens the log for recording, or returns null when --record was not given.
// On failure prints why and throws kInternal (or kUsage without a key).
std::unique_ptr<DecisionLog> open_log_for_recording(const RecordOptions& options);

// Opens an existing log for reading; prints why and throws kInternal on failure.
std::unique_ptr<DecisionLog> open_log_for_reading(const std::string& path);

// Adds `copy` under `ethos log` (tools/ethos/cmd_log_copy.cpp).
CLI::App* add_log_copy(CLI::App* log_cmd);

// A progress bar on standard error when it is a terminal (else silent).
class ProgressBar {
 public:
  explicit ProgressBar(std::string label);
  ~ProgressBar();
  void update(uint64_t done, uint64_t total);

 private:
  std::string label_;
  bool enabled_;
  bool drawn_ = false;
  int last_permille_ = -1;
};

}  // namespace ethos::cli
