#include <ethos/authoring/lint_solver.hpp>

#include <algorithm>
#include <functional>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <tuple>
#include <unordered_map>

#include <ethos/check/check.hpp>
#include <ethos/base/time.hpp>

namespace ethos {
namespace {

constexpr int64_t kMin = std::numeric_limits<int64_t>::min();
constexpr int64_t kMax = std::numeric_limits<int64_t>::max();

enum class FK : uint8_t { kTrue, kFalse, kAtom, kNot, kAnd, kOr };
struct FNode {
  FK kind = FK::kTrue;
  uint32_t atom = 0;
  std::vector<uint32_t> kids;
};

// kPresent: a = slot. kBool: a = slot. kMember: a = set slot, b = element.
// kOpaqueT / kOpaqueF: a = opaque id. kEq: a = finite-domain var, b = value.
// kLe: a = integer var, b = bound.
enum class AK : uint8_t { kPresent, kBool, kMember, kOpaqueT, kOpaqueF, kEq, kLe };
struct Atom {
  AK kind = AK::kPresent;
  uint32_t a = 0;
  int64_t b = 0;
  bool operator<(const Atom& o) const { return std::tie(kind, a, b) < std::tie(o.kind, o.a, o.b); }
};

struct FdVar {
  uint32_t slot = 0;
  bool is_enum = false;
  size_t enum_size = 0;
  std::vector<std::string> strings;  // string domains: the constants; any other text is "other"
  std::vector<uint32_t> atoms;
};

struct NumVar {
  uint32_t slot = 0;
  bool days_since = false;  // days_since(slot)
  int64_t lo = kMin, hi = kMax;
  std::vector<uint32_t> atoms;
};

// What an IR value node is, for the atoms the solver understands.
struct Term {
  enum Kind { kConst, kConstSet, kNum, kEnum, kStr, kSet, kOther } kind = kOther;
  uint32_t slot = 0;
  bool days_since = false;
  int64_t value = 0;
  std::string text;
  ValueType type = ValueType::kError;
  uint32_t cset = 0;
  ValueType elem = ValueType::kError;
};

// ---- DPLL ----------------------------------------------------------------------

class Dpll {
 public:
  // `check(var)`: is the theory still consistent after `var` was assigned?
  template <typename Check>
  PolicySolver::Answer run(int nvars, std::vector<std::vector<int>> clauses, size_t& budget,
                           Check check) {
    n_ = nvars;
    clauses_ = std::move(clauses);
    val_.assign(static_cast<size_t>(n_) + 1, 0);
    watches_.assign(2 * (static_cast<size_t>(n_) + 1), {});
    trail_.clear();
    qhead_ = 0;
    std::vector<int> units;
    for (size_t i = 0; i < clauses_.size(); ++i) {
      auto& c = clauses_[i];
      std::sort(c.begin(), c.end());
      c.erase(std::unique(c.begin(), c.end()), c.end());
      if (c.empty()) return PolicySolver::Answer::kUnsat;
      if (c.size() == 1) {
        units.push_back(c[0]);
        continue;
      }
      watches_[code(c[0])].push_back(static_cast<uint32_t>(i));
      watches_[code(c[1])].push_back(static_cast<uint32_t>(i));
    }
    auto enqueue = [&](int lit) {
      int v = std::abs(lit);
      int8_t want = lit > 0 ? 1 : -1;
      if (val_[static_cast<size_t>(v)] != 0) return val_[static_cast<size_t>(v)] == want;
      val_[static_cast<size_t>(v)] = want;
      trail_.push_back(lit);
      return check(v);
    };
    for (int u : units)
      if (!enqueue(u)) return PolicySolver::Answer::kUnsat;
    struct Decision {
      size_t trail_pos;
      int lit;
      bool flipped;
    };
    std::vector<Decision> decisions;
    auto backtrack = [&]() {
      while (!decisions.empty()) {
        Decision d = decisions.back();
        decisions.pop_back();
        undo(d.trail_pos);
        if (d.flipped) continue;
        decisions.push_back({d.trail_pos, -d.lit, true});
        if (enqueue(-d.lit) && propagate(enqueue, budget)) return true;
      }
      return false;
    };
    if (!propagate(enqueue, budget))
      return budget == 0 ? PolicySolver::Answer::kUnknown : PolicySolver::Answer::kUnsat;
    while (true) {
      if (budget == 0) return PolicySolver::Answer::kUnknown;
      --budget;
      int pick = 0;
      for (const auto& c : clauses_) {
        bool sat = false;
        int free = 0;
        for (int l : c) {
          int8_t v = value(l);
          if (v == 1) {
            sat = true;
            break;
          }
          if (v == 0 && free == 0) free = l;
        }
        if (!sat) {
          pick = free;
          break;
        }
      }
      if (pick == 0) return PolicySolver::Answer::kSat;
      decisions.push_back({trail_.size(), pick, false});
      if (enqueue(pick) && propagate(enqueue, budget)) continue;
      if (budget == 0) return PolicySolver::Answer::kUnknown;
      if (!backtrack())
        return budget == 0 ? PolicySolver::Answer::kUnknown : PolicySolver::Answer::kUnsat;
    }
  }

  int8_t var_value(int v) const { return val_[static_cast<size_t>(v)]; }

 private:
  static size_t code(int lit) { return 2 * static_cast<size_t>(std::abs(lit)) + (lit < 0 ? 1 : 0); }
  int8_t value(int lit) const {
    int8_t v = val_[static_cast<size_t>(std::abs(lit))];
    return lit > 0 ? v : static_cast<int8_t>(-v);
  }
  void undo(size_t pos) {
    while (trail_.size() > pos) {
      val_[static_cast<size_t>(std::abs(trail_.back()))] = 0;
      trail_.pop_back();
    }
    qhead_ = std::min(qhead_, pos);
  }

  template <typename Enqueue>
  bool propagate(Enqueue& enqueue, size_t& budget) {
    while (qhead_ < trail_.size()) {
      if (budget == 0) return false;
      --budget;
      int falsified = -trail_[qhead_++];
      auto& ws = watches_[code(falsified)];
      size_t i = 0;
      while (i < ws.size()) {
        auto& c = clauses_[ws[i]];
        if (c[0] == falsified) std::swap(c[0], c[1]);
        if (value(c[0]) == 1) {
          ++i;
          continue;
        }
        bool moved = false;
        for (size_t k = 2; k < c.size(); ++k)
          if (value(c[k]) != -1) {
            std::swap(c[1], c[k]);
            watches_[code(c[1])].push_back(ws[i]);
            ws[i] = ws.back();
            ws.pop_back();
            moved = true;
            break;
          }
        if (moved) continue;
        if (value(c[0]) == -1) return false;
        if (!enqueue(c[0])) return false;
        ++i;
      }
    }
    return true;
  }

