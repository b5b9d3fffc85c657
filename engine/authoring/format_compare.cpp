// same_syntax(): the formatter's meaning check, comparing two syntax trees.
#include <ethos/authoring/format.hpp>

#include <optional>

namespace ethos {
namespace {

using ast::Expr;
using ast::ExprKind;

bool same_expr(const Expr& a, const Expr& b) {
  if (a.kind != b.kind || a.op != b.op || a.kids.size() != b.kids.size()) return false;
  switch (a.kind) {
    case ExprKind::kBool:
      if (a.bool_value != b.bool_value) return false;
      break;
    case ExprKind::kInt:
    case ExprKind::kDuration:
      if (a.int_value != b.int_value) return false;
      break;
    case ExprKind::kString:
    case ExprKind::kName:
    case ExprKind::kCall:
      if (a.text != b.text) return false;
      break;
    default:
      break;
  }
  for (size_t i = 0; i < a.kids.size(); ++i)
    if (!same_expr(a.kids[i], b.kids[i])) return false;
  return true;
}

template <typename T, typename F>
bool same_opt(const std::optional<T>& a, const std::optional<T>& b, F eq) {
  if (a.has_value() != b.has_value()) return false;
  return !a || eq(*a, *b);
}

bool same_located(const ast::Located& a, const ast::Located& b) { return a.text == b.text; }

bool same_list(const std::vector<ast::Located>& a, const std::vector<ast::Located>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (a[i].text != b[i].text) return false;
  return true;
}

bool same_cites(const std::vector<ast::Cite>& a, const std::vector<ast::Cite>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (a[i].text.text != b[i].text.text || !same_opt(a[i].source, b[i].source, same_located))
      return false;
  return true;
}

bool same_type(const ast::TypeExpr& a, const ast::TypeExpr& b) {
  if (a.kind != b.kind || a.enum_values != b.enum_values || a.fields.size() != b.fields.size())
    return false;
  for (size_t i = 0; i < a.fields.size(); ++i) {
    const ast::Field& x = a.fields[i];
    const ast::Field& y = b.fields[i];
    if (x.name != y.name || x.optional != y.optional ||
        x.range.has_value() != y.range.has_value() ||
        (x.range &&
         (!same_expr(x.range->lo, y.range->lo) || !same_expr(x.range->hi, y.range->hi))) ||
        x.annotations.size() != y.annotations.size() || !same_type(x.type, y.type))
      return false;
    for (size_t k = 0; k < x.annotations.size(); ++k)
      if (x.annotations[k].name != y.annotations[k].name) return false;
  }
  return true;
}

bool same_declaration(const ast::Declaration& a, const ast::Declaration& b) {
  if (a.kind != b.kind) return false;
  switch (a.kind) {
    case ast::DeclKind::kSchema:
      return a.schema->name.text == b.schema->name.text &&
             same_type(a.schema->record, b.schema->record);
    case ast::DeclKind::kModule: {
      const auto &x = *a.module, &y = *b.module;
      return x.name.text == y.name.text && same_opt(x.title, y.title, same_located) &&
             same_opt(x.applies, y.applies, same_expr) &&
             same_opt(x.default_effect, y.default_effect, same_located) &&
             same_opt(x.concern, y.concern, same_located);
    }
    case ast::DeclKind::kParam:
      return a.param->name.text == b.param->name.text && same_type(a.param->type, b.param->type) &&
             same_expr(a.param->value, b.param->value);
    case ast::DeclKind::kDefine:
      return a.define->name.text == b.define->name.text &&
             same_expr(a.define->value, b.define->value);
    case ast::DeclKind::kObligation:
      return a.obligation->name.text == b.obligation->name.text &&
             a.obligation->text.text == b.obligation->text.text;
    case ast::DeclKind::kRule: {
      const auto &x = *a.rule, &y = *b.rule;
      return x.name.text == y.name.text && x.effect == y.effect &&
             same_opt(x.obligation, y.obligation, same_located) &&
             same_opt(x.when, y.when, same_expr) && same_opt(x.unless, y.unless, same_expr) &&
             same_list(x.overrides, y.overrides) && same_opt(x.because, y.because, same_located) &&
             same_cites(x.cites, y.cites) && same_opt(x.concern, y.concern, same_located) &&
             same_opt(x.severity, y.severity, same_located) &&
             same_opt(x.confidence, y.confidence, same_located) && same_list(x.tags, y.tags) &&
             x.duplicate_clauses.size() == y.duplicate_clauses.size();
    }
    case ast::DeclKind::kSource: {
      const auto &x = *a.source, &y = *b.source;
      return x.name.text == y.name.text && x.title.text == y.title.text &&
             same_opt(x.kind, y.kind, same_located) &&
             same_opt(x.jurisdiction, y.jurisdiction, same_located) &&
             same_opt(x.from, y.from, same_located) && same_opt(x.until, y.until, same_located) &&
             same_opt(x.url, y.url, same_located) &&
             same_opt(x.confidence, y.confidence, same_located) &&
             x.duplicate_clauses.size() == y.duplicate_clauses.size();
    }
    case ast::DeclKind::kInvariant: {
      const auto &x = *a.invariant, &y = *b.invariant;
      return x.name.text == y.name.text && same_expr(x.holds, y.holds) &&
             same_opt(x.when, y.when, same_expr) && same_opt(x.because, y.because, same_located) &&
             same_cites(x.cites, y.cites) &&
             x.duplicate_clauses.size() == y.duplicate_clauses.size();
    }
    case ast::DeclKind::kTest: {
      const auto &x = *a.test, &y = *b.test;
      if (x.name.text != y.name.text || !same_opt(x.given, y.given, same_located) ||
          !same_list(x.unsets, y.unsets) || x.sets.size() != y.sets.size() ||
          x.expectations.size() != y.expectations.size())
        return false;
      for (size_t i = 0; i < x.sets.size(); ++i)
        if (x.sets[i].path.text != y.sets[i].path.text ||
            !same_expr(x.sets[i].value, y.sets[i].value))
          return false;
      for (size_t i = 0; i < x.expectations.size(); ++i)
        if (x.expectations[i].kind != y.expectations[i].kind ||
            !same_list(x.expectations[i].items, y.expectations[i].items))
          return false;
      return true;
    }
  }
  return false;
}

}  // namespace

bool same_syntax(const ast::File& a, const ast::File& b) {
  if (a.declarations.size() != b.declarations.size()) return false;
  for (size_t i = 0; i < a.declarations.size(); ++i)
    if (!same_declaration(a.declarations[i], b.declarations[i])) return false;
  return true;
}

}  // namespace ethos
