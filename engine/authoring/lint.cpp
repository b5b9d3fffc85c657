#include <ethos/authoring/lint.hpp>

#include <algorithm>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include <ethos/authoring/lint_solver.hpp>
#include <ethos/eval/evaluator.hpp>
#include <ethos/eval/request.hpp>

namespace ethos {

const char* finding_kind_name(FindingKind k) {
  switch (k) {
    case FindingKind::kNeverFires:
      return "never-fires";
    case FindingKind::kShadowed:
      return "shadowed";
    case FindingKind::kAlwaysOverridden:
      return "always-overridden";
    case FindingKind::kDeadException:
      return "dead-exception";
    case FindingKind::kRedundant:
      return "redundant";
    case FindingKind::kUnusedDefine:
      return "unused-define";
    case FindingKind::kUnusedParam:
      return "unused-param";
    case FindingKind::kUnusedObligation:
      return "unused-obligation";
    case FindingKind::kUnusedAttribute:
      return "unused-attribute";
    case FindingKind::kIndistinctEnumValues:
      return "indistinct-enum-values";
  }
  return "?";
}

size_t LintReport::errors() const {
  return static_cast<size_t>(std::count_if(findings.begin(), findings.end(), [](const Finding& f) {
    return f.severity == Severity::kError;
  }));
}
size_t LintReport::warnings() const {
  return static_cast<size_t>(std::count_if(findings.begin(), findings.end(), [](const Finding& f) {
    return f.severity == Severity::kWarning;
  }));
}

namespace {

std::string q(std::string_view s) { return "`" + std::string(s) + "`"; }

std::string join(const std::vector<std::string>& items, const std::string& last_sep) {
  std::string s;
  for (size_t i = 0; i < items.size(); ++i) {
    if (i) s += i + 1 == items.size() ? last_sep : ", ";
    s += items[i];
  }
  return s;
}

class Linter {
 public:
  Linter(const Bundle& b, const LintOptions& o)
      : p_(*b.policy), solver_(p_, o.solver_steps), eval_(b.policy), binder_(p_) {
    dead_.assign(p_.rules.size(), false);
    always_overridden_.assign(p_.rules.size(), false);
  }

  LintReport run() {
    never_fires();
    always_overridden();
    shadowed();
    dead_exceptions();
    redundant();
    unused();
    enum_values();
    std::stable_sort(report_.findings.begin(), report_.findings.end(),
                     [](const Finding& a, const Finding& b) {
                       if (a.span.file != b.span.file) return a.span.file < b.span.file;
                       return a.span.begin < b.span.begin;
                     });
    return std::move(report_);
  }

 private:
  using F = PolicySolver::Formula;
  using Answer = PolicySolver::Answer;
  using Conjunct = PolicySolver::Conjunct;

  Answer ask(const std::vector<F>& parts) {
    ++report_.questions;
    Answer a = solver_.solve(parts);
    if (a == Answer::kUnknown) ++report_.undecided;
    return a;
  }

  bool evaluate(const std::string& json, Decision& d) {
    BoundRequest req;
    BindError err;
    if (!binder_.bind(json, req, err)) return false;
    eval_.evaluate(req, d);
    return true;
  }

  // A request for which `parts` hold and `ok` accepts ethos's decision, or
  // empty. A quiet one is tried first: no forbid or escalate other than
  // `involved` fires or is unknown, so the decision shows the finding alone.
  std::string witness(const std::vector<F>& parts, const std::function<bool(const Decision&)>& ok,
                      Decision& d, const std::vector<uint32_t>& involved = {}) {
    std::vector<F> quiet = parts;
    for (uint32_t r = 0; r < p_.rules.size(); ++r)
      if ((rule(r).effect == Effect::kForbid || rule(r).effect == Effect::kEscalate) &&
          std::find(involved.begin(), involved.end(), r) == involved.end())
        quiet.push_back(solver_.negate(solver_.blocks(r)));
    const std::vector<F>* attempts[] = {&quiet, &parts};
    for (const std::vector<F>* attempt : attempts) {
      if (ask(*attempt) != Answer::kSat) continue;
      std::string w = solver_.witness();
      if (evaluate(w, d) && ok(d)) return w;
    }
    return {};
  }

