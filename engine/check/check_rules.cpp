// The Checker's later passes: defines, modules, rules and their reads, tests, unused names.
#include <ethos/check/checker.hpp>

#include <algorithm>
#include <functional>

#include <ethos/base/text.hpp>
#include <ethos/graph/rule_graph.hpp>

namespace ethos::check_internal {

// ---- defines: ordered by the graph, cycles named ----

void Checker::order_and_type_defines() {
  RuleGraph g;
  for (size_t i = 0; i < p_->defines.size(); ++i)
    g.add_vertex({RuleGraph::VertexKind::kDefine, p_->defines[i].id, p_->defines[i].span,
                  static_cast<uint32_t>(i)});
  for (size_t i = 0; i < p_->defines.size(); ++i) {
    cur_module_ = p_->defines[i].module;
    std::function<void(const ast::Expr&)> walk = [&](const ast::Expr& x) {
      if (x.kind == ast::ExprKind::kName) {
        Resolved r = resolve(x.text);
        if (r.kind == NameKind::kDefine)
          g.add_edge(static_cast<uint32_t>(i), r.index, RuleGraph::EdgeKind::kReads);
      }
      for (const auto& k : x.kids) walk(k);
    };
    walk(ast_defines_[i]->value);
  }
  std::vector<bool> in_cycle(p_->defines.size(), false);
  for (const auto& cycle : g.cycles(RuleGraph::EdgeKind::kReads)) {
    std::string names;
    for (uint32_t v : cycle) {
      in_cycle[v] = true;
      names += p_->defines[v].id + " -> ";
    }
    names += p_->defines[cycle.front()].id;
    Diagnostic d{Severity::kError,
                 p_->defines[cycle.front()].span,
                 "defines form a cycle: " + names,
                 "a define may not use itself, directly or through others",
                 {}};
    for (size_t k = 1; k < cycle.size(); ++k)
      d.notes.push_back(
          {p_->defines[cycle[k]].span, quoted(p_->defines[cycle[k]].id) + " is part of the cycle"});
    diags_.add(std::move(d));
  }
  std::vector<uint32_t> order;
  if (std::none_of(in_cycle.begin(), in_cycle.end(), [](bool b) { return b; })) {
    order = g.dependency_order(RuleGraph::EdgeKind::kReads);
  } else {
    for (uint32_t i = 0; i < p_->defines.size(); ++i) order.push_back(i);
  }
  define_reads_.resize(p_->defines.size());
  define_depth_.assign(p_->defines.size(), 0);
  define_order_ = order;
  for (uint32_t i : order) {
    if (in_cycle[i]) continue;
    Define& d = p_->defines[i];
    cur_module_ = d.module;
    reads_.clear();
    d.value = lower(ast_defines_[i]->value);
    define_reads_[i] = reads_;
    // The evaluator, lint and the remedies walk a define's value where it
    // is used, through the defines it names: a chain of defines nests as deep
    // as the sum of its links. The parser bounds each expression; this bounds
    // the sum, in tree levels (the IR nodes on the deepest path), at four
    // times the nesting limit: room for any one expression the parser takes
    // (about two tree levels per level of text) and for a long chain.
    // A define over the limit is still typed, so that the defines using it
    // refer to it and stay quiet (kTooDeep) rather than start a new count.
    define_depth_[i] = inlined_depth(d.value);
    uint32_t limit = kTreeLevelsPerLevel * options_.max_depth;
    if (define_depth_[i] != kTooDeep && define_depth_[i] > limit) {
      diags_.error(d.span,
                   "define " + quoted(d.id) +
                       " is too deep: with the defines it uses, its tree is " +
                       std::to_string(define_depth_[i]) + " levels deep, and the limit is " +
                       std::to_string(limit) + " (" + std::to_string(kTreeLevelsPerLevel) +
                       " x the nesting limit " + std::to_string(options_.max_depth) + ")",
                   "a define used in a define nests inside it; shorten the chain of defines, or "
                   "raise the limit with --max-depth");
      define_depth_[i] = kTooDeep;  // one error per chain
    }
    Type t = type_of(d.value);
    if (t.kind == ValueType::kError) continue;
    if (t.kind == ValueType::kList && t.elem != ValueType::kString) {
      diags_.error(
          d.span,
          "a define cannot be a list of enum values or ints; compare with `in` where it is used");
      continue;
    }
    d.type = t.kind == ValueType::kList ? Type{ValueType::kSet} : t;
    d.typed = true;
  }
}

// ---- modules and rules ----

void Checker::check_modules() {
  for (size_t m = 0; m < p_->modules.size(); ++m) {
    const ast::Module& am = *ast_modules_[m];
    if (!am.applies) continue;
    cur_module_ = static_cast<uint32_t>(m);
    reads_.clear();
    p_->modules[m].applies = lower_bool(*am.applies, "`applies when`");
    module_reads_.push_back({static_cast<uint32_t>(m), reads_});
  }
}

void Checker::check_rules() {
  rule_reads_.resize(p_->rules.size());
  for (size_t i = 0; i < p_->rules.size(); ++i) {
    Rule& r = p_->rules[i];
    const ast::Rule& ar = *ast_rules_[i];
    cur_module_ = r.module;
    r.effect = ar.effect;
    for (const auto& dup : ar.duplicate_clauses)
      diags_.error(dup.span, "this clause is written twice in rule " + quoted(r.id));
    if (ar.obligation) {
      auto it = p_->obligation_by_name.find(ar.obligation->text);
      if (it == p_->obligation_by_name.end()) {
        std::vector<std::string> names;
        for (const auto& o : p_->obligations) names.push_back(o.name);
        std::string c = closest(ar.obligation->text, names);
        diags_.error(ar.obligation->span, "unknown obligation " + quoted(ar.obligation->text),
                     c.empty() ? "declare it with `obligation " + ar.obligation->text +
                                     " \"what the app must do\"`"
                               : "did you mean " + quoted(c) + "?");
      } else {
        r.obligation = static_cast<int32_t>(it->second);
        obligation_used_[it->second] = true;
      }
    }
    if (!ar.because)
      diags_.error(ar.name.span, "rule " + quoted(r.id) + " has no `because`",
                   "every rule says why in plain language: `because \"...\"`");
    else if (ar.because->text.empty())
      diags_.error(ar.because->span, "the `because` of rule " + quoted(r.id) + " is empty");
    else
      r.because = ar.because->text;
    if (ar.cites.empty())
      diags_.error(ar.name.span, "rule " + quoted(r.id) + " has no `cite`",
                   "every rule cites the code, law or guidance behind it: `cite \"HIPAA 45 CFR "
                   "164.502(e)\"`");
    r.concern = p_->modules[r.module].concern;
    if (ar.concern) {
      check_word(*ar.concern, kConcerns, "concern");
      r.concern = ar.concern->text;
    }
    if (ar.severity) {
      check_word(*ar.severity, kSeverities, "severity");
      r.severity = ar.severity->text;
    }
    if (ar.confidence) {
      check_word(*ar.confidence, kConfidences, "confidence");
      r.confidence = ar.confidence->text;
    }
    for (const auto& t : ar.tags) r.tags.push_back(t.text);
    reads_.clear();
    uint32_t cond = ar.when ? lower_bool(*ar.when, "`when`") : constant(ValueType::kBool, 1);
    if (ar.unless) {
      uint32_t u = lower_bool(*ar.unless, "`unless`");
      uint32_t nu = node2(IrOp::kNot, ValueType::kBool, u, 0);
      auto start = static_cast<uint32_t>(p_->kids.size());
      p_->kids.push_back(cond);
      p_->kids.push_back(nu);
      cond = node2(IrOp::kAnd, ValueType::kBool, start, 2);
    }
    r.condition = cite_sources(ar, r, cond);
    rule_reads_[i] = reads_;
    for (const auto& o : ar.overrides) {
      std::string id = o.text.find('.') == std::string::npos
                           ? p_->modules[r.module].name + "." + o.text
                           : o.text;
      auto it = p_->rule_by_id.find(id);
      if (it == p_->rule_by_id.end()) {
        std::vector<std::string> ids;
        for (const auto& x : p_->rules) ids.push_back(x.id);
        std::string c = closest(id, ids);
        diags_.error(o.span, "`overrides` names " + quoted(o.text) + ", which is not a rule",
                     c.empty() ? "" : "did you mean " + quoted(c) + "?");
        continue;
      }
      if (it->second == i) {
        diags_.error(o.span, "rule " + quoted(r.id) + " overrides itself");
        continue;
      }
      r.overrides.push_back(it->second);
      p_->rules[it->second].overridden_by.push_back(static_cast<uint32_t>(i));
    }
  }
}

void Checker::order_rules() {
  RuleGraph g;
  for (size_t i = 0; i < p_->rules.size(); ++i)
    g.add_vertex({RuleGraph::VertexKind::kRule, p_->rules[i].id, p_->rules[i].span,
                  static_cast<uint32_t>(i), p_->rules[i].effect});
  for (size_t i = 0; i < p_->rules.size(); ++i)
    for (uint32_t t : p_->rules[i].overrides)
      g.add_edge(static_cast<uint32_t>(i), t, RuleGraph::EdgeKind::kOverrides);
  auto cycles = g.cycles(RuleGraph::EdgeKind::kOverrides);
  for (const auto& cycle : cycles) {
    std::string names;
    for (uint32_t v : cycle) names += p_->rules[v].id + " -> ";
    names += p_->rules[cycle.front()].id;
    Diagnostic d{Severity::kError,
                 p_->rules[cycle.front()].span,
                 "overrides form a cycle: " + names,
                 "an exception cannot be an exception to itself; remove one `overrides`",
                 {}};
    for (size_t k = 1; k < cycle.size(); ++k)
      d.notes.push_back(
          {p_->rules[cycle[k]].span, quoted(p_->rules[cycle[k]].id) + " is part of the cycle"});
    diags_.add(std::move(d));
  }
  if (!cycles.empty()) return;
  // dependency_order puts overridden rules first; evaluation wants overriders first.
  auto order = g.dependency_order(RuleGraph::EdgeKind::kOverrides);
  p_->rule_order.assign(order.rbegin(), order.rend());
}

void Checker::compute_reads() {
  // Transitive attribute reads of each define, in dependency order: the
  // defines a define uses are closed before it (no recursion, so a chain of
  // any length is fine; in a cycle, already reported, a member sees what was
  // closed before it).
  std::vector<std::vector<uint32_t>> closure(p_->defines.size());
  for (uint32_t d : define_order_) {
    std::vector<uint32_t> acc =
        d < define_reads_.size() ? define_reads_[d] : std::vector<uint32_t>{};
    for (uint32_t n : define_refs(p_->defines[d].value))
      acc.insert(acc.end(), closure[n].begin(), closure[n].end());
    std::sort(acc.begin(), acc.end());
    acc.erase(std::unique(acc.begin(), acc.end()), acc.end());
    closure[d] = std::move(acc);
  }
  auto of_define = [&](uint32_t d) -> const std::vector<uint32_t>& { return closure[d]; };
  for (size_t i = 0; i < p_->rules.size(); ++i) {
    Rule& r = p_->rules[i];
    std::vector<uint32_t> acc = rule_reads_[i];
    for (uint32_t d : define_refs(r.condition)) {
      const auto& sub = of_define(d);
      acc.insert(acc.end(), sub.begin(), sub.end());
    }
    for (const auto& [m, reads] : module_reads_)
      if (m == r.module) acc.insert(acc.end(), reads.begin(), reads.end());
    if (auto& applies = p_->modules[r.module].applies)
      for (uint32_t d : define_refs(*applies)) {
        const auto& sub = of_define(d);
        acc.insert(acc.end(), sub.begin(), sub.end());
      }
    std::sort(acc.begin(), acc.end());
    acc.erase(std::unique(acc.begin(), acc.end()), acc.end());
    r.reads = std::move(acc);
  }
}

std::vector<uint32_t> Checker::define_refs(uint32_t root) const {
  std::vector<uint32_t> out, stack{root};
  while (!stack.empty()) {
    const IrNode& n = p_->nodes[stack.back()];
    stack.pop_back();
    if (n.op == IrOp::kDefine) out.push_back(n.a);
    for_each_child(*p_, n, [&](uint32_t k) { stack.push_back(k); });
  }
  return out;
}

uint32_t Checker::inlined_depth(uint32_t root) const {
  // Levels as the evaluator walks them: a define reference costs the
  // define's own depth (define_depth_, filled in dependency order).
  uint32_t deepest = 0;
  std::vector<std::pair<uint32_t, uint32_t>> stack{{root, 1}};
  while (!stack.empty()) {
    const uint32_t i = stack.back().first, level = stack.back().second;
    stack.pop_back();
    const IrNode& n = p_->nodes[i];
    uint32_t here = level;
    if (n.op == IrOp::kDefine && n.a < define_depth_.size()) {
      if (define_depth_[n.a] == kTooDeep) return kTooDeep;
      here += define_depth_[n.a];
    }
    deepest = std::max(deepest, here);
    for_each_child(*p_, n, [&](uint32_t k) { stack.emplace_back(k, level + 1); });
  }
  return deepest;
}

// ---- committee tests ----

void Checker::check_tests() {
  for (const ast::Test* t : tests_) {
    TestCase tc;
    tc.name = t->name.text;
    tc.span = t->name.span;
    if (!t->given)
      diags_.error(t->name.span, "test " + quoted(tc.name) + " has no `given` request");
    else
      tc.given = t->given->text;
    auto attr = [&](const ast::Located& path) -> int32_t {
      auto it = p_->schema.by_path.find(path.text);
      if (it == p_->schema.by_path.end()) {
        std::vector<std::string> paths;
        for (const auto& a : p_->schema.attributes) paths.push_back(a.path);
        std::string c = closest(path.text, paths);
        diags_.error(path.span, "unknown attribute " + quoted(path.text),
                     c.empty() ? "" : "did you mean " + quoted(c) + "?");
        return -1;
      }
      return static_cast<int32_t>(it->second);
    };
    for (const auto& s : t->sets) {
      int32_t slot = attr(s.path);
      if (slot < 0) continue;
      tc.sets.push_back({static_cast<uint32_t>(slot), s.path.text, s.value, s.path.span});
    }
    for (const auto& u : t->unsets) {
      int32_t slot = attr(u);
      if (slot < 0) continue;
      if (!p_->schema.attributes[static_cast<size_t>(slot)].optional)
        diags_.error(u.span, quoted(u.text) + " is required by the schema; it cannot be unset");
      tc.unsets.push_back({static_cast<uint32_t>(slot), u.span});
    }
    for (const auto& x : t->expectations) {
      switch (x.kind) {
        case ast::ExpectKind::kOutcome:
          tc.expect_outcome = x.items[0].text;
          break;
        case ast::ExpectKind::kRules:
        case ast::ExpectKind::kNoRules:
          for (const auto& id : x.items) {
            auto it = p_->rule_by_id.find(id.text);
            if (it == p_->rule_by_id.end()) {
              std::vector<std::string> ids;
              for (const auto& r : p_->rules) ids.push_back(r.id);
              std::string c = closest(id.text, ids);
              diags_.error(
                  id.span, "unknown rule " + quoted(id.text),
                  c.empty() ? "rules are named `module.rule`" : "did you mean " + quoted(c) + "?");
              continue;
            }
            (x.kind == ast::ExpectKind::kRules ? tc.expect_rules : tc.expect_no_rules)
                .push_back({it->second, id.span});
          }
          break;
        case ast::ExpectKind::kObligations:
          for (const auto& o : x.items) {
            auto it = p_->obligation_by_name.find(o.text);
            if (it == p_->obligation_by_name.end()) {
              diags_.error(o.span, "unknown obligation " + quoted(o.text));
              continue;
            }
            tc.expect_obligations.push_back({it->second, o.span});
          }
          break;
        case ast::ExpectKind::kMissing:
          for (const auto& m : x.items) {
            int32_t slot = attr(m);
            if (slot >= 0) tc.expect_missing.push_back({static_cast<uint32_t>(slot), m.span});
          }
          break;
      }
    }
    p_->tests.push_back(std::move(tc));
  }
}

void Checker::report_unused() {
  report_unused_sources();
  for (size_t i = 0; i < p_->defines.size(); ++i)
    if (!define_used_[i])
      diags_.warning(p_->defines[i].span, "define " + quoted(p_->defines[i].id) + " is never used",
                     "remove it, or use it in a rule");
  for (size_t i = 0; i < p_->params.size(); ++i)
    if (!param_used_[i])
      diags_.warning(p_->params[i].span, "param " + quoted(p_->params[i].id) + " is never used",
                     "remove it, or use it in a rule");
  for (size_t i = 0; i < p_->obligations.size(); ++i)
    if (!obligation_used_[i])
      diags_.warning(p_->obligations[i].span,
                     "obligation " + quoted(p_->obligations[i].name) + " is never required",
                     "remove it, or attach it with `require " + p_->obligations[i].name + "`");
}

}  // namespace ethos::check_internal
