#include "generator.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>

#include "generator_values.hpp"

namespace ethos::differential {
namespace {

// Words that are never names in a generated policy: enum values.
const std::vector<std::string> kEnumWords = {"red",        "green",   "blue", "amber",
                                             "identified", "limited", "none", "low"};
// String literals a policy may mention; requests add strings it does not.
const std::vector<std::string> kPolicyStrings = {"alpha",
                                                 "beta",
                                                 "gamma",
                                                 "",
                                                 "two words",
                                                 "q\"uote",
                                                 "back\\slash",
                                                 "\xc3\xbc"
                                                 "n"
                                                 "\xc3\xaf"
                                                 "code"};

std::string quote(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    if (c == '\t') {
      out += "\\t";
      continue;
    }
    out += c;
  }
  return out + "\"";
}

Expr atom(Type t, std::string text, bool word = false) {
  Expr e;
  e.kind = Expr::Kind::kAtom;
  e.type = t;
  e.text = std::move(text);
  e.word = word;
  return e;
}

Expr binary(Type t, std::string op, Expr a, Expr b) {
  Expr e;
  e.kind = Expr::Kind::kBinary;
  e.type = t;
  e.text = std::move(op);
  e.kids.push_back(std::move(a));
  e.kids.push_back(std::move(b));
  return e;
}

const Type kBool{T::kBool}, kInt{T::kInt}, kStr{T::kStr}, kTime{T::kTime}, kDur{T::kDur},
    kSet{T::kSet};

}  // namespace

std::string format_time(int64_t secs, int style) {
  using namespace std::chrono;
  int64_t shift = style == 2 ? 7200 : style == 3 ? -(5 * 3600 + 30 * 60) : 0;
  sys_seconds tp{seconds{secs + shift}};
  auto day = floor<days>(tp);
  year_month_day ymd{day};
  hh_mm_ss<seconds> hms{tp - day};
  char buf[64];
  int y = static_cast<int>(ymd.year());
  unsigned mo = static_cast<unsigned>(ymd.month()), d = static_cast<unsigned>(ymd.day());
  long h = hms.hours().count(), mi = hms.minutes().count(),
       s = static_cast<long>(hms.seconds().count());
  if (style == 1 && h == 0 && mi == 0 && s == 0) {
    std::snprintf(buf, sizeof buf, "%04d-%02u-%02u", y, mo, d);
    return buf;
  }
  const char* zone = style == 2   ? "+02:00"
                     : style == 3 ? "-05:30"
                     : style == 4 ? ".250Z"
                     : style == 5 ? "z"
                                  : "Z";
  char sep = style == 5 ? 't' : style == 6 ? ' ' : 'T';
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02u%c%02ld:%02ld:%02ld%s", y, mo, d, sep, h, mi, s,
                zone);
  return buf;
}

namespace {

class Builder {
 public:
  Builder(Model& m, Rng& r) : m_(m), r_(r) {}

  void build() {
    build_schema();
    build_modules();
    build_obligations();
    build_params();
    build_defines();
    build_rules();
    build_applies();
    build_order();
  }

 private:
  // ---- schema ----
  Type random_type(int depth) {
    size_t k = r_.below(depth > 0 ? 15 : 14);
    if (k < 2) return kBool;
    if (k < 4) return kInt;
    if (k < 6) return kStr;
    if (k < 8) return kTime;
    if (k < 10) return kDur;
    if (k < 12) return kSet;
    if (k < 14) return new_enum();
    return {T::kRecord};
  }

  Type new_enum() {
    std::vector<std::string> words = kEnumWords;
    for (size_t i = words.size(); i > 1; --i) std::swap(words[i - 1], words[r_.below(i)]);
    words.resize(2 + r_.below(3));
    m_.enums.push_back(words);
    return {T::kEnum, static_cast<int>(m_.enums.size() - 1)};
  }

  Field field(const std::string& name, int depth) {
    Field f;
    f.name = name;
    f.type = random_type(depth);
    f.optional = r_.chance(0.4);
    if (f.type.t == T::kRecord) {
      size_t n = 1 + r_.below(3);
      for (size_t i = 0; i < n; ++i) f.fields.push_back(field("g" + std::to_string(i), depth - 1));
    }
    return f;
  }

