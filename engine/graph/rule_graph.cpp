#include <ethos/graph/rule_graph.hpp>

#include <algorithm>
#include <boost/graph/adjacency_list.hpp>
#include <boost/graph/breadth_first_search.hpp>
#include <boost/graph/filtered_graph.hpp>
#include <boost/graph/strong_components.hpp>
#include <boost/graph/topological_sort.hpp>
#include <map>

namespace ethos {

struct EdgeProps {
  RuleGraph::EdgeKind kind;
};
using Graph =
    boost::adjacency_list<boost::vecS, boost::vecS, boost::directedS, RuleGraph::Vertex, EdgeProps>;

struct RuleGraph::Impl {
  Graph g;
};

namespace {
struct KindFilter {
  const Graph* g = nullptr;
  RuleGraph::EdgeKind kind{};
  template <typename E>
  bool operator()(const E& e) const {
    return (*g)[e].kind == kind;
  }
};
}  // namespace

RuleGraph::RuleGraph() : impl_(std::make_unique<Impl>()) {}
RuleGraph::~RuleGraph() = default;
RuleGraph::RuleGraph(RuleGraph&&) noexcept = default;
RuleGraph& RuleGraph::operator=(RuleGraph&&) noexcept = default;

uint32_t RuleGraph::add_vertex(const Vertex& v) {
  return static_cast<uint32_t>(boost::add_vertex(v, impl_->g));
}
void RuleGraph::add_edge(uint32_t from, uint32_t to, EdgeKind kind) {
  boost::add_edge(from, to, EdgeProps{kind}, impl_->g);
}
const RuleGraph::Vertex& RuleGraph::vertex(uint32_t v) const { return impl_->g[v]; }
size_t RuleGraph::vertex_count() const { return boost::num_vertices(impl_->g); }
size_t RuleGraph::edge_count() const { return boost::num_edges(impl_->g); }

std::vector<std::vector<uint32_t>> RuleGraph::cycles(EdgeKind kind) const {
  const Graph& g = impl_->g;
  boost::filtered_graph<Graph, KindFilter> fg(g, KindFilter{&g, kind});
  std::vector<int> component(boost::num_vertices(g));
  int n = boost::strong_components(
      fg, boost::make_iterator_property_map(component.begin(), boost::get(boost::vertex_index, g)));
  std::vector<std::vector<uint32_t>> members(static_cast<size_t>(n));
  for (size_t v = 0; v < component.size(); ++v)
    members[static_cast<size_t>(component[v])].push_back(static_cast<uint32_t>(v));
  std::vector<std::vector<uint32_t>> out;
  for (auto& m : members) {
    bool self_loop = false;
    if (m.size() == 1) {
      for (auto [e, end] = boost::out_edges(m[0], fg); e != end; ++e)
        if (boost::target(*e, fg) == m[0]) self_loop = true;
      if (!self_loop) continue;
      out.push_back(m);
      continue;
    }
    // Walk one cycle inside the component, starting at its first member:
    // a depth-first search with its own stack (a cycle may be as long as the
    // pack), `path` holding the vertices from m[0] to the top.
    using OutEdge = boost::graph_traits<decltype(fg)>::out_edge_iterator;
    std::vector<uint32_t> path{m[0]};
    std::vector<std::pair<OutEdge, OutEdge>> edges{boost::out_edges(m[0], fg)};
    std::vector<bool> seen(boost::num_vertices(g), false);
    seen[m[0]] = true;
    bool closed = false;
    while (!edges.empty() && !closed) {
      auto& [e, end] = edges.back();
      if (e == end) {
        edges.pop_back();
        path.pop_back();
        continue;
      }
      auto v = static_cast<uint32_t>(boost::target(*e, fg));
      ++e;
      if (component[v] != component[m[0]]) continue;
      if (v == m[0]) {
        closed = true;
      } else if (!seen[v]) {
        seen[v] = true;
        path.push_back(v);
        edges.push_back(boost::out_edges(v, fg));
      }
    }
    out.push_back(path);
  }
  return out;
}

std::vector<uint32_t> RuleGraph::dependency_order(EdgeKind kind) const {
  const Graph& g = impl_->g;
  boost::filtered_graph<Graph, KindFilter> fg(g, KindFilter{&g, kind});
  std::vector<Graph::vertex_descriptor> order;
  boost::topological_sort(fg, std::back_inserter(order));
  return {order.begin(), order.end()};  // reverse topological: dependencies first
}

std::vector<uint32_t> RuleGraph::reachable(uint32_t v, EdgeKind kind) const {
  const Graph& g = impl_->g;
  std::vector<uint32_t> out;
  std::vector<bool> seen(boost::num_vertices(g), false);
  std::vector<uint32_t> stack{v};
  seen[v] = true;
  while (!stack.empty()) {
    uint32_t u = stack.back();
    stack.pop_back();
    for (auto [e, end] = boost::out_edges(u, g); e != end; ++e) {
      if (g[*e].kind != kind) continue;
      auto t = static_cast<uint32_t>(boost::target(*e, g));
      if (seen[t]) continue;
      seen[t] = true;
      out.push_back(t);
      stack.push_back(t);
    }
  }
  return out;
}

namespace {
std::string dot_escape(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out;
}
const char* effect_colour(Effect e) {
  switch (e) {
    case Effect::kPermit:
      return "#2e7d32";
    case Effect::kForbid:
      return "#c62828";
    case Effect::kEscalate:
      return "#ef6c00";
    case Effect::kAdvise:
      return "#1565c0";
    case Effect::kRequire:
      return "#6a1b9a";
  }
  return "black";
}
}  // namespace

std::string RuleGraph::to_dot(std::string_view title) const {
  const Graph& g = impl_->g;
  std::string out =
      "digraph ethos {\n  label=\"" + dot_escape(title) +
      "\";\n  labelloc=t;\n  rankdir=LR;\n  node [fontname=\"Helvetica\", fontsize=10];\n"
      "  edge [fontname=\"Helvetica\", fontsize=9];\n";
  for (auto [v, end] = boost::vertices(g); v != end; ++v) {
    const Vertex& x = g[*v];
    out += "  n" + std::to_string(*v) + " [label=\"" + dot_escape(x.name);
    switch (x.kind) {
      case VertexKind::kAttribute:
        out += "\", shape=note, color=\"#757575\"]";
        break;
      case VertexKind::kParam:
        out += "\", shape=cds, color=\"#455a64\"]";
        break;
      case VertexKind::kDefine:
        out += "\", shape=ellipse, color=\"#37474f\"]";
        break;
      case VertexKind::kObligation:
        out += "\", shape=hexagon, color=\"#6a1b9a\"]";
        break;
      case VertexKind::kRule:
        out += std::string("\\n(") + effect_name(x.effect) +
               ")\", shape=box, style=\"rounded,filled\", fillcolor=\"" + effect_colour(x.effect) +
               "\", fontcolor=white]";
        break;
    }
    out += ";\n";
  }
  for (auto [e, end] = boost::edges(g); e != end; ++e) {
    out += "  n" + std::to_string(boost::source(*e, g)) + " -> n" +
           std::to_string(boost::target(*e, g));
    switch (g[*e].kind) {
      case EdgeKind::kReads:
        out += " [color=\"#9e9e9e\"]";
        break;
      case EdgeKind::kOverrides:
        out += " [style=dashed, color=\"#c62828\", label=\"overrides\"]";
        break;
      case EdgeKind::kRequires:
        out += " [color=\"#6a1b9a\", label=\"requires\"]";
        break;
    }
    out += ";\n";
  }
  out += "}\n";
  return out;
}

}  // namespace ethos
