#include <iostream>
#include <nlohmann/json.hpp>

#include <ethos/authoring/testing.hpp>
#include "cli.hpp"

namespace ethos::cli {

namespace {

// `ethos test --json`: {"passed", "failed", "tests": [...], "coverage": {...}}.
// Returns whether everything passed (and coverage met --min).
bool print_json_report(const Bundle& b, const TestReport& report, bool coverage, double min) {
  const Policy& p = *b.policy;
  nlohmann::json out;
  out["passed"] = report.passed();
  out["failed"] = report.failed();
  out["tests"] = nlohmann::json::array();
  for (const auto& r : report.results)
    out["tests"].push_back({{"name", r.name},
                            {"file", b.sources.files[r.span.file].path()},
                            {"line", r.span.line},
                            {"passed", r.passed},
                            {"failures", r.failures}});
  bool ok = report.failed() == 0;
  if (coverage) {
    size_t fired = 0, not_fired = 0, n = p.rules.size();
    nlohmann::json rules = nlohmann::json::array();
    for (size_t i = 0; i < n; ++i) {
      const auto& c = report.coverage[i];
      fired += c.fired;
      not_fired += c.not_fired;
      rules.push_back({{"rule", p.rules[i].id}, {"fired", c.fired}, {"not_fired", c.not_fired}});
    }
    out["coverage"] = {
        {"rules", n}, {"fired", fired}, {"not_fired", not_fired}, {"by_rule", rules}};
    if (min >= 0) {
      auto meets = [&](size_t k) {
        return static_cast<double>(k) * 100.0 >= min * static_cast<double>(n);
      };
      out["coverage"]["min"] = min;
      out["coverage"]["meets_min"] = meets(fired) && meets(not_fired);
      ok = ok && meets(fired) && meets(not_fired);
    }
  }
  out["ok"] = ok;
  std::cout << out.dump() << "\n";
  return ok;
}

}  // namespace

void add_test(CLI::App& app) {
  struct Opts {
    std::vector<std::string> paths;
    bool coverage = false;
    double min = -1;
    bool verbose = false;
    bool json = false;
  };
  auto opts = std::make_shared<Opts>();
  auto* cmd =
      app.add_subcommand("test", "Run the committee's tests (test blocks beside the policies)");
  cmd->add_option("paths", opts->paths, "Policy directory (with its tests)")->required();
  cmd->add_flag("--coverage", opts->coverage,
                "Report, per rule, whether a test made it fire and not fire");
  cmd->add_option("--min", opts->min, "With --coverage: fail below this percentage (both ways)");
  cmd->add_flag("-v,--verbose", opts->verbose, "List passing tests too");
  cmd->add_flag("--json", opts->json,
                "One JSON document: every test's result, and per-rule coverage with --coverage");
  cmd->footer(
      "Example:\n  ethos test policies/ --coverage --min 100\nExit: 0 all passed, 1 a failure or "
      "coverage below --min.");
  cmd->callback([opts] {
    Bundle b = load_and_report(opts->paths, {}, opts->json);
    if (!b.policy) throw kPolicyError;
    TestReport report = run_tests(b);
    const Policy& p = *b.policy;
    if (opts->json) {
      if (!print_json_report(b, report, opts->coverage, opts->min)) throw kPolicyError;
      return;
    }
    for (const auto& r : report.results) {
      std::string where = b.sources.files[r.span.file].path() + ":" + std::to_string(r.span.line);
      if (!r.passed) {
        std::cout << "FAIL " << r.name << "  (" << where << ")\n";
        for (const auto& f : r.failures) std::cout << "  - " << f << "\n";
      } else if (opts->verbose) {
        std::cout << "ok   " << r.name << "\n";
      }
    }
    std::cout << report.passed() << " passed, " << report.failed() << " failed\n";
    bool ok = report.failed() == 0;
    if (opts->coverage) {
      size_t fired = 0, not_fired = 0, n = p.rules.size();
      std::cout << "\ncoverage (per rule: a test made it fire / a test made it not fire)\n";
      for (size_t i = 0; i < n; ++i) {
        const auto& c = report.coverage[i];
        fired += c.fired;
        not_fired += c.not_fired;
        if (!c.fired || !c.not_fired || opts->verbose)
          std::cout << "  " << (c.fired ? "fired    " : "NEVER FIRED") << "  "
                    << (c.not_fired ? "not-fired" : "ALWAYS FIRED") << "  " << p.rules[i].id
                    << "\n";
      }
      auto pct = [&](size_t k) {
        return n == 0 ? 100.0 : 100.0 * static_cast<double>(k) / static_cast<double>(n);
      };
      std::printf("rules fired: %zu/%zu (%.1f%%), rules not fired: %zu/%zu (%.1f%%)\n", fired, n,
                  pct(fired), not_fired, n, pct(not_fired));
      std::fflush(stdout);
      if (opts->min >= 0) {
        // Exact comparison: k/n >= min/100  <=>  100k >= min*n (no rounding up).
        auto meets = [&](size_t k) {
          return static_cast<double>(k) * 100.0 >= opts->min * static_cast<double>(n);
        };
        if (!meets(fired) || !meets(not_fired)) {
          std::cout << "coverage below --min " << opts->min << "%\n";
          ok = false;
        }
      }
    }
    if (!ok) throw kPolicyError;
  });
}

ETHOS_COMMAND(add_test, 30);

}  // namespace ethos::cli