  int n_ = 0;
  std::vector<std::vector<int>> clauses_;
  std::vector<int8_t> val_;
  std::vector<std::vector<uint32_t>> watches_;
  std::vector<int> trail_;
  size_t qhead_ = 0;
};

}  // namespace

// ---- the solver -------------------------------------------------------------------

struct PolicySolver::Impl {
  const Policy& p;
  size_t step_budget;
  size_t steps = 0;

  std::vector<FNode> fnodes;
  std::map<std::tuple<FK, uint32_t, std::vector<uint32_t>>, uint32_t> fnode_index;
  std::vector<Atom> atoms;
  std::map<Atom, uint32_t> atom_index;
  std::vector<FdVar> fd_vars;
  std::unordered_map<uint32_t, uint32_t> fd_of_slot;
  std::vector<NumVar> num_vars;
  std::map<std::pair<uint32_t, bool>, uint32_t> num_of_slot;
  std::vector<uint32_t> opaque_nodes;
  std::vector<std::string> elements;  // the set universe: the policy's strings, then fresh ones
  std::map<std::string, uint32_t> element_index;
  std::unordered_map<uint32_t, uint32_t> other_element;  // string slot -> its fresh element
  std::vector<uint32_t> spare_elements;                  // fresh elements for set-vs-set atoms
  std::map<uint32_t, std::set<std::string>> string_domain;
  std::set<uint32_t> strings_in_sets;
  std::vector<std::pair<uint32_t, uint32_t>>
      enc_memo;  // by IR node: (true, false); UINT32_MAX unset
  std::vector<uint32_t> fired_memo;
  int64_t ts_min = 0, ts_max = 0;

  // the last model: per atom, 1 true, -1 false, 0 free
  std::vector<int8_t> model;

  uint32_t kTrueF = 0, kFalseF = 1;

  Impl(const Policy& policy, size_t budget) : p(policy), step_budget(budget) {
    fnodes.push_back({FK::kTrue, 0, {}});
    fnodes.push_back({FK::kFalse, 0, {}});
    enc_memo.assign(p.nodes.size(), {UINT32_MAX, UINT32_MAX});
    fired_memo.assign(p.rules.size(), UINT32_MAX);
    parse_timestamp("0000-01-01", ts_min);
    parse_timestamp("9999-12-31T23:59:59Z", ts_max);
    prescan();
  }

  // ---- formulas ----
  uint32_t make(FK kind, uint32_t atom, std::vector<uint32_t> kids) {
    auto key = std::make_tuple(kind, atom, kids);
    auto it = fnode_index.find(key);
    if (it != fnode_index.end()) return it->second;
    auto id = static_cast<uint32_t>(fnodes.size());
    fnodes.push_back({kind, atom, std::move(kids)});
    fnode_index.emplace(std::move(key), id);
    return id;
  }
  uint32_t atom(Atom a) {
    auto it = atom_index.find(a);
    uint32_t id;
    if (it != atom_index.end()) {
      id = it->second;
    } else {
      id = static_cast<uint32_t>(atoms.size());
      atoms.push_back(a);
      atom_index.emplace(a, id);
      if (a.kind == AK::kEq) fd_vars[a.a].atoms.push_back(id);
      if (a.kind == AK::kLe) num_vars[a.a].atoms.push_back(id);
    }
    return make(FK::kAtom, id, {});
  }
  uint32_t neg(uint32_t f) {
    if (f == kTrueF) return kFalseF;
    if (f == kFalseF) return kTrueF;
    if (fnodes[f].kind == FK::kNot) return fnodes[f].kids[0];
    return make(FK::kNot, 0, {f});
  }
  uint32_t junction(FK kind, const std::vector<uint32_t>& in) {
    uint32_t unit = kind == FK::kAnd ? kTrueF : kFalseF;
    uint32_t zero = kind == FK::kAnd ? kFalseF : kTrueF;
    std::vector<uint32_t> kids;
    for (uint32_t k : in) {
      if (k == zero) return zero;
      if (k == unit) continue;
      if (fnodes[k].kind == kind) {
        kids.insert(kids.end(), fnodes[k].kids.begin(), fnodes[k].kids.end());
      } else {
        kids.push_back(k);
      }
    }
    std::sort(kids.begin(), kids.end());
    kids.erase(std::unique(kids.begin(), kids.end()), kids.end());
    for (uint32_t k : kids)
      if (fnodes[k].kind == FK::kNot &&
          std::binary_search(kids.begin(), kids.end(), fnodes[k].kids[0]))
        return zero;
    if (kids.empty()) return unit;
    if (kids.size() == 1) return kids[0];
    return make(kind, 0, std::move(kids));
  }
  uint32_t conj(std::vector<uint32_t> in) { return junction(FK::kAnd, in); }
  uint32_t disj(std::vector<uint32_t> in) { return junction(FK::kOr, in); }

  // ---- the policy's vocabulary ----
  uint32_t resolve(uint32_t node) const {
    while (p.nodes[node].op == IrOp::kDefine) node = p.defines[p.nodes[node].a].value;
    return node;
  }

