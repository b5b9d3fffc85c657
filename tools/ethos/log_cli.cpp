#include "log_cli.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <iostream>

#include <ethos/base/time.hpp>
#include <ethos/check/policy.hpp>
#include <ethos/log/log_store.hpp>
#include "cli.hpp"

namespace ethos::cli {

void add_checkpoint_options(CLI::App* cmd, CheckpointCliOptions& o) {
  cmd->add_option("--checkpoint-key", o.key_file,
                  "Sign the log's head with this Ed25519 key (made by `ethos key new`) every so "
                  "many rows and seconds, and on closing");
  cmd->add_option("--checkpoint-every-rows", o.every_rows,
                  "With --checkpoint-key: a checkpoint after this many rows (default 1000; 0: "
                  "not by rows)");
  cmd->add_option("--checkpoint-every-seconds", o.every_seconds,
                  "With --checkpoint-key: a checkpoint this many seconds after the last, when "
                  "rows came since (default 60; 0: not by time)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--anchor-file", o.anchor_file,
                  "With --checkpoint-key: append each checkpoint, one JSON line, to this file "
                  "(`-`: standard output), to be shipped off the machine");
}

CheckpointOptions load_checkpoint_options(const CheckpointCliOptions& o) {
  CheckpointOptions out;
  out.every_rows = o.every_rows;
  out.every_seconds = o.every_seconds;
  if (o.key_file.empty()) {
    if (!o.anchor_file.empty()) {
      std::cerr << "ethos: --anchor-file needs --checkpoint-key (the key that signs them)\n";
      throw kUsage;
    }
    return out;
  }
  out.anchor_file = o.anchor_file;
  try {
    out.key = std::make_shared<const SigningKey>(SigningKey::load(o.key_file));
  } catch (const std::exception& e) {
    std::cerr << "ethos: --checkpoint-key: " << e.what() << "\n";
    throw kUsage;
  }
  return out;
}

void add_record_options(CLI::App* cmd, RecordOptions& o) {
  cmd->add_option("--record", o.db,
                  "Record each decision in this decision log (an SQLite file, created if absent, "
                  "or a postgresql:// URL)");
  cmd->add_option("--log-key-file", o.key_file,
                  "With --record: the key that pseudonymises the log (default: $ETHOS_LOG_KEY)");
  cmd->add_flag(
      "--insecure-dev-key", o.insecure_dev_key,
      "With --record: without a key, use a well-known development key (pseudonymises nothing)");
  add_checkpoint_options(cmd, o.checkpoints);
}

std::unique_ptr<DecisionLog> open_log_for_recording(const RecordOptions& o) {
  if (o.db.empty()) return nullptr;
  LogOptions options;
  try {
    options.key = load_log_key({o.key_file, o.insecure_dev_key});
  } catch (const std::exception& e) {
    std::cerr << "ethos: " << e.what() << "\n";
    throw kUsage;
  }
  if (options.key->insecure_dev)
    std::cerr << "ethos: warning: recording with the insecure development key: pseudonyms in `"
              << display_location(o.db) << "` can be reversed by anyone\n";
  options.checkpoints = load_checkpoint_options(o.checkpoints);
  std::unique_ptr<DecisionLog> log;
  try {
    log = std::make_unique<DecisionLog>(o.db, std::move(options));
  } catch (const sql::StoreError& e) {
    std::cerr << "ethos: cannot record: " << e.what() << "\n";
    throw kInternal;
  }
  if (log->damage()) {
    std::cerr << "ethos: cannot record: `" << display_location(o.db)
              << "` is damaged, so no decision is added to it: " << *log->damage()
              << "\nhelp: run `ethos verify " << display_location(o.db)
              << "`; restore the log from a copy before recording again\n";
    throw kInternal;
  }
  return log;
}

std::unique_ptr<DecisionLog> open_log_for_reading(const std::string& path) {
  LogLocation where = parse_log_location(path);
  struct stat st {};
  if (where.kind == LogLocation::Kind::kSqlite && stat(where.target.c_str(), &st) != 0) {
    std::cerr << "ethos: `" << where.target << "`: no such file\n";
    throw kInternal;
  }
  try {
    LogOptions options;
    options.read_only = true;
    return std::make_unique<DecisionLog>(path, std::move(options));
  } catch (const sql::StoreError& e) {
    std::cerr << "ethos: " << e.what() << "\n";
    throw kInternal;
  }
}

ProgressBar::ProgressBar(std::string label)
    : label_(std::move(label)), enabled_(isatty(STDERR_FILENO) == 1) {}

ProgressBar::~ProgressBar() {
  if (drawn_) std::cerr << "\r\033[K" << std::flush;
}

void ProgressBar::update(uint64_t done, uint64_t total) {
  if (!enabled_ || total == 0) return;
  int permille = static_cast<int>(std::min<uint64_t>(done, total) * 1000 / total);
  if (permille == last_permille_) return;
  last_permille_ = permille;
  constexpr int kWidth = 30;
  int filled = permille * kWidth / 1000;
  std::string bar(static_cast<size_t>(filled), '#');
  bar.append(static_cast<size_t>(kWidth - filled), '-');
  std::cerr << "\r" << label_ << " [" << bar << "] " << permille / 10 << "%  " << done << "/"
            << total << std::flush;
  drawn_ = true;
}

}  // namespace ethos::cli
