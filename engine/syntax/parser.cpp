#include <ethos/syntax/parser.hpp>

#include <tao/pegtl/contrib/parse_tree.hpp>

#include <algorithm>
#include <type_traits>

#include "errors.hpp"
#include "grammar.hpp"

namespace ethos {
namespace {
namespace g = ethos::grammar;
namespace pegtl = tao::pegtl;
namespace pt = tao::pegtl::parse_tree;
using Node = pt::node;

// clang-format off
template <typename Rule>
using selector = pt::selector<Rule,
    pt::store_content::on<
        // expressions
        g::expr, g::or_expr, g::and_expr, g::not_op, g::cmp_expr, g::add_expr, g::operand_expected,
        g::mul_expr, g::call, g::name, g::now, g::path, g::int_lit, g::string_lit,
        g::duration_lit, g::duration_unit, g::true_, g::false_, g::list_lit, g::list_item,
        g::op_eq, g::op_ne, g::op_lt, g::op_le, g::op_gt, g::op_ge, g::op_in, g::op_has,
        g::op_has_any, g::op_has_all, g::op_add, g::op_sub, g::op_mul, g::is_present,
        g::is_missing, g::condition,
        // schema
        g::schema_decl, g::schema_name, g::schema_body, g::record_type, g::field, g::field_name, g::enum_type,
        g::enum_value, g::set_type, g::prim_type, g::optional_mark, g::annotation, g::range,
        g::range_bound, g::invariant_decl, g::invariant_name,
        // modules and declarations
        g::module_decl, g::module_name, g::title, g::applies_clause, g::default_effect,
        g::concern_clause, g::concern_value, g::param_decl, g::param_name, g::literal,
        g::define_decl, g::define_name, g::obligation_decl, g::obligation_name, g::obligation_text,
        // rules
        g::rule_decl, g::rule_name, g::effect_permit, g::effect_forbid, g::effect_escalate,
        g::effect_advise, g::effect_require, g::obligation_ref, g::when_clause, g::unless_clause,
        g::overrides_clause, g::rule_ref, g::because_clause, g::cite_clause, g::severity_clause,
        g::severity_value, g::confidence_clause, g::confidence_value, g::tags_clause,
        g::source_cite, g::source_ref, g::section_text,
        // sources
        g::source_decl, g::source_name, g::source_title, g::kind_clause, g::kind_value,
        g::jurisdiction_clause, g::jurisdiction_value, g::from_clause, g::until_clause, g::date_value,
        g::url_clause, g::url_value,
        // tests
        g::test_decl, g::test_name, g::given_stmt, g::set_stmt, g::unset_stmt, g::expect_stmt,
        g::expect_outcome, g::expect_no_rules, g::expect_rules, g::expect_obligations,
        g::expect_missing>>;
// clang-format on

// ---- nesting ------------------------------------------------------------------
// The levels open at the parser's position, counted at the grammar's markers
// (grammar.hpp: level, not_level, record_level, chain_level) and bounded by
// the limit. The count is the depth of the syntax tree being built, so the
// parser and every recursive walk after it stay within the limit.
//
// An arithmetic chain is a tree that leans left, `a + b + c` being
// `(a + b) + c`, so its operator puts one more level above what came before
// it: a chain keeps how far down its tree reaches (`reach`), `peak` is how
// deep the operand being read has gone, and each operator makes the reach
// max(reach, peak) + 1. Operands after an operator start one level down.

enum class NestKind { kExpression, kChain, kRecord };

// Thrown at the opener that goes past the limit. A parse_error, so that any
// caller's handler sees it; parse_file() renders it with its help.
class TooDeep : public pegtl::parse_error {
 public:
  TooDeep(const std::string& message, const pegtl::position& at, size_t opener, NestKind what)
      : pegtl::parse_error(message, at), offset(at.byte), length(opener), kind(what) {}
  size_t offset;
  size_t length;
  NestKind kind;
};

struct Nesting {
  explicit Nesting(uint32_t limit) : max(limit) {}
  uint32_t max;
  uint32_t depth = 0;  // levels open at the current position
  uint32_t peak = 0;   // the deepest level reached in the current chain operand
  struct Chain {
    uint32_t base;   // the depth the chain started at
    uint32_t reach;  // the deepest level of its tree so far
    uint32_t outer_peak;
  };
  std::vector<Chain> chains;

