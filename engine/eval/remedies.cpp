#include <ethos/eval/remedies.hpp>

#include <algorithm>
#include <deque>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include <ethos/base/time.hpp>
#include <ethos/check/policy.hpp>
#include <ethos/eval/evaluator.hpp>
#include <ethos/eval/request.hpp>

namespace ethos {
namespace {

using Json = nlohmann::ordered_json;
using Clock = std::chrono::steady_clock;

// What the policy compares each attribute with: the values worth trying.
struct Vocabulary {
  std::vector<std::set<int64_t>> numbers;      // int, duration, timestamp constants
  std::vector<std::set<int64_t>> days;         // days_since(slot) constants
  std::vector<std::set<std::string>> strings;  // string constants (string and set attributes)
  std::vector<std::vector<std::vector<std::string>>> any_lists, all_lists;  // set attributes

  explicit Vocabulary(const Policy& p) {
    size_t count = p.schema.attributes.size();
    numbers.resize(count);
    days.resize(count);
    strings.resize(count);
    any_lists.resize(count);
    all_lists.resize(count);
    auto resolve = [&](uint32_t id) {
      while (p.nodes[id].op == IrOp::kDefine) id = p.defines[p.nodes[id].a].value;
      return id;
    };
    auto attr = [&](uint32_t id) -> int64_t {
      const IrNode& x = p.nodes[resolve(id)];
      return x.op == IrOp::kAttr ? static_cast<int64_t>(x.a) : -1;
    };
    auto days_of = [&](uint32_t id) -> int64_t {
      const IrNode& x = p.nodes[resolve(id)];
      return x.op == IrOp::kDaysSince ? attr(x.a) : -1;
    };
    auto texts = [&](uint32_t id) -> const std::vector<std::string>* {
      const IrNode& x = p.nodes[resolve(id)];
      if (x.op == IrOp::kConstSet && !p.const_sets[x.a].texts.empty())
        return &p.const_sets[x.a].texts;
      return nullptr;
    };
    for (const IrNode& nd : p.nodes) {
      const IrNode* n = &nd;
      switch (n->op) {
        case IrOp::kEq:
        case IrOp::kNe:
        case IrOp::kLt:
        case IrOp::kLe:
        case IrOp::kGt:
        case IrOp::kGe: {
          for (int side = 0; side < 2; ++side) {
            uint32_t me = side ? n->b : n->a, other = side ? n->a : n->b;
            const IrNode& c = p.nodes[resolve(other)];
            if (c.op != IrOp::kConst) continue;
            if (int64_t s = attr(me); s >= 0) {
              if (c.type == ValueType::kString)
                strings[static_cast<size_t>(s)].insert(p.symbol_text(c.imm));
              else if (c.type != ValueType::kEnum && c.type != ValueType::kBool)
                numbers[static_cast<size_t>(s)].insert(c.imm);
            }
            if (int64_t s = days_of(me); s >= 0) days[static_cast<size_t>(s)].insert(c.imm);
          }
          break;
        }
        case IrOp::kIn:
        case IrOp::kHas: {
          uint32_t elem = n->op == IrOp::kIn ? n->a : n->b, set = n->op == IrOp::kIn ? n->b : n->a;
          int64_t es = attr(elem), ss = attr(set);
          if (es >= 0)
            if (auto* t = texts(set)) strings[static_cast<size_t>(es)].insert(t->begin(), t->end());
          const IrNode& c = p.nodes[resolve(elem)];
          if (ss >= 0 && c.op == IrOp::kConst && c.type == ValueType::kString)
            strings[static_cast<size_t>(ss)].insert(p.symbol_text(c.imm));
          break;
        }
        case IrOp::kHasAny:
        case IrOp::kHasAll: {
          int64_t s = attr(n->a);
          auto* t = texts(n->b);
          if (s >= 0 && t) {
            strings[static_cast<size_t>(s)].insert(t->begin(), t->end());
            (n->op == IrOp::kHasAny ? any_lists : all_lists)[static_cast<size_t>(s)].push_back(*t);
          }
          break;
        }
        default:
          break;
      }
    }
  }
};

std::vector<std::string> split_path(const std::string& path) {
  std::vector<std::string> out;
  size_t b = 0;
  while (true) {
    size_t e = path.find('.', b);
    out.push_back(path.substr(b, e == std::string::npos ? std::string::npos : e - b));
    if (e == std::string::npos) break;
    b = e + 1;
  }
  return out;
}

// The value at `path`, or null when it (or a record above it) is absent.
const Json* lookup(const Json& root, const std::string& path) {
  const Json* at = &root;
  for (const auto& key : split_path(path)) {
    if (!at->is_object()) return nullptr;
    auto it = at->find(key);
    if (it == at->end() || it->is_null()) return nullptr;
    at = &*it;
  }
  return at;
}

class Search {
 public:
  Search(const std::shared_ptr<const Policy>& policy, const RemedyOptions& options)
      : p_(*policy), options_(options), vocab_(p_), eval_(policy), binder_(p_) {}