  Term term(uint32_t node) const {
    node = resolve(node);
    const IrNode& n = p.nodes[node];
    Term t;
    switch (n.op) {
      case IrOp::kConst:
        t.kind = Term::kConst;
        t.type = n.type;
        if (n.type == ValueType::kString)
          t.text = p.symbol_text(n.imm);
        else
          t.value = n.imm;
        break;
      case IrOp::kConstSet:
        t.kind = Term::kConstSet;
        t.cset = n.a;
        t.elem = n.operand_type;
        break;
      case IrOp::kAttr: {
        const Attribute& a = p.schema.attributes[n.a];
        t.slot = n.a;
        switch (a.type.kind) {
          case ValueType::kInt:
          case ValueType::kTimestamp:
          case ValueType::kDuration:
            t.kind = Term::kNum;
            break;
          case ValueType::kEnum:
            t.kind = Term::kEnum;
            break;
          case ValueType::kString:
            t.kind = Term::kStr;
            break;
          case ValueType::kSet:
            t.kind = Term::kSet;
            break;
          default:
            break;
        }
        break;
      }
      case IrOp::kNow:
        if (p.schema.time_slot >= 0) {
          t.kind = Term::kNum;
          t.slot = static_cast<uint32_t>(p.schema.time_slot);
        }
        break;
      case IrOp::kDaysSince: {
        uint32_t inner = resolve(n.a);
        const IrNode& in = p.nodes[inner];
        if (in.op == IrOp::kAttr && p.schema.attributes[in.a].type.kind == ValueType::kTimestamp &&
            p.schema.time_slot >= 0) {
          t.kind = Term::kNum;
          t.slot = in.a;
          t.days_since = true;
        } else if (in.op == IrOp::kNow) {
          t.kind = Term::kConst;
          t.type = ValueType::kInt;
          t.value = 0;
        }
        break;
      }
      default:
        break;
    }
    return t;
  }

  std::vector<uint32_t> term_reads(const Term& t) const {
    std::vector<uint32_t> r;
    if (t.kind == Term::kNum || t.kind == Term::kEnum || t.kind == Term::kStr ||
        t.kind == Term::kSet) {
      r.push_back(t.slot);
      if (t.days_since) r.push_back(static_cast<uint32_t>(p.schema.time_slot));
    }
    return r;
  }

  void collect_reads(uint32_t node, std::vector<uint32_t>& reads, bool& arith) const {
    const IrNode& n = p.nodes[node];
    switch (n.op) {
      case IrOp::kAttr:
      case IrOp::kIsPresent:
      case IrOp::kIsMissing:
        reads.push_back(n.a);
        break;
      case IrOp::kNow:
        if (p.schema.time_slot >= 0) reads.push_back(static_cast<uint32_t>(p.schema.time_slot));
        break;
      case IrOp::kDefine:
        collect_reads(p.defines[n.a].value, reads, arith);
        break;
      case IrOp::kNot:
      case IrOp::kDaysSince:
        if (n.op == IrOp::kDaysSince && p.schema.time_slot >= 0)
          reads.push_back(static_cast<uint32_t>(p.schema.time_slot));
        collect_reads(n.a, reads, arith);
        break;
      case IrOp::kAnd:
      case IrOp::kOr:
        for (uint32_t k = 0; k < n.b; ++k) collect_reads(p.kids[n.a + k], reads, arith);
        break;
      case IrOp::kAdd:
      case IrOp::kSub:
      case IrOp::kMul:
        arith = true;
        collect_reads(n.a, reads, arith);
        collect_reads(n.b, reads, arith);
        break;
      case IrOp::kEq:
      case IrOp::kNe:
      case IrOp::kLt:
      case IrOp::kLe:
      case IrOp::kGt:
      case IrOp::kGe:
      case IrOp::kIn:
      case IrOp::kHas:
      case IrOp::kHasAny:
      case IrOp::kHasAll:
        collect_reads(n.a, reads, arith);
        collect_reads(n.b, reads, arith);
        break;
      default:
        break;
    }
  }

  uint32_t add_element(const std::string& text) {
    auto it = element_index.find(text);
    if (it != element_index.end()) return it->second;
    auto id = static_cast<uint32_t>(elements.size());
    elements.push_back(text);
    element_index.emplace(text, id);
    return id;
  }
  uint32_t fresh_element() {
    for (int k = 1;; ++k) {
      std::string text = "other-" + std::to_string(k);
      if (element_index.count(text) || p.symbol(text) >= 0) continue;
      return add_element(text);
    }
  }

  // Every string the solver may need, and enough fresh elements for sets.
  void prescan() {
    size_t spare = 1;
    auto const_texts = [&](const Term& t) -> const std::vector<std::string>* {
      if (t.kind == Term::kConstSet && t.elem == ValueType::kString)
        return &p.const_sets[t.cset].texts;
      return nullptr;
    };
    for (uint32_t i = 0; i < p.nodes.size(); ++i) {
      const IrNode& n = p.nodes[i];
      switch (n.op) {
        case IrOp::kEq:
        case IrOp::kNe: {
          if (n.operand_type != ValueType::kString) break;
          Term a = term(n.a), b = term(n.b);
          if (a.kind == Term::kStr && b.kind == Term::kConst) string_domain[a.slot].insert(b.text);
          if (b.kind == Term::kStr && a.kind == Term::kConst) string_domain[b.slot].insert(a.text);
          break;
        }
        case IrOp::kIn:
        case IrOp::kHas: {
          Term x = term(n.op == IrOp::kIn ? n.a : n.b), s = term(n.op == IrOp::kIn ? n.b : n.a);
          if (x.kind == Term::kStr && s.kind == Term::kConstSet)
            if (auto* texts = const_texts(s))
              string_domain[x.slot].insert(texts->begin(), texts->end());
          if (x.kind == Term::kStr && s.kind == Term::kSet) strings_in_sets.insert(x.slot);
          if (x.kind == Term::kConst && x.type == ValueType::kString) add_element(x.text);
          if (auto* texts = const_texts(s))
            for (const auto& t : *texts) add_element(t);
          break;
        }
        case IrOp::kHasAny:
        case IrOp::kHasAll: {
          Term a = term(n.a), b = term(n.b);
          if (auto* texts = const_texts(a))
            for (const auto& t : *texts) add_element(t);
          if (auto* texts = const_texts(b))
            for (const auto& t : *texts) add_element(t);
          if (a.kind != Term::kConstSet || b.kind != Term::kConstSet) ++spare;
          break;
        }
        default:
          break;
      }
    }
    for (uint32_t slot : strings_in_sets)
      for (const auto& t : string_domain[slot]) add_element(t);
    for (uint32_t slot : strings_in_sets) other_element[slot] = fresh_element();
    for (size_t k = 0; k < spare; ++k) spare_elements.push_back(fresh_element());
  }