  void reset() {
    depth = peak = 0;
    chains.clear();
  }

  // A level opens right after its opener, `length` bytes back on this line.
  template <typename ParseInput>
  void open(const ParseInput& in, size_t length, NestKind kind) {
    if (kind == NestKind::kChain) {
      Chain& c = chains.back();
      c.reach = std::max(c.reach, peak) + 1;
      if (c.reach > max) too_deep(in, length, kind);
      depth = c.base + 1;
      peak = depth;
      return;
    }
    peak = std::max(peak, ++depth);
    if (depth > max) too_deep(in, length, kind);
  }

  template <typename ParseInput>
  [[noreturn]] void too_deep(const ParseInput& in, size_t length, NestKind kind) const {
    auto it = in.iterator();
    it.data -= length;
    it.byte -= length;
    it.column -= length;
    std::string what = kind == NestKind::kRecord ? "record" : "expression";
    throw TooDeep(what + " nests deeper than " + std::to_string(max) + " levels",
                  pegtl::position(it, in.source()), length, kind);
  }
};

template <typename Rule, typename... Rules>
inline constexpr bool is_one_of = (std::is_same_v<Rule, Rules> || ...);

// The grammar's control (errors.hpp), counting levels: `Nesting` is the
// first state of every parse.
template <typename Rule>
struct control : g::control<Rule> {
  template <pegtl::apply_mode A, pegtl::rewind_mode M, template <typename...> class Action,
            template <typename...> class Control, typename ParseInput, typename... States>
  [[nodiscard]] static bool match(ParseInput& in, Nesting& n, States&&... st) {
    using Base = g::control<Rule>;
    if constexpr (is_one_of<Rule, g::level, g::not_level, g::record_level, g::chain_level>) {
      if constexpr (std::is_same_v<Rule, g::chain_level>)
        n.open(in, 1, NestKind::kChain);
      else if constexpr (std::is_same_v<Rule, g::record_level>)
        n.open(in, 1, NestKind::kRecord);
      else
        n.open(in, std::is_same_v<Rule, g::not_level> ? 3 : 1, NestKind::kExpression);
      return true;
    } else if constexpr (is_one_of<Rule, g::paren, g::call, g::not_op, g::record_type,
                                   g::schema_body>) {
      // The levels a construct opens close with it.
      struct Close {
        Nesting& n;
        uint32_t depth;
        ~Close() { n.depth = depth; }
      } close{n, n.depth};
      return Base::template match<A, M, Action, Control>(in, n, st...);
    } else if constexpr (is_one_of<Rule, g::add_expr, g::mul_expr, g::operand_expected>) {
      n.chains.push_back({n.depth, n.depth, n.peak});
      n.peak = n.depth;
      struct Close {
        Nesting& n;
        ~Close() {
          const Nesting::Chain c = n.chains.back();
          n.chains.pop_back();
          n.depth = c.base;
          n.peak = std::max({c.outer_peak, c.reach, n.peak});
        }
      } close{n};
      return Base::template match<A, M, Action, Control>(in, n, st...);
    } else {
      return Base::template match<A, M, Action, Control>(in, n, st...);
    }
  }
};

std::string too_deep_help(NestKind kind) {
  switch (kind) {
    case NestKind::kChain:
      return "`a + b + c` reads as `(a + b) + c`, a level per operator; name a part with "
             "`define` and use its name";
    case NestKind::kRecord:
      return "requests may not nest deeper either; flatten the schema";
    case NestKind::kExpression:
      break;
  }
  return "name an inner part with `define` and use its name";
}

class Converter {
 public:
  Converter(const SourceSet& /*sources*/, uint32_t file) : file_(file) {}

  Span span(const Node& n) const {
    return Span{file_, static_cast<uint32_t>(n.m_begin.byte),
                static_cast<uint32_t>(n.has_content() ? n.m_end.byte : n.m_begin.byte),
                static_cast<uint32_t>(n.m_begin.line), static_cast<uint32_t>(n.m_begin.column)};
  }

