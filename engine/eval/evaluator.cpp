#include <ethos/eval/evaluator.hpp>

#include <algorithm>

namespace ethos {
namespace {

// Kleene three-valued logic.
enum Tri : uint8_t { kF = 0, kT = 1, kU = 2 };

Tri tri_and(Tri a, Tri b) {
  if (a == kF || b == kF) return kF;
  if (a == kU || b == kU) return kU;
  return kT;
}

Tri tri_not(Tri a) { return a == kU ? kU : (a == kT ? kF : kT); }

struct SetRef {
  const int32_t* symbols = nullptr;
  size_t count = 0;
  const std::string_view* others = nullptr;
  size_t other_count = 0;

  bool contains_symbol(int32_t s) const { return std::binary_search(symbols, symbols + count, s); }
  bool contains_other(std::string_view t) const {
    return std::find(others, others + other_count, t) != others + other_count;
  }
};

int64_t floor_div(int64_t a, int64_t b) {
  int64_t q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
  return q;
}

}  // namespace

struct Evaluator::Scratch {
  uint32_t generation = 0;
  std::vector<uint32_t> define_generation;
  std::vector<uint8_t> define_known;
  std::vector<Value> define_value;
  std::vector<uint32_t> module_generation;
  std::vector<uint8_t> module_applies;
  // Candidates, by rank: bit r of words[r / 64], and bit w % 64 of
  // summary[w / 64] when words[w] is not zero. Both are all zero between calls.
  std::vector<uint64_t> words;
  std::vector<uint64_t> summary;
};

namespace {

class Run {
 public:
  Run(const Policy& p, const BoundRequest& r, Evaluator* /*unused*/, std::vector<uint32_t>& dgen,
      std::vector<uint8_t>& dknown, std::vector<Value>& dval, uint32_t gen)
      : p_(p),
        r_(r),
        code_(p.program.code.data()),
        dgen_(dgen),
        dknown_(dknown),
        dval_(dval),
        gen_(gen) {}

  Tri tri(uint32_t id) {
    const IrNode& n = p_.nodes[id];
    switch (n.op) {
      case IrOp::kConst:
        return n.imm ? kT : kF;
      case IrOp::kAttr:
        return r_.present[n.a] ? (r_.values[n.a].num ? kT : kF) : kU;
      case IrOp::kDefine: {
        Value v;
        if (!define_value(n.a, v)) return kU;
        return v.num ? kT : kF;
      }
      case IrOp::kNot:
        return tri_not(tri(n.a));
      case IrOp::kAnd: {
        Tri acc = kT;
        for (uint32_t k = 0; k < n.b; ++k) {
          Tri t = tri(p_.kids[n.a + k]);
          if (t == kF) return kF;
          if (t == kU) acc = kU;
        }
        return acc;
      }
      case IrOp::kOr: {
        Tri acc = kF;
        for (uint32_t k = 0; k < n.b; ++k) {
          Tri t = tri(p_.kids[n.a + k]);
          if (t == kT) return kT;
          if (t == kU) acc = kU;
        }
        return acc;
      }
      case IrOp::kIsPresent:
        return r_.present[n.a] ? kT : kF;
      case IrOp::kIsMissing:
        return r_.present[n.a] ? kF : kT;
      case IrOp::kEq:
      case IrOp::kNe: {
        Value a, b;
        if (!val(n.a, a) || !val(n.b, b)) return kU;
        bool eq;
        if (n.operand_type == ValueType::kString)
          eq = string_eq(a, b);
        else
          eq = a.num == b.num;
        return (eq == (n.op == IrOp::kEq)) ? kT : kF;
      }
      case IrOp::kLt:
      case IrOp::kLe:
      case IrOp::kGt:
      case IrOp::kGe: {
        Value a, b;
        if (!val(n.a, a) || !val(n.b, b)) return kU;
        bool res = n.op == IrOp::kLt   ? a.num < b.num
                   : n.op == IrOp::kLe ? a.num <= b.num
                   : n.op == IrOp::kGt ? a.num > b.num
                                       : a.num >= b.num;
        return res ? kT : kF;
      }
      case IrOp::kIn: {
        Value x;
        SetRef s;
        if (!val(n.a, x) || !set(n.b, s)) return kU;
        return member(x, s, n.operand_type) ? kT : kF;
      }
      case IrOp::kHas: {
        Value x;
        SetRef s;
        if (!set(n.a, s) || !val(n.b, x)) return kU;
        return member(x, s, ValueType::kString) ? kT : kF;
      }
      case IrOp::kHasAny:
      case IrOp::kHasAll: {
        SetRef a, b;
        if (!set(n.a, a) || !set(n.b, b)) return kU;
        bool any = n.op == IrOp::kHasAny;
        for (size_t i = 0; i < b.count; ++i)
          if (a.contains_symbol(b.symbols[i]) == any) return any ? kT : kF;
        for (size_t i = 0; i < b.other_count; ++i)
          if (a.contains_other(b.others[i]) == any) return any ? kT : kF;
        return any ? kF : kT;
      }
      default: {
        Value v;
        if (!val(id, v)) return kU;
        return v.num ? kT : kF;
      }
    }
  }

