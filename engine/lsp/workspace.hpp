// The language server's view of the policy files: packs of open documents
// over the files on disk. A pack is the directory that holds a file's
// `schema.ethos` (the nearest one above it), with every .ethos file under
// it, as `ethos check <dir>` loads it; a file with no schema.ethos above it
// is checked with the .ethos files of its own directory. Open
// documents replace their file's text on disk. Each change re-parses only the
// files that changed and re-checks the whole pack with the same checker as
// `ethos check`, so a change in schema.ethos re-checks every module.
// Not thread-safe: the server owns one Workspace and uses it from one thread.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <ethos/authoring/lint.hpp>
#include <ethos/base/source.hpp>
#include <ethos/check/check.hpp>
#include <ethos/check/policy.hpp>
#include <ethos/lsp/symbols.hpp>
#include <ethos/syntax/ast.hpp>

namespace ethos::lsp {

// How positions count characters within a line (LSP `positionEncoding`).
enum class Encoding { kUtf16, kUtf8 };

// 0-based, as LSP counts.
struct Position {
  uint32_t line = 0;
  uint32_t character = 0;
};
struct Range {
  Position start;
  Position end;
};

Position to_position(const SourceFile& file, uint32_t offset, Encoding enc);
// The byte offset of a position; past the end of a line or file: its end.
uint32_t to_offset(const SourceFile& file, Position pos, Encoding enc);
Range to_range(const SourceFile& file, const Span& span, Encoding enc);

// `file:///a/b%20c.ethos` <-> `/a/b c.ethos`. Empty for a URI that is not a file.
std::string uri_to_path(std::string_view uri);
std::string path_to_uri(const std::string& path);

// One pack, checked: its files (named relative to `root` in `sources`), the
// syntax trees, every diagnostic, the checked policy (null with errors) and
// the names declared and used in it.
struct Pack {
  std::string root;  // absolute directory
  SourceSet sources;
  std::vector<ast::File> files;
  std::vector<Diagnostics> parse_diagnostics;  // by file, kept while its text is unchanged
  Diagnostics diagnostics;                     // parse and check, sorted
  std::shared_ptr<const Policy> policy;        // null when the pack has errors
  SymbolIndex symbols;
  std::vector<bool> open;  // by file: an editor has it open
  // `ethos lint`'s findings as of the last open or save (cleared by an edit:
  // their places would be stale). Empty while the pack has errors.
  std::vector<Finding> findings;

  std::string uri(uint32_t file) const;
  std::optional<uint32_t> file_of(const std::string& uri) const;
};

class Workspace {
 public:
  explicit Workspace(CheckOptions options = {});
  // Sets the text of a document (opened or changed) and re-checks its pack.
  Pack& set_text(const std::string& uri, std::string text);
  // The editor closed it: its pack reads the file from disk again.
  void close(const std::string& uri);
  // The file changed on disk (saved, created or deleted by another program).
  void reload(const std::string& uri);
  // The pack that holds a document, or null (not a file URI, not loaded).
  Pack* pack_of(const std::string& uri);
  std::vector<Pack*> packs();
  const std::string* text_of(const std::string& uri);  // the open text, or null
  // Runs `ethos lint` on a pack that checks clean, with at most kLintMaxRules
  // rules (the solver's questions grow faster than the pack).
  void lint(Pack& pack);

 private:
  Pack& load(const std::string& root);
  void check(Pack& pack);
  void replace(Pack& pack, uint32_t file, std::string text);

  CheckOptions options_;
  std::map<std::string, std::unique_ptr<Pack>> packs_;  // by root
  std::map<std::string, std::string> open_;             // uri -> text
};

inline constexpr size_t kLintMaxRules = 2000;

// The pack root for a file: the nearest directory at or above it holding
// schema.ethos, else the file's directory (then read without its
// subdirectories).
std::string pack_root(const std::string& path);

}  // namespace ethos::lsp