  ast::Located located(const Node& n) const { return {n.string(), span(n)}; }
  ast::Located string_located(const Node& n) const {
    const Node& s = find_string(n);
    return {unquote(s.string_view()), span(s)};
  }

  static const Node& find_string(const Node& n) {
    if (n.is_type<g::string_lit>() || n.children.empty()) return n;
    return find_string(*n.children.front());
  }

  ast::Expr expr(const Node& n) const {
    ast::Expr e;
    e.span = span(n);
    // `condition` and `expr` derive from or_expr: PEGTL matches them as
    // or_expr itself, so their children are the or_expr's operands.
    if (n.is_type<g::or_expr>() || n.is_type<g::expr>() || n.is_type<g::condition>() ||
        n.is_type<g::and_expr>()) {
      if (n.children.size() == 1) return expr(*n.children[0]);
      e.kind = n.is_type<g::and_expr>() ? ast::ExprKind::kAnd : ast::ExprKind::kOr;
      for (const auto& c : n.children) e.kids.push_back(expr(*c));
      return e;
    }
    if (n.is_type<g::not_op>()) {
      e.kind = ast::ExprKind::kNot;
      e.kids.push_back(expr(*n.children.at(0)));
      return e;
    }
    if (n.is_type<g::cmp_expr>()) {
      if (n.children.size() == 1) return expr(*n.children[0]);
      const Node& op = *n.children.at(1);
      if (op.is_type<g::is_present>() || op.is_type<g::is_missing>()) {
        e.kind =
            op.is_type<g::is_present>() ? ast::ExprKind::kIsPresent : ast::ExprKind::kIsMissing;
        e.kids.push_back(expr(*n.children[0]));
        return e;
      }
      e.kind = ast::ExprKind::kCompare;
      e.op = op_of(op);
      e.kids.push_back(expr(*n.children[0]));
      e.kids.push_back(expr(*n.children.at(2)));
      return e;
    }
    if (n.is_type<g::add_expr>() || n.is_type<g::operand_expected>() || n.is_type<g::mul_expr>()) {
      ast::Expr acc = expr(*n.children.at(0));
      for (size_t i = 1; i + 1 < n.children.size(); i += 2) {
        ast::Expr bin;
        bin.kind = ast::ExprKind::kArith;
        bin.op = op_of(*n.children[i]);
        bin.span = acc.span;
        const Node& rhs = *n.children[i + 1];
        bin.span.end = static_cast<uint32_t>(rhs.m_end.byte);
        bin.kids.push_back(std::move(acc));
        bin.kids.push_back(expr(rhs));
        acc = std::move(bin);
      }
      return acc;
    }
    if (n.is_type<g::call>()) {
      e.kind = ast::ExprKind::kCall;
      e.text = n.children.at(0)->string();
      e.kids.push_back(expr(*n.children.at(1)));
      return e;
    }
    if (n.is_type<g::now>()) {
      e.kind = ast::ExprKind::kNow;
      return e;
    }
    if (n.is_type<g::path>() || n.is_type<g::name>()) {
      e.kind = ast::ExprKind::kName;
      e.text = n.string();
      return e;
    }
    if (n.is_type<g::true_>() || n.is_type<g::false_>()) {
      e.kind = ast::ExprKind::kBool;
      e.bool_value = n.is_type<g::true_>();
      return e;
    }
    if (n.is_type<g::int_lit>()) {
      e.kind = ast::ExprKind::kInt;
      e.int_value = parse_int(n);
      return e;
    }
    if (n.is_type<g::string_lit>()) {
      e.kind = ast::ExprKind::kString;
      e.text = unquote(n.string_view());
      return e;
    }
    if (n.is_type<g::duration_lit>()) {
      e.kind = ast::ExprKind::kDuration;
      e.text = n.string();
      const std::string unit = n.children.at(1)->string();
      int64_t mult = 1;
      if (unit.rfind("week", 0) == 0)
        mult = 7 * 86400;
      else if (unit.rfind("day", 0) == 0)
        mult = 86400;
      else if (unit.rfind("hour", 0) == 0)
        mult = 3600;
      else if (unit.rfind("minute", 0) == 0)
        mult = 60;
      e.int_value = parse_int(*n.children.at(0)) * mult;
      return e;
    }
    if (n.is_type<g::list_lit>()) {
      e.kind = ast::ExprKind::kList;
      for (const auto& c : n.children) e.kids.push_back(expr(*c));
      return e;
    }
    if (n.is_type<g::list_item>() || n.is_type<g::literal>() || n.is_type<g::range_bound>()) {
      if (!n.children.empty()) return expr(*n.children[0]);
      e.kind = ast::ExprKind::kName;  // a bare word: an enum value
      e.text = n.string();
      return e;
    }
    // Any other wrapper: descend to its only child.
    if (n.children.size() == 1) return expr(*n.children[0]);
    e.kind = ast::ExprKind::kBool;
    return e;
  }

