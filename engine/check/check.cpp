#include <ethos/check/check.hpp>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <ctime>
#include <functional>
#include <set>

#include <ethos/base/text.hpp>
#include <ethos/base/time.hpp>
#include <ethos/syntax/parser.hpp>
#include <ethos/graph/rule_graph.hpp>

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
    case ValueType::kSet:
      return "set<string>";
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

namespace {

const std::vector<std::string> kConcerns = {"standards", "privacy", "consent",
                                            "agency",    "bias",    "safety"};
const std::vector<std::string> kSeverities = {"low", "medium", "high", "critical"};
const std::vector<std::string> kConfidences = {"verified", "secondary", "unverified"};
const std::vector<std::string> kAnnotations = {"fixed", "pseudonymize", "redact"};
const std::vector<std::string> kFunctions = {"days_since"};

bool is_numeric(ValueType t) {
  return t == ValueType::kInt || t == ValueType::kTimestamp || t == ValueType::kDuration;
}

std::string quoted(std::string_view s) { return "`" + std::string(s) + "`"; }

std::string one_of(const std::vector<std::string>& words) {
  std::string s;
  for (size_t i = 0; i < words.size(); ++i) {
    if (i) s += i + 1 == words.size() ? " or " : ", ";
    s += quoted(words[i]);
  }
  return s;
}

class Checker {
 public:
  Checker(const SourceSet& sources, const std::vector<ast::File>& files, Diagnostics& diags,
          const CheckOptions& options)
      : sources_(sources), files_(files), diags_(diags), options_(options) {}

  std::shared_ptr<Policy> run() {
    p_ = std::make_shared<Policy>();
    build_schema();
    collect_declarations();
    check_params();
    order_and_type_defines();
    check_modules();
    check_rules();
    order_rules();
    compute_reads();
    check_tests();
    report_unused();
    if (diags_.has_errors()) return nullptr;
    return p_;
  }

 private:
  // ---- schema ----
  void build_schema() {
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
                   "add a file with `schema request { request_id: string  time: timestamp ... }`");
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