  const Rule& rule(uint32_t r) const { return p_.rules[r]; }
  static std::vector<uint32_t> rules_of(uint32_t r, const std::vector<uint32_t>& more) {
    std::vector<uint32_t> v{r};
    v.insert(v.end(), more.begin(), more.end());
    return v;
  }
  std::string rid(uint32_t r) const { return q(p_.rules[r].id); }

  static const char* status_words(RuleStatus s) {
    switch (s) {
      case RuleStatus::kFired:
        return "fired";
      case RuleStatus::kNotFired:
        return "did not fire";
      case RuleStatus::kUnknown:
        return "was unknown";
      case RuleStatus::kOverridden:
        return "was overridden";
      case RuleStatus::kNotApplicable:
        return "did not apply";
    }
    return "?";
  }

  std::string status_list(const Decision& d, const std::vector<uint32_t>& rules) const {
    std::vector<std::string> parts;
    for (uint32_t r : rules) {
      std::string s = rid(r) + " " + status_words(d.trace[r]);
      if (d.trace[r] == RuleStatus::kOverridden)
        for (const auto& [x, by] : d.overridden)
          if (x == r) s += " by " + rid(by);
      parts.push_back(s);
    }
    return "ethos decided " + std::string(outcome_name(d.outcome)) + ": " + join(parts, " and ");
  }

  // The witness facts that the involved rules read, for a person.
  std::vector<std::string> relevant(const std::string& witness,
                                    const std::vector<uint32_t>& rules) const {
    std::vector<std::string> out;
    if (witness.empty()) return out;
    nlohmann::json w = nlohmann::json::parse(witness);
    std::set<uint32_t> slots;
    for (uint32_t r : rules) slots.insert(p_.rules[r].reads.begin(), p_.rules[r].reads.end());
    for (uint32_t s : slots) {
      const Attribute& a = p_.schema.attributes[s];
      if (a.type.kind == ValueType::kRecord || static_cast<int32_t>(s) == p_.schema.time_slot)
        continue;
      std::string ptr = "/" + a.path;
      std::replace(ptr.begin(), ptr.end(), '.', '/');
      nlohmann::json::json_pointer jp(ptr);
      out.push_back(q(a.path) + (w.contains(jp) ? " = " + w[jp].dump() : " absent"));
    }
    return out;
  }

  std::string condition_text(const Conjunct& c) const {
    std::string t = q(ir_text(p_, c.node));
    return c.value ? t : t + " is false";
  }

  // The conjuncts of a rule's condition, its module's guard first.
  std::vector<Conjunct> rule_conjuncts(uint32_t r) const {
    std::vector<Conjunct> cs;
    const Module& m = p_.modules[rule(r).module];
    if (m.applies) cs = solver_.conjuncts(*m.applies, true);
    auto more = solver_.conjuncts(rule(r).condition, true);
    cs.insert(cs.end(), more.begin(), more.end());
    return cs;
  }

  Finding finding(FindingKind kind, Severity sev, uint32_t subject, std::string message) {
    Finding f;
    f.kind = kind;
    f.severity = sev;
    f.span = rule(subject).span;
    f.rules.push_back(rule(subject).id);
    f.message = std::move(message);
    return f;
  }
  void involve(Finding& f, uint32_t r, const std::string& why) {
    f.rules.push_back(rule(r).id);
    f.notes.push_back({rule(r).span, rid(r) + " " + why});
  }

