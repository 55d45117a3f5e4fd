#include "generators/causal_transitivity.h"

#include <gtest/gtest.h>

#include <map>
#include <set>

#include "family_properties.h"

namespace {

using namespace verity;

// Independent label: plain BFS over the stored statements (no Boost.Graph).
bool reaches(const pb::CausalGraphInstance& g, const std::string& from, const std::string& to) {
  std::map<std::string, std::vector<std::string>> out;
  for (const auto& e : g.edges()) out[e.from()].push_back(e.to());
  std::set<std::string> seen;
  std::vector<std::string> frontier = {from};
  while (!frontier.empty()) {
    const std::string node = frontier.back();
    frontier.pop_back();
    for (const auto& next : out[node]) {
      if (next == to) return true;
      if (seen.insert(next).second) frontier.push_back(next);
    }
  }
  return false;
}

std::string cross_check(const pb::Task& task) {
  const auto& g = task.causal_graph();
  const bool yes = reaches(g, g.query_source(), g.query_target());
  if ((yes ? "Yes" : "No") != task.label()) return "BFS disagrees with label " + task.label();
  if (static_cast<int>(g.edges_size()) != g.nodes_size() - 1) return "a chain of n nodes has n-1 statements";
  std::set<std::string> names(g.nodes().begin(), g.nodes().end());
  if (static_cast<int>(names.size()) != g.nodes_size()) return "node names repeat";
  for (const auto& e : g.edges())
    if (task.prompt().find(e.from() + " causes " + e.to() + ".") == std::string::npos) return "statement missing";
  if (yes) {  // the gold trace walks a real path from source to target
    std::string at = g.query_source();
    for (int i = 0; i + 1 < task.trace_size(); ++i) {
      const std::string prefix = at + " causes ";
      if (task.trace(i).text().rfind(prefix, 0) != 0) return "trace step does not continue the path";
      at = task.trace(i).text().substr(prefix.size());
      at.pop_back();  // the period
    }
    if (at != g.query_target()) return "trace path ends at " + at;
  }
  return "";
}

class CausalTransitivityLevels : public ::testing::TestWithParam<int> {};

TEST_P(CausalTransitivityLevels, GoldVerifiesWrongFailsBalancedAndCrossChecked) {
  verity::testing::check_family_properties("causal_transitivity", GetParam(), 2000, {"Yes", "No"}, cross_check);
}

INSTANTIATE_TEST_SUITE_P(AllLevels, CausalTransitivityLevels, ::testing::Range(1, 11));

TEST(CausalTransitivity, KnobsShapeTheChain) {
  const Family& f = find_family("causal_transitivity");
  const Knobs knobs = resolve_knobs(f, 0, {{"chain_length", "9"}, {"name_min", "8"}, {"name_max", "10"},
                                           {"flip_prob", "1"}, {"order", "reversed"}});
  for (uint64_t i = 0; i < 200; ++i) {
    const auto task = make_task(f, knobs, 0, 1, i);
    const auto& g = task.causal_graph();
    ASSERT_EQ(g.nodes_size(), 9);
    for (const auto& n : g.nodes()) ASSERT_TRUE(n.size() >= 8 && n.size() <= 10) << n;
    // Fully flipped chain listed in reverse: statements run node i+1 -> i, last pair first.
    ASSERT_EQ(g.edges(0).from(), g.nodes(8));
    ASSERT_EQ(g.edges(0).to(), g.nodes(7));
  }
}

TEST(CausalTransitivity, HardNegativesAppear) {
  const Family& f = find_family("causal_transitivity");
  const Knobs knobs = resolve_knobs(f, 3, {});
  int hard = 0, no = 0;
  for (uint64_t i = 0; i < 1000; ++i) {
    const auto task = make_task(f, knobs, 3, 1, i);
    if (task.label() != "No") continue;
    ++no;
    const auto& g = task.causal_graph();
    hard += reaches(g, g.query_target(), g.query_source());
  }
  EXPECT_GT(hard, no / 4);  // about half of the No questions ask the chain backwards
}

TEST(CausalTransitivity, BadNameRangeIsAClearError) {
  const Family& f = find_family("causal_transitivity");
  const Knobs knobs = resolve_knobs(f, 0, {{"name_min", "5"}, {"name_max", "2"}});
  EXPECT_THROW(make_task(f, knobs, 0, 1, 0), KnobError);
}

}  // namespace
