#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>

#include <ethos/check/policy_graph.hpp>
#include "cli.hpp"

namespace ethos::cli {

void add_graph(CLI::App& app) {
  struct Opts {
    std::vector<std::string> paths;
    std::string format = "dot";
    std::string output;
  };
  auto opts = std::make_shared<Opts>();
  auto* cmd = app.add_subcommand("graph", "Draw the rule graph (DOT, or SVG through Graphviz)");
  cmd->add_option("paths", opts->paths, "Policy files or directories")->required();
  cmd->add_option("--format", opts->format, "dot or svg")->check(CLI::IsMember({"dot", "svg"}));
  cmd->add_option("-o,--output", opts->output, "Write to this file instead of stdout");
  cmd->footer("Example:\n  ethos graph policies/ --format svg -o policy.svg");
  cmd->callback([opts] {
    Bundle b = load_and_report(opts->paths, {});
    if (!b.policy) throw kPolicyError;
    std::string dot = build_rule_graph(*b.policy).to_dot("ethos policy " + b.hash.substr(0, 19));
    std::string out = dot;
    if (opts->format == "svg") {
      if (std::system("command -v dot >/dev/null 2>&1") != 0) {
        std::cerr << "ethos: Graphviz `dot` is not installed; install it with `apt-get install "
                     "graphviz`, "
                     "or use --format dot\n";
        throw kInternal;
      }
      char tmpl[] = "/tmp/ethos-graph-XXXXXX";
      int fd = mkstemp(tmpl);
      if (fd < 0) throw kInternal;
      close(fd);
      std::string tmp = tmpl;
      { std::ofstream(tmp) << dot; }
      std::string cmdline = "dot -Tsvg '" + tmp + "'";
      FILE* pipe = popen(cmdline.c_str(), "r");
      out.clear();
      char buf[4096];
      size_t n;
      while (pipe && (n = fread(buf, 1, sizeof buf, pipe)) > 0) out.append(buf, n);
      int rc = pipe ? pclose(pipe) : -1;
      std::remove(tmp.c_str());
      if (rc != 0) {
        std::cerr << "ethos: `dot` failed (exit " << rc << ")\n";
        throw kInternal;
      }
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
