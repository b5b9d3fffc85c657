// The rule graph: order, reads, cycles and the DOT picture.
#include <catch2/catch.hpp>

#include <ethos/check/policy_graph.hpp>
#include "support.hpp"

using namespace ethos;
using namespace ethos::testing;
using Catch::Matchers::Contains;

TEST_CASE("evaluation order puts every overrider before the rule it overrides") {
  auto p = compile(
      "module m \"M\"\n"
      "rule a: forbid because \"b\" cite \"c\"\n"
      "rule b: permit overrides a because \"b\" cite \"c\"\n"
      "rule c: permit overrides b because \"b\" cite \"c\"\n");
  auto pos = [&](const char* id) {
    uint32_t r = p->rule_by_id.at(id);
    return std::find(p->rule_order.begin(), p->rule_order.end(), r) - p->rule_order.begin();
  };
  CHECK(pos("m.c") < pos("m.b"));
  CHECK(pos("m.b") < pos("m.a"));
}

TEST_CASE("a rule's reads include the attributes behind its defines") {
  auto p = compile(
      "module m \"M\"\ndefine minor = patient.age < 18\n"
      "rule a: forbid when minor and not patient.guardian_permission because \"b\" cite \"c\"\n");
  const Rule& r = p->rules[0];
  std::vector<std::string> reads;
  for (uint32_t s : r.reads) reads.push_back(p->schema.attributes[s].path);
  CHECK(reads == std::vector<std::string>{"patient.age", "patient.guardian_permission"});
}

TEST_CASE("the DOT picture colours rules by effect and dashes overrides") {
  auto p = compile(
      "module m \"M\"\nobligation review \"r\"\n"
      "rule a: forbid when patient.opted_out because \"b\" cite \"c\"\n"
      "rule b: require review overrides a because \"b\" cite \"c\"\n");
  std::string dot = build_rule_graph(*p).to_dot("t");
  CHECK_THAT(dot, Contains("digraph ethos"));
  CHECK_THAT(dot, Contains("m.a\\n(forbid)"));
  CHECK_THAT(dot, Contains("fillcolor=\"#c62828\""));
  CHECK_THAT(dot, Contains("style=dashed"));
  CHECK_THAT(dot, Contains("label=\"requires\""));
  CHECK_THAT(dot, Contains("patient.opted_out"));
}

TEST_CASE("cycles are found and returned in edge order") {
  RuleGraph g;
  for (const char* n : {"x", "y", "z"}) g.add_vertex({RuleGraph::VertexKind::kRule, n, {}, 0});
  g.add_edge(0, 1, RuleGraph::EdgeKind::kOverrides);
  g.add_edge(1, 2, RuleGraph::EdgeKind::kOverrides);
  g.add_edge(2, 0, RuleGraph::EdgeKind::kOverrides);
  auto cycles = g.cycles(RuleGraph::EdgeKind::kOverrides);
  REQUIRE(cycles.size() == 1);
  CHECK(cycles[0] == std::vector<uint32_t>{0, 1, 2});
  CHECK(g.cycles(RuleGraph::EdgeKind::kReads).empty());
}
