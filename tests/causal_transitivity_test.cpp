#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <set>
#include <sstream>

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

// Kahn's algorithm over the stored statements: true when they form a DAG.
bool acyclic(const pb::CausalGraphInstance& g) {
  std::map<std::string, int> indegree;
  std::map<std::string, std::vector<std::string>> out;
  for (const auto& n : g.nodes()) indegree[n] = 0;
  for (const auto& e : g.edges()) {
    ++indegree[e.to()];
    out[e.from()].push_back(e.to());
  }
  std::vector<std::string> ready;
  for (const auto& [n, d] : indegree)
    if (d == 0) ready.push_back(n);
  size_t removed = 0;
  while (!ready.empty()) {
    const std::string n = ready.back();
    ready.pop_back();
    ++removed;
    for (const auto& m : out[n])
      if (--indegree[m] == 0) ready.push_back(m);
  }
  return removed == indegree.size();
}

// Shape of the graph: n-1 statements for a chain; for a branching DAG round(bf x n) edges (clamped to
// [n-1, n(n-1)/2]), no repeated edge, no cycle, every node in some statement.
std::string check_shape(const pb::Task& task) {
  const auto& g = task.causal_graph();
  const long n = g.nodes_size();
  if (g.structure() == "chain")
    return g.edges_size() == n - 1 ? "" : "a chain of n nodes has n-1 statements";
  const long expected = std::clamp(std::lround(std::stod(task.knobs().at("branching_factor")) * n), n - 1, n * (n - 1) / 2);
  if (g.edges_size() != expected) return "branching DAG has " + std::to_string(g.edges_size()) + " edges, expected " +
                                         std::to_string(expected);
  std::set<std::pair<std::string, std::string>> distinct;
  std::set<std::string> mentioned;
  for (const auto& e : g.edges()) {
    distinct.insert({std::min(e.from(), e.to()), std::max(e.from(), e.to())});
    mentioned.insert(e.from());
    mentioned.insert(e.to());
  }
  if (static_cast<long>(distinct.size()) != g.edges_size()) return "an edge repeats";
  if (static_cast<long>(mentioned.size()) != n) return "a node appears in no statement";
  return acyclic(g) ? "" : "the branching graph has a cycle";
}

// The No kinds recorded in meta match the graph: reversed = the path runs target -> source.
std::string check_query_kind(const pb::Task& task, bool yes) {
  const auto& g = task.causal_graph();
  const std::string& kind = task.meta().at("query_kind");
  const bool back = reaches(g, g.query_target(), g.query_source());
  if (yes != (kind == "path")) return "query_kind " + kind + " with label " + task.label();
  if (!yes && back != (kind == "reversed")) return "query_kind " + kind + " but reverse reachability is " +
                                                   std::to_string(back);
  return "";
}

