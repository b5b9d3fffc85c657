// The reference interpreter. Each section follows a section of
// docs/semantics.md; where the page leaves a choice open, the comment says
// which reading is taken. Speed is not a goal: values are copied, names are
// looked up in maps on every use, and nothing is precomputed but the
// declarations' scopes.
#include "reference.hpp"

#include <algorithm>
#include <functional>
#include <optional>
#include <set>

#include <ethos/syntax/parser.hpp>

#include "reference_internal.hpp"

namespace ethos::reference {
namespace {

enum class Tri { kFalse, kTrue, kUnknown };

Tri tri_of(const Val& v) {
  if (!v.known()) return Tri::kUnknown;
  if (v.k != Val::K::kBool) impossible("a condition is not a bool");
  return v.b ? Tri::kTrue : Tri::kFalse;
}

Val val_of(Tri t) { return t == Tri::kUnknown ? Val::unknown() : Val::boolean(t == Tri::kTrue); }

// ---- durations (language.md: "Values") ------------------------------------------

// A duration literal as written in a policy: `30 days`, `-1 week`.
int64_t literal_duration(const std::string& written) {
  size_t p = 0;
  bool negative = false;
  if (p < written.size() && written[p] == '-') {
    negative = true;
    ++p;
  }
  Wide n = 0;
  while (p < written.size() && written[p] >= '0' && written[p] <= '9') {
    n = n * 10 + (written[p] - '0');
    if (n > Wide(kMax) + 1) impossible("a duration literal out of range was accepted: " + written);
    ++p;
  }
  while (p < written.size() && (written[p] == ' ' || written[p] == '\t')) ++p;
  std::string unit = written.substr(p);
  Wide mult = 0;
  if (unit == "week" || unit == "weeks")
    mult = 7 * 86400;
  else if (unit == "day" || unit == "days")
    mult = 86400;
  else if (unit == "hour" || unit == "hours")
    mult = 3600;
  else if (unit == "minute" || unit == "minutes")
    mult = 60;
  else if (unit == "second" || unit == "seconds")
    mult = 1;
  else
    impossible("unknown duration unit in `" + written + "`");
  Wide v = (negative ? -n : n) * mult;
  if (!fits(v)) impossible("a duration literal out of range was accepted: " + written);
  return static_cast<int64_t>(v);
}

// ---- declarations --------------------------------------------------------------

struct ModuleDecl {
  std::string name;
  const ast::Module* ast = nullptr;
};
struct RuleDecl {
  std::string id;
  size_t module = 0;
  const ast::Rule* ast = nullptr;
  // language.md, "Sources": a rule whose only support where it can fire is
  // dated sources fires only while one of them is in force. Empty: always.
  std::vector<std::pair<int64_t, int64_t>> windows;
};
struct SourceDecl {
  std::string jurisdiction = "global";
  int64_t from = INT64_MIN, until = INT64_MAX;
};
struct DefineDecl {
  size_t module = 0;
  const ast::Expr* value = nullptr;
};

}  // namespace

struct Program {
  const Schema& schema;
  std::vector<ModuleDecl> modules;
  std::map<std::string, size_t> module_index;
  std::vector<RuleDecl> rules;  // declaration order: files by path, then text order
  std::map<std::string, size_t> rule_index;
  std::map<std::string, DefineDecl> defines;  // "module.name"
  std::map<std::string, Val> params;          // "module.name" -> its value
  std::map<std::string, SourceDecl> sources;
  std::vector<const ast::Invariant*> invariants;  // files by path, then text order

  explicit Program(const Schema& s) : schema(s) {}

