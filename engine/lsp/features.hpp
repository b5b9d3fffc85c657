// What the language server answers, computed from a checked Pack: hover,
// definitions and references, completion, symbols, formatting, code actions
// and semantic tokens. Plain data in and out (byte offsets and spans of the
// pack's files); the server (server.cpp) turns them into LSP's JSON. Each
// function only reads the pack: safe to call while nothing changes it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <ethos/base/source.hpp>
#include <ethos/lsp/symbols.hpp>
#include <ethos/lsp/workspace.hpp>

namespace ethos::lsp {

struct Location {
  uint32_t file = 0;
  Span span;
};

struct Hover {
  std::string markdown;
  Span span;  // the name hovered
};
std::optional<Hover> hover(const Pack& pack, uint32_t file, uint32_t offset);

// Where the name at the offset is declared (empty: not a name).
std::vector<Location> definition(const Pack& pack, uint32_t file, uint32_t offset);
// Every use of the name at the offset, across the pack.
std::vector<Location> references(const Pack& pack, uint32_t file, uint32_t offset,
                                 bool include_declaration);

enum class CompletionKind {
  kAttribute,
  kRecord,
  kEnumValue,
  kKeyword,
  kRule,
  kSource,
  kParam,
  kDefine,
  kObligation,
  kModule
};
struct Completion {
  std::string label;
  CompletionKind kind = CompletionKind::kKeyword;
  std::string detail;
};
// What may be written at the offset: schema paths after `.`, enum values
// after `==`, `!=` and `in`, rule ids after `overrides`, source ids after
// `cite`, obligations after `require`, else keywords and names in scope.
std::vector<Completion> complete(const Pack& pack, uint32_t file, uint32_t offset);
// The words of the language (grammar/grammar.hpp's keywords).
const std::vector<std::string>& keywords();

struct OutlineItem {
  std::string name;
  SymbolKind kind = SymbolKind::kRule;
  std::string detail;
  Span range;      // the whole declaration
  Span selection;  // its name
  std::vector<OutlineItem> children;
};
// Modules with their params, definitions, obligations and rules; sources, tests.
std::vector<OutlineItem> document_symbols(const Pack& pack, uint32_t file);
// Modules, rules and definitions (and the rest) whose id contains `query` (any case).
std::vector<const Symbol*> workspace_symbols(const Pack& pack, std::string_view query,
                                             size_t limit = 500);

struct TextEdit {
  Span span;
  std::string text;
};
// The file formatted by `ethos fmt`'s formatter, as one edit of the lines that
// change (none when it is formatted already), or nullopt with `error` set: the
// formatter never touches a file with syntax errors.
std::optional<std::vector<TextEdit>> format(const Pack& pack, uint32_t file, std::string& error);
struct CodeAction {
  std::string title;
  size_t diagnostic = 0;  // index into pack.diagnostics.items(), or pack.findings for lint
  bool lint = false;
  TextEdit edit;
};
// Fixes for the diagnostics of the file that overlap [begin, end]: each
// "did you mean `x`?" becomes an edit that writes `x`; a lint finding of an
// unused define, param or obligation an edit that removes its declaration
// (with the comment lines above it).
std::vector<CodeAction> code_actions(const Pack& pack, uint32_t file, uint32_t begin, uint32_t end);

// Semantic tokens: the legend's types (by index), and a file's tokens in order.
const std::vector<std::string>& semantic_token_types();
struct SemanticToken {
  Span span;  // on one line
  uint32_t type = 0;
};
std::vector<SemanticToken> semantic_tokens(const Pack& pack, uint32_t file);

// The comment written with a declaration: the comment lines directly above
// `decl` and the one at the end of its first line, without `//`.
std::string doc_comment(const Pack& pack, uint32_t file, const Span& decl);

}  // namespace ethos::lsp
