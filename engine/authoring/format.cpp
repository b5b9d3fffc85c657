#include <ethos/authoring/format.hpp>

#include <algorithm>
#include <cctype>
#include <sstream>

#include <ethos/authoring/formatter.hpp>
#include <ethos/syntax/parser.hpp>

namespace ethos {
namespace format_internal {
namespace {

std::string rtrim(std::string s) {
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.pop_back();
  return s;
}

}  // namespace

Formatter::Formatter(const SourceFile& src, const ast::File& file, size_t width)
    : text_(src.text()), file_(file), width_(static_cast<int>(width)) {
  comments_ = file.comments;
  std::sort(comments_.begin(), comments_.end(), [](const ast::Comment& a, const ast::Comment& b) {
    return a.span.begin < b.span.begin;
  });
  taken_.assign(comments_.size(), false);
}

std::string Formatter::run() {
  std::vector<Item> items;
  for (size_t i = 0; i < file_.declarations.size(); ++i) {
    const ast::Declaration& d = file_.declarations[i];
    Item it;
    it.range = {d.span.begin, d.span.end};
    if (d.kind == ast::DeclKind::kRule || d.kind == ast::DeclKind::kModule) {
      // Their clauses are reordered: a comment ending the last line belongs to that clause.
      size_t eol = text_.find('\n', d.span.end);
      it.range.end = static_cast<uint32_t>(eol == std::string::npos ? text_.size() : eol);
      if (i + 1 < file_.declarations.size())
        it.range.end = std::min(it.range.end, file_.declarations[i + 1].span.begin);
    }
    it.order = static_cast<int>(i);
    it.kind = static_cast<int>(d.kind);
    it.emit = [this, &d, i] {
      group_ = static_cast<int>(i) + 1;
      declaration(d);
    };
    items.push_back(std::move(it));
  }
  block(items, 0, static_cast<uint32_t>(text_.size()), 0, /*keep_blank_lines=*/true,
        /*top_level=*/true);
  return render();
}

bool Formatter::all_comments_placed() const {
  return std::all_of(taken_.begin(), taken_.end(), [](bool b) { return b; });
}

// ---- source helpers ---------------------------------------------------------

std::string_view Formatter::source(Span s) const {
  return std::string_view(text_).substr(s.begin, s.end - s.begin);
}

bool Formatter::same_line(uint32_t a, uint32_t b) const {
  if (b <= a) return true;
  return text_.find('\n', a) >= b;
}

bool Formatter::blank_between(uint32_t a, uint32_t b) const {
  int newlines = 0;
  for (uint32_t i = a; i < b && i < text_.size(); ++i) {
    char c = text_[i];
    if (c == '\n') {
      if (++newlines >= 2) return true;
    } else if (c != ' ' && c != '\t' && c != '\r') {
      newlines = 0;
    }
  }
  return false;
}

const ast::Comment* Formatter::comment_at(size_t pos) const {
  for (const auto& c : comments_)
    if (c.span.begin <= pos && pos < c.span.end) return &c;
  return nullptr;
}

int64_t Formatter::prev_significant(uint32_t pos) const {
  int64_t i = static_cast<int64_t>(pos) - 1;
  while (i >= 0) {
    char c = text_[static_cast<size_t>(i)];
    if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
      --i;
      continue;
    }
    if (const ast::Comment* cm = comment_at(static_cast<size_t>(i))) {
      i = static_cast<int64_t>(cm->span.begin) - 1;
      continue;
    }
    return i;
  }
  return -1;
}

size_t Formatter::next_significant(uint32_t pos) const {
  size_t i = pos;
  while (i < text_.size()) {
    char c = text_[i];
    if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
      ++i;
      continue;
    }
    if (const ast::Comment* cm = comment_at(i)) {
      i = cm->span.end;
      continue;
    }
    return i;
  }
  return text_.size();
}

Range Formatter::ext(const Expr& e, bool* wrapped) const {
  Range r{e.span.begin, e.span.end};
  bool any = false;
  while (true) {
    int64_t p = prev_significant(r.begin);
    size_t n = next_significant(r.end);
    if (p < 0 || n >= text_.size() || text_[static_cast<size_t>(p)] != '(' || text_[n] != ')')
      break;
    // A call's own parentheses are not a grouping.
    int64_t before = p - 1;
    while (before >= 0 && (text_[static_cast<size_t>(before)] == ' ' ||
                           text_[static_cast<size_t>(before)] == '\t'))
      --before;
    if (before >= 0 && !any) {
      char c = text_[static_cast<size_t>(before)];
      bool ident = std::isalnum(static_cast<unsigned char>(c)) || c == '_';
      if (ident && static_cast<size_t>(before) + 1 == static_cast<size_t>(p)) {
        // `name(`: a call, unless the word is an operator keyword (`not(`, `and(`).
        int64_t w = before;
        while (w >= 0 && (std::isalnum(static_cast<unsigned char>(text_[static_cast<size_t>(w)])) ||
                          text_[static_cast<size_t>(w)] == '_'))
          --w;
        std::string word =
            text_.substr(static_cast<size_t>(w + 1), static_cast<size_t>(before - w));
        static const char* kWords[] = {"not", "and", "or",      "when",    "unless",
                                       "in",  "has", "has_any", "has_all", "applies"};
        if (std::find(std::begin(kWords), std::end(kWords), word) == std::end(kWords)) break;
      }
    }
    any = true;
    r = {static_cast<uint32_t>(p), static_cast<uint32_t>(n + 1)};
  }
  if (wrapped) *wrapped = any;
  return r;
}

