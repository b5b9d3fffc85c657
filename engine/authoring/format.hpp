// `ethos fmt`: the canonical layout of a policy file, printed from its syntax
// tree. Every comment stays where it was: above the declaration, clause,
// field or operand it precedes, or at the end of the line it ended. The
// layout is idempotent (formatting formatted text changes nothing) and never
// changes meaning: format_file() parses its own output and refuses to return
// text whose syntax tree or comments differ from the input's.
//
// The canonical style (docs/authoring.md has examples):
// - a rule is `rule name:`, then its effect and one clause per line indented
//   two spaces, in the order effect, when, unless, overrides, concern,
//   because, cite, confidence, severity, tags;
// - lists (`cite`, `overrides`, `tags`, `expect rules`) stay on one line when
//   they fit in the width, otherwise one item per line under the first;
// - a condition that does not fit is broken before each top-level `and` /
//   `or`, continuation lines aligned under its first operand, and the same
//   inside parentheses; long literal lists are filled between `[` and `]`;
// - schema records are one field per line, trailing comments aligned within
//   each block of lines;
// - one blank line around modules, rules, tests and the schema; elsewhere the
//   author's blank lines are kept (at most one in a row).
// Thread-safe: no shared state.
#pragma once

#include <cstddef>
#include <string>

#include <ethos/base/source.hpp>
#include <ethos/syntax/ast.hpp>

namespace ethos {

struct FormatOptions {
  size_t width = 100;  // the column limit the layout aims for (strings never break)
};

// Formats sources.files[file]. On success `out` holds the canonical text.
// Returns false when the file has syntax errors or a construct the formatter
// refuses to touch (a clause written twice); the reasons go to `diags`.
bool format_file(const SourceSet& sources, uint32_t file, std::string& out, Diagnostics& diags,
                 const FormatOptions& options = {});

// The same for a text with a name (used by tests and tools).
bool format_text(const std::string& path, const std::string& text, std::string& out,
                 Diagnostics& diags, const FormatOptions& options = {});

// True when two files hold the same declarations, ignoring spans, comments,
// parentheses that do not change meaning and the order of rule and module
// clauses. This is the formatter's meaning check.
bool same_syntax(const ast::File& a, const ast::File& b);

// A unified diff (three lines of context) from `before` to `after`, labelled
// with `path`; empty when the texts are equal. Used by `ethos fmt --check`.
std::string unified_diff(const std::string& path, const std::string& before,
                         const std::string& after);

}  // namespace ethos
