// The rule graph (Boost.Graph): schema attributes, params, defines, rules and
// obligations as vertices; *reads*, *overrides* and *requires* as edges. It
// gives evaluation order, names cycles, and draws the policy for a committee.
// Immutable after construction; safe to share.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <ethos/base/source.hpp>
#include <ethos/syntax/effect.hpp>

namespace ethos {

class RuleGraph {
 public:
  enum class VertexKind : uint8_t { kAttribute, kParam, kDefine, kRule, kObligation };
  enum class EdgeKind : uint8_t { kReads, kOverrides, kRequires };
  struct Vertex {
    VertexKind kind = VertexKind::kRule;
    std::string name;
    Span span;
    uint32_t index = 0;  // into the policy's table for this kind
    Effect effect = Effect::kPermit;
  };

  RuleGraph();
  ~RuleGraph();
  RuleGraph(RuleGraph&&) noexcept;
  RuleGraph& operator=(RuleGraph&&) noexcept;

  uint32_t add_vertex(const Vertex& v);
  void add_edge(uint32_t from, uint32_t to, EdgeKind kind);
  const Vertex& vertex(uint32_t v) const;
  size_t vertex_count() const;
  size_t edge_count() const;

  // Every cycle made of `kind` edges, each as the vertices in edge order.
  std::vector<std::vector<uint32_t>> cycles(EdgeKind kind) const;
  // Vertices such that for every `kind` edge u -> v, v comes before u
  // (what a vertex reads or overrides comes first). Requires no such cycle.
  std::vector<uint32_t> dependency_order(EdgeKind kind) const;
  // Vertices reachable from `v` along `kind` edges (excluding v).
  std::vector<uint32_t> reachable(uint32_t v, EdgeKind kind) const;

  // What to_dot() draws, and how. Vectors are indexed by vertex; empty
  // means every vertex, no clusters, no links.
  struct DotStyle {
    std::string title;
    std::vector<bool> keep;            // draw this vertex (and edges between kept ones)
    std::vector<std::string> cluster;  // the box a vertex is drawn in ("" for none)
    std::vector<std::string> url;      // a link on the vertex (SVG <a>)
    bool legend = false;               // a key to the vertex and edge kinds
  };
  // Graphviz DOT: rules coloured by effect, overrides dashed.
  std::string to_dot(std::string_view title) const;
  std::string to_dot(const DotStyle& style) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// The full graph of a checked policy.
}  // namespace ethos
