// fmt and lint on random well-typed policies from the differential test's
// generator (tests/differential/generator.hpp): formatting keeps the plan
// and every decision; lint's claims of impossibility survive random requests.
#include <catch2/catch.hpp>

#include <ethos/authoring/format.hpp>
#include <ethos/authoring/lint.hpp>
#include "generator.hpp"
#include "plan.hpp"
#include "support.hpp"

using namespace ethos;
using namespace ethos::testing;
using namespace ethos::differential;

namespace {

Bundle build(const std::vector<std::pair<std::string, std::string>>& files, const Model& m) {
  Diagnostics diags;
  CheckOptions options;
  options.params = m.param_values;
  return load_bundle_texts(files, diags, options);
}

size_t index_of(const Policy& p, const std::string& id) {
  return static_cast<size_t>(p.find_rule(id) - p.rules.data());
}

}  // namespace

TEST_CASE("formatting random policies is idempotent and keeps their plan and every decision") {
  size_t policies = 0, decisions = 0;
  for (uint64_t seed = 1; seed <= 250; ++seed) {
    Model m = generate_policy(seed);
    auto files = render_files(m);
    Bundle before = build(files, m);
    if (!before.policy) continue;
    std::vector<std::pair<std::string, std::string>> formatted;
    for (const auto& [name, text] : files) {
      INFO("seed " << seed << " " << name << "\n" << text);
      std::string once, twice;
      Diagnostics d1, d2;
      REQUIRE(format_text(name, text, once, d1));
      REQUIRE(format_text(name, once, twice, d2));
      CHECK(twice == once);
      formatted.emplace_back(name, once);
    }
    Bundle after = build(formatted, m);
    REQUIRE(after.policy);
    INFO("seed " << seed);
    CHECK(plan(*before.policy) == plan(*after.policy));
    RequestBinder b1(*before.policy), b2(*after.policy);
    Evaluator e1(before.policy), e2(after.policy);
    Rng rng(seed);
    for (int k = 0; k < 20; ++k) {
      std::string json = generate_request(m, rng).dump();
      BoundRequest r1, r2;
      BindError err;
      REQUIRE(b1.bind(json, r1, err));
      REQUIRE(b2.bind(json, r2, err));
      DecisionFormat f;
      CHECK(decision_json(*before.policy, e1.evaluate(r1), f) ==
            decision_json(*after.policy, e2.evaluate(r2), f));
      ++decisions;
    }
    ++policies;
  }
  CHECK(policies > 100);
  CHECK(decisions > 2000);
}

TEST_CASE("lint's claims about random policies hold on random requests, and its witnesses bind") {
  size_t claims = 0, questions = 0, undecided = 0;
  for (uint64_t seed = 1; seed <= 200; ++seed) {
    Model m = generate_policy(seed);
    Bundle b = build(render_files(m), m);
    if (!b.policy) continue;
    LintReport report = lint(b);
    questions += report.questions;
    undecided += report.undecided;
    const Policy& p = *b.policy;
    RequestBinder binder(p);
    Evaluator ev(b.policy);
    Rng rng(seed * 7919);
    std::vector<std::string> requests;
    for (int k = 0; k < 150; ++k) requests.push_back(generate_request(m, rng).dump());
    for (const Finding& f : report.findings) {
      if (!f.witness.empty()) {
        BoundRequest req;
        BindError err;
        CHECK(binder.bind(f.witness, req, err));
      }
      if (f.rules.empty()) continue;
      ++claims;
      size_t a = index_of(p, f.rules[0]);
      for (const auto& json : requests) {
        BoundRequest req;
        BindError err;
        REQUIRE(binder.bind(json, req, err));
        Decision d = ev.evaluate(req);
        INFO("seed " << seed << ": " << f.message << "\n" << json);
        auto active = [&](size_t r) {
          bool blocking =
              p.rules[r].effect == Effect::kForbid || p.rules[r].effect == Effect::kEscalate;
          return d.trace[r] == RuleStatus::kFired ||
                 (blocking && d.trace[r] == RuleStatus::kUnknown);
        };
        switch (f.kind) {
          case FindingKind::kNeverFires:
          case FindingKind::kAlwaysOverridden:
            CHECK(d.trace[a] != RuleStatus::kFired);
            break;
          case FindingKind::kShadowed:
            CHECK_FALSE((d.trace[a] == RuleStatus::kFired && d.outcome == Outcome::kPermit));
            break;
          case FindingKind::kRedundant:
            CHECK((!active(a) || active(index_of(p, f.rules[1]))));
            break;
          case FindingKind::kDeadException: {
            size_t y = index_of(p, f.rules[1]);
            bool suppressed = false;
            for (const auto& [r, by] : d.overridden)
              if (r == y && by == a) suppressed = true;
            CHECK_FALSE(suppressed);
            break;
          }
          default:
            break;
        }
      }
    }
  }
  CHECK(claims > 50);
  // The solver settles nearly everything it is asked within its budget.
  CHECK(undecided * 100 <= questions);
}