  // Runs the program subtree at `pc` (Program in policy.hpp).
  // A leaf instruction (an operator up to kHasAll); inlined into the loops
  // of and/or, so a condition of plain comparisons runs without calls.
  [[gnu::always_inline]] Tri leaf(const PcInst& in) {
    switch (in.op) {
      case PcOp::kFalse:
        return kF;
      case PcOp::kTrue:
        return kT;
      case PcOp::kFlag:
        return r_.present[in.a] ? (r_.values[in.a].num ? kT : kF) : kU;
      case PcOp::kPresent:
        return r_.present[in.a] ? kT : kF;
      case PcOp::kMissing:
        return r_.present[in.a] ? kF : kT;
      case PcOp::kEq:
        return r_.present[in.a] ? (r_.values[in.a].num == in.imm ? kT : kF) : kU;
      case PcOp::kNe:
        return r_.present[in.a] ? (r_.values[in.a].num != in.imm ? kT : kF) : kU;
      case PcOp::kLt:
        return r_.present[in.a] ? (r_.values[in.a].num < in.imm ? kT : kF) : kU;
      case PcOp::kLe:
        return r_.present[in.a] ? (r_.values[in.a].num <= in.imm ? kT : kF) : kU;
      case PcOp::kGt:
        return r_.present[in.a] ? (r_.values[in.a].num > in.imm ? kT : kF) : kU;
      case PcOp::kGe:
        return r_.present[in.a] ? (r_.values[in.a].num >= in.imm ? kT : kF) : kU;
      case PcOp::kIn: {
        if (!r_.present[in.a]) return kU;
        const std::vector<int32_t>& s = p_.const_sets[in.b].symbols;
        const int64_t x = r_.values[in.a].num;
        return std::binary_search(s.begin(), s.end(), x) ? kT : kF;
      }
      case PcOp::kHas: {
        if (!r_.present[in.a]) return kU;
        const std::vector<int32_t>& s = r_.sets[r_.values[in.a].set].symbols;
        return std::binary_search(s.begin(), s.end(), in.imm) ? kT : kF;
      }
      case PcOp::kHasAny:
      case PcOp::kHasAll: {
        if (!r_.present[in.a]) return kU;
        const std::vector<int32_t>& have = r_.sets[r_.values[in.a].set].symbols;
        const std::vector<int32_t>& want = p_.const_sets[in.b].symbols;
        const bool any = in.op == PcOp::kHasAny;
        for (int32_t w : want)
          if (std::binary_search(have.begin(), have.end(), w) == any) return any ? kT : kF;
        return any ? kF : kT;
      }
      default:
        return kU;  // not a leaf: exec() never sends one here
    }
  }

