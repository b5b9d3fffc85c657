// Completion: what fits where the cursor is, read from the text of the line
// before it and the names of the pack.
#include <ethos/lsp/features.hpp>

#include <algorithm>
#include <cctype>
#include <regex>
#include <set>

namespace ethos::lsp {

namespace {

// The words of the language (grammar/grammar.hpp).
const std::vector<std::string> kKeywordList = {
    "module",     "rule",         "param",     "define",  "obligation", "source",   "schema",
    "test",       "permit",       "forbid",    "require", "advise",     "escalate", "deny",
    "when",       "unless",       "overrides", "because", "cite",       "concern",  "severity",
    "confidence", "tags",         "applies",   "default", "and",        "or",       "not",
    "in",         "has",          "has_any",   "has_all", "is",         "present",  "missing",
    "now",        "true",         "false",     "given",   "set",        "unset",    "expect",
    "kind",       "jurisdiction", "from",      "until",   "url",        "invariant"};

bool name_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.';
}

const Symbol* symbol(const Pack& pack, SymbolKind kind, std::string_view id) {
  auto s = pack.symbols.find(kind, id);
  return s ? &pack.symbols.symbols()[*s] : nullptr;
}

void add_enum_values(const Pack& pack, const std::string& module, const std::string& lhs,
                     std::vector<Completion>& out) {
  auto s = pack.symbols.resolve_name(module, lhs);
  if (!s) return;
  const Symbol& sym = pack.symbols.symbols()[*s];
  if (sym.kind != SymbolKind::kAttribute || sym.field->type.kind != ast::TypeKind::kEnum) return;
  for (const auto& v : sym.field->type.enum_values)
    out.push_back({v, CompletionKind::kEnumValue, "value of " + sym.id});
}

void add_children(const Pack& pack, const std::string& module, const std::string& parent,
                  std::vector<Completion>& out) {
  if (const Symbol* rec = symbol(pack, SymbolKind::kAttribute, parent); rec && rec->field) {
    for (const auto& f : rec->field->type.fields)
      out.push_back({f.name,
                     f.type.kind == ast::TypeKind::kRecord ? CompletionKind::kRecord
                                                           : CompletionKind::kAttribute,
                     parent + "." + f.name});
    return;
  }
  // `module.` : that module's params and definitions.
  (void)module;
  std::string prefix = parent + ".";
  for (const Symbol& s : pack.symbols.symbols()) {
    if ((s.kind == SymbolKind::kParam || s.kind == SymbolKind::kDefine ||
         s.kind == SymbolKind::kRule) &&
        s.id.compare(0, prefix.size(), prefix) == 0)
      out.push_back({s.id.substr(prefix.size()),
                     s.kind == SymbolKind::kParam    ? CompletionKind::kParam
                     : s.kind == SymbolKind::kDefine ? CompletionKind::kDefine
                                                     : CompletionKind::kRule,
                     s.id});
  }
}

void add_all(const Pack& pack, SymbolKind kind, CompletionKind as, std::vector<Completion>& out) {
  for (const Symbol& s : pack.symbols.symbols())
    if (s.kind == kind) out.push_back({s.id, as, symbol_kind_name(kind)});
}

}  // namespace

const std::vector<std::string>& keywords() { return kKeywordList; }

std::vector<Completion> complete(const Pack& pack, uint32_t file, uint32_t offset) {
  std::vector<Completion> out;
  const SourceFile& src = pack.sources.files.at(file);
  offset = std::min<uint32_t>(offset, static_cast<uint32_t>(src.text().size()));
  auto [line, col] = src.position(offset);
  std::string before(src.line_text(line).substr(0, col - 1));
  // The name being written, and what comes before it.
  size_t start = before.size();
  while (start > 0 && name_char(before[start - 1])) --start;
  std::string word = before.substr(start);
  // std::regex recurses per character: read only the end of a long line.
  std::string lead = before.substr(start > 240 ? start - 240 : 0, start > 240 ? 240 : start);
  std::string module = pack.symbols.module_at(pack.files.at(file), offset);

  static const std::regex kOverrides(R"((^|\s)overrides\s+([\w.]+\s*,\s*)*$)");
  static const std::regex kCite(R"((^|\s)cite\s+(.*,\s*)?$)");
  static const std::regex kRequire(R"((^|\s)require\s+$)");
  static const std::regex kCompare(R"(([A-Za-z_][\w.]*)\s*(==|!=)\s*$)");
  static const std::regex kIn(R"(([A-Za-z_][\w.]*)\s+in\s*(\[([^\]\[]*,)?)?\s*$)");
  static const std::regex kExpectRules(R"((^|\s)expect\s+(no\s+)?rules\s+([\w.]+\s*,?\s*)*$)");
  std::smatch m;
  if (std::regex_search(lead, m, kOverrides) || std::regex_search(lead, m, kExpectRules)) {
    add_all(pack, SymbolKind::kRule, CompletionKind::kRule, out);
    return out;
  }
  if (std::regex_search(lead, m, kCite)) {
    add_all(pack, SymbolKind::kSource, CompletionKind::kSource, out);
    return out;
  }
  if (std::regex_search(lead, m, kRequire)) {
    add_all(pack, SymbolKind::kObligation, CompletionKind::kObligation, out);
    return out;
  }
  if (size_t dot = word.rfind('.'); dot != std::string::npos) {
    add_children(pack, module, word.substr(0, dot), out);
    return out;
  }
  if (std::regex_search(lead, m, kCompare) || std::regex_search(lead, m, kIn)) {
    add_enum_values(pack, module, m[1].str(), out);
    if (!out.empty()) return out;
  }
  // Anything else: keywords, the top-level attributes, and this module's names.
  for (const auto& k : kKeywordList) out.push_back({k, CompletionKind::kKeyword, "keyword"});
  std::set<std::string> seen;
  for (const Symbol& s : pack.symbols.symbols()) {
    if (s.kind == SymbolKind::kAttribute && s.id.find('.') == std::string::npos)
      out.push_back({s.id,
                     s.field->type.kind == ast::TypeKind::kRecord ? CompletionKind::kRecord
                                                                  : CompletionKind::kAttribute,
                     "attribute"});
    else if ((s.kind == SymbolKind::kParam || s.kind == SymbolKind::kDefine) && s.module == module)
      out.push_back(
          {s.id.substr(s.id.find('.') + 1),
           s.kind == SymbolKind::kParam ? CompletionKind::kParam : CompletionKind::kDefine, s.id});
    else if (s.kind == SymbolKind::kModule && seen.insert(s.id).second)
      out.push_back({s.id, CompletionKind::kModule, "module"});
  }
  return out;
}

}  // namespace ethos::lsp
