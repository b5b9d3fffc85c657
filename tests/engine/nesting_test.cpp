// The nesting limit (ethos/base/limits.hpp): policy text that nests deeper
// than it is refused while parsing, at the opener past the limit, so that
// nothing after the parser (checker, compiler, evaluator, formatter) ever
// sees a deeper tree. Text just inside the limit goes through every stage.
#include <catch2/catch.hpp>
#include <sstream>

#include <ethos/authoring/format.hpp>
#include <ethos/authoring/lint.hpp>
#include <ethos/eval/remedies.hpp>

#include "support.hpp"

using namespace ethos;
using namespace ethos::testing;
using Catch::Matchers::Contains;

namespace {

std::string repeat(const std::string& s, size_t n) {
  std::string out;
  out.reserve(s.size() * n);
  for (size_t i = 0; i < n; ++i) out += s;
  return out;
}

// A rule whose condition is `cond`.
std::string rule_when(const std::string& cond) {
  return "module m \"M\"\nrule a: forbid when " + cond + " because \"x\" cite \"y\"\n";
}

std::string parens(size_t n) { return repeat("(", n) + "patient.opted_out" + repeat(")", n); }

std::string nots(size_t n) { return repeat("not ", n) + "patient.opted_out"; }

Bundle load(const std::string& policy, uint32_t max_depth = kDefaultMaxDepth) {
  Diagnostics diags;
  CheckOptions options;
  options.max_depth = max_depth;
  Bundle b =
      load_bundle_texts({{"schema.ethos", kTestSchema}, {"policy.ethos", policy}}, diags, options);
  diags.sort();
  INFO(render_all(b.sources, diags).substr(0, 2000));
  return b;
}

// The rendered diagnostics without their source lines and carets (which
// repeat lines 100,000 characters long): messages, helps and notes.
std::string summary(const std::string& rendered) {
  std::string out, line;
  std::istringstream in(rendered);
  while (std::getline(in, line)) {
    size_t bar = line.find(" |");
    bool source = bar != std::string::npos && line.find_first_not_of("0123456789 ") == bar + 1;
    if (!source) out += line + "\n";
  }
  return out;
}

std::string diagnosed(const std::string& policy) { return summary(diagnose_policy(policy)); }

std::string diagnose_with(const std::string& policy, uint32_t max_depth) {
  Diagnostics diags;
  CheckOptions options;
  options.max_depth = max_depth;
  Bundle b =
      load_bundle_texts({{"schema.ethos", kTestSchema}, {"policy.ethos", policy}}, diags, options);
  diags.sort();
  return render_all(b.sources, diags);
}

// Every stage after the parser, on a policy that compiled: evaluate, render,
// search remedies, lint and format. None may crash on a tree at the limit.
void run_every_stage(const Bundle& b) {
  REQUIRE(b.policy != nullptr);
  Decision d = decide(b.policy, request(R"({"patient": {"opted_out": true}})"));
  CHECK(d.outcome == Outcome::kDeny);
  CHECK(!decision_json(*b.policy, d, {}).empty());
  CHECK(!decision_text(*b.policy, d).empty());
  (void)find_remedies(b.policy, request(R"({"patient": {"opted_out": true}})"), d);
  LintReport report = lint(b);
  (void)lint_text(b, report);
  std::string formatted;
  Diagnostics fd;
  for (const SourceFile& f : b.sources.files)
    if (f.path() == "policy.ethos") CHECK(format_text(f.path(), f.text(), formatted, fd));
}

}  // namespace

TEST_CASE("parentheses nested 256 deep go through every stage, and 257 are refused") {
  Bundle ok = load(rule_when(parens(256)));
  run_every_stage(ok);

  std::string out = diagnosed(rule_when(parens(257)));
  // The 257th `(`: column 21 is the first.
  CHECK_THAT(out, Contains("policy.ethos:2:277: error: expression nests deeper than 256 levels"));
  CHECK_THAT(out, Contains("help: name an inner part with `define` and use its name"));
}

TEST_CASE("a `not` chain 256 long goes through every stage, and 257 are refused") {
  Bundle ok = load(rule_when(nots(256)));
  run_every_stage(ok);  // an even number of `not`s: opted_out itself

  std::string out = diagnosed(rule_when(nots(257)));
  // The 257th `not`, 4 bytes after the 256th.
  CHECK_THAT(out, Contains("policy.ethos:2:" + std::to_string(21 + 256 * 4) +
                           ": error: expression nests deeper than 256 levels"));
}

TEST_CASE("100,000 nested parentheses or `not`s get the depth diagnostic, not a crash") {
  for (const std::string& cond : {parens(100000), nots(100000)}) {
    std::string out = diagnosed(rule_when(cond));
    CHECK_THAT(out, Contains("error: expression nests deeper than 256 levels"));
  }
}

TEST_CASE("an arithmetic chain counts a level per operator: 256 decide, 257 are refused") {
  // `a + 1 + 1 ...` is `((a + 1) + 1) ...`: a tree as deep as its operators.
  auto chain = [](size_t n) { return "patient.age" + repeat(" + 1", n) + " > 3"; };
  run_every_stage(load(rule_when(chain(256))));
  std::string out = diagnosed(rule_when(chain(257)));
  CHECK_THAT(out, Contains("error: expression nests deeper than 256 levels"));
  CHECK_THAT(out, Contains("help: `a + b + c` reads as `(a + b) + c`"));
  CHECK_THAT(diagnosed(rule_when("patient.age" + repeat(" * 1", 100000) + " > 3")),
             Contains("error: expression nests deeper than 256 levels"));
}