  // ---- never fires ----
  void never_fires() {
    for (uint32_t r = 0; r < p_.rules.size(); ++r) {
      std::vector<Conjunct> cs = rule_conjuncts(r);
      std::vector<F> parts;
      for (const auto& c : cs) parts.push_back(solver_.conjunct(c));
      if (ask(parts) != Answer::kUnsat) continue;
      dead_[r] = true;
      std::vector<size_t> all(parts.size());
      for (size_t i = 0; i < all.size(); ++i) all[i] = i;
      std::vector<size_t> core = solver_.core(parts, all);
      Finding f = finding(FindingKind::kNeverFires, Severity::kError, r,
                          "rule " + rid(r) + " can never fire");
      if (core.size() == 1) {
        const Conjunct& c = cs[core[0]];
        f.proof = "its condition needs " + condition_text(c) +
                  ", and no request valid against the schema makes that hold";
      } else {
        std::vector<std::string> texts;
        for (size_t i : core) texts.push_back(condition_text(cs[i]));
        f.proof = "its condition needs " + join(texts, " and ") +
                  ", and no request makes all of these hold at once";
      }
      f.help =
          "a rule that cannot fire decides nothing: correct its condition (or its module's "
          "`applies when`), or remove it";
      report_.findings.push_back(std::move(f));
    }
  }

  // ---- always overridden ----
  void always_overridden() {
    for (uint32_t r = 0; r < p_.rules.size(); ++r) {
      const Rule& x = rule(r);
      if (dead_[r] || x.overridden_by.empty()) continue;
      std::vector<F> parts{solver_.condition_true(r)};
      std::vector<size_t> candidates;
      for (uint32_t y : x.overridden_by) {
        candidates.push_back(parts.size());
        parts.push_back(solver_.negate(solver_.fired(y)));
      }
      if (ask(parts) != Answer::kUnsat) continue;
      always_overridden_[r] = true;
      std::vector<size_t> core = solver_.core(parts, candidates);
      std::vector<uint32_t> by;
      for (size_t i : core)
        if (i > 0) by.push_back(x.overridden_by[i - 1]);
      Finding f = finding(FindingKind::kAlwaysOverridden, Severity::kError, r,
                          "rule " + rid(r) + " is overridden whenever it fires");
      std::vector<std::string> names;
      for (uint32_t y : by) {
        involve(f, y, "overrides it");
        names.push_back(rid(y));
      }
      f.proof =
          "no request makes the condition of " + rid(r) + " hold without " +
          (by.size() == 1 ? names[0] + " firing" : "one of " + join(names, " or ") + " firing");
      std::vector<F> any;
      for (uint32_t y : by) any.push_back(solver_.fired(y));
      Decision d;
      f.witness = witness(
          {solver_.condition_true(r), solver_.any(any)},
          [&](const Decision& dec) { return dec.trace[r] == RuleStatus::kOverridden; }, d,
          rules_of(r, by));
      std::vector<uint32_t> rules{r};
      rules.insert(rules.end(), by.begin(), by.end());
      if (!f.witness.empty()) f.checked = status_list(d, rules);
      f.relevant = relevant(f.witness, rules);
      f.help =
          "the rule never takes effect: narrow the overriding rule's condition, or remove the "
          "overridden rule";
      report_.findings.push_back(std::move(f));
    }
  }