// ---- comments ---------------------------------------------------------------

std::vector<size_t> Formatter::take(uint32_t b, uint32_t e) {
  std::vector<size_t> out;
  for (size_t i = 0; i < comments_.size(); ++i)
    if (!taken_[i] && comments_[i].span.begin >= b && comments_[i].span.begin < e) {
      taken_[i] = true;
      out.push_back(i);
    }
  return out;
}

bool Formatter::any_comment(uint32_t b, uint32_t e) const {
  for (const auto& c : comments_)
    if (c.span.begin >= b && c.span.begin < e) return true;
  return false;
}

std::string Formatter::comment_text(size_t i) const { return rtrim(comments_[i].text); }

// ---- output -----------------------------------------------------------------

void Formatter::open(int indent, bool blank) {
  lines_.push_back(Line{indent, "", "", blank, group_});
}

void Formatter::put(std::string_view s) { lines_.back().text += s; }

int Formatter::col() const {
  return lines_.back().indent + static_cast<int>(lines_.back().text.size());
}

void Formatter::trailing(size_t c) {
  std::string& slot = lines_.back().comment;
  slot += (slot.empty() ? "" : "  ") + comment_text(c);
}

void Formatter::comment_line(int indent, size_t c, bool blank) {
  open(indent, blank);
  lines_.back().comment = comment_text(c);
}

std::string Formatter::render() const {
  std::vector<int> align(lines_.size(), 0);
  // Trailing comments line up within a run of lines of one declaration
  // that no blank line interrupts.
  size_t i = 0;
  while (i < lines_.size()) {
    size_t j = i + 1;
    while (j < lines_.size() && !lines_[j].blank_before && lines_[j].group == lines_[i].group) ++j;
    int col = 0;
    for (size_t k = i; k < j; ++k)
      if (!lines_[k].comment.empty() && !lines_[k].text.empty())
        col = std::max(col, lines_[k].indent + static_cast<int>(lines_[k].text.size()) + 2);
    for (size_t k = i; k < j; ++k) align[k] = col;
    i = j;
  }
  std::string out;
  for (size_t k = 0; k < lines_.size(); ++k) {
    const Line& l = lines_[k];
    if (k > 0 && l.blank_before) out += '\n';
    std::string line(static_cast<size_t>(l.indent), ' ');
    line += l.text;
    if (!l.comment.empty()) {
      if (l.text.empty()) {
        line += l.comment;
      } else {
        line.resize(static_cast<size_t>(std::max<int>(align[k], static_cast<int>(line.size()) + 1)),
                    ' ');
        line += l.comment;
      }
    }
    out += rtrim(line);
    out += '\n';
  }
  return out;
}

// ---- blocks -----------------------------------------------------------------

