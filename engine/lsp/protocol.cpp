#include <ethos/lsp/features.hpp>
#include <ethos/lsp/protocol_internal.hpp>

#include <algorithm>
#include <functional>

namespace ethos::lsp {

using nlohmann::json;

namespace {

constexpr const char* kVersion = "0.1.0";

int completion_kind(CompletionKind k) {  // LSP CompletionItemKind
  switch (k) {
    case CompletionKind::kAttribute:
      return 10;  // Property
    case CompletionKind::kRecord:
      return 22;  // Struct
    case CompletionKind::kEnumValue:
      return 20;  // EnumMember
    case CompletionKind::kKeyword:
      return 14;
    case CompletionKind::kRule:
      return 3;  // Function
    case CompletionKind::kSource:
      return 18;  // Reference
    case CompletionKind::kParam:
      return 21;  // Constant
    case CompletionKind::kDefine:
      return 6;  // Variable
    case CompletionKind::kObligation:
      return 24;  // Event
    case CompletionKind::kModule:
      return 9;
  }
  return 1;
}

int symbol_kind(SymbolKind k) {  // LSP SymbolKind
  switch (k) {
    case SymbolKind::kAttribute:
      return 7;  // Property
    case SymbolKind::kParam:
      return 14;  // Constant
    case SymbolKind::kDefine:
      return 13;  // Variable
    case SymbolKind::kRule:
      return 12;  // Function
    case SymbolKind::kSource:
      return 3;  // Namespace
    case SymbolKind::kModule:
      return 2;
    case SymbolKind::kObligation:
      return 24;  // Event
    case SymbolKind::kTest:
      return 15;  // String
  }
  return 13;
}

const std::vector<std::string> kDocumentMethods = {"textDocument/hover",
                                                   "textDocument/definition",
                                                   "textDocument/references",
                                                   "textDocument/completion",
                                                   "textDocument/documentSymbol",
                                                   "textDocument/formatting",
                                                   "textDocument/rangeFormatting",
                                                   "textDocument/codeAction",
                                                   "textDocument/semanticTokens/full"};

}  // namespace

json Protocol::initialize(const json& params) {
  encoding_ = Encoding::kUtf16;
  if (params.is_object()) {
    auto caps = params.value("capabilities", json::object());
    auto general = caps.is_object() ? caps.value("general", json::object()) : json::object();
    auto encodings =
        general.is_object() ? general.value("positionEncodings", json::array()) : json::array();
    if (encodings.is_array())
      for (const auto& e : encodings)
        if (e == "utf-8") encoding_ = Encoding::kUtf8;
  }
  json tokens = json::array();
  for (const auto& t : semantic_token_types()) tokens.push_back(t);
  json caps = {
      {"positionEncoding", encoding_ == Encoding::kUtf8 ? "utf-8" : "utf-16"},
      {"textDocumentSync",
       {{"openClose", true}, {"change", 2}, {"save", {{"includeText", false}}}}},
      {"hoverProvider", true},
      {"definitionProvider", true},
      {"referencesProvider", true},
      {"completionProvider", {{"triggerCharacters", {".", " ", "="}}}},
      {"documentSymbolProvider", true},
      {"workspaceSymbolProvider", true},
      {"documentFormattingProvider", true},
      {"documentRangeFormattingProvider", true},
      {"codeActionProvider", {{"codeActionKinds", {"quickfix"}}}},
      {"semanticTokensProvider",
       {{"legend", {{"tokenTypes", tokens}, {"tokenModifiers", json::array()}}}, {"full", true}}},
  };
  return {{"capabilities", caps}, {"serverInfo", {{"name", "ethos"}, {"version", kVersion}}}};
}

json Protocol::range(const Pack& pack, const Span& span) const {
  Range r = to_range(pack.sources.files.at(span.file), span, encoding_);
  return {{"start", {{"line", r.start.line}, {"character", r.start.character}}},
          {"end", {{"line", r.end.line}, {"character", r.end.character}}}};
}

json Protocol::location(const Pack& pack, const Span& span) const {
  return {{"uri", pack.uri(span.file)}, {"range", range(pack, span)}};
}

uint32_t Protocol::offset(const Pack& pack, uint32_t file, const json& position) const {
  Position p{position.at("line").get<uint32_t>(), position.at("character").get<uint32_t>()};
  return to_offset(pack.sources.files.at(file), p, encoding_);
}

json Protocol::diagnostic(const Pack& pack, uint32_t file, const Diagnostic& d) const {
  Span span = d.span;
  if (span.line == 0) span = Span{file, 0, 0, 1, 1};
  std::string message = d.message;
  if (!d.help.empty()) message += "\nhelp: " + d.help;
  json out = {{"range", range(pack, span)},
              {"severity", d.severity == Severity::kError     ? 1
                           : d.severity == Severity::kWarning ? 2
                                                              : 3},
              {"source", "ethos"},
              {"message", message}};
  if (!d.notes.empty()) {
    json related = json::array();
    for (const auto& n : d.notes)
      if (n.span.line > 0 && n.span.file < pack.sources.files.size())
        related.push_back({{"location", location(pack, n.span)}, {"message", n.message}});
    if (!related.empty()) out["relatedInformation"] = related;
  }
  return out;
}

json Protocol::finding(const Pack& pack, const Finding& f) const {
  Diagnostic d{f.severity, f.span, f.message, f.help, f.notes};
  json out = diagnostic(pack, f.span.file, d);
  out["source"] = "ethos lint";
  out["code"] = finding_kind_name(f.kind);
  return out;
}

std::string Protocol::apply_change(const std::string& text, const json& change) const {
  if (!change.contains("range")) return change.at("text").get<std::string>();
  // A range edit: positions in the client's encoding over the current text.
  SourceFile f("", text);
  const json& r = change.at("range");
  Position s{r.at("start").at("line").get<uint32_t>(),
             r.at("start").at("character").get<uint32_t>()};
  Position e{r.at("end").at("line").get<uint32_t>(), r.at("end").at("character").get<uint32_t>()};
  uint32_t b = to_offset(f, s, encoding_), en = std::max(b, to_offset(f, e, encoding_));
  return text.substr(0, b) + change.at("text").get<std::string>() + text.substr(en);
}

json Protocol::workspace_symbols(const Pack& pack, const std::string& query) const {
  json out = json::array();
  for (const Symbol* s : lsp::workspace_symbols(pack, query)) {
    json item = {
        {"name", s->id}, {"kind", symbol_kind(s->kind)}, {"location", location(pack, s->name)}};
    if (!s->module.empty()) item["containerName"] = s->module;
    out.push_back(std::move(item));
  }
  return out;
}

bool Protocol::is_document_method(const std::string& method) const {
  return std::find(kDocumentMethods.begin(), kDocumentMethods.end(), method) !=
         kDocumentMethods.end();
}

json Protocol::document_request(const std::string& method, const Pack& pack, uint32_t file,
                                const json& params) const {
  const SourceFile& src = pack.sources.files[file];
  if (method == "textDocument/hover") {
    auto h = hover(pack, file, offset(pack, file, params.at("position")));
    if (!h) return nullptr;
    return {{"contents", {{"kind", "markdown"}, {"value", h->markdown}}},
            {"range", range(pack, h->span)}};
  }
  if (method == "textDocument/definition" || method == "textDocument/references") {
    uint32_t at = offset(pack, file, params.at("position"));
    std::vector<Location> found;
    if (method == "textDocument/definition") {
      found = definition(pack, file, at);
      if (found.empty()) return nullptr;
    } else {
      bool decl = params.value("context", json::object()).value("includeDeclaration", false);
      found = references(pack, file, at, decl);
    }
    json out = json::array();
    for (const auto& l : found) out.push_back(location(pack, l.span));
    return out;
  }
  if (method == "textDocument/completion") {
    json items = json::array();
    for (const auto& c : complete(pack, file, offset(pack, file, params.at("position"))))
      items.push_back(
          {{"label", c.label}, {"kind", completion_kind(c.kind)}, {"detail", c.detail}});
    return {{"isIncomplete", false}, {"items", items}};
  }
  if (method == "textDocument/documentSymbol") {
    std::function<json(const OutlineItem&)> to_json = [&](const OutlineItem& item) {
      json j = {{"name", item.name},
                {"kind", symbol_kind(item.kind)},
                {"range", range(pack, item.range)},
                {"selectionRange", range(pack, item.selection)}};
      if (!item.detail.empty()) j["detail"] = item.detail;
      if (!item.children.empty()) {
        json kids = json::array();
        for (const auto& c : item.children) kids.push_back(to_json(c));
        j["children"] = kids;
      }
      return j;
    };
    json out = json::array();
    for (const auto& item : document_symbols(pack, file)) out.push_back(to_json(item));
    return out;
  }
  if (method == "textDocument/formatting" || method == "textDocument/rangeFormatting") {
    std::string error;
    auto edits = format(pack, file, error);
    if (!edits) return json::array();  // a file with syntax errors is left as it is
    json out = json::array();
    for (const auto& e : *edits)
      out.push_back({{"range", range(pack, e.span)}, {"newText", e.text}});
    return out;
  }
  if (method == "textDocument/codeAction") {
    const json& r = params.at("range");
    uint32_t b = offset(pack, file, r.at("start")), e = offset(pack, file, r.at("end"));
    json out = json::array();
    for (const auto& a : code_actions(pack, file, b, e)) {
      json edit = {{"range", range(pack, a.edit.span)}, {"newText", a.edit.text}};
      out.push_back(
          {{"title", a.title},
           {"kind", "quickfix"},
           {"isPreferred", true},
           {"diagnostics", {diagnostic(pack, file, pack.diagnostics.items()[a.diagnostic])}},
           {"edit", {{"changes", {{pack.uri(file), {edit}}}}}}});
    }
    return out;
  }
  if (method == "textDocument/semanticTokens/full") {
    json data = json::array();
    Position last{0, 0};
    for (const auto& t : semantic_tokens(pack, file)) {
      Range r = to_range(src, t.span, encoding_);
      uint32_t dl = r.start.line - last.line;
      uint32_t dc = dl == 0 ? r.start.character - last.character : r.start.character;
      data.push_back(dl);
      data.push_back(dc);
      data.push_back(r.end.character - r.start.character);
      data.push_back(t.type);
      data.push_back(0);
      last = r.start;
    }
    return {{"data", data}};
  }
  return unknown();
}

}  // namespace ethos::lsp
