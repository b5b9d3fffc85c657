// The names of a pack: every declaration (attributes of the schema, params,
// definitions, rules, sources, modules, obligations, committee tests) and
// every place a name is used, resolved the way the checker resolves it. Built
// from the syntax trees, so it works while the pack has errors: a name that
// does not resolve is simply not an occurrence. Immutable once built; it
// points into the syntax trees it was built from and lives no longer.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <ethos/base/source.hpp>
#include <ethos/check/policy.hpp>
#include <ethos/syntax/ast.hpp>

namespace ethos::lsp {

enum class SymbolKind : uint8_t {
  kAttribute,
  kParam,
  kDefine,
  kRule,
  kSource,
  kModule,
  kObligation,
  kTest
};
const char* symbol_kind_name(SymbolKind k);  // "attribute", "param", ...

struct Symbol {
  SymbolKind kind = SymbolKind::kRule;
  std::string id;      // attribute path, `module.name`, source id, module name, ...
  Span name;           // the declared name
  Span decl;           // the whole declaration (for an attribute: its field)
  std::string module;  // the module it belongs to, or empty
  const ast::Declaration* declaration = nullptr;  // null for attributes
  const ast::Field* field = nullptr;              // attributes only
};

struct Occurrence {
  Span span;
  uint32_t symbol = 0;
  bool declaration = false;  // the name where it is declared
};

class SymbolIndex {
 public:
  void build(const std::vector<ast::File>& files);

  const std::vector<Symbol>& symbols() const { return symbols_; }
  // Sorted by file, then position.
  const std::vector<Occurrence>& occurrences() const { return occurrences_; }
  std::optional<uint32_t> find(SymbolKind kind, std::string_view id) const;
  // The innermost occurrence covering a byte offset of a file (its end included).
  const Occurrence* at(uint32_t file, uint32_t offset) const;
  std::vector<const Occurrence*> occurrences_of(uint32_t symbol) const;
  // The module whose declarations a file's offset is among, or empty.
  std::string module_at(const ast::File& file, uint32_t offset) const;
  // A name written in an expression of `module`, resolved as the checker does:
  // the module's definitions and params, then `module.name`, then attributes.
  std::optional<uint32_t> resolve_name(std::string_view module, std::string_view name) const;

 private:
  uint32_t add(Symbol s);
  void add_fields(const ast::TypeExpr& record, const std::string& prefix);
  void add_use(Span span, std::optional<uint32_t> symbol);
  void add_expr(const ast::Expr& e, const std::string& module);
  void add_path(Span span, const std::string& path);

  std::vector<Symbol> symbols_;
  std::array<StringMap<uint32_t>, 8> by_id_;  // by kind, then id
  std::vector<Occurrence> occurrences_;
};

}  // namespace ethos::lsp
