// The checked, compiled policy: names resolved to slots, types checked,
// expressions lowered to a flat node array, rules ordered by the rule graph.
// A Policy is immutable once built: share it freely between threads.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <ethos/base/limits.hpp>
#include <ethos/base/source.hpp>
#include <ethos/syntax/ast.hpp>

namespace ethos {

// Heterogeneous lookup for string-keyed maps (look up by string_view without a copy).
struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
};
template <typename V>
using StringMap = std::unordered_map<std::string, V, StringHash, std::equal_to<>>;

enum class ValueType : uint8_t {
  kBool,
  kInt,
  kString,
  kTimestamp,
  kDuration,
  kSet,
  kEnum,
  kRecord,
  kList,
  kError,
};

struct Type {
  ValueType kind = ValueType::kError;
  uint16_t enum_id = 0;                // kEnum: index into Schema::enums
  ValueType elem = ValueType::kError;  // kList: the element type (kString, kInt or kEnum)
  bool operator==(const Type&) const = default;
};
std::string type_name(const Type& t, const struct Schema& schema);

// One attribute of the request schema; records are attributes too.
struct Attribute {
  std::string path;  // "vendor.baa_signed"
  Type type;
  bool optional = false;       // written with `?`
  bool may_be_absent = false;  // it or an enclosing record is optional
  bool fixed = false;
  bool pseudonymize = false;
  bool redact = false;
  // `int in lo..hi`: a request's value outside [lo, hi] is refused when bound.
  bool ranged = false;
  int64_t lo = 0;
  int64_t hi = 0;
  int32_t parent = -1;
  std::vector<uint32_t> children;  // for records, in declaration order
  std::string name;                // the last path segment
  Span span;
};

struct Schema {
  std::vector<Attribute> attributes;  // slot i == attributes[i]
  std::vector<uint32_t> top_level;
  std::vector<std::vector<std::string>> enums;
  StringMap<uint32_t> by_path;
  int32_t time_slot = -1;
  int32_t request_id_slot = -1;
  int32_t enum_index(uint16_t enum_id, std::string_view value) const;
};

// ---- the lowered expression form --------------------------------------------

enum class IrOp : uint8_t {
  kConst,     // imm (bool, int, timestamp, duration, enum index, symbol id), str for strings
  kConstSet,  // set: index into Policy::const_sets
  kAttr,      // a: slot
  kDefine,    // a: define index (memoized per evaluation)
  kNow,
  kNot,  // a
  kAnd,
  kOr,  // kids [a, a+b) in Policy::kids
  kEq,
  kNe,
  kLt,
  kLe,
  kGt,
  kGe,  // a, b
  kAdd,
  kSub,
  kMul,  // a, b
  kIn,   // a: element, b: set/list
  kHas,  // a: set, b: element
  kHasAny,
  kHasAll,  // a, b: sets
  kIsPresent,
  kIsMissing,  // a: slot
  kDaysSince,  // a
};

struct IrNode {
  IrOp op = IrOp::kConst;
  ValueType type = ValueType::kBool;          // the node's result type
  ValueType operand_type = ValueType::kBool;  // for comparisons: the operands' type
  uint32_t a = 0;
  uint32_t b = 0;
  int64_t imm = 0;     // kConst: the value; a string's symbol id (Policy::symbol_text)
  int32_t param = -1;  // kConst/kConstSet folded from a param: its index
};
// 32 bytes: the nodes of a rule's condition share cache lines.
static_assert(sizeof(IrNode) <= 32);

// A constant set of strings (list literals, set-typed params): sorted symbol ids.
struct ConstSet {
  std::vector<int32_t> symbols;
  std::vector<std::string> texts;
};

// ---- declarations -------------------------------------------------------------

struct Module {
  std::string name;
  std::string title;
  bool default_permit = false;
  std::optional<uint32_t> applies;  // IR node
  std::string concern;
  Span span;
  std::vector<uint32_t> rules;
};

struct Param {
  std::string id;  // module.name
  Type type;
  uint32_t value;  // IR node (a constant)
  uint32_t module;
  Span span;
  std::string written;  // the default as written
};

struct Define {
  std::string id;  // module.name
  Type type;
  uint32_t value = 0;  // IR node
  uint32_t module = 0;
  Span span;
  bool typed = false;
};

struct Obligation {
  std::string name;
  std::string text;
  Span span;
};

// Where a request is made: read from `jurisdiction.country`, `.state` and
// `.eu` when the policy declares sources (empty / false when absent).
struct Place {
  std::string country;
  std::string state;
  bool eu = false;
};

// A declared source (`source hipaa "..." kind regulation jurisdiction "US" ...`).
struct Source {
  enum class Scope : uint8_t { kGlobal, kCountry, kState, kEu };
  std::string id;
  std::string title;
  std::string kind;          // statute, regulation, code, guidance, case
  std::string jurisdiction;  // as written: "global", "US", "US-IL", "EU", "DE"
  Scope scope = Scope::kGlobal;
  std::string country;                // kCountry, kState
  std::string state;                  // kState
  int64_t from = INT64_MIN;           // in force from (seconds since the epoch, inclusive)
  int64_t until = INT64_MAX;          // in force until (exclusive)
  std::string from_text, until_text;  // as written, for decisions and docs
  std::string url;
  std::string confidence = "verified";
  Span span;

