// The Formatter's declarations: the schema, modules, params, defines, rules and tests.
#include <ethos/authoring/formatter.hpp>

#include <algorithm>

namespace ethos::format_internal {

// ---- declarations ----------------------------------------------------------

void Formatter::declaration(const ast::Declaration& d) {
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
    case ast::DeclKind::kSource:
      source_declaration(*d.source);
      break;
    case ast::DeclKind::kInvariant:
      invariant(*d.invariant);
      break;
  }
}

void Formatter::source_declaration(const ast::Source& s) {
  open(0);
  put("source " + s.name.text + " " + std::string(source(s.title.span)));
  std::vector<Item> items;
  auto clause = [&](const char* keyword, const std::optional<ast::Located>& v, bool quoted,
                    int order) {
    if (!v) return;
    if (!quoted) {
      items.push_back(word_clause(keyword, *v, order));
      return;
    }
    Item it;
    it.range = {v->span.begin, v->span.end};
    it.order = order;
    std::string text = std::string(keyword) + " " + std::string(source(v->span));
    it.emit = [this, text] {
      open(2);
      put(text);
    };
    items.push_back(std::move(it));
  };
  clause("kind", s.kind, false, 0);
  clause("jurisdiction", s.jurisdiction, true, 1);
  clause("from", s.from, true, 2);
  clause("until", s.until, true, 3);
  clause("url", s.url, true, 4);
  clause("confidence", s.confidence, false, 5);
  if (!items.empty()) block(items, s.title.span.end, items_end(items), 2, false);
}

void Formatter::schema(const ast::Schema& s) {
  open(0);
  put("schema " + s.name.text + " ");
  record(s.record, 0);
}

void Formatter::record(const ast::TypeExpr& t, int indent) {
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

uint32_t Formatter::field_end(const ast::Field& f) const {
  uint32_t e = f.type.span.end + (f.optional ? 1 : 0);
  if (f.range) e = std::max(e, f.range->span.end);
  for (const auto& a : f.annotations) e = std::max(e, a.span.end);
  return e;
}

void Formatter::field(const ast::Field& f, int indent) {
  open(indent);
  put(f.name + ": ");
  type(f.type, indent);
  if (f.optional) put("?");
  if (f.range)
    put(" in " + std::string(source(f.range->lo.span)) + ".." +
        std::string(source(f.range->hi.span)));
  for (const auto& a : f.annotations) put(" @" + a.name);
}

void Formatter::type(const ast::TypeExpr& t, int indent) {
  // An enum's values, flat when they fit, else one per line; `end` is just
  // past its closing brace, `slack` the columns that follow it (`>`).
  auto enum_values = [&](uint32_t end, int slack) {
    std::vector<std::pair<std::string, Range>> values;
    for (size_t i = 0; i < t.enum_values.size(); ++i)
      values.push_back({t.enum_values[i], {t.enum_spans[i].begin, t.enum_spans[i].end}});
    uint32_t b = t.span.begin;
    std::string flat = "enum { ";
    for (size_t i = 0; i < values.size(); ++i) flat += (i ? ", " : "") + values[i].first;
    flat += " }";
    // Room for `?` and annotations is not known here; a few columns of slack keep it stable.
    if (!any_comment(b, end) && col() + static_cast<int>(flat.size()) + slack <= width_) {
      put(flat);
      return;
    }
    put("enum {");
    uint32_t open_brace = values.empty() ? b : static_cast<uint32_t>(text_.find('{', b));
    fill(values, open_brace + 1, end - 1, indent + 2);
    open(indent);
    put("}");
  };
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
      if (t.enum_values.empty()) {
        put("set<string>");
        break;
      }
      put("set<");
      enum_values(static_cast<uint32_t>(text_.rfind('}', t.span.end)) + 1, 1);
      put(">");
      break;
    case ast::TypeKind::kRecord:
      record(t, indent);
      break;
    case ast::TypeKind::kEnum:
      enum_values(t.span.end, 0);
      break;
  }
}

void Formatter::module(const ast::Module& m, Span decl) {
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

Item Formatter::word_clause(const char* keyword, const ast::Located& value, int order) {
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

void Formatter::param(const ast::Param& p) {
  open(0);
  put("param " + p.name.text + ": ");
  type(p.type, 0);
  put(" = ");
  expr(p.value, 0);
}

void Formatter::define(const ast::Define& d) {
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

void Formatter::rule(const ast::Rule& r) {
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
  std::vector<ast::Located> cites = cite_texts(r.cites);
  if (!cites.empty()) items.push_back(list_clause("cite", cites, true, 6));
  if (r.confidence) items.push_back(word_clause("confidence", *r.confidence, 7));
  if (r.severity) items.push_back(word_clause("severity", *r.severity, 8));
  if (!r.tags.empty()) items.push_back(list_clause("tags", r.tags, true, 9));
  block(items, r.name.span.end, items_end(items), 2, false);
}

// Citations are kept as written (a string, or `source § "section"`).
std::vector<ast::Located> Formatter::cite_texts(const std::vector<ast::Cite>& cites) const {
  std::vector<ast::Located> out;
  for (const auto& c : cites) out.push_back({std::string(source(c.span)), c.span});
  return out;
}

// invariant NAME:
//   CONDITION
//   when CONDITION
//   because "..."
//   cite ...
void Formatter::invariant(const ast::Invariant& v) {
  open(0);
  put("invariant " + v.name.text + ":");
  std::vector<Item> items;
  auto condition = [&](const char* keyword, const Expr& e, int order) {
    Item it;
    it.range = ext(e);
    it.order = order;
    it.emit = [this, keyword, &e] {
      open(2);
      put(keyword);
      expr(e, 0);
    };
    items.push_back(std::move(it));
  };
  condition("", v.holds, 0);
  if (v.when) condition("when ", *v.when, 1);
  if (v.because) {
    Item it;
    it.range = {v.because->span.begin, v.because->span.end};
    it.order = 2;
    it.emit = [this, &v] {
      open(2);
      put("because " + std::string(source(v.because->span)));
    };
    items.push_back(std::move(it));
  }
  std::vector<ast::Located> cites = cite_texts(v.cites);
  if (!cites.empty()) items.push_back(list_clause("cite", cites, true, 3));
  block(items, v.name.span.end, items_end(items), 2, false);
}

uint32_t Formatter::items_end(const std::vector<Item>& items) {
  uint32_t e = 0;
  for (const auto& it : items) e = std::max(e, it.range.end);
  return e;
}

Item Formatter::list_clause(const std::string& keyword, const std::vector<ast::Located>& values,
                            bool verbatim, int order, int indent) {
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

void Formatter::aligned(const std::vector<ast::Located>& values, bool verbatim) {
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

void Formatter::test(const ast::Test& t, Span decl) {
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

}  // namespace ethos::format_internal
