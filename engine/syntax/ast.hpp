// The syntax tree: what the parser produces, before names are resolved.
// Every node keeps its source span; declarations keep the comments written
// directly above them (the formatter needs them). Plain data, movable.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <ethos/base/source.hpp>
#include <ethos/syntax/effect.hpp>

namespace ethos::ast {

struct Comment {
  Span span;
  std::string text;  // including the leading `//`
};

enum class ExprKind : uint8_t {
  kBool,      // bool_value
  kInt,       // int_value
  kString,    // text
  kDuration,  // int_value (seconds); text keeps the written form (`30 days`)
  kList,      // kids: the elements (kString, kInt or kName)
  kNow,
  kName,       // text: a dotted path, resolved by the checker
  kCall,       // text: the function; kids[0]: the argument
  kNot,        // kids[0]
  kAnd,        // kids: two or more
  kOr,         // kids: two or more
  kCompare,    // op; kids[0], kids[1]
  kArith,      // op; kids[0], kids[1]
  kIsPresent,  // kids[0]
  kIsMissing,  // kids[0]
};

enum class Op : uint8_t {
  kNone,
  kEq,
  kNe,
  kLt,
  kLe,
  kGt,
  kGe,
  kIn,
  kHas,
  kHasAny,
  kHasAll,
  kAdd,
  kSub,
  kMul,
};

const char* op_text(Op op);

struct Expr {
  ExprKind kind = ExprKind::kBool;
  Op op = Op::kNone;
  Span span;
  bool bool_value = false;
  int64_t int_value = 0;
  std::string text;
  std::vector<Expr> kids;
};

enum class TypeKind : uint8_t { kBool, kInt, kString, kTimestamp, kDuration, kSet, kEnum, kRecord };

struct Field;
struct TypeExpr {
  TypeKind kind = TypeKind::kBool;
  Span span;
  std::vector<std::string> enum_values;
  std::vector<Span> enum_spans;
  std::vector<Field> fields;  // for kRecord
};

struct Annotation {
  std::string name;
  Span span;
};

// A field's range, `in LO..HI`: the bounds as written (the checker wants
// integers, kInt).
struct FieldRange {
  Expr lo;
  Expr hi;
  Span span;  // from `in` to the upper bound
};

struct Field {
  std::string name;
  Span span;
  TypeExpr type;
  bool optional = false;
  std::optional<FieldRange> range;
  std::vector<Annotation> annotations;
  std::vector<Comment> comments;
};

struct Located {
  std::string text;
  Span span;
};

struct Schema {
  Located name;
  TypeExpr record;
};

struct Module {
  Located name;
  std::optional<Located> title;
  std::optional<Expr> applies;
  std::optional<Located> default_effect;  // "permit" or "deny"
  std::optional<Located> concern;
};

struct Param {
  Located name;
  TypeExpr type;
  Expr value;  // a literal
};

struct Define {
  Located name;
  Expr value;
};

struct Obligation {
  Located name;
  Located text;
};

using ethos::Effect;
using ethos::effect_name;

// One citation of a rule: a string (`"APA Ethics Code 4.01"`), or a declared
// source with an optional section (`hipaa § "164.502(e)"`).
struct Cite {
  std::optional<Located> source;  // the source's name, for a declared source
  Located text;                   // the string, or the section (empty text: the whole source)
  Span span;                      // the whole citation
};

// A declared source: a statute, regulation, code of ethics or guidance, with
// where and when it applies.
struct Source {
  Located name;
  Located title;
  std::optional<Located> kind;
  std::optional<Located> jurisdiction;
  std::optional<Located> from;
  std::optional<Located> until;
  std::optional<Located> url;
  std::optional<Located> confidence;
  std::vector<Located> duplicate_clauses;
};

struct Rule {
  Located name;
  Effect effect = Effect::kPermit;
  Span effect_span;
  std::optional<Located> obligation;  // for kRequire
  std::optional<Expr> when;
  std::optional<Expr> unless;
  std::vector<Located> overrides;
  std::optional<Located> because;
  std::vector<Cite> cites;
  std::optional<Located> concern;
  std::optional<Located> severity;
  std::optional<Located> confidence;
  std::vector<Located> tags;
  // Clauses written more than once (the checker reports them).
  std::vector<Located> duplicate_clauses;
};

// An invariant of the schema: `holds` must be true of every request where
// `when` is true (the whole request when there is no `when`).
struct Invariant {
  Located name;
  Expr holds;
  std::optional<Expr> when;
  std::optional<Located> because;
  std::vector<Cite> cites;
  std::vector<Located> duplicate_clauses;
};

struct TestSet {
  Located path;
  Expr value;  // a literal
};

enum class ExpectKind : uint8_t { kOutcome, kRules, kNoRules, kObligations, kMissing };

struct Expectation {
  ExpectKind kind = ExpectKind::kOutcome;
  Span span;
  std::vector<Located> items;  // outcome word, rule ids, obligation names or paths
};

struct Test {
  Located name;
  std::optional<Located> given;
  std::vector<TestSet> sets;
  std::vector<Located> unsets;
  std::vector<Expectation> expectations;
};

enum class DeclKind : uint8_t {
  kSchema,
  kModule,
  kParam,
  kDefine,
  kObligation,
  kRule,
  kTest,
  kSource,
  kInvariant
};

// One top-level declaration. Exactly the member named by `kind` is set.
struct Declaration {
  DeclKind kind = DeclKind::kRule;
  Span span;
  std::vector<Comment> comments;  // the comment lines directly above
  std::unique_ptr<Schema> schema;
  std::unique_ptr<Module> module;
  std::unique_ptr<Param> param;
  std::unique_ptr<Define> define;
  std::unique_ptr<Obligation> obligation;
  std::unique_ptr<Rule> rule;
  std::unique_ptr<Test> test;
  std::unique_ptr<Source> source;
  std::unique_ptr<Invariant> invariant;
};

// A parsed file. Declarations after a `module` header belong to that module.
struct File {
  uint32_t file = 0;  // index into the SourceSet
  std::vector<Declaration> declarations;
  std::vector<Comment> comments;  // every comment in the file, in order
};

}  // namespace ethos::ast