  RemedySearch run(std::string_view request_json, const Decision& decision) {
    RemedySearch out;
    if (decision.outcome == Outcome::kPermit) return out;
    try {
      base_ = Json::parse(request_json);
    } catch (const std::exception&) {
      return out;
    }
    if (const Json* t = lookup(base_, "time"); t && t->is_string())
      parse_timestamp(t->get<std::string>(), time_);
    BindError err;
    if (!binder_.bind(request_json, base_bound_, err)) return out;
    deadline_ = Clock::now() + options_.budget;

    struct State {
      std::vector<Change> changes;
      Decision decision;
    };
    std::vector<State> frontier;
    frontier.push_back({{}, decision});
    std::set<std::string> visited;
    std::vector<Found> found;
    size_t order = 0;
    for (size_t level = 1; level <= options_.max_facts && !frontier.empty(); ++level) {
      std::vector<State> next;
      for (const State& st : frontier) {
        std::set<uint32_t> changed;
        for (const auto& c : st.changes) changed.insert(c.slot);
        for (uint32_t slot : focus(st.decision)) {
          if (changed.count(slot)) continue;
          for (const Json& value : candidates(slot)) {
            Change change{slot, value, {}, -1};
            if (!to_value(change)) continue;
            std::vector<Change> cs = st.changes;
            cs.push_back(std::move(change));
            std::sort(cs.begin(), cs.end(),
                      [](const Change& a, const Change& b) { return a.slot < b.slot; });
            std::string key = key_of(cs);
            if (!visited.insert(key).second) continue;
            if (covers_found(cs, found)) continue;
            if (Clock::now() > deadline_) {
              out.cut_short = true;
              goto done;
            }
            Decision d;
            evaluate_fast(cs, d);
            ++out.evaluated;
            if (d.outcome == Outcome::kPermit) {
              found.push_back({cs, d, order++});
            } else if (level < options_.max_facts) {
              next.push_back({cs, d});
            }
          }
        }
      }
      if (found.size() >= options_.max_remedies) break;
      frontier = std::move(next);
    }
  done:
    // Minimal only: drop a remedy when a smaller set of its changes also permits.
    std::vector<Found> minimal;
    for (const Found& f : found) {
      bool smaller = false;
      for (size_t skip = 0; skip < f.changes.size() && f.changes.size() > 1 && !smaller; ++skip) {
        std::vector<Change> sub;
        for (size_t i = 0; i < f.changes.size(); ++i)
          if (i != skip) sub.push_back(f.changes[i]);
        Decision d;
        evaluate_fast(sub, d);
        if (d.outcome == Outcome::kPermit) smaller = true;
      }
      // The verification a person can rely on: the changed request as JSON, bound and evaluated.
      Decision check;
      if (!smaller && evaluate(f.changes, check) && check.outcome == Outcome::kPermit)
        minimal.push_back(f);
    }
    std::stable_sort(minimal.begin(), minimal.end(), [](const Found& a, const Found& b) {
      if (a.changes.size() != b.changes.size()) return a.changes.size() < b.changes.size();
      if (a.decision.obligations.size() != b.decision.obligations.size())
        return a.decision.obligations.size() < b.decision.obligations.size();
      return a.order < b.order;
    });
    // Within one size, take different sets of facts in turn before a second
    // value for the same facts, so that five remedies are not five values of one enum.
    std::vector<Found> chosen;
    std::vector<bool> taken(minimal.size(), false);
    for (size_t i = 0; i < minimal.size() && chosen.size() < options_.max_remedies;) {
      size_t tier_end = i;
      while (tier_end < minimal.size() &&
             minimal[tier_end].changes.size() == minimal[i].changes.size())
        ++tier_end;
      while (chosen.size() < options_.max_remedies) {
        std::set<std::vector<uint32_t>> seen;
        bool any = false;
        for (size_t k = i; k < tier_end && chosen.size() < options_.max_remedies; ++k) {
          if (taken[k]) continue;
          std::vector<uint32_t> facts;
          for (const auto& c : minimal[k].changes) facts.push_back(c.slot);
          if (!seen.insert(facts).second) continue;
          taken[k] = true;
          any = true;
          chosen.push_back(minimal[k]);
        }
        if (!any) break;
      }
      i = tier_end;
    }
    for (const Found& f : chosen) out.remedies.push_back(remedy(f));
    return out;
  }