std::string cross_check(const pb::Task& task) {
  const auto& g = task.causal_graph();
  const bool yes = reaches(g, g.query_source(), g.query_target());
  if ((yes ? "Yes" : "No") != task.label()) return "BFS disagrees with label " + task.label();
  if (auto shape = check_shape(task); !shape.empty()) return shape;
  if (auto kind = check_query_kind(task, yes); !kind.empty()) return kind;
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
  const Generator& f = find_family("causal_transitivity").generator;
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
  const Generator& f = find_family("causal_transitivity").generator;
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

// Branching DAGs at the paper's sizes (n = 5, 8, 10, 12; bf 1.4 and 2.0): gold verifies, wrong answers
// fail, labels balanced, the label agrees with the independent BFS, shapes as specified.
TEST(CausalTransitivity, BranchingPropertiesOverThousandsOfSeeds) {
  const Generator& f = find_family("causal_transitivity").generator;
  for (const char* bf : {"1.4", "2"}) {
    for (int n : {5, 8, 10, 12}) {
      const Knobs knobs = resolve_knobs(f, 0, {{"structure", "branching"}, {"chain_length", std::to_string(n)},
                                               {"branching_factor", bf}, {"order", "shuffled"}});
      int yes = 0, unrelated = 0;
      const int count = 1000;
      std::set<std::string> ids;
      for (int i = 0; i < count; ++i) {
        const auto task = make_task(f, knobs, 0, 5, i);
        ASSERT_TRUE(ids.insert(task.id()).second);
        ASSERT_EQ(cross_check(task), "") << "bf " << bf << " n " << n << " task " << i;
        ASSERT_EQ(score_completion(task, "<answer>" + task.answer() + "</answer>").reward(), 1.0);
        const std::string wrong = task.answer() == "Yes" ? "No" : "Yes";
        ASSERT_EQ(score_completion(task, "<answer>" + wrong + "</answer>").reward(), 0.0);
        yes += task.label() == "Yes";
        unrelated += task.meta().at("query_kind") == "unrelated";
      }
      EXPECT_NEAR(yes / double(count), 0.5, 0.05) << "bf " << bf << " n " << n;
      // Up to half of the No questions are nodes in different branches (the rest are reversed pairs);
      // small dense DAGs (n = 5, bf 2: all 10 pairs) are total orders with no unrelated pairs at all.
      EXPECT_LT(unrelated / double(count), 0.30) << "bf " << bf << " n " << n;
      if (n >= 8) EXPECT_GT(unrelated / double(count), 0.15) << "bf " << bf << " n " << n;
    }
  }
}

TEST(CausalTransitivity, ReversedNegativeTraceSaysThePathRunsBack) {
  const Generator& f = find_family("causal_transitivity").generator;
  const Knobs knobs = resolve_knobs(f, 4, {});
  int seen = 0;
  for (uint64_t i = 0; i < 200; ++i) {
    const auto task = make_task(f, knobs, 4, 2, i);
    if (task.meta().at("query_kind") != "reversed") continue;
    ++seen;
    const auto& g = task.causal_graph();
    EXPECT_NE(task.trace(0).text().find("the other way: " + g.query_target() + " causes " + g.query_source()),
              std::string::npos)
        << task.trace(0).text();
  }
  EXPECT_GT(seen, 20);
}

TEST(CausalTransitivity, BadNameRangeIsAClearError) {
  const Generator& f = find_family("causal_transitivity").generator;
  const Knobs knobs = resolve_knobs(f, 0, {{"name_min", "5"}, {"name_max", "2"}});
  EXPECT_THROW(make_task(f, knobs, 0, 1, 0), KnobError);
}

// Reads a format=axiomatic prompt back: "Does A cause B? [SOC] X causes Y. ... [EOC]" word by word (names
// are letters and digits only), to "A?B|X>Y;..." in statement order, or "unreadable ..." naming the word.
std::string read_axiomatic_prompt(const std::string& prompt) {
  std::vector<std::string> w;
  for (size_t i = 0, j; i <= prompt.size(); i = j + 1) {
    j = std::min(prompt.find(' ', i), prompt.size());
    w.push_back(prompt.substr(i, j - i));
  }
  auto is_name = [](const std::string& n) {
    return !n.empty() && std::all_of(n.begin(), n.end(), [](unsigned char c) { return std::isalnum(c); });
  };
  auto strip = [](const std::string& word, char last) {
    return !word.empty() && word.back() == last ? word.substr(0, word.size() - 1) : std::string();
  };
  if (w.size() < 9 || w[0] != "Does" || !is_name(w[1]) || w[2] != "cause" || !is_name(strip(w[3], '?')) ||
      w[4] != "[SOC]" || w.back() != "[EOC]" || (w.size() - 6) % 3 != 0)
    return "unreadable question or markers";
  std::string out = w[1] + "?" + strip(w[3], '?') + "|";
  for (size_t k = 5; k + 1 < w.size(); k += 3) {
    if (!is_name(w[k]) || w[k + 1] != "causes" || !is_name(strip(w[k + 2], '.')))
      return "unreadable statement at word " + std::to_string(k);
    out += w[k] + ">" + strip(w[k + 2], '.') + ";";
  }
  return out;
}

TEST(CausalTransitivity, AxiomaticFormatIsThePapersTerseInputForTheSameTask) {
  verity::testing::expect_format_states_the_same_task("causal_transitivity", "axiomatic", read_axiomatic_prompt,
                                              [](const pb::Task& t) {
    const auto& g = t.causal_graph();
    std::string out = g.query_source() + "?" + g.query_target() + "|";
    for (const auto& e : g.edges()) out += e.from() + ">" + e.to() + ";";
    return out;
  });
  const Generator& f = find_family("causal_transitivity").generator;
  const auto task = make_task(f, resolve_knobs(f, 1, {{"format", "axiomatic"}}), 1, 5, 0);
  EXPECT_EQ(task.prompt().find('\n'), std::string::npos);       // one line
  EXPECT_EQ(task.prompt().find("answer"), std::string::npos);    // no instruction
  EXPECT_EQ(read_axiomatic_prompt("Does A cause C? [SOC] A causes B. B causes C. [EOC]"), "A?C|A>B;B>C;");
  EXPECT_EQ(read_axiomatic_prompt("A causes B. B causes C. Does A cause C?").rfind("unreadable", 0), 0u);
}

// ---- round trip: every format read back by a parser written for the test ----

// What a prompt states: the query and the statements in order. Names are one word of letters and
// digits, so each line has one split into words and one reading.
struct ReadGraph {
  std::string source, target;
  std::vector<std::pair<std::string, std::string>> edges;
};

std::vector<std::string> words(const std::string& line) {
  std::vector<std::string> out;
  std::istringstream in(line);
  for (std::string w; in >> w;) out.push_back(w);
  return out;
}
bool node_name(const std::string& n) {
  return !n.empty() && std::isalpha(static_cast<unsigned char>(n[0])) &&
         std::all_of(n.begin(), n.end(), [](unsigned char c) { return std::isalnum(c); });
}
std::string without(const std::string& word, const std::string& tail) {
  return word.size() > tail.size() && word.compare(word.size() - tail.size(), tail.size(), tail) == 0
             ? word.substr(0, word.size() - tail.size())
             : std::string();
}

// natural: an introduction, "X causes Y." lines, "Does A cause B?", the instruction; symbolic: a
// header, "X -> Y" lines, "Query: does A cause B (a directed path)?"; axiomatic: one line. "" on success.
std::string read_causal_prompt(const std::string& prompt, const std::string& format, ReadGraph& out) {
  if (format == "axiomatic") {
    const std::string read = read_axiomatic_prompt(prompt);
    if (read.rfind("unreadable", 0) == 0) return read;
    const size_t q = read.find('?'), bar = read.find('|');
    out.source = read.substr(0, q);
    out.target = read.substr(q + 1, bar - q - 1);
    std::istringstream in(read.substr(bar + 1));
    for (std::string e; std::getline(in, e, ';');) out.edges.emplace_back(e.substr(0, e.find('>')), e.substr(e.find('>') + 1));
    return "";
  }
  static const std::set<std::string> kIntros = {"Here are some causal facts.", "Consider these causal statements.",
                                                "Assume the following causal relationships hold."};
  std::vector<std::string> lines;
  std::istringstream in(prompt);
  for (std::string l; std::getline(in, l);) lines.push_back(l);
  const bool natural = format == "natural";
  if (lines.empty() || !(natural ? kIntros.count(lines[0]) > 0 : lines[0] == "Causal edges (X -> Y: X directly causes Y):"))
    return "header";
  size_t k = 1;
  for (; k < lines.size(); ++k) {
    const auto w = words(lines[k]);
    if (w.size() == 3 && node_name(w[0]) && w[1] == (natural ? "causes" : "->") &&
        node_name(natural ? without(w[2], ".") : w[2]))
      out.edges.emplace_back(w[0], natural ? without(w[2], ".") : w[2]);
    else
      break;
  }
  if (k == lines.size()) return "no question";
  const auto w = words(lines[k]);
  const bool question = natural ? w.size() == 4 && w[0] == "Does" && w[2] == "cause"
                                : w.size() == 8 && w[0] == "Query:" && w[1] == "does" && w[3] == "cause" &&
                                      w[5] == "(a" && w[6] == "directed" && w[7] == "path)?";
  if (!question) return "unreadable question: " + lines[k];
  out.source = natural ? w[1] : w[2];
  out.target = natural ? without(w[3], "?") : w[4];
  if (!node_name(out.source) || !node_name(out.target)) return "question names: " + lines[k];
  if (k + 2 != lines.size() || lines[k + 1].rfind("Answer with Yes or No.", 0) != 0) return "instruction";
  return "";
}

// "" when the prompt reads back to the instance (edges in statement order, query) and the test's BFS
// on what was read gives the label.
std::string causal_round_trip(const pb::Task& task) {
  ReadGraph read;
  if (auto why = read_causal_prompt(task.prompt(), task.knobs().at("format"), read); !why.empty()) return why;
  const auto& g = task.causal_graph();
  if (read.source != g.query_source() || read.target != g.query_target()) return "query read differs";
  if (static_cast<int>(read.edges.size()) != g.edges_size()) return "statement count read differs";
  pb::CausalGraphInstance mine;
  for (int i = 0; i < g.edges_size(); ++i) {
    if (read.edges[i] != std::make_pair(g.edges(i).from(), g.edges(i).to())) return "statement " + std::to_string(i + 1) + " read differs";
    auto* e = mine.add_edges();
    e->set_from(read.edges[i].first);
    e->set_to(read.edges[i].second);
  }
  const bool yes = reaches(mine, read.source, read.target);
  return (yes ? "Yes" : "No") == task.answer() ? "" : "BFS on the read statements says " + std::string(yes ? "Yes" : "No");
}

// 2,000 tasks per level and format (natural, symbolic, axiomatic), chains and branching DAGs.
TEST(CausalTransitivity, EveryFormatReadsBackToItsInstanceAndLabel) {
  for (int level = 1; level <= 10; ++level)
    for (const char* format : {"natural", "symbolic", "axiomatic"})
      for (const char* structure : {"chain", "branching"})
        verity::testing::check_every_task("causal_transitivity", level, {{"format", format}, {"structure", structure}},
                                          1000, [](const pb::Task& t, uint64_t) { return causal_round_trip(t); });
}

// The label does not show on the surface: prompt length, statement count, count of numbers (digits in
// names) and the query names' lengths tell Yes from No no better than chance (chance_band) at every
// level, 2,000 tasks each.
TEST(CausalTransitivity, SurfaceFeaturesAreNoShortcut) {
  using verity::testing::Shortcut;
  auto digits = [](const std::string& s) {
    return static_cast<double>(std::count_if(s.begin(), s.end(), [](unsigned char c) { return std::isdigit(c); }));
  };
  const std::vector<Shortcut> shortcuts = {
      {"prompt length", [](const pb::Task& t) { return static_cast<double>(t.prompt().size()); }},
      {"statements", [](const pb::Task& t) { return static_cast<double>(t.causal_graph().edges_size()); }},
      {"digits in the prompt", [digits](const pb::Task& t) { return digits(t.prompt()); }},
      {"asked cause's name length", [](const pb::Task& t) { return static_cast<double>(t.causal_graph().query_source().size()); }},
      {"asked effect's name length", [](const pb::Task& t) { return static_cast<double>(t.causal_graph().query_target().size()); }}};
  for (int level = 1; level <= 10; ++level)
    verity::testing::expect_features_at_chance(verity::testing::sample_tasks("causal_transitivity", level, {}, 2000),
                                               [](const pb::Task& t) { return t.label() == "Yes"; }, shortcuts,
                                               "level " + std::to_string(level));
}

// One question whatever the statements' order or the format; the names are part of it (see
// solvers/graph.h causal_question_key for why).
TEST(CausalTransitivity, QuestionKeyIgnoresStatementOrderNotNames) {
  verity::testing::expect_causal_key_ignores_order_not_names("causal_transitivity");
}

}  // namespace
