#include <gtest/gtest.h>

#include <map>
#include <regex>
#include <set>
#include <sstream>

#include "family_properties.h"
#include "solvers/dseparation.h"

namespace {

using namespace verity;

// The stored instance as a graph over node indices, with the query.
struct Parsed {
  std::map<std::string, int> index;
  EdgeList edges;
  DSepQuery query;
  DiGraph graph;
};

Parsed parse(const pb::CausalGraphInstance& g) {
  Parsed p;
  for (int i = 0; i < g.nodes_size(); ++i) p.index[g.nodes(i)] = i;
  for (const auto& e : g.edges()) p.edges.emplace_back(p.index.at(e.from()), p.index.at(e.to()));
  p.query.x = p.index.at(g.query_source());
  p.query.y = p.index.at(g.query_target());
  for (const auto& z : g.conditioning()) p.query.given.push_back(p.index.at(z));
  p.graph = make_digraph(g.nodes_size(), p.edges);
  return p;
}

// Test-local rules (no library code): does the path written "A -> B <- C ..." exist in the graph, and
// is it active given Z? A collider is open iff it or a descendant is in Z; any other node iff not in Z.
std::string check_active_path_text(const std::string& text, const Parsed& p, const std::set<std::string>& z) {
  std::istringstream in(text);
  std::vector<std::string> nodes, arrows;
  std::string token;
  while (in >> token) (nodes.size() == arrows.size() ? nodes : arrows).push_back(token);
  std::map<int, std::vector<int>> children;
  for (const auto& [a, b] : p.edges) children[a].push_back(b);
  auto has = [&](const std::string& a, const std::string& b) {
    for (int c : children[p.index.at(a)])
      if (c == p.index.at(b)) return true;
    return false;
  };
  auto opened_by_descendant = [&](const std::string& v) {
    std::vector<int> todo = {p.index.at(v)};
    std::set<int> seen;
    while (!todo.empty()) {
      const int u = todo.back();
      todo.pop_back();
      for (int c : children[u])
        if (seen.insert(c).second) todo.push_back(c);
    }
    for (const auto& name : z)
      if (seen.count(p.index.at(name))) return true;
    return false;
  };
  for (size_t i = 0; i < arrows.size(); ++i) {
    const bool forward = arrows[i] == "->";
    if (!(forward ? has(nodes[i], nodes[i + 1]) : has(nodes[i + 1], nodes[i]))) return "trace edge not in graph";
  }
  for (size_t i = 1; i + 1 < nodes.size(); ++i) {
    const bool collider = arrows[i - 1] == "->" && arrows[i] == "<-";
    const bool open = collider ? z.count(nodes[i]) || opened_by_descendant(nodes[i]) : !z.count(nodes[i]);
    if (!open) return "trace path is blocked at " + nodes[i];
  }
  return "";
}

// The label by three methods: moral graph, Bayes-ball, and (when it finishes) exhaustive path
// enumeration; plus the No trace's path checked by the test-local rules above.
std::string cross_check(const pb::Task& task) {
  const auto& g = task.causal_graph();
  const Parsed p = parse(g);
  const bool separated = task.label() == "Yes";
  if (d_separated_moral(p.graph, p.query) != separated) return "moral graph disagrees";
  if (d_separated_bayes_ball(p.graph, p.query) != separated) return "Bayes-ball disagrees";
  const auto all = enumerate_paths(p.graph, p.query, 0, 20000);  // bounded: big graphs are left to the other two
  if (all.complete && all.any_active == separated) return "path enumeration disagrees";
  const std::set<std::string> z(g.conditioning().begin(), g.conditioning().end());
  if (z.count(g.query_source()) || z.count(g.query_target()) || g.query_source() == g.query_target())
    return "query endpoints overlap the conditioning set";
  if (z.size() != static_cast<size_t>(g.conditioning_size())) return "conditioning set repeats a node";
  const long z_max = std::min<long>(std::stol(task.knobs().at("conditioning_max")), g.nodes_size() - 2);
  if (static_cast<long>(z.size()) > z_max) return "conditioning set too large";
  if (task.prompt().find(g.query_source()) == std::string::npos) return "prompt misses the query";
  if (!separated) {
    const std::string& first = task.trace(0).text();  // "Consider the path A -> B <- C."
    const std::string prefix = "Consider the path ";
    if (first.rfind(prefix, 0) != 0) return "No trace does not start with a path";
    const std::string path = first.substr(prefix.size(), first.size() - prefix.size() - 1);
    if (path.rfind(g.query_source() + " ", 0) != 0) return "trace path does not start at X";
    if (path.size() < g.query_target().size() ||
        path.compare(path.size() - g.query_target().size(), std::string::npos, g.query_target()) != 0)
      return "trace path does not end at Y";
    return check_active_path_text(path, p, z);
  }
  return task.trace(task.trace_size() - 1).rule() == "d_separated" ? "" : "Yes trace does not conclude";
}

class DSeparationLevels : public ::testing::TestWithParam<int> {};

TEST_P(DSeparationLevels, GoldVerifiesWrongFailsBalancedAndThreeLabellersAgree) {
  verity::testing::check_family_properties("d_separation", GetParam(), 2000, {"Yes", "No"}, cross_check);
}

INSTANTIATE_TEST_SUITE_P(AllLevels, DSeparationLevels, ::testing::Range(1, 11));

// Textbook cases with known answers (not computed by any labeller).
TEST(DSeparation, TextbookCases) {
  // 0 -> 1 -> 2 (chain), 3 <- 1 (so 1 is also a fork for 2 and 3), 4 -> 5 <- 6 (collider), 5 -> 7.
  const DiGraph g = make_digraph(8, {{0, 1}, {1, 2}, {1, 3}, {4, 5}, {6, 5}, {5, 7}});
  struct Case { DSepQuery q; bool separated; const char* what; };
  const std::vector<Case> cases = {
      {{0, 2, {}}, false, "open chain"},          {{0, 2, {1}}, true, "chain blocked by its middle"},
      {{2, 3, {}}, false, "open fork"},           {{2, 3, {1}}, true, "fork blocked by its root"},
      {{4, 6, {}}, true, "collider blocks"},      {{4, 6, {5}}, false, "conditioned collider opens"},
      {{4, 6, {7}}, false, "collider's conditioned descendant opens"},
      {{0, 4, {}}, true, "no path at all"},       {{0, 7, {1, 5}}, true, "disconnected parts"}};
  for (const auto& c : cases) {
    EXPECT_EQ(d_separated_moral(g, c.q), c.separated) << "moral: " << c.what;
    EXPECT_EQ(d_separated_bayes_ball(g, c.q), c.separated) << "Bayes-ball: " << c.what;
    const auto paths = enumerate_paths(g, c.q, 10, 1000);
    ASSERT_TRUE(paths.complete);
    EXPECT_EQ(!paths.any_active, c.separated) << "paths: " << c.what;
  }
}

// The three deciders on many random small DAGs and random queries, beyond what the generator draws.
TEST(DSeparation, ThreeDecidersAgreeOnRandomGraphs) {
  int separated = 0, total = 0;
  for (uint64_t seed = 0; seed < 3000; ++seed) {
    Rng rng(seed);
    const int n = static_cast<int>(rng.uniform(3, 9));
    const DiGraph g = make_digraph(n, random_dag(rng, n, 0.8 + rng.unit() * 1.5));
    DSepQuery q{static_cast<int>(rng.index(n)), 0, {}};
    do q.y = static_cast<int>(rng.index(n)); while (q.y == q.x);
    for (int v = 0; v < n; ++v)
      if (v != q.x && v != q.y && rng.chance(0.3)) q.given.push_back(v);
    const bool moral = d_separated_moral(g, q);
    ASSERT_EQ(moral, d_separated_bayes_ball(g, q)) << "seed " << seed;
    const auto paths = enumerate_paths(g, q, 0, 1000000);
    ASSERT_TRUE(paths.complete);
    ASSERT_EQ(moral, !paths.any_active) << "seed " << seed;
    if (!moral) ASSERT_FALSE(find_active_path(g, q, 1000000).empty()) << "seed " << seed;
    separated += moral;
    ++total;
  }
  EXPECT_GT(separated, total / 20);  // both answers are exercised
  EXPECT_LT(separated, total * 9 / 10);
}

TEST(DSeparation, StructuresHaveTheirShape) {
  const Generator& f = find_family("d_separation").generator;
  for (const char* structure : {"chain", "fork", "collider", "random", "mixed"}) {
    const Knobs knobs = resolve_knobs(f, 0, {{"structure", structure}, {"nodes", "9"}, {"conditioning_max", "3"}});
    int yes = 0;
    std::set<std::string> seen_structures;
    for (uint64_t i = 0; i < 400; ++i) {
      const auto task = make_task(f, knobs, 0, 3, i);
      ASSERT_EQ(cross_check(task), "") << structure << " task " << i;
      const Parsed p = parse(task.causal_graph());
      const std::string& s = task.causal_graph().structure();
      seen_structures.insert(s);
      for (int v = 0; v < 9; ++v) {
        if (s == "fork") ASSERT_LE(boost::in_degree(v, p.graph), 1u) << "an out-tree has no colliders";
        if (s == "collider") ASSERT_LE(boost::out_degree(v, p.graph), 1u) << "an in-tree has no forks";
      }
      if (s == "chain") ASSERT_EQ(p.edges.size(), 8u);
      if (s == "random") ASSERT_EQ(p.edges.size(), 13u);  // round(1.4 x 9)
      yes += task.label() == "Yes";
    }
    EXPECT_NEAR(yes / 400.0, 0.5, 0.08) << structure;
    if (std::string(structure) == "mixed") EXPECT_EQ(seen_structures.size(), 4u);
  }
}

TEST(DSeparation, ColliderDescendantKnobConditionsOnColliderDescendants) {
  const Generator& f = find_family("d_separation").generator;
  auto share = [&](const char* prob) {
    const Knobs knobs = resolve_knobs(f, 0, {{"nodes", "10"}, {"conditioning_min", "1"}, {"conditioning_max", "1"},
                                             {"collider_descendant_prob", prob}});
    int hits = 0;
    for (uint64_t i = 0; i < 400; ++i) {
      const auto task = make_task(f, knobs, 0, 4, i);
      const Parsed p = parse(task.causal_graph());
      const int z = p.query.given.at(0);
      for (int v = 0; v < 10; ++v)
        if (boost::in_degree(v, p.graph) >= 2 && (v == z || reachable_from(p.graph, v)[z])) {
          ++hits;
          break;
        }
    }
    return hits / 400.0;
  };
  EXPECT_GT(share("1"), share("0") + 0.1);
}

TEST(DSeparation, SymbolicFormatAndNameLengths) {
  const Generator& f = find_family("d_separation").generator;
  const Knobs knobs = resolve_knobs(f, 3, {{"format", "symbolic"}, {"name_min", "8"}, {"name_max", "10"}});
  for (uint64_t i = 0; i < 50; ++i) {
    const auto task = make_task(f, knobs, 3, 1, i);
    EXPECT_NE(task.prompt().find(" _||_ "), std::string::npos);
    const auto& first = task.causal_graph().edges(0);
    EXPECT_NE(task.prompt().find("\n" + first.from() + " -> " + first.to() + "\n"), std::string::npos);
    EXPECT_EQ(task.prompt().find(first.from() + " causes " + first.to() + "."), std::string::npos);
    for (const auto& n : task.causal_graph().nodes()) ASSERT_TRUE(n.size() >= 8 && n.size() <= 10) << n;
  }
}

TEST(DSeparation, ImpossibleLabelIsAClearError) {
  // A 3-node causal chain without flips or conditioning: every pair is d-connected, so "Yes" cannot be drawn.
  const Generator& f = find_family("d_separation").generator;
  const Knobs knobs = resolve_knobs(f, 0, {{"nodes", "3"}, {"structure", "chain"}, {"flip_prob", "0"},
                                           {"conditioning_max", "0"}});
  bool threw = false;
  for (uint64_t i = 0; i < 20 && !threw; ++i) {
    try {
      make_task(f, knobs, 0, 1, i);
    } catch (const KnobError& e) {
      threw = true;
      EXPECT_NE(std::string(e.what()).find("no question with answer Yes"), std::string::npos) << e.what();
    }
  }
  EXPECT_TRUE(threw);
  EXPECT_THROW(make_task(f, resolve_knobs(f, 0, {{"conditioning_min", "3"}, {"conditioning_max", "1"}}), 0, 1, 0),
               KnobError);
}

// Reads a format=axiomatic prompt back: "Are X and Y d-separated given {Z1, Z2}? [SOC] A causes B. ...
// [EOC]" to "X|Y|Z1,Z2|A>B;..." in statement order, or "unreadable ...".
std::string read_axiomatic_prompt(const std::string& prompt) {
  static const std::regex question(R"(^Are (\w+) and (\w+) d-separated given \{((?:\w+(?:, \w+)*)?)\}\? \[SOC\] (.*) \[EOC\]$)");
  static const std::regex statement(R"(^(\w+) causes (\w+)\.(?: |$))");
  std::smatch m;
  if (!std::regex_match(prompt, m, question)) return "unreadable question or markers";
  std::string given = m[3].str(), body = m[4].str();
  given.erase(std::remove(given.begin(), given.end(), ' '), given.end());
  std::string out = m[1].str() + "|" + m[2].str() + "|" + given + "|";
  std::smatch st;
  while (!body.empty()) {
    if (!std::regex_search(body, st, statement)) return "unreadable statement: " + body;
    out += st[1].str() + ">" + st[2].str() + ";";
    body = st.suffix().str();
  }
  return out;
}

TEST(DSeparation, AxiomaticFormatIsThePapersTerseInputForTheSameTask) {
  verity::testing::expect_format_states_the_same_task("d_separation", "axiomatic", read_axiomatic_prompt,
                                              [](const pb::Task& t) {
    const auto& g = t.causal_graph();
    std::string given;
    for (const auto& z : g.conditioning()) given += (given.empty() ? "" : ",") + z;
    std::string out = g.query_source() + "|" + g.query_target() + "|" + given + "|";
    for (const auto& e : g.edges()) out += e.from() + ">" + e.to() + ";";
    return out;
  }, 150);
  EXPECT_EQ(read_axiomatic_prompt("Are A and C d-separated given {B}? [SOC] A causes B. B causes C. [EOC]"),
            "A|C|B|A>B;B>C;");
  EXPECT_EQ(read_axiomatic_prompt("Are A and C d-separated given {}? [SOC] A causes B. [EOC]"), "A|C||A>B;");
}

}  // namespace