  // ---- shadowed ----
  void shadowed() {
    std::vector<uint32_t> blockers;
    for (uint32_t r = 0; r < p_.rules.size(); ++r)
      if (rule(r).effect == Effect::kForbid || rule(r).effect == Effect::kEscalate)
        blockers.push_back(r);
    for (uint32_t r = 0; r < p_.rules.size(); ++r) {
      const Rule& x = rule(r);
      if (x.effect != Effect::kPermit && x.effect != Effect::kRequire) continue;
      if (dead_[r] || always_overridden_[r]) continue;
      std::vector<F> parts{solver_.fired(r)};
      std::vector<size_t> candidates;
      for (uint32_t f : blockers) {
        candidates.push_back(parts.size());
        parts.push_back(solver_.negate(solver_.blocks(f)));
      }
      if (ask(parts) != Answer::kUnsat) continue;
      std::vector<size_t> core = solver_.core(parts, candidates);
      std::vector<uint32_t> by;
      for (size_t i : core)
        if (i > 0) by.push_back(blockers[i - 1]);
      std::vector<std::string> names;
      for (uint32_t y : by) names.push_back(rid(y));
      std::string who = by.size() == 1 ? names[0] + " fires or is unknown"
                                       : "one of " + join(names, " or ") + " fires or is unknown";
      // A require rule's obligation reaches the app with an escalation (a
      // human decides, then the AI is used under it), so a require that only
      // escalations shadow still does something: a warning. Under a forbid
      // the AI is not used at all, and a permit that never permits is dead.
      bool escalations = std::any_of(
          by.begin(), by.end(), [&](uint32_t y) { return rule(y).effect == Effect::kEscalate; });
      Severity sev =
          x.effect == Effect::kRequire && escalations ? Severity::kWarning : Severity::kError;
      Finding f = finding(FindingKind::kShadowed, sev, r,
                          "rule " + rid(r) + " can never make a permit: whenever it fires, " + who);
      for (uint32_t y : by)
        involve(f, y,
                std::string("is the ") + effect_name(rule(y).effect) + " that decides instead");
      // Which part of the rule's own condition does it: a core over its conjuncts.
      std::vector<Conjunct> cs = rule_conjuncts(r);
      std::vector<F> parts2;
      std::vector<size_t> mine;
      for (const auto& c : cs) {
        mine.push_back(parts2.size());
        parts2.push_back(solver_.conjunct(c));
      }
      for (uint32_t y : x.overridden_by) parts2.push_back(solver_.negate(solver_.fired(y)));
      for (uint32_t y : by) parts2.push_back(solver_.negate(solver_.blocks(y)));
      std::string because;
      if (ask(parts2) == Answer::kUnsat) {
        std::vector<std::string> texts;
        for (size_t i : solver_.core(parts2, mine))
          if (i < cs.size()) texts.push_back(condition_text(cs[i]));
        if (!texts.empty()) because = " needs " + join(texts, " and ") + ";";
      }
      f.proof = rid(r) + because + " no request makes it fire while " +
                (by.size() == 1 ? names[0] : "each of " + join(names, " and ")) +
                " is false (forbid beats escalate beats permit, and an unknown forbid or escalate "
                "fails closed)";
      Decision d;
      f.witness = witness(
          {solver_.fired(r)},
          [&](const Decision& dec) {
            return dec.trace[r] == RuleStatus::kFired && dec.outcome != Outcome::kPermit;
          },
          d, by);
      std::vector<uint32_t> rules{r};
      if (!f.witness.empty()) {
        for (uint32_t y : d.reasons) rules.push_back(y);
        f.checked = status_list(d, rules);
      }
      f.relevant = relevant(f.witness, rules);
      f.help = sev == Severity::kWarning ? "its obligation still reaches the app with the "
                                           "escalation; if it should also permit, make it "
                                           "`overrides` the escalate rule"
                                         : "the " + std::string(effect_name(x.effect)) +
                                               " never decides the outcome; if it is meant as an "
                                               "exception, make it `overrides` the rule that "
                                               "blocks it";
      report_.findings.push_back(std::move(f));
    }
  }

  // ---- dead exceptions ----
  void dead_exceptions() {
    for (uint32_t r = 0; r < p_.rules.size(); ++r) {
      const Rule& x = rule(r);
      if (dead_[r]) continue;
      for (uint32_t y : x.overrides) {
        F target_can_fire = solver_.negate(solver_.condition_false(y));
        if (ask({solver_.fired(r), target_can_fire}) != Answer::kUnsat) continue;
        Finding f = finding(FindingKind::kDeadException, Severity::kError, r,
                            "rule " + rid(r) + " overrides " + rid(y) + ", but " + rid(y) +
                                " can never fire when " + rid(r) + " does");
        involve(f, y, "is the rule it overrides");
        std::vector<Conjunct> cs = rule_conjuncts(r);
        std::vector<F> parts;
        std::vector<size_t> mine;
        for (const auto& c : cs) {
          mine.push_back(parts.size());
          parts.push_back(solver_.conjunct(c));
        }
        parts.push_back(target_can_fire);
        std::string needs;
        if (ask(parts) == Answer::kUnsat) {
          std::vector<std::string> texts;
          for (size_t i : solver_.core(parts, mine))
            if (i < cs.size()) texts.push_back(condition_text(cs[i]));
          if (!texts.empty()) needs = " needs " + join(texts, " and ") + ", and then";
        }
        f.proof = rid(r) + (needs.empty() ? " fires only when" : needs) + " the condition of " +
                  rid(y) + " is false: no request makes both hold";
        Decision d;
        f.witness = witness({solver_.fired(r)},
                            [&](const Decision& dec) { return dec.trace[r] == RuleStatus::kFired; },
                            d, {r, y});
        if (!f.witness.empty()) f.checked = status_list(d, {r, y});
        f.relevant = relevant(f.witness, {r, y});
        f.help = "the exception never applies: check both conditions, or remove `overrides " +
                 rule(y).id + "`";
        report_.findings.push_back(std::move(f));
      }
    }
  }