  uint32_t fd_var(uint32_t slot) {
    auto it = fd_of_slot.find(slot);
    if (it != fd_of_slot.end()) return it->second;
    FdVar v;
    v.slot = slot;
    const Attribute& a = p.schema.attributes[slot];
    v.is_enum = a.type.kind == ValueType::kEnum;
    if (v.is_enum)
      v.enum_size = p.schema.enums[a.type.enum_id].size();
    else {
      const auto& dom = string_domain[slot];
      v.strings.assign(dom.begin(), dom.end());
    }
    auto id = static_cast<uint32_t>(fd_vars.size());
    fd_vars.push_back(std::move(v));
    fd_of_slot.emplace(slot, id);
    return id;
  }

  uint32_t num_var(uint32_t slot, bool days_since) {
    auto key = std::make_pair(slot, days_since);
    auto it = num_of_slot.find(key);
    if (it != num_of_slot.end()) return it->second;
    NumVar v;
    v.slot = slot;
    v.days_since = days_since;
    if (!days_since && p.schema.attributes[slot].type.kind == ValueType::kTimestamp) {
      v.lo = ts_min;
      v.hi = ts_max;
    }
    auto id = static_cast<uint32_t>(num_vars.size());
    num_vars.push_back(v);
    num_of_slot.emplace(key, id);
    return id;
  }

  // ---- atoms ----
  uint32_t present(uint32_t slot) {
    std::vector<uint32_t> parts;
    for (auto at = static_cast<int32_t>(slot); at >= 0;
         at = p.schema.attributes[static_cast<size_t>(at)].parent)
      if (p.schema.attributes[static_cast<size_t>(at)].optional)
        parts.push_back(atom({AK::kPresent, static_cast<uint32_t>(at), 0}));
    return conj(parts);
  }
  uint32_t present_all(const std::vector<uint32_t>& reads) {
    std::vector<uint32_t> parts;
    for (uint32_t s : reads) parts.push_back(present(s));
    return conj(parts);
  }
  uint32_t le(uint32_t var, int64_t c) {
    const NumVar& v = num_vars[var];
    if (c >= v.hi) return kTrueF;
    if (c < v.lo) return kFalseF;
    return atom({AK::kLe, var, c});
  }
  uint32_t lt(uint32_t var, int64_t c) { return c == kMin ? kFalseF : le(var, c - 1); }
  uint32_t num_eq(uint32_t var, int64_t c) { return conj({le(var, c), neg(lt(var, c))}); }
  uint32_t fd_eq(uint32_t var, int64_t value) { return atom({AK::kEq, var, value}); }
  uint32_t string_eq(uint32_t slot, const std::string& text) {
    uint32_t var = fd_var(slot);
    const auto& dom = fd_vars[var].strings;
    auto it = std::lower_bound(dom.begin(), dom.end(), text);
    if (it == dom.end() || *it != text)
      return kFalseF;  // INVARIANT: prescan put every compared constant in the domain
    return fd_eq(var, it - dom.begin());
  }
  uint32_t member(uint32_t set_slot, uint32_t element) {
    return atom({AK::kMember, set_slot, element});
  }

  // `x` (a string attribute) is a member of the set attribute `s`.
  uint32_t string_in_set(uint32_t x, uint32_t s) {
    uint32_t var = fd_var(x);
    std::vector<uint32_t> alts, not_any;
    const auto strings = fd_vars[var].strings;
    for (size_t i = 0; i < strings.size(); ++i) {
      uint32_t eq = fd_eq(var, static_cast<int64_t>(i));
      alts.push_back(conj({eq, member(s, add_element(strings[i]))}));
      not_any.push_back(neg(eq));
    }
    auto other = other_element.find(x);
    if (other != other_element.end()) {
      not_any.push_back(member(s, other->second));
      alts.push_back(conj(not_any));
    }
    return disj(alts);
  }

  uint32_t opaque(uint32_t node) {
    std::vector<uint32_t> reads;
    bool arith = false;
    collect_reads(node, reads, arith);
    auto id = static_cast<uint32_t>(opaque_nodes.size());
    opaque_nodes.push_back(node);
    uint32_t pr = present_all(reads);
    uint32_t t = atom({AK::kOpaqueT, id, 0});
    enc_memo[node].first = conj({pr, t});
    enc_memo[node].second =
        arith ? conj({pr, atom({AK::kOpaqueF, id, 0}), neg(t)}) : conj({pr, neg(t)});
    return node;
  }