  int64_t parse_int(const Node& n) const {
    try {
      return std::stoll(n.string());
    } catch (const std::exception&) {
      overflow_spans_.push_back(span(n));
      return 0;
    }
  }

  static ast::Op op_of(const Node& n) {
    if (n.is_type<g::op_eq>()) return ast::Op::kEq;
    if (n.is_type<g::op_ne>()) return ast::Op::kNe;
    if (n.is_type<g::op_lt>()) return ast::Op::kLt;
    if (n.is_type<g::op_le>()) return ast::Op::kLe;
    if (n.is_type<g::op_gt>()) return ast::Op::kGt;
    if (n.is_type<g::op_ge>()) return ast::Op::kGe;
    if (n.is_type<g::op_in>()) return ast::Op::kIn;
    if (n.is_type<g::op_has>()) return ast::Op::kHas;
    if (n.is_type<g::op_has_any>()) return ast::Op::kHasAny;
    if (n.is_type<g::op_has_all>()) return ast::Op::kHasAll;
    if (n.is_type<g::op_add>()) return ast::Op::kAdd;
    if (n.is_type<g::op_sub>()) return ast::Op::kSub;
    if (n.is_type<g::op_mul>()) return ast::Op::kMul;
    return ast::Op::kNone;
  }

  ast::TypeExpr type(const Node& n) const {
    ast::TypeExpr t;
    t.span = span(n);
    if (n.is_type<g::record_type>() || n.is_type<g::schema_body>()) {
      t.kind = ast::TypeKind::kRecord;
      for (const auto& c : n.children) t.fields.push_back(field(*c));
    } else if (n.is_type<g::enum_type>()) {
      t.kind = ast::TypeKind::kEnum;
      for (const auto& c : n.children) {
        t.enum_values.push_back(c->string());
        t.enum_spans.push_back(span(*c));
      }
    } else if (n.is_type<g::set_type>()) {
      t.kind = ast::TypeKind::kSet;
      // set<enum { ... }>: the values its members may take (set<string> has none).
      for (const auto& e : n.children)
        for (const auto& c : e->children) {
          t.enum_values.push_back(c->string());
          t.enum_spans.push_back(span(*c));
        }
    } else {
      std::string_view s = n.string_view();
      if (s == "bool")
        t.kind = ast::TypeKind::kBool;
      else if (s == "int")
        t.kind = ast::TypeKind::kInt;
      else if (s == "string")
        t.kind = ast::TypeKind::kString;
      else if (s == "timestamp")
        t.kind = ast::TypeKind::kTimestamp;
      else
        t.kind = ast::TypeKind::kDuration;
    }
    return t;
  }

  ast::Field field(const Node& n) const {
    ast::Field f;
    f.name = n.children.at(0)->string();
    f.span = span(*n.children[0]);
    f.type = type(*n.children.at(1));
    for (size_t i = 2; i < n.children.size(); ++i) {
      const Node& c = *n.children[i];
      if (c.is_type<g::optional_mark>())
        f.optional = true;
      else if (c.is_type<g::range>())
        f.range = ast::FieldRange{expr(*c.children.at(0)), expr(*c.children.at(1)), span(c)};
      else
        f.annotations.push_back({c.string().substr(1), span(c)});
    }
    return f;
  }