  // ---- redundant ----
  void redundant() {
    // Rules are comparable when they do the same thing: the same effect, and
    // for require the same obligation. Advice is its own text, and a permit
    // with `overrides` does more than permit: neither is compared.
    std::map<std::pair<int, int32_t>, std::vector<uint32_t>> classes;
    for (uint32_t r = 0; r < p_.rules.size(); ++r) {
      const Rule& x = rule(r);
      if (dead_[r] || x.effect == Effect::kAdvise) continue;
      classes[{static_cast<int>(x.effect), x.effect == Effect::kRequire ? x.obligation : -1}]
          .push_back(r);
    }
    for (const auto& [key, members] : classes) {
      bool blocking = key.first == static_cast<int>(Effect::kForbid) ||
                      key.first == static_cast<int>(Effect::kEscalate);
      auto active = [&](uint32_t r) { return blocking ? solver_.blocks(r) : solver_.fired(r); };
      std::map<std::pair<uint32_t, uint32_t>, bool> implies;
      for (uint32_t a : members)
        for (uint32_t b : members) {
          if (a == b) continue;
          implies[{a, b}] = ask({active(a), solver_.negate(active(b))}) == Answer::kUnsat;
        }
      for (uint32_t a : members) {
        if (!rule(a).overrides.empty()) continue;
        for (uint32_t b : members) {
          if (a == b || !implies[{a, b}]) continue;
          bool both = implies[{b, a}];
          if (both && (b < a && rule(b).overrides.empty()))
            continue;  // reported once, from the first
          std::string what = blocking ? "fires or is unknown" : "fires";
          Finding f = finding(
              FindingKind::kRedundant, Severity::kWarning, a,
              both ? "rules " + rid(a) + " and " + rid(b) + " " + (blocking ? "block" : "fire") +
                         " under exactly the same conditions"
                   : "rule " + rid(a) + " is redundant: whenever it " + what + ", " + rid(b) +
                         " (also " + effect_name(rule(b).effect) + ") does too");
          involve(f, b, both ? "has the same conditions" : "covers it");
          f.proof = blocking ? "no request makes " + rid(a) + " fire or leaves it unknown while " +
                                   rid(b) + " neither fires nor is unknown" +
                                   (both ? ", nor the other way round" : "")
                             : "no request makes " + rid(a) + " fire while " + rid(b) +
                                   " does not" + (both ? ", nor the other way round" : "");
          Decision d;
          auto is_active = [&](const Decision& dec, uint32_t r) {
            return dec.trace[r] == RuleStatus::kFired ||
                   (blocking && dec.trace[r] == RuleStatus::kUnknown);
          };
          f.witness =
              witness({active(a)},
                      [&](const Decision& dec) { return is_active(dec, a) && is_active(dec, b); },
                      d, {a, b});
          if (!f.witness.empty()) f.checked = status_list(d, {a, b});
          f.relevant = relevant(f.witness, {a, b});
          f.help = both ? "if both are meant, say why in each `because`; otherwise merge them"
                        : "keep it only if its reason or citation adds something; otherwise fold "
                          "it into " +
                              rid(b);
          report_.findings.push_back(std::move(f));
        }
      }
    }
  }

