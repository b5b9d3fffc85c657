#include <ethos/check/policy_graph.hpp>

#include <algorithm>
#include <map>

namespace ethos {

namespace {
struct DirectRefs {
  std::vector<uint32_t> attributes, defines, params;
};

void direct_refs(const Policy& p, uint32_t root, DirectRefs& out) {
  std::vector<uint32_t> stack{root};
  while (!stack.empty()) {
    const IrNode& n = p.nodes[stack.back()];
    stack.pop_back();
    switch (n.op) {
      case IrOp::kConst:
      case IrOp::kConstSet:
        if (n.param >= 0) out.params.push_back(static_cast<uint32_t>(n.param));
        break;
      case IrOp::kAttr:
      case IrOp::kIsPresent:
      case IrOp::kIsMissing:
        out.attributes.push_back(n.a);
        break;
      case IrOp::kDefine:
        out.defines.push_back(n.a);
        break;
      case IrOp::kNow:
        if (p.schema.time_slot >= 0)
          out.attributes.push_back(static_cast<uint32_t>(p.schema.time_slot));
        break;
      case IrOp::kDaysSince:
        stack.push_back(n.a);
        if (p.schema.time_slot >= 0)
          out.attributes.push_back(static_cast<uint32_t>(p.schema.time_slot));
        break;
      default:
        for_each_child(p, n, [&](uint32_t k) { stack.push_back(k); });
        break;
    }
  }
  for (auto* v : {&out.attributes, &out.defines, &out.params}) {
    std::sort(v->begin(), v->end());
    v->erase(std::unique(v->begin(), v->end()), v->end());
  }
}
}  // namespace

RuleGraph build_rule_graph(const Policy& p) {
  RuleGraph g;
  using VK = RuleGraph::VertexKind;
  using EK = RuleGraph::EdgeKind;
  std::map<uint32_t, uint32_t> attr_vertex;
  auto attribute = [&](uint32_t slot) {
    auto it = attr_vertex.find(slot);
    if (it != attr_vertex.end()) return it->second;
    const Attribute& a = p.schema.attributes[slot];
    uint32_t v = g.add_vertex({VK::kAttribute, a.path, a.span, slot});
    attr_vertex.emplace(slot, v);
    return v;
  };
  std::vector<uint32_t> param_v, define_v, rule_v, obligation_v;
  for (uint32_t i = 0; i < p.params.size(); ++i)
    param_v.push_back(g.add_vertex({VK::kParam, p.params[i].id, p.params[i].span, i}));
  for (uint32_t i = 0; i < p.defines.size(); ++i)
    define_v.push_back(g.add_vertex({VK::kDefine, p.defines[i].id, p.defines[i].span, i}));
  for (uint32_t i = 0; i < p.obligations.size(); ++i)
    obligation_v.push_back(
        g.add_vertex({VK::kObligation, p.obligations[i].name, p.obligations[i].span, i}));
  for (uint32_t i = 0; i < p.rules.size(); ++i)
    rule_v.push_back(
        g.add_vertex({VK::kRule, p.rules[i].id, p.rules[i].span, i, p.rules[i].effect}));
  auto connect = [&](uint32_t from, const DirectRefs& refs) {
    for (uint32_t a : refs.attributes) g.add_edge(from, attribute(a), EK::kReads);
    for (uint32_t d : refs.defines) g.add_edge(from, define_v[d], EK::kReads);
    for (uint32_t prm : refs.params) g.add_edge(from, param_v[prm], EK::kReads);
  };
  for (uint32_t i = 0; i < p.defines.size(); ++i) {
    DirectRefs refs;
    direct_refs(p, p.defines[i].value, refs);
    connect(define_v[i], refs);
  }
  for (uint32_t i = 0; i < p.rules.size(); ++i) {
    const Rule& r = p.rules[i];
    DirectRefs refs;
    direct_refs(p, r.condition, refs);
    if (p.modules[r.module].applies) direct_refs(p, *p.modules[r.module].applies, refs);
    connect(rule_v[i], refs);
    for (uint32_t t : r.overrides) g.add_edge(rule_v[i], rule_v[t], EK::kOverrides);
    if (r.obligation >= 0)
      g.add_edge(rule_v[i], obligation_v[static_cast<size_t>(r.obligation)], EK::kRequires);
  }
  return g;
}

std::optional<std::string> policy_dot(const Policy& p, const PolicyDotOptions& options) {
  RuleGraph g = build_rule_graph(p);
  using VK = RuleGraph::VertexKind;
  using EK = RuleGraph::EdgeKind;
  size_t n = g.vertex_count();
  RuleGraph::DotStyle style;
  style.title = options.title;
  style.legend = true;
  style.cluster.resize(n);
  style.url.resize(n);
  auto module_of = [&](const RuleGraph::Vertex& x) -> std::string {
    switch (x.kind) {
      case VK::kRule:
        return p.modules[p.rules[x.index].module].name;
      case VK::kDefine:
        return p.modules[p.defines[x.index].module].name;
      case VK::kParam:
        return p.modules[p.params[x.index].module].name;
      case VK::kObligation:
        return "obligations";
      case VK::kAttribute:
        return "request";
    }
    return {};
  };
  for (uint32_t v = 0; v < n; ++v) {
    const RuleGraph::Vertex& x = g.vertex(v);
    std::string m = module_of(x);
    style.cluster[v] = m == "request" || m == "obligations" ? m : "module " + m;
    if (x.kind == VK::kRule && !options.rule_url.empty()) style.url[v] = options.rule_url + x.name;
  }
  if (!options.module.empty()) {
    bool known = std::any_of(p.modules.begin(), p.modules.end(),
                             [&](const Module& m) { return m.name == options.module; });
    if (!known) return std::nullopt;
    style.keep.assign(n, false);
    std::vector<uint32_t> mine;
    for (uint32_t v = 0; v < n; ++v) {
      const RuleGraph::Vertex& x = g.vertex(v);
      if (x.kind == VK::kRule && module_of(x) == options.module) mine.push_back(v);
    }
    for (uint32_t v : mine) {
      style.keep[v] = true;
      for (EK k : {EK::kReads, EK::kRequires, EK::kOverrides})
        for (uint32_t w : g.reachable(v, k)) style.keep[w] = true;
    }
    // The rules of other modules that override one of this module's.
    for (uint32_t v = 0; v < n; ++v) {
      if (g.vertex(v).kind != VK::kRule || style.keep[v]) continue;
      for (uint32_t w : g.reachable(v, EK::kOverrides))
        if (std::find(mine.begin(), mine.end(), w) != mine.end()) style.keep[v] = true;
    }
  }
  return g.to_dot(style);
}

}  // namespace ethos