  void build_schema() {
    m_.schema.push_back({"request_id", kStr, false, {}});
    m_.schema.push_back({"time", kTime, false, {}});
    size_t tops = r_.below(3);
    for (size_t i = 0; i < tops; ++i) m_.schema.push_back(field("t" + std::to_string(i), 0));
    size_t records = 1 + r_.below(3);
    for (size_t i = 0; i < records; ++i) {
      Field rec;
      rec.name = "r" + std::to_string(i);
      rec.type = {T::kRecord};
      rec.optional = r_.chance(0.3);
      size_t n = 2 + r_.below(5);
      for (size_t k = 0; k < n; ++k) rec.fields.push_back(field("f" + std::to_string(k), 1));
      m_.schema.push_back(rec);
    }
    for (const auto& f : m_.schema) flatten(f, "", false);
  }

  void flatten(const Field& f, const std::string& prefix, bool absent) {
    Attr a{prefix + f.name, f.type, f.optional, absent || f.optional};
    m_.attrs.push_back(a);
    for (const auto& k : f.fields) flatten(k, a.path + ".", a.may_be_absent);
  }

  // ---- declarations ----
  void build_modules() {
    size_t n = 1 + r_.below(4);
    size_t files = 1 + r_.below(3);
    std::vector<std::string> names = {"a.ethos", "b.ethos", "c/d.ethos", "z.ethos"};
    for (size_t i = names.size(); i > 1; --i) std::swap(names[i - 1], names[r_.below(i)]);
    names.resize(files);
    m_.files = names;
    m_.schema_file = r_.chance(0.2) ? names[0] : "schema.ethos";
    for (size_t i = 0; i < n; ++i) {
      Module mod;
      // Now and then a module is named like a record, to exercise name resolution.
      mod.name = (i == 0 && r_.chance(0.15)) ? "r0" : "m" + std::to_string(i);
      mod.file = static_cast<int>(r_.below(files));
      if (r_.chance(0.25))
        mod.default_effect = "permit";
      else if (r_.chance(0.1))
        mod.default_effect = "deny";
      if (r_.chance(0.2)) mod.concern = "privacy";
      m_.modules.push_back(mod);
    }
    m_.strings = kPolicyStrings;
  }

  int random_module() { return static_cast<int>(r_.below(m_.modules.size())); }

  void build_obligations() {
    size_t n = 1 + r_.below(3);
    for (size_t i = 0; i < n; ++i)
      m_.obligations.emplace_back("ob" + std::to_string(i), random_module());
  }

  std::string literal_of(Type t) {
    switch (t.t) {
      case T::kBool:
        return r_.chance(0.5) ? "true" : "false";
      case T::kInt:
        return std::to_string(r_.pick(kInts));
      case T::kStr:
        return quote(r_.pick(m_.strings));
      case T::kTime:
        return quote(
            format_time(kBaseTime + (static_cast<int64_t>(r_.below(800)) - 400) * 86400, 1));
      case T::kDur:
        return duration_literal(false);
      case T::kSet:
        return list_of_strings();
      case T::kEnum:
        return r_.pick(m_.enums[static_cast<size_t>(t.e)]);
      default:
        return "true";
    }
  }

  void build_params() {
    size_t n = r_.below(5);
    for (size_t i = 0; i < n; ++i) {
      Param p;
      p.name = "p" + std::to_string(i);
      p.module = random_module();
      size_t k = r_.below(7);
      p.type = k == 0   ? kBool
               : k == 1 ? kInt
               : k == 2 ? kStr
               : k == 3 ? kTime
               : k == 4 ? kDur
               : k == 5 ? kSet
                        : new_enum();
      p.literal = literal_of(p.type);
      if (r_.chance(0.2)) {
        std::string value = literal_of(p.type);
        // A string given to --param may leave out its quotes.
        if (p.type.t == T::kStr && r_.chance(0.5) &&
            value.find_first_of("\\\" ") == std::string::npos && value.size() > 2)
          value = value.substr(1, value.size() - 2);
        m_.param_values[m_.modules[static_cast<size_t>(p.module)].name + "." + p.name] = value;
      }
      m_.params.push_back(p);
    }
  }