  Tri exec(uint32_t pc) {
    const PcInst& in = code_[pc];
    if (in.op <= PcOp::kHasAll) return leaf(in);
    switch (in.op) {
      case PcOp::kDefine: {
        const uint32_t d = in.a;
        if (dgen_[d] != gen_) {
          Tri t = exec(p_.program.define[d]);
          dgen_[d] = gen_;
          dknown_[d] = t != kU;
          if (t != kU) dval_[d].num = t == kT;
        }
        return dknown_[d] ? (dval_[d].num ? kT : kF) : kU;
      }
      case PcOp::kNot:
        return tri_not(exec(pc + 1));
      case PcOp::kAnd: {
        Tri acc = kT;
        uint32_t at = pc + 1;
        for (uint32_t k = 0; k < in.a; ++k) {
          const PcInst& kid = code_[at];
          Tri t = kid.op <= PcOp::kHasAll ? leaf(kid) : exec(at);
          if (t == kF) return kF;
          if (t == kU) acc = kU;
          at += code_[at].size;
        }
        return acc;
      }
      case PcOp::kOr: {
        Tri acc = kF;
        uint32_t at = pc + 1;
        for (uint32_t k = 0; k < in.a; ++k) {
          const PcInst& kid = code_[at];
          Tri t = kid.op <= PcOp::kHasAll ? leaf(kid) : exec(at);
          if (t == kT) return kT;
          if (t == kU) acc = kU;
          at += code_[at].size;
        }
        return acc;
      }
      case PcOp::kIr:
        return tri(in.a);
      default:
        return kU;  // leaves are handled above
    }
  }

  // A value; false when unknown.
  bool val(uint32_t id, Value& out) {
    const IrNode& n = p_.nodes[id];
    switch (n.op) {
      case IrOp::kConst:
        // A string constant is interned (num is its symbol id), so comparisons
        // never need its text.
        out.num = n.imm;
        return true;
      case IrOp::kAttr:
        if (!r_.present[n.a]) return false;
        out = r_.values[n.a];
        return true;
      case IrOp::kDefine:
        return define_value(n.a, out);
      case IrOp::kNow:
        out.num = r_.time;
        return true;
      case IrOp::kDaysSince: {
        Value t;
        int64_t seconds;
        // time - t is a duration: if it overflows, unknown (as for + - *), never wrapped.
        if (!val(n.a, t) || __builtin_sub_overflow(r_.time, t.num, &seconds)) return false;
        out.num = floor_div(seconds, 86400);
        return true;
      }
      case IrOp::kAdd:
      case IrOp::kSub:
      case IrOp::kMul: {
        Value a, b;
        if (!val(n.a, a) || !val(n.b, b)) return false;
        bool overflow = n.op == IrOp::kAdd   ? __builtin_add_overflow(a.num, b.num, &out.num)
                        : n.op == IrOp::kSub ? __builtin_sub_overflow(a.num, b.num, &out.num)
                                             : __builtin_mul_overflow(a.num, b.num, &out.num);
        return !overflow;  // an overflow cannot be decided on: unknown, fail closed
      }
      default: {
        if (n.type != ValueType::kBool) return false;
        Tri t = tri(id);
        if (t == kU) return false;
        out.num = t == kT;
        return true;
      }
    }
  }

  bool set(uint32_t id, SetRef& out) {
    const IrNode& n = p_.nodes[id];
    switch (n.op) {
      case IrOp::kConstSet: {
        const ConstSet& cs = p_.const_sets[n.a];
        out.symbols = cs.symbols.data();
        out.count = cs.symbols.size();
        out.others = nullptr;  // every literal is a symbol
        out.other_count = 0;
        return true;
      }
      case IrOp::kAttr: {
        if (!r_.present[n.a]) return false;
        const SetValue& sv = r_.sets[r_.values[n.a].set];
        out.symbols = sv.symbols.data();
        out.count = sv.symbols.size();
        out.others = sv.others.data();
        out.other_count = sv.others.size();
        return true;
      }
      case IrOp::kDefine:
        return set(p_.defines[n.a].value, out);
      default:
        return false;
    }
  }

