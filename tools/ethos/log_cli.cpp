#include "log_cli.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <iostream>

#include <ethos/base/time.hpp>
#include <ethos/check/policy.hpp>
#include <ethos/log/log_store.hpp>
#include "cli.hpp"

namespace ethos::cli {

void add_record_options(CLI::App* cmd, RecordOptions& o) {
  cmd->add_option("--record", o.db,
                  "Record each decision in this decision log (an SQLite file, created if absent, "
                  "or a postgresql:// URL)");
  cmd->add_option("--log-key-file", o.key_file,
                  "With --record: the key that pseudonymises the log (default: $ETHOS_LOG_KEY)");
  cmd->add_flag(
      "--insecure-dev-key", o.insecure_dev_key,
      "With --record: without a key, use a well-known development key (pseudonymises nothing)");
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
  try {
    return std::make_unique<DecisionLog>(o.db, std::move(options));
  } catch (const sql::StoreError& e) {
    std::cerr << "ethos: cannot record: " << e.what() << "\n";
    throw kInternal;
  }
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
