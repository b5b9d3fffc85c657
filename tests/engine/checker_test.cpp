// Every checker error, each pinned by its message.
#include <catch2/catch.hpp>

#include "support.hpp"

using namespace ethos::testing;
using Catch::Matchers::Contains;

namespace {
std::string rule(const std::string& body) { return "module m \"M\"\n" + body + "\n"; }
}  // namespace

TEST_CASE("an unknown attribute is an error with a did-you-mean") {
  auto out =
      diagnose_policy(rule("rule r: forbid when patient.opted_uot because \"x\" cite \"y\""));
  CHECK_THAT(out, Contains("error: unknown name `patient.opted_uot`"));
  CHECK_THAT(out, Contains("help: did you mean `patient.opted_out`?"));
}

TEST_CASE("a comparison between different types is an error") {
  auto out =
      diagnose_policy(rule("rule r: forbid when patient.age == \"old\" because \"x\" cite \"y\""));
  CHECK_THAT(out, Contains("error: cannot compare `int` `==` `string`"));
}

TEST_CASE("an enum value that is not in the enum is an error") {
  auto out = diagnose_policy(
      rule("rule r: forbid when data.identifiability == anonymous because \"x\" cite \"y\""));
  CHECK_THAT(
      out,
      Contains(
          "error: `anonymous` is not a value of `enum { identified, limited, deidentified }`"));
}

TEST_CASE("an enum value in a list that is not in the enum is an error") {
  auto out = diagnose_policy(rule(
      "rule r: forbid when data.identifiability in [identified, limted] because \"x\" cite \"y\""));
  CHECK_THAT(out, Contains("error: `limted` is not a value of"));
  CHECK_THAT(out, Contains("did you mean `limited`?"));
}

TEST_CASE("duplicate rule ids are an error naming the first") {
  auto out = diagnose_policy(
      rule("rule r: forbid because \"x\" cite \"y\"\nrule r: permit because \"x\" cite \"y\""));
  CHECK_THAT(out, Contains("error: duplicate rule `m.r`"));
  CHECK_THAT(out, Contains("note: first declared here"));
}

TEST_CASE("an overrides target that does not exist is an error") {
  auto out = diagnose_policy(rule("rule r: permit overrides nope because \"x\" cite \"y\""));
  CHECK_THAT(out, Contains("error: `overrides` names `nope`, which is not a rule"));
}

TEST_CASE("a rule without because does not compile") {
  auto out = diagnose_policy(rule("rule r: forbid when patient.opted_out cite \"y\""));
  CHECK_THAT(out, Contains("error: rule `m.r` has no `because`"));
}

TEST_CASE("a rule without cite does not compile") {
  auto out = diagnose_policy(rule("rule r: forbid when patient.opted_out because \"x\""));
  CHECK_THAT(out, Contains("error: rule `m.r` has no `cite`"));
}

TEST_CASE("an unused define is a warning, not an error") {
  auto out = diagnose_policy(
      rule("define unused = patient.age > 3\nrule r: forbid because \"x\" cite \"y\""));
  CHECK_THAT(out, Contains("warning: define `m.unused` is never used"));
  CHECK_THAT(out, !Contains("error:"));
}

TEST_CASE("an unused param is a warning") {
  auto out = diagnose_policy(rule("param limit: int = 3\nrule r: forbid because \"x\" cite \"y\""));
  CHECK_THAT(out, Contains("warning: param `m.limit` is never used"));
}

TEST_CASE("an override cycle is rejected with the whole cycle named") {
  auto out =
      diagnose_policy(rule("rule a: forbid overrides b because \"x\" cite \"y\"\n"
                           "rule b: permit overrides c because \"x\" cite \"y\"\n"
                           "rule c: forbid overrides a because \"x\" cite \"y\""));
  CHECK_THAT(out, Contains("error: overrides form a cycle: m.a -> m.b -> m.c -> m.a"));
  CHECK_THAT(out, Contains("note: `m.b` is part of the cycle"));
  CHECK_THAT(out, Contains("note: `m.c` is part of the cycle"));
}

