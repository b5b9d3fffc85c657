#include <ethos/authoring/format.hpp>

#include <algorithm>
#include <functional>
#include <map>
#include <sstream>

#include <ethos/syntax/parser.hpp>

namespace ethos {
namespace {

using ast::Expr;
using ast::ExprKind;

// One output line: indentation, code, and the comment that ends it.
struct Line {
  int indent = 0;
  std::string text;
  std::string comment;
  bool blank_before = false;
  int group = 0;  // the top-level declaration it belongs to (comment alignment)
};

struct Range {
  uint32_t begin = 0;
  uint32_t end = 0;
};

// A piece of a block (a clause, a field, a statement, a declaration): its
// source range, its canonical position, and how to print it.
struct Item {
  Range range;
  int order = 0;
  int kind = 0;  // for declarations: the DeclKind
  std::function<void()> emit;
  // Filled by block(): comments that go above it and at the end of its line.
  std::vector<size_t> leading;
  std::vector<size_t> trailing;
};

std::string rtrim(std::string s) {
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.pop_back();
  return s;
}

class Formatter {
 public:
  Formatter(const SourceFile& src, const ast::File& file, size_t width)
      : text_(src.text()), file_(file), width_(static_cast<int>(width)) {
    comments_ = file.comments;
    std::sort(comments_.begin(), comments_.end(), [](const ast::Comment& a, const ast::Comment& b) {
      return a.span.begin < b.span.begin;
    });
    taken_.assign(comments_.size(), false);
  }

