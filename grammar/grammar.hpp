// The ethos policy language grammar (PEGTL 3.2.x): rules only.
// Actions do not exist; the parser builds a parse tree (engine/syntax) and
// converts it to the syntax tree. Error messages live in grammar/errors.hpp.
#pragma once

#include <tao/pegtl.hpp>

namespace ethos::grammar {
namespace pegtl = tao::pegtl;
using namespace pegtl;  // NOLINT: the grammar reads as a grammar

// clang-format off

// ---- lexical ---------------------------------------------------------------
struct line_comment : seq< two< '/' >, until< eolf > > {};
struct ws : sor< space, line_comment > {};
struct sep : star< ws > {};

struct kw_and : TAO_PEGTL_KEYWORD( "and" ) {};
struct kw_or : TAO_PEGTL_KEYWORD( "or" ) {};
struct kw_not : TAO_PEGTL_KEYWORD( "not" ) {};
struct kw_in : TAO_PEGTL_KEYWORD( "in" ) {};
struct kw_has : TAO_PEGTL_KEYWORD( "has" ) {};
struct kw_has_any : TAO_PEGTL_KEYWORD( "has_any" ) {};
struct kw_has_all : TAO_PEGTL_KEYWORD( "has_all" ) {};
struct kw_is : TAO_PEGTL_KEYWORD( "is" ) {};
struct kw_present : TAO_PEGTL_KEYWORD( "present" ) {};
struct kw_missing : TAO_PEGTL_KEYWORD( "missing" ) {};
struct kw_true : TAO_PEGTL_KEYWORD( "true" ) {};
struct kw_false : TAO_PEGTL_KEYWORD( "false" ) {};
struct kw_now : TAO_PEGTL_KEYWORD( "now" ) {};

struct kw_schema : TAO_PEGTL_KEYWORD( "schema" ) {};
struct kw_module : TAO_PEGTL_KEYWORD( "module" ) {};
struct kw_applies : TAO_PEGTL_KEYWORD( "applies" ) {};
struct kw_default : TAO_PEGTL_KEYWORD( "default" ) {};
struct kw_param : TAO_PEGTL_KEYWORD( "param" ) {};
struct kw_define : TAO_PEGTL_KEYWORD( "define" ) {};
struct kw_obligation : TAO_PEGTL_KEYWORD( "obligation" ) {};
struct kw_rule : TAO_PEGTL_KEYWORD( "rule" ) {};
struct kw_when : TAO_PEGTL_KEYWORD( "when" ) {};
struct kw_unless : TAO_PEGTL_KEYWORD( "unless" ) {};
struct kw_overrides : TAO_PEGTL_KEYWORD( "overrides" ) {};
struct kw_because : TAO_PEGTL_KEYWORD( "because" ) {};
struct kw_cite : TAO_PEGTL_KEYWORD( "cite" ) {};
struct kw_concern : TAO_PEGTL_KEYWORD( "concern" ) {};
struct kw_severity : TAO_PEGTL_KEYWORD( "severity" ) {};
struct kw_confidence : TAO_PEGTL_KEYWORD( "confidence" ) {};
struct kw_tags : TAO_PEGTL_KEYWORD( "tags" ) {};
struct kw_permit : TAO_PEGTL_KEYWORD( "permit" ) {};
struct kw_deny : TAO_PEGTL_KEYWORD( "deny" ) {};
struct kw_forbid : TAO_PEGTL_KEYWORD( "forbid" ) {};
struct kw_escalate : TAO_PEGTL_KEYWORD( "escalate" ) {};
struct kw_advise : TAO_PEGTL_KEYWORD( "advise" ) {};
struct kw_require : TAO_PEGTL_KEYWORD( "require" ) {};
struct kw_test : TAO_PEGTL_KEYWORD( "test" ) {};
struct kw_given : TAO_PEGTL_KEYWORD( "given" ) {};
struct kw_set : TAO_PEGTL_KEYWORD( "set" ) {};
struct kw_unset : TAO_PEGTL_KEYWORD( "unset" ) {};
struct kw_expect : TAO_PEGTL_KEYWORD( "expect" ) {};
struct kw_rules : TAO_PEGTL_KEYWORD( "rules" ) {};
struct kw_no : TAO_PEGTL_KEYWORD( "no" ) {};
struct kw_obligations : TAO_PEGTL_KEYWORD( "obligations" ) {};
struct kw_enum : TAO_PEGTL_KEYWORD( "enum" ) {};
struct kw_source : TAO_PEGTL_KEYWORD( "source" ) {};
struct kw_invariant : TAO_PEGTL_KEYWORD( "invariant" ) {};
// Words of a source's clauses: not reserved (`kind` is a field name in the pack).
struct kw_kind : TAO_PEGTL_KEYWORD( "kind" ) {};
struct kw_jurisdiction : TAO_PEGTL_KEYWORD( "jurisdiction" ) {};
struct kw_from : TAO_PEGTL_KEYWORD( "from" ) {};
struct kw_until : TAO_PEGTL_KEYWORD( "until" ) {};
struct kw_url : TAO_PEGTL_KEYWORD( "url" ) {};

// Words that may not begin a name in an expression: operators, literals and
// the words that start a clause or a declaration (so `when a because` stops).
struct reserved : sor< kw_and, kw_or, kw_not, kw_in, kw_has_any, kw_has_all, kw_has, kw_is,
                       kw_present, kw_missing, kw_true, kw_false, kw_now,
                       kw_schema, kw_module, kw_applies, kw_default, kw_param, kw_define,
                       kw_obligation, kw_rule, kw_when, kw_unless, kw_overrides, kw_because,
                       kw_cite, kw_concern, kw_severity, kw_confidence, kw_tags, kw_test,
                       kw_given, kw_unset, kw_expect, kw_source, kw_invariant > {};

struct name : seq< not_at< reserved >, identifier > {};      // a name that starts something
struct word : identifier {};                                   // any identifier (fields, enum values)
struct path : seq< name, star< one< '.' >, word > > {};        // `vendor.baa_signed`, `privacy.rule`

struct string_char : sor< seq< one< '\\' >, one< '"', '\\', 'n', 't' > >, not_one< '"', '\\', '\r', '\n' > > {};
struct string_close : one< '"' > {};
struct string_lit : seq< one< '"' >, star< string_char >, must< string_close > > {};
struct int_lit : seq< opt< one< '-' > >, plus< digit > > {};
struct duration_unit : sor< TAO_PEGTL_KEYWORD( "weeks" ), TAO_PEGTL_KEYWORD( "week" ),
                            TAO_PEGTL_KEYWORD( "days" ), TAO_PEGTL_KEYWORD( "day" ),
                            TAO_PEGTL_KEYWORD( "hours" ), TAO_PEGTL_KEYWORD( "hour" ),
                            TAO_PEGTL_KEYWORD( "minutes" ), TAO_PEGTL_KEYWORD( "minute" ),
                            TAO_PEGTL_KEYWORD( "seconds" ), TAO_PEGTL_KEYWORD( "second" ) > {};
struct duration_lit : seq< int_lit, plus< blank >, duration_unit > {};
struct true_ : kw_true {};
struct false_ : kw_false {};
struct bool_lit : sor< true_, false_ > {};
struct comma : one< ',' > {};

// ---- nesting ---------------------------------------------------------------
// Markers that match nothing: the parser (engine/syntax/parser.cpp) counts
// levels at them and refuses text that nests deeper than its limit
// (ethos/base/limits.hpp), so no input makes it, or any later stage, recurse
// without bound. Each follows the token that opens a level: `level` a `(`,
// `not_level` a `not`, `record_level` a record's `{`, and `chain_level` an
// arithmetic operator (`a + b + c` is `(a + b) + c`: what came before the
// operator sinks one level deeper).
struct level : success {};
struct not_level : success {};
struct record_level : success {};
struct chain_level : success {};

// ---- expressions -----------------------------------------------------------
struct expr;
struct list_close : one< ']' > {};
struct list_item : sor< string_lit, int_lit, word > {};
struct list_lit : seq< one< '[' >, sep, opt< list_item, sep, star< comma, sep, must< list_item >, sep > >, must< list_close > > {};
struct paren_close : one< ')' > {};
struct paren : if_must< one< '(' >, level, sep, expr, sep, paren_close > {};
struct call_open : one< '(' > {};
struct call : seq< name, call_open, level, sep, must< expr >, sep, must< paren_close > > {};
struct now : kw_now {};
struct operand : sor< paren, call, duration_lit, int_lit, string_lit, bool_lit, now, list_lit, path > {};

struct op_mul : one< '*' > {};
struct op_add : one< '+' > {};
struct op_sub : seq< one< '-' >, not_at< digit > > {};
struct mul_expr : seq< operand, star< sep, op_mul, chain_level, sep, must< operand > > > {};
struct add_op : sor< op_add, op_sub > {};
struct add_expr : seq< mul_expr, star< sep, add_op, chain_level, sep, must< mul_expr > > > {};

struct op_eq : two< '=' > {};
struct op_ne : string< '!', '=' > {};
struct op_le : string< '<', '=' > {};
struct op_ge : string< '>', '=' > {};
struct op_lt : one< '<' > {};
struct op_gt : one< '>' > {};
struct op_in : kw_in {};
struct op_has_any : kw_has_any {};
struct op_has_all : kw_has_all {};
struct op_has : kw_has {};
struct cmp_op : sor< op_eq, op_ne, op_le, op_ge, op_lt, op_gt, op_in, op_has_any, op_has_all, op_has > {};
struct is_present : kw_present {};
struct is_missing : kw_missing {};
struct presence : sor< is_present, is_missing > {};
struct operand_expected : add_expr {};
// `=` alone is a mistake for `==` (it only ever follows a name in `define`,
// `param` and `set`, never an operand): say so rather than stop the clause.
struct single_equals : seq< one< '=' >, not_at< one< '=' > > > {};
struct cmp_tail : sor< seq< cmp_op, sep, must< operand_expected > >, if_must< kw_is, sep, presence >,
                       seq< at< single_equals >, raise< single_equals > > > {};
struct cmp_expr : seq< add_expr, opt< sep, cmp_tail > > {};
struct not_expr;
struct not_op : seq< kw_not, not_level, sep, must< not_expr > > {};
struct not_expr : sor< not_op, cmp_expr > {};
struct and_expr : seq< not_expr, star< sep, kw_and, sep, must< not_expr > > > {};
struct or_expr : seq< and_expr, star< sep, kw_or, sep, must< and_expr > > > {};
struct expr : or_expr {};

// ---- schema ----------------------------------------------------------------
struct type;
struct record_close : one< '}' > {};
struct field_name : word {};
struct colon : one< ':' > {};
struct optional_mark : one< '?' > {};
struct annotation : seq< one< '@' >, word > {};
// A range on a field: `age: int in 0..130`. `in` commits unless it is the
// name of the next field (`in: bool`); the checker wants integer bounds on
// an `int`, so the grammar takes any literal word and lets it say so.
struct range_bound : sor< int_lit, string_lit, word > {};
struct range_dots : two< '.' > {};
struct range : if_must< seq< kw_in, not_at< sep, colon > >, sep, range_bound, sep, range_dots, sep, range_bound > {};
struct field : seq< field_name, sep, must< colon >, sep, must< type >, opt< optional_mark >, opt< sep, range >, star< sep, annotation > > {};
struct record_type : seq< one< '{' >, record_level, sep, star< field, sep, opt< comma, sep > >, must< record_close > > {};
struct enum_open : one< '{' > {};
struct enum_close : one< '}' > {};
struct enum_value : word {};
struct enum_type : seq< kw_enum, sep, must< enum_open >, sep, must< enum_value >, sep, star< comma, sep, must< enum_value >, sep >, must< enum_close > > {};
struct set_open : one< '<' > {};
struct set_close : one< '>' > {};
struct string_type : TAO_PEGTL_KEYWORD( "string" ) {};
struct set_elem : sor< enum_type, string_type > {};
struct set_type : seq< kw_set, sep, must< set_open >, sep, must< set_elem >, sep, must< set_close > > {};
struct prim_type : sor< TAO_PEGTL_KEYWORD( "bool" ), TAO_PEGTL_KEYWORD( "int" ), string_type,
                        TAO_PEGTL_KEYWORD( "timestamp" ), TAO_PEGTL_KEYWORD( "duration" ) > {};
struct type : sor< record_type, enum_type, set_type, prim_type > {};
struct schema_name : name {};
struct schema_body : record_type {};
struct schema_decl : seq< kw_schema, sep, must< schema_name >, sep, must< schema_body > > {};

// ---- module ----------------------------------------------------------------
struct module_name : name {};
struct title : string_lit {};
struct applies_when : TAO_PEGTL_KEYWORD( "when" ) {};
struct condition : expr {};
struct applies_clause : if_must< kw_applies, sep, applies_when, sep, condition > {};
struct default_effect : sor< kw_permit, kw_deny > {};
struct default_clause : if_must< kw_default, sep, default_effect > {};
struct concern_value : word {};
struct concern_clause : if_must< kw_concern, sep, concern_value > {};
struct module_clause : sor< applies_clause, default_clause, concern_clause > {};
struct module_decl : seq< kw_module, sep, must< module_name >, opt< sep, title >, star< sep, module_clause > > {};

// ---- declarations ----------------------------------------------------------
struct equals : one< '=' > {};
struct literal : sor< duration_lit, int_lit, string_lit, bool_lit, list_lit, word > {};
struct param_name : name {};
struct param_decl : if_must< kw_param, sep, param_name, sep, colon, sep, type, sep, equals, sep, literal > {};
struct define_name : name {};
struct define_decl : if_must< kw_define, sep, define_name, sep, equals, sep, expr > {};
struct obligation_name : name {};
struct obligation_text : string_lit {};
struct obligation_decl : if_must< kw_obligation, sep, obligation_name, sep, obligation_text > {};

// ---- rules -----------------------------------------------------------------
struct rule_name : name {};
struct obligation_ref : name {};
struct effect_permit : kw_permit {};
struct effect_forbid : kw_forbid {};
struct effect_escalate : kw_escalate {};
struct effect_advise : kw_advise {};
struct effect_require : if_must< kw_require, sep, obligation_ref > {};
struct effect : sor< effect_permit, effect_forbid, effect_escalate, effect_advise, effect_require > {};
struct rule_ref : path {};
struct when_clause : if_must< kw_when, sep, condition > {};
struct unless_clause : if_must< kw_unless, sep, condition > {};
struct overrides_clause : if_must< kw_overrides, sep, rule_ref, star< sep, comma, sep, must< rule_ref > > > {};
struct because_clause : if_must< kw_because, sep, string_lit > {};
// A citation: a string, or a declared source with an optional section
// (`hipaa § "164.502(e)"`, or `hipaa section "164.502(e)"` for keyboards without `§`).
struct source_ref : name {};
struct section_mark : sor< string< '\xC2', '\xA7' >, TAO_PEGTL_KEYWORD( "section" ) > {};
struct section_text : string_lit {};
struct source_cite : seq< source_ref, opt< sep, section_mark, sep, must< section_text > > > {};
struct cite_item : sor< string_lit, source_cite > {};
struct cite_clause : if_must< kw_cite, sep, cite_item, star< sep, comma, sep, must< cite_item > > > {};
struct severity_value : word {};
struct severity_clause : if_must< kw_severity, sep, severity_value > {};
struct confidence_value : word {};
struct confidence_clause : if_must< kw_confidence, sep, confidence_value > {};
struct tags_clause : if_must< kw_tags, sep, string_lit, star< sep, comma, sep, must< string_lit > > > {};
struct rule_clause : sor< when_clause, unless_clause, overrides_clause, because_clause, cite_clause,
                          concern_clause, severity_clause, confidence_clause, tags_clause > {};
struct rule_decl : if_must< kw_rule, sep, rule_name, sep, colon, sep, effect, star< sep, rule_clause > > {};

// ---- sources ---------------------------------------------------------------
// source il_wopr "Illinois Wellness and Oversight for Psychological Resources Act"
//   kind statute  jurisdiction "US-IL"  from "2025-08-01"  url "https://..."  confidence verified
struct source_name : name {};
struct source_title : string_lit {};
struct kind_value : word {};
struct kind_clause : if_must< kw_kind, sep, kind_value > {};
struct jurisdiction_value : string_lit {};
struct jurisdiction_clause : if_must< kw_jurisdiction, sep, jurisdiction_value > {};
struct date_value : string_lit {};
struct from_clause : if_must< kw_from, sep, date_value > {};
struct until_clause : if_must< kw_until, sep, date_value > {};
struct url_value : string_lit {};
struct url_clause : if_must< kw_url, sep, url_value > {};
struct source_clause : sor< kind_clause, jurisdiction_clause, from_clause, until_clause, url_clause, confidence_clause > {};
struct source_decl : if_must< kw_source, sep, source_name, sep, source_title, star< sep, source_clause > > {};

// ---- invariants --------------------------------------------------------------
// invariant minor_is_under_18:
//   patient.age < 18  when patient.populations has "child"  because "..."  cite "..."
// What must hold of every request (where `when` holds); a request that
// breaks it is refused before it is decided.
struct invariant_name : name {};
struct invariant_clause : sor< when_clause, because_clause, cite_clause > {};
struct invariant_decl : if_must< kw_invariant, sep, invariant_name, sep, colon, sep, condition, star< sep, invariant_clause > > {};

// ---- committee tests -------------------------------------------------------
struct test_open : one< '{' > {};
struct test_close : one< '}' > {};
struct given_stmt : if_must< kw_given, sep, string_lit > {};
struct set_stmt : if_must< kw_set, sep, path, sep, equals, sep, literal > {};
struct unset_stmt : if_must< kw_unset, sep, path > {};
struct expect_outcome : sor< kw_permit, kw_deny, kw_escalate > {};
struct expect_no_rules : seq< kw_no, sep, must< kw_rules >, sep, must< rule_ref >, star< sep, comma, sep, must< rule_ref > > > {};
struct expect_rules : if_must< kw_rules, sep, rule_ref, star< sep, comma, sep, must< rule_ref > > > {};
struct expect_obligations : if_must< kw_obligations, sep, obligation_ref, star< sep, comma, sep, must< obligation_ref > > > {};
struct expect_missing : if_must< kw_missing, sep, path, star< sep, comma, sep, must< path > > > {};
struct expectation : sor< expect_outcome, expect_no_rules, expect_rules, expect_obligations, expect_missing > {};
struct expect_stmt : if_must< kw_expect, sep, expectation > {};
struct test_stmt : sor< given_stmt, set_stmt, unset_stmt, expect_stmt > {};
struct test_name : string_lit {};
struct test_decl : if_must< kw_test, sep, test_name, sep, test_open, sep, star< test_stmt, sep >, test_close > {};

// ---- files -----------------------------------------------------------------
// The parser reads a file one declaration at a time so that it can resume
// after an error at the next line that starts a declaration.
struct declaration : sor< schema_decl, module_decl, param_decl, define_decl, obligation_decl, rule_decl, test_decl, source_decl, invariant_decl > {};
struct declaration_expected : declaration {};
struct one_declaration : seq< sep, sor< eof, must< declaration_expected > > > {};
// The whole-file grammar (used by analyze() and by tools that want one rule).
struct file : seq< sep, star< declaration, sep >, must< eof > > {};

// clang-format on
}  // namespace ethos::grammar
