#include <ethos/check/check.hpp>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <ctime>
#include <set>

#include <ethos/base/text.hpp>
#include <ethos/base/time.hpp>
#include <ethos/check/checker.hpp>
#include <ethos/syntax/parser.hpp>

namespace ethos {

int32_t Schema::enum_index(uint16_t enum_id, std::string_view value) const {
  const auto& vals = enums[enum_id];
  for (size_t i = 0; i < vals.size(); ++i)
    if (vals[i] == value) return static_cast<int32_t>(i);
  return -1;
}

int32_t Policy::symbol(std::string_view text) const {
  auto it = symbols.find(text);
  return it == symbols.end() ? -1 : it->second;
}

const Rule* Policy::find_rule(std::string_view id) const {
  auto it = rule_by_id.find(id);
  return it == rule_by_id.end() ? nullptr : &rules[it->second];
}

std::string type_name(const Type& t, const Schema& schema) {
  switch (t.kind) {
    case ValueType::kBool:
      return "bool";
    case ValueType::kInt:
      return "int";
    case ValueType::kString:
      return "string";
    case ValueType::kTimestamp:
      return "timestamp";
    case ValueType::kDuration:
      return "duration";
    case ValueType::kSet: {
      if (t.elem != ValueType::kEnum) return "set<string>";
      std::string s = "set<enum {";
      const auto& vals = schema.enums[t.enum_id];
      for (size_t i = 0; i < vals.size(); ++i) s += (i ? ", " : " ") + vals[i];
      return s + " }>";
    }
    case ValueType::kRecord:
      return "record";
    case ValueType::kList:
      return "list";
    case ValueType::kError:
      return "<error>";
    case ValueType::kEnum: {
      std::string s = "enum {";
      const auto& vals = schema.enums[t.enum_id];
      for (size_t i = 0; i < vals.size(); ++i) s += (i ? ", " : " ") + vals[i];
      return s + " }";
    }
  }
  return "?";
}

namespace check_internal {
namespace {

std::string one_of(const std::vector<std::string>& words) {
  std::string s;
  for (size_t i = 0; i < words.size(); ++i) {
    if (i) s += i + 1 == words.size() ? " or " : ", ";
    s += quoted(words[i]);
  }
  return s;
}

}  // namespace

std::shared_ptr<Policy> Checker::run() {
  p_ = std::make_shared<Policy>();
  build_schema();
  // Without a schema every attribute is unknown: one error says it all.
  if (no_schema_) return nullptr;
  collect_declarations();
  bind_jurisdiction_slots();
  check_params();
  order_and_type_defines();
  check_modules();
  check_rules();
  check_invariants();
  order_rules();
  compute_reads();
  check_tests();
  report_unused();
  if (diags_.has_errors()) return nullptr;
  return p_;
}

// ---- schema ----

void Checker::build_schema() {
  const ast::Schema* found = nullptr;
  for (const auto& f : files_)
    for (const auto& d : f.declarations)
      if (d.kind == ast::DeclKind::kSchema) {
        if (found) {
          Diagnostic diag{Severity::kError,
                          d.schema->name.span,
                          "a bundle has one schema; this is a second one",
                          "",
                          {}};
          diag.notes.push_back({found->name.span, "the first schema is here"});
          diags_.add(std::move(diag));
          continue;
        }
        found = d.schema.get();
      }
  if (!found) {
    Span s{};
    if (!files_.empty()) s = sources_.span(files_.front().file, 0, 0);
    diags_.error(s, "the bundle has no `schema`",
                 "check the whole policy directory, or name its schema file too (`ethos check "
                 "schema.ethos " +
                     (files_.empty() ? std::string("policy.ethos")
                                     : sources_.files[files_.front().file].path()) +
                     "`); a new bundle starts with `schema request { request_id: string  time: "
                     "timestamp ... }`");
    no_schema_ = true;
    return;
  }
  schema_span_ = found->name.span;
  add_fields(found->record, -1, "", false);
  auto require_field = [&](const char* name, ValueType t) {
    auto it = p_->schema.by_path.find(name);
    if (it == p_->schema.by_path.end() || p_->schema.attributes[it->second].type.kind != t ||
        p_->schema.attributes[it->second].optional) {
      diags_.error(found->name.span, std::string("the schema must declare `") + name + ": " +
                                         (t == ValueType::kString ? "string" : "timestamp") +
                                         "` (required)");
      return -1;
    }
    return static_cast<int32_t>(it->second);
  };
  p_->schema.request_id_slot = require_field("request_id", ValueType::kString);
  p_->schema.time_slot = require_field("time", ValueType::kTimestamp);
}

void Checker::add_fields(const ast::TypeExpr& record, int32_t parent, const std::string& prefix,
                         bool absent) {
  std::set<std::string> seen;
  for (const auto& f : record.fields) {
    if (!seen.insert(f.name).second) {
      diags_.error(f.span,
                   "duplicate field " + quoted(f.name) +
                       (prefix.empty() ? "" : " in `" + prefix.substr(0, prefix.size() - 1) + "`"));
      continue;
    }
    Attribute a;
    a.path = prefix + f.name;
    a.name = f.name;
    a.optional = f.optional;
    a.may_be_absent = absent || f.optional;
    a.parent = parent;
    a.span = f.span;
    for (const auto& an : f.annotations) {
      if (an.name == "fixed")
        a.fixed = true;
      else if (an.name == "pseudonymize")
        a.pseudonymize = true;
      else if (an.name == "redact")
        a.redact = true;
      else {
        std::string c = closest(an.name, kAnnotations);
        diags_.error(an.span, "unknown annotation `@" + an.name + "`",
                     c.empty() ? "annotations are `@fixed`, `@pseudonymize` and `@redact`"
                               : "did you mean `@" + c + "`?");
      }
    }
    a.type = schema_type(f.type);
    if (f.range) check_range(f, a);
    auto slot = static_cast<uint32_t>(p_->schema.attributes.size());
    p_->schema.attributes.push_back(a);
    p_->schema.by_path.emplace(a.path, slot);
    if (parent < 0)
      p_->schema.top_level.push_back(slot);
    else
      p_->schema.attributes[static_cast<size_t>(parent)].children.push_back(slot);
    if (f.type.kind == ast::TypeKind::kRecord)
      add_fields(f.type, static_cast<int32_t>(slot), a.path + ".", a.may_be_absent);
  }
}

Type Checker::schema_type(const ast::TypeExpr& t) {
  switch (t.kind) {
    case ast::TypeKind::kBool:
      return {ValueType::kBool};
    case ast::TypeKind::kInt:
      return {ValueType::kInt};
    case ast::TypeKind::kString:
      return {ValueType::kString};
    case ast::TypeKind::kTimestamp:
      return {ValueType::kTimestamp};
    case ast::TypeKind::kDuration:
      return {ValueType::kDuration};
    case ast::TypeKind::kRecord:
      return {ValueType::kRecord};
    case ast::TypeKind::kSet:
      // set<string>: any strings; set<enum { ... }>: strings among its values,
      // refused when a request is bound (elem kEnum, enum_id its values).
      if (t.enum_values.empty()) return {ValueType::kSet};
      [[fallthrough]];
    case ast::TypeKind::kEnum: {
      std::set<std::string> seen;
      for (size_t i = 0; i < t.enum_values.size(); ++i)
        if (!seen.insert(t.enum_values[i]).second)
          diags_.error(t.enum_spans[i], "duplicate enum value " + quoted(t.enum_values[i]));
      Type out{t.kind == ast::TypeKind::kSet ? ValueType::kSet : ValueType::kEnum};
      out.enum_id = static_cast<uint16_t>(p_->schema.enums.size());
      if (t.kind == ast::TypeKind::kSet) out.elem = ValueType::kEnum;
      p_->schema.enums.push_back(t.enum_values);
      return out;
    }
  }
  return {};
}

// ---- declarations ----

void Checker::collect_declarations() {
  StringMap<Span> first_span;
  for (const auto& f : files_) {
    int32_t module = -1;
    for (const auto& d : f.declarations) {
      switch (d.kind) {
        case ast::DeclKind::kSchema:
          break;
        case ast::DeclKind::kTest:
          tests_.push_back(d.test.get());
          break;
        case ast::DeclKind::kSource:
          collect_source(*d.source);
          break;
        case ast::DeclKind::kInvariant:
          ast_invariants_.push_back(d.invariant.get());
          break;
        case ast::DeclKind::kModule: {
          const auto& m = *d.module;
          if (auto it = module_by_name_.find(m.name.text); it != module_by_name_.end()) {
            Diagnostic diag{Severity::kError,
                            m.name.span,
                            "module " + quoted(m.name.text) + " is declared twice",
                            "",
                            {}};
            diag.notes.push_back({p_->modules[it->second].span, "first declared here"});
            diags_.add(std::move(diag));
          }
          Module mod;
          mod.name = m.name.text;
          mod.title = m.title ? m.title->text : "";
          mod.default_permit = m.default_effect && m.default_effect->text == "permit";
          mod.span = m.name.span;
          if (m.concern) {
            check_word(*m.concern, kConcerns, "concern");
            mod.concern = m.concern->text;
          }
          module = static_cast<int32_t>(p_->modules.size());
          module_by_name_[mod.name] = static_cast<uint32_t>(module);
          p_->modules.push_back(std::move(mod));
          ast_modules_.push_back(&m);
          scopes_.emplace_back();
          break;
        }
        default: {
          if (module < 0) {
            diags_.error(d.span, "this declaration is outside any module",
                         "start the file with `module <name> \"<title>\"`");
            break;
          }
          auto m = static_cast<uint32_t>(module);
          if (d.kind == ast::DeclKind::kObligation) {
            const auto& o = *d.obligation;
            if (auto it = p_->obligation_by_name.find(o.name.text);
                it != p_->obligation_by_name.end()) {
              duplicate("obligation", o.name, p_->obligations[it->second].span);
              break;
            }
            p_->obligation_by_name.emplace(o.name.text,
                                           static_cast<uint32_t>(p_->obligations.size()));
            p_->obligations.push_back({o.name.text, o.text.text, o.name.span});
            obligation_used_.push_back(false);
            break;
          }
          const ast::Located& name = d.kind == ast::DeclKind::kParam    ? d.param->name
                                     : d.kind == ast::DeclKind::kDefine ? d.define->name
                                                                        : d.rule->name;
          std::string id = p_->modules[m].name + "." + name.text;
          if (auto it = first_span.find(id); it != first_span.end()) {
            duplicate(d.kind == ast::DeclKind::kRule ? "rule" : "name", {id, name.span},
                      it->second);
            break;
          }
          first_span.emplace(id, name.span);
          auto& scope = scopes_[m];
          if (d.kind == ast::DeclKind::kParam) {
            scope.params[name.text] = static_cast<uint32_t>(p_->params.size());
            Param prm;
            prm.id = id;
            prm.module = m;
            prm.span = name.span;
            p_->params.push_back(prm);
            ast_params_.push_back(d.param.get());
          } else if (d.kind == ast::DeclKind::kDefine) {
            scope.defines[name.text] = static_cast<uint32_t>(p_->defines.size());
            Define def;
            def.id = id;
            def.module = m;
            def.span = name.span;
            p_->defines.push_back(def);
            ast_defines_.push_back(d.define.get());
          } else {
            scope.rules[name.text] = static_cast<uint32_t>(p_->rules.size());
            Rule r;
            r.id = id;
            r.name = name.text;
            r.module = m;
            r.span = name.span;
            p_->rule_by_id.emplace(id, static_cast<uint32_t>(p_->rules.size()));
            p_->modules[m].rules.push_back(static_cast<uint32_t>(p_->rules.size()));
            p_->rules.push_back(std::move(r));
            ast_rules_.push_back(d.rule.get());
          }
        }
      }
    }
  }
  param_used_.assign(p_->params.size(), false);
  define_used_.assign(p_->defines.size(), false);
}

void Checker::duplicate(const char* what, const ast::Located& name, Span first) {
  Diagnostic diag{Severity::kError,
                  name.span,
                  std::string("duplicate ") + what + " " + quoted(name.text),
                  "",
                  {}};
  diag.notes.push_back({first, "first declared here"});
  diags_.add(std::move(diag));
}

void Checker::check_word(const ast::Located& w, const std::vector<std::string>& allowed,
                         const char* what) {
  if (std::find(allowed.begin(), allowed.end(), w.text) != allowed.end()) return;
  std::string c = closest(w.text, allowed);
  diags_.error(w.span, std::string("unknown ") + what + " " + quoted(w.text),
               c.empty() ? std::string(what) + " is one of " + one_of(allowed)
                         : "did you mean " + quoted(c) + "?");
}

// ---- params ----

void Checker::check_params() {
  for (size_t i = 0; i < p_->params.size(); ++i) {
    Param& prm = p_->params[i];
    const ast::Param& ap = *ast_params_[i];
    prm.type = schema_type(ap.type);
    if (prm.type.kind == ValueType::kRecord) {
      diags_.error(ap.type.span, "a param cannot be a record");
      prm.value = error_node();
      continue;
    }
    const ast::Expr* value = &ap.value;
    ast::Expr override_expr;
    SourceSet override_sources;
    if (auto it = options_.params.find(prm.id); it != options_.params.end()) {
      // Parse the deployment's value with the policy's own expression grammar.
      std::string text = it->second;
      if (prm.type.kind == ValueType::kString && (text.empty() || text.front() != '"'))
        text = "\"" + text + "\"";
      override_sources.files.emplace_back("--param " + prm.id, text);
      Diagnostics od;
      auto e = parse_expression(override_sources, 0, od);
      if (!e) {
        diags_.error(prm.span, "the value given for param " + quoted(prm.id) +
                                   " does not parse: " + quoted(it->second));
      } else {
        override_expr = std::move(*e);
        override_expr.span = ap.value.span;  // report against the declaration
        value = &override_expr;
      }
      used_overrides_.insert(it->first);
    }
    cur_module_ = prm.module;
    prm.value = lower_literal(*value, prm.type, "param " + quoted(prm.id));
    p_->nodes[prm.value].param = static_cast<int32_t>(i);
    prm.written = value->text.empty() ? std::to_string(value->int_value) : value->text;
  }
  for (const auto& [id, text] : options_.params)
    if (!used_overrides_.count(id))
      diags_.error(schema_span_,
                   "--param names " + quoted(id) + ", which is not a param of this bundle");
}

uint32_t Checker::lower_literal(const ast::Expr& e, const Type& t, const std::string& what) {
  auto bad = [&]() {
    diags_.error(e.span, what + " has type " + quoted(type_name(t, p_->schema)) +
                             ", but this value is not one");
    return error_node();
  };
  switch (t.kind) {
    case ValueType::kBool:
      if (e.kind != ast::ExprKind::kBool) return bad();
      return constant(ValueType::kBool, e.bool_value ? 1 : 0);
    case ValueType::kInt:
      if (e.kind != ast::ExprKind::kInt) return bad();
      return constant(ValueType::kInt, e.int_value);
    case ValueType::kDuration:
      if (e.kind != ast::ExprKind::kDuration) return bad();
      return constant(ValueType::kDuration, e.int_value);
    case ValueType::kString:
      if (e.kind != ast::ExprKind::kString) return bad();
      return string_constant(e.text);
    case ValueType::kTimestamp: {
      int64_t ts;
      if (e.kind != ast::ExprKind::kString || !parse_timestamp(e.text, ts)) return bad();
      return constant(ValueType::kTimestamp, ts);
    }
    case ValueType::kEnum: {
      std::string v =
          e.kind == ast::ExprKind::kName || e.kind == ast::ExprKind::kString ? e.text : "";
      int32_t idx = p_->schema.enum_index(t.enum_id, v);
      if (idx < 0) return bad();
      return constant(ValueType::kEnum, idx, t.enum_id);
    }
    case ValueType::kSet: {
      if (e.kind != ast::ExprKind::kList) return bad();
      for (const auto& k : e.kids)
        if (k.kind != ast::ExprKind::kString) return bad();
      return list_constant(e, ValueType::kString, 0);
    }
    default:
      return bad();
  }
}

}  // namespace check_internal

std::shared_ptr<Policy> check(const SourceSet& sources, const std::vector<ast::File>& files,
                              Diagnostics& diags, const CheckOptions& options) {
  check_internal::Checker c(sources, files, diags, options);
  return c.run();
}

}  // namespace ethos
