// Hover: what a name is, from its declaration (and the checked policy's
// overrides when the pack has no errors).
#include <ethos/lsp/features.hpp>

#include <algorithm>

namespace ethos::lsp {

namespace {

std::string type_text(const ast::TypeExpr& t) {
  switch (t.kind) {
    case ast::TypeKind::kBool:
      return "bool";
    case ast::TypeKind::kInt:
      return "int";
    case ast::TypeKind::kString:
      return "string";
    case ast::TypeKind::kTimestamp:
      return "timestamp";
    case ast::TypeKind::kDuration:
      return "duration";
    case ast::TypeKind::kSet:
      return "set<string>";
    case ast::TypeKind::kEnum: {
      std::string s = "enum { ";
      for (size_t i = 0; i < t.enum_values.size(); ++i) s += (i ? ", " : "") + t.enum_values[i];
      return s + " }";
    }
    case ast::TypeKind::kRecord:
      return "{ " + std::to_string(t.fields.size()) + " fields }";
  }
  return "?";
}

std::string source_text(const Pack& pack, const Span& s) {
  const std::string& text = pack.sources.files.at(s.file).text();
  if (s.begin >= text.size() || s.end <= s.begin) return {};
  return text.substr(s.begin, std::min<size_t>(s.end, text.size()) - s.begin);
}

std::string code(std::string_view s) { return "```ethos\n" + std::string(s) + "\n```\n"; }

std::string with_comment(std::string md, const std::string& comment) {
  if (!comment.empty()) md += "\n" + comment + "\n";
  return md;
}

std::string source_line(const ast::Source& s) {
  std::string out = "**" + s.title.text + "**";
  if (s.kind) out += ", " + s.kind->text;
  if (s.jurisdiction) out += ", jurisdiction " + s.jurisdiction->text;
  if (s.from) out += ", in force from " + s.from->text;
  if (s.until) out += (s.from ? " until " : ", in force until ") + s.until->text;
  if (s.confidence) out += " (" + s.confidence->text + ")";
  if (s.url) out += "\n  <" + s.url->text + ">";
  return out;
}

const ast::Source* source_decl(const Pack& pack, std::string_view id) {
  auto s = pack.symbols.find(SymbolKind::kSource, id);
  if (!s) return nullptr;
  const auto* d = pack.symbols.symbols()[*s].declaration;
  return d ? d->source.get() : nullptr;
}

std::string rule_hover(const Pack& pack, const Symbol& sym) {
  const ast::Rule& r = *sym.declaration->rule;
  std::string effect = effect_name(r.effect);
  if (r.obligation) effect += " " + r.obligation->text;
  std::string md = code("rule " + sym.id + ": " + effect);
  if (r.because) md += "\n> " + r.because->text + "\n";
  if (!r.cites.empty()) {
    md += "\n**Cites**\n";
    for (const auto& c : r.cites) {
      if (!c.source) {
        md += "- " + c.text.text + "\n";
        continue;
      }
      const ast::Source* s = source_decl(pack, c.source->text);
      md += "- `" + c.source->text + "`" + (c.text.text.empty() ? "" : " § " + c.text.text);
      md += s ? ": " + source_line(*s) + "\n" : " (not declared)\n";
    }
  }
  auto qualify = [&](const std::string& id) {
    return id.find('.') == std::string::npos && !sym.module.empty() ? sym.module + "." + id : id;
  };
  if (!r.overrides.empty()) {
    md += "\n**Overrides** ";
    for (size_t i = 0; i < r.overrides.size(); ++i)
      md += (i ? ", `" : "`") + qualify(r.overrides[i].text) + "`";
    md += "\n";
  }
  std::vector<std::string> by;
  for (const auto& other : pack.symbols.symbols()) {
    if (other.kind != SymbolKind::kRule || !other.declaration) continue;
    for (const auto& o : other.declaration->rule->overrides) {
      std::string id = o.text.find('.') == std::string::npos && !other.module.empty()
                           ? other.module + "." + o.text
                           : o.text;
      if (id == sym.id) by.push_back(other.id);
    }
  }
  if (!by.empty()) {
    md += "\n**Overridden by** ";
    for (size_t i = 0; i < by.size(); ++i) md += (i ? ", `" : "`") + by[i] + "`";
    md += "\n";
  }
  return md;
}

}  // namespace

std::string doc_comment(const Pack& pack, uint32_t file, const Span& decl) {
  const ast::File& f = pack.files.at(file);
  std::vector<std::string> above;
  std::string trailing;
  uint32_t want = decl.line - 1;  // the line a comment above must be on
  auto it = std::lower_bound(f.comments.begin(), f.comments.end(), decl.begin,
                             [](const ast::Comment& c, uint32_t b) { return c.span.begin < b; });
  for (auto up = it; up != f.comments.begin();) {
    --up;
    std::string_view line = pack.sources.files[file].line_text(want);
    size_t first = line.find_first_not_of(" \t");
    if (want == 0 || up->span.line != want || first == std::string_view::npos ||
        first + 1 != up->span.col)
      break;
    above.push_back(up->text);
    --want;
  }
  if (it != f.comments.end() && it->span.line == decl.line) trailing = it->text;
  auto strip = [](std::string s) {
    s.erase(0, std::min<size_t>(2, s.size()));
    if (!s.empty() && s[0] == ' ') s.erase(0, 1);
    return s;
  };
  std::string out;
  for (auto a = above.rbegin(); a != above.rend(); ++a) out += strip(*a) + "\n";
  if (!trailing.empty()) out += strip(trailing) + "\n";
  return out;
}

std::optional<Hover> hover(const Pack& pack, uint32_t file, uint32_t offset) {
  const Occurrence* o = pack.symbols.at(file, offset);
  if (!o) return std::nullopt;
  const Symbol& sym = pack.symbols.symbols()[o->symbol];
  std::string md;
  const ast::Declaration* d = sym.declaration;
  switch (sym.kind) {
    case SymbolKind::kAttribute: {
      const ast::Field& f = *sym.field;
      std::string line = sym.id + ": " + type_text(f.type) + (f.optional ? "?" : "");
      if (f.range)
        line += " in " + std::to_string(f.range->lo.int_value) + ".." +
                std::to_string(f.range->hi.int_value);
      for (const auto& a : f.annotations) line += " @" + a.name;
      md = with_comment(code(line), doc_comment(pack, sym.name.file, sym.name));
      if (f.optional)
        md += "\nOptional: a rule that needs it while it is absent is *unknown* (fails closed).\n";
      if (f.range) md += "\nA request with a value outside the range is refused.\n";
      break;
    }
    case SymbolKind::kParam: {
      const ast::Param& p = *d->param;
      md = with_comment(code("param " + sym.id + ": " + type_text(p.type) + " = " +
                             source_text(pack, p.value.span)),
                        doc_comment(pack, sym.decl.file, sym.decl));
      md += "\nDefault `" + source_text(pack, p.value.span) +
            "`; a deployment may set it with `--param " + sym.id + "=...`.\n";
      break;
    }
    case SymbolKind::kDefine:
      md = with_comment(
          code("define " + sym.id + " =\n  " + source_text(pack, d->define->value.span)),
          doc_comment(pack, sym.decl.file, sym.decl));
      break;
    case SymbolKind::kRule:
      md = with_comment(rule_hover(pack, sym), doc_comment(pack, sym.decl.file, sym.decl));
      break;
    case SymbolKind::kSource:
      md = with_comment(code("source " + sym.id) + "\n" + source_line(*d->source) + "\n",
                        doc_comment(pack, sym.decl.file, sym.decl));
      break;
    case SymbolKind::kModule:
      md = code("module " + sym.id) +
           (d->module->title ? "\n" + d->module->title->text + "\n" : std::string());
      break;
    case SymbolKind::kObligation:
      md = with_comment(code("obligation " + sym.id) + "\n" + d->obligation->text.text + "\n",
                        doc_comment(pack, sym.decl.file, sym.decl));
      break;
    case SymbolKind::kTest:
      md = code("test \"" + sym.id + "\"");
      break;
  }
  return Hover{md, o->span};
}

}  // namespace ethos::lsp