  MissingFactCheck missing(std::string_view request_json, const Decision& decision,
                           size_t max_evaluations) {
    MissingFactCheck out;
    const std::vector<uint32_t>& facts = decision.missing;
    auto keep_all = [&] {
      out.useful = facts;
      out.useless.clear();
      out.exhaustive = false;
      return out;
    };
    if (facts.empty()) return out;
    try {
      base_ = Json::parse(request_json);
    } catch (const std::exception&) {
      return keep_all();
    }
    if (const Json* t = lookup(base_, "time"); t && t->is_string())
      parse_timestamp(t->get<std::string>(), time_);
    BindError err;
    if (!binder_.bind(request_json, base_bound_, err)) return keep_all();
    // Each fact's values: index 0 is "absent", then its candidates.
    // A whole absent record is not enumerated, and a fact that matters only
    // together with it would look useless: keep them all.
    std::vector<std::vector<Change>> values(facts.size());
    size_t total = 1;
    for (size_t i = 0; i < facts.size(); ++i) {
      if (p_.schema.attributes[facts[i]].type.kind == ValueType::kRecord) return keep_all();
      for (const Json& v : candidates(facts[i])) {
        if (v.is_discarded()) continue;
        Change c{facts[i], v, {}, -1};
        if (to_value(c)) values[i].push_back(std::move(c));
      }
      total *= values[i].size() + 1;
      if (total > max_evaluations) return keep_all();
    }
    // The outcome of every combination, indexed in mixed radix.
    std::vector<Outcome> outcome(total);
    std::vector<size_t> stride(facts.size());
    size_t step = 1;
    for (size_t i = 0; i < facts.size(); ++i) {
      stride[i] = step;
      step *= values[i].size() + 1;
    }
    for (size_t code = 0; code < total; ++code) {
      std::vector<Change> cs;
      for (size_t i = 0; i < facts.size(); ++i)
        if (size_t digit = code / stride[i] % (values[i].size() + 1))
          cs.push_back(values[i][digit - 1]);
      Decision d;
      evaluate_fast(cs, d);
      ++out.evaluated;
      outcome[code] = d.outcome;
    }
    for (size_t i = 0; i < facts.size(); ++i) {
      bool useful = false;
      for (size_t code = 0; code < total && !useful; ++code) {
        size_t digit = code / stride[i] % (values[i].size() + 1);
        if (digit && outcome[code] != outcome[code - digit * stride[i]]) useful = true;
      }
      (useful ? out.useful : out.useless).push_back(facts[i]);
    }
    return out;
  }

 private:
  struct Change {
    uint32_t slot;
    Json value;   // discarded: the fact becomes absent
    Value bound;  // the same value as the evaluator reads it
    int32_t set;  // for sets: index into set_store_
  };
  struct Found {
    std::vector<Change> changes;
    Decision decision;
    size_t order;
  };

  static std::string key_of(const std::vector<Change>& cs) {
    std::string k;
    for (const auto& c : cs)
      k += std::to_string(c.slot) + "=" + (c.value.is_discarded() ? "-" : c.value.dump()) + ";";
    return k;
  }

  static bool same(const Json& a, const Json& b) {
    if (a.is_discarded() || b.is_discarded()) return a.is_discarded() && b.is_discarded();
    return a == b;
  }

  static bool covers_found(const std::vector<Change>& cs, const std::vector<Found>& found) {
    for (const Found& f : found) {
      bool all = true;
      for (const auto& fc : f.changes) {
        bool in = false;
        for (const auto& c : cs)
          if (c.slot == fc.slot && same(c.value, fc.value)) in = true;
        all = all && in;
      }
      if (all) return true;
    }
    return false;
  }

