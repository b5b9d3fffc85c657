// Policy text -> syntax tree. Collects every syntax error in a file (it
// resumes at the next line that starts a declaration) instead of stopping
// at the first. Thread-safe: no shared state.
#pragma once

#include <ethos/syntax/ast.hpp>
#include <ethos/base/source.hpp>

namespace ethos {

// Parses sources.files[file]. Syntax errors are appended to `diags`; the
// returned tree holds every declaration that parsed.
ast::File parse_file(const SourceSet& sources, uint32_t file, Diagnostics& diags);

// Parses a single expression (used by tools and tests).
std::optional<ast::Expr> parse_expression(const SourceSet& sources, uint32_t file,
                                          Diagnostics& diags);

// Unescapes the body of a string literal written with quotes.
std::string unquote(std::string_view literal);

}  // namespace ethos
