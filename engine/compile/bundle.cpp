#include <ethos/compile/bundle.hpp>

#include <algorithm>
#include <charconv>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <ethos/base/hash.hpp>
#include <ethos/compile/compile.hpp>
#include <ethos/syntax/parser.hpp>

namespace ethos {
namespace fs = std::filesystem;

namespace {

constexpr std::string_view kCanonicalHeader = "ethos-bundle 1\n";

bool only_tests(const ast::File& f) {
  return !f.declarations.empty() &&
         std::all_of(f.declarations.begin(), f.declarations.end(),
                     [](const ast::Declaration& d) { return d.kind == ast::DeclKind::kTest; });
}

Bundle build(std::vector<std::pair<std::string, std::string>> files, Diagnostics& diags,
             const CheckOptions& options, std::string root) {
  Bundle b;
  b.root = std::move(root);
  std::sort(files.begin(), files.end());
  for (auto& [name, text] : files) b.sources.files.emplace_back(name, std::move(text));
  for (uint32_t i = 0; i < b.sources.files.size(); ++i)
    b.files.push_back(parse_file(b.sources, i, diags, options.max_depth));
  // The canonical text: every policy file (not test-only ones), then params.
  std::string canon(kCanonicalHeader);
  for (uint32_t i = 0; i < b.sources.files.size(); ++i) {
    if (only_tests(b.files[i])) continue;
    const SourceFile& f = b.sources.files[i];
    canon += "file " + f.path() + " " + std::to_string(f.text().size()) + "\n";
    canon += f.text();
    canon += "\n";
  }
  for (const auto& [id, value] : options.params)
    canon += "param " + id + " " + std::to_string(value.size()) + "\n" + value + "\n";
  b.canonical_text = std::move(canon);
  b.hash = "sha256:" + sha256_hex(b.canonical_text);
  if (diags.has_errors()) {
    // Still run the checker so that one run reports every kind of mistake.
    (void)check(b.sources, b.files, diags, options);
    return b;
  }
  if (auto checked = check(b.sources, b.files, diags, options)) {
    checked->max_depth = options.max_depth;
    b.policy = compile(std::move(checked));
  }
  return b;
}

}  // namespace

Bundle load_bundle(const std::vector<std::string>& paths, Diagnostics& diags,
                   const CheckOptions& options) {
  std::vector<std::pair<std::string, std::string>> files;
  std::string root;
  for (const auto& p : paths) {
    std::error_code ec;
    fs::path path(p);
    if (fs::is_directory(path, ec)) {
      if (root.empty()) root = path.string();
      std::vector<fs::path> found;
      for (auto it = fs::recursive_directory_iterator(path, ec);
           !ec && it != fs::recursive_directory_iterator(); it.increment(ec))
        if (it->is_regular_file() && it->path().extension() == ".ethos")
          found.push_back(it->path());
      std::sort(found.begin(), found.end());
      for (const auto& f : found) {
        std::ifstream in(f, std::ios::binary);
        std::stringstream ss;
        ss << in.rdbuf();
        files.emplace_back(fs::relative(f, path).generic_string(), ss.str());
      }
      continue;
    }
    std::ifstream in(path, std::ios::binary);
    if (!in) {
      diags.error(Span{}, "cannot read `" + p + "`: no such file or directory");
      continue;
    }
    if (root.empty()) root = path.parent_path().string();
    std::stringstream ss;
    ss << in.rdbuf();
    files.emplace_back(path.filename().generic_string(), ss.str());
  }
  if (files.empty() && !diags.has_errors()) {
    std::string where;
    for (const auto& p : paths) where += (where.empty() ? "" : ", ") + ("`" + p + "`");
    diags.error(Span{}, "no .ethos files found in " +
                            (where.empty() ? std::string("the given paths") : where));
  }
  if (root.empty()) root = ".";
  return build(std::move(files), diags, options, root);
}

Bundle load_bundle_texts(std::vector<std::pair<std::string, std::string>> files, Diagnostics& diags,
                         const CheckOptions& options) {
  return build(std::move(files), diags, options, ".");
}

Bundle load_bundle_canonical(std::string_view canon, Diagnostics& diags) {
  std::vector<std::pair<std::string, std::string>> files;
  CheckOptions options;
  if (canon.substr(0, kCanonicalHeader.size()) != kCanonicalHeader) {
    diags.error(Span{}, "not an ethos canonical bundle (missing `ethos-bundle 1` header)");
    return {};
  }
  size_t pos = kCanonicalHeader.size();
  while (pos < canon.size()) {
    size_t eol = canon.find('\n', pos);
    if (eol == std::string_view::npos) break;
    std::string header(canon.substr(pos, eol - pos));
    size_t s1 = header.find(' '), s2 = header.rfind(' ');
    if (s1 == std::string::npos || s2 == s1) {
      diags.error(Span{}, "corrupt canonical bundle: bad header `" + header + "`");
      return {};
    }
    std::string kind = header.substr(0, s1), name = header.substr(s1 + 1, s2 - s1 - 1);
    // The length: decimal digits only, and no further than the text goes.
    std::string_view digits = std::string_view(header).substr(s2 + 1);
    size_t len = 0;
    auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), len);
    if (digits.empty() || ec != std::errc() || end != digits.data() + digits.size()) {
      diags.error(Span{}, "corrupt canonical bundle: bad length in header `" + header + "`");
      return {};
    }
    if (len > canon.size() - (eol + 1)) {
      diags.error(Span{}, "corrupt canonical bundle: `" + name + "` is truncated");
      return {};
    }
    std::string body(canon.substr(eol + 1, len));
    if (kind == "file")
      files.emplace_back(name, std::move(body));
    else
      options.params[name] = std::move(body);
    pos = eol + 1 + len + 1;
  }
  return build(std::move(files), diags, options, ".");
}

}  // namespace ethos