  ast::Declaration declaration(const Node& n) const {
    ast::Declaration d;
    d.span = span(n);
    if (n.is_type<g::schema_decl>()) {
      d.kind = ast::DeclKind::kSchema;
      d.schema = std::make_unique<ast::Schema>();
      d.schema->name = located(*n.children.at(0));
      d.schema->record = type(*n.children.at(1));
    } else if (n.is_type<g::module_decl>()) {
      d.kind = ast::DeclKind::kModule;
      d.module = std::make_unique<ast::Module>();
      auto& m = *d.module;
      m.name = located(*n.children.at(0));
      for (size_t i = 1; i < n.children.size(); ++i) {
        const Node& c = *n.children[i];
        if (c.is_type<g::title>())
          m.title = string_located(c);
        else if (c.is_type<g::applies_clause>())
          m.applies = expr(*c.children.at(0));
        else if (c.is_type<g::default_effect>())
          m.default_effect = located(c);
        else if (c.is_type<g::concern_clause>())
          m.concern = located(*c.children.at(0));
      }
    } else if (n.is_type<g::param_decl>()) {
      d.kind = ast::DeclKind::kParam;
      d.param = std::make_unique<ast::Param>();
      d.param->name = located(*n.children.at(0));
      d.param->type = type(*n.children.at(1));
      d.param->value = expr(*n.children.at(2));
    } else if (n.is_type<g::define_decl>()) {
      d.kind = ast::DeclKind::kDefine;
      d.define = std::make_unique<ast::Define>();
      d.define->name = located(*n.children.at(0));
      d.define->value = expr(*n.children.at(1));
    } else if (n.is_type<g::obligation_decl>()) {
      d.kind = ast::DeclKind::kObligation;
      d.obligation = std::make_unique<ast::Obligation>();
      d.obligation->name = located(*n.children.at(0));
      d.obligation->text = string_located(*n.children.at(1));
    } else if (n.is_type<g::rule_decl>()) {
      d.kind = ast::DeclKind::kRule;
      d.rule = rule(n);
    } else if (n.is_type<g::test_decl>()) {
      d.kind = ast::DeclKind::kTest;
      d.test = test(n);
    } else if (n.is_type<g::source_decl>()) {
      d.kind = ast::DeclKind::kSource;
      d.source = source(n);
    } else if (n.is_type<g::invariant_decl>()) {
      d.kind = ast::DeclKind::kInvariant;
      d.invariant = invariant(n);
    }
    return d;
  }

  std::unique_ptr<ast::Rule> rule(const Node& n) const {
    auto r = std::make_unique<ast::Rule>();
    r->name = located(*n.children.at(0));
    const Node& eff = *n.children.at(1);
    r->effect_span = span(eff);
    if (eff.is_type<g::effect_permit>())
      r->effect = ast::Effect::kPermit;
    else if (eff.is_type<g::effect_forbid>())
      r->effect = ast::Effect::kForbid;
    else if (eff.is_type<g::effect_escalate>())
      r->effect = ast::Effect::kEscalate;
    else if (eff.is_type<g::effect_advise>())
      r->effect = ast::Effect::kAdvise;
    else {
      r->effect = ast::Effect::kRequire;
      r->obligation = located(*eff.children.at(0));
    }
    for (size_t i = 2; i < n.children.size(); ++i) {
      const Node& c = *n.children[i];
      auto once = [&](auto& slot, auto value) {
        if (slot)
          r->duplicate_clauses.push_back(located(c));
        else
          slot = std::move(value);
      };
      if (c.is_type<g::when_clause>())
        once(r->when, expr(*c.children.at(0)));
      else if (c.is_type<g::unless_clause>())
        once(r->unless, expr(*c.children.at(0)));
      else if (c.is_type<g::because_clause>())
        once(r->because, string_located(c));
      else if (c.is_type<g::concern_clause>())
        once(r->concern, located(*c.children.at(0)));
      else if (c.is_type<g::severity_clause>())
        once(r->severity, located(*c.children.at(0)));
      else if (c.is_type<g::confidence_clause>())
        once(r->confidence, located(*c.children.at(0)));
      else if (c.is_type<g::overrides_clause>()) {
        if (!r->overrides.empty()) r->duplicate_clauses.push_back(located(c));
        for (const auto& ref : c.children) r->overrides.push_back(located(*ref));
      } else if (c.is_type<g::cite_clause>()) {
        if (!r->cites.empty()) r->duplicate_clauses.push_back(located(c));
        cites(c, r->cites);
      } else if (c.is_type<g::tags_clause>()) {
        if (!r->tags.empty()) r->duplicate_clauses.push_back(located(c));
        for (const auto& s : c.children) r->tags.push_back({unquote(s->string_view()), span(*s)});
      }
    }
    return r;
  }

