// The Checker's expressions: IR building, name resolution and typed lowering of conditions.
#include <ethos/check/checker.hpp>

#include <algorithm>

#include <ethos/base/text.hpp>
#include <ethos/base/time.hpp>

namespace ethos::check_internal {
namespace {

bool is_numeric(ValueType t) {
  return t == ValueType::kInt || t == ValueType::kTimestamp || t == ValueType::kDuration;
}

}  // namespace

// ---- IR building ----

uint32_t Checker::push(IrNode n) {
  p_->nodes.push_back(n);
  return static_cast<uint32_t>(p_->nodes.size() - 1);
}

uint32_t Checker::error_node() {
  IrNode n;
  n.type = ValueType::kError;
  return push(n);
}

uint32_t Checker::constant(ValueType t, int64_t v, uint16_t enum_id) {
  IrNode n;
  n.op = IrOp::kConst;
  n.type = t;
  n.imm = v;
  n.a = enum_id;
  return push(n);
}

int32_t Checker::intern(const std::string& s) {
  auto [it, inserted] = p_->symbols.emplace(s, static_cast<int32_t>(p_->symbols.size()));
  if (inserted) p_->symbol_texts.push_back(s);
  return it->second;
}

uint32_t Checker::string_constant(const std::string& s) {
  IrNode n;
  n.op = IrOp::kConst;
  n.type = ValueType::kString;
  n.imm = intern(s);
  return push(n);
}

uint32_t Checker::list_constant(const ast::Expr& e, ValueType elem, uint16_t enum_id) {
  ConstSet cs;
  for (const auto& k : e.kids) {
    if (elem == ValueType::kString) {
      cs.symbols.push_back(intern(k.text));
      cs.texts.push_back(k.text);
    } else if (elem == ValueType::kEnum) {
      cs.symbols.push_back(p_->schema.enum_index(enum_id, k.text));
    } else {
      cs.symbols.push_back(static_cast<int32_t>(k.int_value));
    }
  }
  // Sort symbols (texts follow) so membership is a binary search.
  std::vector<size_t> idx(cs.symbols.size());
  for (size_t i = 0; i < idx.size(); ++i) idx[i] = i;
  std::sort(idx.begin(), idx.end(),
            [&](size_t a, size_t b) { return cs.symbols[a] < cs.symbols[b]; });
  ConstSet sorted;
  for (size_t i : idx) {
    sorted.symbols.push_back(cs.symbols[i]);
    if (!cs.texts.empty()) sorted.texts.push_back(cs.texts[i]);
  }
  p_->const_sets.push_back(std::move(sorted));
  IrNode n;
  n.op = IrOp::kConstSet;
  n.type = elem == ValueType::kString ? ValueType::kSet : ValueType::kList;
  n.operand_type = elem;
  n.a = static_cast<uint32_t>(p_->const_sets.size() - 1);
  n.b = enum_id;
  return push(n);
}

uint32_t Checker::node2(IrOp op, ValueType result, uint32_t a, uint32_t b, ValueType operand) {
  IrNode n;
  n.op = op;
  n.type = result;
  n.operand_type = operand;
  n.a = a;
  n.b = b;
  return push(n);
}

Type Checker::type_of(uint32_t node) const {
  const IrNode& n = p_->nodes[node];
  Type t{n.type};
  if (n.type == ValueType::kEnum) t.enum_id = static_cast<uint16_t>(n.a);
  if (n.op == IrOp::kAttr) t = p_->schema.attributes[n.a].type;
  if (n.op == IrOp::kDefine) t = p_->defines[n.a].type;
  if (n.type == ValueType::kList) {
    t.elem = n.operand_type;
    t.enum_id = static_cast<uint16_t>(n.b);
  }
  return t;
}

// ---- name resolution ----

Checker::Resolved Checker::resolve(const std::string& text) const {
  if (facts_only_) {
    auto it = p_->schema.by_path.find(text);
    return it == p_->schema.by_path.end() ? Resolved{} : Resolved{NameKind::kAttribute, it->second};
  }
  const auto& scope = scopes_[cur_module_];
  if (text.find('.') == std::string::npos) {
    if (auto it = scope.defines.find(text); it != scope.defines.end())
      return {NameKind::kDefine, it->second};
    if (auto it = scope.params.find(text); it != scope.params.end())
      return {NameKind::kParam, it->second};
  } else {
    size_t dot = text.find('.');
    std::string mod = text.substr(0, dot), rest = text.substr(dot + 1);
    if (auto m = module_by_name_.find(mod);
        m != module_by_name_.end() && rest.find('.') == std::string::npos) {
      const auto& other = scopes_[m->second];
      if (auto it = other.defines.find(rest); it != other.defines.end())
        return {NameKind::kDefine, it->second};
      if (auto it = other.params.find(rest); it != other.params.end())
        return {NameKind::kParam, it->second};
    }
  }
  if (auto it = p_->schema.by_path.find(text); it != p_->schema.by_path.end())
    return {NameKind::kAttribute, it->second};
  return {};
}

std::vector<std::string> Checker::name_candidates() const {
  std::vector<std::string> c;
  for (const auto& a : p_->schema.attributes) c.push_back(a.path);
  if (facts_only_) return c;
  const auto& scope = scopes_[cur_module_];
  for (const auto& [n, i] : scope.defines) c.push_back(n);
  for (const auto& [n, i] : scope.params) c.push_back(n);
  for (const auto& d : p_->defines) c.push_back(d.id);
  for (const auto& d : p_->params) c.push_back(d.id);
  return c;
}

void Checker::unknown_name(const ast::Expr& e) {
  if (facts_only_ && !scopes_.empty()) {
    // A define or param: the policy's, not a fact of the request.
    facts_only_ = false;
    Resolved r = resolve(e.text);
    facts_only_ = true;
    if (r.kind != NameKind::kNone) {
      diags_.error(e.span,
                   "an invariant reads request facts only: " + quoted(e.text) + " is a " +
                       (r.kind == NameKind::kDefine ? "define" : "param") + " of a module",
                   "write the facts it stands for, e.g. `patient.age < 18`");
      return;
    }
  }
  std::string c = closest(e.text, name_candidates());
  std::string help = c.empty() ? "" : "did you mean " + quoted(c) + "?";
  if (c.empty() && e.text.find('.') == std::string::npos)
    help = "attributes are written with their record, e.g. `patient.age`";
  diags_.error(e.span, "unknown name " + quoted(e.text), help);
}

// ---- expression lowering (typed) ----

uint32_t Checker::lower(const ast::Expr& e) {
  switch (e.kind) {
    case ast::ExprKind::kBool:
      return constant(ValueType::kBool, e.bool_value ? 1 : 0);
    case ast::ExprKind::kInt:
      return constant(ValueType::kInt, e.int_value);
    case ast::ExprKind::kDuration:
      return constant(ValueType::kDuration, e.int_value);
    case ast::ExprKind::kString:
      return string_constant(e.text);
    case ast::ExprKind::kNow:
      return node2(IrOp::kNow, ValueType::kTimestamp, 0, 0);
    case ast::ExprKind::kList: {
      for (const auto& k : e.kids)
        if (k.kind != ast::ExprKind::kString) {
          diags_.error(k.span, "a list here holds strings in double quotes");
          return error_node();
        }
      return list_constant(e, ValueType::kString, 0);
    }
    case ast::ExprKind::kName:
      return lower_name(e);
    case ast::ExprKind::kCall:
      return lower_call(e);
    case ast::ExprKind::kNot: {
      uint32_t a = lower_bool(e.kids[0], "`not`");
      return node2(IrOp::kNot, ValueType::kBool, a, 0);
    }
    case ast::ExprKind::kAnd:
    case ast::ExprKind::kOr: {
      std::vector<uint32_t> ks;
      for (const auto& k : e.kids)
        ks.push_back(lower_bool(k, e.kind == ast::ExprKind::kAnd ? "`and`" : "`or`"));
      auto start = static_cast<uint32_t>(p_->kids.size());
      p_->kids.insert(p_->kids.end(), ks.begin(), ks.end());
      return node2(e.kind == ast::ExprKind::kAnd ? IrOp::kAnd : IrOp::kOr, ValueType::kBool, start,
                   static_cast<uint32_t>(ks.size()));
    }
    case ast::ExprKind::kIsPresent:
    case ast::ExprKind::kIsMissing: {
      const ast::Expr& x = e.kids[0];
      Resolved r = x.kind == ast::ExprKind::kName ? resolve(x.text) : Resolved{};
      if (r.kind != NameKind::kAttribute) {
        if (x.kind == ast::ExprKind::kName && r.kind == NameKind::kNone)
          unknown_name(x);
        else
          diags_.error(x.span, "`is present` and `is missing` apply to request attributes only");
        return error_node();
      }
      note_read(r.index);
      const Attribute& a = p_->schema.attributes[r.index];
      if (!a.may_be_absent)
        diags_.warning(e.span,
                       quoted(a.path) + " is required by the schema, so this is always " +
                           (e.kind == ast::ExprKind::kIsPresent ? "true" : "false"),
                       "mark it optional with `?` in the schema if requests may leave it out");
      return node2(e.kind == ast::ExprKind::kIsPresent ? IrOp::kIsPresent : IrOp::kIsMissing,
                   ValueType::kBool, r.index, 0);
    }
    case ast::ExprKind::kArith:
      return lower_arith(e);
    case ast::ExprKind::kCompare:
      return lower_compare(e);
  }
  return error_node();
}

uint32_t Checker::lower_bool(const ast::Expr& e, const char* context) {
  uint32_t n = lower(e);
  Type t = type_of(n);
  if (t.kind != ValueType::kBool && t.kind != ValueType::kError) {
    diags_.error(e.span, std::string("expected a condition (bool) for ") + context + ", found " +
                             quoted(type_name(t, p_->schema)));
    return error_node();
  }
  return n;
}

void Checker::note_read(uint32_t slot) { reads_.push_back(slot); }

uint32_t Checker::lower_name(const ast::Expr& e) {
  Resolved r = resolve(e.text);
  switch (r.kind) {
    case NameKind::kNone:
      unknown_name(e);
      return error_node();
    case NameKind::kParam:
      param_used_[r.index] = true;
      return p_->params[r.index].value;
    case NameKind::kDefine: {
      define_used_[r.index] = true;
      const Define& d = p_->defines[r.index];
      if (!d.typed) return error_node();  // in a cycle or broken: already reported
      IrNode n;
      n.op = IrOp::kDefine;
      n.type = d.type.kind;
      n.a = r.index;
      return push(n);
    }
    case NameKind::kAttribute: {
      const Attribute& a = p_->schema.attributes[r.index];
      if (a.type.kind == ValueType::kRecord) {
        std::string fields;
        for (size_t i = 0; i < a.children.size() && i < 4; ++i)
          fields += (i ? ", " : "") + quoted(p_->schema.attributes[a.children[i]].path);
        diags_.error(e.span, quoted(a.path) + " is a record, not a value",
                     "name one of its fields, e.g. " + fields + ", or test it with `is present`");
        return error_node();
      }
      note_read(r.index);
      IrNode n;
      n.op = IrOp::kAttr;
      n.type = a.type.kind;
      n.a = r.index;
      return push(n);
    }
  }
  return error_node();
}

uint32_t Checker::lower_call(const ast::Expr& e) {
  if (e.text != "days_since") {
    std::string c = closest(e.text, kFunctions);
    diags_.error(
        e.span, "unknown function " + quoted(e.text),
        c.empty() ? "the functions are `days_since(t)`" : "did you mean " + quoted(c) + "?");
    return error_node();
  }
  uint32_t a = lower(e.kids[0]);
  Type t = type_of(a);
  if (t.kind == ValueType::kError) return error_node();
  if (t.kind != ValueType::kTimestamp) {
    diags_.error(e.kids[0].span,
                 "`days_since` takes a timestamp, found " + quoted(type_name(t, p_->schema)));
    return error_node();
  }
  return node2(IrOp::kDaysSince, ValueType::kInt, a, 0);
}

uint32_t Checker::lower_arith(const ast::Expr& e) {
  uint32_t a = lower(e.kids[0]);
  uint32_t b = lower(e.kids[1]);
  Type ta = type_of(a), tb = type_of(b);
  if (ta.kind == ValueType::kError || tb.kind == ValueType::kError) return error_node();
  IrOp op = e.op == ast::Op::kAdd ? IrOp::kAdd : e.op == ast::Op::kSub ? IrOp::kSub : IrOp::kMul;
  ValueType r = ValueType::kError;
  using V = ValueType;
  if (ta.kind == V::kInt && tb.kind == V::kInt)
    r = V::kInt;
  else if (op == IrOp::kMul && ((ta.kind == V::kInt && tb.kind == V::kDuration) ||
                                (ta.kind == V::kDuration && tb.kind == V::kInt)))
    r = V::kDuration;
  else if (op != IrOp::kMul && ta.kind == V::kTimestamp && tb.kind == V::kDuration)
    r = V::kTimestamp;
  else if (op == IrOp::kAdd && ta.kind == V::kDuration && tb.kind == V::kTimestamp)
    r = V::kTimestamp;
  else if (op == IrOp::kSub && ta.kind == V::kTimestamp && tb.kind == V::kTimestamp)
    r = V::kDuration;
  else if (op != IrOp::kMul && ta.kind == V::kDuration && tb.kind == V::kDuration)
    r = V::kDuration;
  if (r == V::kError) {
    diags_.error(
        e.span,
        std::string("cannot apply `") + ast::op_text(e.op) + "` to " +
            quoted(type_name(ta, p_->schema)) + " and " + quoted(type_name(tb, p_->schema)),
        ta.kind == V::kTimestamp && tb.kind == V::kInt ? "write a duration such as `30 days`" : "");
    return error_node();
  }
  return node2(op, r, a, b, ta.kind);
}

uint32_t Checker::lower_against(const ast::Expr& e, const Type& other) {
  if (other.kind == ValueType::kEnum &&
      (e.kind == ast::ExprKind::kName || e.kind == ast::ExprKind::kString) &&
      e.text.find('.') == std::string::npos) {
    int32_t idx = p_->schema.enum_index(other.enum_id, e.text);
    if (idx >= 0 && (e.kind == ast::ExprKind::kString || resolve(e.text).kind == NameKind::kNone))
      return constant(ValueType::kEnum, idx, other.enum_id);
    if (resolve(e.text).kind == NameKind::kNone || e.kind == ast::ExprKind::kString) {
      std::string c = closest(e.text, p_->schema.enums[other.enum_id]);
      diags_.error(e.span,
                   quoted(e.text) + " is not a value of " + quoted(type_name(other, p_->schema)),
                   c.empty() ? "" : "did you mean " + quoted(c) + "?");
      return error_node();
    }
  }
  if (other.kind == ValueType::kTimestamp && e.kind == ast::ExprKind::kString) {
    int64_t ts;
    if (parse_timestamp(e.text, ts)) return constant(ValueType::kTimestamp, ts);
    diags_.error(e.span, quoted(e.text) + " is not a timestamp",
                 "write `\"2026-11-26\"` or `\"2026-11-26T10:15:00Z\"`");
    return error_node();
  }
  if (e.kind == ast::ExprKind::kList) {
    ValueType elem = other.kind == ValueType::kEnum  ? ValueType::kEnum
                     : other.kind == ValueType::kInt ? ValueType::kInt
                                                     : ValueType::kString;
    for (const auto& k : e.kids) {
      bool ok = elem == ValueType::kString ? k.kind == ast::ExprKind::kString
                : elem == ValueType::kInt
                    ? k.kind == ast::ExprKind::kInt
                    : (k.kind == ast::ExprKind::kName || k.kind == ast::ExprKind::kString);
      if (!ok) {
        diags_.error(k.span,
                     "this list holds " +
                         std::string(elem == ValueType::kInt ? "ints"
                                     : elem == ValueType::kEnum
                                         ? "values of " + quoted(type_name(other, p_->schema))
                                         : "strings in double quotes"));
        return error_node();
      }
      if (elem == ValueType::kEnum && p_->schema.enum_index(other.enum_id, k.text) < 0) {
        std::string c = closest(k.text, p_->schema.enums[other.enum_id]);
        diags_.error(k.span,
                     quoted(k.text) + " is not a value of " + quoted(type_name(other, p_->schema)),
                     c.empty() ? "" : "did you mean " + quoted(c) + "?");
        return error_node();
      }
    }
    return list_constant(e, elem, other.enum_id);
  }
  return lower(e);
}

bool Checker::is_plain_word(const ast::Expr& e) const {
  return e.kind == ast::ExprKind::kName && e.text.find('.') == std::string::npos &&
         resolve(e.text).kind == NameKind::kNone;
}

// For a set<enum { ... }>, the string literals it is tested for (`s has "x"`,
// `s has_any ["x", "y"]`) must be among its values: a misspelt one would
// never match. Reports each one that is not; true when all are.
bool Checker::members_of(const Type& set, const ast::Expr& e) {
  if (set.kind != ValueType::kSet || set.elem != ValueType::kEnum) return true;
  bool ok = true;
  auto check = [&](const ast::Expr& k) {
    if (k.kind != ast::ExprKind::kString || p_->schema.enum_index(set.enum_id, k.text) >= 0) return;
    std::string c = closest(k.text, p_->schema.enums[set.enum_id]);
    diags_.error(k.span,
                 quoted(k.text) + " is not a value of " + quoted(type_name(set, p_->schema)),
                 c.empty() ? "" : "did you mean " + quoted(c) + "?");
    ok = false;
  };
  if (e.kind == ast::ExprKind::kList)
    for (const auto& k : e.kids) check(k);
  else
    check(e);
  return ok;
}

uint32_t Checker::lower_compare(const ast::Expr& e) {
  const ast::Expr& l = e.kids[0];
  const ast::Expr& rr = e.kids[1];
  uint32_t a, b;
  // Lower the side that has a type of its own first.
  if ((is_plain_word(l) || l.kind == ast::ExprKind::kList) && !is_plain_word(rr)) {
    b = lower(rr);
    a = lower_against(l, type_of(b));
  } else {
    a = lower(l);
    Type ta = type_of(a);
    Type ctx = ta;
    if (e.op == ast::Op::kHas) ctx = Type{ValueType::kString};
    b = lower_against(rr, ctx);
  }
  Type ta = type_of(a), tb = type_of(b);
  if (ta.kind == ValueType::kError || tb.kind == ValueType::kError) return error_node();
  using V = ValueType;
  auto mismatch = [&](const std::string& help = "") {
    diags_.error(e.span,
                 std::string("cannot compare ") + quoted(type_name(ta, p_->schema)) + " `" +
                     ast::op_text(e.op) + "` " + quoted(type_name(tb, p_->schema)),
                 help);
    return error_node();
  };
  switch (e.op) {
    case ast::Op::kEq:
    case ast::Op::kNe: {
      bool same = ta.kind == tb.kind && (ta.kind != V::kEnum || ta.enum_id == tb.enum_id);
      if (!same || ta.kind == V::kSet || ta.kind == V::kList)
        return mismatch(ta.kind == V::kSet ? "use `has`, `has_any` or `has_all` on sets" : "");
      return node2(e.op == ast::Op::kEq ? IrOp::kEq : IrOp::kNe, V::kBool, a, b, ta.kind);
    }
    case ast::Op::kLt:
    case ast::Op::kLe:
    case ast::Op::kGt:
    case ast::Op::kGe: {
      if (ta.kind != tb.kind || !is_numeric(ta.kind))
        return mismatch(ta.kind == V::kTimestamp && tb.kind == V::kInt
                            ? "compare with a timestamp, or use `days_since(...)`"
                            : "");
      IrOp op = e.op == ast::Op::kLt   ? IrOp::kLt
                : e.op == ast::Op::kLe ? IrOp::kLe
                : e.op == ast::Op::kGt ? IrOp::kGt
                                       : IrOp::kGe;
      return node2(op, V::kBool, a, b, ta.kind);
    }
    case ast::Op::kIn: {
      bool ok = (ta.kind == V::kString && tb.kind == V::kSet) ||
                (tb.kind == V::kList && tb.elem == ta.kind &&
                 (ta.kind != V::kEnum || ta.enum_id == tb.enum_id));
      if (!ok)
        return mismatch(
            "`in` takes a string or enum value on the left and a list or set on the right");
      if (ta.kind == V::kInt && rr.kind == ast::ExprKind::kList && !rr.kids.empty()) {
        // A ConstSet holds 32-bit symbols, which would cut an int on either side
        // (`1 in [4294967297]` was true): compare ints one by one, in 64 bits.
        std::vector<uint32_t> eqs;
        for (const auto& k : rr.kids)
          eqs.push_back(node2(IrOp::kEq, V::kBool, a, constant(V::kInt, k.int_value), V::kInt));
        auto start = static_cast<uint32_t>(p_->kids.size());
        p_->kids.insert(p_->kids.end(), eqs.begin(), eqs.end());
        return node2(IrOp::kOr, V::kBool, start, static_cast<uint32_t>(eqs.size()));
      }
      return node2(IrOp::kIn, V::kBool, a, b, ta.kind);
    }
    case ast::Op::kHas: {
      if (ta.kind != V::kSet || tb.kind != V::kString)
        return mismatch("`has` takes a set on the left and a string on the right");
      if (!members_of(ta, rr)) return error_node();
      return node2(IrOp::kHas, V::kBool, a, b, V::kString);
    }
    case ast::Op::kHasAny:
    case ast::Op::kHasAll: {
      if (ta.kind != V::kSet || tb.kind != V::kSet)
        return mismatch(
            "`has_any` and `has_all` take a set on the left and a set or a list of strings on "
            "the right");
      if (!members_of(ta, rr)) return error_node();
      return node2(e.op == ast::Op::kHasAny ? IrOp::kHasAny : IrOp::kHasAll, V::kBool, a, b,
                   V::kSet);
    }
    default:
      return mismatch();
  }
}

}  // namespace ethos::check_internal
