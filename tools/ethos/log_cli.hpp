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

// How a writer signs checkpoints of the log (checkpoint.hpp).
struct CheckpointCliOptions {
  std::string key_file;  // empty: no checkpoints
  uint64_t every_rows = 1000;
  int64_t every_seconds = 60;
  std::string anchor_file;
};

// Adds --checkpoint-key, --checkpoint-every-rows, --checkpoint-every-seconds
// and --anchor-file to `cmd`.
void add_checkpoint_options(CLI::App* cmd, CheckpointCliOptions& options);
// Loads the signing key; prints why and throws kUsage when it cannot.
CheckpointOptions load_checkpoint_options(const CheckpointCliOptions& options);

struct RecordOptions {
  std::string db;  // empty: do not record
  std::string key_file;
  bool insecure_dev_key = false;
  CheckpointCliOptions checkpoints;
};

// Adds --record, --log-key-file, --insecure-dev-key and the checkpoint
// options to `cmd`.
void add_record_options(CLI::App* cmd, RecordOptions& options);

// Opens the log for recording, or returns null when --record was not given.
// On failure prints why and throws kInternal (or kUsage without a key); a
// damaged log (DecisionLog::damage) is such a failure.
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