  // The citations of a `cite` clause, appended to `out`.
  void cites(const Node& clause, std::vector<ast::Cite>& out) const {
    for (const auto& s : clause.children) {
      ast::Cite cite;
      cite.span = span(*s);
      if (s->is_type<g::source_cite>()) {
        cite.source = located(*s->children.at(0));
        if (s->children.size() > 1)
          cite.text = string_located(*s->children.at(1));
        else
          cite.text = {"", span(*s->children.at(0))};
      } else {
        cite.text = {unquote(s->string_view()), span(*s)};
      }
      out.push_back(std::move(cite));
    }
  }

  std::unique_ptr<ast::Invariant> invariant(const Node& n) const {
    auto v = std::make_unique<ast::Invariant>();
    v->name = located(*n.children.at(0));
    v->holds = expr(*n.children.at(1));
    for (size_t i = 2; i < n.children.size(); ++i) {
      const Node& c = *n.children[i];
      if (c.is_type<g::when_clause>()) {
        if (v->when) v->duplicate_clauses.push_back(located(c));
        v->when = expr(*c.children.at(0));
      } else if (c.is_type<g::because_clause>()) {
        if (v->because) v->duplicate_clauses.push_back(located(c));
        v->because = string_located(c);
      } else if (c.is_type<g::cite_clause>()) {
        if (!v->cites.empty()) v->duplicate_clauses.push_back(located(c));
        cites(c, v->cites);
      }
    }
    return v;
  }

  std::unique_ptr<ast::Source> source(const Node& n) const {
    auto s = std::make_unique<ast::Source>();
    s->name = located(*n.children.at(0));
    s->title = string_located(*n.children.at(1));
    auto once = [&](std::optional<ast::Located>& slot, ast::Located v, const Node& c) {
      if (slot) s->duplicate_clauses.push_back(located(c));
      slot = std::move(v);
    };
    for (size_t i = 2; i < n.children.size(); ++i) {
      const Node& c = *n.children[i];
      const Node& v = *c.children.at(0);
      if (c.is_type<g::kind_clause>())
        once(s->kind, located(v), c);
      else if (c.is_type<g::jurisdiction_clause>())
        once(s->jurisdiction, string_located(v), c);
      else if (c.is_type<g::from_clause>())
        once(s->from, string_located(v), c);
      else if (c.is_type<g::until_clause>())
        once(s->until, string_located(v), c);
      else if (c.is_type<g::url_clause>())
        once(s->url, string_located(v), c);
      else if (c.is_type<g::confidence_clause>())
        once(s->confidence, located(v), c);
    }
    return s;
  }

  std::unique_ptr<ast::Test> test(const Node& n) const {
    auto t = std::make_unique<ast::Test>();
    t->name = string_located(*n.children.at(0));
    for (size_t i = 1; i < n.children.size(); ++i) {
      const Node& c = *n.children[i];
      if (c.is_type<g::given_stmt>()) {
        t->given = string_located(c);
      } else if (c.is_type<g::set_stmt>()) {
        t->sets.push_back({located(*c.children.at(0)), expr(*c.children.at(1))});
      } else if (c.is_type<g::unset_stmt>()) {
        t->unsets.push_back(located(*c.children.at(0)));
      } else if (c.is_type<g::expect_stmt>()) {
        const Node& body = *c.children.at(0);
        ast::Expectation x;
        x.span = span(c);
        if (body.is_type<g::expect_outcome>()) {
          x.kind = ast::ExpectKind::kOutcome;
          x.items.push_back(located(body));
        } else {
          if (body.is_type<g::expect_rules>())
            x.kind = ast::ExpectKind::kRules;
          else if (body.is_type<g::expect_no_rules>())
            x.kind = ast::ExpectKind::kNoRules;
          else if (body.is_type<g::expect_obligations>())
            x.kind = ast::ExpectKind::kObligations;
          else
            x.kind = ast::ExpectKind::kMissing;
          for (const auto& item : body.children) x.items.push_back(located(*item));
        }
        t->expectations.push_back(std::move(x));
      }
    }
    return t;
  }

