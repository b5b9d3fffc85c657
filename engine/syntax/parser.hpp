// Policy text -> syntax tree. Collects every syntax error in a file (it
// resumes at the next line that starts a declaration) instead of stopping
// at the first. Thread-safe: no shared state.
#pragma once

#include <ethos/base/limits.hpp>
#include <ethos/base/source.hpp>
#include <ethos/syntax/ast.hpp>

namespace ethos {

// Parses sources.files[file]. Syntax errors are appended to `diags`; the
// returned tree holds every declaration that parsed. Text that nests deeper
// than `max_depth` levels (ethos/base/limits.hpp) is an error at the opener
// past the limit, found while parsing: the tree returned is never deeper. A
// leading UTF-8 byte order mark is skipped; a NUL byte refuses the file.
ast::File parse_file(const SourceSet& sources, uint32_t file, Diagnostics& diags,
                     uint32_t max_depth = kDefaultMaxDepth);

// Parses a single expression (used by tools and tests), with the same limit.
std::optional<ast::Expr> parse_expression(const SourceSet& sources, uint32_t file,
                                          Diagnostics& diags,
                                          uint32_t max_depth = kDefaultMaxDepth);

// Unescapes the body of a string literal written with quotes.
std::string unquote(std::string_view literal);

}  // namespace ethos
