// `ethos log copy`: copies a decision log into another database, keeping
// every chain verifiable (docs/decision-log.md, "Copying a log").
#include <filesystem>
#include <iostream>

#include <ethos/log/log_copy.hpp>
#include <ethos/log/log_store.hpp>
#include "cli.hpp"
#include "log_cli.hpp"

namespace ethos::cli {

CLI::App* add_log_copy(CLI::App* log_cmd) {
  struct Opts {
    std::string from, to, chain;
  };
  auto opts = std::make_shared<Opts>();
  auto* cmd = log_cmd->add_subcommand(
      "copy", "Copy a decision log into another database, e.g. SQLite into PostgreSQL");
  cmd->add_option("--from", opts->from, "The log to copy (sqlite:FILE, a file, or a URL)")
      ->required();
  cmd->add_option("--to", opts->to, "The log to copy into (postgresql://..., or sqlite:FILE)")
      ->required();
  cmd->add_option("--chain", opts->chain,
                  "The chain (node id) the SQLite log's decisions go to (default: the file's "
                  "name without its extension)");
  cmd->footer(
      "Example:\n  ethos log copy --from sqlite:decisions.db --to postgresql://ethos@db/ethos\n"
      "Every decision keeps its id, contents and hashes: `ethos verify` shows the same head on\n"
      "both sides. The target's chain must be empty (or hold exactly the rows before the copy).\n"
      "Exit: 0 copied, 64 bad options, 70 a log cannot be read or written.");
  cmd->callback([opts] {
    LogLocation from = parse_log_location(opts->from);
    if (from.kind == LogLocation::Kind::kSqlite && !std::filesystem::exists(from.target)) {
      std::cerr << "ethos: `" << from.target << "`: no such file\n";
      throw kInternal;
    }
    CopyOptions o;
    o.chain = opts->chain.empty() && from.kind == LogLocation::Kind::kSqlite
                  ? std::filesystem::path(from.target).stem().string()
                  : opts->chain;
    CopyReport r;
    try {
      ProgressBar bar("copying");
      o.progress = [&](uint64_t done, uint64_t total) { bar.update(done, total); };
      r = copy_log(opts->from, opts->to, o);
    } catch (const std::exception& e) {
      std::cerr << "ethos: cannot copy: " << e.what() << "\n";
      throw kInternal;
    }
    std::cout << "copied " << r.decisions << " decision" << (r.decisions == 1 ? "" : "s") << " and "
              << r.bundles << " bundle" << (r.bundles == 1 ? "" : "s") << " to "
              << display_location(opts->to) << "\n";
    for (const auto& c : r.chains)
      std::cout << "  chain " << (c.chain.empty() ? "(the log's one chain)" : c.chain) << ": "
                << c.decisions << " decision" << (c.decisions == 1 ? "" : "s") << "; head "
                << c.head << "\n";
  });
  return cmd;
}

}  // namespace ethos::cli
