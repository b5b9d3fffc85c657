#include <ethos/base/source.hpp>

#include <algorithm>

#include <nlohmann/json.hpp>

namespace ethos {

SourceFile::SourceFile(std::string path, std::string text)
    : path_(std::move(path)), text_(std::move(text)) {
  line_starts_.push_back(0);
  for (uint32_t i = 0; i < text_.size(); ++i)
    if (text_[i] == '\n') line_starts_.push_back(i + 1);
}

std::string_view SourceFile::line_text(uint32_t line) const {
  if (line == 0 || line > line_starts_.size()) return {};
  uint32_t b = line_starts_[line - 1];
  uint32_t e =
      line < line_starts_.size() ? line_starts_[line] : static_cast<uint32_t>(text_.size());
  std::string_view v(text_.data() + b, e - b);
  while (!v.empty() && (v.back() == '\n' || v.back() == '\r')) v.remove_suffix(1);
  return v;
}

std::pair<uint32_t, uint32_t> SourceFile::position(uint32_t offset) const {
  auto it = std::upper_bound(line_starts_.begin(), line_starts_.end(), offset);
  auto line = static_cast<uint32_t>(it - line_starts_.begin());
  return {line, offset - line_starts_[line - 1] + 1};
}

Span SourceSet::span(uint32_t file, uint32_t begin, uint32_t end) const {
  auto [line, col] = files[file].position(begin);
  return Span{file, begin, end, line, col};
}

void Diagnostics::error(Span span, std::string message, std::string help) {
  items_.push_back({Severity::kError, span, std::move(message), std::move(help), {}});
}
void Diagnostics::warning(Span span, std::string message, std::string help) {
  items_.push_back({Severity::kWarning, span, std::move(message), std::move(help), {}});
}
bool Diagnostics::has_errors() const { return error_count() > 0; }
size_t Diagnostics::error_count() const {
  return static_cast<size_t>(std::count_if(items_.begin(), items_.end(), [](const Diagnostic& d) {
    return d.severity == Severity::kError;
  }));
}
size_t Diagnostics::warning_count() const {
  return static_cast<size_t>(std::count_if(items_.begin(), items_.end(), [](const Diagnostic& d) {
    return d.severity == Severity::kWarning;
  }));
}
void Diagnostics::sort() {
  std::stable_sort(items_.begin(), items_.end(), [](const Diagnostic& a, const Diagnostic& b) {
    if (a.span.file != b.span.file) return a.span.file < b.span.file;
    return a.span.begin < b.span.begin;
  });
}

namespace {
const char* severity_name(Severity s) {
  switch (s) {
    case Severity::kError:
      return "error";
    case Severity::kWarning:
      return "warning";
    case Severity::kNote:
      return "note";
  }
  return "error";
}

void render_location(std::string& out, const SourceSet& sources, Span span, bool underline) {
  if (span.file >= sources.files.size() || span.line == 0) return;
  const SourceFile& f = sources.files[span.file];
  std::string_view line = f.line_text(span.line);
  std::string gutter = std::to_string(span.line);
  out += std::string(gutter.size(), ' ') + " |\n";
  out += gutter + " | ";
  out += line;
  out += "\n" + std::string(gutter.size(), ' ') + " | ";
  for (uint32_t i = 1; i < span.col && i - 1 < line.size(); ++i)
    out += line[i - 1] == '\t' ? '\t' : ' ';
  size_t width = 1;
  if (underline && span.end > span.begin) {
    size_t rest = line.size() >= span.col ? line.size() - (span.col - 1) : 1;
    width = std::max<size_t>(1, std::min<size_t>(span.end - span.begin, rest));
  }
  out += '^';
  if (width > 1) out += std::string(width - 1, '~');
  out += '\n';
}

std::string location(const SourceSet& sources, Span span) {
  if (span.file >= sources.files.size()) return "<unknown>";
  return sources.files[span.file].path() + ":" + std::to_string(span.line) + ":" +
         std::to_string(span.col);
}
}  // namespace

std::string render(const SourceSet& sources, const Diagnostic& d) {
  std::string out =
      location(sources, d.span) + ": " + severity_name(d.severity) + ": " + d.message + "\n";
  render_location(out, sources, d.span, true);
  if (!d.help.empty()) out += "help: " + d.help + "\n";
  for (const Note& n : d.notes) {
    out += location(sources, n.span) + ": note: " + n.message + "\n";
    render_location(out, sources, n.span, true);
  }
  return out;
}

std::string render_all(const SourceSet& sources, const Diagnostics& ds) {
  std::string out;
  for (const Diagnostic& d : ds.items()) out += render(sources, d);
  return out;
}

std::string diagnostics_json(const SourceSet& sources, const Diagnostics& ds) {
  auto loc = [&](Span s) {
    nlohmann::json j;
    j["file"] = s.file < sources.files.size() ? sources.files[s.file].path() : "";
    j["line"] = s.line;
    j["col"] = s.col;
    return j;
  };
  nlohmann::json arr = nlohmann::json::array();
  for (const Diagnostic& d : ds.items()) {
    nlohmann::json j = loc(d.span);
    j["severity"] = severity_name(d.severity);
    j["message"] = d.message;
    if (!d.help.empty()) j["help"] = d.help;
    if (!d.notes.empty()) {
      j["notes"] = nlohmann::json::array();
      for (const Note& n : d.notes) {
        nlohmann::json nj = loc(n.span);
        nj["message"] = n.message;
        j["notes"].push_back(nj);
      }
    }
    arr.push_back(j);
  }
  // Messages quote the user's bytes, which may cut a multi-byte character: replace, never throw.
  return arr.dump(2, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace ethos