  mutable std::vector<Span> overflow_spans_;

 private:
  uint32_t file_;
};

// Every `//` comment outside string literals, in order.
std::vector<ast::Comment> scan_comments(const SourceSet& sources, uint32_t file) {
  std::vector<ast::Comment> out;
  const std::string& text = sources.files[file].text();
  bool in_string = false;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (in_string) {
      if (c == '\\')
        ++i;
      else if (c == '"' || c == '\n')
        in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '/' && i + 1 < text.size() && text[i + 1] == '/') {
      size_t e = text.find('\n', i);
      if (e == std::string::npos) e = text.size();
      size_t stop = e;
      while (stop > i && (text[stop - 1] == '\r')) --stop;
      out.push_back({sources.span(file, static_cast<uint32_t>(i), static_cast<uint32_t>(stop)),
                     text.substr(i, stop - i)});
      i = e;
    }
  }
  return out;
}

bool starts_declaration(std::string_view line) {
  size_t i = line.find_first_not_of(" \t");
  if (i == std::string_view::npos) return false;
  line.remove_prefix(i);
  for (std::string_view kw :
       {"rule", "define", "param", "obligation", "module", "schema", "test", "invariant"}) {
    if (line.substr(0, kw.size()) == kw &&
        (line.size() == kw.size() || line[kw.size()] == ' ' || line[kw.size()] == '\t'))
      return true;
  }
  return false;
}

// The offset of the next line after `offset` that starts a declaration, or npos.
size_t recovery_point(const std::string& text, size_t offset) {
  size_t pos = text.find('\n', offset);
  while (pos != std::string::npos) {
    size_t begin = pos + 1;
    size_t end = text.find('\n', begin);
    std::string_view line(text.data() + begin,
                          (end == std::string::npos ? text.size() : end) - begin);
    if (starts_declaration(line)) return begin;
    pos = end;
  }
  return std::string::npos;
}

void attach_comments(ast::File& f) {
  // A declaration owns the comments between the previous declaration's end
  // and its own start.
  size_t ci = 0;
  uint32_t prev_end = 0;
  for (auto& d : f.declarations) {
    while (ci < f.comments.size() && f.comments[ci].span.begin < d.span.begin) {
      if (f.comments[ci].span.begin >= prev_end) d.comments.push_back(f.comments[ci]);
      ++ci;
    }
    prev_end = d.span.end;
  }
}

// The offset of the first byte that is not part of well-formed UTF-8 (no
// overlong forms, surrogates or code points beyond U+10FFFF), or npos.
size_t first_invalid_utf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    auto c = static_cast<unsigned char>(s[i]);
    size_t n = c < 0x80 ? 0 : (c >> 5) == 0x6 ? 1 : (c >> 4) == 0xE ? 2 : (c >> 3) == 0x1E ? 3 : 4;
    if (n == 4 || c == 0xC0 || c == 0xC1 || c > 0xF4 || s.size() - i <= n) return i;
    for (size_t k = 1; k <= n; ++k)
      if ((static_cast<unsigned char>(s[i + k]) >> 6) != 0x2) return i;
    auto c1 = n ? static_cast<unsigned char>(s[i + 1]) : 0;
    if ((c == 0xE0 && c1 < 0xA0) || (c == 0xED && c1 > 0x9F) || (c == 0xF0 && c1 < 0x90) ||
        (c == 0xF4 && c1 > 0x8F))
      return i;
    i += n + 1;
  }
  return std::string_view::npos;
}

}  // namespace

std::string unquote(std::string_view literal) {
  std::string out;
  if (literal.size() >= 2 && literal.front() == '"')
    literal = literal.substr(1, literal.size() - 2);
  out.reserve(literal.size());
  for (size_t i = 0; i < literal.size(); ++i) {
    char c = literal[i];
    if (c == '\\' && i + 1 < literal.size()) {
      char n = literal[++i];
      out += n == 'n' ? '\n' : n == 't' ? '\t' : n;
    } else {
      out += c;
    }
  }
  return out;
}