  // Where a rule can fire: the jurisdiction equalities among the top-level
  // `and`s of its module's `applies when` and its `when`.
  struct Reach {
    std::optional<std::set<std::string>> countries, states;
    bool eu = false;
  };
  static void reach_from(const ast::Expr& e, Reach& reach) {
    auto limit = [](std::optional<std::set<std::string>>& to, std::set<std::string> v) {
      if (!to) {
        to = v;
        return;
      }
      std::set<std::string> both;
      for (const auto& x : *to)
        if (v.count(x)) both.insert(x);
      to = both;
    };
    if (e.kind == ast::ExprKind::kAnd) {
      for (const auto& k : e.kids) reach_from(k, reach);
    } else if (e.kind == ast::ExprKind::kName && e.text == "jurisdiction.eu") {
      reach.eu = true;
    } else if (e.kind == ast::ExprKind::kCompare && e.kids[0].kind == ast::ExprKind::kName &&
               (e.op == ast::Op::kEq || e.op == ast::Op::kIn)) {
      std::set<std::string> values;
      const ast::Expr& v = e.kids[1];
      if (v.kind == ast::ExprKind::kString) values.insert(v.text);
      for (const auto& k : v.kids)
        if (k.kind == ast::ExprKind::kString) values.insert(k.text);
      if (e.kids[0].text == "jurisdiction.country") limit(reach.countries, values);
      if (e.kids[0].text == "jurisdiction.state") limit(reach.states, values);
    }
  }
  static bool only(const std::optional<std::set<std::string>>& set, const std::string& v) {
    if (!set || set->empty()) return false;
    for (const auto& x : *set)
      if (x != v) return false;
    return true;
  }
  std::vector<std::pair<int64_t, int64_t>> windows_of(const RuleDecl& r) const {
    Reach reach;
    if (modules[r.module].ast->applies) reach_from(*modules[r.module].ast->applies, reach);
    if (r.ast->when) reach_from(*r.ast->when, reach);
    std::vector<std::pair<int64_t, int64_t>> windows;
    for (const auto& c : r.ast->cites) {
      if (!c.source) return {};  // a string citation applies wherever the rule fires
      const SourceDecl& s = sources.at(c.source->text);
      const std::string& j = s.jurisdiction;
      bool covers = j == "global" || (j == "EU" && reach.eu) ||
                    (j.size() == 2 && only(reach.countries, j)) ||
                    (j.size() > 3 && j[2] == '-' && only(reach.countries, j.substr(0, 2)) &&
                     only(reach.states, j.substr(3)));
      if (!covers) continue;
      if (s.from == INT64_MIN && s.until == INT64_MAX) return {};
      windows.emplace_back(s.from, s.until);
    }
    return windows;
  }

  // ---- names: "a define or param of the current module, `module.name` of
  // another module, then a schema attribute path" (language.md) ----
  enum class NameKind { kDefine, kParam, kAttribute, kWord };
  struct Name {
    NameKind kind = NameKind::kWord;
    std::string key;  // define/param id or attribute path
  };

  Name resolve(const std::string& text, size_t module) const {
    const std::string& here = modules[module].name;
    if (text.find('.') == std::string::npos) {
      if (defines.count(here + "." + text)) return {NameKind::kDefine, here + "." + text};
      if (params.count(here + "." + text)) return {NameKind::kParam, here + "." + text};
    } else {
      std::string mod = text.substr(0, text.find('.'));
      std::string rest = text.substr(text.find('.') + 1);
      if (module_index.count(mod) && rest.find('.') == std::string::npos) {
        if (defines.count(text)) return {NameKind::kDefine, text};
        if (params.count(text)) return {NameKind::kParam, text};
      }
    }
    if (schema.by_path.count(text)) return {NameKind::kAttribute, text};
    return {NameKind::kWord, text};  // a bare word: an enum value, read against the other side
  }

  // ---- literals ----
  Val literal(const ast::Expr& e) const {
    switch (e.kind) {
      case ast::ExprKind::kBool:
        return Val::boolean(e.bool_value);
      case ast::ExprKind::kInt:
        return Val::number(Val::K::kInt, e.int_value);
      case ast::ExprKind::kDuration:
        return Val::number(Val::K::kDur, literal_duration(e.text));
      case ast::ExprKind::kString:
        return Val::text(Val::K::kStr, e.text);
      case ast::ExprKind::kName:
        return Val::text(Val::K::kWord, e.text);
      case ast::ExprKind::kList: {
        Val l;
        l.k = Val::K::kList;
        for (const auto& k : e.kids) l.list.push_back(literal(k));
        return l;
      }
      default:
        impossible("not a literal");
    }
  }

