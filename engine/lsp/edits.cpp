// Edits the server offers: formatting through `ethos fmt`'s formatter, and
// the fixes that diagnostics suggest.
#include <ethos/authoring/format.hpp>
#include <ethos/lsp/features.hpp>

#include <algorithm>
#include <regex>

namespace ethos::lsp {

std::optional<std::vector<TextEdit>> format(const Pack& pack, uint32_t file, std::string& error) {
  std::string out;
  Diagnostics diags;
  if (!format_file(pack.sources, file, out, diags)) {
    diags.sort();
    error = diags.items().empty() ? "the formatter refused the file"
                                  : render(pack.sources, diags.items().front());
    return std::nullopt;
  }
  const std::string& in = pack.sources.files[file].text();
  std::vector<TextEdit> edits;
  if (out == in) return edits;
  // One edit of whole lines: the common first and last lines stay untouched,
  // so the editor keeps its cursor and folds there.
  size_t head = 0;
  for (size_t i = 0; i < std::min(in.size(), out.size()) && in[i] == out[i]; ++i)
    if (in[i] == '\n') head = i + 1;
  size_t tail = 0;  // bytes of whole lines equal at the end
  for (size_t i = 1; i <= std::min(in.size(), out.size()) - head; ++i) {
    if (in[in.size() - i] != out[out.size() - i]) break;
    if (in[in.size() - i] == '\n' && i > 1) tail = i - 1;
  }
  Span span =
      pack.sources.span(file, static_cast<uint32_t>(head), static_cast<uint32_t>(in.size() - tail));
  edits.push_back({span, out.substr(head, out.size() - tail - head)});
  return edits;
}

std::vector<CodeAction> code_actions(const Pack& pack, uint32_t file, uint32_t begin,
                                     uint32_t end) {
  static const std::regex kDidYouMean(R"(did you mean `([^`]+)`\?)");
  std::vector<CodeAction> out;
  const auto& items = pack.diagnostics.items();
  const std::string& text = pack.sources.files.at(file).text();
  for (size_t i = 0; i < items.size(); ++i) {
    const Diagnostic& d = items[i];
    if (d.span.file != file || d.span.line == 0 || d.span.end <= d.span.begin ||
        d.span.end > text.size())
      continue;
    if (d.span.end < begin || d.span.begin > end) continue;
    std::smatch m;
    if (!std::regex_search(d.help, m, kDidYouMean)) continue;
    std::string written = text.substr(d.span.begin, d.span.end - d.span.begin);
    if (written.find_first_of(" \t\r\n") != std::string::npos) continue;  // not one word
    std::string fix = m[1].str();
    if (written.front() == '"') fix = "\"" + fix + "\"";
    if (fix.front() == '@' && written.front() != '@') fix.erase(0, 1);
    if (fix == written) continue;
    out.push_back({"change `" + written + "` to `" + fix + "`", i, false, TextEdit{d.span, fix}});
  }
  for (size_t i = 0; i < pack.findings.size(); ++i) {
    const Finding& f = pack.findings[i];
    if (f.span.file != file || f.span.end < begin || f.span.begin > end) continue;
    const char* what = f.kind == FindingKind::kUnusedDefine       ? "define"
                       : f.kind == FindingKind::kUnusedParam      ? "param"
                       : f.kind == FindingKind::kUnusedObligation ? "obligation"
                                                                  : nullptr;
    if (!what) continue;
    for (const auto& d : pack.files[file].declarations) {
      if (d.span.begin > f.span.begin || f.span.begin >= d.span.end) continue;
      // From the comment lines directly above it to the end of its last line.
      uint32_t from = d.span.begin, want = d.span.line - 1;
      for (auto c = d.comments.rbegin(); c != d.comments.rend() && c->span.line == want; ++c) {
        from = c->span.begin;
        --want;
      }
      size_t line_start = from == 0 ? std::string::npos : text.rfind('\n', from - 1);
      from = line_start == std::string::npos ? 0 : static_cast<uint32_t>(line_start + 1);
      size_t to = text.find('\n', d.span.end == 0 ? 0 : d.span.end - 1);
      to = to == std::string::npos ? text.size() : to + 1;
      std::string name(text.substr(f.span.begin, f.span.end - f.span.begin));
      out.push_back({std::string("remove the unused ") + what + " `" + name + "`", i, true,
                     TextEdit{pack.sources.span(file, from, static_cast<uint32_t>(to)), ""}});
      break;
    }
  }
  return out;
}

}  // namespace ethos::lsp
