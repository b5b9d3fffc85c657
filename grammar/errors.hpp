// The table of syntax error messages: one per rule that the grammar commits
// to with must<>. Messages are lowercase, one line, with tokens in backticks.
#pragma once

#include "grammar.hpp"

namespace ethos::grammar {

// clang-format off
template< typename Rule > inline constexpr const char* error_message = nullptr;

template<> inline constexpr auto error_message< sep > = "unexpected input";
template<> inline constexpr auto error_message< eof > = "expected a declaration (`rule`, `define`, `param`, `obligation`, `module`, `schema`, `source`, `invariant` or `test`)";
template<> inline constexpr auto error_message< declaration_expected > = "expected a declaration (`rule`, `define`, `param`, `obligation`, `module`, `schema`, `source`, `invariant` or `test`)";
template<> inline constexpr auto error_message< string_close > = "unterminated string: expected a closing `\"` on the same line";
template<> inline constexpr auto error_message< string_lit > = "expected a string in double quotes";
template<> inline constexpr auto error_message< list_item > = "expected a list element (a string, a number or a name)";
template<> inline constexpr auto error_message< list_close > = "expected `,` or `]` to continue or close the list";
template<> inline constexpr auto error_message< expr > = "expected an expression";
template<> inline constexpr auto error_message< condition > = "expected a condition";
template<> inline constexpr auto error_message< paren_close > = "expected `)`";
template<> inline constexpr auto error_message< operand > = "expected an operand after the operator";
template<> inline constexpr auto error_message< mul_expr > = "expected an operand after the operator";
template<> inline constexpr auto error_message< operand_expected > = "expected an operand after the comparison";
template<> inline constexpr auto error_message< single_equals > = "`=` is not a comparison";
template<> inline constexpr auto error_message< presence > = "expected `present` or `missing` after `is`";
template<> inline constexpr auto error_message< not_expr > = "expected a condition after the operator";
template<> inline constexpr auto error_message< and_expr > = "expected a condition after `or`";
template<> inline constexpr auto error_message< colon > = "expected `:`";
template<> inline constexpr auto error_message< type > = "expected a type (`bool`, `int`, `string`, `timestamp`, `duration`, `set<string>`, `set<enum { ... }>`, `enum { ... }` or a record `{ ... }`)";
template<> inline constexpr auto error_message< record_close > = "expected a field name or `}`";
template<> inline constexpr auto error_message< enum_open > = "expected `{` after `enum`";
template<> inline constexpr auto error_message< enum_value > = "expected an enum value name";
template<> inline constexpr auto error_message< enum_close > = "expected `,` or `}` in the enum";
template<> inline constexpr auto error_message< set_open > = "expected `<` after `set`";
template<> inline constexpr auto error_message< set_elem > = "expected `string` or `enum { ... }` inside `set<...>`";
template<> inline constexpr auto error_message< set_close > = "expected `>`";
template<> inline constexpr auto error_message< range_bound > = "expected an integer bound of the range (`in 0..130`)";
template<> inline constexpr auto error_message< range_dots > = "expected `..` between the bounds of the range (`in 0..130`)";
template<> inline constexpr auto error_message< invariant_name > = "expected the invariant's name";
template<> inline constexpr auto error_message< schema_name > = "expected the schema's name";
template<> inline constexpr auto error_message< schema_body > = "expected `{` to open the schema";
template<> inline constexpr auto error_message< module_name > = "expected the module's name";
template<> inline constexpr auto error_message< applies_when > = "expected `when` after `applies`";
template<> inline constexpr auto error_message< default_effect > = "expected `permit` or `deny` after `default`";
template<> inline constexpr auto error_message< concern_value > = "expected a concern (`standards`, `privacy`, `consent`, `agency`, `bias` or `safety`)";
template<> inline constexpr auto error_message< param_name > = "expected the param's name";
template<> inline constexpr auto error_message< equals > = "expected `=`";
template<> inline constexpr auto error_message< literal > = "expected a literal value";
template<> inline constexpr auto error_message< define_name > = "expected the define's name";
template<> inline constexpr auto error_message< obligation_name > = "expected the obligation's name";
template<> inline constexpr auto error_message< obligation_text > = "expected the obligation's text in double quotes";
template<> inline constexpr auto error_message< rule_name > = "expected the rule's name";
template<> inline constexpr auto error_message< effect > = "expected an effect (`permit`, `forbid`, `escalate`, `advise` or `require <obligation>`)";
template<> inline constexpr auto error_message< obligation_ref > = "expected an obligation name";
template<> inline constexpr auto error_message< rule_ref > = "expected a rule name";
template<> inline constexpr auto error_message< path > = "expected an attribute path";
template<> inline constexpr auto error_message< severity_value > = "expected a severity (`low`, `medium`, `high` or `critical`)";
template<> inline constexpr auto error_message< confidence_value > = "expected a confidence (`verified`, `secondary` or `unverified`)";
template<> inline constexpr auto error_message< cite_item > = "expected a citation: a string, or a declared source such as `hipaa \u00a7 \"164.502(e)\"`";
template<> inline constexpr auto error_message< section_text > = "expected the section in double quotes after `\u00a7`";
template<> inline constexpr auto error_message< source_name > = "expected the source's name";
template<> inline constexpr auto error_message< source_title > = "expected the source's title in double quotes";
template<> inline constexpr auto error_message< kind_value > = "expected a kind (`statute`, `regulation`, `code`, `guidance` or `case`)";
template<> inline constexpr auto error_message< jurisdiction_value > = "expected a jurisdiction in double quotes (`\"global\"`, `\"US\"`, `\"US-IL\"`, `\"EU\"`, `\"DE\"`)";
template<> inline constexpr auto error_message< date_value > = "expected a date in double quotes (`\"2026-01-01\"`)";
template<> inline constexpr auto error_message< url_value > = "expected the source's address in double quotes";
template<> inline constexpr auto error_message< test_name > = "expected the test's name in double quotes";
template<> inline constexpr auto error_message< test_open > = "expected `{` to open the test";
template<> inline constexpr auto error_message< test_close > = "expected `given`, `set`, `unset`, `expect` or `}`";
template<> inline constexpr auto error_message< kw_rules > = "expected `rules` after `no`";
template<> inline constexpr auto error_message< expectation > = "expected `permit`, `deny`, `escalate`, `rules`, `no rules`, `obligations` or `missing`";

struct error
{
   template< typename Rule > static constexpr bool raise_on_failure = false;
   template< typename Rule > static constexpr auto message = error_message< Rule >;
};

template< typename Rule >
using control = must_if< error, normal, false >::control< Rule >;
// clang-format on

}  // namespace ethos::grammar
