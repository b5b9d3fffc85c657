// A policy bundle: the .ethos files of a directory, parsed, checked and
// compiled, with a content hash of its canonical text. The hash names the
// exact policy that made a decision; the canonical text is what the decision
// log stores so that the bundle can be rebuilt years later.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <ethos/base/source.hpp>
#include <ethos/check/check.hpp>
#include <ethos/check/policy.hpp>
#include <ethos/syntax/ast.hpp>

namespace ethos {

struct Bundle {
  SourceSet sources;
  std::vector<ast::File> files;
  std::shared_ptr<const Policy> policy;  // null when the bundle has errors
  std::string root;                      // directory that test `given` paths are relative to
  std::string canonical_text;            // the files (not test-only ones) and param values
  std::string hash;                      // "sha256:<hex of canonical_text>"
};

// Loads every *.ethos file under `paths` (files or directories, recursively,
// sorted by path). Every diagnostic goes to `diags`; `bundle.policy` is null
// if any is an error. I/O failures (unreadable path) are diagnostics too.
Bundle load_bundle(const std::vector<std::string>& paths, Diagnostics& diags,
                   const CheckOptions& options = {});

// Builds a bundle from named texts (tests, tools, and canonical texts from the log).
Bundle load_bundle_texts(std::vector<std::pair<std::string, std::string>> files, Diagnostics& diags,
                         const CheckOptions& options = {});

// Rebuilds a bundle from its canonical text (as stored in the decision log).
Bundle load_bundle_canonical(std::string_view canonical, Diagnostics& diags);

}  // namespace ethos
