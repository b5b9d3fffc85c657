#include <ethos/lsp/symbols.hpp>

#include <algorithm>

namespace ethos::lsp {

namespace {

std::string qualified(const std::string& module, const std::string& name) {
  return module.empty() ? name : module + "." + name;
}

// The part [from, to) of a name's span (a name never spans lines).
Span part(Span s, uint32_t from, uint32_t to) {
  return Span{s.file, s.begin + from, s.begin + to, s.line, s.col + from};
}

}  // namespace

const char* symbol_kind_name(SymbolKind k) {
  switch (k) {
    case SymbolKind::kAttribute:
      return "attribute";
    case SymbolKind::kParam:
      return "param";
    case SymbolKind::kDefine:
      return "define";
    case SymbolKind::kRule:
      return "rule";
    case SymbolKind::kSource:
      return "source";
    case SymbolKind::kModule:
      return "module";
    case SymbolKind::kObligation:
      return "obligation";
    case SymbolKind::kTest:
      return "test";
  }
  return "name";
}

uint32_t SymbolIndex::add(Symbol s) {
  auto& ids = by_id_[static_cast<size_t>(s.kind)];
  if (auto it = ids.find(s.id); it != ids.end()) return it->second;  // the first declaration
  auto i = static_cast<uint32_t>(symbols_.size());
  ids.emplace(s.id, i);
  occurrences_.push_back({s.name, i, true});
  symbols_.push_back(std::move(s));
  return i;
}

void SymbolIndex::add_fields(const ast::TypeExpr& record, const std::string& prefix) {
  for (const auto& f : record.fields) {
    std::string path = prefix.empty() ? f.name : prefix + "." + f.name;
    Symbol s;
    s.kind = SymbolKind::kAttribute;
    s.id = path;
    s.name = f.span;
    s.name.end = f.span.begin + static_cast<uint32_t>(f.name.size());
    s.decl = f.span;
    s.field = &f;
    add(std::move(s));
    if (f.type.kind == ast::TypeKind::kRecord) add_fields(f.type, path);
  }
}

void SymbolIndex::add_use(Span span, std::optional<uint32_t> symbol) {
  if (symbol) occurrences_.push_back({span, *symbol, false});
}

void SymbolIndex::add_path(Span span, const std::string& path) {
  // Each prefix of `patient.age` is an attribute of its own: `patient`, then `patient.age`.
  size_t start = 0;
  for (;;) {
    size_t dot = path.find('.', start);
    size_t end = dot == std::string::npos ? path.size() : dot;
    add_use(part(span, static_cast<uint32_t>(start), static_cast<uint32_t>(end)),
            find(SymbolKind::kAttribute, std::string_view(path).substr(0, end)));
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
}

void SymbolIndex::add_expr(const ast::Expr& e, const std::string& module) {
  if (e.kind == ast::ExprKind::kName) {
    auto s = resolve_name(module, e.text);
    if (s && symbols_[*s].kind == SymbolKind::kAttribute)
      add_path(e.span, e.text);
    else
      add_use(e.span, s);
  }
  for (const auto& k : e.kids) add_expr(k, module);
}

std::optional<uint32_t> SymbolIndex::resolve_name(std::string_view module,
                                                  std::string_view name) const {
  if (name.find('.') == std::string_view::npos) {
    thread_local std::string id;  // no allocation per name once it has grown
    id.assign(module);
    id += '.';
    id += name;
    if (auto s = find(SymbolKind::kDefine, id)) return s;
    if (auto s = find(SymbolKind::kParam, id)) return s;
  } else if (name.find('.') == name.rfind('.')) {
    if (auto s = find(SymbolKind::kDefine, name)) return s;
    if (auto s = find(SymbolKind::kParam, name)) return s;
  }
  return find(SymbolKind::kAttribute, name);
}

std::optional<uint32_t> SymbolIndex::find(SymbolKind kind, std::string_view id) const {
  const auto& ids = by_id_[static_cast<size_t>(kind)];
  auto it = ids.find(id);
  if (it == ids.end()) return std::nullopt;
  return it->second;
}

void SymbolIndex::build(const std::vector<ast::File>& files) {
  symbols_.clear();
  for (auto& ids : by_id_) ids.clear();
  occurrences_.clear();
  // Declarations first, so that a use may come before what it names.
  for (const auto& f : files) {
    std::string module;
    for (const auto& d : f.declarations) {
      Symbol s;
      s.decl = d.span;
      s.declaration = &d;
      switch (d.kind) {
        case ast::DeclKind::kSchema:
          add_fields(d.schema->record, "");
          continue;
        case ast::DeclKind::kModule:
          module = d.module->name.text;
          s = {SymbolKind::kModule, module, d.module->name.span, d.span, "", &d, nullptr};
          break;
        case ast::DeclKind::kParam:
          s = {SymbolKind::kParam,
               qualified(module, d.param->name.text),
               d.param->name.span,
               d.span,
               module,
               &d,
               nullptr};
          break;
        case ast::DeclKind::kDefine:
          s = {SymbolKind::kDefine,
               qualified(module, d.define->name.text),
               d.define->name.span,
               d.span,
               module,
               &d,
               nullptr};
          break;
        case ast::DeclKind::kRule:
          s = {SymbolKind::kRule,
               qualified(module, d.rule->name.text),
               d.rule->name.span,
               d.span,
               module,
               &d,
               nullptr};
          break;
        case ast::DeclKind::kObligation:
          s = {SymbolKind::kObligation,
               d.obligation->name.text,
               d.obligation->name.span,
               d.span,
               module,
               &d,
               nullptr};
          break;
        case ast::DeclKind::kSource:
          s = {SymbolKind::kSource,
               d.source->name.text,
               d.source->name.span,
               d.span,
               "",
               &d,
               nullptr};
          break;
        case ast::DeclKind::kTest:
          s = {SymbolKind::kTest, d.test->name.text, d.test->name.span, d.span, "", &d, nullptr};
          break;
        case ast::DeclKind::kInvariant:
          continue;  // not named from elsewhere; its facts are (below)
      }
      add(std::move(s));
    }
  }
  for (const auto& f : files) {
    std::string module;
    for (const auto& d : f.declarations) {
      switch (d.kind) {
        case ast::DeclKind::kModule:
          module = d.module->name.text;
          if (d.module->applies) add_expr(*d.module->applies, module);
          break;
        case ast::DeclKind::kDefine:
          add_expr(d.define->value, module);
          break;
        case ast::DeclKind::kRule: {
          const ast::Rule& r = *d.rule;
          if (r.when) add_expr(*r.when, module);
          if (r.unless) add_expr(*r.unless, module);
          if (r.obligation)
            add_use(r.obligation->span, find(SymbolKind::kObligation, r.obligation->text));
          for (const auto& o : r.overrides)
            add_use(o.span, find(SymbolKind::kRule, o.text.find('.') == std::string::npos
                                                        ? qualified(module, o.text)
                                                        : o.text));
          for (const auto& c : r.cites)
            if (c.source) add_use(c.source->span, find(SymbolKind::kSource, c.source->text));
          break;
        }
        case ast::DeclKind::kInvariant: {
          const ast::Invariant& v = *d.invariant;
          add_expr(v.holds, "");
          if (v.when) add_expr(*v.when, "");
          for (const auto& c : v.cites)
            if (c.source) add_use(c.source->span, find(SymbolKind::kSource, c.source->text));
          break;
        }
        case ast::DeclKind::kTest:
          for (const auto& set : d.test->sets) add_path(set.path.span, set.path.text);
          for (const auto& u : d.test->unsets) add_path(u.span, u.text);
          for (const auto& x : d.test->expectations)
            for (const auto& item : x.items) {
              if (x.kind == ast::ExpectKind::kRules || x.kind == ast::ExpectKind::kNoRules)
                add_use(item.span, find(SymbolKind::kRule, item.text));
              else if (x.kind == ast::ExpectKind::kObligations)
                add_use(item.span, find(SymbolKind::kObligation, item.text));
              else if (x.kind == ast::ExpectKind::kMissing)
                add_path(item.span, item.text);
            }
          break;
        default:
          break;
      }
    }
  }
  std::sort(occurrences_.begin(), occurrences_.end(), [](const Occurrence& a, const Occurrence& b) {
    return std::tie(a.span.file, a.span.begin, a.span.end) <
           std::tie(b.span.file, b.span.begin, b.span.end);
  });
}

const Occurrence* SymbolIndex::at(uint32_t file, uint32_t offset) const {
  auto it =
      std::upper_bound(occurrences_.begin(), occurrences_.end(), std::pair{file, offset},
                       [](const std::pair<uint32_t, uint32_t>& v, const Occurrence& o) {
                         return std::tie(v.first, v.second) < std::tie(o.span.file, o.span.begin);
                       });
  const Occurrence* best = nullptr;
  // Occurrences nest only within one name (`patient` in `patient.age`): a few steps back suffice.
  for (int steps = 0; it != occurrences_.begin() && steps < 8; ++steps) {
    --it;
    if (it->span.file != file) break;
    if (it->span.begin <= offset && offset <= it->span.end &&
        (!best || it->span.end - it->span.begin < best->span.end - best->span.begin))
      best = &*it;
  }
  return best;
}

std::vector<const Occurrence*> SymbolIndex::occurrences_of(uint32_t symbol) const {
  std::vector<const Occurrence*> out;
  for (const auto& o : occurrences_)
    if (o.symbol == symbol) out.push_back(&o);
  return out;
}

std::string SymbolIndex::module_at(const ast::File& file, uint32_t offset) const {
  std::string module;
  for (const auto& d : file.declarations) {
    if (d.span.begin > offset) break;
    if (d.kind == ast::DeclKind::kModule) module = d.module->name.text;
  }
  return module;
}

}  // namespace ethos::lsp
