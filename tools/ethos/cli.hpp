// Shared pieces of the `ethos` command-line program.
#pragma once

#include <CLI/CLI.hpp>
#include <string>
#include <string_view>
#include <vector>

#include <ethos/base/exit_code.hpp>
#include <ethos/compile/bundle.hpp>
#include <ethos/service/console_assets.hpp>

namespace ethos {
struct CheckpointOptions;
}

namespace ethos::cli {

// The documented exit codes (ethos/base/exit_code.hpp), as cli::kOk, ...
using Exit = ethos::Exit;
using enum ethos::Exit;

// Loads and checks a bundle, printing diagnostics to stderr (warnings too).
// Returns a bundle whose policy is null on errors.
Bundle load_and_report(const std::vector<std::string>& paths, const CheckOptions& options,
                       bool json_diagnostics = false);

// Parses `--param module.name=value` strings.
bool parse_params(const std::vector<std::string>& in, CheckOptions& out);

// Adds `--max-depth N`: how deeply policy text and requests may nest
// (ethos/base/limits.hpp), 1 to kMaxMaxDepth.
void add_max_depth_option(CLI::App* cmd, uint32_t& max_depth);

// Reads a file, or standard input for "-".
bool read_input(const std::string& path, std::string& out);

// The text of a file, or of standard input for "-": a regular file is mapped
// rather than copied (a stream of requests can be hundreds of megabytes);
// anything else is read. The text lives until the next open() or the end.
class InputText {
 public:
  InputText() = default;
  InputText(const InputText&) = delete;
  InputText& operator=(const InputText&) = delete;
  ~InputText() { close(); }
  bool open(const std::string& path);  // false: it cannot be read
  std::string_view text() const { return text_; }

 private:
  void close();
  std::string read_;
  void* mapped_ = nullptr;
  size_t mapped_size_ = 0;
  std::string_view text_;
};

bool stdout_is_tty();

// `ethos bench --record <db>`: records `n` decisions of `requests` into the
// decision log at `db`, signing checkpoints as `checkpoints` says, and prints
// the recording rate (implemented with the decision log,
// tools/ethos/bench_record.cpp). Returns an exit code.
int run_record_bench(const Bundle& bundle, const std::vector<std::string>& requests,
                     const std::string& db, size_t n, bool json,
                     const CheckpointOptions& checkpoints);

// Commands register themselves: a file defines `void add_xxx(CLI::App&)` and
// `ETHOS_COMMAND(add_xxx, order)`; main() adds them sorted by order.
using CommandAdder = void (*)(CLI::App&);
struct CommandRegistration {
  CommandRegistration(int order, CommandAdder add);
};
void add_registered_commands(CLI::App& app);
#define ETHOS_COMMAND(fn, order) \
  static const ::ethos::cli::CommandRegistration ethos_command_##fn { order, &fn }

// The web console's files, embedded at build time (tools/console/embed.cmake).
ConsoleAssets console_assets();

}  // namespace ethos::cli
