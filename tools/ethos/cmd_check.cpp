#include <iostream>

#include "cli.hpp"

namespace ethos::cli {

void add_check(CLI::App& app) {
  struct Opts {
    std::vector<std::string> paths;
    std::vector<std::string> params;
    uint32_t max_depth = kDefaultMaxDepth;
    bool json = false;
  };
  auto opts = std::make_shared<Opts>();
  auto* cmd =
      app.add_subcommand("check", "Check policy files: syntax, names, types, cycles, citations");
  cmd->add_option("paths", opts->paths, "Policy files or directories")->required();
  cmd->add_option("--param", opts->params, "Override a param: module.name=value");
  add_max_depth_option(cmd, opts->max_depth);
  cmd->add_flag("--json", opts->json, "Diagnostics as JSON on stderr");
  cmd->footer("Example:\n  ethos check policies/\nExit: 0 clean (warnings allowed), 1 errors.");
  cmd->callback([opts] {
    CheckOptions options;
    options.max_depth = opts->max_depth;
    if (!parse_params(opts->params, options)) throw kUsage;
    Bundle b = load_and_report(opts->paths, options, opts->json);
    if (!b.policy) throw kPolicyError;
    if (!opts->json)
      std::cout << "ok: " << b.policy->rules.size() << " rules in " << b.policy->modules.size()
                << " modules, " << b.policy->tests.size() << " tests; bundle " << b.hash << "\n";
  });
}

ETHOS_COMMAND(add_check, 10);

}  // namespace ethos::cli