  bool changeable(uint32_t slot) const {
    const Attribute& a = p_.schema.attributes[slot];
    if (a.type.kind == ValueType::kRecord || a.pseudonymize) return false;
    if (static_cast<int32_t>(slot) == p_.schema.request_id_slot ||
        static_cast<int32_t>(slot) == p_.schema.time_slot)
      return false;
    for (auto at = static_cast<int32_t>(slot); at >= 0;
         at = p_.schema.attributes[static_cast<size_t>(at)].parent)
      if (p_.schema.attributes[static_cast<size_t>(at)].fixed) return false;
    // A field of an absent record would need the whole record: not a small change.
    if (a.parent >= 0 && !lookup(base_, p_.schema.attributes[static_cast<size_t>(a.parent)].path))
      return false;
    return true;
  }

  // The facts worth changing, given a decision.
  std::vector<uint32_t> focus(const Decision& d) const {
    std::set<uint32_t> slots;
    auto add = [&](uint32_t r) {
      slots.insert(p_.rules[r].reads.begin(), p_.rules[r].reads.end());
    };
    bool permitted = false;
    for (uint32_t r = 0; r < p_.rules.size(); ++r) {
      const Rule& x = p_.rules[r];
      bool active = d.trace[r] == RuleStatus::kFired || d.trace[r] == RuleStatus::kUnknown;
      if ((x.effect == Effect::kForbid || x.effect == Effect::kEscalate) && active) {
        add(r);
        for (uint32_t o : x.overridden_by) add(o);
      }
      if ((x.effect == Effect::kPermit || x.effect == Effect::kRequire) &&
          d.trace[r] == RuleStatus::kFired)
        permitted = true;
    }
    if (!permitted)
      for (uint32_t r = 0; r < p_.rules.size(); ++r)
        if (p_.rules[r].effect == Effect::kPermit || p_.rules[r].effect == Effect::kRequire) add(r);
    for (uint32_t m : d.missing) slots.insert(m);
    std::vector<uint32_t> out;
    for (uint32_t s : slots)
      if (changeable(s)) out.push_back(s);
    return out;
  }

  std::vector<Json> candidates(uint32_t slot) const {
    const Attribute& a = p_.schema.attributes[slot];
    const Json* cur = lookup(base_, a.path);
    std::vector<Json> out;
    auto add = [&](Json v) {
      if (cur && *cur == v) return;
      for (const auto& o : out)
        if (o == v) return;
      out.push_back(std::move(v));
    };
    switch (a.type.kind) {
      case ValueType::kBool:
        if (cur && cur->is_boolean())
          add(!cur->get<bool>());
        else {
          add(true);
          add(false);
        }
        break;
      case ValueType::kEnum:
        for (const auto& v : p_.schema.enums[a.type.enum_id]) add(v);
        break;
      case ValueType::kInt:
      case ValueType::kDuration:
      case ValueType::kTimestamp: {
        // Just across each constant, nearest to the current value first: the smallest move.
        bool ts = a.type.kind == ValueType::kTimestamp;
        int64_t now = 0;
        bool have = cur && (ts ? cur->is_string() && parse_timestamp(cur->get<std::string>(), now)
                               : cur->is_number_integer() && (now = cur->get<int64_t>(), true));
        std::vector<int64_t> values;
        for (int64_t c : vocab_.numbers[slot])
          for (int64_t d : {c - 1, c, c + 1}) values.push_back(d);
        if (ts)
          for (int64_t c : vocab_.days[slot])
            for (int64_t d : {c - 1, c, c + 1}) values.push_back(time_ - d * 86400);
        if (have) {
          auto distance = [&](int64_t v) {
            return v > now ? static_cast<uint64_t>(v) - static_cast<uint64_t>(now)
                           : static_cast<uint64_t>(now) - static_cast<uint64_t>(v);
          };
          std::stable_sort(values.begin(), values.end(),
                           [&](int64_t x, int64_t y) { return distance(x) < distance(y); });
        }
        for (int64_t v : values) ts ? add(format_timestamp(v)) : add(v);
        if (!cur) ts ? add(format_timestamp(time_)) : add(0);
        break;
      }
      case ValueType::kString:
        for (const auto& s : vocab_.strings[slot]) add(s);
        if (!cur && vocab_.strings[slot].empty()) add("example");
        break;
      case ValueType::kSet: {
        std::vector<std::string> now;
        if (cur && cur->is_array())
          for (const auto& v : *cur)
            if (v.is_string()) now.push_back(v.get<std::string>());
        auto as_json = [](std::vector<std::string> v) {
          std::sort(v.begin(), v.end());
          v.erase(std::unique(v.begin(), v.end()), v.end());
          return Json(v);
        };
        for (const auto& list : vocab_.any_lists[slot]) {
          std::vector<std::string> rest;
          for (const auto& s : now)
            if (std::find(list.begin(), list.end(), s) == list.end()) rest.push_back(s);
          if (rest.size() != now.size()) add(as_json(rest));
        }
        for (const auto& list : vocab_.all_lists[slot]) {
          std::vector<std::string> more = now;
          more.insert(more.end(), list.begin(), list.end());
          add(as_json(more));
        }
        for (const auto& s : vocab_.strings[slot]) {
          std::vector<std::string> v = now;
          auto it = std::find(v.begin(), v.end(), s);
          if (it == v.end())
            v.push_back(s);
          else
            v.erase(it);
          add(as_json(v));
        }
        if (!cur) add(Json::array());
        break;
      }
      default:
        break;
    }
    if (cur && a.optional) add(Json(Json::value_t::discarded));
    return out;
  }