  // A param's value: its literal read as its declared type.
  Val param_value(const ast::Expr& e, const ast::TypeExpr& type) const {
    Val v = literal(e);
    switch (type.kind) {
      case ast::TypeKind::kTimestamp: {
        auto t = parse_time(v.s);
        if (!t) impossible("a timestamp param that is not a timestamp was accepted");
        return Val::number(Val::K::kTime, *t);
      }
      case ast::TypeKind::kEnum:
        return Val::text(Val::K::kEnum, v.s);
      case ast::TypeKind::kSet: {
        Val s;
        s.k = Val::K::kSet;
        for (const auto& item : v.list) s.set.insert(item.s);
        return s;
      }
      default:
        return v;
    }
  }
};

namespace {

// ---- one evaluation ---------------------------------------------------------------

class Run {
 public:
  Run(const Program& p, const Facts& f) : p_(p), f_(f) {}

  // `x is present`: the attribute and every record around it are present.
  bool present(const std::string& path) const { return f_.present.count(path) > 0; }

  Val eval(const ast::Expr& e, size_t module) {
    using EK = ast::ExprKind;
    switch (e.kind) {
      case EK::kBool:
      case EK::kInt:
      case EK::kDuration:
      case EK::kString:
      case EK::kList:
        return p_.literal(e);
      case EK::kNow:
        return Val::number(Val::K::kTime, f_.time);
      case EK::kName:
        return name(e.text, module);
      case EK::kNot: {
        Tri a = tri_of(eval(e.kids.at(0), module));
        return val_of(a == Tri::kUnknown ? Tri::kUnknown
                      : a == Tri::kTrue  ? Tri::kFalse
                                         : Tri::kTrue);
      }
      case EK::kAnd: {
        // Kleene: false if any is false, else unknown if any is unknown, else true.
        bool any_unknown = false;
        for (const auto& k : e.kids) {
          Tri t = tri_of(eval(k, module));
          if (t == Tri::kFalse) return Val::boolean(false);
          if (t == Tri::kUnknown) any_unknown = true;
        }
        return any_unknown ? Val::unknown() : Val::boolean(true);
      }
      case EK::kOr: {
        bool any_unknown = false;
        for (const auto& k : e.kids) {
          Tri t = tri_of(eval(k, module));
          if (t == Tri::kTrue) return Val::boolean(true);
          if (t == Tri::kUnknown) any_unknown = true;
        }
        return any_unknown ? Val::unknown() : Val::boolean(false);
      }
      case EK::kIsPresent:
      case EK::kIsMissing: {
        const ast::Expr& x = e.kids.at(0);
        auto n = p_.resolve(x.text, module);
        if (n.kind != Program::NameKind::kAttribute) impossible("`is present` on a non-attribute");
        bool here = present(n.key);
        return Val::boolean(e.kind == EK::kIsPresent ? here : !here);
      }
      case EK::kCall: {
        if (e.text != "days_since") impossible("unknown function");
        Val t = eval(e.kids.at(0), module);
        if (!t.known()) return t;
        if (t.k != Val::K::kTime) impossible("days_since of a non-timestamp");
        // floor((time - t) / 86400 s); time - t is a duration: if it overflows, unknown.
        Wide diff = Wide(f_.time) - Wide(t.i);
        if (!fits(diff)) return Val::unknown();
        Wide q = diff / 86400;
        if (diff % 86400 != 0 && diff < 0) --q;
        return Val::number(Val::K::kInt, static_cast<int64_t>(q));
      }
      case EK::kArith:
        return arith(e, module);
      case EK::kCompare:
        return compare(e, module);
    }
    impossible("unknown expression kind");
  }

  Tri tri(const ast::Expr& e, size_t module) { return tri_of(eval(e, module)); }

 private:
  Val name(const std::string& text, size_t module) {
    auto n = p_.resolve(text, module);
    switch (n.kind) {
      case Program::NameKind::kWord:
        return Val::text(Val::K::kWord, text);
      case Program::NameKind::kParam:
        return p_.params.at(n.key);
      case Program::NameKind::kAttribute: {
        auto it = f_.values.find(n.key);
        if (it == f_.values.end()) return Val::unknown();  // absent
        return it->second;
      }
      case Program::NameKind::kDefine: {
        // "A define is its expression; it may be evaluated once and shared."
        if (auto it = memo_.find(n.key); it != memo_.end()) return it->second;
        const DefineDecl& d = p_.defines.at(n.key);
        Val v = eval(*d.value, d.module);
        if (v.k == Val::K::kList) v = as_set(v);  // a list define is a set of strings
        memo_[n.key] = v;
        return v;
      }
    }
    impossible("unresolved name");
  }

