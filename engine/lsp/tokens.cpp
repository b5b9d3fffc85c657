// Semantic tokens: the syntax tree's names, literals and comments, and the
// language's keywords, so that an editor without the TextMate grammar still
// colours the code.
#include <ethos/lsp/features.hpp>

#include <algorithm>
#include <cctype>
#include <set>

namespace ethos::lsp {

namespace {

enum TokenType : uint32_t {
  kNamespace,
  kType,
  kEnumMember,
  kProperty,
  kParameter,
  kVariable,
  kFunction,
  kKeyword,
  kString,
  kNumber,
  kComment,
};

uint32_t type_of(SymbolKind k) {
  switch (k) {
    case SymbolKind::kAttribute:
      return kProperty;
    case SymbolKind::kParam:
      return kParameter;
    case SymbolKind::kDefine:
      return kVariable;
    case SymbolKind::kRule:
      return kFunction;
    case SymbolKind::kObligation:
      return kEnumMember;
    case SymbolKind::kTest:
      return kString;
    case SymbolKind::kSource:
    case SymbolKind::kModule:
      return kNamespace;
  }
  return kVariable;
}

void add_expr(const ast::Expr& e, std::vector<SemanticToken>& out) {
  switch (e.kind) {
    case ast::ExprKind::kString:
      out.push_back({e.span, kString});
      break;
    case ast::ExprKind::kInt:
    case ast::ExprKind::kDuration:
      out.push_back({e.span, kNumber});
      break;
    case ast::ExprKind::kBool:
    case ast::ExprKind::kNow:
      out.push_back({e.span, kKeyword});
      break;
    default:
      break;
  }
  for (const auto& k : e.kids) add_expr(k, out);
}

void add_located(const std::optional<ast::Located>& l, uint32_t type,
                 std::vector<SemanticToken>& out) {
  if (l) out.push_back({l->span, type});
}

}  // namespace

const std::vector<std::string>& semantic_token_types() {
  static const std::vector<std::string> kTypes = {"namespace", "type",     "enumMember", "property",
                                                  "parameter", "variable", "function",   "keyword",
                                                  "string",    "number",   "comment"};
  return kTypes;
}

std::vector<SemanticToken> semantic_tokens(const Pack& pack, uint32_t file) {
  std::vector<SemanticToken> out;
  const ast::File& f = pack.files.at(file);
  for (const auto& c : f.comments) out.push_back({c.span, kComment});
  const auto& occ = pack.symbols.occurrences();
  auto first = std::lower_bound(occ.begin(), occ.end(), file,
                                [](const Occurrence& o, uint32_t v) { return o.span.file < v; });
  for (auto it = first; it != occ.end() && it->span.file == file; ++it)
    out.push_back({it->span, type_of(pack.symbols.symbols()[it->symbol].kind)});
  for (const auto& d : f.declarations) {
    switch (d.kind) {
      case ast::DeclKind::kModule:
        add_located(d.module->title, kString, out);
        if (d.module->applies) add_expr(*d.module->applies, out);
        break;
      case ast::DeclKind::kParam:
        add_expr(d.param->value, out);
        break;
      case ast::DeclKind::kDefine:
        add_expr(d.define->value, out);
        break;
      case ast::DeclKind::kObligation:
        out.push_back({d.obligation->text.span, kString});
        break;
      case ast::DeclKind::kSource:
        out.push_back({d.source->title.span, kString});
        for (const auto* l :
             {&d.source->jurisdiction, &d.source->from, &d.source->until, &d.source->url})
          add_located(*l, kString, out);
        break;
      case ast::DeclKind::kRule: {
        const ast::Rule& r = *d.rule;
        out.push_back({r.effect_span, kKeyword});
        if (r.when) add_expr(*r.when, out);
        if (r.unless) add_expr(*r.unless, out);
        add_located(r.because, kString, out);
        for (const auto& c : r.cites)
          if (!c.text.text.empty() || !c.source) out.push_back({c.text.span, kString});
        for (const auto& t : r.tags) out.push_back({t.span, kString});
        break;
      }
      case ast::DeclKind::kInvariant: {
        const ast::Invariant& v = *d.invariant;
        add_expr(v.holds, out);
        if (v.when) add_expr(*v.when, out);
        add_located(v.because, kString, out);
        for (const auto& c : v.cites)
          if (!c.text.text.empty() || !c.source) out.push_back({c.text.span, kString});
        break;
      }
      case ast::DeclKind::kTest:
        add_located(d.test->given, kString, out);
        for (const auto& s : d.test->sets) add_expr(s.value, out);
        break;
      default:
        break;
    }
  }
  // Keywords and type names: the words of the language where no other token is.
  const std::string& text = pack.sources.files[file].text();
  std::sort(out.begin(), out.end(), [](const SemanticToken& a, const SemanticToken& b) {
    return a.span.begin < b.span.begin;
  });
  static const std::set<std::string, std::less<>> kTypeWords = {
      "bool", "int", "string", "timestamp", "duration", "set", "enum"};
  const auto& words = keywords();
  static const std::set<std::string, std::less<>> kWords(words.begin(), words.end());
  std::vector<SemanticToken> found;
  size_t next = 0;  // the first token not yet passed
  for (size_t i = 0; i < text.size();) {
    while (next < out.size() && out[next].span.end <= i) ++next;
    if (next < out.size() && out[next].span.begin <= i) {  // inside a token (a string, a comment)
      i = std::max<size_t>(i + 1, out[next].span.end);
      continue;
    }
    auto c = static_cast<unsigned char>(text[i]);
    if (c == '"') {  // a string the tree did not keep: skip it
      size_t e = i + 1;
      while (e < text.size() && text[e] != '"' && text[e] != '\n') e += text[e] == '\\' ? 2 : 1;
      i = e + 1;
      continue;
    }
    if (!std::isalpha(c) && c != '_') {
      ++i;
      continue;
    }
    size_t e = i;
    while (e < text.size() && (std::isalnum(static_cast<unsigned char>(text[e])) || text[e] == '_'))
      ++e;
    std::string_view word(text.data() + i, e - i);
    bool dotted = (i > 0 && text[i - 1] == '.') || (e < text.size() && text[e] == '.');
    if (!dotted && (kWords.count(word) || kTypeWords.count(word)))
      found.push_back({pack.sources.span(file, static_cast<uint32_t>(i), static_cast<uint32_t>(e)),
                       kTypeWords.count(word) ? kType : kKeyword});
    i = e;
  }
  out.insert(out.end(), found.begin(), found.end());
  std::sort(out.begin(), out.end(), [](const SemanticToken& a, const SemanticToken& b) {
    return a.span.begin < b.span.begin;
  });
  // LSP wants tokens in order, apart, each on one line.
  std::vector<SemanticToken> clean;
  uint32_t last_end = 0;
  for (auto& t : out) {
    if (t.span.end <= t.span.begin || t.span.begin < last_end || t.span.file != file) continue;
    size_t nl = text.find('\n', t.span.begin);
    if (nl != std::string::npos && nl < t.span.end) t.span.end = static_cast<uint32_t>(nl);
    if (t.span.end <= t.span.begin) continue;
    last_end = t.span.end;
    clean.push_back(t);
  }
  return clean;
}

}  // namespace ethos::lsp
