// The nesting limit: how deeply policy text and request JSON may nest.
//
// Both parsers count levels while they read (engine/syntax/parser.cpp for
// policy text, engine/eval/request.cpp for requests) and stop at the limit
// with a diagnostic, so every recursive walk after them (checker, compiler,
// evaluator, formatter, lint, decision writer) works on a tree of bounded
// depth whatever the input. One limit serves both: CheckOptions::max_depth
// sets it for a bundle's text, and a policy keeps it (Policy::max_depth) for
// the requests bound to it.
#pragma once

#include <cstdint>

namespace ethos {

// Policy text: each `(`, `not`, function call and arithmetic operator is a
// level (`a + b + c` reads as `(a + b) + c`), and each record `{ ... }` of a
// schema. Request JSON: each object or array, the request itself being level 1.
inline constexpr uint32_t kDefaultMaxDepth = 256;

// The largest limit the command line accepts. Each level costs stack in the
// recursive stages (about 3 KiB in a release build, most of it the parser's),
// and 1024 levels stay well inside a thread's default 8 MiB.
inline constexpr uint32_t kMaxMaxDepth = 1024;

}  // namespace ethos