  // The formula for "this comparison holds", given that its operands are
  // known, or UINT32_MAX when it is not one the solver understands.
  uint32_t holds(const IrNode& n) {
    Term a = term(n.a), b = term(n.b);
    auto flip = [](IrOp op) {
      switch (op) {
        case IrOp::kLt:
          return IrOp::kGt;
        case IrOp::kLe:
          return IrOp::kGe;
        case IrOp::kGt:
          return IrOp::kLt;
        case IrOp::kGe:
          return IrOp::kLe;
        default:
          return op;
      }
    };
    switch (n.op) {
      case IrOp::kEq:
      case IrOp::kNe:
      case IrOp::kLt:
      case IrOp::kLe:
      case IrOp::kGt:
      case IrOp::kGe: {
        IrOp op = n.op;
        if (a.kind == Term::kConst && b.kind != Term::kConst) {
          std::swap(a, b);
          op = flip(op);
        }
        uint32_t h = UINT32_MAX;
        if (a.kind == Term::kConst && b.kind == Term::kConst) {
          bool eq = a.type == ValueType::kString ? a.text == b.text : a.value == b.value;
          bool r = op == IrOp::kEq   ? eq
                   : op == IrOp::kNe ? !eq
                   : op == IrOp::kLt ? a.value < b.value
                   : op == IrOp::kLe ? a.value <= b.value
                   : op == IrOp::kGt ? a.value > b.value
                                     : a.value >= b.value;
          return r ? kTrueF : kFalseF;
        }
        if (b.kind != Term::kConst) return UINT32_MAX;
        if (a.kind == Term::kNum) {
          uint32_t v = num_var(a.slot, a.days_since);
          int64_t c = b.value;
          switch (op) {
            case IrOp::kEq:
              h = num_eq(v, c);
              break;
            case IrOp::kNe:
              h = neg(num_eq(v, c));
              break;
            case IrOp::kLt:
              h = lt(v, c);
              break;
            case IrOp::kLe:
              h = le(v, c);
              break;
            case IrOp::kGt:
              h = neg(le(v, c));
              break;
            case IrOp::kGe:
              h = neg(lt(v, c));
              break;
            default:
              break;
          }
          return h;
        }
        if (op != IrOp::kEq && op != IrOp::kNe) return UINT32_MAX;
        if (a.kind == Term::kEnum)
          h = fd_eq(fd_var(a.slot), b.value);
        else if (a.kind == Term::kStr)
          h = string_eq(a.slot, b.text);
        else
          return UINT32_MAX;
        return op == IrOp::kEq ? h : neg(h);
      }
      case IrOp::kIn:
      case IrOp::kHas: {
        Term x = n.op == IrOp::kIn ? a : b;
        Term s = n.op == IrOp::kIn ? b : a;
        if (s.kind == Term::kConstSet) {
          const ConstSet& cs = p.const_sets[s.cset];
          std::vector<uint32_t> alts;
          if (x.kind == Term::kConst) {
            bool in =
                x.type == ValueType::kString
                    ? std::find(cs.texts.begin(), cs.texts.end(), x.text) != cs.texts.end()
                    : std::find(cs.symbols.begin(), cs.symbols.end(), x.value) != cs.symbols.end();
            return in ? kTrueF : kFalseF;
          }
          if (x.kind == Term::kEnum) {
            for (int32_t v : cs.symbols) alts.push_back(fd_eq(fd_var(x.slot), v));
          } else if (x.kind == Term::kStr) {
            for (const auto& t : cs.texts) alts.push_back(string_eq(x.slot, t));
          } else if (x.kind == Term::kNum) {
            for (int32_t v : cs.symbols) alts.push_back(num_eq(num_var(x.slot, x.days_since), v));
          } else {
            return UINT32_MAX;
          }
          return disj(alts);
        }
        if (s.kind == Term::kSet) {
          if (x.kind == Term::kConst && x.type == ValueType::kString)
            return member(s.slot, add_element(x.text));
          if (x.kind == Term::kStr) return string_in_set(x.slot, s.slot);
        }
        return UINT32_MAX;
      }
      case IrOp::kHasAny:
      case IrOp::kHasAll: {
        bool any = n.op == IrOp::kHasAny;
        auto texts = [&](const Term& t) { return p.const_sets[t.cset].texts; };
        if (a.kind == Term::kConstSet && b.kind == Term::kConstSet) {
          auto ta = texts(a), tb = texts(b);
          bool r = !any;
          for (const auto& t : tb) {
            bool in = std::find(ta.begin(), ta.end(), t) != ta.end();
            if (any && in) r = true;
            if (!any && !in) r = false;
          }
          return r ? kTrueF : kFalseF;
        }
        std::vector<uint32_t> parts;
        if (a.kind == Term::kSet && b.kind == Term::kConstSet) {
          for (const auto& t : texts(b)) parts.push_back(member(a.slot, add_element(t)));
        } else if (a.kind == Term::kConstSet && b.kind == Term::kSet) {
          auto ta = texts(a);
          for (uint32_t e = 0; e < elements.size(); ++e) {
            bool in_a = std::find(ta.begin(), ta.end(), elements[e]) != ta.end();
            if (any && in_a) parts.push_back(member(b.slot, e));
            if (!any && !in_a) parts.push_back(neg(member(b.slot, e)));
          }
        } else if (a.kind == Term::kSet && b.kind == Term::kSet) {
          for (uint32_t e = 0; e < elements.size(); ++e) {
            if (any)
              parts.push_back(conj({member(a.slot, e), member(b.slot, e)}));
            else
              parts.push_back(disj({neg(member(b.slot, e)), member(a.slot, e)}));
          }
        } else {
          return UINT32_MAX;
        }
        return any ? disj(parts) : conj(parts);
      }
      default:
        return UINT32_MAX;
    }
  }

  // (true, false) formulas of a boolean IR node.
  std::pair<uint32_t, uint32_t> enc(uint32_t node) {
    if (enc_memo[node].first != UINT32_MAX) return enc_memo[node];
    const IrNode& n = p.nodes[node];
    std::pair<uint32_t, uint32_t> r{UINT32_MAX, UINT32_MAX};
    switch (n.op) {
      case IrOp::kConst:
        if (n.type == ValueType::kBool)
          r = n.imm ? std::make_pair(kTrueF, kFalseF) : std::make_pair(kFalseF, kTrueF);
        break;
      case IrOp::kAttr:
        if (p.schema.attributes[n.a].type.kind == ValueType::kBool) {
          uint32_t pr = present(n.a), v = atom({AK::kBool, n.a, 0});
          r = {conj({pr, v}), conj({pr, neg(v)})};
        }
        break;
      case IrOp::kDefine:
        r = enc(p.defines[n.a].value);
        break;
      case IrOp::kNot: {
        auto k = enc(n.a);
        r = {k.second, k.first};
        break;
      }
      case IrOp::kAnd:
      case IrOp::kOr: {
        std::vector<uint32_t> ts, fs;
        for (uint32_t k = 0; k < n.b; ++k) {
          auto e = enc(p.kids[n.a + k]);
          ts.push_back(e.first);
          fs.push_back(e.second);
        }
        r = n.op == IrOp::kAnd ? std::make_pair(conj(ts), disj(fs))
                               : std::make_pair(disj(ts), conj(fs));
        break;
      }
      case IrOp::kIsPresent:
      case IrOp::kIsMissing: {
        uint32_t pr = present(n.a);
        r = n.op == IrOp::kIsPresent ? std::make_pair(pr, neg(pr)) : std::make_pair(neg(pr), pr);
        break;
      }
      case IrOp::kEq:
      case IrOp::kNe:
        if (n.operand_type == ValueType::kBool) {
          auto x = enc(n.a), y = enc(n.b);
          uint32_t same = disj({conj({x.first, y.first}), conj({x.second, y.second})});
          uint32_t differ = disj({conj({x.first, y.second}), conj({x.second, y.first})});
          r = n.op == IrOp::kEq ? std::make_pair(same, differ) : std::make_pair(differ, same);
          break;
        }
        [[fallthrough]];
      case IrOp::kLt:
      case IrOp::kLe:
      case IrOp::kGt:
      case IrOp::kGe:
      case IrOp::kIn:
      case IrOp::kHas:
      case IrOp::kHasAny:
      case IrOp::kHasAll: {
        uint32_t h = holds(n);
        if (h == UINT32_MAX) break;
        std::vector<uint32_t> reads = term_reads(term(n.a));
        for (uint32_t s : term_reads(term(n.b))) reads.push_back(s);
        uint32_t pr = present_all(reads);
        r = {conj({pr, h}), conj({pr, neg(h)})};
        break;
      }
      default:
        break;
    }
    if (r.first == UINT32_MAX) {
      opaque(node);
      return enc_memo[node];
    }
    enc_memo[node] = r;
    return r;
  }

