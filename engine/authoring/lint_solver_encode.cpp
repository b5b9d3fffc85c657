// PolicySolver::Impl's encoding of IR as formulas: the policy's vocabulary, its atoms, enc().
#include <ethos/authoring/lint_solver_impl.hpp>

#include <algorithm>

#include <ethos/check/check.hpp>

namespace ethos {

// ---- the policy's vocabulary ----

uint32_t PolicySolver::Impl::resolve(uint32_t node) const {
  while (p.nodes[node].op == IrOp::kDefine) node = p.defines[p.nodes[node].a].value;
  return node;
}

PolicySolver::Impl::Term PolicySolver::Impl::term(uint32_t node) const {
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

std::vector<uint32_t> PolicySolver::Impl::term_reads(const Term& t) const {
  std::vector<uint32_t> r;
  if (t.kind == Term::kNum || t.kind == Term::kEnum || t.kind == Term::kStr ||
      t.kind == Term::kSet) {
    r.push_back(t.slot);
    if (t.days_since) r.push_back(static_cast<uint32_t>(p.schema.time_slot));
  }
  return r;
}

void PolicySolver::Impl::collect_reads(uint32_t node, std::vector<uint32_t>& reads,
                                       bool& arith) const {
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
    default:
      if (n.op == IrOp::kDaysSince && p.schema.time_slot >= 0)
        reads.push_back(static_cast<uint32_t>(p.schema.time_slot));
      if (n.op == IrOp::kAdd || n.op == IrOp::kSub || n.op == IrOp::kMul) arith = true;
      for_each_child(p, n, [&](uint32_t k) { collect_reads(k, reads, arith); });
      break;
  }
}

uint32_t PolicySolver::Impl::add_element(const std::string& text) {
  auto it = element_index.find(text);
  if (it != element_index.end()) return it->second;
  auto id = static_cast<uint32_t>(elements.size());
  elements.push_back(text);
  element_index.emplace(text, id);
  return id;
}

uint32_t PolicySolver::Impl::fresh_element() {
  for (int k = 1;; ++k) {
    std::string text = "other-" + std::to_string(k);
    if (element_index.count(text) || p.symbol(text) >= 0) continue;
    return add_element(text);
  }
}

void PolicySolver::Impl::prescan() {
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

uint32_t PolicySolver::Impl::fd_var(uint32_t slot) {
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

uint32_t PolicySolver::Impl::num_var(uint32_t slot, bool days_since) {
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

uint32_t PolicySolver::Impl::present(uint32_t slot) {
  std::vector<uint32_t> parts;
  for (auto at = static_cast<int32_t>(slot); at >= 0;
       at = p.schema.attributes[static_cast<size_t>(at)].parent)
    if (p.schema.attributes[static_cast<size_t>(at)].optional)
      parts.push_back(atom({AK::kPresent, static_cast<uint32_t>(at), 0}));
  return conj(parts);
}

uint32_t PolicySolver::Impl::present_all(const std::vector<uint32_t>& reads) {
  std::vector<uint32_t> parts;
  for (uint32_t s : reads) parts.push_back(present(s));
  return conj(parts);
}

uint32_t PolicySolver::Impl::le(uint32_t var, int64_t c) {
  const NumVar& v = num_vars[var];
  if (c >= v.hi) return kTrueF;
  if (c < v.lo) return kFalseF;
  return atom({AK::kLe, var, c});
}

uint32_t PolicySolver::Impl::lt(uint32_t var, int64_t c) {
  return c == kMin ? kFalseF : le(var, c - 1);
}

uint32_t PolicySolver::Impl::num_eq(uint32_t var, int64_t c) {
  return conj({le(var, c), neg(lt(var, c))});
}

uint32_t PolicySolver::Impl::fd_eq(uint32_t var, int64_t value) {
  return atom({AK::kEq, var, value});
}

uint32_t PolicySolver::Impl::string_eq(uint32_t slot, const std::string& text) {
  uint32_t var = fd_var(slot);
  const auto& dom = fd_vars[var].strings;
  auto it = std::lower_bound(dom.begin(), dom.end(), text);
  if (it == dom.end() || *it != text)
    return kFalseF;  // INVARIANT: prescan put every compared constant in the domain
  return fd_eq(var, it - dom.begin());
}

uint32_t PolicySolver::Impl::member(uint32_t set_slot, uint32_t element) {
  return atom({AK::kMember, set_slot, element});
}

uint32_t PolicySolver::Impl::string_in_set(uint32_t x, uint32_t s) {
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

uint32_t PolicySolver::Impl::opaque(uint32_t node) {
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

uint32_t PolicySolver::Impl::holds(const IrNode& n) {
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

std::pair<uint32_t, uint32_t> PolicySolver::Impl::enc(uint32_t node) {
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

}  // namespace ethos