  // ---- unused declarations and attributes ----
  void unused() {
    std::vector<bool> seen(p_.nodes.size(), false), define_used(p_.defines.size(), false),
        read(p_.schema.attributes.size(), false);
    std::function<void(uint32_t)> walk = [&](uint32_t id) {
      if (seen[id]) return;
      seen[id] = true;
      const IrNode& n = p_.nodes[id];
      switch (n.op) {
        case IrOp::kAttr:
        case IrOp::kIsPresent:
        case IrOp::kIsMissing:
          read[n.a] = true;
          break;
        case IrOp::kDefine:
          define_used[n.a] = true;
          walk(p_.defines[n.a].value);
          break;
        case IrOp::kNow:
          if (p_.schema.time_slot >= 0) read[static_cast<size_t>(p_.schema.time_slot)] = true;
          break;
        case IrOp::kDaysSince:
          if (p_.schema.time_slot >= 0) read[static_cast<size_t>(p_.schema.time_slot)] = true;
          walk(n.a);
          break;
        default:
          for_each_child(p_, n, walk);
          break;
      }
    };
    for (const Rule& r : p_.rules) walk(r.condition);
    for (const Module& m : p_.modules)
      if (m.applies) walk(*m.applies);
    reached_ = seen;
    for (size_t i = 0; i < p_.defines.size(); ++i)
      if (!define_used[i]) {
        Finding f;
        f.kind = FindingKind::kUnusedDefine;
        f.severity = Severity::kWarning;
        f.span = p_.defines[i].span;
        f.message = "define " + q(p_.defines[i].id) + " is never used by a rule";
        f.proof =
            "no rule condition and no `applies when` reads it, directly or through other defines";
        f.help = "remove it, or use it in a rule";
        report_.findings.push_back(std::move(f));
      }
    for (const Param& prm : p_.params)
      if (!seen[prm.value]) {
        Finding f;
        f.kind = FindingKind::kUnusedParam;
        f.severity = Severity::kWarning;
        f.span = prm.span;
        f.message = "param " + q(prm.id) + " is never used by a rule";
        f.proof = "no rule condition and no `applies when` reads it, directly or through defines";
        f.help = "remove it, or use it in a rule; a deployment's value for it changes nothing";
        report_.findings.push_back(std::move(f));
      }
    for (uint32_t o = 0; o < p_.obligations.size(); ++o)
      if (std::none_of(p_.rules.begin(), p_.rules.end(),
                       [&](const Rule& r) { return r.obligation == static_cast<int32_t>(o); })) {
        Finding f;
        f.kind = FindingKind::kUnusedObligation;
        f.severity = Severity::kWarning;
        f.span = p_.obligations[o].span;
        f.message = "obligation " + q(p_.obligations[o].name) + " is never required";
        f.proof = "no rule says `require " + p_.obligations[o].name + "`";
        f.help = "remove it, or attach it with `require " + p_.obligations[o].name + "`";
        report_.findings.push_back(std::move(f));
      }
    // Attributes: report the outermost record or field none of whose fields is read.
    const auto& attrs = p_.schema.attributes;
    std::vector<bool> used(attrs.size(), false), exempt(attrs.size(), false);
    for (size_t i = attrs.size(); i-- > 0;) {
      const Attribute& a = attrs[i];
      used[i] = read[i];
      exempt[i] = static_cast<int32_t>(i) == p_.schema.request_id_slot ||
                  static_cast<int32_t>(i) == p_.schema.time_slot || a.pseudonymize;
      if (!a.children.empty()) {
        bool all_exempt = true;
        for (uint32_t c : a.children) {
          used[i] = used[i] || used[c];
          all_exempt = all_exempt && (exempt[c] || used[c]);
        }
        exempt[i] = exempt[i] || all_exempt;
      }
    }
    for (size_t i = 0; i < attrs.size(); ++i) {
      const Attribute& a = attrs[i];
      if (used[i] || exempt[i]) continue;
      if (a.parent >= 0 && !used[static_cast<size_t>(a.parent)])
        continue;  // its record is reported
      Finding f;
      f.kind = FindingKind::kUnusedAttribute;
      f.severity = Severity::kWarning;
      f.span = a.span;
      f.message = std::string(a.type.kind == ValueType::kRecord ? "record " : "attribute ") +
                  q(a.path) + " is never read by a rule";
      f.proof = "no rule condition, define or `applies when` mentions it" +
                std::string(a.type.kind == ValueType::kRecord ? " or any of its fields" : "");
      f.help =
          "apps must still send it (the schema requires it); remove it from the schema, or write "
          "the rule it was meant for";
      if (a.optional || a.may_be_absent)
        f.help = "remove it from the schema, or write the rule it was meant for";
      report_.findings.push_back(std::move(f));
    }
  }