  // ---- rule statuses ----
  uint32_t guard(uint32_t rule, bool value) {
    const Module& m = p.modules[p.rules[rule].module];
    if (!m.applies) return value ? kTrueF : kFalseF;
    auto e = enc(*m.applies);
    return value ? e.first : e.second;
  }
  uint32_t cond_true(uint32_t rule) {
    return conj({guard(rule, true), enc(p.rules[rule].condition).first});
  }
  uint32_t cond_false(uint32_t rule) {
    return disj({guard(rule, false), enc(p.rules[rule].condition).second});
  }
  uint32_t no_overrider_fires(uint32_t rule) {
    std::vector<uint32_t> parts;
    for (uint32_t y : p.rules[rule].overridden_by) parts.push_back(neg(fired(y)));
    return conj(parts);
  }
  uint32_t fired(uint32_t rule) {
    if (fired_memo[rule] != UINT32_MAX) return fired_memo[rule];
    uint32_t f = conj({cond_true(rule), no_overrider_fires(rule)});
    fired_memo[rule] = f;
    return f;
  }
  uint32_t blocks(uint32_t rule) { return conj({neg(cond_false(rule)), no_overrider_fires(rule)}); }
  uint32_t overridden(uint32_t rule) {
    return conj({neg(cond_false(rule)), neg(no_overrider_fires(rule))});
  }

  // ---- solving ----
  PolicySolver::Answer solve(const std::vector<uint32_t>& parts) {
    model.assign(atoms.size(), 0);
    std::vector<uint32_t> roots;
    for (uint32_t f : parts) {
      if (f == kFalseF) return PolicySolver::Answer::kUnsat;
      if (f != kTrueF) roots.push_back(f);
    }
    // Tseitin: one variable per atom and per gate reachable from the roots.
    std::unordered_map<uint32_t, int> var_of_fnode;
    std::vector<int> atom_of_var{-1};
    std::vector<int> var_of_atom(atoms.size(), 0);
    std::vector<std::vector<int>> clauses;
    std::function<int(uint32_t)> lit = [&](uint32_t f) -> int {
      const FNode& fn = fnodes[f];
      if (fn.kind == FK::kNot) return -lit(fn.kids[0]);
      auto it = var_of_fnode.find(f);
      if (it != var_of_fnode.end()) return it->second;
      int v = static_cast<int>(atom_of_var.size());
      atom_of_var.push_back(fn.kind == FK::kAtom ? static_cast<int>(fn.atom) : -1);
      var_of_fnode.emplace(f, v);
      if (fn.kind == FK::kAtom) var_of_atom[fn.atom] = v;
      if (fn.kind == FK::kTrue) clauses.push_back({v});
      if (fn.kind == FK::kFalse) clauses.push_back({-v});
      if (fn.kind == FK::kAnd || fn.kind == FK::kOr) {
        std::vector<int> kl;
        for (uint32_t k : fn.kids) kl.push_back(lit(k));
        bool is_and = fn.kind == FK::kAnd;
        std::vector<int> big{is_and ? v : -v};
        for (int l : kl) {
          clauses.push_back(is_and ? std::vector<int>{-v, l} : std::vector<int>{v, -l});
          big.push_back(is_and ? -l : l);
        }
        clauses.push_back(std::move(big));
      }
      return v;
    };
    for (uint32_t r : roots) clauses.push_back({lit(r)});
    int nvars = static_cast<int>(atom_of_var.size()) - 1;
    Dpll dpll;
    size_t budget = step_budget;
    auto check = [&](int v) {
      int a = atom_of_var[static_cast<size_t>(v)];
      if (a < 0) return true;
      const Atom& at = atoms[static_cast<size_t>(a)];
      if (at.kind == AK::kEq) return fd_consistent(fd_vars[at.a], var_of_atom, dpll);
      if (at.kind == AK::kLe) return num_consistent(num_vars[at.a], var_of_atom, dpll);
      return true;
    };
    PolicySolver::Answer ans = dpll.run(nvars, std::move(clauses), budget, check);
    steps += step_budget - budget;
    if (ans == PolicySolver::Answer::kSat)
      for (size_t a = 0; a < atoms.size(); ++a)
        if (var_of_atom[a]) model[a] = dpll.var_value(var_of_atom[a]);
    return ans;
  }

  bool fd_consistent(const FdVar& v, const std::vector<int>& var_of_atom, const Dpll& d) const {
    int64_t chosen = -1;
    size_t excluded = 0;
    for (uint32_t a : v.atoms) {
      int sv = var_of_atom[a];
      if (!sv) continue;
      int8_t val = d.var_value(sv);
      if (val == 1) {
        if (chosen >= 0 && chosen != atoms[a].b) return false;
        chosen = atoms[a].b;
      } else if (val == -1) {
        ++excluded;
      }
    }
    if (chosen < 0 && v.is_enum && excluded >= v.enum_size) return false;
    return true;
  }

  bool num_consistent(const NumVar& v, const std::vector<int>& var_of_atom, const Dpll& d) const {
    int64_t lo = v.lo, hi = v.hi;
    for (uint32_t a : v.atoms) {
      int sv = var_of_atom[a];
      if (!sv) continue;
      int8_t val = d.var_value(sv);
      int64_t c = atoms[a].b;
      if (val == 1) hi = std::min(hi, c);
      if (val == -1) lo = std::max(lo, c + 1);  // INVARIANT: c < hi <= kMax (le() folds the rest)
    }
    return lo <= hi;
  }

  // ---- the witness ----
  std::pair<int64_t, int64_t> interval(const NumVar& v) const {
    int64_t lo = v.lo, hi = v.hi;
    for (uint32_t a : v.atoms) {
      if (model[a] == 1) hi = std::min(hi, atoms[a].b);
      if (model[a] == -1) lo = std::max(lo, atoms[a].b + 1);
    }
    return {lo, hi};
  }
  static int64_t clamp(int64_t x, std::pair<int64_t, int64_t> r) {
    return std::max(r.first, std::min(r.second, x));
  }
  static int64_t floor_div(int64_t a, int64_t b) {
    int64_t q = a / b;
    return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
  }
  static int64_t ceil_div(int64_t a, int64_t b) { return -floor_div(-a, b); }