  std::string run() {
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

  bool all_comments_placed() const {
    return std::all_of(taken_.begin(), taken_.end(), [](bool b) { return b; });
  }

 private:
  // ---- source helpers ---------------------------------------------------------

  std::string_view source(Span s) const {
    return std::string_view(text_).substr(s.begin, s.end - s.begin);
  }

  bool same_line(uint32_t a, uint32_t b) const {
    if (b <= a) return true;
    return text_.find('\n', a) >= b;
  }

  bool blank_between(uint32_t a, uint32_t b) const {
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

  // The comment that holds byte `pos`, if any.
  const ast::Comment* comment_at(size_t pos) const {
    for (const auto& c : comments_)
      if (c.span.begin <= pos && pos < c.span.end) return &c;
    return nullptr;
  }

  // The position of the significant character before `pos` (skipping blanks and comments), or -1.
  int64_t prev_significant(uint32_t pos) const {
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
  size_t next_significant(uint32_t pos) const {
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

  // The written parentheses around an expression: its range including them,
  // and whether there was at least one pair.
  Range ext(const Expr& e, bool* wrapped = nullptr) const {
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
          while (w >= 0 &&
                 (std::isalnum(static_cast<unsigned char>(text_[static_cast<size_t>(w)])) ||
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

  std::vector<size_t> take(uint32_t b, uint32_t e) {
    std::vector<size_t> out;
    for (size_t i = 0; i < comments_.size(); ++i)
      if (!taken_[i] && comments_[i].span.begin >= b && comments_[i].span.begin < e) {
        taken_[i] = true;
        out.push_back(i);
      }
    return out;
  }
  bool any_comment(uint32_t b, uint32_t e) const {
    for (const auto& c : comments_)
      if (c.span.begin >= b && c.span.begin < e) return true;
    return false;
  }
  std::string comment_text(size_t i) const { return rtrim(comments_[i].text); }

  // ---- output -----------------------------------------------------------------

  void open(int indent, bool blank = false) {
    lines_.push_back(Line{indent, "", "", blank, group_});
  }
  void put(std::string_view s) { lines_.back().text += s; }
  int col() const { return lines_.back().indent + static_cast<int>(lines_.back().text.size()); }
  void trailing(size_t c) {
    std::string& slot = lines_.back().comment;
    slot += (slot.empty() ? "" : "  ") + comment_text(c);
  }
  void comment_line(int indent, size_t c, bool blank) {
    open(indent, blank);
    lines_.back().comment = comment_text(c);
  }

  std::string render() const {
    std::vector<int> align(lines_.size(), 0);
    // Trailing comments line up within a run of lines of one declaration
    // that no blank line interrupts.
    size_t i = 0;
    while (i < lines_.size()) {
      size_t j = i + 1;
      while (j < lines_.size() && !lines_[j].blank_before && lines_[j].group == lines_[i].group)
        ++j;
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
          line.resize(
              static_cast<size_t>(std::max<int>(align[k], static_cast<int>(line.size()) + 1)), ' ');
          line += l.comment;
        }
      }
      out += rtrim(line);
      out += '\n';
    }
    return out;
  }

  // ---- blocks -----------------------------------------------------------------

  // Prints items (in `order`) with the comments between them. `start` and
  // `stop` bound the block in the source; comments on the line of `start` end
  // the current output line, comments after the last item come last.
  void block(std::vector<Item>& items, uint32_t start, uint32_t stop, int indent,
             bool keep_blank_lines, bool top_level = false) {
    std::vector<size_t> by_source(items.size());
    for (size_t i = 0; i < items.size(); ++i) by_source[i] = i;
    std::stable_sort(by_source.begin(), by_source.end(), [&](size_t a, size_t b) {
      return items[a].range.begin < items[b].range.begin;
    });
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

  static bool separated(int kind) {
    if (kind < 0) return false;
    auto k = static_cast<ast::DeclKind>(kind);
    return k == ast::DeclKind::kSchema || k == ast::DeclKind::kModule ||
           k == ast::DeclKind::kRule || k == ast::DeclKind::kTest;
  }

  // ---- declarations ----------------------------------------------------------

  void declaration(const ast::Declaration& d) {
    switch (d.kind) {
      case ast::DeclKind::kSchema:
        schema(*d.schema);
        break;
      case ast::DeclKind::kModule:
        module(*d.module, d.span);
        break;
      case ast::DeclKind::kParam:
        param(*d.param);
        break;
      case ast::DeclKind::kDefine:
        define(*d.define);
        break;
      case ast::DeclKind::kObligation:
        open(0);
        put("obligation " + d.obligation->name.text + " " +
            std::string(source(d.obligation->text.span)));
        break;
      case ast::DeclKind::kRule:
        rule(*d.rule);
        break;
      case ast::DeclKind::kTest:
        test(*d.test, d.span);
        break;
    }
  }

  void schema(const ast::Schema& s) {
    open(0);
    put("schema " + s.name.text + " ");
    record(s.record, 0);
  }

  // `{`, the fields one per line, `}` at `indent`.
  void record(const ast::TypeExpr& t, int indent) {
    uint32_t open_brace = t.span.begin, close_brace = t.span.end > 0 ? t.span.end - 1 : 0;
    if (t.fields.empty() && !any_comment(open_brace, close_brace)) {
      put("{}");
      return;
    }
    put("{");
    std::vector<Item> items;
    for (size_t i = 0; i < t.fields.size(); ++i) {
      const ast::Field& f = t.fields[i];
      Item it;
      it.range = {f.span.begin, field_end(f)};
      it.order = static_cast<int>(i);
      it.emit = [this, &f, indent] { field(f, indent + 2); };
      items.push_back(std::move(it));
    }
    block(items, open_brace + 1, close_brace, indent + 2, /*keep_blank_lines=*/true);
    open(indent);
    put("}");
  }

  static uint32_t field_end(const ast::Field& f) {
    uint32_t e = f.type.span.end + (f.optional ? 1 : 0);
    for (const auto& a : f.annotations) e = std::max(e, a.span.end);
    return e;
  }

  void field(const ast::Field& f, int indent) {
    open(indent);
    put(f.name + ": ");
    type(f.type, indent);
    if (f.optional) put("?");
    for (const auto& a : f.annotations) put(" @" + a.name);
  }

  void type(const ast::TypeExpr& t, int indent) {
    switch (t.kind) {
      case ast::TypeKind::kBool:
        put("bool");
        break;
      case ast::TypeKind::kInt:
        put("int");
        break;
      case ast::TypeKind::kString:
        put("string");
        break;
      case ast::TypeKind::kTimestamp:
        put("timestamp");
        break;
      case ast::TypeKind::kDuration:
        put("duration");
        break;
      case ast::TypeKind::kSet:
        put("set<string>");
        break;
      case ast::TypeKind::kRecord:
        record(t, indent);
        break;
      case ast::TypeKind::kEnum: {
        std::vector<std::pair<std::string, Range>> values;
        for (size_t i = 0; i < t.enum_values.size(); ++i)
          values.push_back({t.enum_values[i], {t.enum_spans[i].begin, t.enum_spans[i].end}});
        uint32_t b = t.span.begin, e = t.span.end;
        std::string flat = "enum { ";
        for (size_t i = 0; i < values.size(); ++i) flat += (i ? ", " : "") + values[i].first;
        flat += " }";
        // Room for `?` and annotations is not known here; a few columns of slack keep it stable.
        if (!any_comment(b, e) && col() + static_cast<int>(flat.size()) <= width_) {
          put(flat);
          break;
        }
        put("enum {");
        uint32_t open_brace = values.empty() ? b : static_cast<uint32_t>(text_.find('{', b));
        fill(values, open_brace + 1, e - 1, indent + 2);
        open(indent);
        put("}");
        break;
      }
    }
  }

  void module(const ast::Module& m, Span decl) {
    open(0);
    put("module " + m.name.text);
    uint32_t start = m.name.span.end;
    if (m.title) {
      put(" " + std::string(source(m.title->span)));
      start = m.title->span.end;
    }
    std::vector<Item> items;
    if (m.applies) {
      Item it;
      it.range = ext(*m.applies);
      it.order = 0;
      it.emit = [this, &m] {
        open(2);
        put("applies when ");
        expr(*m.applies, 0);
      };
      items.push_back(std::move(it));
    }
    if (m.concern) items.push_back(word_clause("concern", *m.concern, 1));
    if (m.default_effect) items.push_back(word_clause("default", *m.default_effect, 2));
    block(items, start, decl.end, 2, false);
  }

  Item word_clause(const char* keyword, const ast::Located& value, int order) {
    Item it;
    it.range = {value.span.begin, value.span.end};
    it.order = order;
    std::string text = std::string(keyword) + " " + value.text;
    it.emit = [this, text] {
      open(2);
      put(text);
    };
    return it;
  }

  void param(const ast::Param& p) {
    open(0);
    put("param " + p.name.text + ": ");
    type(p.type, 0);
    put(" = ");
    expr(p.value, 0);
  }

  void define(const ast::Define& d) {
    open(0);
    std::string head = "define " + d.name.text + " =";
    std::string f = flat(d.value);
    if (!forced(d.value) && static_cast<int>(head.size() + 1 + f.size()) <= width_) {
      put(head + " " + f);
      return;
    }
    put(head);
    open(2);
    expr(d.value, 0);
  }

  void rule(const ast::Rule& r) {
    open(0);
    put("rule " + r.name.text + ":");
    std::vector<Item> items;
    {
      Item it;
      it.range = {r.effect_span.begin, r.effect_span.end};
      it.order = 0;
      it.emit = [this, &r] {
        open(2);
        put(ast::effect_name(r.effect));
        if (r.obligation) put(" " + r.obligation->text);
      };
      items.push_back(std::move(it));
    }
    auto condition = [&](const char* keyword, const Expr& e, int order) {
      Item it;
      it.range = ext(e);
      it.order = order;
      it.emit = [this, keyword, &e] {
        open(2);
        put(std::string(keyword) + " ");
        expr(e, 0);
      };
      items.push_back(std::move(it));
    };
    if (r.when) condition("when", *r.when, 1);
    if (r.unless) condition("unless", *r.unless, 2);
    if (!r.overrides.empty()) items.push_back(list_clause("overrides", r.overrides, false, 3));
    if (r.concern) items.push_back(word_clause("concern", *r.concern, 4));
    if (r.because) {
      Item it;
      it.range = {r.because->span.begin, r.because->span.end};
      it.order = 5;
      it.emit = [this, &r] {
        open(2);
        put("because " + std::string(source(r.because->span)));
      };
      items.push_back(std::move(it));
    }
    if (!r.cites.empty()) items.push_back(list_clause("cite", r.cites, true, 6));
    if (r.confidence) items.push_back(word_clause("confidence", *r.confidence, 7));
    if (r.severity) items.push_back(word_clause("severity", *r.severity, 8));
    if (!r.tags.empty()) items.push_back(list_clause("tags", r.tags, true, 9));
    block(items, r.name.span.end, items_end(items), 2, false);
  }

  static uint32_t items_end(const std::vector<Item>& items) {
    uint32_t e = 0;
    for (const auto& it : items) e = std::max(e, it.range.end);
    return e;
  }

  // `keyword a, b, c` on one line, or one item per line under the first.
  Item list_clause(const std::string& keyword, const std::vector<ast::Located>& values,
                   bool verbatim, int order, int indent = 2) {
    Item it;
    it.range = {values.front().span.begin, values.back().span.end};
    it.order = order;
    it.emit = [this, keyword, &values, verbatim, indent] {
      open(indent);
      put(keyword + " ");
      aligned(values, verbatim);
    };
    return it;
  }

  void aligned(const std::vector<ast::Located>& values, bool verbatim) {
    std::vector<std::string> texts;
    size_t total = 0;
    for (const auto& v : values) {
      texts.push_back(verbatim ? std::string(source(v.span)) : v.text);
      total += texts.back().size() + 2;
    }
    int start_col = col();
    bool flat_ok = !any_comment(values.front().span.begin, values.back().span.begin) &&
                   start_col + static_cast<int>(total) - 2 <= width_;
    for (size_t i = 0; i < values.size(); ++i) {
      if (i > 0) {
        if (flat_ok) {
          put(", ");
        } else {
          put(",");
          uint32_t pe = values[i - 1].span.end;
          for (size_t c : take(pe, values[i].span.begin)) {
            if (same_line(pe, comments_[c].span.begin))
              trailing(c);
            else
              comment_line(start_col, c, false);
          }
          open(start_col);
        }
      }
      put(texts[i]);
    }
  }

  void test(const ast::Test& t, Span decl) {
    open(0);
    put("test " + std::string(source(t.name.span)) + " {");
    std::vector<Item> items;
    auto add = [&](Range r, std::function<void()> emit) {
      Item it;
      it.range = r;
      it.emit = std::move(emit);
      items.push_back(std::move(it));
    };
    if (t.given)
      add({t.given->span.begin, t.given->span.end}, [this, &t] {
        open(2);
        put("given " + std::string(source(t.given->span)));
      });
    for (const auto& s : t.sets)
      add({s.path.span.begin, ext(s.value).end}, [this, &s] {
        open(2);
        put("set " + s.path.text + " = ");
        expr(s.value, 0);
      });
    for (const auto& u : t.unsets)
      add({u.span.begin, u.span.end}, [this, &u] {
        open(2);
        put("unset " + u.text);
      });
    for (const auto& x : t.expectations)
      add({x.span.begin, x.span.end}, [this, &x] {
        open(2);
        put("expect ");
        switch (x.kind) {
          case ast::ExpectKind::kOutcome:
            put(x.items.at(0).text);
            return;
          case ast::ExpectKind::kRules:
            put("rules ");
            break;
          case ast::ExpectKind::kNoRules:
            put("no rules ");
            break;
          case ast::ExpectKind::kObligations:
            put("obligations ");
            break;
          case ast::ExpectKind::kMissing:
            put("missing ");
            break;
        }
        aligned(x.items, false);
      });
    // Statements keep their written order.
    std::stable_sort(items.begin(), items.end(),
                     [](const Item& a, const Item& b) { return a.range.begin < b.range.begin; });
    for (size_t i = 0; i < items.size(); ++i) items[i].order = static_cast<int>(i);
    block(items, t.name.span.end, decl.end > 0 ? decl.end - 1 : 0, 2, false);
    open(0);
    put("}");
  }

  // ---- expressions -----------------------------------------------------------

  static bool compound(const Expr& e) {
    switch (e.kind) {
      case ExprKind::kAnd:
      case ExprKind::kOr:
      case ExprKind::kNot:
      case ExprKind::kCompare:
      case ExprKind::kArith:
      case ExprKind::kIsPresent:
      case ExprKind::kIsMissing:
        return true;
      default:
        return false;
    }
  }

  static bool additive(const Expr& e) {
    return e.kind == ExprKind::kArith && (e.op == ast::Op::kAdd || e.op == ast::Op::kSub);
  }

  // Whether `k`, the `index`-th operand of `parent`, is printed in parentheses.
  bool paren(const Expr& k, const Expr& parent, size_t index) const {
    bool needed = false;
    switch (parent.kind) {
      case ExprKind::kAnd:
        needed = k.kind == ExprKind::kOr;
        break;
      case ExprKind::kNot:
        needed = k.kind == ExprKind::kAnd || k.kind == ExprKind::kOr;
        break;
      case ExprKind::kCompare:
        needed = k.kind == ExprKind::kAnd || k.kind == ExprKind::kOr || k.kind == ExprKind::kNot ||
                 k.kind == ExprKind::kCompare || k.kind == ExprKind::kIsPresent ||
                 k.kind == ExprKind::kIsMissing;
        break;
      case ExprKind::kArith:
        if (k.kind != ExprKind::kArith) {
          needed = compound(k);
        } else if (parent.op == ast::Op::kMul) {
          needed = additive(k) || index == 1;
        } else {
          needed = index == 1 && additive(k);
        }
        break;
      case ExprKind::kIsPresent:
      case ExprKind::kIsMissing:
        needed = compound(k);
        break;
      default:
        break;
    }
    if (needed) return true;
    if (!compound(k)) return false;
    bool wrapped = false;
    ext(k, &wrapped);
    return wrapped;
  }

  static std::string duration_text(const Expr& e) {
    std::istringstream in(e.text);
    std::string n, unit;
    in >> n >> unit;
    return n + " " + unit;
  }

  std::string kid_flat(const Expr& k, const Expr& parent, size_t index) const {
    std::string s = flat(k);
    return paren(k, parent, index) ? "(" + s + ")" : s;
  }

  std::string flat(const Expr& e) const {
    switch (e.kind) {
      case ExprKind::kBool:
        return e.bool_value ? "true" : "false";
      case ExprKind::kInt:
        return std::to_string(e.int_value);
      case ExprKind::kString:
        return std::string(source(e.span));
      case ExprKind::kDuration:
        return duration_text(e);
      case ExprKind::kList: {
        std::string s = "[";
        for (size_t i = 0; i < e.kids.size(); ++i) s += (i ? ", " : "") + flat(e.kids[i]);
        return s + "]";
      }
      case ExprKind::kNow:
        return "now";
      case ExprKind::kName:
        return e.text;
      case ExprKind::kCall:
        return e.text + "(" + flat(e.kids.at(0)) + ")";
      case ExprKind::kNot:
        return "not " + kid_flat(e.kids.at(0), e, 0);
      case ExprKind::kAnd:
      case ExprKind::kOr: {
        std::string s;
        for (size_t i = 0; i < e.kids.size(); ++i) {
          if (i) s += e.kind == ExprKind::kAnd ? " and " : " or ";
          s += kid_flat(e.kids[i], e, i);
        }
        return s;
      }
      case ExprKind::kCompare:
      case ExprKind::kArith:
        return kid_flat(e.kids.at(0), e, 0) + " " + ast::op_text(e.op) + " " +
               kid_flat(e.kids.at(1), e, 1);
      case ExprKind::kIsPresent:
        return kid_flat(e.kids.at(0), e, 0) + " is present";
      case ExprKind::kIsMissing:
        return kid_flat(e.kids.at(0), e, 0) + " is missing";
    }
    return "";
  }

  // Must this expression span several lines because of the comments inside it?
  bool forced(const Expr& e) const {
    switch (e.kind) {
      case ExprKind::kAnd:
      case ExprKind::kOr:
        if (any_comment(ext(e.kids.front()).begin, ext(e.kids.back()).begin)) return true;
        return forced(e.kids.back());
      case ExprKind::kNot:
        return forced(e.kids.at(0));
      case ExprKind::kCompare:
        return forced(e.kids.at(0)) || forced(e.kids.at(1));
      case ExprKind::kList:
        return !e.kids.empty() && any_comment(e.kids.front().span.begin, e.kids.back().span.begin);
      default:
        return false;
    }
  }

  // Writes `e` at the current position; `trail` columns follow it on its last line.
  void expr(const Expr& e, int trail) {
    std::string f = flat(e);
    if (!forced(e) && col() + static_cast<int>(f.size()) + trail <= width_) {
      put(f);
      return;
    }
    switch (e.kind) {
      case ExprKind::kAnd:
      case ExprKind::kOr:
        chain(e, trail);
        return;
      case ExprKind::kNot:
        put("not ");
        kid(e.kids[0], e, 0, trail);
        return;
      case ExprKind::kCompare: {
        int saved = base_;
        base_ = col();
        kid(e.kids[0], e, 0, 0);
        put(std::string(" ") + ast::op_text(e.op) + " ");
        kid(e.kids[1], e, 1, trail);
        base_ = saved;
        return;
      }
      case ExprKind::kList:
        list(e);
        return;
      default:
        put(f);
        return;
    }
  }

  void kid(const Expr& k, const Expr& parent, size_t index, int trail) {
    if (paren(k, parent, index)) {
      put("(");
      expr(k, trail + 1);
      put(")");
    } else {
      expr(k, trail);
    }
  }

  // Operands one per line, each continuation line starting with the operator.
  void chain(const Expr& e, int trail) {
    int start = col();
    const char* op = e.kind == ExprKind::kAnd ? "and " : "or ";
    for (size_t i = 0; i < e.kids.size(); ++i) {
      const Expr& k = e.kids[i];
      Range kr = ext(k);
      if (i > 0) {
        uint32_t pe = ext(e.kids[i - 1]).end;
        for (size_t c : take(pe, kr.begin)) {
          if (same_line(pe, comments_[c].span.begin))
            trailing(c);
          else
            comment_line(start, c, false);
        }
        open(start);
        put(op);
      }
      kid(k, e, i, i + 1 == e.kids.size() ? trail : 0);
      for (size_t c : take(kr.begin, kr.end)) trailing(c);
    }
  }

  // `[`, the items filled line by line, `]` under the start of the comparison.
  void list(const Expr& e) {
    int base = base_ >= 0 ? base_ : lines_.back().indent;
    std::vector<std::pair<std::string, Range>> items;
    for (const auto& k : e.kids) items.push_back({flat(k), {k.span.begin, k.span.end}});
    put("[");
    fill(items, e.span.begin + 1, e.span.end - 1, base + 2);
    open(base);
    put("]");
  }

  // Items separated by `, `, as many per line as fit, on lines of their own
  // at `indent`; a comment ends the line it follows.
  void fill(const std::vector<std::pair<std::string, Range>>& items, uint32_t start, uint32_t stop,
            int indent) {
    uint32_t prev = start;
    bool need_line = true;
    for (size_t i = 0; i < items.size(); ++i) {
      std::string text = items[i].first + (i + 1 < items.size() ? "," : "");
      for (size_t c : take(prev, items[i].second.begin)) {
        if (same_line(prev, comments_[c].span.begin)) {
          trailing(c);  // ends the line of the previous item, or of `{` / `[`
        } else {
          comment_line(indent, c, false);
        }
        need_line = true;
      }
      if (!need_line && col() + 1 + static_cast<int>(text.size()) > width_) need_line = true;
      if (need_line) {
        open(indent);
        need_line = false;
      } else {
        put(" ");
      }
      put(text);
      prev = items[i].second.end;
    }
    for (size_t c : take(prev, stop)) {
      if (same_line(prev, comments_[c].span.begin))
        trailing(c);
      else
        comment_line(indent, c, false);
    }
  }

  const std::string& text_;
  const ast::File& file_;
  int width_;
  std::vector<ast::Comment> comments_;
  std::vector<bool> taken_;
  std::vector<Line> lines_;
  int group_ = 0;
  int base_ = -1;
};

// ---- structural comparison ---------------------------------------------------

bool same_expr(const Expr& a, const Expr& b) {
  if (a.kind != b.kind || a.op != b.op || a.kids.size() != b.kids.size()) return false;
  switch (a.kind) {
    case ExprKind::kBool:
      if (a.bool_value != b.bool_value) return false;
      break;
    case ExprKind::kInt:
    case ExprKind::kDuration:
      if (a.int_value != b.int_value) return false;
      break;
    case ExprKind::kString:
    case ExprKind::kName:
    case ExprKind::kCall:
      if (a.text != b.text) return false;
      break;
    default:
      break;
  }
  for (size_t i = 0; i < a.kids.size(); ++i)
    if (!same_expr(a.kids[i], b.kids[i])) return false;
  return true;
}

template <typename T, typename F>
bool same_opt(const std::optional<T>& a, const std::optional<T>& b, F eq) {
  if (a.has_value() != b.has_value()) return false;
  return !a || eq(*a, *b);
}

bool same_located(const ast::Located& a, const ast::Located& b) { return a.text == b.text; }

bool same_list(const std::vector<ast::Located>& a, const std::vector<ast::Located>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (a[i].text != b[i].text) return false;
  return true;
}

bool same_type(const ast::TypeExpr& a, const ast::TypeExpr& b) {
  if (a.kind != b.kind || a.enum_values != b.enum_values || a.fields.size() != b.fields.size())
    return false;
  for (size_t i = 0; i < a.fields.size(); ++i) {
    const ast::Field& x = a.fields[i];
    const ast::Field& y = b.fields[i];
    if (x.name != y.name || x.optional != y.optional ||
        x.annotations.size() != y.annotations.size() || !same_type(x.type, y.type))
      return false;
    for (size_t k = 0; k < x.annotations.size(); ++k)
      if (x.annotations[k].name != y.annotations[k].name) return false;
  }
  return true;
}

bool same_declaration(const ast::Declaration& a, const ast::Declaration& b) {
  if (a.kind != b.kind) return false;
  switch (a.kind) {
    case ast::DeclKind::kSchema:
      return a.schema->name.text == b.schema->name.text &&
             same_type(a.schema->record, b.schema->record);
    case ast::DeclKind::kModule: {
      const auto &x = *a.module, &y = *b.module;
      return x.name.text == y.name.text && same_opt(x.title, y.title, same_located) &&
             same_opt(x.applies, y.applies, same_expr) &&
             same_opt(x.default_effect, y.default_effect, same_located) &&
             same_opt(x.concern, y.concern, same_located);
    }
    case ast::DeclKind::kParam:
      return a.param->name.text == b.param->name.text && same_type(a.param->type, b.param->type) &&
             same_expr(a.param->value, b.param->value);
    case ast::DeclKind::kDefine:
      return a.define->name.text == b.define->name.text &&
             same_expr(a.define->value, b.define->value);
    case ast::DeclKind::kObligation:
      return a.obligation->name.text == b.obligation->name.text &&
             a.obligation->text.text == b.obligation->text.text;
    case ast::DeclKind::kRule: {
      const auto &x = *a.rule, &y = *b.rule;
      return x.name.text == y.name.text && x.effect == y.effect &&
             same_opt(x.obligation, y.obligation, same_located) &&
             same_opt(x.when, y.when, same_expr) && same_opt(x.unless, y.unless, same_expr) &&
             same_list(x.overrides, y.overrides) && same_opt(x.because, y.because, same_located) &&
             same_list(x.cites, y.cites) && same_opt(x.concern, y.concern, same_located) &&
             same_opt(x.severity, y.severity, same_located) &&
             same_opt(x.confidence, y.confidence, same_located) && same_list(x.tags, y.tags) &&
             x.duplicate_clauses.size() == y.duplicate_clauses.size();
    }
    case ast::DeclKind::kTest: {
      const auto &x = *a.test, &y = *b.test;
      if (x.name.text != y.name.text || !same_opt(x.given, y.given, same_located) ||
          !same_list(x.unsets, y.unsets) || x.sets.size() != y.sets.size() ||
          x.expectations.size() != y.expectations.size())
        return false;
      for (size_t i = 0; i < x.sets.size(); ++i)
        if (x.sets[i].path.text != y.sets[i].path.text ||
            !same_expr(x.sets[i].value, y.sets[i].value))
          return false;
      for (size_t i = 0; i < x.expectations.size(); ++i)
        if (x.expectations[i].kind != y.expectations[i].kind ||
            !same_list(x.expectations[i].items, y.expectations[i].items))
          return false;
      return true;
    }
  }
  return false;
}

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

bool same_syntax(const ast::File& a, const ast::File& b) {
  if (a.declarations.size() != b.declarations.size()) return false;
  for (size_t i = 0; i < a.declarations.size(); ++i)
    if (!same_declaration(a.declarations[i], b.declarations[i])) return false;
  return true;
}

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
  Formatter f(src, tree, options.width);
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

// ---- diff ----------------------------------------------------------------------

namespace {
std::vector<std::string> split_lines(const std::string& s) {
  std::vector<std::string> out;
  size_t b = 0;
  while (b < s.size()) {
    size_t e = s.find('\n', b);
    if (e == std::string::npos) e = s.size();
    out.push_back(s.substr(b, e - b));
    b = e + 1;
  }
  return out;
}
}  // namespace

std::string unified_diff(const std::string& path, const std::string& before,
                         const std::string& after) {
  if (before == after) return {};
  std::vector<std::string> a = split_lines(before), b = split_lines(after);
  // Longest common subsequence on lines (policy files are small).
  size_t n = a.size(), m = b.size();
  std::vector<std::vector<uint32_t>> lcs(n + 1, std::vector<uint32_t>(m + 1, 0));
  for (size_t i = n; i-- > 0;)
    for (size_t j = m; j-- > 0;)
      lcs[i][j] = a[i] == b[j] ? lcs[i + 1][j + 1] + 1 : std::max(lcs[i + 1][j], lcs[i][j + 1]);
  struct Op {
    char tag;  // ' ', '-', '+'
    size_t ai, bi;
  };
  std::vector<Op> ops;
  size_t i = 0, j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && a[i] == b[j]) {
      ops.push_back({' ', i++, j++});
    } else if (i < n && (j == m || lcs[i + 1][j] >= lcs[i][j + 1])) {
      ops.push_back({'-', i++, j});
    } else {
      ops.push_back({'+', i, j++});
    }
  }
  std::string out = "--- " + path + "\n+++ " + path + " (formatted)\n";
  const size_t ctx = 3;
  size_t k = 0;
  while (k < ops.size()) {
    if (ops[k].tag == ' ') {
      ++k;
      continue;
    }
    size_t start = k >= ctx ? k - ctx : 0;
    size_t end = k;
    // Extend the hunk while changes are within 2*ctx of each other.
    size_t last_change = k;
    while (end < ops.size()) {
      if (ops[end].tag != ' ')
        last_change = end;
      else if (end - last_change > 2 * ctx)
        break;
      ++end;
    }
    end = std::min(ops.size(), last_change + ctx + 1);
    size_t a_start = ops[start].ai, b_start = ops[start].bi, a_len = 0, b_len = 0;
    for (size_t x = start; x < end; ++x) {
      if (ops[x].tag != '+') ++a_len;
      if (ops[x].tag != '-') ++b_len;
    }
    out += "@@ -" + std::to_string(a_len ? a_start + 1 : a_start) + "," + std::to_string(a_len) +
           " +" + std::to_string(b_len ? b_start + 1 : b_start) + "," + std::to_string(b_len) +
           " @@\n";
    for (size_t x = start; x < end; ++x) {
      const Op& o = ops[x];
      out += o.tag;
      out += o.tag == '+' ? b[o.bi] : a[o.ai];
      out += '\n';
    }
    k = end;
  }
  return out;
}

}  // namespace ethos