void Formatter::block(std::vector<Item>& items, uint32_t start, uint32_t stop, int indent,
                      bool keep_blank_lines, bool top_level) {
  std::vector<size_t> by_source(items.size());
  for (size_t i = 0; i < items.size(); ++i) by_source[i] = i;
  std::stable_sort(by_source.begin(), by_source.end(),
                   [&](size_t a, size_t b) { return items[a].range.begin < items[b].range.begin; });
  std::vector<size_t> header_trailing, footer;
  uint32_t prev_end = start;
  std::vector<size_t>* prev_trailing = &header_trailing;
  for (size_t s : by_source) {
    Item& it = items[s];
    for (size_t c : take(prev_end, it.range.begin)) {
      if (same_line(prev_end, comments_[c].span.begin) && !(top_level && prev_end == 0))
        prev_trailing->push_back(c);
      else
        it.leading.push_back(c);
    }
    prev_end = it.range.end;
    prev_trailing = &it.trailing;
  }
  // A comment at the end of the last item's line is that item's, even past the block's end.
  size_t eol = text_.find('\n', prev_end);
  uint32_t until =
      std::max(stop, static_cast<uint32_t>(eol == std::string::npos ? text_.size() : eol));
  if (top_level) until = stop;
  for (size_t c : take(prev_end, until)) {
    if (same_line(prev_end, comments_[c].span.begin) && !(top_level && prev_end == 0))
      prev_trailing->push_back(c);
    else
      footer.push_back(c);
  }
  for (size_t c : header_trailing) trailing(c);

  std::vector<size_t> by_order = by_source;
  std::stable_sort(by_order.begin(), by_order.end(),
                   [&](size_t a, size_t b) { return items[a].order < items[b].order; });
  bool first = true;
  uint32_t prev_source_end = start;
  int prev_kind = -1;
  for (size_t s : by_order) {
    Item& it = items[s];
    auto blank_for = [&](uint32_t begin) {
      if (first && top_level) return false;
      if (first && !top_level) return false;  // never right after `{` or a header
      return keep_blank_lines && blank_between(prev_source_end, begin);
    };
    bool forced_blank = top_level && !first && (separated(it.kind) || separated(prev_kind));
    bool head = true;
    for (size_t c : it.leading) {
      bool blank = blank_for(comments_[c].span.begin) || (head && forced_blank);
      if (top_level) group_ = it.order + 1;
      comment_line(indent, c, blank);
      prev_source_end = comments_[c].span.end;
      first = false;
      head = false;
    }
    bool blank = blank_for(it.range.begin) || (head && forced_blank);
    size_t before = lines_.size();
    it.emit();
    if (lines_.size() > before) lines_[before].blank_before = blank;
    for (size_t c : take(it.range.begin, it.range.end)) trailing(c);
    for (size_t c : it.trailing) trailing(c);
    prev_source_end = it.trailing.empty() ? it.range.end : comments_[it.trailing.back()].span.end;
    prev_kind = it.kind;
    first = false;
  }
  for (size_t c : footer) {
    bool blank =
        !first && keep_blank_lines && blank_between(prev_source_end, comments_[c].span.begin);
    if (top_level && first) blank = false;
    comment_line(indent, c, blank);
    prev_source_end = comments_[c].span.end;
    first = false;
  }
}

bool Formatter::separated(int kind) {
  if (kind < 0) return false;
  auto k = static_cast<ast::DeclKind>(kind);
  return k == ast::DeclKind::kSchema || k == ast::DeclKind::kModule || k == ast::DeclKind::kRule ||
         k == ast::DeclKind::kTest || k == ast::DeclKind::kInvariant;
}

}  // namespace format_internal

namespace {

// The words of every comment, sorted: formatting may join two comments on one
// line or move one to the end of a line, but never lose a word.
std::vector<std::string> comment_words(const ast::File& f) {
  std::vector<std::string> words;
  for (const auto& c : f.comments) {
    std::istringstream in(c.text);
    std::string w;
    while (in >> w) words.push_back(w);
  }
  std::sort(words.begin(), words.end());
  return words;
}

}  // namespace

bool format_file(const SourceSet& sources, uint32_t file, std::string& out, Diagnostics& diags,
                 const FormatOptions& options) {
  Diagnostics parse_diags;
  ast::File tree = parse_file(sources, file, parse_diags);
  if (parse_diags.has_errors()) {
    for (const auto& d : parse_diags.items()) diags.add(d);
    return false;
  }
  const SourceFile& src = sources.files[file];
  for (const auto& d : tree.declarations)
    if (d.kind == ast::DeclKind::kRule && !d.rule->duplicate_clauses.empty()) {
      diags.error(d.rule->duplicate_clauses.front().span,
                  "a clause of rule `" + d.rule->name.text +
                      "` is written twice; the formatter leaves this file alone",
                  "remove one of them, then format again");
      return false;
    }
  format_internal::Formatter f(src, tree, options.width);
  std::string text = f.run();
  // The meaning check: the output must parse to the same tree with the same comments.
  SourceSet again;
  again.files.emplace_back(src.path(), text);
  Diagnostics again_diags;
  ast::File tree2 = parse_file(again, 0, again_diags);
  if (!f.all_comments_placed() || again_diags.has_errors() || !same_syntax(tree, tree2) ||
      comment_words(tree) != comment_words(tree2)) {
    diags.error(sources.span(file, 0, 0),
                "the formatter could not lay out `" + src.path() +
                    "` without changing it; the file is left alone",
                "this is a bug in `ethos fmt`: please report it with the file");
    return false;
  }
  out = std::move(text);
  return true;
}

bool format_text(const std::string& path, const std::string& text, std::string& out,
                 Diagnostics& diags, const FormatOptions& options) {
  SourceSet sources;
  sources.files.emplace_back(path, text);
  return format_file(sources, 0, out, diags, options);
}

}  // namespace ethos
