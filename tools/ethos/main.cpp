// ethos: the command-line front end of the policy engine.
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstdio>
#include <ethos/base/text.hpp>

#include "cli.hpp"

int main(int argc, char** argv) {
  CLI::App app{"ethos: a compliance policy engine for AI in mental-health care"};
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string("ethos 0.1.0"));
  app.footer("Run `ethos <command> --help` for a command's options and an example.");
  ethos::cli::add_registered_commands(app);
  // Diagnostics go to stderr: stdout carries results (--json) only.
  spdlog::set_default_logger(spdlog::stderr_color_mt("ethos"));
  spdlog::set_pattern("ethos: %l: %v");
  // An unknown command: say so, with the closest one, before CLI11 reports
  // only that a command is required.
  if (argc > 1 && argv[1][0] != '-') {
    std::vector<std::string> names;
    for (const auto* sub : app.get_subcommands({})) names.push_back(sub->get_name());
    if (std::find(names.begin(), names.end(), argv[1]) == names.end()) {
      std::fprintf(stderr, "ethos: unknown command `%s`\n", argv[1]);
      std::string near = ethos::closest(argv[1], names);
      if (!near.empty()) std::fprintf(stderr, "help: did you mean `%s`?\n", near.c_str());
      std::fprintf(stderr, "Run `ethos --help` for the list of commands.\n");
      return ethos::cli::kUsage;
    }
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return ethos::cli::kUsage;
  } catch (const ethos::cli::Exit& code) {
    return code;
  } catch (const std::exception& e) {
    spdlog::error("{}", e.what());
    return ethos::cli::kInternal;
  }
  return ethos::cli::kOk;
}
