// Private to format*.cpp: the Formatter, which lays out one file's syntax tree with its comments.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <ethos/authoring/format.hpp>

namespace ethos::format_internal {

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

class Formatter {
 public:
  Formatter(const SourceFile& src, const ast::File& file, size_t width);
  std::string run();
  bool all_comments_placed() const;

 private:
  // ---- source helpers ---------------------------------------------------------
  std::string_view source(Span s) const;
  bool same_line(uint32_t a, uint32_t b) const;
  bool blank_between(uint32_t a, uint32_t b) const;
  // The comment that holds byte `pos`, if any.
  const ast::Comment* comment_at(size_t pos) const;
  // The position of the significant character before `pos` (skipping blanks and comments), or -1.
  int64_t prev_significant(uint32_t pos) const;
  size_t next_significant(uint32_t pos) const;
  // The written parentheses around an expression: its range including them,
  // and whether there was at least one pair.
  Range ext(const Expr& e, bool* wrapped = nullptr) const;

  // ---- comments ---------------------------------------------------------------
  std::vector<size_t> take(uint32_t b, uint32_t e);
  bool any_comment(uint32_t b, uint32_t e) const;
  std::string comment_text(size_t i) const;

  // ---- output -----------------------------------------------------------------
  void open(int indent, bool blank = false);
  void put(std::string_view s);
  int col() const;
  void trailing(size_t c);
  void comment_line(int indent, size_t c, bool blank);
  std::string render() const;

  // ---- blocks -----------------------------------------------------------------
  // Prints items (in `order`) with the comments between them. `start` and
  // `stop` bound the block in the source; comments on the line of `start` end
  // the current output line, comments after the last item come last.
  void block(std::vector<Item>& items, uint32_t start, uint32_t stop, int indent,
             bool keep_blank_lines, bool top_level = false);
  static bool separated(int kind);

  // ---- declarations ----------------------------------------------------------
  void declaration(const ast::Declaration& d);
  void schema(const ast::Schema& s);
  // `{`, the fields one per line, `}` at `indent`.
  void record(const ast::TypeExpr& t, int indent);
  uint32_t field_end(const ast::Field& f) const;
  void field(const ast::Field& f, int indent);
  void type(const ast::TypeExpr& t, int indent);
  void module(const ast::Module& m, Span decl);
  Item word_clause(const char* keyword, const ast::Located& value, int order);
  void param(const ast::Param& p);
  void define(const ast::Define& d);
  void rule(const ast::Rule& r);
  void invariant(const ast::Invariant& v);
  std::vector<ast::Located> cite_texts(const std::vector<ast::Cite>& cites) const;
  void source_declaration(const ast::Source& s);
  static uint32_t items_end(const std::vector<Item>& items);
  // `keyword a, b, c` on one line, or one item per line under the first.
  Item list_clause(const std::string& keyword, const std::vector<ast::Located>& values,
                   bool verbatim, int order, int indent = 2);
  void aligned(const std::vector<ast::Located>& values, bool verbatim);
  void test(const ast::Test& t, Span decl);

  // ---- expressions -----------------------------------------------------------
  static bool compound(const Expr& e);
  static bool additive(const Expr& e);
  // Whether `k`, the `index`-th operand of `parent`, is printed in parentheses.
  bool paren(const Expr& k, const Expr& parent, size_t index) const;
  static std::string duration_text(const Expr& e);
  std::string kid_flat(const Expr& k, const Expr& parent, size_t index) const;
  std::string flat(const Expr& e) const;
  // Must this expression span several lines because of the comments inside it?
  bool forced(const Expr& e) const;
  // Writes `e` at the current position; `trail` columns follow it on its last line.
  void expr(const Expr& e, int trail);
  void kid(const Expr& k, const Expr& parent, size_t index, int trail);
  // Operands one per line, each continuation line starting with the operator.
  void chain(const Expr& e, int trail);
  // `[`, the items filled line by line, `]` under the start of the comparison.
  void list(const Expr& e);
  // Items separated by `, `, as many per line as fit, on lines of their own
  // at `indent`; a comment ends the line it follows.
  void fill(const std::vector<std::pair<std::string, Range>>& items, uint32_t start, uint32_t stop,
            int indent);

  const std::string& text_;
  const ast::File& file_;
  int width_;
  std::vector<ast::Comment> comments_;
  std::vector<bool> taken_;
  std::vector<Line> lines_;
  int group_ = 0;
  int base_ = -1;
};

}  // namespace ethos::format_internal