  std::string other_text(uint32_t slot) const {
    auto it = other_element.find(slot);
    if (it != other_element.end()) return elements[it->second];
    for (int k = 0;; ++k) {
      std::string t = k == 0 ? "example" : "example-" + std::to_string(k);
      if (p.symbol(t) < 0) return t;
    }
  }

  std::string witness() const {
    int64_t time = 0;
    parse_timestamp("2026-01-01", time);
    if (p.schema.time_slot >= 0) {
      auto it = num_of_slot.find({static_cast<uint32_t>(p.schema.time_slot), false});
      if (it != num_of_slot.end()) time = clamp(time, interval(num_vars[it->second]));
    }
    std::function<nlohmann::ordered_json(uint32_t)> value =
        [&](uint32_t slot) -> nlohmann::ordered_json {
      const Attribute& a = p.schema.attributes[slot];
      switch (a.type.kind) {
        case ValueType::kRecord: {
          nlohmann::ordered_json obj = nlohmann::ordered_json::object();
          for (uint32_t c : a.children)
            if (is_present(c)) obj[p.schema.attributes[c].name] = value(c);
          return obj;
        }
        case ValueType::kBool:
          return model_of({AK::kBool, slot, 0}) == 1;
        case ValueType::kEnum: {
          const auto& names = p.schema.enums[a.type.enum_id];
          auto it = fd_of_slot.find(slot);
          if (it == fd_of_slot.end()) return names.at(0);
          const FdVar& v = fd_vars[it->second];
          std::vector<bool> out(names.size(), false);
          for (uint32_t at : v.atoms) {
            if (model[at] == 1) return names.at(static_cast<size_t>(atoms[at].b));
            if (model[at] == -1) out[static_cast<size_t>(atoms[at].b)] = true;
          }
          for (size_t i = 0; i < names.size(); ++i)
            if (!out[i]) return names[i];
          return names.at(0);
        }
        case ValueType::kString: {
          auto it = fd_of_slot.find(slot);
          if (it != fd_of_slot.end()) {
            const FdVar& v = fd_vars[it->second];
            for (uint32_t at : v.atoms)
              if (model[at] == 1) return v.strings.at(static_cast<size_t>(atoms[at].b));
          }
          if (static_cast<int32_t>(slot) == p.schema.request_id_slot) return "lint-witness";
          return other_text(slot);
        }
        case ValueType::kInt:
        case ValueType::kDuration: {
          auto it = num_of_slot.find({slot, false});
          if (it == num_of_slot.end()) return 0;
          return clamp(0, interval(num_vars[it->second]));
        }
        case ValueType::kTimestamp: {
          if (static_cast<int32_t>(slot) == p.schema.time_slot) return format_timestamp(time);
          std::pair<int64_t, int64_t> own{ts_min, ts_max};
          auto it = num_of_slot.find({slot, false});
          if (it != num_of_slot.end()) own = interval(num_vars[it->second]);
          auto ds = num_of_slot.find({slot, true});
          int64_t t = clamp(time, own);
          if (ds != num_of_slot.end()) {
            // days_since(t) = floor((time - t) / 86400): whole days back from `time`, within t's
            // own range.
            auto days = interval(num_vars[ds->second]);
            int64_t lo = std::max(days.first, ceil_div(time - own.second, 86400));
            int64_t hi = std::min(days.second, floor_div(time - own.first, 86400));
            int64_t d = lo > hi ? clamp(0, days) : clamp(0, {lo, hi});
            d = std::max<int64_t>(-4000000, std::min<int64_t>(4000000, d));  // stays a real date
            t = time - d * 86400;
          }
          return format_timestamp(t);
        }
        case ValueType::kSet: {
          nlohmann::ordered_json arr = nlohmann::ordered_json::array();
          std::vector<std::string> members;
          for (uint32_t e = 0; e < elements.size(); ++e)
            if (model_of({AK::kMember, slot, e}) == 1) members.push_back(elements[e]);
          std::sort(members.begin(), members.end());
          for (const auto& m : members) arr.push_back(m);
          return arr;
        }
        default:
          return nullptr;
      }
    };
    nlohmann::ordered_json root = nlohmann::ordered_json::object();
    for (uint32_t s : p.schema.top_level)
      if (is_present(s)) root[p.schema.attributes[s].name] = value(s);
    return root.dump();
  }

