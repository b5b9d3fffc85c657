// Chains that the parser cannot bound, because each link is a declaration
// of its own: defines that use defines, rules that override rules, and
// cycles through either. A chain of any length gets a diagnostic or a
// decision, never a stack overflow in a later stage.
#include <algorithm>
#include <catch2/catch.hpp>

#include <ethos/authoring/lint.hpp>
#include <ethos/eval/remedies.hpp>

#include "support.hpp"

using namespace ethos;
using namespace ethos::testing;
using Catch::Matchers::Contains;

namespace {

// define d0 = patient.opted_out; define dK = d(K-1) and patient.opted_out;
// a rule forbids when the last one holds.
std::string define_chain(size_t n) {
  std::string s = "module m \"M\"\ndefine d0 = patient.opted_out\n";
  for (size_t i = 1; i < n; ++i)
    s += "define d" + std::to_string(i) + " = d" + std::to_string(i - 1) +
         " and patient.opted_out\n";
  return s + "rule a: forbid when d" + std::to_string(n - 1) + " because \"x\" cite \"y\"\n";
}

// define dK = d(K+1) ... and the last one uses d0.
std::string define_cycle(size_t n) {
  std::string s = "module m \"M\"\n";
  for (size_t i = 0; i < n; ++i)
    s += "define d" + std::to_string(i) + " = d" + std::to_string((i + 1) % n) +
         " and patient.opted_out\n";
  return s + "rule a: forbid when d0 because \"x\" cite \"y\"\n";
}

// rK overrides r(K-1): only the last one can fire.
std::string override_chain(size_t n) {
  std::string s = "module m \"M\"\n";
  for (size_t i = 0; i < n; ++i) {
    s += "rule r" + std::to_string(i) + ": forbid when patient.opted_out because \"x\" cite \"y\"";
    if (i > 0) s += " overrides r" + std::to_string(i - 1);
    s += "\n";
  }
  return s;
}

size_t count(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

}  // namespace

TEST_CASE("a chain of 500 defines decides: the limit counts tree levels, not defines") {
  // d499's tree: 1 + 2 x 499 = 999 levels, inside 4 x 256.
  auto policy = compile(define_chain(500));
  Decision d = decide(policy, request(R"({"patient": {"opted_out": true}})"));
  CHECK(reason_ids(*policy, d) == std::vector<std::string>{"m.a"});
  Decision e = decide(policy, request(R"({"patient": {"opted_out": false}})"));
  CHECK(reason_ids(*policy, e).empty());
}

TEST_CASE("a chain of 100,000 defines is refused once, at the first define past the limit") {
  std::string out = diagnose_policy(define_chain(100000));
  // d512's tree is 1 + 2 x 512 = 1025 levels deep.
  CHECK_THAT(out, Contains("error: define `m.d512` is too deep: with the defines it uses, its "
                           "tree is 1025 levels deep, and the limit is 1024"));
  CHECK_THAT(out, Contains("help: a define used in a define nests inside it"));
  CHECK(count(out, "is too deep") == 1);
}

TEST_CASE("a cycle through 100,000 defines is reported as a cycle") {
  std::string out = diagnose_policy(define_cycle(100000));
  CHECK_THAT(out, Contains("error: defines form a cycle: m.d0 -> m.d1 -> m.d2"));
}

TEST_CASE("a chain of 100,000 overriding rules checks, decides and finds remedies") {
  auto policy = compile(override_chain(100000));
  std::string req = request(R"({"patient": {"opted_out": true}})");
  Decision d = decide(policy, req);
  CHECK(d.outcome == Outcome::kDeny);
  // A rule fires unless an overrider fires: every other link of the chain.
  std::vector<std::string> fired = reason_ids(*policy, d);
  CHECK(fired.size() == 50000);
  CHECK(std::count(fired.begin(), fired.end(), "m.r99999") == 1);
  CHECK(std::count(fired.begin(), fired.end(), "m.r99998") == 0);
  (void)find_remedies(policy, req, d);
}

// lint asks of each rule whether it can fire, which takes its whole chain of
// overriders: quadratic in the chain's length, so this chain is shorter.
TEST_CASE("lint finds the rules of an override chain that can never fire") {
  Diagnostics diags;
  Bundle b = load_bundle_texts(
      {{"schema.ethos", kTestSchema}, {"policy.ethos", override_chain(300)}}, diags, {});
  REQUIRE(b.policy != nullptr);
  LintReport report = lint(b);
  CHECK_THAT(lint_text(b, report), Contains("m.r0"));
}