TEST_CASE("chains inside parentheses count toward one limit for the whole tree") {
  // 100 levels of parentheses, each holding a chain of 100 operators whose
  // first operand is the level inside: each chain's tree stands on the
  // one inside it, 10,000 deep in all, though no chain is longer than 100.
  std::string e = "patient.age";
  for (int i = 0; i < 100; ++i) e = "(" + e + repeat(" + 1", 100) + ")";
  CHECK_THAT(diagnosed(rule_when(e + " > 3")),
             Contains("error: expression nests deeper than 256 levels"));
}

TEST_CASE("nested function calls count a level each") {
  std::string calls = repeat("days_since(", 300) + "audit.last" + repeat(")", 300);
  CHECK_THAT(diagnosed(rule_when(calls + " > 3")),
             Contains("error: expression nests deeper than 256 levels"));
}

TEST_CASE("lists do not nest: 100,000 opening brackets are a syntax error, not a recursion") {
  std::string out = diagnosed(rule_when("data.categories has_any " + repeat("[", 100000) +
                                        "\"phi\"" + repeat("]", 100000)));
  CHECK_THAT(out, Contains("error: expected `,` or `]` to continue or close the list"));
}

TEST_CASE("schema records nested past the limit are refused") {
  auto schema = [](size_t n) {
    return "schema request {\n  request_id: string\n  time: timestamp\n  x: " + repeat("{ a: ", n) +
           "int" + repeat(" }", n) + "\n}\n";
  };
  // The schema's own `{` is level 1.
  CHECK(diagnose({{"schema.ethos", schema(255)}, {"p.ethos", rule_when("true")}}).empty());
  std::string out =
      summary(diagnose({{"schema.ethos", schema(256)}, {"p.ethos", rule_when("true")}}));
  CHECK_THAT(out, Contains("schema.ethos:4:" + std::to_string(6 + 255 * 5) +
                           ": error: record nests deeper than 256 levels"));
  CHECK_THAT(summary(diagnose({{"schema.ethos", schema(100000)}, {"p.ethos", rule_when("true")}})),
             Contains("error: record nests deeper than 256 levels"));
}

TEST_CASE("the depth diagnostic points at the opener past the limit, with a help") {
  std::string out = diagnose_with(rule_when("(not (patient.opted_out))"), 2);
  CHECK(out ==
        "policy.ethos:2:26: error: expression nests deeper than 2 levels\n"
        "  |\n"
        "2 | rule a: forbid when (not (patient.opted_out)) because \"x\" cite \"y\"\n"
        "  |                          ^\n"
        "help: name an inner part with `define` and use its name\n");
}

TEST_CASE("the limit is CheckOptions::max_depth, and a policy keeps it") {
  CHECK(diagnose_with(rule_when(parens(8)), 8).empty());
  CHECK_THAT(summary(diagnose_with(rule_when(parens(9)), 8)),
             Contains("error: expression nests deeper than 8 levels"));
  Bundle b = load(rule_when(parens(300)), 300);
  REQUIRE(b.policy != nullptr);
  CHECK(b.policy->max_depth == 300);
}

TEST_CASE("after a depth error the parser resumes at the next declaration") {
  std::string out = diagnosed(rule_when(parens(300)) +
                              "rule b: forbid when patient.agee because \"x\" cite \"y\"\n");
  CHECK_THAT(out, Contains("policy.ethos:2:277: error: expression nests deeper than 256 levels"));
  CHECK_THAT(out, Contains("policy.ethos:3:21: error: unknown name `patient.agee`"));
}

TEST_CASE("`=` where `==` was meant is refused with a hint") {
  std::string out = diagnose_policy(rule_when("patient.age = 3"));
  CHECK(out ==
        "policy.ethos:2:33: error: `=` is not a comparison\n"
        "  |\n"
        "2 | rule a: forbid when patient.age = 3 because \"x\" cite \"y\"\n"
        "  |                                 ^\n"
        "help: did you mean `==`?\n");
}

TEST_CASE("a NUL byte in policy text is named with its position") {
  std::string policy = rule_when("patient.opted_out");
  policy.insert(policy.find(" because"), 1, '\0');
  std::string out = diagnosed(policy);
  CHECK_THAT(out, Contains("policy.ethos:2:38: error: policy text may not contain a NUL byte "
                           "(byte 50)"));
  CHECK_THAT(out, Contains("help: a NUL byte usually means a binary file or UTF-16 text"));
}

TEST_CASE("a leading UTF-8 byte order mark is accepted") {
  std::string policy = rule_when("patient.opted_out");
  Bundle with = load("\xEF\xBB\xBF" + policy);
  REQUIRE(with.policy != nullptr);
  CHECK(with.policy->rules.size() == 1);
  // Columns count bytes, the mark's three included.
  CHECK_THAT(diagnosed("\xEF\xBB\xBFmodule m \"M\"\nrule a: forbid when nope "
                       "because \"x\" cite \"y\"\n"),
             Contains("policy.ethos:2:21: error: unknown name `nope`"));
  CHECK_THAT(diagnosed("\xEF\xBB\xBFmodul m \"M\"\n"), Contains("policy.ethos:1:4: error"));
}
