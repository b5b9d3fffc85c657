// Source text, spans and diagnostics: what every stage uses to point at the
// policy text. Diagnostics are data (the user's mistakes), never exceptions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace ethos {

// A location in one source file. `line` and `col` are 1-based and refer to
// `begin`; `end` is one past the last byte.
struct Span {
  uint32_t file = 0;
  uint32_t begin = 0;
  uint32_t end = 0;
  uint32_t line = 0;
  uint32_t col = 0;
};

// One policy file. Immutable once loaded; spans index into `text`.
class SourceFile {
 public:
  SourceFile(std::string path, std::string text);
  const std::string& path() const { return path_; }
  const std::string& text() const { return text_; }
  // The text of 1-based line `line`, without its newline.
  std::string_view line_text(uint32_t line) const;
  // Line and column (1-based, bytes) of a byte offset.
  std::pair<uint32_t, uint32_t> position(uint32_t offset) const;

 private:
  std::string path_;
  std::string text_;
  std::vector<uint32_t> line_starts_;
};

// All files of a bundle, indexed by Span::file.
struct SourceSet {
  std::vector<SourceFile> files;
  Span span(uint32_t file, uint32_t begin, uint32_t end) const;
};

enum class Severity { kError, kWarning, kNote };

struct Note {
  Span span;
  std::string message;
};

struct Diagnostic {
  Severity severity = Severity::kError;
  Span span;
  std::string message;
  std::string help;         // empty when there is nothing to add
  std::vector<Note> notes;  // further locations (e.g. each step of a cycle)
};

// A list of diagnostics with helpers; stages append and keep going.
class Diagnostics {
 public:
  void error(Span span, std::string message, std::string help = {});
  void warning(Span span, std::string message, std::string help = {});
  void add(Diagnostic d) { items_.push_back(std::move(d)); }
  bool has_errors() const;
  size_t error_count() const;
  size_t warning_count() const;
  const std::vector<Diagnostic>& items() const { return items_; }
  void sort();

 private:
  std::vector<Diagnostic> items_;
};

// `file:line:col: error: message`, the source line, a caret/underline under
// the span, then `help: ...` and notes.
std::string render(const SourceSet& sources, const Diagnostic& d);
std::string render_all(const SourceSet& sources, const Diagnostics& ds);
// The diagnostics as a JSON array (file, line, col, severity, message, help, notes).
std::string diagnostics_json(const SourceSet& sources, const Diagnostics& ds);

}  // namespace ethos
