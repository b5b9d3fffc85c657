// Diagnostics are pinned by their exact rendering.
#include <catch2/catch.hpp>

#include "support.hpp"

using namespace ethos::testing;

TEST_CASE("a syntax error renders with file, line, column, the source line and a caret") {
  std::string out = diagnose({{"schema.ethos", kTestSchema},
                              {"p.ethos",
                               "module m \"M\"\nrule r: forbid\n  when patient.age >\n"
                               "  because \"x\" cite \"y\"\n"}});
  CHECK(out ==
        "p.ethos:4:3: error: expected an operand after the comparison, found `because`\n"
        "  |\n"
        "4 |   because \"x\" cite \"y\"\n"
        "  |   ^~~~~~~\n");
}

TEST_CASE("three distinct mistakes in one file are all reported with line and column") {
  std::string out = diagnose_policy(
      "module m \"M\"\n"
      "rule a: forbid\n"
      "  when patient.agee > 3\n"
      "  because \"x\" cite \"y\"\n"
      "rule b: forbid when (patient.age > 3\n"
      "  because \"x\" cite \"y\"\n"
      "rule c: forbid when patient.opted_out\n"
      "  cite \"y\"\n");
  CHECK(out.find("policy.ethos:3:8: error: unknown name `patient.agee`") != std::string::npos);
  CHECK(out.find("help: did you mean `patient.age`?") != std::string::npos);
  CHECK(out.find("policy.ethos:6:3: error: expected `)`, found `because`") != std::string::npos);
  CHECK(out.find("policy.ethos:7:6: error: rule `m.c` has no `because`") != std::string::npos);
}

TEST_CASE("the parser resumes at the next declaration after a syntax error") {
  std::string out = diagnose_policy(
      "module m \"M\"\n"
      "rule a: forbid when ) because \"x\" cite \"y\"\n"
      "rule b: forbid when patient.age > because \"x\" cite \"y\"\n"
      "rule c: forbid when patient.opted_out because \"x\" cite \"y\"\n");
  CHECK(out.find("policy.ethos:2:21: error: expected a condition, found `)`") != std::string::npos);
  CHECK(out.find("policy.ethos:3:35: error: expected an operand after the comparison") !=
        std::string::npos);
}

TEST_CASE("an unterminated string is reported where the string begins its line") {
  std::string out = diagnose_policy("module m \"M\"\nrule a: forbid because \"never closed\n");
  CHECK(out.find("error: unterminated string: expected a closing `\"` on the same line") !=
        std::string::npos);
}

TEST_CASE("a misspelt clause keyword is reported as an unexpected declaration") {
  std::string out = diagnose_policy(
      "module m \"M\"\nrule a: forbid when patient.opted_out\n  becuase \"x\" cite \"y\"\n");
  CHECK(
      out.find(
          "policy.ethos:3:3: error: expected a declaration (`rule`, `define`, `param`, "
          "`obligation`, `module`, `schema`, `source`, `invariant` or `test`), found `becuase`") !=
      std::string::npos);
}
