// `ethos lsp`: the language server on stdin/stdout (engine/lsp/server.hpp),
// and `ethos lsp --bench`: how long diagnostics take after an edit.
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>

#include <ethos/lsp/server.hpp>
#include <ethos/lsp/workspace.hpp>
#include "cli.hpp"
#include "synthetic.hpp"

namespace ethos::cli {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

struct Opts {
  std::vector<std::string> params;
  uint32_t max_depth = kDefaultMaxDepth;
  bool stdio = false;
  bool bench = false;
  std::string policies = "policies";
  std::string file;
  size_t synthetic = 0;
  size_t iterations = 50;
  bool json_out = false;
};

// CPU time of this thread: steadier than wall time on a busy machine.
double thread_cpu_ms() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) * 1e3 + static_cast<double>(ts.tv_nsec) / 1e6;
}

std::string message(const std::string& method, json params, int id = -1) {
  json m = {{"jsonrpc", "2.0"}, {"method", method}, {"params", std::move(params)}};
  if (id >= 0) m["id"] = id;
  return m.dump();
}

// Times didChange -> publishDiagnostics through the server, in process.
int run_bench(const Opts& o, const CheckOptions& options) {
  std::string root = o.policies, edited = o.file;
  fs::path tmp;
  if (o.synthetic > 0) {
    SyntheticPack pack = make_synthetic_pack(o.synthetic, 1, 1);
    tmp = fs::temp_directory_path() / ("ethos-lsp-bench-" + std::to_string(::getpid()));
    fs::create_directories(tmp);
    for (const auto& [name, text] : pack.files) std::ofstream(tmp / name) << text;
    root = tmp.string();
    if (edited.empty()) edited = pack.files.back().first;
  }
  if (edited.empty()) edited = "privacy.ethos";
  fs::path path = fs::absolute(fs::path(root) / edited);
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    std::cerr << "ethos lsp --bench: cannot read `" << path.string() << "`\n";
    return kUsage;
  }
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  lsp::ServerOptions so;
  so.check = options;
  lsp::Server server(so);
  std::string uri = lsp::path_to_uri(path.string());
  server.handle(message("initialize", {{"capabilities", json::object()}}, 1));
  server.handle(message("initialized", json::object()));
  auto t0 = std::chrono::steady_clock::now();
  server.handle(message(
      "textDocument/didOpen",
      {{"textDocument", {{"uri", uri}, {"languageId", "ethos"}, {"version", 1}, {"text", text}}}}));
  double open_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  std::vector<double> ms, cpu;
  size_t published = 0;
  for (size_t i = 0; i < o.iterations; ++i) {
    // An edit a person makes: a comment line typed at the end, then removed.
    std::string edit = i % 2 == 0 ? text + "// edit " + std::to_string(i) + "\n" : text;
    std::string msg =
        message("textDocument/didChange",
                {{"textDocument", {{"uri", uri}, {"version", static_cast<int>(i) + 2}}},
                 {"contentChanges", {{{"text", edit}}}}});
    auto start = std::chrono::steady_clock::now();
    double cpu_start = thread_cpu_ms();
    auto out = server.handle(msg);
    cpu.push_back(thread_cpu_ms() - cpu_start);
    ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
                     .count());
    published += out.size();
  }
  if (!tmp.empty()) fs::remove_all(tmp);
  std::sort(ms.begin(), ms.end());
  std::sort(cpu.begin(), cpu.end());
  auto at = [&](double q) {
    return ms[std::min(ms.size() - 1, static_cast<size_t>(q * static_cast<double>(ms.size())))];
  };
  double cpu_median = cpu[cpu.size() / 2];
  size_t rules = o.synthetic;
  if (o.json_out) {
    std::cout << json{{"edits", ms.size()},   {"rules", rules},
                      {"open_ms", open_ms},   {"median_ms", at(0.5)},
                      {"p90_ms", at(0.9)},    {"max_ms", ms.back()},
                      {"min_ms", ms.front()}, {"cpu_median_ms", cpu_median},
                      {"messages", published}}
                     .dump()
              << "\n";
  } else {
    std::cout << "diagnostics after an edit of " << edited << " ("
              << (rules ? std::to_string(rules) + "-rule synthetic pack" : root) << "), "
              << ms.size() << " edits:\n"
              << "  median " << at(0.5) << " ms, p90 " << at(0.9) << " ms, min " << ms.front()
              << " ms, max " << ms.back() << " ms; thread CPU median " << cpu_median
              << " ms; first open " << open_ms << " ms\n";
  }
  return kOk;
}

}  // namespace

void add_lsp(CLI::App& app) {
  auto opts = std::make_shared<Opts>();
  auto* cmd = app.add_subcommand(
      "lsp", "Language server for editors (LSP 3.17 over stdin/stdout; docs/editors.md)");
  cmd->add_option("--param", opts->params, "Override a param: module.name=value");
  add_max_depth_option(cmd, opts->max_depth);
  cmd->add_flag("--stdio", opts->stdio, "Talk over stdin/stdout (the default; editors pass it)");
  cmd->add_flag("--bench", opts->bench,
                "Measure diagnostics latency after an edit instead of serving");
  cmd->add_option("--policies", opts->policies, "With --bench: the pack (default policies)");
  cmd->add_option("--file", opts->file,
                  "With --bench: the file edited, relative to the pack (default privacy.ethos)");
  cmd->add_option("--synthetic", opts->synthetic, "With --bench: a generated pack of N rules");
  cmd->add_option("-n", opts->iterations, "With --bench: edits to time (default 50)")
      ->check(CLI::Range(size_t{1}, size_t{1000000}));
  cmd->add_flag("--json", opts->json_out, "With --bench: the figures as JSON");
  cmd->footer(
      "Examples:\n  ethos lsp                  (started by an editor)\n"
      "  ethos lsp --bench --policies policies\n  ethos lsp --bench --synthetic 10000\n"
      "Exit: 0 after shutdown and exit, 1 when the input ends first.");
  cmd->callback([opts] {
    CheckOptions options;
    options.max_depth = opts->max_depth;
    if (!parse_params(opts->params, options)) throw kUsage;
    if (opts->bench) {
      int rc = run_bench(*opts, options);
      if (rc != kOk) throw static_cast<Exit>(rc);
      return;
    }
    lsp::ServerOptions so;
    so.check = options;
    int rc = lsp::serve(STDIN_FILENO, STDOUT_FILENO, so);
    if (rc != 0) throw static_cast<Exit>(rc);
  });
}

ETHOS_COMMAND(add_lsp, 95);

}  // namespace ethos::cli