 private:
  static bool string_eq(const Value& a, const Value& b) {
    if (a.num >= 0 || b.num >= 0) return a.num == b.num;
    return a.text == b.text;
  }

  static bool member(const Value& x, const SetRef& s, ValueType t) {
    if (t != ValueType::kString) return s.contains_symbol(static_cast<int32_t>(x.num));
    if (x.num >= 0) return s.contains_symbol(static_cast<int32_t>(x.num));
    return s.contains_other(x.text);
  }

  bool define_value(uint32_t d, Value& out) {
    if (dgen_[d] == gen_) {
      if (!dknown_[d]) return false;
      out = dval_[d];
      return true;
    }
    const Define& def = p_.defines[d];
    bool known;
    if (def.type.kind == ValueType::kBool) {
      Tri t = tri(def.value);
      known = t != kU;
      out.num = t == kT;
    } else {
      known = val(def.value, out);
    }
    dgen_[d] = gen_;
    dknown_[d] = known;
    if (known) dval_[d] = out;
    return known;
  }

  const Policy& p_;
  const BoundRequest& r_;
  const PcInst* code_;
  std::vector<uint32_t>& dgen_;
  std::vector<uint8_t>& dknown_;
  std::vector<Value>& dval_;
  uint32_t gen_;
};

}  // namespace

Evaluator::Evaluator(std::shared_ptr<const Policy> policy)
    : policy_(std::move(policy)), scratch_(std::make_unique<Scratch>()) {
  scratch_->define_generation.assign(policy_->defines.size(), 0);
  scratch_->define_known.assign(policy_->defines.size(), 0);
  scratch_->define_value.assign(policy_->defines.size(), Value{});
  scratch_->module_generation.assign(policy_->modules.size(), 0);
  scratch_->module_applies.assign(policy_->modules.size(), kT);
  const size_t words = (policy_->rules.size() + 63) / 64;
  scratch_->words.assign(words, 0);
  scratch_->summary.assign((words + 63) / 64, 0);
}
Evaluator::~Evaluator() = default;
Evaluator::Evaluator(Evaluator&&) noexcept = default;
Evaluator& Evaluator::operator=(Evaluator&&) noexcept = default;

Decision Evaluator::evaluate(const BoundRequest& request) {
  Decision d;
  evaluate(request, d);
  return d;
}

void Evaluator::evaluate(const BoundRequest& request, Decision& out) {
  const Policy& p = *policy_;
  const RuleIndex& ix = p.index;
  Scratch& s = *scratch_;
  if (++s.generation == 0) {
    std::fill(s.define_generation.begin(), s.define_generation.end(), 0);
    std::fill(s.module_generation.begin(), s.module_generation.end(), 0);
    s.generation = 1;
  }
  const uint32_t gen = s.generation;
  Run run(p, request, this, s.define_generation, s.define_known, s.define_value, gen);

  out.outcome = Outcome::kDeny;
  out.request_id = request.request_id;
  out.time = request.time;
  if (!p.sources.empty()) {
    auto text = [&](int32_t slot) {
      return slot >= 0 && request.present[static_cast<size_t>(slot)]
                 ? request.values[static_cast<size_t>(slot)].text
                 : std::string_view();
    };
    out.place.country = text(p.country_slot);
    out.place.state = text(p.state_slot);
    out.place.eu = p.eu_slot >= 0 && request.present[static_cast<size_t>(p.eu_slot)] &&
                   request.values[static_cast<size_t>(p.eu_slot)].num != 0;
  }
  out.reasons.clear();
  out.default_module = -1;
  out.obligations.clear();
  out.advice.clear();
  out.overridden.clear();
  out.missing.clear();
  // The trace starts from each rule's excluded status; a reused Decision only
  // resets the rules evaluated last time.
  if (out.trace_policy != &p || out.trace.size() != p.rules.size()) {
    out.trace.resize(p.rules.size());
    for (size_t i = 0; i < p.rules.size(); ++i)
      out.trace[i] = static_cast<RuleStatus>(ix.excluded_status[i]);
    out.trace_policy = &p;
  } else {
    for (uint32_t i : out.evaluated) out.trace[i] = static_cast<RuleStatus>(ix.excluded_status[i]);
  }

  // Mark the candidates by rank; a rule admitted twice is marked once.
  uint64_t* words = s.words.data();
  uint64_t* summary = s.summary.data();
  auto admit = [&](uint32_t rank) {
    const uint32_t w = rank >> 6;
    words[w] |= uint64_t{1} << (rank & 63);
    summary[w >> 6] |= uint64_t{1} << (w & 63);
  };
  for (uint32_t r : ix.unguarded) admit(r);
  for (const RuleIndex::Entry& e : ix.entries) {
    if (!request.present[e.slot]) {
      for (uint32_t r : e.guarded) admit(r);  // unknown guard: evaluate in full
      continue;
    }
    auto admit_value = [&](int64_t v) {
      if (v < 0 || static_cast<uint64_t>(v) + 1 >= e.first.size()) return;
      const auto k = static_cast<size_t>(v);
      for (uint32_t at = e.first[k]; at < e.first[k + 1]; ++at) admit(e.admitted[at]);
    };
    const Value& v = request.values[e.slot];
    if (e.is_set) {
      for (int32_t sym : request.sets[v.set].symbols) admit_value(sym);
    } else {
      admit_value(v.num);
    }
  }
  // Take them out in rank order, clearing the marks as we go.
  // INVARIANT: rank orders every overrider before the rules it overrides, so
  // an overrider's final status is known when its targets are decided.
  std::vector<uint32_t>& cand = out.evaluated;
  cand.clear();
  for (size_t t = 0; t < s.summary.size(); ++t) {
    for (uint64_t top = summary[t]; top; top &= top - 1) {
      const size_t w = t * 64 + static_cast<size_t>(__builtin_ctzll(top));
      for (uint64_t bits = words[w]; bits; bits &= bits - 1)
        cand.push_back(ix.by_rank[w * 64 + static_cast<size_t>(__builtin_ctzll(bits))]);
      words[w] = 0;
    }
    summary[t] = 0;
  }

  auto module_applies = [&](uint32_t m) -> Tri {
    const uint32_t pc = p.program.module[m];
    if (pc == Program::kNone) return kT;
    if (s.module_generation[m] != gen) {
      s.module_generation[m] = gen;
      s.module_applies[m] = run.exec(pc);
    }
    return static_cast<Tri>(s.module_applies[m]);
  };

  bool forbid = false, escalate = false, permit = false;
  for (uint32_t i : cand) {
    const RuleIndex::HotRule& r = ix.hot[i];
    Tri applies = module_applies(r.module);
    if (applies == kF) {
      out.trace[i] = RuleStatus::kNotApplicable;
      continue;
    }
    Tri c = tri_and(applies, run.exec(r.condition));
    if (c == kF) {
      out.trace[i] = RuleStatus::kNotFired;
      continue;
    }
    int32_t by = -1;
    for (uint32_t k = 0; k < r.overriders_count; ++k) {
      uint32_t o = ix.overriders[r.overriders_begin + k];
      if (out.trace[o] == RuleStatus::kFired) {
        by = static_cast<int32_t>(o);
        break;
      }
    }
    if (by >= 0) {
      out.trace[i] = RuleStatus::kOverridden;
      out.overridden.emplace_back(i, static_cast<uint32_t>(by));
      continue;
    }
    out.trace[i] = c == kT ? RuleStatus::kFired : RuleStatus::kUnknown;
    switch (r.effect) {
      case Effect::kForbid:
        forbid = true;
        break;
      case Effect::kEscalate:
        escalate = true;
        break;
      case Effect::kPermit:
      case Effect::kRequire:
        permit |= c == kT;
        break;
      case Effect::kAdvise:
        break;
    }
  }
  std::sort(out.overridden.begin(), out.overridden.end());

  Effect deciding;
  const bool decided = forbid || escalate || permit;
  if (forbid) {
    out.outcome = Outcome::kDeny;
    deciding = Effect::kForbid;
  } else if (escalate) {
    out.outcome = Outcome::kEscalate;
    deciding = Effect::kEscalate;
  } else if (permit) {
    out.outcome = Outcome::kPermit;
    deciding = Effect::kPermit;
  } else {
    deciding = Effect::kAdvise;  // nothing decided: the defaults do
    out.outcome = Outcome::kDeny;
    for (uint32_t m : ix.default_permit_modules)
      if (module_applies(m) == kT) {
        out.outcome = Outcome::kPermit;
        out.default_module = static_cast<int32_t>(m);
        break;
      }
  }

  for (uint32_t i : cand) {
    RuleStatus st = out.trace[i];
    if (st != RuleStatus::kFired && st != RuleStatus::kUnknown) continue;
    const RuleIndex::HotRule& r = ix.hot[i];
    Effect e = r.effect == Effect::kRequire ? Effect::kPermit : r.effect;
    // When no rule decided, the default did: no rule is a reason (not even a fired advise).
    if (decided && e == deciding && (st == RuleStatus::kFired || e != Effect::kPermit))
      out.reasons.push_back(i);
    // Obligations are conservative: an unknown require still attaches its obligation.
    if (r.effect == Effect::kRequire)
      out.obligations.emplace_back(static_cast<uint32_t>(r.obligation), i);
    if (r.effect == Effect::kAdvise && st == RuleStatus::kFired) out.advice.push_back(i);
    if (st == RuleStatus::kUnknown && r.effect != Effect::kAdvise)
      for (uint32_t k = 0; k < r.reads_count; ++k) {
        uint32_t slot = ix.reads[r.reads_begin + k];
        // Name the outermost absent attribute: a missing record hides its fields.
        int32_t outer = -1;
        for (auto at = static_cast<int32_t>(slot); at >= 0;
             at = p.schema.attributes[static_cast<size_t>(at)].parent)
          if (!request.present[static_cast<size_t>(at)]) outer = at;
        if (outer >= 0) out.missing.push_back(static_cast<uint32_t>(outer));
      }
  }
  // Reasons, obligations and advice are listed in declaration order.
  std::sort(out.reasons.begin(), out.reasons.end());
  std::sort(out.obligations.begin(), out.obligations.end(),
            [](const auto& a, const auto& b) { return a.second < b.second; });
  std::sort(out.advice.begin(), out.advice.end());
  std::sort(out.missing.begin(), out.missing.end());
  out.missing.erase(std::unique(out.missing.begin(), out.missing.end()), out.missing.end());
}

int32_t broken_invariant(const Policy& p, const BoundRequest& request) {
  if (p.invariants.empty()) return -1;
  // INVARIANT: invariants read request attributes only (the checker refuses
  // defines and params in them), so the define scratch stays empty.
  std::vector<uint32_t> dgen;
  std::vector<uint8_t> dknown;
  std::vector<Value> dval;
  Run run(p, request, nullptr, dgen, dknown, dval, 1);
  for (size_t i = 0; i < p.invariants.size(); ++i) {
    const Invariant& v = p.invariants[i];
    if (v.when && run.tri(*v.when) != kT) continue;
    if (run.tri(v.holds) == kF) return static_cast<int32_t>(i);
  }
  return -1;
}

}  // namespace ethos
