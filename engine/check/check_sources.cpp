// The Checker's sources: declared statutes, regulations, codes and guidance
// with their jurisdiction and dates; each rule's citations resolved, its
// reach checked against them, and its condition limited to when a source
// that supports it is in force.
#include <algorithm>
#include <set>

#include <ethos/base/text.hpp>
#include <ethos/base/time.hpp>
#include <ethos/check/checker.hpp>

namespace ethos::check_internal {

namespace {

const std::vector<std::string> kSourceKinds = {"statute", "regulation", "code", "guidance", "case"};

bool upper2(std::string_view s) {
  return s.size() == 2 && s[0] >= 'A' && s[0] <= 'Z' && s[1] >= 'A' && s[1] <= 'Z';
}

std::string place_name(const Source& s) {
  return s.scope == Source::Scope::kGlobal ? std::string("everywhere") : s.jurisdiction;
}

}  // namespace

void Checker::collect_source(const ast::Source& as) {
  Source s;
  s.id = as.name.text;
  s.title = as.title.text;
  s.span = as.name.span;
  if (s.title.empty())
    diags_.error(as.title.span, "the title of source " + quoted(s.id) + " is empty");
  for (const auto& d : as.duplicate_clauses)
    diags_.error(d.span, "this clause is written twice in source " + quoted(s.id));
  if (as.kind) {
    check_word(*as.kind, kSourceKinds, "kind");
    s.kind = as.kind->text;
  }
  if (as.confidence) {
    check_word(*as.confidence, kConfidences, "confidence");
    s.confidence = as.confidence->text;
  }
  if (as.url) s.url = as.url->text;
  s.jurisdiction = as.jurisdiction ? as.jurisdiction->text : "global";
  const std::string& j = s.jurisdiction;
  if (j == "global") {
    s.scope = Source::Scope::kGlobal;
  } else if (j == "EU") {
    s.scope = Source::Scope::kEu;
  } else if (upper2(j)) {
    s.scope = Source::Scope::kCountry;
    s.country = j;
  } else if (j.size() >= 4 && upper2(j.substr(0, 2)) && j[2] == '-' &&
             std::all_of(j.begin() + 3, j.end(), [](char c) { return c >= 'A' && c <= 'Z'; })) {
    s.scope = Source::Scope::kState;
    s.country = j.substr(0, 2);
    s.state = j.substr(3);
  } else {
    diags_.error(as.jurisdiction->span, "unknown jurisdiction " + quoted(j),
                 "write `\"global\"`, `\"EU\"`, a country (`\"US\"`, `\"DE\"`) or a country and "
                 "subdivision (`\"US-IL\"`)");
  }
  auto date = [&](const std::optional<ast::Located>& v, int64_t& out, std::string& text) {
    if (!v) return;
    text = v->text;
    if (!parse_timestamp(v->text, out))
      diags_.error(v->span, "expected a date such as `\"2026-01-01\"`, found " + quoted(v->text));
  };
  date(as.from, s.from, s.from_text);
  date(as.until, s.until, s.until_text);
  if (s.from != INT64_MIN && s.until != INT64_MAX && s.until <= s.from)
    diags_.error(as.until->span, "source " + quoted(s.id) + " ends before it starts");
  if (auto it = p_->source_by_id.find(s.id); it != p_->source_by_id.end()) {
    Diagnostic diag{
        Severity::kError, as.name.span, "source " + quoted(s.id) + " is declared twice", "", {}};
    diag.notes.push_back({p_->sources[it->second].span, "first declared here"});
    diags_.add(std::move(diag));
    return;
  }
  p_->source_by_id.emplace(s.id, static_cast<uint32_t>(p_->sources.size()));
  p_->sources.push_back(std::move(s));
  source_used_.push_back(false);
}

void Checker::bind_jurisdiction_slots() {
  bool scoped = std::any_of(p_->sources.begin(), p_->sources.end(),
                            [](const Source& s) { return s.scope != Source::Scope::kGlobal; });
  if (!scoped) return;
  auto slot = [&](const char* path, ValueType t) -> int32_t {
    auto it = p_->schema.by_path.find(path);
    if (it == p_->schema.by_path.end() || p_->schema.attributes[it->second].type.kind != t) {
      diags_.error(schema_span_, std::string("sources with a jurisdiction need `") + path + ": " +
                                     (t == ValueType::kBool ? "bool" : "string") +
                                     "` in the schema");
      return -1;
    }
    return static_cast<int32_t>(it->second);
  };
  p_->country_slot = slot("jurisdiction.country", ValueType::kString);
  p_->state_slot = slot("jurisdiction.state", ValueType::kString);
  p_->eu_slot = slot("jurisdiction.eu", ValueType::kBool);
}

// Where a rule can fire, as far as the top-level `and`s of its module's
// `applies when` and its `when` say: the countries and states it is limited
// to (empty: any), and whether it needs `jurisdiction.eu`.
Checker::Reach Checker::reach_of(uint32_t module, uint32_t condition) const {
  Reach reach;
  std::vector<uint32_t> stack{condition};
  if (p_->modules[module].applies) stack.push_back(*p_->modules[module].applies);
  auto strings_of = [&](const IrNode& n) {
    std::set<std::string> out;
    if (n.op == IrOp::kConst && n.type == ValueType::kString)
      out.insert(p_->symbol_text(n.imm));
    else if (n.op == IrOp::kConstSet)
      out.insert(p_->const_sets[n.a].texts.begin(), p_->const_sets[n.a].texts.end());
    return out;
  };
  auto limit = [](std::optional<std::set<std::string>>& to, std::set<std::string> values) {
    if (!to) {
      to = std::move(values);
      return;
    }
    std::set<std::string> both;
    std::set_intersection(to->begin(), to->end(), values.begin(), values.end(),
                          std::inserter(both, both.begin()));
    to = std::move(both);
  };
  while (!stack.empty()) {
    const IrNode& n = p_->nodes[stack.back()];
    stack.pop_back();
    if (n.op == IrOp::kAnd) {
      for (uint32_t k = 0; k < n.b; ++k) stack.push_back(p_->kids[n.a + k]);
    } else if (n.op == IrOp::kAttr && static_cast<int32_t>(n.a) == p_->eu_slot) {
      reach.eu = true;
    } else if ((n.op == IrOp::kEq || n.op == IrOp::kIn) && p_->nodes[n.a].op == IrOp::kAttr) {
      const auto slot = static_cast<int32_t>(p_->nodes[n.a].a);
      if (slot == p_->country_slot) limit(reach.countries, strings_of(p_->nodes[n.b]));
      if (slot == p_->state_slot) limit(reach.states, strings_of(p_->nodes[n.b]));
    }
  }
  return reach;
}

bool Checker::covers(const Source& s, const Reach& reach) {
  auto only = [](const std::optional<std::set<std::string>>& set, const std::string& v) {
    return set && !set->empty() &&
           std::all_of(set->begin(), set->end(), [&](const std::string& x) { return x == v; });
  };
  switch (s.scope) {
    case Source::Scope::kGlobal:
      return true;
    case Source::Scope::kEu:
      return reach.eu;
    case Source::Scope::kCountry:
      return only(reach.countries, s.country);
    case Source::Scope::kState:
      return only(reach.countries, s.country) && only(reach.states, s.state);
  }
  return false;
}

std::optional<Citation> Checker::citation(const ast::Cite& c) {
  Citation cit;
  if (!c.source) {
    if (c.text.text.empty()) diags_.error(c.span, "empty citation");
    cit.text = c.text.text;
    return cit;
  }
  auto it = p_->source_by_id.find(c.source->text);
  if (it == p_->source_by_id.end()) {
    std::vector<std::string> ids;
    for (const auto& s : p_->sources) ids.push_back(s.id);
    std::string near = closest(c.source->text, ids);
    diags_.error(c.source->span, "unknown source " + quoted(c.source->text),
                 near.empty() ? "declare it: `source " + c.source->text +
                                    " \"title\" kind statute jurisdiction \"US\"`"
                              : "did you mean " + quoted(near) + "?");
    return std::nullopt;
  }
  cit.source = static_cast<int32_t>(it->second);
  source_used_[it->second] = true;
  const Source& s = p_->sources[it->second];
  cit.section = c.text.text;
  cit.text = cit.section.empty() ? s.title : s.title + " \u00a7 " + cit.section;
  return cit;
}

uint32_t Checker::cite_sources(const ast::Rule& ar, Rule& r, uint32_t condition) {
  for (const auto& c : ar.cites) {
    std::optional<Citation> cit = citation(c);
    if (!cit) continue;
    if (cit->source >= 0) {
      const Source& s = p_->sources[static_cast<size_t>(cit->source)];
      if (s.scope != Source::Scope::kGlobal || s.dated()) r.scoped_cites = true;
    }
    r.cites.push_back(cit->text);
    r.citations.push_back(std::move(*cit));
  }
  if (!r.scoped_cites) return condition;

  // Which citations support the rule wherever it can fire?
  const Reach reach = reach_of(r.module, condition);
  std::vector<const Source*> supporting;
  bool always = false;
  const Source* narrow = nullptr;
  for (const auto& cit : r.citations) {
    if (cit.source < 0) {
      always = true;  // a string citation: taken to apply wherever the rule fires
      continue;
    }
    const Source& s = p_->sources[static_cast<size_t>(cit.source)];
    if (!covers(s, reach)) {
      if (!narrow) narrow = &s;
      continue;
    }
    if (!s.dated()) always = true;
    supporting.push_back(&s);
  }
  if (!always && supporting.empty()) {
    diags_.error(ar.name.span,
                 "rule " + quoted(r.id) + " can fire outside " + place_name(*narrow) + ", where " +
                     quoted(narrow->id) + " applies",
                 "limit the rule there (its module's `applies when` or its `when` names the "
                 "jurisdiction), or cite a source that applies wherever it fires");
    return condition;
  }
  if (always || p_->schema.time_slot < 0) return condition;

  // In force only while one of its supporting sources is: `now` in a window.
  note_read(static_cast<uint32_t>(p_->schema.time_slot));
  std::vector<uint32_t> windows;
  for (const Source* s : supporting) {
    std::vector<uint32_t> bounds;
    const uint32_t now = node2(IrOp::kNow, ValueType::kTimestamp, 0, 0);
    if (s->from != INT64_MIN)
      bounds.push_back(node2(IrOp::kGe, ValueType::kBool, now,
                             constant(ValueType::kTimestamp, s->from), ValueType::kTimestamp));
    if (s->until != INT64_MAX)
      bounds.push_back(node2(IrOp::kLt, ValueType::kBool, now,
                             constant(ValueType::kTimestamp, s->until), ValueType::kTimestamp));
    if (bounds.size() == 1) {
      windows.push_back(bounds[0]);
    } else {
      auto start = static_cast<uint32_t>(p_->kids.size());
      p_->kids.insert(p_->kids.end(), bounds.begin(), bounds.end());
      windows.push_back(node2(IrOp::kAnd, ValueType::kBool, start, 2));
    }
  }
  uint32_t window = windows[0];
  if (windows.size() > 1) {
    auto start = static_cast<uint32_t>(p_->kids.size());
    p_->kids.insert(p_->kids.end(), windows.begin(), windows.end());
    window = node2(IrOp::kOr, ValueType::kBool, start, static_cast<uint32_t>(windows.size()));
  }
  auto start = static_cast<uint32_t>(p_->kids.size());
  p_->kids.push_back(window);
  p_->kids.push_back(condition);
  return node2(IrOp::kAnd, ValueType::kBool, start, 2);
}

void Checker::report_unused_sources() {
  for (size_t i = 0; i < p_->sources.size(); ++i)
    if (!source_used_[i])
      diags_.warning(p_->sources[i].span, "source " + quoted(p_->sources[i].id) + " is never cited",
                     "remove it, or cite it in a rule");
}

}  // namespace ethos::check_internal
