// Go to definition, find references, and the outline of files and packs.
#include <ethos/lsp/features.hpp>

#include <algorithm>
#include <cctype>

namespace ethos::lsp {

std::vector<Location> definition(const Pack& pack, uint32_t file, uint32_t offset) {
  const Occurrence* o = pack.symbols.at(file, offset);
  if (!o) return {};
  const Symbol& s = pack.symbols.symbols()[o->symbol];
  return {Location{s.name.file, s.name}};
}

std::vector<Location> references(const Pack& pack, uint32_t file, uint32_t offset,
                                 bool include_declaration) {
  const Occurrence* o = pack.symbols.at(file, offset);
  if (!o) return {};
  std::vector<Location> out;
  for (const Occurrence* r : pack.symbols.occurrences_of(o->symbol))
    if (include_declaration || !r->declaration) out.push_back({r->span.file, r->span});
  return out;
}

std::vector<OutlineItem> document_symbols(const Pack& pack, uint32_t file) {
  std::vector<OutlineItem> out;
  OutlineItem* module = nullptr;
  for (const Symbol& s : pack.symbols.symbols()) {
    if (s.decl.file != file && s.name.file != file) continue;
    if (s.kind == SymbolKind::kAttribute) {
      // Top-level attributes and records, each with its fields below it.
      if (s.id.find('.') != std::string::npos) continue;
    }
    OutlineItem item;
    item.name = s.kind == SymbolKind::kModule || s.kind == SymbolKind::kAttribute ||
                        s.kind == SymbolKind::kSource || s.kind == SymbolKind::kObligation ||
                        s.kind == SymbolKind::kTest
                    ? s.id
                    : s.id.substr(s.id.find('.') + 1);
    item.kind = s.kind;
    item.range = s.decl;
    item.selection = s.name;
    if (s.kind == SymbolKind::kRule && s.declaration)
      item.detail = effect_name(s.declaration->rule->effect);
    if (s.kind == SymbolKind::kModule && s.declaration && s.declaration->module->title)
      item.detail = s.declaration->module->title->text;
    if (s.kind == SymbolKind::kAttribute && s.field) {
      for (const auto& f : s.field->type.fields) {
        OutlineItem child;
        child.name = f.name;
        child.kind = SymbolKind::kAttribute;
        child.range = f.span;
        child.selection = f.span;
        child.selection.end = f.span.begin + static_cast<uint32_t>(f.name.size());
        child.range.end = std::max(child.range.end, child.selection.end);
        item.children.push_back(std::move(child));
      }
    }
    const bool in_module = !s.module.empty() && s.kind != SymbolKind::kModule;
    if (s.kind == SymbolKind::kModule) {
      out.push_back(std::move(item));
      module = &out.back();
    } else if (in_module && module) {
      // A module's range runs to its last declaration.
      module->range.end = std::max(module->range.end, item.range.end);
      module->children.push_back(std::move(item));
    } else {
      out.push_back(std::move(item));
      module = nullptr;
    }
  }
  return out;
}

std::vector<const Symbol*> workspace_symbols(const Pack& pack, std::string_view query,
                                             size_t limit) {
  auto lower = [](std::string_view s) {
    std::string out(s);
    for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
  };
  std::string q = lower(query);
  std::vector<const Symbol*> out;
  for (const Symbol& s : pack.symbols.symbols()) {
    if (out.size() >= limit) break;
    if (lower(s.id).find(q) != std::string::npos) out.push_back(&s);
  }
  return out;
}

}  // namespace ethos::lsp
