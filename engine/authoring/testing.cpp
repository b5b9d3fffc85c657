#include <ethos/authoring/testing.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include <ethos/eval/evaluator.hpp>
#include <ethos/eval/request.hpp>

namespace ethos {
namespace {

using nlohmann::json;

// The JSON form of a test's literal for an attribute of type `t`.
bool literal_json(const Policy& p, const Attribute& a, const ast::Expr& e, json& out,
                  std::string& error) {
  switch (a.type.kind) {
    case ValueType::kBool:
      if (e.kind != ast::ExprKind::kBool) break;
      out = e.bool_value;
      return true;
    case ValueType::kInt:
      if (e.kind != ast::ExprKind::kInt) break;
      out = e.int_value;
      return true;
    case ValueType::kDuration:
      if (e.kind != ast::ExprKind::kInt && e.kind != ast::ExprKind::kDuration) break;
      out = e.int_value;
      return true;
    case ValueType::kString:
    case ValueType::kTimestamp:
      if (e.kind != ast::ExprKind::kString) break;
      out = e.text;
      return true;
    case ValueType::kEnum:
      if (e.kind != ast::ExprKind::kString && e.kind != ast::ExprKind::kName) break;
      out = e.text;
      return true;
    case ValueType::kSet:
      if (e.kind != ast::ExprKind::kList) break;
      out = json::array();
      for (const auto& k : e.kids) out.push_back(k.text);
      return true;
    default:
      break;
  }
  error =
      "`" + a.path + "` has type `" + type_name(a.type, p.schema) + "`; the value given is not one";
  return false;
}

json* walk_to(json& root, const Policy& p, uint32_t slot, bool create) {
  std::vector<uint32_t> chain;
  for (auto at = static_cast<int32_t>(slot); at >= 0;
       at = p.schema.attributes[static_cast<size_t>(at)].parent)
    chain.push_back(static_cast<uint32_t>(at));
  std::reverse(chain.begin(), chain.end());
  json* cur = &root;
  for (size_t i = 0; i + 1 < chain.size(); ++i) {
    const std::string& name = p.schema.attributes[chain[i]].name;
    if (!cur->contains(name) || (*cur)[name].is_null()) {
      if (!create) return nullptr;
      (*cur)[name] = json::object();
    }
    cur = &(*cur)[name];
  }
  return cur;
}

std::string list_rules(const Policy& p, const std::vector<uint32_t>& rules) {
  if (rules.empty()) return "none";
  std::string s;
  for (uint32_t r : rules) s += (s.empty() ? "" : ", ") + p.rules[r].id;
  return s;
}

}  // namespace

size_t TestReport::passed() const {
  return static_cast<size_t>(
      std::count_if(results.begin(), results.end(), [](const TestResult& r) { return r.passed; }));
}
size_t TestReport::failed() const { return results.size() - passed(); }

TestReport run_tests(const Bundle& bundle) {
  TestReport report;
  const Policy& p = *bundle.policy;
  report.coverage.assign(p.rules.size(), {});
  RequestBinder binder(p);
  Evaluator evaluator(bundle.policy);
  for (const TestCase& tc : p.tests) {
    TestResult res;
    res.name = tc.name;
    res.span = tc.span;
    auto fail = [&](std::string msg) { res.failures.push_back(std::move(msg)); };
    std::filesystem::path file = std::filesystem::path(bundle.root) / tc.given;
    std::ifstream in(file, std::ios::binary);
    json req;
    if (!in) {
      fail("cannot read the given request `" + file.generic_string() + "`");
    } else {
      std::stringstream ss;
      ss << in.rdbuf();
      std::string text = ss.str();
      // Checked before parsing: the request is written back out (dump()
      // recurses), and the binder would refuse it anyway.
      if (auto deep = json_too_deep(text, p.max_depth)) {
        fail("the given request `" + tc.given + "` nests deeper than " +
             std::to_string(p.max_depth) + " levels at " + *deep);
      } else {
        try {
          req = json::parse(text);
        } catch (const json::exception& e) {  // parse_error, or out_of_range for 1e400
          fail("the given request `" + tc.given + "` is not valid JSON: " + e.what());
        }
      }
    }
    if (res.failures.empty()) {
      for (const auto& s : tc.sets) {
        const Attribute& a = p.schema.attributes[s.slot];
        json value;
        std::string error;
        if (!literal_json(p, a, s.value, value, error)) {
          fail(error);
          continue;
        }
        (*walk_to(req, p, s.slot, true))[a.name] = value;
      }
      for (const auto& [slot, span] : tc.unsets)
        if (json* parent = walk_to(req, p, slot, false))
          parent->erase(p.schema.attributes[slot].name);
    }
    if (res.failures.empty()) {
      BoundRequest bound;
      BindError err;
      if (!binder.bind(req.dump(), bound, err)) {
        fail("the request does not fit the schema: " + err.path + ": " + err.message);
      } else {
        evaluator.evaluate(bound, res.decision);
        const Decision& d = res.decision;
        for (uint32_t r = 0; r < p.rules.size(); ++r) {
          if (d.trace[r] == RuleStatus::kFired) report.coverage[r].fired = true;
          if (d.trace[r] == RuleStatus::kNotFired || d.trace[r] == RuleStatus::kNotApplicable)
            report.coverage[r].not_fired = true;
        }
        if (tc.expect_outcome && *tc.expect_outcome != outcome_name(d.outcome))
          fail("expected " + *tc.expect_outcome + ", got " + outcome_name(d.outcome) +
               " (reasons: " + list_rules(p, d.reasons) + ")");
        // A rule took part in the decision when it is among the reasons, or
        // it fired as advice, or it attached its obligation.
        auto decided = [&](uint32_t r) {
          return std::find(d.reasons.begin(), d.reasons.end(), r) != d.reasons.end() ||
                 std::find(d.advice.begin(), d.advice.end(), r) != d.advice.end() ||
                 std::any_of(d.obligations.begin(), d.obligations.end(),
                             [&](const auto& o) { return o.second == r; });
        };
        for (const auto& [r, span] : tc.expect_rules)
          if (!decided(r))
            fail("expected rule " + p.rules[r].id + " among the reasons; it was " +
                 rule_status_name(d.trace[r]) + " (reasons: " + list_rules(p, d.reasons) + ")");
        for (const auto& [r, span] : tc.expect_no_rules)
          if (decided(r))
            fail("expected rule " + p.rules[r].id + " not among the reasons, but it decided");
        for (const auto& [o, span] : tc.expect_obligations)
          // `ob = o`: clang 14 cannot capture a structured binding (the fuzz build uses clang).
          if (std::none_of(d.obligations.begin(), d.obligations.end(),
                           [ob = o](const auto& x) { return x.first == ob; }))
            fail("expected obligation " + p.obligations[o].name + "; it was not attached");
        for (const auto& [slot, span] : tc.expect_missing)
          if (std::find(d.missing.begin(), d.missing.end(), slot) == d.missing.end())
            fail("expected missing fact " + p.schema.attributes[slot].path +
                 "; it was not reported");
      }
    }
    res.passed = res.failures.empty();
    report.results.push_back(std::move(res));
  }
  return report;
}

}  // namespace ethos
