// The grammar: no rule can loop forever; accept/reject tables rule by rule.
#include <catch2/catch.hpp>
#include <tao/pegtl/contrib/analyze.hpp>

#include "errors.hpp"
#include "grammar.hpp"

namespace g = ethos::grammar;
namespace pegtl = tao::pegtl;

namespace {
template <typename Rule>
bool matches_whole(const std::string& text) {
  pegtl::memory_input in(text, "test");
  try {
    return pegtl::parse<pegtl::seq<Rule, pegtl::eof>, pegtl::nothing, g::control>(in);
  } catch (const pegtl::parse_error&) {
    return false;
  }
}
}  // namespace

TEST_CASE("the grammar has no rule that can loop without consuming input") {
  CHECK(pegtl::analyze<g::file>() == 0);
  CHECK(pegtl::analyze<g::expr>() == 0);
}

TEST_CASE("expressions the grammar accepts") {
  auto text = GENERATE(
      as<std::string>{}, "a", "a.b.c", "not a", "a and b or c", "(a or b) and c", "x == 3",
      "x != \"s\"", "consent.date + 365 days < now", "days_since(audit.last) > 365",
      "x in [\"a\", \"b\"]", "x in [identified, limited]", "s has \"phi\"", "s has_any [\"a\"]",
      "s has_all [\"a\", \"b\"]", "x is present", "x is missing", "a * 2 - 3 >= -4", "true",
      "false", "1 week", "not (a and not b)", "x == y // a comment\n  and z");
  INFO(text);
  CHECK(matches_whole<g::expr>(text));
}

TEST_CASE("expressions the grammar rejects") {
  auto text =
      GENERATE(as<std::string>{}, "", "a and", "(a or b", "x ==", "x is", "x is there", "and a",
               "[\"a\",", "\"unterminated", "when", "a.", "f(", "x in [\"a\" \"b\"]");
  INFO(text);
  CHECK_FALSE(matches_whole<g::expr>(text));
}

TEST_CASE("declarations the grammar accepts") {
  auto text = GENERATE(
      as<std::string>{}, "module privacy \"Privacy\"",
      "module us_il \"Illinois\" applies when jurisdiction.state == \"IL\" default deny concern "
      "privacy",
      "param max_days: int = 30", "param regions: set<string> = [\"eu\", \"uk\"]",
      "define phi = data.categories has \"phi\"",
      "obligation review \"a clinician reviews the output\"",
      "rule r: forbid when a because \"x\" cite \"HIPAA 45 CFR 164.502(e)\"",
      "rule r: require review when a unless b overrides other, m.x because \"x\" cite \"a\", \"b\" "
      "concern privacy severity high confidence secondary tags \"t\"",
      "rule r: permit because \"x\" cite \"y\"",
      "schema request { request_id: string, time: timestamp }",
      "schema request { a: { b: int? @fixed } e: enum { x, y } s: set<string> d: duration? }",
      "test \"t\" { given \"examples/a.json\" set a.b = 3 unset c.d expect deny expect rules m.r "
      "expect no rules m.s expect obligations o expect missing a.b }");
  INFO(text);
  CHECK(matches_whole<g::declaration>(text));
}

TEST_CASE("declarations the grammar rejects") {
  auto text = GENERATE(as<std::string>{}, "rule : forbid", "rule r forbid", "rule r: allow",
                       "param p int = 3", "param p: int 3", "define = a", "define d a",
                       "obligation o", "schema { }", "schema request { a int }",
                       "schema request { s: set<int> }", "schema request { e: enum { } }", "module",
                       "test t { }", "rule r: require because \"x\"");
  INFO(text);
  CHECK_FALSE(matches_whole<g::declaration>(text));
}

TEST_CASE("keywords cannot be used as names in expressions") {
  CHECK_FALSE(matches_whole<g::expr>("because"));
  CHECK_FALSE(matches_whole<g::expr>("rule"));
  CHECK(matches_whole<g::expr>("rules_count"));  // a keyword prefix is an ordinary name
  CHECK(matches_whole<g::expr>("x.default"));    // later path segments may be any word
}