  static Val as_set(const Val& v) {
    if (v.k == Val::K::kSet) return v;
    if (v.k != Val::K::kList) impossible("not a set or list");
    Val s;
    s.k = Val::K::kSet;
    for (const auto& item : v.list) {
      if (item.k != Val::K::kStr) impossible("a set holds strings");
      s.set.insert(item.s);
    }
    return s;
  }

  // Reads a policy string literal against a timestamp on the other side.
  static Val coerce(const Val& v, const Val& other) {
    if (other.k == Val::K::kTime && v.k == Val::K::kStr) {
      auto t = parse_time(v.s);
      if (!t) impossible("a timestamp literal that is not a timestamp was accepted: " + v.s);
      return Val::number(Val::K::kTime, *t);
    }
    return v;
  }

  static bool is_named(Val::K k) { return k == Val::K::kEnum || k == Val::K::kWord; }

  // Equality of two known values of the same type: texts for strings,
  // identity (the value's name) for enums, numbers for the rest.
  static bool equal(const Val& a0, const Val& b0) {
    Val a = coerce(a0, b0), b = coerce(b0, a0);
    if (is_named(a.k) || is_named(b.k)) {
      if (!(a.k == Val::K::kEnum || b.k == Val::K::kEnum))
        impossible("a bare word compared with a non-enum");
      if (a.k == Val::K::kInt || b.k == Val::K::kInt) impossible("an enum compared with an int");
      return a.s == b.s;
    }
    if (a.k != b.k) impossible("comparison of different types");
    switch (a.k) {
      case Val::K::kBool:
        return a.b == b.b;
      case Val::K::kStr:
        return a.s == b.s;
      case Val::K::kInt:
      case Val::K::kTime:
      case Val::K::kDur:
        return a.i == b.i;
      default:
        impossible("equality of sets or lists");
    }
  }

  Val compare(const ast::Expr& e, size_t module) {
    Val a = eval(e.kids.at(0), module), b = eval(e.kids.at(1), module);
    if (!a.known() || !b.known()) return Val::unknown();
    switch (e.op) {
      case ast::Op::kEq:
        return Val::boolean(equal(a, b));
      case ast::Op::kNe:
        return Val::boolean(!equal(a, b));
      case ast::Op::kLt:
      case ast::Op::kLe:
      case ast::Op::kGt:
      case ast::Op::kGe: {
        Val x = coerce(a, b), y = coerce(b, a);
        if (x.k != y.k || (x.k != Val::K::kInt && x.k != Val::K::kTime && x.k != Val::K::kDur))
          impossible("ordering of non-numbers");
        bool r = e.op == ast::Op::kLt   ? x.i < y.i
                 : e.op == ast::Op::kLe ? x.i <= y.i
                 : e.op == ast::Op::kGt ? x.i > y.i
                                        : x.i >= y.i;
        return Val::boolean(r);
      }
      case ast::Op::kIn: {
        // `x in L`: x is a member of list/set L.
        if (b.k == Val::K::kSet) {
          if (a.k != Val::K::kStr) impossible("`in` a set with a non-string");
          return Val::boolean(b.set.count(a.s) > 0);
        }
        if (b.k != Val::K::kList) impossible("`in` needs a list or set");
        for (const auto& item : b.list)
          if (equal(a, item)) return Val::boolean(true);
        return Val::boolean(false);
      }
      case ast::Op::kHas: {
        if (b.k != Val::K::kStr) impossible("`has` needs a string");
        return Val::boolean(as_set(a).set.count(b.s) > 0);
      }
      case ast::Op::kHasAny: {
        // Some member of B is in A (false when B is empty).
        Val x = as_set(a), y = as_set(b);
        for (const auto& m : y.set)
          if (x.set.count(m)) return Val::boolean(true);
        return Val::boolean(false);
      }
      case ast::Op::kHasAll: {
        // Every member of B is in A (true when B is empty).
        Val x = as_set(a), y = as_set(b);
        for (const auto& m : y.set)
          if (!x.set.count(m)) return Val::boolean(false);
        return Val::boolean(true);
      }
      default:
        impossible("unknown comparison");
    }
  }

