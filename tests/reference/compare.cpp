#include "compare.hpp"

#include <algorithm>
#include <cstdint>
#include <vector>

namespace ethos::reference {

RefDecision from_engine(const Policy& p, const Decision& d) {
  RefDecision r;
  r.outcome = outcome_name(d.outcome);
  for (uint32_t i : d.reasons) r.reasons.push_back(p.rules[i].id);
  if (d.default_module >= 0)
    r.default_module = p.modules[static_cast<size_t>(d.default_module)].name;
  for (const auto& [o, rule] : d.obligations)
    r.obligations.emplace_back(p.obligations[o].name, p.rules[rule].id);
  for (uint32_t i : d.advice) r.advice.push_back(p.rules[i].id);
  // semantics.md does not fix the order of overridden rules: compare them in declaration order.
  auto overridden = d.overridden;
  std::sort(overridden.begin(), overridden.end());
  for (const auto& [rule, by] : overridden)
    r.overridden.emplace_back(p.rules[rule].id, p.rules[by].id);
  for (uint32_t slot : d.missing) r.missing.push_back(p.schema.attributes[slot].path);
  for (size_t i = 0; i < d.trace.size(); ++i)
    r.trace.emplace_back(p.rules[i].id, rule_status_name(d.trace[i]));
  return r;
}

namespace {
std::vector<std::string> lines(const std::string& text) {
  std::vector<std::string> out;
  size_t start = 0;
  for (size_t nl; (nl = text.find('\n', start)) != std::string::npos; start = nl + 1)
    out.push_back(text.substr(start, nl - start));
  return out;
}
}  // namespace

std::string difference(const RefDecision& engine, const RefDecision& reference) {
  std::string a = to_text(engine), b = to_text(reference);
  if (a == b) return "";
  // A line diff (longest common subsequence): `-` only the engine says it, `+` only the reference.
  auto x = lines(a), y = lines(b);
  std::vector<std::vector<uint32_t>> lcs(x.size() + 1, std::vector<uint32_t>(y.size() + 1, 0));
  for (size_t i = x.size(); i-- > 0;)
    for (size_t j = y.size(); j-- > 0;)
      lcs[i][j] = x[i] == y[j] ? lcs[i + 1][j + 1] + 1 : std::max(lcs[i + 1][j], lcs[i][j + 1]);
  std::string out = "decisions differ (- engine, + reference):\n";
  size_t i = 0, j = 0;
  while (i < x.size() || j < y.size()) {
    if (i < x.size() && j < y.size() && x[i] == y[j]) {
      if (x[i].rfind("trace ", 0) != 0)
        out += "  " + x[i] + "\n";  // unchanged trace lines are noise
      ++i, ++j;
    } else if (j == y.size() || (i < x.size() && lcs[i + 1][j] >= lcs[i][j + 1])) {
      out += "- " + x[i++] + "\n";
    } else {
      out += "+ " + y[j++] + "\n";
    }
  }
  return out;
}

std::string binding_difference(const Policy& p, const BoundRequest& a, const BoundRequest& b) {
  if (a.request_id != b.request_id)
    return "request_id: `" + a.request_id + "` vs `" + b.request_id + "`";
  if (a.time != b.time) return "time: " + std::to_string(a.time) + " vs " + std::to_string(b.time);
  if (a.present.size() != b.present.size() || a.values.size() != b.values.size())
    return "different slot counts";
  for (size_t slot = 0; slot < a.present.size(); ++slot) {
    const Attribute& at = p.schema.attributes[slot];
    const std::string where = at.path + ": ";
    if (a.present[slot] != b.present[slot])
      return where + (a.present[slot] ? "present" : "absent") + " vs " +
             (b.present[slot] ? "present" : "absent");
    if (!a.present[slot]) continue;
    const Value& x = a.values[slot];
    const Value& y = b.values[slot];
    switch (at.type.kind) {
      case ValueType::kRecord:
        break;
      case ValueType::kSet: {
        const SetValue& s = a.sets.at(x.set);
        const SetValue& t = b.sets.at(y.set);
        std::vector<std::string_view> so(s.others.begin(), s.others.end());
        std::vector<std::string_view> to(t.others.begin(), t.others.end());
        std::sort(so.begin(), so.end());
        std::sort(to.begin(), to.end());
        if (s.symbols != t.symbols || so != to) return where + "the sets differ";
        break;
      }
      case ValueType::kString:
        if (x.num != y.num || x.text != y.text)
          return where + "`" + std::string(x.text) + "` vs `" + std::string(y.text) + "`";
        break;
      default:
        if (x.num != y.num) return where + std::to_string(x.num) + " vs " + std::to_string(y.num);
    }
  }
  return "";
}

}  // namespace ethos::reference