TEST_CASE("a cycle among defines is rejected with the cycle named") {
  auto out = diagnose_policy(
      rule("define a = b\ndefine b = a\nrule r: forbid when a because \"x\" cite \"y\""));
  CHECK_THAT(out, Contains("error: defines form a cycle: m.a -> m.b -> m.a"));
}

TEST_CASE("a rule that overrides itself is an error") {
  auto out = diagnose_policy(rule("rule a: forbid overrides a because \"x\" cite \"y\""));
  CHECK_THAT(out, Contains("error: rule `m.a` overrides itself"));
}

TEST_CASE("require names a declared obligation") {
  auto out = diagnose_policy(
      rule("obligation review \"r\"\nrule a: require reveiw because \"x\" cite \"y\""));
  CHECK_THAT(out, Contains("error: unknown obligation `reveiw`"));
  CHECK_THAT(out, Contains("did you mean `review`?"));
}

TEST_CASE("a condition must be boolean") {
  auto out = diagnose_policy(rule("rule a: forbid when patient.age because \"x\" cite \"y\""));
  CHECK_THAT(out, Contains("error: expected a condition (bool) for `when`, found `int`"));
}

TEST_CASE("a record cannot be used as a value") {
  auto out = diagnose_policy(rule("rule a: forbid when vendor because \"x\" cite \"y\""));
  CHECK_THAT(out, Contains("error: `vendor` is a record, not a value"));
}

TEST_CASE("adding an int to a timestamp is an error suggesting a duration") {
  auto out = diagnose_policy(
      rule("rule a: forbid when consent.date + 365 < now because \"x\" cite \"y\""));
  CHECK_THAT(out, Contains("error: cannot apply `+` to `timestamp` and `int`"));
  CHECK_THAT(out, Contains("help: write a duration such as `30 days`"));
}

TEST_CASE("an unknown concern is an error with the allowed list") {
  auto out = diagnose_policy(rule("rule a: forbid because \"x\" cite \"y\" concern privcy"));
  CHECK_THAT(out, Contains("error: unknown concern `privcy`"));
  CHECK_THAT(out, Contains("did you mean `privacy`?"));
}

TEST_CASE("a param's default must have the param's type") {
  auto out =
      diagnose_policy(rule("param limit: int = \"ten\"\nrule a: forbid when patient.age > limit "
                           "because \"x\" cite \"y\""));
  CHECK_THAT(out, Contains("error: param `m.limit` has type `int`, but this value is not one"));
}

TEST_CASE("a declaration outside any module is an error") {
  auto out = diagnose_policy("rule a: forbid because \"x\" cite \"y\"\n");
  CHECK_THAT(out, Contains("error: this declaration is outside any module"));
}

TEST_CASE("a bundle without a schema is an error") {
  auto out = diagnose({{"p.ethos", rule("rule a: forbid because \"x\" cite \"y\"")}});
  CHECK_THAT(out, Contains("error: the bundle has no `schema`"));
}

TEST_CASE("a clause written twice is an error") {
  auto out = diagnose_policy(
      rule("rule a: forbid when patient.opted_out when patient.age > 3 because \"x\" cite \"y\""));
  CHECK_THAT(out, Contains("error: this clause is written twice in rule `m.a`"));
}

TEST_CASE("is present on a required attribute is a warning that it is always true") {
  auto out =
      diagnose_policy(rule("rule a: forbid when patient.age is present because \"x\" cite \"y\""));
  CHECK_THAT(out,
             Contains("warning: `patient.age` is required by the schema, so this is always true"));
}

TEST_CASE("a clean policy produces no diagnostics") {
  CHECK(diagnose_policy(rule("rule a: forbid when patient.opted_out because \"x\" cite \"y\"")) ==
        "");
}

TEST_CASE(
    "a bundle without a schema gets one error naming the schema file, not one per attribute") {
  auto out = diagnose({{"privacy.ethos", rule("rule a: forbid when patient.age > 3 and data.x "
                                              "because \"x\" cite \"y\"")}});
  CHECK_THAT(out, Contains("error: the bundle has no `schema`"));
  CHECK_THAT(out, Contains("help: check the whole policy directory, or name its schema file too "
                           "(`ethos check schema.ethos privacy.ethos`)"));
  CHECK_THAT(out, !Contains("unknown name"));
}