  Val arith(const ast::Expr& e, size_t module) {
    Val a = eval(e.kids.at(0), module), b = eval(e.kids.at(1), module);
    if (!a.known() || !b.known()) return Val::unknown();
    using K = Val::K;
    K result;
    Wide r;
    switch (e.op) {
      case ast::Op::kAdd:
        r = Wide(a.i) + Wide(b.i);
        if (a.k == K::kInt && b.k == K::kInt)
          result = K::kInt;
        else if ((a.k == K::kTime && b.k == K::kDur) || (a.k == K::kDur && b.k == K::kTime))
          result = K::kTime;
        else if (a.k == K::kDur && b.k == K::kDur)
          result = K::kDur;
        else
          impossible("bad `+`");
        break;
      case ast::Op::kSub:
        r = Wide(a.i) - Wide(b.i);
        if (a.k == K::kInt && b.k == K::kInt)
          result = K::kInt;
        else if (a.k == K::kTime && b.k == K::kDur)
          result = K::kTime;
        else if (a.k == K::kTime && b.k == K::kTime)
          result = K::kDur;
        else if (a.k == K::kDur && b.k == K::kDur)
          result = K::kDur;
        else
          impossible("bad `-`");
        break;
      case ast::Op::kMul:
        r = Wide(a.i) * Wide(b.i);
        if (a.k == K::kInt && b.k == K::kInt)
          result = K::kInt;
        else if ((a.k == K::kInt && b.k == K::kDur) || (a.k == K::kDur && b.k == K::kInt))
          result = K::kDur;
        else
          impossible("bad `*`");
        break;
      default:
        impossible("unknown arithmetic");
    }
    if (!fits(r)) return Val::unknown();  // "Integer overflow gives unknown."
    return Val::number(result, static_cast<int64_t>(r));
  }

