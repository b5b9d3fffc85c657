// ethos: the command-line front end of the policy engine.
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

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
