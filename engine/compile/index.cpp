#include <ethos/compile/index.hpp>

#include <algorithm>
#include <map>

namespace ethos {
namespace {

struct Guard {
  uint32_t slot = 0;
  bool is_set = false;
  std::vector<int64_t> values;
  int score = 0;  // higher is more selective
};

bool const_value(const Policy& p, uint32_t node, int64_t& out) {
  const IrNode& n = p.nodes[node];
  if (n.op != IrOp::kConst) return false;
  out = n.imm;
  return true;
}

bool attr_slot(const Policy& p, uint32_t node, uint32_t& slot) {
  const IrNode& n = p.nodes[node];
  if (n.op != IrOp::kAttr) return false;
  slot = n.a;
  return true;
}

// The guard a single conjunct gives, if any.
bool guard_of(const Policy& p, uint32_t node, Guard& g) {
  const IrNode& n = p.nodes[node];
  uint32_t slot;
  int64_t v;
  switch (n.op) {
    case IrOp::kAttr:
      if (n.type != ValueType::kBool) return false;
      g = {n.a, false, {1}, 1};
      return true;
    case IrOp::kNot:
      if (!attr_slot(p, n.a, slot) || p.nodes[n.a].type != ValueType::kBool) return false;
      g = {slot, false, {0}, 1};
      return true;
    case IrOp::kEq:
      if (n.operand_type != ValueType::kString && n.operand_type != ValueType::kEnum &&
          n.operand_type != ValueType::kBool)
        return false;
      if (attr_slot(p, n.a, slot) && const_value(p, n.b, v)) {
      } else if (attr_slot(p, n.b, slot) && const_value(p, n.a, v)) {
      } else {
        return false;
      }
      if (n.operand_type == ValueType::kString && v < 0) return false;
      g = {slot, false, {v}, n.operand_type == ValueType::kBool ? 1 : 4};
      return true;
    case IrOp::kIn: {
      if (!attr_slot(p, n.a, slot) || p.nodes[n.b].op != IrOp::kConstSet) return false;
      const ConstSet& cs = p.const_sets[p.nodes[n.b].a];
      g = {slot, false, {cs.symbols.begin(), cs.symbols.end()}, 3};
      return true;
    }
    case IrOp::kHas:
      if (!attr_slot(p, n.a, slot) || !const_value(p, n.b, v) || v < 0) return false;
      g = {slot, true, {v}, 2};
      return true;
    case IrOp::kHasAny: {
      if (!attr_slot(p, n.a, slot) || p.nodes[n.b].op != IrOp::kConstSet) return false;
      const ConstSet& cs = p.const_sets[p.nodes[n.b].a];
      if (cs.symbols.empty()) return false;
      g = {slot, true, {cs.symbols.begin(), cs.symbols.end()}, 2};
      return true;
    }
    default:
      return false;
  }
}

// The top-level conjuncts of a boolean node, looking through defines.
void conjuncts(const Policy& p, uint32_t node, std::vector<uint32_t>& out, int depth = 0) {
  const IrNode& n = p.nodes[node];
  if (depth > 16) return;
  if (n.op == IrOp::kAnd) {
    for (uint32_t k = 0; k < n.b; ++k) conjuncts(p, p.kids[n.a + k], out, depth + 1);
  } else if (n.op == IrOp::kDefine && p.defines[n.a].type.kind == ValueType::kBool) {
    conjuncts(p, p.defines[n.a].value, out, depth + 1);
  } else {
    out.push_back(node);
  }
}

bool best_guard(const Policy& p, std::optional<uint32_t> root, Guard& best) {
  if (!root) return false;
  std::vector<uint32_t> cs;
  conjuncts(p, *root, cs);
  bool found = false;
  for (uint32_t c : cs) {
    Guard g;
    if (!guard_of(p, c, g) ||
        std::any_of(g.values.begin(), g.values.end(), [](int64_t v) { return v < 0; }))
      continue;
    if ((!found || g.score > best.score ||
         (g.score == best.score && g.values.size() < best.values.size()))) {
      best = std::move(g);
      found = true;
    }
  }
  return found;
}

}  // namespace

void build_rule_index(Policy& p) {
  RuleIndex& ix = p.index;
  ix = RuleIndex{};
  ix.excluded_status.assign(p.rules.size(), static_cast<uint8_t>(RuleStatus::kNotFired));
  ix.rank.assign(p.rules.size(), 0);
  for (uint32_t k = 0; k < p.rule_order.size(); ++k) ix.rank[p.rule_order[k]] = k;
  ix.by_rank = p.rule_order;
  for (uint32_t m = 0; m < p.modules.size(); ++m)
    if (p.modules[m].default_permit) ix.default_permit_modules.push_back(m);
  ix.hot.reserve(p.rules.size());
  for (const Rule& r : p.rules) {
    RuleIndex::HotRule h;
    h.condition = p.program.rule[ix.hot.size()];
    h.module = r.module;
    h.effect = r.effect;
    h.obligation = r.obligation;
    h.overriders_begin = static_cast<uint32_t>(ix.overriders.size());
    h.overriders_count = static_cast<uint32_t>(r.overridden_by.size());
    ix.overriders.insert(ix.overriders.end(), r.overridden_by.begin(), r.overridden_by.end());
    h.reads_begin = static_cast<uint32_t>(ix.reads.size());
    h.reads_count = static_cast<uint32_t>(r.reads.size());
    ix.reads.insert(ix.reads.end(), r.reads.begin(), r.reads.end());
    ix.hot.push_back(h);
  }
  // Module guards first: they exclude whole modules (most packs scale by module).
  std::vector<std::optional<Guard>> module_guard(p.modules.size());
  for (uint32_t m = 0; m < p.modules.size(); ++m) {
    Guard g;
    if (best_guard(p, p.modules[m].applies, g)) module_guard[m] = std::move(g);
  }
  std::map<std::pair<uint32_t, bool>, uint32_t> entry_of;
  // value -> ranks, per entry, before they are laid out flat.
  std::vector<std::map<int64_t, std::vector<uint32_t>>> admitted;
  for (uint32_t r = 0; r < p.rules.size(); ++r) {
    Guard g;
    bool from_module = false;
    bool have = best_guard(p, p.rules[r].condition, g);
    // A rule skipped by its own guard is reported not_fired, which is right only
    // when its module applies: in a module with `applies when`, only the module's
    // guard (reported not_applicable) may skip a rule.
    if (p.modules[p.rules[r].module].applies) have = false;
    const auto& mg = module_guard[p.rules[r].module];
    if (mg && (!have || mg->score >= g.score)) {
      g = *mg;
      have = true;
      from_module = true;
    }
    const uint32_t rank = ix.rank[r];
    if (!have) {
      ix.unguarded.push_back(rank);
      continue;
    }
    auto key = std::make_pair(g.slot, g.is_set);
    auto it = entry_of.find(key);
    if (it == entry_of.end()) {
      it = entry_of.emplace(key, static_cast<uint32_t>(ix.entries.size())).first;
      RuleIndex::Entry e;
      e.slot = g.slot;
      e.is_set = g.is_set;
      ix.entries.push_back(std::move(e));
      admitted.emplace_back();
    }
    ix.entries[it->second].guarded.push_back(rank);
    for (int64_t v : g.values) admitted[it->second][v].push_back(rank);
    if (from_module) ix.excluded_status[r] = static_cast<uint8_t>(RuleStatus::kNotApplicable);
  }
  for (size_t k = 0; k < ix.entries.size(); ++k) {
    RuleIndex::Entry& e = ix.entries[k];
    // INVARIANT: guard_of() admits only values >= 0 (booleans, enum indexes, symbol ids).
    size_t end = admitted[k].empty() ? 0 : static_cast<size_t>(admitted[k].rbegin()->first) + 1;
    e.first.assign(end + 1, 0);
    for (const auto& [v, ranks] : admitted[k])
      e.first[static_cast<size_t>(v) + 1] = static_cast<uint32_t>(ranks.size());
    for (size_t v = 1; v <= end; ++v) e.first[v] += e.first[v - 1];
    for (const auto& [v, ranks] : admitted[k])
      e.admitted.insert(e.admitted.end(), ranks.begin(), ranks.end());
  }
}

}  // namespace ethos