  const Program& p_;
  const Facts& f_;
  std::map<std::string, Val> memo_;
};

// Every attribute an expression reads: directly, or through the defines it uses.
void collect_reads(const Program& p, const ast::Expr& e, size_t module,
                   std::set<std::string>& out) {
  if (e.kind == ast::ExprKind::kName) {
    auto n = p.resolve(e.text, module);
    if (n.kind == Program::NameKind::kAttribute) out.insert(n.key);
    if (n.kind == Program::NameKind::kDefine) {
      const DefineDecl& d = p.defines.at(n.key);
      collect_reads(p, *d.value, d.module, out);
    }
  }
  for (const auto& k : e.kids) collect_reads(p, k, module, out);
}

}  // namespace

std::string to_text(const RefDecision& d) {
  std::string s = "outcome " + d.outcome + "\n";
  if (!d.default_module.empty()) s += "default " + d.default_module + "\n";
  for (const auto& r : d.reasons) s += "reason " + r + "\n";
  for (const auto& [o, r] : d.obligations) s += "obligation " + o + " (" + r + ")\n";
  for (const auto& r : d.advice) s += "advice " + r + "\n";
  for (const auto& [r, by] : d.overridden) s += "overridden " + r + " by " + by + "\n";
  for (const auto& m : d.missing) s += "missing " + m + "\n";
  for (const auto& [r, st] : d.trace) s += "trace " + r + " " + st + "\n";
  return s;
}

Interpreter::Interpreter(const SourceSet& sources, const std::vector<ast::File>& files,
                         const Schema& schema, const std::map<std::string, std::string>& params)
    : program_(std::make_unique<Program>(schema)) {
  Program& p = *program_;
  // "the order of files sorted by path, then of rules in each file"
  std::vector<const ast::File*> ordered;
  for (const auto& f : files) ordered.push_back(&f);
  std::stable_sort(ordered.begin(), ordered.end(), [&](const ast::File* a, const ast::File* b) {
    return sources.files[a->file].path() < sources.files[b->file].path();
  });
  std::vector<std::pair<std::string, const ast::Param*>> param_decls;
  for (const ast::File* f : ordered) {
    std::optional<size_t> module;
    for (const auto& d : f->declarations) {
      switch (d.kind) {
        case ast::DeclKind::kModule:
          module = p.modules.size();
          p.module_index[d.module->name.text] = *module;
          p.modules.push_back({d.module->name.text, d.module.get()});
          break;
        case ast::DeclKind::kRule: {
          std::string id = p.modules.at(module.value()).name + "." + d.rule->name.text;
          p.rule_index[id] = p.rules.size();
          p.rules.push_back({id, *module, d.rule.get(), {}});
          break;
        }
        case ast::DeclKind::kDefine:
          p.defines[p.modules.at(module.value()).name + "." + d.define->name.text] = {
              *module, &d.define->value};
          break;
        case ast::DeclKind::kParam:
          param_decls.emplace_back(p.modules.at(module.value()).name + "." + d.param->name.text,
                                   d.param.get());
          break;
        case ast::DeclKind::kSource: {
          SourceDecl s;
          if (d.source->jurisdiction) s.jurisdiction = d.source->jurisdiction->text;
          if (d.source->from) s.from = parse_time(d.source->from->text).value();
          if (d.source->until) s.until = parse_time(d.source->until->text).value();
          p.sources[d.source->name.text] = s;
          break;
        }
        case ast::DeclKind::kInvariant:
          p.invariants.push_back(d.invariant.get());
          break;
        default:
          break;
      }
    }
  }
  for (auto& r : p.rules) r.windows = p.windows_of(r);
  // "A `param` is a constant: its declared default, or the deployment's value."
  for (const auto& [id, decl] : param_decls) {
    auto given = params.find(id);
    if (given == params.end()) {
      p.params[id] = p.param_value(decl->value, decl->type);
      continue;
    }
    std::string text = given->second;
    if (decl->type.kind == ast::TypeKind::kString && (text.empty() || text.front() != '"'))
      text = "\"" + text + "\"";
    SourceSet one;
    one.files.emplace_back("--param " + id, text);
    Diagnostics diags;
    auto e = parse_expression(one, 0, diags);
    if (!e) impossible("a param value that does not parse was accepted: " + text);
    p.params[id] = p.param_value(*e, decl->type);
  }
}

Interpreter::~Interpreter() = default;

RefResult Interpreter::decide(const std::string& request_json) const {
  const Program& p = *program_;
  RefResult result;
  Facts facts;
  if (!bind_request(p.schema, request_json, facts, result.error)) return result;
  Run run(p, facts);
  // semantics.md: a request breaks an invariant when its `when` is true and
  // its condition false, both known; it is then rejected, not decided.
  for (const ast::Invariant* v : p.invariants) {
    Tri when = v->when ? run.tri(*v->when, 0) : Tri::kTrue;
    if (when == Tri::kTrue && run.tri(v->holds, 0) == Tri::kFalse) {
      result.error = {"$", "breaks invariant `" + v->name.text + "`"};
      return result;
    }
  }
  result.ok = true;
  RefDecision& d = result.decision;

  // ---- A rule's status: C = G and W and not U ----
  enum class Status { kNotApplicable, kNotFired, kFired, kUnknown, kOverridden };
  const char* const names[] = {"not_applicable", "not_fired", "fired", "unknown", "overridden"};
  std::vector<Tri> guard(p.modules.size());
  for (size_t m = 0; m < p.modules.size(); ++m)
    guard[m] = p.modules[m].ast->applies ? run.tri(*p.modules[m].ast->applies, m) : Tri::kTrue;

  // Who overrides whom, by declaration order of the overrider.
  std::vector<std::vector<size_t>> overriders(p.rules.size());
  for (size_t i = 0; i < p.rules.size(); ++i)
    for (const auto& o : p.rules[i].ast->overrides) {
      std::string id = o.text.find('.') == std::string::npos
                           ? p.modules[p.rules[i].module].name + "." + o.text
                           : o.text;
      overriders.at(p.rule_index.at(id)).push_back(i);
    }

  std::vector<std::optional<Status>> status(p.rules.size());
  std::vector<Tri> condition(p.rules.size(), Tri::kFalse);
  std::vector<size_t> overridden_by(p.rules.size(), 0);
  // Statuses are computed overriders first (the overrides graph is acyclic).
  std::function<Status(size_t)> status_of = [&](size_t i) -> Status {
    if (status[i]) return *status[i];
    const RuleDecl& r = p.rules[i];
    Tri g = guard[r.module];
    Tri w = r.ast->when ? run.tri(*r.ast->when, r.module) : Tri::kTrue;
    if (!r.windows.empty()) {
      bool in_force = false;
      for (auto [from, until] : r.windows)
        in_force = in_force || (facts.time >= from && facts.time < until);
      if (!in_force) w = Tri::kFalse;
    }
    Tri u = r.ast->unless ? run.tri(*r.ast->unless, r.module) : Tri::kFalse;
    Tri not_u = u == Tri::kUnknown ? Tri::kUnknown : u == Tri::kTrue ? Tri::kFalse : Tri::kTrue;
    Tri c;
    if (g == Tri::kFalse || w == Tri::kFalse || not_u == Tri::kFalse)
      c = Tri::kFalse;
    else if (g == Tri::kUnknown || w == Tri::kUnknown || not_u == Tri::kUnknown)
      c = Tri::kUnknown;
    else
      c = Tri::kTrue;
    condition[i] = c;
    Status s;
    if (g == Tri::kFalse) {
      s = Status::kNotApplicable;
    } else if (c == Tri::kFalse) {
      s = Status::kNotFired;
    } else {
      std::optional<size_t> by;
      for (size_t o : overriders[i])  // declaration order
        if (status_of(o) == Status::kFired) {
          by = o;
          break;
        }
      if (by) {
        s = Status::kOverridden;
        overridden_by[i] = *by;
      } else {
        s = c == Tri::kTrue ? Status::kFired : Status::kUnknown;
      }
    }
    status[i] = s;
    return s;
  };
  for (size_t i = 0; i < p.rules.size(); ++i) status_of(i);

  // ---- Combining ----
  auto effect = [&](size_t i) { return p.rules[i].ast->effect; };
  using E = ast::Effect;
  std::vector<std::string> forbids, escalates, permits;
  for (size_t i = 0; i < p.rules.size(); ++i) {
    Status s = *status[i];
    bool live = s == Status::kFired || s == Status::kUnknown;
    if (effect(i) == E::kForbid && live) forbids.push_back(p.rules[i].id);
    if (effect(i) == E::kEscalate && live) escalates.push_back(p.rules[i].id);
    if ((effect(i) == E::kPermit || effect(i) == E::kRequire) && s == Status::kFired)
      permits.push_back(p.rules[i].id);
  }
  if (!forbids.empty()) {
    d.outcome = "deny";
    d.reasons = forbids;
  } else if (!escalates.empty()) {
    d.outcome = "escalate";
    d.reasons = escalates;
  } else if (!permits.empty()) {
    d.outcome = "permit";
    d.reasons = permits;
  } else {
    d.outcome = "deny";
    for (size_t m = 0; m < p.modules.size(); ++m) {
      const auto& def = p.modules[m].ast->default_effect;
      if (def && def->text == "permit" && guard[m] == Tri::kTrue) {
        d.outcome = "permit";
        d.default_module = p.modules[m].name;
        break;
      }
    }
  }

  // ---- Obligations, advice, overridden rules, missing facts ----
  std::set<std::string> missing;
  for (size_t i = 0; i < p.rules.size(); ++i) {
    const RuleDecl& r = p.rules[i];
    Status s = *status[i];
    if (effect(i) == E::kRequire && (s == Status::kFired || s == Status::kUnknown))
      d.obligations.emplace_back(r.ast->obligation->text, r.id);
    if (effect(i) == E::kAdvise && s == Status::kFired) d.advice.push_back(r.id);
    if (s == Status::kOverridden) d.overridden.emplace_back(r.id, p.rules[overridden_by[i]].id);
    if (s == Status::kUnknown && effect(i) != E::kAdvise) {
      std::set<std::string> reads;
      if (r.ast->when) collect_reads(p, *r.ast->when, r.module, reads);
      if (r.ast->unless) collect_reads(p, *r.ast->unless, r.module, reads);
      if (p.modules[r.module].ast->applies)
        collect_reads(p, *p.modules[r.module].ast->applies, r.module, reads);
      for (const std::string& path : reads) {
        // Named by the outermost absent record: the first absent prefix.
        for (size_t dot = 0;; ++dot) {
          dot = path.find('.', dot);
          std::string prefix = path.substr(0, dot);
          if (!facts.present.count(prefix)) {
            missing.insert(prefix);
            break;
          }
          if (dot == std::string::npos) break;
        }
      }
    }
    d.trace.emplace_back(r.id, names[static_cast<int>(s)]);
  }
  // "Sorted by schema order, without duplicates."
  d.missing.assign(missing.begin(), missing.end());
  std::sort(d.missing.begin(), d.missing.end(), [&](const std::string& a, const std::string& b) {
    return p.schema.by_path.at(a) < p.schema.by_path.at(b);
  });
  return result;
}

}  // namespace ethos::reference
