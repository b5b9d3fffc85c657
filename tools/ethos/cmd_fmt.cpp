// `ethos fmt`: print, check or rewrite policy files in the canonical layout.
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iostream>

#include <ethos/authoring/format.hpp>
#include "cli.hpp"

namespace ethos::cli {
namespace {
namespace fs = std::filesystem;

// The .ethos files named by `paths` (directories recursively), in path order.
std::vector<std::string> policy_files(const std::vector<std::string>& paths, bool& missing) {
  std::vector<std::string> out;
  for (const auto& p : paths) {
    std::error_code ec;
    if (p == "-") {
      out.push_back(p);
    } else if (fs::is_directory(p, ec)) {
      std::vector<std::string> found;
      for (auto it = fs::recursive_directory_iterator(p, ec);
           !ec && it != fs::recursive_directory_iterator(); it.increment(ec))
        if (it->is_regular_file() && it->path().extension() == ".ethos")
          found.push_back(it->path().string());
      std::sort(found.begin(), found.end());
      out.insert(out.end(), found.begin(), found.end());
    } else if (fs::is_regular_file(p, ec)) {
      out.push_back(p);
    } else {
      std::cerr << p << ": cannot read: no such file or directory\n";
      missing = true;
    }
  }
  return out;
}

}  // namespace

void add_fmt(CLI::App& app) {
  struct Opts {
    std::vector<std::string> paths;
    bool check = false;
    bool write = false;
  };
  auto opts = std::make_shared<Opts>();
  auto* cmd =
      app.add_subcommand("fmt", "Lay out policy files in the canonical style (comments kept)");
  cmd->add_option("paths", opts->paths, "Policy files or directories, or - for stdin")->required();
  cmd->add_flag("--check", opts->check,
                "Change nothing; show a diff and exit 1 if a file is not formatted");
  cmd->add_flag("-w,--write", opts->write, "Rewrite files in place");
  cmd->footer(
      "Examples:\n  ethos fmt policies/privacy.ethos      print the formatted file\n"
      "  ethos fmt --check policies/           exit 1 with a diff if anything is not formatted\n"
      "  ethos fmt -w policies/                rewrite in place\n"
      "Exit: 0 formatted (or rewritten), 1 a file is not formatted (--check) or has syntax "
      "errors,\n"
      "64 bad command line.");
  cmd->callback([opts] {
    if (opts->check && opts->write) {
      std::cerr << "ethos fmt: --check and -w exclude each other\n";
      throw kUsage;
    }
    bool missing = false;
    auto files = policy_files(opts->paths, missing);
    if (files.empty() && !missing) {
      std::cerr << "ethos fmt: no .ethos files found\n";
      throw kPolicyError;
    }
    bool failed = missing, unformatted = false;
    for (const auto& path : files) {
      std::string text;
      if (!read_input(path, text)) {
        std::cerr << path << ": cannot read\n";
        failed = true;
        continue;
      }
      SourceSet sources;
      sources.files.emplace_back(path == "-" ? "<stdin>" : path, text);
      Diagnostics diags;
      std::string formatted;
      if (!format_file(sources, 0, formatted, diags)) {
        std::cerr << render_all(sources, diags);
        failed = true;
        continue;
      }
      if (opts->check) {
        if (formatted != text) {
          unformatted = true;
          std::cout << unified_diff(sources.files[0].path(), text, formatted);
          std::cerr << sources.files[0].path() << ": not formatted\n";
        }
      } else if (opts->write && path != "-") {
        if (formatted != text) {
          std::ofstream out(path, std::ios::binary | std::ios::trunc);
          out << formatted;
          if (!out) {
            std::cerr << path << ": cannot write\n";
            failed = true;
            continue;
          }
          std::cout << "formatted " << path << "\n";
        }
      } else {
        if (files.size() > 1) std::cout << "// ==> " << path << " <==\n";
        std::cout << formatted;
      }
    }
    if (failed || unformatted) throw kPolicyError;
  });
}

ETHOS_COMMAND(add_fmt, 41);

}  // namespace ethos::cli