  void build_defines() {
    size_t n = r_.below(7);
    for (size_t i = 0; i < n; ++i) {
      Define d;
      d.name = "d" + std::to_string(i);
      d.module = random_module();
      size_t k = r_.below(10);
      d.type = k < 4    ? kBool
               : k == 4 ? kInt
               : k == 5 ? kStr
               : k == 6 ? kTime
               : k == 7 ? kDur
               : k == 8 ? kSet
                        : kBool;
      if (k == 9) {
        // An enum define: the value of an enum attribute.
        std::vector<Type> enums;
        for (const auto& a : m_.attrs)
          if (a.type.t == T::kEnum) enums.push_back(a.type);
        if (!enums.empty()) d.type = r_.pick(enums);
      }
      module_ = d.module;
      define_limit_ = static_cast<int>(i);  // only earlier defines: no cycles
      d.value = gen(d.type, 3);
      m_.defines.push_back(std::move(d));
    }
    define_limit_ = static_cast<int>(m_.defines.size());
  }

  void build_rules() {
    size_t n = 2 + r_.below(11);
    const std::vector<std::string> effects = {"permit", "forbid", "escalate", "advise", "require"};
    for (size_t i = 0; i < n; ++i) {
      Rule rule;
      rule.name = "x" + std::to_string(i);
      rule.module = random_module();
      rule.effect = r_.pick(effects);
      if (rule.effect == "require") rule.obligation = r_.pick(m_.obligations).first;
      module_ = rule.module;
      if (r_.chance(0.85)) rule.when = gen(kBool, 4);
      if (r_.chance(0.3)) rule.unless = gen(kBool, 3);
      if (i > 0 && r_.chance(0.3)) {
        size_t k = 1 + r_.below(2);
        for (size_t j = 0; j < k; ++j) {
          int target = static_cast<int>(r_.below(i));  // only earlier rules: no cycles
          if (std::find(rule.overrides.begin(), rule.overrides.end(), target) ==
              rule.overrides.end())
            rule.overrides.push_back(target);
        }
      }
      if (r_.chance(0.2))
        rule.extra.push_back(
            "severity " + r_.pick(std::vector<std::string>{"low", "medium", "high", "critical"}));
      if (r_.chance(0.2))
        rule.extra.push_back("concern " +
                             r_.pick(std::vector<std::string>{"safety", "consent", "bias"}));
      if (r_.chance(0.1)) rule.extra.push_back("confidence secondary");
      if (r_.chance(0.1)) rule.extra.push_back("tags \"t1\", \"t2\"");
      m_.rules.push_back(std::move(rule));
    }
  }

  void build_applies() {
    for (size_t i = 0; i < m_.modules.size(); ++i) {
      if (!r_.chance(0.3)) continue;
      module_ = static_cast<int>(i);
      m_.modules[i].applies = gen(kBool, 2);
    }
  }

  void build_order() {
    auto add = [&](int module, char kind, int index) {
      auto& order = m_.modules[static_cast<size_t>(module)].order;
      order.insert(order.begin() + static_cast<long>(r_.below(order.size() + 1)), {kind, index});
    };
    for (size_t i = 0; i < m_.rules.size(); ++i) add(m_.rules[i].module, 'r', static_cast<int>(i));
    for (size_t i = 0; i < m_.defines.size(); ++i)
      add(m_.defines[i].module, 'd', static_cast<int>(i));
    for (size_t i = 0; i < m_.params.size(); ++i)
      add(m_.params[i].module, 'p', static_cast<int>(i));
    for (size_t i = 0; i < m_.obligations.size(); ++i)
      add(m_.obligations[i].second, 'o', static_cast<int>(i));
  }

  // ---- expressions ----
  std::string ref(int module, const std::string& name) const {
    return module == module_ ? name : m_.modules[static_cast<size_t>(module)].name + "." + name;
  }

  // Everything of type t that a name can produce here.
  std::vector<Expr> sources(Type t) const {
    std::vector<Expr> out;
    for (const auto& a : m_.attrs)
      if (a.type == t) out.push_back(atom(t, a.path));
    for (const auto& p : m_.params)
      if (p.type == t) out.push_back(atom(t, ref(p.module, p.name)));
    for (int i = 0; i < define_limit_ && i < static_cast<int>(m_.defines.size()); ++i)
      if (m_.defines[static_cast<size_t>(i)].type == t)
        out.push_back(atom(t, ref(m_.defines[static_cast<size_t>(i)].module,
                                  m_.defines[static_cast<size_t>(i)].name)));
    if (t.t == T::kTime) out.push_back(atom(t, "now"));
    return out;
  }