  // ---- enum values no rule tells apart ----
  void enum_values() {
    for (uint32_t slot = 0; slot < p_.schema.attributes.size(); ++slot) {
      const Attribute& a = p_.schema.attributes[slot];
      if (a.type.kind != ValueType::kEnum) continue;
      const auto& names = p_.schema.enums[a.type.enum_id];
      std::vector<std::vector<int8_t>> sig(names.size());
      std::set<std::string> named;
      bool read = false, opaque = false;
      auto is_attr = [&](uint32_t id) {
        while (p_.nodes[id].op == IrOp::kDefine) id = p_.defines[p_.nodes[id].a].value;
        return p_.nodes[id].op == IrOp::kAttr && p_.nodes[id].a == slot;
      };
      auto resolved = [&](uint32_t id) {
        while (p_.nodes[id].op == IrOp::kDefine) id = p_.defines[p_.nodes[id].a].value;
        return id;
      };
      for (uint32_t id = 0; id < p_.nodes.size(); ++id) {
        if (!reached_[id]) continue;
        const IrNode& n = p_.nodes[id];
        if ((n.op == IrOp::kIsPresent || n.op == IrOp::kIsMissing) && n.a == slot) read = true;
        bool left = false, right = false;
        if (n.op == IrOp::kEq || n.op == IrOp::kNe || n.op == IrOp::kIn) {
          left = is_attr(n.a);
          right = n.op != IrOp::kIn && is_attr(n.b);
        } else if (n.op != IrOp::kDefine && n.op != IrOp::kIsPresent && n.op != IrOp::kIsMissing &&
                   n.op != IrOp::kAnd && n.op != IrOp::kOr && n.op != IrOp::kConst &&
                   n.op != IrOp::kConstSet && n.op != IrOp::kAttr && n.op != IrOp::kNow) {
          if (is_attr(n.a) || (n.op != IrOp::kNot && n.op != IrOp::kDaysSince && is_attr(n.b)))
            opaque = true;
        }
        if (!left && !right) continue;
        read = true;
        const IrNode& other = p_.nodes[resolved(left ? n.b : n.a)];
        std::vector<int32_t> values;
        if (other.op == IrOp::kConst && other.type == ValueType::kEnum)
          values.push_back(static_cast<int32_t>(other.imm));
        else if (other.op == IrOp::kConstSet && other.operand_type == ValueType::kEnum)
          values = p_.const_sets[other.a].symbols;
        else {
          opaque = true;
          continue;
        }
        for (size_t v = 0; v < names.size(); ++v)
          sig[v].push_back(
              std::find(values.begin(), values.end(), static_cast<int32_t>(v)) != values.end() ? 1
                                                                                               : 0);
        for (int32_t v : values) named.insert(names.at(static_cast<size_t>(v)));
      }
      if (!read || opaque) continue;
      std::map<std::vector<int8_t>, std::vector<std::string>> groups;
      for (size_t v = 0; v < names.size(); ++v) groups[sig[v]].push_back(names[v]);
      for (const auto& [s, members] : groups) {
        if (members.size() < 2) continue;
        std::vector<std::string> quoted;
        for (const auto& m : members) quoted.push_back(q(m));
        Finding f;
        f.kind = FindingKind::kIndistinctEnumValues;
        f.severity = Severity::kNote;
        f.span = a.span;
        f.message = "no rule tells " + join(quoted, " and ") + " of " + q(a.path) + " apart";
        std::vector<std::string> n2;
        for (const auto& m : named) n2.push_back(q(m));
        f.proof = named.empty()
                      ? "no rule compares " + q(a.path) + " with any value"
                      : "the rules compare " + q(a.path) + " only with " + join(n2, " and ") +
                            ", so every rule decides the same for these values";
        f.help =
            "fine if the difference does not matter to this policy; otherwise a rule should name "
            "one of them";
        report_.findings.push_back(std::move(f));
      }
    }
  }