  // The candidate's value as a bound value (views point into texts_, which never moves).
  bool to_value(Change& c) {
    if (c.value.is_discarded()) return true;
    const Attribute& a = p_.schema.attributes[c.slot];
    Value& v = c.bound;
    switch (a.type.kind) {
      case ValueType::kBool:
        v.num = c.value.get<bool>() ? 1 : 0;
        return true;
      case ValueType::kInt:
      case ValueType::kDuration:
        v.num = c.value.get<int64_t>();
        return true;
      case ValueType::kTimestamp:
        return parse_timestamp(c.value.get<std::string>(), v.num);
      case ValueType::kEnum:
        v.num = p_.schema.enum_index(a.type.enum_id, c.value.get<std::string>());
        return v.num >= 0;
      case ValueType::kString:
        texts_.push_back(c.value.get<std::string>());
        v.text = texts_.back();
        v.num = p_.symbol(texts_.back());
        return true;
      case ValueType::kSet: {
        SetValue sv;
        for (const auto& item : c.value) {
          texts_.push_back(item.get<std::string>());
          int32_t sym = p_.symbol(texts_.back());
          if (sym >= 0)
            sv.symbols.push_back(sym);
          else
            sv.others.push_back(texts_.back());
        }
        std::sort(sv.symbols.begin(), sv.symbols.end());
        set_store_.push_back(std::move(sv));
        c.set = static_cast<int32_t>(set_store_.size() - 1);
        return true;
      }
      default:
        return false;
    }
  }

  // Evaluates the base request with the changes applied to its bound form.
  void evaluate_fast(const std::vector<Change>& cs, Decision& d) {
    work_.values = base_bound_.values;
    work_.present = base_bound_.present;
    work_.sets = base_bound_.sets;
    work_.request_id = base_bound_.request_id;
    work_.time = base_bound_.time;
    for (const auto& c : cs) {
      if (c.value.is_discarded()) {
        work_.present[c.slot] = 0;
        continue;
      }
      work_.present[c.slot] = 1;
      work_.values[c.slot] = c.bound;
      if (c.set >= 0) {
        work_.values[c.slot].set = static_cast<uint32_t>(work_.sets.size());
        work_.sets.push_back(set_store_[static_cast<size_t>(c.set)]);
      }
    }
    eval_.evaluate(work_, d);
  }

  // Evaluates the changed request as an app would send it: JSON, bound, evaluated.
  bool evaluate(const std::vector<Change>& cs, Decision& d) {
    Json req = base_;
    for (const auto& c : cs) {
      auto keys = split_path(p_.schema.attributes[c.slot].path);
      Json* at = &req;
      for (size_t i = 0; i + 1 < keys.size(); ++i) {
        at = &(*at)[keys[i]];
        if (!at->is_object()) return false;
      }
      if (c.value.is_discarded())
        at->erase(keys.back());
      else
        (*at)[keys.back()] = c.value;
    }
    BoundRequest bound;
    BindError err;
    if (!binder_.bind(req.dump(), bound, err)) return false;
    eval_.evaluate(bound, d);
    return true;
  }

