// `ethos lint`: findings a committee must see, each with a witness or a proof.
#include <iostream>

#include <ethos/authoring/lint.hpp>
#include "cli.hpp"

namespace ethos::cli {

void add_lint(CLI::App& app) {
  struct Opts {
    std::vector<std::string> paths;
    std::vector<std::string> params;
    uint32_t max_depth = kDefaultMaxDepth;
    bool json = false;
  };
  auto opts = std::make_shared<Opts>();
  auto* cmd = app.add_subcommand("lint",
                                 "Find rules that can never fire, are shadowed, overridden or "
                                 "redundant, dead exceptions, unused names");
  cmd->add_option("paths", opts->paths, "Policy files or directories")->required();
  cmd->add_option("--param", opts->params, "Override a param: module.name=value");
  add_max_depth_option(cmd, opts->max_depth);
  cmd->add_flag("--json", opts->json, "Findings as JSON, each with its full witness request");
  cmd->footer(
      "Example:\n  ethos lint policies/\n"
      "Exit: 0 no errors (warnings and notes allowed), 1 lint errors or the policy does not "
      "compile,\n"
      "64 bad command line.");
  cmd->callback([opts] {
    CheckOptions options;
    options.max_depth = opts->max_depth;
    if (!parse_params(opts->params, options)) throw kUsage;
    Diagnostics diags;
    Bundle b = load_bundle(opts->paths, diags, options);
    if (!b.policy) {
      diags.sort();
      std::cerr << (opts->json ? diagnostics_json(b.sources, diags) + "\n"
                               : render_all(b.sources, diags));
      throw kPolicyError;
    }
    LintReport report = lint(b);
    std::cout << (opts->json ? lint_json(b, report) + "\n" : lint_text(b, report));
    if (report.errors() > 0) throw kPolicyError;
  });
}

ETHOS_COMMAND(add_lint, 42);

}  // namespace ethos::cli
