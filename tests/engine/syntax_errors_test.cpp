// Every syntax error message of the grammar (grammar/errors.hpp) pinned by
// its exact rendering, as `ethos check` prints it (file:line:col, message,
// the source line and its caret, the help): one row per message, each a
// minimal policy text that triggers it, compiled with the test schema. A
// message added to the table without a row here fails the coverage check.
#include <catch2/catch.hpp>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>

#include "errors.hpp"
#include "support.hpp"

using namespace ethos::testing;
namespace g = ethos::grammar;

namespace {

struct Row {
  const char* rule;      // the grammar rule whose message of errors.hpp this row triggers
  const char* message;   // that message
  const char* text;      // policy.ethos, the minimal text
  const char* expected;  // the exact rendering of its diagnostics
};

#define ROW(rule) #rule, g::error_message < g::rule>

// clang-format off
const Row kRows[] = {
    {ROW(declaration_expected),
     "module m \"M\"\n"
      "foo\n",
     "policy.ethos:2:1: error: expected a declaration (`rule`, `define`, `param`, `obligation`, `module`, `schema`, `source`, `invariant` or `test`), found `foo`\n"
      "  |\n"
      "2 | foo\n"
      "  | ^~~\n"},
    {ROW(string_close),
     "module m \"M\"\n"
      "rule a: forbid because \"never closed\n",
     "policy.ethos:2:37: error: unterminated string: expected a closing `\"` on the same line, found the end of the file\n"
      "  |\n"
      "2 | rule a: forbid because \"never closed\n"
      "  |                                     ^\n"},
    {ROW(string_lit),
     "module m \"M\"\n"
      "rule a: forbid because 3\n",
     "policy.ethos:2:24: error: expected a string in double quotes, found `3`\n"
      "  |\n"
      "2 | rule a: forbid because 3\n"
      "  |                        ^\n"},
    {ROW(list_item),
     "module m \"M\"\n"
      "rule a: forbid when patient.age in [1, )\n",
     "policy.ethos:2:40: error: expected a list element (a string, a number or a name), found `)`\n"
      "  |\n"
      "2 | rule a: forbid when patient.age in [1, )\n"
      "  |                                        ^\n"},
    {ROW(list_close),
     "module m \"M\"\n"
      "rule a: forbid when patient.age in [1 2]\n",
     "policy.ethos:2:39: error: expected `,` or `]` to continue or close the list, found `2]`\n"
      "  |\n"
      "2 | rule a: forbid when patient.age in [1 2]\n"
      "  |                                       ^~\n"},
    {ROW(expr),
     "module m \"M\"\n"
      "rule a: forbid when f()\n",
     "policy.ethos:2:23: error: expected an expression, found `)`\n"
      "  |\n"
      "2 | rule a: forbid when f()\n"
      "  |                       ^\n"},
    {ROW(condition),
     "module m \"M\"\n"
      "rule a: forbid when )\n",
     "policy.ethos:2:21: error: expected a condition, found `)`\n"
      "  |\n"
      "2 | rule a: forbid when )\n"
      "  |                     ^\n"},
    {ROW(paren_close),
     "module m \"M\"\n"
      "rule a: forbid when (patient.opted_out because \"x\"\n",
     "policy.ethos:2:40: error: expected `)`, found `because`\n"
      "  |\n"
      "2 | rule a: forbid when (patient.opted_out because \"x\"\n"
      "  |                                        ^~~~~~~\n"},
    {ROW(operand),
     "module m \"M\"\n"
      "rule a: forbid when patient.age * ) > 3\n",
     "policy.ethos:2:35: error: expected an operand after the operator, found `)`\n"
      "  |\n"
      "2 | rule a: forbid when patient.age * ) > 3\n"
      "  |                                   ^\n"},
    {ROW(mul_expr),
     "module m \"M\"\n"
      "rule a: forbid when patient.age + ) > 3\n",
     "policy.ethos:2:35: error: expected an operand after the operator, found `)`\n"
      "  |\n"
      "2 | rule a: forbid when patient.age + ) > 3\n"
      "  |                                   ^\n"},
    {ROW(operand_expected),
     "module m \"M\"\n"
      "rule a: forbid when patient.age > because \"x\"\n",
     "policy.ethos:2:35: error: expected an operand after the comparison, found `because`\n"
      "  |\n"
      "2 | rule a: forbid when patient.age > because \"x\"\n"
      "  |                                   ^~~~~~~\n"},
    {ROW(single_equals),
     "module m \"M\"\n"
      "rule a: forbid when patient.age = 3\n",
     "policy.ethos:2:33: error: `=` is not a comparison\n"
      "  |\n"
      "2 | rule a: forbid when patient.age = 3\n"
      "  |                                 ^\n"
      "help: did you mean `==`?\n"},
    {ROW(presence),
     "module m \"M\"\n"
      "rule a: forbid when patient.note is empty\n",
     "policy.ethos:2:37: error: expected `present` or `missing` after `is`, found `empty`\n"
      "  |\n"
      "2 | rule a: forbid when patient.note is empty\n"
      "  |                                     ^~~~~\n"},
    {ROW(not_expr),
     "module m \"M\"\n"
      "rule a: forbid when not )\n",
     "policy.ethos:2:25: error: expected a condition after the operator, found `)`\n"
      "  |\n"
      "2 | rule a: forbid when not )\n"
      "  |                         ^\n"},
    {ROW(not_expr),
     "module m \"M\"\n"
      "rule a: forbid when patient.opted_out and )\n",
     "policy.ethos:2:43: error: expected a condition after the operator, found `)`\n"
      "  |\n"
      "2 | rule a: forbid when patient.opted_out and )\n"
      "  |                                           ^\n"},
    {ROW(and_expr),
     "module m \"M\"\n"
      "rule a: forbid when patient.opted_out or )\n",
     "policy.ethos:2:42: error: expected a condition after `or`, found `)`\n"
      "  |\n"
      "2 | rule a: forbid when patient.opted_out or )\n"
      "  |                                          ^\n"},
    {ROW(colon),
     "module m \"M\"\n"
      "rule a forbid\n",
     "policy.ethos:2:8: error: expected `:`, found `forbid`\n"
      "  |\n"
      "2 | rule a forbid\n"
      "  |        ^~~~~~\n"},
    {ROW(colon),
     "schema extra { age int }\n",
     "policy.ethos:1:20: error: expected `:`, found `int`\n"
      "  |\n"
      "1 | schema extra { age int }\n"
      "  |                    ^~~\n"},
    {ROW(type),
     "schema extra { age: integer }\n",
     "policy.ethos:1:21: error: expected a type (`bool`, `int`, `string`, `timestamp`, `duration`, `set<string>`, `set<enum { ... }>`, `enum { ... }` or a record `{ ... }`), found `integer`\n"
      "  |\n"
      "1 | schema extra { age: integer }\n"
      "  |                     ^~~~~~~\n"},
    {ROW(record_close),
     "schema extra { age: int 1 }\n",
     "policy.ethos:1:25: error: expected a field name or `}`, found `1`\n"
      "  |\n"
      "1 | schema extra { age: int 1 }\n"
      "  |                         ^\n"},
    {ROW(range_bound),
     "schema extra { age: int in ..130 }\n",
     "policy.ethos:1:28: error: expected an integer bound of the range (`in 0..130`), found `..130`\n"
      "  |\n"
      "1 | schema extra { age: int in ..130 }\n"
      "  |                            ^~~~~\n"},
    {ROW(range_dots),
     "schema extra { age: int in 0 130 }\n",
     "policy.ethos:1:30: error: expected `..` between the bounds of the range (`in 0..130`), found `130`\n"
      "  |\n"
      "1 | schema extra { age: int in 0 130 }\n"
      "  |                              ^~~\n"},
    {ROW(invariant_name),
     "invariant : patient.age < 130 because \"x\"\n",
     "policy.ethos:1:11: error: expected the invariant's name, found `:`\n"
      "  |\n"
      "1 | invariant : patient.age < 130 because \"x\"\n"
      "  |           ^\n"},
    {ROW(enum_open),
     "schema extra { form: enum written }\n",
     "policy.ethos:1:27: error: expected `{` after `enum`, found `written`\n"
      "  |\n"
      "1 | schema extra { form: enum written }\n"
      "  |                           ^~~~~~~\n"},
    {ROW(enum_value),
     "schema extra { form: enum { 1 } }\n",
     "policy.ethos:1:29: error: expected an enum value name, found `1`\n"
      "  |\n"
      "1 | schema extra { form: enum { 1 } }\n"
      "  |                             ^\n"},
    {ROW(enum_close),
     "schema extra { form: enum { written verbal } }\n",
     "policy.ethos:1:37: error: expected `,` or `}` in the enum, found `verbal`\n"
      "  |\n"
      "1 | schema extra { form: enum { written verbal } }\n"
      "  |                                     ^~~~~~\n"},
    {ROW(set_open),
     "schema extra { tags: set string }\n",
     "policy.ethos:1:26: error: expected `<` after `set`, found `string`\n"
      "  |\n"
      "1 | schema extra { tags: set string }\n"
      "  |                          ^~~~~~\n"},
    {ROW(set_elem),
     "schema extra { tags: set<int> }\n",
     "policy.ethos:1:26: error: expected `string` or `enum { ... }` inside `set<...>`, found `int>`\n"
      "  |\n"
      "1 | schema extra { tags: set<int> }\n"
      "  |                          ^~~~\n"},
    {ROW(set_close),
     "schema extra { tags: set<string }\n",
     "policy.ethos:1:33: error: expected `>`, found `}`\n"
      "  |\n"
      "1 | schema extra { tags: set<string }\n"
      "  |                                 ^\n"},
    {ROW(schema_name),
     "schema { age: int }\n",
     "policy.ethos:1:8: error: expected the schema's name, found `{`\n"
      "  |\n"
      "1 | schema { age: int }\n"
      "  |        ^\n"},
    {ROW(schema_body),
     "schema extra age: int\n",
     "policy.ethos:1:14: error: expected `{` to open the schema, found `age:`\n"
      "  |\n"
      "1 | schema extra age: int\n"
      "  |              ^~~~\n"},
    {ROW(module_name),
     "module \"M\"\n",
     "policy.ethos:1:8: error: expected the module's name, found `\"M\"`\n"
      "  |\n"
      "1 | module \"M\"\n"
      "  |        ^~~\n"},
    {ROW(applies_when),
     "module m \"M\" applies if patient.opted_out\n",
     "policy.ethos:1:22: error: expected `when` after `applies`, found `if`\n"
      "  |\n"
      "1 | module m \"M\" applies if patient.opted_out\n"
      "  |                      ^~\n"},
    {ROW(default_effect),
     "module m \"M\" default allow\n",
     "policy.ethos:1:22: error: expected `permit` or `deny` after `default`, found `allow`\n"
      "  |\n"
      "1 | module m \"M\" default allow\n"
      "  |                      ^~~~~\n"},
    {ROW(concern_value),
     "module m \"M\" concern 1\n",
     "policy.ethos:1:22: error: expected a concern (`standards`, `privacy`, `consent`, `agency`, `bias` or `safety`), found `1`\n"
      "  |\n"
      "1 | module m \"M\" concern 1\n"
      "  |                      ^\n"},
    {ROW(param_name),
     "module m \"M\"\n"
      "param 1: int = 3\n",
     "policy.ethos:2:7: error: expected the param's name, found `1:`\n"
      "  |\n"
      "2 | param 1: int = 3\n"
      "  |       ^~\n"},
    {ROW(equals),
     "module m \"M\"\n"
      "param limit: int 3\n",
     "policy.ethos:2:18: error: expected `=`, found `3`\n"
      "  |\n"
      "2 | param limit: int 3\n"
      "  |                  ^\n"},
    {ROW(literal),
     "module m \"M\"\n"
      "param limit: int = )\n",
     "policy.ethos:2:20: error: expected a literal value, found `)`\n"
      "  |\n"
      "2 | param limit: int = )\n"
      "  |                    ^\n"},
    {ROW(define_name),
     "module m \"M\"\n"
      "define 1 = true\n",
     "policy.ethos:2:8: error: expected the define's name, found `1`\n"
      "  |\n"
      "2 | define 1 = true\n"
      "  |        ^\n"},
    {ROW(obligation_name),
     "module m \"M\"\n"
      "obligation \"Review\"\n",
     "policy.ethos:2:12: error: expected the obligation's name, found `\"Review\"`\n"
      "  |\n"
      "2 | obligation \"Review\"\n"
      "  |            ^~~~~~~~\n"},
    {ROW(obligation_text),
     "module m \"M\"\n"
      "obligation review 3\n",
     "policy.ethos:2:19: error: expected the obligation's text in double quotes, found `3`\n"
      "  |\n"
      "2 | obligation review 3\n"
      "  |                   ^\n"},
    {ROW(rule_name),
     "module m \"M\"\n"
      "rule : forbid\n",
     "policy.ethos:2:6: error: expected the rule's name, found `:`\n"
      "  |\n"
      "2 | rule : forbid\n"
      "  |      ^\n"},
    {ROW(effect),
     "module m \"M\"\n"
      "rule a: allow\n",
     "policy.ethos:2:9: error: expected an effect (`permit`, `forbid`, `escalate`, `advise` or `require <obligation>`), found `allow`\n"
      "  |\n"
      "2 | rule a: allow\n"
      "  |         ^~~~~\n"},
    {ROW(obligation_ref),
     "module m \"M\"\n"
      "rule a: require \"review\"\n",
     "policy.ethos:2:17: error: expected an obligation name, found `\"review\"`\n"
      "  |\n"
      "2 | rule a: require \"review\"\n"
      "  |                 ^~~~~~~~\n"},
    {ROW(rule_ref),
     "module m \"M\"\n"
      "rule a: forbid overrides 1\n",
     "policy.ethos:2:26: error: expected a rule name, found `1`\n"
      "  |\n"
      "2 | rule a: forbid overrides 1\n"
      "  |                          ^\n"},
    {ROW(path),
     "module m \"M\"\n"
      "test \"t\" {\n"
      "  unset 1\n"
      "}\n",
     "policy.ethos:3:9: error: expected an attribute path, found `1`\n"
      "  |\n"
      "3 |   unset 1\n"
      "  |         ^\n"},
    {ROW(severity_value),
     "module m \"M\"\n"
      "rule a: forbid severity 1\n",
     "policy.ethos:2:25: error: expected a severity (`low`, `medium`, `high` or `critical`), found `1`\n"
      "  |\n"
      "2 | rule a: forbid severity 1\n"
      "  |                         ^\n"},
    {ROW(confidence_value),
     "module m \"M\"\n"
      "rule a: forbid confidence 1\n",
     "policy.ethos:2:27: error: expected a confidence (`verified`, `secondary` or `unverified`), found `1`\n"
      "  |\n"
      "2 | rule a: forbid confidence 1\n"
      "  |                           ^\n"},
    {ROW(cite_item),
     "module m \"M\"\n"
      "rule a: forbid cite 1\n",
     "policy.ethos:2:21: error: expected a citation: a string, or a declared source such as `hipaa § \"164.502(e)\"`, found `1`\n"
      "  |\n"
      "2 | rule a: forbid cite 1\n"
      "  |                     ^\n"},
    {ROW(section_text),
     "module m \"M\"\n"
      "rule a: forbid cite hipaa § 164\n",
     "policy.ethos:2:30: error: expected the section in double quotes after `§`, found `164`\n"
      "  |\n"
      "2 | rule a: forbid cite hipaa § 164\n"
      "  |                              ^~~\n"},
    {ROW(source_name),
     "source \"HIPAA\"\n",
     "policy.ethos:1:8: error: expected the source's name, found `\"HIPAA\"`\n"
      "  |\n"
      "1 | source \"HIPAA\"\n"
      "  |        ^~~~~~~\n"},
    {ROW(source_title),
     "source hipaa 1\n",
     "policy.ethos:1:14: error: expected the source's title in double quotes, found `1`\n"
      "  |\n"
      "1 | source hipaa 1\n"
      "  |              ^\n"},
    {ROW(kind_value),
     "source hipaa \"HIPAA\" kind 1\n",
     "policy.ethos:1:27: error: expected a kind (`statute`, `regulation`, `code`, `guidance` or `case`), found `1`\n"
      "  |\n"
      "1 | source hipaa \"HIPAA\" kind 1\n"
      "  |                           ^\n"},
    {ROW(jurisdiction_value),
     "source hipaa \"HIPAA\" jurisdiction US\n",
     "policy.ethos:1:35: error: expected a jurisdiction in double quotes (`\"global\"`, `\"US\"`, `\"US-IL\"`, `\"EU\"`, `\"DE\"`), found `US`\n"
      "  |\n"
      "1 | source hipaa \"HIPAA\" jurisdiction US\n"
      "  |                                   ^~\n"},
    {ROW(date_value),
     "source hipaa \"HIPAA\" from 2026\n",
     "policy.ethos:1:27: error: expected a date in double quotes (`\"2026-01-01\"`), found `2026`\n"
      "  |\n"
      "1 | source hipaa \"HIPAA\" from 2026\n"
      "  |                           ^~~~\n"},
    {ROW(url_value),
     "source hipaa \"HIPAA\" url example\n",
     "policy.ethos:1:26: error: expected the source's address in double quotes, found `example`\n"
      "  |\n"
      "1 | source hipaa \"HIPAA\" url example\n"
      "  |                          ^~~~~~~\n"},
    {ROW(test_name),
     "test t {\n"
      "}\n",
     "policy.ethos:1:6: error: expected the test's name in double quotes, found `t`\n"
      "  |\n"
      "1 | test t {\n"
      "  |      ^\n"},
    {ROW(test_open),
     "test \"t\"\n"
      "  expect deny\n",
     "policy.ethos:2:3: error: expected `{` to open the test, found `expect`\n"
      "  |\n"
      "2 |   expect deny\n"
      "  |   ^~~~~~\n"},
    {ROW(test_close),
     "test \"t\" {\n"
      "  check deny\n"
      "}\n",
     "policy.ethos:2:3: error: expected `given`, `set`, `unset`, `expect` or `}`, found `check`\n"
      "  |\n"
      "2 |   check deny\n"
      "  |   ^~~~~\n"},
    {ROW(kw_rules),
     "test \"t\" {\n"
      "  expect no m.a\n"
      "}\n",
     "policy.ethos:2:13: error: expected `rules` after `no`, found `m.a`\n"
      "  |\n"
      "2 |   expect no m.a\n"
      "  |             ^~~\n"},
    {ROW(expectation),
     "test \"t\" {\n"
      "  expect maybe\n"
      "}\n",
     "policy.ethos:2:10: error: expected `permit`, `deny`, `escalate`, `rules`, `no rules`, `obligations` or `missing`, found `maybe`\n"
      "  |\n"
      "2 |   expect maybe\n"
      "  |          ^~~~~\n"},
};
// clang-format on

#undef ROW

// Messages of errors.hpp that no policy text can bring to `ethos check`, and why.
const std::set<std::string> kUnreachable = {
    // `sep` is star<ws>, which never fails, so no must<> on it can raise.
    "sep",
    // `eof` is must'd only by the whole-file rule (not used: the parser reads
    // one declaration at a time, and at the end of the text it stops) and by
    // the expression parser of `--param NAME=VALUE`, whose diagnostics are
    // replaced by "the value given for param ... does not parse". Its text is
    // the same as declaration_expected's, whose row is above.
    "eof",
};

// The rules that have a message in grammar/errors.hpp, read from the file.
std::set<std::string> rules_with_a_message() {
  std::ifstream f(source_dir() + "/grammar/errors.hpp");
  REQUIRE(f);
  std::stringstream ss;
  ss << f.rdbuf();
  const std::string text = ss.str();
  std::set<std::string> rules;
  static const std::regex entry(R"(error_message< (\w+) > =)");
  for (std::sregex_iterator it(text.begin(), text.end(), entry), end; it != end; ++it)
    rules.insert((*it)[1].str());
  return rules;
}

}  // namespace

TEST_CASE("every syntax error message renders exactly as pinned") {
  for (const Row& row : kRows) {
    INFO("rule " << row.rule << ", text:\n" << row.text);
    std::string rendered = diagnose_policy(row.text);
    CHECK(rendered == row.expected);
    CHECK(rendered.find(row.message) != std::string::npos);
  }
}

TEST_CASE("every message of grammar/errors.hpp has a row, or is named unreachable") {
  std::set<std::string> rows;
  for (const Row& row : kRows) rows.insert(row.rule);
  const std::set<std::string> table = rules_with_a_message();
  CHECK(table.size() > 50);
  for (const std::string& rule : table) {
    INFO("grammar/errors.hpp has a message for `" << rule << "`");
    CHECK((rows.count(rule) == 1 || kUnreachable.count(rule) == 1));
  }
  for (const std::string& rule : kUnreachable) {
    INFO(rule);
    CHECK(table.count(rule) == 1);
    CHECK(rows.count(rule) == 0);
  }
  for (const std::string& rule : rows) {
    INFO(rule);
    CHECK(table.count(rule) == 1);
  }
}