ast::File parse_file(const SourceSet& sources, uint32_t file, Diagnostics& diags,
                     uint32_t max_depth) {
  ast::File result;
  result.file = file;
  const SourceFile& src = sources.files[file];
  const std::string& text = src.text();
  // Policy text is UTF-8: a stray byte would reach diagnostics and decisions
  // (whose JSON would then be invalid), so the file is refused as a whole.
  if (size_t bad = first_invalid_utf8(text); bad != std::string::npos) {
    auto at = static_cast<uint32_t>(bad);
    diags.error(sources.span(file, at, at + 1), "this file is not valid UTF-8",
                "save it as UTF-8 text");
    return result;
  }
  // So is a NUL byte, which no terminal shows: named, and refused the same way.
  if (size_t nul = text.find('\0'); nul != std::string::npos) {
    auto at = static_cast<uint32_t>(nul);
    diags.error(sources.span(file, at, at + 1),
                "policy text may not contain a NUL byte (byte " + std::to_string(nul) + ")",
                "a NUL byte usually means a binary file or UTF-16 text: save it as UTF-8 text");
    return result;
  }
  result.comments = scan_comments(sources, file);
  Converter conv(sources, file);
  pegtl::memory_input in(text.data(), text.data() + text.size(), src.path());
  // A byte order mark, as some editors write at the start of UTF-8 text: skipped.
  if (text.rfind("\xEF\xBB\xBF", 0) == 0)
    in.iterator() = pegtl::internal::iterator(text.data() + 3, 3, 1, 4);
  Nesting nesting(max_depth);
  while (true) {
    nesting.reset();
    try {
      auto root = pt::parse<g::one_declaration, selector, pegtl::nothing, control>(in, nesting);
      if (!root || root->children.empty()) break;  // end of file
      for (const auto& decl : root->children)
        result.declarations.push_back(conv.declaration(*decl));
    } catch (const pegtl::parse_error& e) {
      const auto& p = e.positions().front();
      uint32_t offset = static_cast<uint32_t>(p.byte);
      Span s = sources.span(file, offset, offset + 1);
      const auto* deep = dynamic_cast<const TooDeep*>(&e);
      std::string found;
      if (deep) {
        s.end = offset + static_cast<uint32_t>(deep->length);
      } else if (offset < text.size()) {
        size_t n = 0;
        while (offset + n < text.size() && n < 20 &&
               !std::isspace(static_cast<unsigned char>(text[offset + n])))
          ++n;
        found = std::string(text.substr(offset, n));
        s.end = offset + static_cast<uint32_t>(std::max<size_t>(n, 1));
      }
      std::string message(e.message());
      std::string help;
      if (deep)
        help = too_deep_help(deep->kind);
      else if (message == g::error_message<g::single_equals>)
        help = "did you mean `==`?";
      else if (!found.empty())
        message += ", found `" + found + "`";
      else
        message += ", found the end of the file";
      diags.error(s, message, help);
      size_t next = recovery_point(text, offset);
      if (next == std::string::npos) break;
      auto [line, col] = src.position(static_cast<uint32_t>(next));
      in.iterator() = pegtl::internal::iterator(text.data() + next, next, line, col);
    }
  }
  for (Span s : conv.overflow_spans_) diags.error(s, "integer literal out of range");
  attach_comments(result);
  return result;
}

std::optional<ast::Expr> parse_expression(const SourceSet& sources, uint32_t file,
                                          Diagnostics& diags, uint32_t max_depth) {
  const SourceFile& src = sources.files[file];
  const std::string& text = src.text();
  pegtl::memory_input in(text.data(), text.data() + text.size(), src.path());
  Converter conv(sources, file);
  Nesting nesting(max_depth);
  try {
    using whole = pegtl::seq<g::sep, g::expr, g::sep, pegtl::must<pegtl::eof>>;
    auto root = pt::parse<whole, selector, pegtl::nothing, control>(in, nesting);
    if (!root || root->children.empty()) {
      diags.error(sources.span(file, 0, 1), "expected an expression");
      return std::nullopt;
    }
    return conv.expr(*root->children[0]);
  } catch (const pegtl::parse_error& e) {
    auto off = static_cast<uint32_t>(e.positions().front().byte);
    diags.error(sources.span(file, off, off + 1), std::string(e.message()));
    return std::nullopt;
  }
}

}  // namespace ethos