  std::string duration_literal(bool big) {
    static const std::vector<std::pair<std::string, int64_t>> units = {
        {"week", 7 * 86400}, {"weeks", 7 * 86400}, {"day", 86400},  {"days", 86400},
        {"hours", 3600},     {"hour", 3600},       {"minutes", 60}, {"seconds", 1}};
    const auto& [unit, mult] = r_.pick(units);
    int64_t n = big ? kMax / mult * (r_.chance(0.5) ? 1 : -1)
                    : r_.pick(std::vector<int64_t>{0, 1, 2, 7, 14, 30, 90, 365, -1});
    return std::to_string(n) + " " + unit;
  }

  std::string list_of_strings() {
    std::string s = "[";
    size_t n = r_.below(4);
    for (size_t i = 0; i < n; ++i) s += (i ? ", " : "") + quote(r_.pick(m_.strings));
    return s + "]";
  }

  Expr literal(Type t) {
    switch (t.t) {
      case T::kBool:
        return atom(t, r_.chance(0.5) ? "true" : "false");
      case T::kInt:
        return atom(t, std::to_string(r_.chance(0.7) ? r_.pick(kSmallInts) : r_.pick(kInts)));
      case T::kStr:
        return atom(t, quote(r_.pick(m_.strings)));
      case T::kDur:
        return atom(t, duration_literal(r_.chance(0.05)));
      case T::kSet:
        return atom(t, list_of_strings());
      default:
        return atom(t, "now");
    }
  }

  Expr leaf(Type t) {
    auto src = sources(t);
    bool lit_ok = t.t != T::kEnum && t.t != T::kTime;
    if (t.t == T::kBool && r_.chance(0.25)) {
      // A presence test on any attribute (records too); always known.
      std::vector<const Attr*> optional;
      for (const auto& a : m_.attrs)
        if (a.may_be_absent) optional.push_back(&a);
      if (!optional.empty()) {
        Expr e;
        e.kind = Expr::Kind::kPostfix;
        e.type = kBool;
        e.text = r_.chance(0.5) ? " is present" : " is missing";
        e.kids.push_back(atom({T::kRecord}, r_.pick(optional)->path));
        return e;
      }
    }
    if (src.empty() || (lit_ok && r_.chance(0.25))) return literal(t);
    return r_.pick(src);
  }

  // A literal of enum `e`, as a bare word or a string; only valid against a typed side.
  Expr enum_literal(Type t) {
    const std::string& w = r_.pick(m_.enums[static_cast<size_t>(t.e)]);
    return atom(t, r_.chance(0.7) ? w : quote(w), true);
  }

  // Enum types that some name here produces.
  std::vector<Type> live_enums() const {
    std::vector<Type> out;
    for (size_t e = 0; e < m_.enums.size(); ++e)
      if (!sources({T::kEnum, static_cast<int>(e)}).empty())
        out.push_back({T::kEnum, static_cast<int>(e)});
    return out;
  }

  Expr gen(Type t, int depth) {
    if (depth <= 0 || r_.chance(0.3)) return leaf(t);
    switch (t.t) {
      case T::kBool:
        return gen_bool(depth);
      case T::kInt: {
        size_t k = r_.below(4);
        if (k == 0) {
          Expr e;
          e.kind = Expr::Kind::kCall;
          e.type = kInt;
          e.text = "days_since";
          e.kids.push_back(gen(kTime, depth - 1));
          return e;
        }
        return binary(kInt,
                      k == 1   ? "+"
                      : k == 2 ? "-"
                               : "*",
                      gen(kInt, depth - 1), gen(kInt, depth - 1));
      }
      case T::kTime: {
        size_t k = r_.below(3);
        if (k == 0) return binary(kTime, "+", gen(kTime, depth - 1), gen(kDur, depth - 1));
        if (k == 1) return binary(kTime, "-", gen(kTime, depth - 1), gen(kDur, depth - 1));
        return binary(kTime, "+", gen(kDur, depth - 1), gen(kTime, depth - 1));
      }
      case T::kDur: {
        size_t k = r_.below(5);
        if (k == 0) return binary(kDur, "+", gen(kDur, depth - 1), gen(kDur, depth - 1));
        if (k == 1) return binary(kDur, "-", gen(kDur, depth - 1), gen(kDur, depth - 1));
        if (k == 2) return binary(kDur, "*", gen(kInt, depth - 1), gen(kDur, depth - 1));
        if (k == 3) return binary(kDur, "*", gen(kDur, depth - 1), gen(kInt, depth - 1));
        return binary(kDur, "-", gen(kTime, depth - 1), gen(kTime, depth - 1));
      }
      default:
        return leaf(t);
    }
  }

