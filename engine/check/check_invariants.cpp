// The checks of what a request may be: ranges on schema fields
// (`age: int in 0..130`) and the schema's invariants between facts.
#include <set>

#include <ethos/check/checker.hpp>

namespace ethos::check_internal {

void Checker::check_range(const ast::Field& f, Attribute& a) {
  const ast::FieldRange& r = *f.range;
  if (a.type.kind != ValueType::kInt) {
    diags_.error(r.span,
                 "a range applies to `int` fields only; " + quoted(a.path) + " is " +
                     quoted(type_name(a.type, p_->schema)),
                 "compare it in a rule instead");
    return;
  }
  bool ok = true;
  for (const ast::Expr* b : {&r.lo, &r.hi})
    if (b->kind != ast::ExprKind::kInt) {
      std::string text = b->kind == ast::ExprKind::kString ? "\"" + b->text + "\"" : b->text;
      diags_.error(b->span, "a range bound must be an integer, found " + quoted(text));
      ok = false;
    }
  if (!ok) return;
  if (r.lo.int_value > r.hi.int_value) {
    diags_.error(r.span,
                 "the range of " + quoted(a.path) +
                     " is empty: " + quoted(std::to_string(r.lo.int_value)) + " is above " +
                     quoted(std::to_string(r.hi.int_value)),
                 "write the lower bound first, e.g. `in " + std::to_string(r.hi.int_value) + ".." +
                     std::to_string(r.lo.int_value) + "`");
    return;
  }
  a.ranged = true;
  a.lo = r.lo.int_value;
  a.hi = r.hi.int_value;
}

void Checker::check_invariants() {
  StringMap<Span> first;
  facts_only_ = true;
  cur_module_ = 0;
  for (const ast::Invariant* av : ast_invariants_) {
    const std::string& id = av->name.text;
    if (auto it = first.find(id); it != first.end()) {
      duplicate("invariant", av->name, it->second);
      continue;
    }
    first.emplace(id, av->name.span);
    for (const auto& dup : av->duplicate_clauses)
      diags_.error(dup.span, "this clause is written twice in invariant " + quoted(id));
    Invariant v;
    v.id = id;
    v.span = av->name.span;
    if (!av->because)
      diags_.error(av->name.span, "invariant " + quoted(id) + " has no `because`",
                   "say why no request can be otherwise: `because \"...\"`; a refused request "
                   "shows it");
    else if (av->because->text.empty())
      diags_.error(av->because->span, "the `because` of invariant " + quoted(id) + " is empty");
    else
      v.because = av->because->text;
    for (const auto& c : av->cites)
      if (std::optional<Citation> cit = citation(c)) v.cites.push_back(cit->text);
    v.holds = lower_bool(av->holds, "an invariant");
    if (av->when) v.when = lower_bool(*av->when, "`when`");
    p_->invariants.push_back(std::move(v));
  }
  facts_only_ = false;
}

}  // namespace ethos::check_internal
