#include <ethos/authoring/lint_solver.hpp>

#include <algorithm>
#include <functional>
#include <nlohmann/json.hpp>
#include <unordered_map>

#include <ethos/authoring/lint_solver_impl.hpp>
#include <ethos/base/time.hpp>
#include <ethos/check/check.hpp>

namespace ethos {

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

// ---- the solver -------------------------------------------------------------------

PolicySolver::Impl::Impl(const Policy& policy, size_t budget) : p(policy), step_budget(budget) {
  fnodes.push_back({FK::kTrue, 0, {}});
  fnodes.push_back({FK::kFalse, 0, {}});
  enc_memo.assign(p.nodes.size(), {UINT32_MAX, UINT32_MAX});
  fired_memo.assign(p.rules.size(), UINT32_MAX);
  parse_timestamp("0000-01-01", ts_min);
  parse_timestamp("9999-12-31T23:59:59Z", ts_max);
  prescan();
}

// ---- formulas ----

uint32_t PolicySolver::Impl::make(FK kind, uint32_t atom, std::vector<uint32_t> kids) {
  auto key = std::make_tuple(kind, atom, kids);
  auto it = fnode_index.find(key);
  if (it != fnode_index.end()) return it->second;
  auto id = static_cast<uint32_t>(fnodes.size());
  fnodes.push_back({kind, atom, std::move(kids)});
  fnode_index.emplace(std::move(key), id);
  return id;
}

uint32_t PolicySolver::Impl::atom(Atom a) {
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

uint32_t PolicySolver::Impl::neg(uint32_t f) {
  if (f == kTrueF) return kFalseF;
  if (f == kFalseF) return kTrueF;
  if (fnodes[f].kind == FK::kNot) return fnodes[f].kids[0];
  return make(FK::kNot, 0, {f});
}

uint32_t PolicySolver::Impl::junction(FK kind, const std::vector<uint32_t>& in) {
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

uint32_t PolicySolver::Impl::conj(const std::vector<uint32_t>& in) {
  return junction(FK::kAnd, in);
}

uint32_t PolicySolver::Impl::disj(const std::vector<uint32_t>& in) { return junction(FK::kOr, in); }

// ---- rule statuses ----

uint32_t PolicySolver::Impl::guard(uint32_t rule, bool value) {
  const Module& m = p.modules[p.rules[rule].module];
  if (!m.applies) return value ? kTrueF : kFalseF;
  auto e = enc(*m.applies);
  return value ? e.first : e.second;
}

uint32_t PolicySolver::Impl::cond_true(uint32_t rule) {
  return conj({guard(rule, true), enc(p.rules[rule].condition).first});
}

uint32_t PolicySolver::Impl::cond_false(uint32_t rule) {
  return disj({guard(rule, false), enc(p.rules[rule].condition).second});
}

uint32_t PolicySolver::Impl::no_overrider_fires(uint32_t rule) {
  std::vector<uint32_t> parts;
  for (uint32_t y : p.rules[rule].overridden_by) parts.push_back(neg(fired(y)));
  return conj(parts);
}

uint32_t PolicySolver::Impl::fired(uint32_t rule) {
  if (fired_memo[rule] != UINT32_MAX) return fired_memo[rule];
  // A rule fires when no overrider fires, which asks the same of each
  // overrider: encode up the override chain without recursion (a chain may
  // be as long as the pack), each rule after all its overriders. The chain
  // is acyclic: the checker refuses override cycles.
  std::vector<std::pair<uint32_t, bool>> stack{{rule, false}};
  while (!stack.empty()) {
    auto [r, overriders_done] = stack.back();
    stack.pop_back();
    if (fired_memo[r] != UINT32_MAX) continue;
    if (!overriders_done) {
      stack.emplace_back(r, true);
      for (uint32_t y : p.rules[r].overridden_by)
        if (fired_memo[y] == UINT32_MAX) stack.emplace_back(y, false);
      continue;
    }
    fired_memo[r] = conj({cond_true(r), no_overrider_fires(r)});
  }
  return fired_memo[rule];
}

uint32_t PolicySolver::Impl::blocks(uint32_t rule) {
  return conj({neg(cond_false(rule)), no_overrider_fires(rule)});
}

uint32_t PolicySolver::Impl::overridden(uint32_t rule) {
  return conj({neg(cond_false(rule)), neg(no_overrider_fires(rule))});
}

// ---- solving ----

PolicySolver::Answer PolicySolver::Impl::solve(const std::vector<uint32_t>& parts) {
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

bool PolicySolver::Impl::fd_consistent(const FdVar& v, const std::vector<int>& var_of_atom,
                                       const Dpll& d) const {
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

bool PolicySolver::Impl::num_consistent(const NumVar& v, const std::vector<int>& var_of_atom,
                                        const Dpll& d) const {
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

std::pair<int64_t, int64_t> PolicySolver::Impl::interval(const NumVar& v) const {
  int64_t lo = v.lo, hi = v.hi;
  for (uint32_t a : v.atoms) {
    if (model[a] == 1) hi = std::min(hi, atoms[a].b);
    if (model[a] == -1) lo = std::max(lo, atoms[a].b + 1);
  }
  return {lo, hi};
}

int64_t PolicySolver::Impl::clamp(int64_t x, std::pair<int64_t, int64_t> r) {
  return std::max(r.first, std::min(r.second, x));
}

int64_t PolicySolver::Impl::floor_div(int64_t a, int64_t b) {
  int64_t q = a / b;
  return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

int64_t PolicySolver::Impl::ceil_div(int64_t a, int64_t b) { return -floor_div(-a, b); }

std::string PolicySolver::Impl::other_text(uint32_t slot) const {
  auto it = other_element.find(slot);
  if (it != other_element.end()) return elements[it->second];
  for (int k = 0;; ++k) {
    std::string t = k == 0 ? "example" : "example-" + std::to_string(k);
    if (p.symbol(t) < 0) return t;
  }
}

std::string PolicySolver::Impl::witness() const {
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

int8_t PolicySolver::Impl::model_of(const Atom& a) const {
  auto it = atom_index.find(a);
  if (it == atom_index.end() || it->second >= model.size()) return 0;
  return model[it->second];
}

bool PolicySolver::Impl::is_present(uint32_t slot) const {
  if (!p.schema.attributes[slot].optional) return true;
  return model_of({AK::kPresent, slot, 0}) != -1;
}

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

}  // namespace ethos