  Expr gen_bool(int depth) {
    size_t k = r_.below(12);
    if (k < 2) {
      Expr e;
      e.kind = Expr::Kind::kNary;
      e.type = kBool;
      e.text = k == 0 ? "and" : "or";
      size_t n = 2 + r_.below(2);
      for (size_t i = 0; i < n; ++i) e.kids.push_back(gen(kBool, depth - 1));
      return e;
    }
    if (k == 2) {
      Expr e;
      e.kind = Expr::Kind::kNot;
      e.type = kBool;
      e.kids.push_back(gen(kBool, depth - 1));
      return e;
    }
    if (k < 6) return equality(depth);
    if (k < 8) return ordering(depth);
    if (k < 10) return membership(depth);
    return set_test(depth);
  }

  Expr equality(int depth) {
    std::string op = r_.chance(0.6) ? "==" : "!=";
    size_t k = r_.below(6);
    if (k == 0) {
      auto enums = live_enums();
      if (!enums.empty()) {
        Type t = r_.pick(enums);
        Expr left = gen(t, depth - 1);
        Expr right = r_.chance(0.6) ? enum_literal(t) : gen(t, depth - 1);
        // A bare word may come first when the other side has a type of its own.
        if (right.word && right.text.front() != '"' && r_.chance(0.2)) std::swap(left, right);
        return binary(kBool, op, std::move(left), std::move(right));
      }
    }
    Type t = k == 1 ? kInt : k == 2 ? kTime : k == 3 ? kDur : k == 4 ? kStr : kBool;
    Expr left = gen(t, depth - 1);
    Expr right = t.t == T::kTime && r_.chance(0.3) ? time_literal() : gen(t, depth - 1);
    return binary(kBool, op, std::move(left), std::move(right));
  }

  Expr time_literal() {
    int64_t days = static_cast<int64_t>(r_.below(800)) - 400;
    return atom(kTime,
                quote(format_time(kBaseTime + days * 86400 + (r_.chance(0.5) ? 0 : 3600),
                                  r_.chance(0.5) ? 0 : 1)),
                true);
  }

  Expr ordering(int depth) {
    static const std::vector<std::string> ops = {"<", "<=", ">", ">="};
    size_t k = r_.below(3);
    Type t = k == 0 ? kInt : k == 1 ? kTime : kDur;
    Expr left = gen(t, depth - 1);
    Expr right = t.t == T::kTime && r_.chance(0.3) ? time_literal() : gen(t, depth - 1);
    return binary(kBool, r_.pick(ops), std::move(left), std::move(right));
  }

  Expr membership(int depth) {
    size_t k = r_.below(4);
    Expr list;
    list.kind = Expr::Kind::kList;
    list.word = true;
    size_t n = r_.below(4);
    if (k == 0) {
      auto enums = live_enums();
      if (!enums.empty()) {
        Type t = r_.pick(enums);
        list.type = t;
        for (size_t i = 0; i < n; ++i) list.kids.push_back(enum_literal(t));
        return binary(kBool, "in", gen(t, depth - 1), std::move(list));
      }
    }
    if (k == 1) {
      list.type = kInt;
      for (size_t i = 0; i < n; ++i)
        list.kids.push_back(atom(kInt, std::to_string(r_.pick(kInts))));
      return binary(kBool, "in", gen(kInt, depth - 1), std::move(list));
    }
    Expr right = k == 2 ? gen(kSet, depth - 1) : literal(kSet);
    return binary(kBool, "in", gen(kStr, depth - 1), std::move(right));
  }

  Expr set_test(int depth) {
    size_t k = r_.below(3);
    if (k == 0) return binary(kBool, "has", gen(kSet, depth - 1), gen(kStr, depth - 1));
    Expr left = r_.chance(0.15) ? literal(kSet) : gen(kSet, depth - 1);
    Expr right = r_.chance(0.5) ? literal(kSet) : gen(kSet, depth - 1);
    return binary(kBool, k == 1 ? "has_any" : "has_all", std::move(left), std::move(right));
  }

  Model& m_;
  Rng& r_;
  int module_ = 0;
  int define_limit_ = 0;
};

}  // namespace

uint64_t Rng::next() {
  // splitmix64
  uint64_t z = (state_ += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

Model generate_policy(uint64_t seed) {
  Model m;
  Rng r(seed);
  Builder(m, r).build();
  return m;
}

}  // namespace ethos::differential