  const Policy& p_;
  PolicySolver solver_;
  Evaluator eval_;
  RequestBinder binder_;
  LintReport report_;
  std::vector<bool> dead_, always_overridden_, reached_;
};

}  // namespace

LintReport lint(const Bundle& bundle, const LintOptions& options) {
  Linter l(bundle, options);
  return l.run();
}

std::string lint_text(const Bundle& bundle, const LintReport& report) {
  std::string out;
  for (const Finding& f : report.findings) {
    Diagnostic d{f.severity, f.span, f.message + " [" + finding_kind_name(f.kind) + "]", "",
                 f.notes};
    out += render(bundle.sources, d);
    if (!f.proof.empty()) out += "  proof: " + f.proof + "\n";
    if (!f.witness.empty()) {
      out += "  witness: a request with " + join(f.relevant, " and ") +
             " (the full request is in `ethos lint --json`)\n";
      if (!f.checked.empty()) out += "  checked: " + f.checked + "\n";
    }
    if (!f.help.empty()) out += "help: " + f.help + "\n";
    out += "\n";
  }
  size_t notes = report.findings.size() - report.errors() - report.warnings();
  auto plural = [](size_t n, const char* w) {
    return std::to_string(n) + " " + w + (n == 1 ? "" : "s");
  };
  out += "lint: " + plural(report.errors(), "error") + ", " + plural(report.warnings(), "warning") +
         ", " + plural(notes, "note") + "; " + plural(report.questions, "question") +
         " to the solver, " + std::to_string(report.undecided) + " undecided\n";
  return out;
}

std::string lint_json(const Bundle& bundle, const LintReport& report) {
  nlohmann::ordered_json findings = nlohmann::ordered_json::array();
  auto where = [&](Span s, nlohmann::ordered_json& j) {
    j["file"] = s.file < bundle.sources.files.size() ? bundle.sources.files[s.file].path() : "";
    j["line"] = s.line;
    j["col"] = s.col;
  };
  const char* sev[] = {"error", "warning", "note"};
  for (const Finding& f : report.findings) {
    nlohmann::ordered_json j;
    j["kind"] = finding_kind_name(f.kind);
    j["severity"] = sev[static_cast<int>(f.severity)];
    j["message"] = f.message;
    where(f.span, j);
    nlohmann::ordered_json rules = nlohmann::ordered_json::array();
    for (const auto& id : f.rules) {
      nlohmann::ordered_json r;
      r["id"] = id;
      if (const Rule* rule = bundle.policy->find_rule(id)) where(rule->span, r);
      rules.push_back(r);
    }
    j["rules"] = rules;
    j["witness"] =
        f.witness.empty() ? nlohmann::ordered_json() : nlohmann::ordered_json::parse(f.witness);
    if (!f.checked.empty()) j["checked"] = f.checked;
    if (!f.proof.empty()) j["proof"] = f.proof;
    if (!f.help.empty()) j["help"] = f.help;
    findings.push_back(j);
  }
  nlohmann::ordered_json out;
  out["findings"] = findings;
  out["summary"] = {{"errors", report.errors()},
                    {"warnings", report.warnings()},
                    {"notes", report.findings.size() - report.errors() - report.warnings()},
                    {"questions", report.questions},
                    {"undecided", report.undecided}};
  return out.dump(2);
}

}  // namespace ethos