  int8_t model_of(const Atom& a) const {
    auto it = atom_index.find(a);
    if (it == atom_index.end() || it->second >= model.size()) return 0;
    return model[it->second];
  }
  bool is_present(uint32_t slot) const {
    if (!p.schema.attributes[slot].optional) return true;
    return model_of({AK::kPresent, slot, 0}) != -1;
  }
};

PolicySolver::PolicySolver(const Policy& policy, size_t step_budget)
    : impl_(std::make_unique<Impl>(policy, step_budget)) {}
PolicySolver::~PolicySolver() = default;

PolicySolver::Formula PolicySolver::truth(uint32_t n) { return impl_->enc(n).first; }
PolicySolver::Formula PolicySolver::falsity(uint32_t n) { return impl_->enc(n).second; }
PolicySolver::Formula PolicySolver::condition_true(uint32_t r) { return impl_->cond_true(r); }
PolicySolver::Formula PolicySolver::condition_false(uint32_t r) { return impl_->cond_false(r); }
PolicySolver::Formula PolicySolver::fired(uint32_t r) { return impl_->fired(r); }
PolicySolver::Formula PolicySolver::blocks(uint32_t r) { return impl_->blocks(r); }
PolicySolver::Formula PolicySolver::overridden(uint32_t r) { return impl_->overridden(r); }
PolicySolver::Formula PolicySolver::all(const std::vector<Formula>& parts) {
  return impl_->conj(parts);
}
PolicySolver::Formula PolicySolver::any(const std::vector<Formula>& parts) {
  return impl_->disj(parts);
}
PolicySolver::Formula PolicySolver::negate(Formula f) { return impl_->neg(f); }
PolicySolver::Answer PolicySolver::solve(const std::vector<Formula>& parts) {
  return impl_->solve(parts);
}
std::string PolicySolver::witness() const { return impl_->witness(); }
size_t PolicySolver::steps_used() const { return impl_->steps; }

std::vector<size_t> PolicySolver::core(const std::vector<Formula>& parts,
                                       const std::vector<size_t>& candidates) {
  std::vector<bool> keep(parts.size(), true);
  for (size_t c : candidates) {
    keep[c] = false;
    std::vector<Formula> trial;
    for (size_t i = 0; i < parts.size(); ++i)
      if (keep[i]) trial.push_back(parts[i]);
    if (impl_->solve(trial) != Answer::kUnsat) keep[c] = true;
  }
  std::vector<size_t> out;
  for (size_t i = 0; i < parts.size(); ++i)
    if (keep[i]) out.push_back(i);
  return out;
}

std::vector<PolicySolver::Conjunct> PolicySolver::conjuncts(uint32_t node, bool value) const {
  const Policy& p = impl_->p;
  const IrNode& n = p.nodes[node];
  std::vector<Conjunct> out;
  if (n.op == IrOp::kDefine && p.defines[n.a].type.kind == ValueType::kBool)
    return conjuncts(p.defines[n.a].value, value);
  if (n.op == IrOp::kNot) return conjuncts(n.a, !value);
  if ((n.op == IrOp::kAnd && value) || (n.op == IrOp::kOr && !value)) {
    for (uint32_t k = 0; k < n.b; ++k) {
      auto sub = conjuncts(p.kids[n.a + k], value);
      out.insert(out.end(), sub.begin(), sub.end());
    }
    return out;
  }
  if (n.op == IrOp::kConst && n.type == ValueType::kBool && (n.imm != 0) == value)
    return out;  // trivially holds
  out.push_back({node, value});
  return out;
}

// ---- IR as text ------------------------------------------------------------------

namespace {

std::string duration_text(int64_t s) {
  auto unit = [](int64_t n, const char* one) {
    return std::to_string(n) + " " + one + (n == 1 ? "" : "s");
  };
  if (s != 0 && s % (7 * 86400) == 0) return unit(s / (7 * 86400), "week");
  if (s != 0 && s % 86400 == 0) return unit(s / 86400, "day");
  if (s != 0 && s % 3600 == 0) return unit(s / 3600, "hour");
  if (s != 0 && s % 60 == 0) return unit(s / 60, "minute");
  return unit(s, "second");
}

std::string quote(const std::string& s) { return nlohmann::json(s).dump(); }

// Precedence: or 1, and 2, not 3, comparison 4, + - 5, * 6, atoms 7.
std::string text(const Policy& p, uint32_t id, int& prec) {
  const IrNode& n = p.nodes[id];
  prec = 7;
  auto sub = [&](uint32_t k, int min) {
    int kp;
    std::string s = text(p, k, kp);
    return kp < min ? "(" + s + ")" : s;
  };
  switch (n.op) {
    case IrOp::kConst:
      if (n.param >= 0) return p.params[static_cast<size_t>(n.param)].id;
      switch (n.type) {
        case ValueType::kBool:
          return n.imm ? "true" : "false";
        case ValueType::kInt:
          return std::to_string(n.imm);
        case ValueType::kTimestamp:
          return quote(format_timestamp(n.imm));
        case ValueType::kDuration:
          return duration_text(n.imm);
        case ValueType::kEnum:
          return p.schema.enums.at(n.a).at(static_cast<size_t>(n.imm));
        case ValueType::kString:
          return quote(p.symbol_text(n.imm));
        default:
          return "?";
      }
    case IrOp::kConstSet: {
      if (n.param >= 0) return p.params[static_cast<size_t>(n.param)].id;
      const ConstSet& cs = p.const_sets[n.a];
      std::string s = "[";
      for (size_t i = 0; i < cs.symbols.size(); ++i) {
        if (i) s += ", ";
        if (!cs.texts.empty())
          s += quote(cs.texts[i]);
        else if (n.operand_type == ValueType::kEnum)
          s += p.schema.enums.at(n.b).at(static_cast<size_t>(cs.symbols[i]));
        else
          s += std::to_string(cs.symbols[i]);
      }
      return s + "]";
    }
    case IrOp::kAttr:
      return p.schema.attributes[n.a].path;
    case IrOp::kDefine:
      return p.defines[n.a].id;
    case IrOp::kNow:
      return "now";
    case IrOp::kNot:
      prec = 3;
      return "not " + sub(n.a, 3);
    case IrOp::kAnd:
    case IrOp::kOr: {
      prec = n.op == IrOp::kAnd ? 2 : 1;
      std::string s;
      for (uint32_t k = 0; k < n.b; ++k) {
        if (k) s += n.op == IrOp::kAnd ? " and " : " or ";
        s += sub(p.kids[n.a + k], prec);
      }
      return s;
    }
    case IrOp::kIsPresent:
      prec = 4;
      return p.schema.attributes[n.a].path + " is present";
    case IrOp::kIsMissing:
      prec = 4;
      return p.schema.attributes[n.a].path + " is missing";
    case IrOp::kDaysSince: {
      int kp;
      return "days_since(" + text(p, n.a, kp) + ")";
    }
    case IrOp::kAdd:
    case IrOp::kSub:
      prec = 5;
      return sub(n.a, 5) + (n.op == IrOp::kAdd ? " + " : " - ") + sub(n.b, 6);
    case IrOp::kMul:
      prec = 6;
      return sub(n.a, 6) + " * " + sub(n.b, 7);
    default: {
      const char* op = "?";
      switch (n.op) {
        case IrOp::kEq:
          op = "==";
          break;
        case IrOp::kNe:
          op = "!=";
          break;
        case IrOp::kLt:
          op = "<";
          break;
        case IrOp::kLe:
          op = "<=";
          break;
        case IrOp::kGt:
          op = ">";
          break;
        case IrOp::kGe:
          op = ">=";
          break;
        case IrOp::kIn:
          op = "in";
          break;
        case IrOp::kHas:
          op = "has";
          break;
        case IrOp::kHasAny:
          op = "has_any";
          break;
        case IrOp::kHasAll:
          op = "has_all";
          break;
        default:
          break;
      }
      prec = 4;
      return sub(n.a, 5) + " " + op + " " + sub(n.b, 5);
    }
  }
}

}  // namespace

std::string ir_text(const Policy& policy, uint32_t node) {
  int prec;
  return text(policy, node, prec);
}

}  // namespace ethos