  Remedy remedy(const Found& f) const {
    Remedy r;
    for (const auto& c : f.changes) {
      FactChange fc;
      fc.slot = c.slot;
      fc.path = p_.schema.attributes[c.slot].path;
      if (const Json* cur = lookup(base_, fc.path)) fc.before = cur->dump();
      if (!c.value.is_discarded()) fc.after = c.value.dump();
      r.changes.push_back(std::move(fc));
    }
    r.outcome = f.decision.outcome;
    for (const auto& [o, rule] : f.decision.obligations)
      if (std::find(r.obligations.begin(), r.obligations.end(), o) == r.obligations.end())
        r.obligations.push_back(o);
    r.advice = f.decision.advice;
    r.reasons = f.decision.reasons;
    return r;
  }

  const Policy& p_;
  RemedyOptions options_;
  Vocabulary vocab_;
  Evaluator eval_;
  RequestBinder binder_;
  Json base_;
  BoundRequest base_bound_, work_;
  std::deque<std::string> texts_;
  std::deque<SetValue> set_store_;
  int64_t time_ = 0;
  Clock::time_point deadline_;
};

std::string value_text(const Policy& p, uint32_t slot, const std::string& json) {
  if (json == "[]") return "empty";
  if (p.schema.attributes[slot].type.kind == ValueType::kEnum && json.size() >= 2 &&
      json.front() == '"')
    return json.substr(1, json.size() - 2);
  return json;
}

}  // namespace

RemedySearch find_remedies(const std::shared_ptr<const Policy>& policy,
                           std::string_view request_json, const Decision& decision,
                           const RemedyOptions& options) {
  Search s(policy, options);
  return s.run(request_json, decision);
}

MissingFactCheck check_missing_facts(const std::shared_ptr<const Policy>& policy,
                                     std::string_view request_json, const Decision& decision,
                                     size_t max_evaluations) {
  Search s(policy, RemedyOptions{});
  return s.missing(request_json, decision, max_evaluations);
}

std::string remedy_text(const Policy& p, const Remedy& r) {
  std::string out =
      std::string(r.outcome == Outcome::kPermit ? "permitted" : outcome_name(r.outcome)) + " if ";
  for (size_t i = 0; i < r.changes.size(); ++i) {
    const FactChange& c = r.changes[i];
    if (i) out += " and ";
    out += "`" + c.path + "`";
    if (c.after.empty())
      out += " is left out";
    else if (c.before.empty())
      out += " is given as " + value_text(p, c.slot, c.after);
    else
      out += " becomes " + value_text(p, c.slot, c.after);
  }
  return out;
}

std::string remedies_text(const Policy& p, const RemedySearch& s, const RemedyOptions& options) {
  std::string out = "  what would make this a permit:\n";
  if (s.remedies.empty())
    out += "  - no change of at most " + std::to_string(options.max_facts) +
           " facts that a person can change makes it a permit\n";
  for (const Remedy& r : s.remedies) {
    out += "  - " + remedy_text(p, r) + "\n";
    if (!r.obligations.empty()) {
      out += "      obligations:";
      for (uint32_t o : r.obligations) out += " " + p.obligations[o].name;
      out += "\n";
    }
  }
  if (s.cut_short)
    out += "  (the search was cut short after " + std::to_string(options.budget.count()) +
           " ms; smaller or other remedies may exist)\n";
  return out;
}

std::string remedies_json(const Policy& p, const RemedySearch& s) {
  Json arr = Json::array();
  for (const Remedy& r : s.remedies) {
    Json j;
    Json changes = Json::array();
    for (const FactChange& c : r.changes) {
      Json cj;
      cj["fact"] = c.path;
      cj["from"] = c.before.empty() ? Json() : Json::parse(c.before);
      cj["to"] = c.after.empty() ? Json() : Json::parse(c.after);
      changes.push_back(cj);
    }
    j["changes"] = changes;
    j["outcome"] = outcome_name(r.outcome);
    Json obligations = Json::array();
    for (uint32_t o : r.obligations)
      obligations.push_back({{"id", p.obligations[o].name}, {"text", p.obligations[o].text}});
    j["obligations"] = obligations;
    Json advice = Json::array();
    for (uint32_t a : r.advice) advice.push_back(p.rules[a].id);
    j["advice"] = advice;
    j["text"] = remedy_text(p, r);
    arr.push_back(j);
  }
  return arr.dump();
}

}  // namespace ethos
