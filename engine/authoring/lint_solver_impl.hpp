// Private to lint_solver*.cpp: PolicySolver::Impl, with the formulas, atoms and variables it keeps.
#pragma once

#include <cstdint>
#include <limits>
#include <map>
#include <set>
#include <string>
#include <tuple>
#include <unordered_map>
#include <utility>
#include <vector>

#include <ethos/authoring/lint_solver.hpp>

namespace ethos {

class Dpll;  // the search (lint_solver.cpp)

struct PolicySolver::Impl {
  static constexpr int64_t kMin = std::numeric_limits<int64_t>::min();
  static constexpr int64_t kMax = std::numeric_limits<int64_t>::max();

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
    bool operator<(const Atom& o) const {
      return std::tie(kind, a, b) < std::tie(o.kind, o.a, o.b);
    }
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

  Impl(const Policy& policy, size_t budget);

  // ---- formulas ----
  uint32_t make(FK kind, uint32_t atom, std::vector<uint32_t> kids);
  uint32_t atom(Atom a);
  uint32_t neg(uint32_t f);
  uint32_t junction(FK kind, const std::vector<uint32_t>& in);
  uint32_t conj(const std::vector<uint32_t>& in);
  uint32_t disj(const std::vector<uint32_t>& in);

  // ---- the policy's vocabulary ----
  uint32_t resolve(uint32_t node) const;
  Term term(uint32_t node) const;
  std::vector<uint32_t> term_reads(const Term& t) const;
  void collect_reads(uint32_t node, std::vector<uint32_t>& reads, bool& arith) const;
  uint32_t add_element(const std::string& text);
  uint32_t fresh_element();
  // Every string the solver may need, and enough fresh elements for sets.
  void prescan();
  uint32_t fd_var(uint32_t slot);
  uint32_t num_var(uint32_t slot, bool days_since);

  // ---- atoms ----
  uint32_t present(uint32_t slot);
  uint32_t present_all(const std::vector<uint32_t>& reads);
  uint32_t le(uint32_t var, int64_t c);
  uint32_t lt(uint32_t var, int64_t c);
  uint32_t num_eq(uint32_t var, int64_t c);
  uint32_t fd_eq(uint32_t var, int64_t value);
  uint32_t string_eq(uint32_t slot, const std::string& text);
  uint32_t member(uint32_t set_slot, uint32_t element);
  // `x` (a string attribute) is a member of the set attribute `s`.
  uint32_t string_in_set(uint32_t x, uint32_t s);
  uint32_t opaque(uint32_t node);
  // The formula for "this comparison holds", given that its operands are
  // known, or UINT32_MAX when it is not one the solver understands.
  uint32_t holds(const IrNode& n);
  // (true, false) formulas of a boolean IR node.
  std::pair<uint32_t, uint32_t> enc(uint32_t node);

  // ---- rule statuses ----
  uint32_t guard(uint32_t rule, bool value);
  uint32_t cond_true(uint32_t rule);
  uint32_t cond_false(uint32_t rule);
  uint32_t no_overrider_fires(uint32_t rule);
  uint32_t fired(uint32_t rule);
  uint32_t blocks(uint32_t rule);
  uint32_t overridden(uint32_t rule);

  // ---- solving ----
  PolicySolver::Answer solve(const std::vector<uint32_t>& parts);
  bool fd_consistent(const FdVar& v, const std::vector<int>& var_of_atom, const Dpll& d) const;
  bool num_consistent(const NumVar& v, const std::vector<int>& var_of_atom, const Dpll& d) const;

  // ---- the witness ----
  std::pair<int64_t, int64_t> interval(const NumVar& v) const;
  static int64_t clamp(int64_t x, std::pair<int64_t, int64_t> r);
  static int64_t floor_div(int64_t a, int64_t b);
  static int64_t ceil_div(int64_t a, int64_t b);
  std::string other_text(uint32_t slot) const;
  std::string witness() const;
  int8_t model_of(const Atom& a) const;
  bool is_present(uint32_t slot) const;
};

}  // namespace ethos