  bool dated() const { return from != INT64_MIN || until != INT64_MAX; }
  bool in_force_at(int64_t t) const { return t >= from && t < until; }
  bool applies_in(const Place& place) const;
  bool applies(int64_t t, const Place& place) const { return in_force_at(t) && applies_in(place); }
};

// One citation of a rule: a declared source (with its section), or a string.
struct Citation {
  int32_t source = -1;  // index into Policy::sources, or -1 for a string citation
  std::string section;  // for a source: "164.502(e)", or empty for the whole source
  std::string text;     // as a decision shows it: the string, or "title § section"
};

struct Rule {
  std::string id;  // module.name
  std::string name;
  uint32_t module = 0;
  Effect effect = Effect::kPermit;
  int32_t obligation = -1;
  std::string because;
  std::vector<std::string> cites;   // every citation's text, as written
  std::vector<Citation> citations;  // the same, resolved
  bool scoped_cites = false;        // some citation names a scoped or dated source
  std::string concern;
  std::string severity;
  std::string confidence = "verified";
  std::vector<std::string> tags;
  uint32_t condition = 0;               // IR node: when and not unless (module guard separate)
  std::vector<uint32_t> overrides;      // rules this one suppresses
  std::vector<uint32_t> overridden_by;  // rules that suppress this one
  std::vector<uint32_t> reads;          // attribute slots read, transitively (sorted)
  Span span;
};

// An invariant of the schema: what must hold of every request. A request
// breaks it when `when` (if any) is true and `holds` is false, both known;
// a fact it needs that is absent cannot break it (docs/language.md). Both
// are boolean IR nodes that read request attributes only.
struct Invariant {
  std::string id;
  std::string because;
  std::vector<std::string> cites;  // as a decision would show them
  uint32_t holds = 0;
  std::optional<uint32_t> when;
  Span span;
};

// A committee test, checked against the schema (see engine/testing.hpp).
struct TestCase {
  std::string name;
  std::string given;  // path relative to the bundle root
  struct Assignment {
    uint32_t slot;
    std::string path;
    ast::Expr value;
    Span span;
  };
  std::vector<Assignment> sets;
  std::vector<std::pair<uint32_t, Span>> unsets;
  std::optional<std::string> expect_outcome;
  std::vector<std::pair<uint32_t, Span>> expect_rules;
  std::vector<std::pair<uint32_t, Span>> expect_no_rules;
  std::vector<std::pair<uint32_t, Span>> expect_obligations;
  std::vector<std::pair<uint32_t, Span>> expect_missing;
  Span span;
};

enum class RuleStatus : uint8_t {
  kNotApplicable,  // its module's `applies when` is false
  kNotFired,       // its condition is false
  kFired,          // its condition is true and it took effect
  kUnknown,        // its condition needs a fact the request does not have
  kOverridden,     // it fired (or was unknown) but a rule that overrides it fired
};

// The rule index: rules whose condition (or module guard) requires an
// attribute to have one of a few values are found through the request's
// value instead of being evaluated. A rule excluded by its guard is not
// evaluated at all: its status is `excluded_status` (not_applicable when the
// guard came from its module's `applies when`, else not_fired).
struct RuleIndex {
  // What the evaluator reads of each rule, packed together (the Rule itself,
  // with its texts, is large and cold; these are small and hot).
  struct HotRule {
    uint32_t condition = 0;  // its first instruction in Policy::program
    uint32_t module = 0;
    uint32_t overriders_begin = 0;  // into `overriders`
    uint32_t overriders_count = 0;
    uint32_t reads_begin = 0;  // into `reads`
    uint32_t reads_count = 0;
    int32_t obligation = -1;
    Effect effect = Effect::kPermit;
  };
  std::vector<HotRule> hot;  // by rule
  std::vector<uint32_t> overriders;
  std::vector<uint32_t> reads;
  // Rules are named by their rank below (their position in
  // Policy::rule_order): the evaluator marks candidates in a bitset by rank
  // and so visits them in rank order without sorting.
  struct Entry {
    uint32_t slot = 0;
    bool is_set = false;
    std::vector<uint32_t> guarded;  // ranks of every rule guarded by this attribute
    // The ranks a value admits: admitted[first[v] .. first[v + 1]). Guard
    // values are booleans, enum indexes and symbol ids: small and >= 0.
    std::vector<uint32_t> first;
    std::vector<uint32_t> admitted;
  };
  std::vector<Entry> entries;
  std::vector<uint32_t> unguarded;       // ranks, always evaluated
  std::vector<uint8_t> excluded_status;  // by rule: a RuleStatus (decision.hpp)
  std::vector<uint32_t> rank;            // by rule: position in Policy::rule_order
  std::vector<uint32_t> by_rank;         // the rule at each rank
  std::vector<uint32_t> default_permit_modules;
};

