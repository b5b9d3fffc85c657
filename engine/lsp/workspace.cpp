#include <ethos/lsp/workspace.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <ethos/compile/bundle.hpp>
#include <ethos/syntax/parser.hpp>

namespace ethos::lsp {

namespace fs = std::filesystem;

namespace {

// UTF-16 code units of the UTF-8 text `s` (a 4-byte sequence is a surrogate pair).
uint32_t utf16_length(std::string_view s) {
  uint32_t n = 0;
  for (unsigned char c : s) {
    if ((c & 0xC0) == 0x80) continue;  // a continuation byte
    n += c >= 0xF0 ? 2 : 1;
  }
  return n;
}

int hex(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

Position to_position(const SourceFile& file, uint32_t offset, Encoding enc) {
  offset = std::min<uint32_t>(offset, static_cast<uint32_t>(file.text().size()));
  auto [line, col] = file.position(offset);
  if (enc == Encoding::kUtf8) return {line - 1, col - 1};
  std::string_view text = file.line_text(line);
  std::string_view before = text.substr(0, std::min<size_t>(col - 1, text.size()));
  return {line - 1, utf16_length(before)};
}

uint32_t to_offset(const SourceFile& file, Position pos, Encoding enc) {
  const std::string& all = file.text();
  std::string_view line = file.line_text(pos.line + 1);
  if (line.data() == nullptr) return static_cast<uint32_t>(all.size());
  auto start = static_cast<uint32_t>(line.data() - all.data());
  if (enc == Encoding::kUtf8)
    return start + std::min<uint32_t>(pos.character, static_cast<uint32_t>(line.size()));
  uint32_t units = 0;
  size_t i = 0;
  while (i < line.size() && units < pos.character) {
    auto c = static_cast<unsigned char>(line[i]);
    size_t len = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
    units += c >= 0xF0 ? 2 : 1;
    i = std::min(line.size(), i + len);
  }
  return start + static_cast<uint32_t>(i);
}

Range to_range(const SourceFile& file, const Span& span, Encoding enc) {
  return {to_position(file, span.begin, enc),
          to_position(file, std::max(span.begin, span.end), enc)};
}

std::string uri_to_path(std::string_view uri) {
  constexpr std::string_view kScheme = "file://";
  if (uri.substr(0, kScheme.size()) != kScheme) return {};
  uri.remove_prefix(kScheme.size());
  // `file://host/path`: only the local host (empty or localhost) is a path here.
  size_t slash = uri.find('/');
  if (slash == std::string_view::npos) return {};
  std::string_view host = uri.substr(0, slash);
  if (!host.empty() && host != "localhost") return {};
  uri.remove_prefix(slash);
  std::string out;
  for (size_t i = 0; i < uri.size(); ++i) {
    if (uri[i] == '%' && i + 2 < uri.size() + 0 && hex(uri[i + 1]) >= 0 && hex(uri[i + 2]) >= 0) {
      out += static_cast<char>(hex(uri[i + 1]) * 16 + hex(uri[i + 2]));
      i += 2;
    } else {
      out += uri[i];
    }
  }
  return out;
}

std::string path_to_uri(const std::string& path) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out = "file://";
  for (unsigned char c : path) {
    if (std::isalnum(c) || c == '/' || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

std::string pack_root(const std::string& path) {
  fs::path dir = fs::path(path).parent_path();
  std::error_code ec;
  for (fs::path d = dir; !d.empty(); d = d.parent_path()) {
    if (fs::exists(d / "schema.ethos", ec)) return d.string();
    if (d == d.parent_path()) break;
  }
  return dir.string();
}

std::string Pack::uri(uint32_t file) const {
  return path_to_uri((fs::path(root) / sources.files.at(file).path()).string());
}

std::optional<uint32_t> Pack::file_of(const std::string& uri) const {
  std::string path = uri_to_path(uri);
  std::error_code ec;
  std::string rel = fs::path(path).lexically_relative(root).generic_string();
  for (uint32_t i = 0; i < sources.files.size(); ++i)
    if (sources.files[i].path() == rel) return i;
  return std::nullopt;
}

Workspace::Workspace(CheckOptions options) : options_(std::move(options)) {}

Pack& Workspace::load(const std::string& root) {
  auto& slot = packs_[root];
  if (slot) return *slot;
  slot = std::make_unique<Pack>();
  Pack& p = *slot;
  p.root = root;
  std::vector<std::pair<std::string, std::string>> texts;
  std::error_code ec;
  auto take = [&](const fs::directory_entry& e) {
    if (e.is_regular_file() && e.path().extension() == ".ethos")
      texts.emplace_back(fs::relative(e.path(), root).generic_string(), read_file(e.path()));
  };
  // A pack (a directory with schema.ethos) is read with its subdirectories, as
  // `ethos check` reads it; a loose file's directory (say, a download folder)
  // only at its own level.
  if (fs::exists(fs::path(root) / "schema.ethos", ec)) {
    for (auto it = fs::recursive_directory_iterator(root, ec);
         !ec && it != fs::recursive_directory_iterator(); it.increment(ec))
      take(*it);
  } else {
    for (auto it = fs::directory_iterator(root, ec); !ec && it != fs::directory_iterator();
         it.increment(ec))
      take(*it);
  }
  std::sort(texts.begin(), texts.end());
  for (auto& [name, text] : texts) {
    std::string uri = path_to_uri((fs::path(root) / name).string());
    if (auto o = open_.find(uri); o != open_.end()) text = o->second;
    p.sources.files.emplace_back(name, std::move(text));
  }
  p.files.resize(p.sources.files.size());
  p.parse_diagnostics.resize(p.sources.files.size());
  p.open.assign(p.sources.files.size(), false);
  for (uint32_t i = 0; i < p.sources.files.size(); ++i) {
    p.files[i] = parse_file(p.sources, i, p.parse_diagnostics[i], options_.max_depth);
    p.open[i] = open_.count(p.uri(i)) > 0;
  }
  check(p);
  return p;
}

void Workspace::replace(Pack& p, uint32_t file, std::string text) {
  if (p.sources.files[file].text() == text) return;
  p.sources.files[file] = SourceFile(p.sources.files[file].path(), std::move(text));
  p.parse_diagnostics[file] = Diagnostics{};
  p.files[file] = parse_file(p.sources, file, p.parse_diagnostics[file], options_.max_depth);
}

void Workspace::check(Pack& p) {
  p.diagnostics = Diagnostics{};
  p.findings.clear();
  for (const auto& d : p.parse_diagnostics)
    for (const auto& item : d.items()) p.diagnostics.add(item);
  if (p.files.empty()) {
    p.policy = nullptr;
  } else {
    std::shared_ptr<Policy> checked = ethos::check(p.sources, p.files, p.diagnostics, options_);
    if (checked && !p.diagnostics.has_errors()) {
      checked->max_depth = options_.max_depth;
      p.policy = std::move(checked);
    } else {
      p.policy = nullptr;
    }
  }
  p.diagnostics.sort();
  p.symbols.build(p.files);
}

Pack& Workspace::set_text(const std::string& uri, std::string text) {
  open_[uri] = text;
  std::string path = uri_to_path(uri);
  std::string root = pack_root(path);
  const bool loaded = packs_.count(root) > 0;
  Pack& p = load(root);  // reads the open text over the file on disk
  auto file = p.file_of(uri);
  if (!loaded && file) return p;
  if (!file) {
    // A new file in a loaded pack: rebuild the pack with it.
    std::string rel = fs::path(path).lexically_relative(root).generic_string();
    std::vector<std::pair<std::string, std::string>> texts;
    for (const auto& f : p.sources.files) texts.emplace_back(f.path(), f.text());
    texts.emplace_back(rel, std::move(text));
    std::sort(texts.begin(), texts.end());
    Pack fresh;
    fresh.root = root;
    for (auto& [name, t] : texts) fresh.sources.files.emplace_back(name, std::move(t));
    fresh.files.resize(texts.size());
    fresh.parse_diagnostics.resize(texts.size());
    fresh.open.assign(texts.size(), false);
    for (uint32_t i = 0; i < fresh.sources.files.size(); ++i) {
      fresh.files[i] = parse_file(fresh.sources, i, fresh.parse_diagnostics[i], options_.max_depth);
      fresh.open[i] = open_.count(fresh.uri(i)) > 0;
    }
    p = std::move(fresh);
    check(p);
    return p;
  }
  p.open[*file] = true;
  replace(p, *file, std::move(text));
  check(p);
  return p;
}

void Workspace::lint(Pack& p) {
  p.findings.clear();
  if (!p.policy || p.policy->rules.size() > kLintMaxRules) return;
  std::vector<std::pair<std::string, std::string>> texts;
  for (const auto& f : p.sources.files) texts.emplace_back(f.path(), f.text());
  Diagnostics diags;
  // The same sorted names as the pack: file indexes and spans agree.
  Bundle b = load_bundle_texts(std::move(texts), diags, options_);
  if (!b.policy) return;
  p.findings = ethos::lint(b).findings;
}

void Workspace::close(const std::string& uri) {
  open_.erase(uri);
  reload(uri);
}

void Workspace::reload(const std::string& uri) {
  Pack* p = pack_of(uri);
  if (!p) return;
  std::string path = uri_to_path(uri);
  auto file = p->file_of(uri);
  std::error_code ec;
  bool on_disk = fs::is_regular_file(path, ec);
  if (auto o = open_.find(uri); o != open_.end()) {
    if (file) return;  // the editor's text wins while it is open
  }
  if (!file || !on_disk) {
    // Created or deleted: read the pack again.
    std::string root = p->root;
    packs_.erase(root);
    load(root);
    return;
  }
  p->open[*file] = false;
  replace(*p, *file, read_file(path));
  check(*p);
}

Pack* Workspace::pack_of(const std::string& uri) {
  std::string path = uri_to_path(uri);
  if (path.empty()) return nullptr;
  auto it = packs_.find(pack_root(path));
  return it == packs_.end() ? nullptr : it->second.get();
}

std::vector<Pack*> Workspace::packs() {
  std::vector<Pack*> out;
  for (auto& [root, p] : packs_) out.push_back(p.get());
  return out;
}

const std::string* Workspace::text_of(const std::string& uri) {
  auto it = open_.find(uri);
  return it == open_.end() ? nullptr : &it->second;
}

}  // namespace ethos::lsp
