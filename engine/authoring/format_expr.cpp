// The Formatter's expressions: parentheses, the flat form, and the line breaks of long ones.
#include <ethos/authoring/formatter.hpp>

#include <sstream>

namespace ethos::format_internal {

// ---- expressions -----------------------------------------------------------

bool Formatter::compound(const Expr& e) {
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

bool Formatter::additive(const Expr& e) {
  return e.kind == ExprKind::kArith && (e.op == ast::Op::kAdd || e.op == ast::Op::kSub);
}

bool Formatter::paren(const Expr& k, const Expr& parent, size_t index) const {
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

std::string Formatter::duration_text(const Expr& e) {
  std::istringstream in(e.text);
  std::string n, unit;
  in >> n >> unit;
  return n + " " + unit;
}

std::string Formatter::kid_flat(const Expr& k, const Expr& parent, size_t index) const {
  std::string s = flat(k);
  return paren(k, parent, index) ? "(" + s + ")" : s;
}

std::string Formatter::flat(const Expr& e) const {
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

bool Formatter::forced(const Expr& e) const {
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

void Formatter::expr(const Expr& e, int trail) {
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

void Formatter::kid(const Expr& k, const Expr& parent, size_t index, int trail) {
  if (paren(k, parent, index)) {
    put("(");
    expr(k, trail + 1);
    put(")");
  } else {
    expr(k, trail);
  }
}

void Formatter::chain(const Expr& e, int trail) {
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

void Formatter::list(const Expr& e) {
  int base = base_ >= 0 ? base_ : lines_.back().indent;
  std::vector<std::pair<std::string, Range>> items;
  for (const auto& k : e.kids) items.push_back({flat(k), {k.span.begin, k.span.end}});
  put("[");
  fill(items, e.span.begin + 1, e.span.end - 1, base + 2);
  open(base);
  put("]");
}

void Formatter::fill(const std::vector<std::pair<std::string, Range>>& items, uint32_t start,
                     uint32_t stop, int indent) {
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

}  // namespace ethos::format_internal