// The evaluator's form of the conditions (engine/program.cpp): each rule's
// condition, each boolean define and each module's `applies when` is a
// subtree of `code` laid out in pre-order, so a rule's whole condition sits in
// a few adjacent cache lines and is walked without following pointers. The
// common comparisons (`attr == c`, `attr in [..]`, `set has c`, a flag) are
// one instruction each instead of three nodes; anything else is a kIr
// instruction that hands its node to the tree walker.
// The leaves come first, up to kHasAll: the evaluator tests `op <= kHasAll`.
enum class PcOp : uint8_t {
  kFalse,
  kTrue,
  kFlag,     // a: slot (a boolean attribute)
  kPresent,  // a: slot
  kMissing,  // a: slot
  kEq,       // a: slot, imm: the constant (a number, enum index or symbol id)
  kNe,
  kLt,
  kLe,
  kGt,
  kGe,
  kIn,      // a: slot, b: const set (its symbols)
  kHas,     // a: slot of a set, imm: symbol
  kHasAny,  // a: slot of a set, b: const set
  kHasAll,  // a: slot of a set, b: const set
  kDefine,  // a: boolean define (memoized per evaluation)
  kNot,     // its operand follows
  kAnd,     // a: operand count; the operands follow, one subtree after another
  kOr,      // a: operand count
  kIr,      // a: IR node, evaluated by the tree walker
};

struct PcInst {
  PcOp op = PcOp::kFalse;
  uint32_t size = 1;  // instructions in this subtree, itself included
  uint32_t a = 0;
  uint32_t b = 0;
  int64_t imm = 0;
};
static_assert(sizeof(PcInst) <= 24);

struct Program {
  static constexpr uint32_t kNone = UINT32_MAX;
  std::vector<PcInst> code;
  std::vector<uint32_t> rule;    // by rule: its condition's first instruction
  std::vector<uint32_t> define;  // by define: kNone unless boolean
  std::vector<uint32_t> module;  // by module: its `applies when`, or kNone
};

// The compiled policy bundle. Built by compile_bundle() (engine/bundle.hpp).
struct Policy {
  Schema schema;
  std::vector<Source> sources;
  StringMap<uint32_t> source_by_id;
  // The jurisdiction attributes sources are matched against (-1: absent).
  int32_t country_slot = -1, state_slot = -1, eu_slot = -1;
  std::vector<Module> modules;
  std::vector<Param> params;
  std::vector<Define> defines;
  std::vector<Obligation> obligations;
  std::vector<Rule> rules;
  std::vector<Invariant> invariants;  // in declaration order
  std::vector<TestCase> tests;

  std::vector<IrNode> nodes;
  std::vector<uint32_t> kids;
  std::vector<ConstSet> const_sets;
  // Every string literal in the policy, interned: binding maps request
  // strings to these ids so that comparisons are integer compares.
  StringMap<int32_t> symbols;
  std::vector<std::string> symbol_texts;  // by symbol id
  const std::string& symbol_text(int64_t id) const {
    return symbol_texts.at(static_cast<size_t>(id));
  }

  // Rules in an order where every overrider precedes the rules it overrides.
  std::vector<uint32_t> rule_order;
  RuleIndex index;
  Program program;

  StringMap<uint32_t> rule_by_id;
  StringMap<uint32_t> obligation_by_name;

  // The nesting limit its text was parsed with (CheckOptions::max_depth):
  // requests bound to it may nest no deeper (ethos/base/limits.hpp).
  uint32_t max_depth = kDefaultMaxDepth;

  int32_t symbol(std::string_view text) const;
  // The citations of `rule` that apply at `time` in `place`: string
  // citations always, a declared source's only where and when it is in force.
  std::vector<const Citation*> citations_in_force(const Rule& rule, int64_t time,
                                                  const Place& place) const;
  const Rule* find_rule(std::string_view id) const;
};

// Calls `f(child)` for each operand of `n`, in order: the one place that
// spells out which fields of an IrNode name other nodes. A define
// reference (kDefine) is a leaf here; its value is a tree of its own.
template <class F>
void for_each_child(const Policy& p, const IrNode& n, F&& f) {
  switch (n.op) {
    case IrOp::kNot:
    case IrOp::kDaysSince:
      f(n.a);
      break;
    case IrOp::kAnd:
    case IrOp::kOr:
      for (uint32_t k = 0; k < n.b; ++k) f(p.kids[n.a + k]);
      break;
    case IrOp::kEq:
    case IrOp::kNe:
    case IrOp::kLt:
    case IrOp::kLe:
    case IrOp::kGt:
    case IrOp::kGe:
    case IrOp::kAdd:
    case IrOp::kSub:
    case IrOp::kMul:
    case IrOp::kIn:
    case IrOp::kHas:
    case IrOp::kHasAny:
    case IrOp::kHasAll:
      f(n.a);
      f(n.b);
      break;
    case IrOp::kConst:
    case IrOp::kConstSet:
    case IrOp::kAttr:
    case IrOp::kDefine:
    case IrOp::kNow:
    case IrOp::kIsPresent:
    case IrOp::kIsMissing:
      break;
  }
}

}  // namespace ethos
