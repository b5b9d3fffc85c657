#include <fstream>
#include <iostream>

#include <ethos/check/policy_graph.hpp>
#include <ethos/graph/graphviz.hpp>
#include "cli.hpp"

namespace ethos::cli {

void add_graph(CLI::App& app) {
  struct Opts {
    std::vector<std::string> paths;
    std::string format = "dot";
    std::string output;
    std::string module;
  };
  auto opts = std::make_shared<Opts>();
  auto* cmd = app.add_subcommand("graph", "Draw the rule graph (DOT, or SVG through Graphviz)");
  cmd->add_option("paths", opts->paths, "Policy files or directories")->required();
  cmd->add_option("--format", opts->format, "dot or svg")->check(CLI::IsMember({"dot", "svg"}));
  cmd->add_option("--module", opts->module,
                  "Only this module's rules, what they read, and the rules that override them or "
                  "that they override (the console's picture)");
  cmd->add_option("-o,--output", opts->output, "Write to this file instead of stdout");
  cmd->footer(
      "Example:\n  ethos graph policies/ --format svg -o policy.svg\n"
      "  ethos graph policies/ --module privacy --format svg -o privacy.svg");
  cmd->callback([opts] {
    Bundle b = load_and_report(opts->paths, {});
    if (!b.policy) throw kPolicyError;
    PolicyDotOptions po;
    po.module = opts->module;
    po.title = "ethos policy " + b.hash.substr(0, 19) +
               (opts->module.empty() ? "" : ", module " + opts->module);
    auto dot = policy_dot(*b.policy, po);
    if (!dot) {
      std::string known;
      for (const auto& m : b.policy->modules) known += (known.empty() ? "" : ", ") + m.name;
      std::cerr << "ethos: no module `" << opts->module << "` in the policy; it has " << known
                << "\n";
      throw kUsage;
    }
    std::string out = *dot;
    if (opts->format == "svg") {
      std::string error;
      auto svg = graphviz_svg(*dot, error);
      if (!svg) {
        std::cerr << "ethos: " << error << "; or use --format dot\n";
        throw kInternal;
      }
      out = std::move(*svg);
    }
    if (opts->output.empty()) {
      std::cout << out;
    } else {
      std::ofstream f(opts->output, std::ios::binary);
      if (!(f << out)) {
        std::cerr << "ethos: cannot write `" << opts->output << "`\n";
        throw kInternal;
      }
    }
  });
}

ETHOS_COMMAND(add_graph, 40);

}  // namespace ethos::cli