  void add_fields(const ast::TypeExpr& record, int32_t parent, const std::string& prefix,
                  bool absent) {
    std::set<std::string> seen;
    for (const auto& f : record.fields) {
      if (!seen.insert(f.name).second) {
        diags_.error(
            f.span,
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

  Type schema_type(const ast::TypeExpr& t) {
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
      case ast::TypeKind::kSet:
        return {ValueType::kSet};
      case ast::TypeKind::kRecord:
        return {ValueType::kRecord};
      case ast::TypeKind::kEnum: {
        std::set<std::string> seen;
        for (size_t i = 0; i < t.enum_values.size(); ++i)
          if (!seen.insert(t.enum_values[i]).second)
            diags_.error(t.enum_spans[i], "duplicate enum value " + quoted(t.enum_values[i]));
        Type out{ValueType::kEnum};
        out.enum_id = static_cast<uint16_t>(p_->schema.enums.size());
        p_->schema.enums.push_back(t.enum_values);
        return out;
      }
    }
    return {};
  }

  // ---- declarations ----
  struct ModuleScope {
    StringMap<uint32_t> params;   // short name -> index
    StringMap<uint32_t> defines;  // short name -> index
    StringMap<uint32_t> rules;    // short name -> index
  };

  void collect_declarations() {
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

  void duplicate(const char* what, const ast::Located& name, Span first) {
    Diagnostic diag{Severity::kError,
                    name.span,
                    std::string("duplicate ") + what + " " + quoted(name.text),
                    "",
                    {}};
    diag.notes.push_back({first, "first declared here"});
    diags_.add(std::move(diag));
  }

  void check_word(const ast::Located& w, const std::vector<std::string>& allowed,
                  const char* what) {
    if (std::find(allowed.begin(), allowed.end(), w.text) != allowed.end()) return;
    std::string c = closest(w.text, allowed);
    diags_.error(w.span, std::string("unknown ") + what + " " + quoted(w.text),
                 c.empty() ? std::string(what) + " is one of " + one_of(allowed)
                           : "did you mean " + quoted(c) + "?");
  }

  // ---- params ----
  void check_params() {
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

  // A literal of the given type (params, test assignments).
  uint32_t lower_literal(const ast::Expr& e, const Type& t, const std::string& what) {
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

  // ---- IR building ----
  uint32_t push(IrNode n) {
    p_->nodes.push_back(std::move(n));
    return static_cast<uint32_t>(p_->nodes.size() - 1);
  }
  uint32_t error_node() {
    IrNode n;
    n.type = ValueType::kError;
    return push(n);
  }
  uint32_t constant(ValueType t, int64_t v, uint16_t enum_id = 0) {
    IrNode n;
    n.op = IrOp::kConst;
    n.type = t;
    n.imm = v;
    n.a = enum_id;
    return push(n);
  }
  int32_t intern(const std::string& s) {
    auto [it, inserted] = p_->symbols.emplace(s, static_cast<int32_t>(p_->symbols.size()));
    if (inserted) p_->symbol_texts.push_back(s);
    return it->second;
  }
  uint32_t string_constant(const std::string& s) {
    IrNode n;
    n.op = IrOp::kConst;
    n.type = ValueType::kString;
    n.imm = intern(s);
    return push(n);
  }
  uint32_t list_constant(const ast::Expr& e, ValueType elem, uint16_t enum_id) {
    ConstSet cs;
    for (const auto& k : e.kids) {
      if (elem == ValueType::kString) {
        cs.symbols.push_back(intern(k.text));
        cs.texts.push_back(k.text);
      } else if (elem == ValueType::kEnum) {
        cs.symbols.push_back(p_->schema.enum_index(enum_id, k.text));
      } else {
        cs.symbols.push_back(static_cast<int32_t>(k.int_value));
      }
    }
    // Sort symbols (texts follow) so membership is a binary search.
    std::vector<size_t> idx(cs.symbols.size());
    for (size_t i = 0; i < idx.size(); ++i) idx[i] = i;
    std::sort(idx.begin(), idx.end(),
              [&](size_t a, size_t b) { return cs.symbols[a] < cs.symbols[b]; });
    ConstSet sorted;
    for (size_t i : idx) {
      sorted.symbols.push_back(cs.symbols[i]);
      if (!cs.texts.empty()) sorted.texts.push_back(cs.texts[i]);
    }
    p_->const_sets.push_back(std::move(sorted));
    IrNode n;
    n.op = IrOp::kConstSet;
    n.type = elem == ValueType::kString ? ValueType::kSet : ValueType::kList;
    n.operand_type = elem;
    n.a = static_cast<uint32_t>(p_->const_sets.size() - 1);
    n.b = enum_id;
    return push(n);
  }
  uint32_t node2(IrOp op, ValueType result, uint32_t a, uint32_t b,
                 ValueType operand = ValueType::kBool) {
    IrNode n;
    n.op = op;
    n.type = result;
    n.operand_type = operand;
    n.a = a;
    n.b = b;
    return push(n);
  }
  Type type_of(uint32_t node) const {
    const IrNode& n = p_->nodes[node];
    Type t{n.type};
    if (n.type == ValueType::kEnum) t.enum_id = static_cast<uint16_t>(n.a);
    if (n.op == IrOp::kAttr) t = p_->schema.attributes[n.a].type;
    if (n.op == IrOp::kDefine) t = p_->defines[n.a].type;
    if (n.type == ValueType::kList) {
      t.elem = n.operand_type;
      t.enum_id = static_cast<uint16_t>(n.b);
    }
    return t;
  }

  // ---- name resolution ----
  enum class NameKind { kNone, kAttribute, kParam, kDefine };
  struct Resolved {
    NameKind kind = NameKind::kNone;
    uint32_t index = 0;
  };

  Resolved resolve(const std::string& text) const {
    const auto& scope = scopes_[cur_module_];
    if (text.find('.') == std::string::npos) {
      if (auto it = scope.defines.find(text); it != scope.defines.end())
        return {NameKind::kDefine, it->second};
      if (auto it = scope.params.find(text); it != scope.params.end())
        return {NameKind::kParam, it->second};
    } else {
      size_t dot = text.find('.');
      std::string mod = text.substr(0, dot), rest = text.substr(dot + 1);
      if (auto m = module_by_name_.find(mod);
          m != module_by_name_.end() && rest.find('.') == std::string::npos) {
        const auto& other = scopes_[m->second];
        if (auto it = other.defines.find(rest); it != other.defines.end())
          return {NameKind::kDefine, it->second};
        if (auto it = other.params.find(rest); it != other.params.end())
          return {NameKind::kParam, it->second};
      }
    }
    if (auto it = p_->schema.by_path.find(text); it != p_->schema.by_path.end())
      return {NameKind::kAttribute, it->second};
    return {};
  }

  std::vector<std::string> name_candidates() const {
    std::vector<std::string> c;
    for (const auto& a : p_->schema.attributes) c.push_back(a.path);
    const auto& scope = scopes_[cur_module_];
    for (const auto& [n, i] : scope.defines) c.push_back(n);
    for (const auto& [n, i] : scope.params) c.push_back(n);
    for (const auto& d : p_->defines) c.push_back(d.id);
    for (const auto& d : p_->params) c.push_back(d.id);
    return c;
  }

  void unknown_name(const ast::Expr& e) {
    std::string c = closest(e.text, name_candidates());
    std::string help = c.empty() ? "" : "did you mean " + quoted(c) + "?";
    if (c.empty() && e.text.find('.') == std::string::npos)
      help = "attributes are written with their record, e.g. `patient.age`";
    diags_.error(e.span, "unknown name " + quoted(e.text), help);
  }

  // ---- expression lowering (typed) ----
  uint32_t lower(const ast::Expr& e) {
    switch (e.kind) {
      case ast::ExprKind::kBool:
        return constant(ValueType::kBool, e.bool_value ? 1 : 0);
      case ast::ExprKind::kInt:
        return constant(ValueType::kInt, e.int_value);
      case ast::ExprKind::kDuration:
        return constant(ValueType::kDuration, e.int_value);
      case ast::ExprKind::kString:
        return string_constant(e.text);
      case ast::ExprKind::kNow:
        return node2(IrOp::kNow, ValueType::kTimestamp, 0, 0);
      case ast::ExprKind::kList: {
        for (const auto& k : e.kids)
          if (k.kind != ast::ExprKind::kString) {
            diags_.error(k.span, "a list here holds strings in double quotes");
            return error_node();
          }
        return list_constant(e, ValueType::kString, 0);
      }
      case ast::ExprKind::kName:
        return lower_name(e);
      case ast::ExprKind::kCall:
        return lower_call(e);
      case ast::ExprKind::kNot: {
        uint32_t a = lower_bool(e.kids[0], "`not`");
        return node2(IrOp::kNot, ValueType::kBool, a, 0);
      }
      case ast::ExprKind::kAnd:
      case ast::ExprKind::kOr: {
        std::vector<uint32_t> ks;
        for (const auto& k : e.kids)
          ks.push_back(lower_bool(k, e.kind == ast::ExprKind::kAnd ? "`and`" : "`or`"));
        auto start = static_cast<uint32_t>(p_->kids.size());
        p_->kids.insert(p_->kids.end(), ks.begin(), ks.end());
        return node2(e.kind == ast::ExprKind::kAnd ? IrOp::kAnd : IrOp::kOr, ValueType::kBool,
                     start, static_cast<uint32_t>(ks.size()));
      }
      case ast::ExprKind::kIsPresent:
      case ast::ExprKind::kIsMissing: {
        const ast::Expr& x = e.kids[0];
        Resolved r = x.kind == ast::ExprKind::kName ? resolve(x.text) : Resolved{};
        if (r.kind != NameKind::kAttribute) {
          if (x.kind == ast::ExprKind::kName && r.kind == NameKind::kNone)
            unknown_name(x);
          else
            diags_.error(x.span, "`is present` and `is missing` apply to request attributes only");
          return error_node();
        }
        note_read(r.index);
        const Attribute& a = p_->schema.attributes[r.index];
        if (!a.may_be_absent)
          diags_.warning(e.span,
                         quoted(a.path) + " is required by the schema, so this is always " +
                             (e.kind == ast::ExprKind::kIsPresent ? "true" : "false"),
                         "mark it optional with `?` in the schema if requests may leave it out");
        return node2(e.kind == ast::ExprKind::kIsPresent ? IrOp::kIsPresent : IrOp::kIsMissing,
                     ValueType::kBool, r.index, 0);
      }
      case ast::ExprKind::kArith:
        return lower_arith(e);
      case ast::ExprKind::kCompare:
        return lower_compare(e);
    }
    return error_node();
  }

  uint32_t lower_bool(const ast::Expr& e, const char* context) {
    uint32_t n = lower(e);
    Type t = type_of(n);
    if (t.kind != ValueType::kBool && t.kind != ValueType::kError) {
      diags_.error(e.span, std::string("expected a condition (bool) for ") + context + ", found " +
                               quoted(type_name(t, p_->schema)));
      return error_node();
    }
    return n;
  }

  void note_read(uint32_t slot) { reads_.push_back(slot); }

  uint32_t lower_name(const ast::Expr& e) {
    Resolved r = resolve(e.text);
    switch (r.kind) {
      case NameKind::kNone:
        unknown_name(e);
        return error_node();
      case NameKind::kParam:
        param_used_[r.index] = true;
        return p_->params[r.index].value;
      case NameKind::kDefine: {
        define_used_[r.index] = true;
        const Define& d = p_->defines[r.index];
        if (!d.typed) return error_node();  // in a cycle or broken: already reported
        IrNode n;
        n.op = IrOp::kDefine;
        n.type = d.type.kind;
        n.a = r.index;
        return push(n);
      }
      case NameKind::kAttribute: {
        const Attribute& a = p_->schema.attributes[r.index];
        if (a.type.kind == ValueType::kRecord) {
          std::string fields;
          for (size_t i = 0; i < a.children.size() && i < 4; ++i)
            fields += (i ? ", " : "") + quoted(p_->schema.attributes[a.children[i]].path);
          diags_.error(e.span, quoted(a.path) + " is a record, not a value",
                       "name one of its fields, e.g. " + fields + ", or test it with `is present`");
          return error_node();
        }
        note_read(r.index);
        IrNode n;
        n.op = IrOp::kAttr;
        n.type = a.type.kind;
        n.a = r.index;
        return push(n);
      }
    }
    return error_node();
  }

  uint32_t lower_call(const ast::Expr& e) {
    if (e.text != "days_since") {
      std::string c = closest(e.text, kFunctions);
      diags_.error(
          e.span, "unknown function " + quoted(e.text),
          c.empty() ? "the functions are `days_since(t)`" : "did you mean " + quoted(c) + "?");
      return error_node();
    }
    uint32_t a = lower(e.kids[0]);
    Type t = type_of(a);
    if (t.kind == ValueType::kError) return error_node();
    if (t.kind != ValueType::kTimestamp) {
      diags_.error(e.kids[0].span,
                   "`days_since` takes a timestamp, found " + quoted(type_name(t, p_->schema)));
      return error_node();
    }
    return node2(IrOp::kDaysSince, ValueType::kInt, a, 0);
  }

  uint32_t lower_arith(const ast::Expr& e) {
    uint32_t a = lower(e.kids[0]);
    uint32_t b = lower(e.kids[1]);
    Type ta = type_of(a), tb = type_of(b);
    if (ta.kind == ValueType::kError || tb.kind == ValueType::kError) return error_node();
    IrOp op = e.op == ast::Op::kAdd ? IrOp::kAdd : e.op == ast::Op::kSub ? IrOp::kSub : IrOp::kMul;
    ValueType r = ValueType::kError;
    using V = ValueType;
    if (ta.kind == V::kInt && tb.kind == V::kInt)
      r = V::kInt;
    else if (op == IrOp::kMul && ((ta.kind == V::kInt && tb.kind == V::kDuration) ||
                                  (ta.kind == V::kDuration && tb.kind == V::kInt)))
      r = V::kDuration;
    else if (op != IrOp::kMul && ta.kind == V::kTimestamp && tb.kind == V::kDuration)
      r = V::kTimestamp;
    else if (op == IrOp::kAdd && ta.kind == V::kDuration && tb.kind == V::kTimestamp)
      r = V::kTimestamp;
    else if (op == IrOp::kSub && ta.kind == V::kTimestamp && tb.kind == V::kTimestamp)
      r = V::kDuration;
    else if (op != IrOp::kMul && ta.kind == V::kDuration && tb.kind == V::kDuration)
      r = V::kDuration;
    if (r == V::kError) {
      diags_.error(
          e.span,
          std::string("cannot apply `") + ast::op_text(e.op) + "` to " +
              quoted(type_name(ta, p_->schema)) + " and " + quoted(type_name(tb, p_->schema)),
          ta.kind == V::kTimestamp && tb.kind == V::kInt ? "write a duration such as `30 days`"
                                                         : "");
      return error_node();
    }
    return node2(op, r, a, b, ta.kind);
  }

  // An operand that may be a bare enum value, given the other side's type.
  uint32_t lower_against(const ast::Expr& e, const Type& other) {
    if (other.kind == ValueType::kEnum &&
        (e.kind == ast::ExprKind::kName || e.kind == ast::ExprKind::kString) &&
        e.text.find('.') == std::string::npos) {
      int32_t idx = p_->schema.enum_index(other.enum_id, e.text);
      if (idx >= 0 && (e.kind == ast::ExprKind::kString || resolve(e.text).kind == NameKind::kNone))
        return constant(ValueType::kEnum, idx, other.enum_id);
      if (resolve(e.text).kind == NameKind::kNone || e.kind == ast::ExprKind::kString) {
        std::string c = closest(e.text, p_->schema.enums[other.enum_id]);
        diags_.error(e.span,
                     quoted(e.text) + " is not a value of " + quoted(type_name(other, p_->schema)),
                     c.empty() ? "" : "did you mean " + quoted(c) + "?");
        return error_node();
      }
    }
    if (other.kind == ValueType::kTimestamp && e.kind == ast::ExprKind::kString) {
      int64_t ts;
      if (parse_timestamp(e.text, ts)) return constant(ValueType::kTimestamp, ts);
      diags_.error(e.span, quoted(e.text) + " is not a timestamp",
                   "write `\"2026-11-26\"` or `\"2026-11-26T10:15:00Z\"`");
      return error_node();
    }
    if (e.kind == ast::ExprKind::kList) {
      ValueType elem = other.kind == ValueType::kEnum  ? ValueType::kEnum
                       : other.kind == ValueType::kInt ? ValueType::kInt
                                                       : ValueType::kString;
      for (const auto& k : e.kids) {
        bool ok = elem == ValueType::kString ? k.kind == ast::ExprKind::kString
                  : elem == ValueType::kInt
                      ? k.kind == ast::ExprKind::kInt
                      : (k.kind == ast::ExprKind::kName || k.kind == ast::ExprKind::kString);
        if (!ok) {
          diags_.error(k.span,
                       "this list holds " +
                           std::string(elem == ValueType::kInt ? "ints"
                                       : elem == ValueType::kEnum
                                           ? "values of " + quoted(type_name(other, p_->schema))
                                           : "strings in double quotes"));
          return error_node();
        }
        if (elem == ValueType::kEnum && p_->schema.enum_index(other.enum_id, k.text) < 0) {
          std::string c = closest(k.text, p_->schema.enums[other.enum_id]);
          diags_.error(
              k.span, quoted(k.text) + " is not a value of " + quoted(type_name(other, p_->schema)),
              c.empty() ? "" : "did you mean " + quoted(c) + "?");
          return error_node();
        }
      }
      return list_constant(e, elem, other.enum_id);
    }
    return lower(e);
  }

  bool is_plain_word(const ast::Expr& e) const {
    return e.kind == ast::ExprKind::kName && e.text.find('.') == std::string::npos &&
           resolve(e.text).kind == NameKind::kNone;
  }

  uint32_t lower_compare(const ast::Expr& e) {
    const ast::Expr& l = e.kids[0];
    const ast::Expr& rr = e.kids[1];
    uint32_t a, b;
    // Lower the side that has a type of its own first.
    if ((is_plain_word(l) || l.kind == ast::ExprKind::kList) && !is_plain_word(rr)) {
      b = lower(rr);
      a = lower_against(l, type_of(b));
    } else {
      a = lower(l);
      Type ta = type_of(a);
      Type ctx = ta;
      if (e.op == ast::Op::kHas) ctx = Type{ValueType::kString};
      b = lower_against(rr, ctx);
    }
    Type ta = type_of(a), tb = type_of(b);
    if (ta.kind == ValueType::kError || tb.kind == ValueType::kError) return error_node();
    using V = ValueType;
    auto mismatch = [&](const std::string& help = "") {
      diags_.error(e.span,
                   std::string("cannot compare ") + quoted(type_name(ta, p_->schema)) + " `" +
                       ast::op_text(e.op) + "` " + quoted(type_name(tb, p_->schema)),
                   help);
      return error_node();
    };
    switch (e.op) {
      case ast::Op::kEq:
      case ast::Op::kNe: {
        bool same = ta.kind == tb.kind && (ta.kind != V::kEnum || ta.enum_id == tb.enum_id);
        if (!same || ta.kind == V::kSet || ta.kind == V::kList)
          return mismatch(ta.kind == V::kSet ? "use `has`, `has_any` or `has_all` on sets" : "");
        return node2(e.op == ast::Op::kEq ? IrOp::kEq : IrOp::kNe, V::kBool, a, b, ta.kind);
      }
      case ast::Op::kLt:
      case ast::Op::kLe:
      case ast::Op::kGt:
      case ast::Op::kGe: {
        if (ta.kind != tb.kind || !is_numeric(ta.kind))
          return mismatch(ta.kind == V::kTimestamp && tb.kind == V::kInt
                              ? "compare with a timestamp, or use `days_since(...)`"
                              : "");
        IrOp op = e.op == ast::Op::kLt   ? IrOp::kLt
                  : e.op == ast::Op::kLe ? IrOp::kLe
                  : e.op == ast::Op::kGt ? IrOp::kGt
                                         : IrOp::kGe;
        return node2(op, V::kBool, a, b, ta.kind);
      }
      case ast::Op::kIn: {
        bool ok = (ta.kind == V::kString && tb.kind == V::kSet) ||
                  (tb.kind == V::kList && tb.elem == ta.kind &&
                   (ta.kind != V::kEnum || ta.enum_id == tb.enum_id));
        if (!ok)
          return mismatch(
              "`in` takes a string or enum value on the left and a list or set on the right");
        if (ta.kind == V::kInt && rr.kind == ast::ExprKind::kList && !rr.kids.empty()) {
          // A ConstSet holds 32-bit symbols, which would cut an int on either side
          // (`1 in [4294967297]` was true): compare ints one by one, in 64 bits.
          std::vector<uint32_t> eqs;
          for (const auto& k : rr.kids)
            eqs.push_back(node2(IrOp::kEq, V::kBool, a, constant(V::kInt, k.int_value), V::kInt));
          auto start = static_cast<uint32_t>(p_->kids.size());
          p_->kids.insert(p_->kids.end(), eqs.begin(), eqs.end());
          return node2(IrOp::kOr, V::kBool, start, static_cast<uint32_t>(eqs.size()));
        }
        return node2(IrOp::kIn, V::kBool, a, b, ta.kind);
      }
      case ast::Op::kHas: {
        if (ta.kind != V::kSet || tb.kind != V::kString)
          return mismatch("`has` takes a set on the left and a string on the right");
        return node2(IrOp::kHas, V::kBool, a, b, V::kString);
      }
      case ast::Op::kHasAny:
      case ast::Op::kHasAll: {
        if (ta.kind != V::kSet || tb.kind != V::kSet)
          return mismatch(
              "`has_any` and `has_all` take a set on the left and a set or a list of strings on "
              "the right");
        return node2(e.op == ast::Op::kHasAny ? IrOp::kHasAny : IrOp::kHasAll, V::kBool, a, b,
                     V::kSet);
      }
      default:
        return mismatch();
    }
  }

  // ---- defines: ordered by the graph, cycles named ----
  void order_and_type_defines() {
    RuleGraph g;
    for (size_t i = 0; i < p_->defines.size(); ++i)
      g.add_vertex({RuleGraph::VertexKind::kDefine, p_->defines[i].id, p_->defines[i].span,
                    static_cast<uint32_t>(i)});
    for (size_t i = 0; i < p_->defines.size(); ++i) {
      cur_module_ = p_->defines[i].module;
      std::function<void(const ast::Expr&)> walk = [&](const ast::Expr& x) {
        if (x.kind == ast::ExprKind::kName) {
          Resolved r = resolve(x.text);
          if (r.kind == NameKind::kDefine)
            g.add_edge(static_cast<uint32_t>(i), r.index, RuleGraph::EdgeKind::kReads);
        }
        for (const auto& k : x.kids) walk(k);
      };
      walk(ast_defines_[i]->value);
    }
    std::vector<bool> in_cycle(p_->defines.size(), false);
    for (const auto& cycle : g.cycles(RuleGraph::EdgeKind::kReads)) {
      std::string names;
      for (uint32_t v : cycle) {
        in_cycle[v] = true;
        names += p_->defines[v].id + " -> ";
      }
      names += p_->defines[cycle.front()].id;
      Diagnostic d{Severity::kError,
                   p_->defines[cycle.front()].span,
                   "defines form a cycle: " + names,
                   "a define may not use itself, directly or through others",
                   {}};
      for (size_t k = 1; k < cycle.size(); ++k)
        d.notes.push_back({p_->defines[cycle[k]].span,
                           quoted(p_->defines[cycle[k]].id) + " is part of the cycle"});
      diags_.add(std::move(d));
    }
    std::vector<uint32_t> order;
    if (std::none_of(in_cycle.begin(), in_cycle.end(), [](bool b) { return b; })) {
      order = g.dependency_order(RuleGraph::EdgeKind::kReads);
    } else {
      for (uint32_t i = 0; i < p_->defines.size(); ++i) order.push_back(i);
    }
    define_reads_.resize(p_->defines.size());
    for (uint32_t i : order) {
      if (in_cycle[i]) continue;
      Define& d = p_->defines[i];
      cur_module_ = d.module;
      reads_.clear();
      d.value = lower(ast_defines_[i]->value);
      Type t = type_of(d.value);
      define_reads_[i] = reads_;
      if (t.kind == ValueType::kError) continue;
      if (t.kind == ValueType::kList && t.elem != ValueType::kString) {
        diags_.error(
            d.span,
            "a define cannot be a list of enum values or ints; compare with `in` where it is used");
        continue;
      }
      d.type = t.kind == ValueType::kList ? Type{ValueType::kSet} : t;
      d.typed = true;
    }
  }

  // ---- modules and rules ----
  void check_modules() {
    for (size_t m = 0; m < p_->modules.size(); ++m) {
      const ast::Module& am = *ast_modules_[m];
      if (!am.applies) continue;
      cur_module_ = static_cast<uint32_t>(m);
      reads_.clear();
      p_->modules[m].applies = lower_bool(*am.applies, "`applies when`");
      module_reads_.push_back({static_cast<uint32_t>(m), reads_});
    }
  }

  void check_rules() {
    rule_reads_.resize(p_->rules.size());
    for (size_t i = 0; i < p_->rules.size(); ++i) {
      Rule& r = p_->rules[i];
      const ast::Rule& ar = *ast_rules_[i];
      cur_module_ = r.module;
      r.effect = ar.effect;
      for (const auto& dup : ar.duplicate_clauses)
        diags_.error(dup.span, "this clause is written twice in rule " + quoted(r.id));
      if (ar.obligation) {
        auto it = p_->obligation_by_name.find(ar.obligation->text);
        if (it == p_->obligation_by_name.end()) {
          std::vector<std::string> names;
          for (const auto& o : p_->obligations) names.push_back(o.name);
          std::string c = closest(ar.obligation->text, names);
          diags_.error(ar.obligation->span, "unknown obligation " + quoted(ar.obligation->text),
                       c.empty() ? "declare it with `obligation " + ar.obligation->text +
                                       " \"what the app must do\"`"
                                 : "did you mean " + quoted(c) + "?");
        } else {
          r.obligation = static_cast<int32_t>(it->second);
          obligation_used_[it->second] = true;
        }
      }
      if (!ar.because)
        diags_.error(ar.name.span, "rule " + quoted(r.id) + " has no `because`",
                     "every rule says why in plain language: `because \"...\"`");
      else if (ar.because->text.empty())
        diags_.error(ar.because->span, "the `because` of rule " + quoted(r.id) + " is empty");
      else
        r.because = ar.because->text;
      if (ar.cites.empty())
        diags_.error(ar.name.span, "rule " + quoted(r.id) + " has no `cite`",
                     "every rule cites the code, law or guidance behind it: `cite \"HIPAA 45 CFR "
                     "164.502(e)\"`");
      for (const auto& c : ar.cites) {
        if (c.text.empty()) diags_.error(c.span, "empty citation");
        r.cites.push_back(c.text);
      }
      r.concern = p_->modules[r.module].concern;
      if (ar.concern) {
        check_word(*ar.concern, kConcerns, "concern");
        r.concern = ar.concern->text;
      }
      if (ar.severity) {
        check_word(*ar.severity, kSeverities, "severity");
        r.severity = ar.severity->text;
      }
      if (ar.confidence) {
        check_word(*ar.confidence, kConfidences, "confidence");
        r.confidence = ar.confidence->text;
      }
      for (const auto& t : ar.tags) r.tags.push_back(t.text);
      reads_.clear();
      uint32_t cond = ar.when ? lower_bool(*ar.when, "`when`") : constant(ValueType::kBool, 1);
      if (ar.unless) {
        uint32_t u = lower_bool(*ar.unless, "`unless`");
        uint32_t nu = node2(IrOp::kNot, ValueType::kBool, u, 0);
        auto start = static_cast<uint32_t>(p_->kids.size());
        p_->kids.push_back(cond);
        p_->kids.push_back(nu);
        cond = node2(IrOp::kAnd, ValueType::kBool, start, 2);
      }
      r.condition = cond;
      rule_reads_[i] = reads_;
      for (const auto& o : ar.overrides) {
        std::string id = o.text.find('.') == std::string::npos
                             ? p_->modules[r.module].name + "." + o.text
                             : o.text;
        auto it = p_->rule_by_id.find(id);
        if (it == p_->rule_by_id.end()) {
          std::vector<std::string> ids;
          for (const auto& x : p_->rules) ids.push_back(x.id);
          std::string c = closest(id, ids);
          diags_.error(o.span, "`overrides` names " + quoted(o.text) + ", which is not a rule",
                       c.empty() ? "" : "did you mean " + quoted(c) + "?");
          continue;
        }
        if (it->second == i) {
          diags_.error(o.span, "rule " + quoted(r.id) + " overrides itself");
          continue;
        }
        r.overrides.push_back(it->second);
        p_->rules[it->second].overridden_by.push_back(static_cast<uint32_t>(i));
      }
    }
  }

  void order_rules() {
    RuleGraph g;
    for (size_t i = 0; i < p_->rules.size(); ++i)
      g.add_vertex({RuleGraph::VertexKind::kRule, p_->rules[i].id, p_->rules[i].span,
                    static_cast<uint32_t>(i), p_->rules[i].effect});
    for (size_t i = 0; i < p_->rules.size(); ++i)
      for (uint32_t t : p_->rules[i].overrides)
        g.add_edge(static_cast<uint32_t>(i), t, RuleGraph::EdgeKind::kOverrides);
    auto cycles = g.cycles(RuleGraph::EdgeKind::kOverrides);
    for (const auto& cycle : cycles) {
      std::string names;
      for (uint32_t v : cycle) names += p_->rules[v].id + " -> ";
      names += p_->rules[cycle.front()].id;
      Diagnostic d{Severity::kError,
                   p_->rules[cycle.front()].span,
                   "overrides form a cycle: " + names,
                   "an exception cannot be an exception to itself; remove one `overrides`",
                   {}};
      for (size_t k = 1; k < cycle.size(); ++k)
        d.notes.push_back(
            {p_->rules[cycle[k]].span, quoted(p_->rules[cycle[k]].id) + " is part of the cycle"});
      diags_.add(std::move(d));
    }
    if (!cycles.empty()) return;
    // dependency_order puts overridden rules first; evaluation wants overriders first.
    auto order = g.dependency_order(RuleGraph::EdgeKind::kOverrides);
    p_->rule_order.assign(order.rbegin(), order.rend());
  }

  void compute_reads() {
    // Transitive attribute reads of each define (defines are typed in dependency order).
    std::vector<std::vector<uint32_t>> closure(p_->defines.size());
    std::vector<int> state(p_->defines.size(), 0);
    std::function<const std::vector<uint32_t>&(uint32_t)> of_define =
        [&](uint32_t d) -> const std::vector<uint32_t>& {
      if (state[d] != 0) return closure[d];
      state[d] = 1;
      std::vector<uint32_t> acc =
          d < define_reads_.size() ? define_reads_[d] : std::vector<uint32_t>{};
      for (uint32_t n : define_refs(p_->defines[d].value)) {
        const auto& sub = of_define(n);
        acc.insert(acc.end(), sub.begin(), sub.end());
      }
      std::sort(acc.begin(), acc.end());
      acc.erase(std::unique(acc.begin(), acc.end()), acc.end());
      closure[d] = std::move(acc);
      state[d] = 2;
      return closure[d];
    };
    for (size_t i = 0; i < p_->rules.size(); ++i) {
      Rule& r = p_->rules[i];
      std::vector<uint32_t> acc = rule_reads_[i];
      for (uint32_t d : define_refs(r.condition)) {
        const auto& sub = of_define(d);
        acc.insert(acc.end(), sub.begin(), sub.end());
      }
      for (const auto& [m, reads] : module_reads_)
        if (m == r.module) acc.insert(acc.end(), reads.begin(), reads.end());
      if (auto& applies = p_->modules[r.module].applies)
        for (uint32_t d : define_refs(*applies)) {
          const auto& sub = of_define(d);
          acc.insert(acc.end(), sub.begin(), sub.end());
        }
      std::sort(acc.begin(), acc.end());
      acc.erase(std::unique(acc.begin(), acc.end()), acc.end());
      r.reads = std::move(acc);
    }
  }

  // Defines referenced directly by the IR tree at `root`.
  std::vector<uint32_t> define_refs(uint32_t root) const {
    std::vector<uint32_t> out, stack{root};
    while (!stack.empty()) {
      const IrNode& n = p_->nodes[stack.back()];
      stack.pop_back();
      switch (n.op) {
        case IrOp::kDefine:
          out.push_back(n.a);
          break;
        case IrOp::kNot:
        case IrOp::kDaysSince:
          stack.push_back(n.a);
          break;
        case IrOp::kAnd:
        case IrOp::kOr:
          for (uint32_t k = 0; k < n.b; ++k) stack.push_back(p_->kids[n.a + k]);
          break;
        case IrOp::kEq:
        case IrOp::kNe:
        case IrOp::kLt:
        case IrOp::kLe:
        case IrOp::kGt:
        case IrOp::kGe:
        case IrOp::kAdd:
        case IrOp::kSub:
        case IrOp::kMul:
        case IrOp::kIn:
        case IrOp::kHas:
        case IrOp::kHasAny:
        case IrOp::kHasAll:
          stack.push_back(n.a);
          stack.push_back(n.b);
          break;
        default:
          break;
      }
    }
    return out;
  }

  // ---- committee tests ----
  void check_tests() {
    for (const ast::Test* t : tests_) {
      TestCase tc;
      tc.name = t->name.text;
      tc.span = t->name.span;
      if (!t->given)
        diags_.error(t->name.span, "test " + quoted(tc.name) + " has no `given` request");
      else
        tc.given = t->given->text;
      auto attr = [&](const ast::Located& path) -> int32_t {
        auto it = p_->schema.by_path.find(path.text);
        if (it == p_->schema.by_path.end()) {
          std::vector<std::string> paths;
          for (const auto& a : p_->schema.attributes) paths.push_back(a.path);
          std::string c = closest(path.text, paths);
          diags_.error(path.span, "unknown attribute " + quoted(path.text),
                       c.empty() ? "" : "did you mean " + quoted(c) + "?");
          return -1;
        }
        return static_cast<int32_t>(it->second);
      };
      for (const auto& s : t->sets) {
        int32_t slot = attr(s.path);
        if (slot < 0) continue;
        tc.sets.push_back({static_cast<uint32_t>(slot), s.path.text, s.value, s.path.span});
      }
      for (const auto& u : t->unsets) {
        int32_t slot = attr(u);
        if (slot < 0) continue;
        if (!p_->schema.attributes[static_cast<size_t>(slot)].optional)
          diags_.error(u.span, quoted(u.text) + " is required by the schema; it cannot be unset");
        tc.unsets.push_back({static_cast<uint32_t>(slot), u.span});
      }
      for (const auto& x : t->expectations) {
        switch (x.kind) {
          case ast::ExpectKind::kOutcome:
            tc.expect_outcome = x.items[0].text;
            break;
          case ast::ExpectKind::kRules:
          case ast::ExpectKind::kNoRules:
            for (const auto& id : x.items) {
              auto it = p_->rule_by_id.find(id.text);
              if (it == p_->rule_by_id.end()) {
                std::vector<std::string> ids;
                for (const auto& r : p_->rules) ids.push_back(r.id);
                std::string c = closest(id.text, ids);
                diags_.error(id.span, "unknown rule " + quoted(id.text),
                             c.empty() ? "rules are named `module.rule`"
                                       : "did you mean " + quoted(c) + "?");
                continue;
              }
              (x.kind == ast::ExpectKind::kRules ? tc.expect_rules : tc.expect_no_rules)
                  .push_back({it->second, id.span});
            }
            break;
          case ast::ExpectKind::kObligations:
            for (const auto& o : x.items) {
              auto it = p_->obligation_by_name.find(o.text);
              if (it == p_->obligation_by_name.end()) {
                diags_.error(o.span, "unknown obligation " + quoted(o.text));
                continue;
              }
              tc.expect_obligations.push_back({it->second, o.span});
            }
            break;
          case ast::ExpectKind::kMissing:
            for (const auto& m : x.items) {
              int32_t slot = attr(m);
              if (slot >= 0) tc.expect_missing.push_back({static_cast<uint32_t>(slot), m.span});
            }
            break;
        }
      }
      p_->tests.push_back(std::move(tc));
    }
  }

  void report_unused() {
    for (size_t i = 0; i < p_->defines.size(); ++i)
      if (!define_used_[i])
        diags_.warning(p_->defines[i].span,
                       "define " + quoted(p_->defines[i].id) + " is never used",
                       "remove it, or use it in a rule");
    for (size_t i = 0; i < p_->params.size(); ++i)
      if (!param_used_[i])
        diags_.warning(p_->params[i].span, "param " + quoted(p_->params[i].id) + " is never used",
                       "remove it, or use it in a rule");
    for (size_t i = 0; i < p_->obligations.size(); ++i)
      if (!obligation_used_[i])
        diags_.warning(p_->obligations[i].span,
                       "obligation " + quoted(p_->obligations[i].name) + " is never required",
                       "remove it, or attach it with `require " + p_->obligations[i].name + "`");
  }

  const SourceSet& sources_;
  const std::vector<ast::File>& files_;
  Diagnostics& diags_;
  const CheckOptions& options_;
  std::shared_ptr<Policy> p_;
  Span schema_span_{};

  std::vector<const ast::Module*> ast_modules_;
  std::vector<const ast::Param*> ast_params_;
  std::vector<const ast::Define*> ast_defines_;
  std::vector<const ast::Rule*> ast_rules_;
  std::vector<const ast::Test*> tests_;
  std::vector<ModuleScope> scopes_;
  StringMap<uint32_t> module_by_name_;
  std::vector<bool> param_used_, define_used_, obligation_used_;
  std::set<std::string> used_overrides_;
  uint32_t cur_module_ = 0;
  std::vector<uint32_t> reads_;
  std::vector<std::vector<uint32_t>> define_reads_, rule_reads_;
  std::vector<std::pair<uint32_t, std::vector<uint32_t>>> module_reads_;
};

}  // namespace

std::shared_ptr<Policy> check(const SourceSet& sources, const std::vector<ast::File>& files,
                              Diagnostics& diags, const CheckOptions& options) {
  Checker c(sources, files, diags, options);
  return c.run();
}

}  // namespace ethos
