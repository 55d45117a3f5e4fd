// causal_transitivity: the transitivity axiom of "Teaching Transformers Causal Reasoning through
// Axiomatic Training". Premises "X causes Y." over a chain (edges possibly flipped) or a branching
// DAG, statements in sequential / reversed / shuffled order; question "Does A cause B?"; Yes/No by
// reachability. No questions are hard negatives: reversed pairs and unrelated nodes (other branches).
#include "generators/generators.h"

#include "solvers/dseparation.h"
#include "solvers/graph.h"
#include "tasks/answer_extraction.h"
#include "tasks/concat.h"

namespace verity {
namespace {

class CausalTransitivityGenerator final : public Generator {
 public:
  std::string name() const override { return "causal_transitivity"; }
  std::string summary() const override {
    return "Causal chain or branching DAG stated as 'X causes Y.' sentences; does A cause B (transitively)?";
  }
  std::vector<KnobSpec> knob_specs() const override;
  KnobMap level_knobs(int level) const override;
  std::string answer_format() const override { return "Yes or No"; }
  void generate(Rng& rng, const Knobs& knobs, pb::Task& task) const override;
  std::map<std::string, double> label_shares(const Knobs& knobs) const override;
  std::string question_key(const pb::Task& task) const override { return causal_question_key(task); }
  std::string seed_knobs(const Knobs& knobs) const override { return causal_seed_knobs(knobs); }
};

struct CausalGraph {
  std::vector<std::string> names;
  EdgeList edges;  // in statement order
};

// A chain (edges flipped with flip_prob) or a branching DAG (round(branching_factor x n) edges
// oriented along a random topological order), with statements listed in the requested order.
// flip_prob applies to chains only: a branching DAG is already oriented along a random order.
CausalGraph build_graph(Rng& rng, const Knobs& knobs) {
  const int n = static_cast<int>(knobs.get_int("chain_length"));
  CausalGraph graph;
  graph.names = random_names(rng, n, static_cast<int>(knobs.get_int("name_min")),
                             static_cast<int>(knobs.get_int("name_max")));
  graph.edges = knobs.get("structure") == "branching" ? random_dag(rng, n, knobs.get_real("branching_factor"))
                                                      : random_chain(rng, n, knobs.get_real("flip_prob"));
  const std::string& order = knobs.get("order");
  if (order == "reversed") std::reverse(graph.edges.begin(), graph.edges.end());
  if (order == "shuffled") rng.shuffle(graph.edges);
  return graph;
}

// Yes = a directed path source -> target; the two kinds of No are the hard negatives of the paper's
// tests: "reversed" (the path runs target -> source, e.g. B before A on a chain) and "unrelated"
// (neither causes the other, e.g. nodes in different branches).
enum class QueryKind { Path, Reversed, Unrelated };
const char* kind_name(QueryKind kind) {
  return kind == QueryKind::Path ? "path" : kind == QueryKind::Reversed ? "reversed" : "unrelated";
}

struct Query {
  int source = -1, target = -1;
  QueryKind kind = QueryKind::Path;
  bool causes() const { return kind == QueryKind::Path; }
};

using Closure = std::vector<std::vector<bool>>;  // closure[s][t]: s reaches t

Closure transitive_closure(const DiGraph& g, int n) {
  Closure closure;
  for (int s = 0; s < n; ++s) closure.push_back(reachable_from(g, s));
  return closure;
}

bool fits(const Closure& c, int s, int t, QueryKind kind) {
  if (s == t) return false;
  if (kind == QueryKind::Path) return c[s][t];
  if (kind == QueryKind::Reversed) return c[t][s];
  return !c[s][t] && !c[t][s];
}

// Draws an ordered pair uniformly among the pairs of `kind`; false when there is none.
bool draw_pair(Rng& rng, const Closure& c, QueryKind kind, Query& q) {
  const int n = static_cast<int>(c.size());
  uint64_t count = 0;
  for (int s = 0; s < n; ++s)
    for (int t = 0; t < n; ++t) count += fits(c, s, t, kind);
  if (count == 0) return false;
  uint64_t pick = rng.index(count);
  for (int s = 0; s < n; ++s)
    for (int t = 0; t < n; ++t)
      if (fits(c, s, t, kind) && pick-- == 0) {
        q = {s, t, kind};
        return true;
      }
  return false;
}

// The label is drawn first (balanced Yes/No); a No is reversed or unrelated with equal odds, falling
// back to the other kind when the graph has none (a plain chain has no unrelated pairs).
Query pick_query(Rng& rng, const DiGraph& g, int n) {
  const Closure closure = transitive_closure(g, n);
  Query q;
  if (rng.chance(0.5)) {
    draw_pair(rng, closure, QueryKind::Path, q);  // any graph with an edge has a path
    return q;
  }
  const QueryKind first = rng.chance(0.5) ? QueryKind::Reversed : QueryKind::Unrelated;
  const QueryKind second = first == QueryKind::Reversed ? QueryKind::Unrelated : QueryKind::Reversed;
  if (!draw_pair(rng, closure, first, q)) draw_pair(rng, closure, second, q);
  return q;
}

std::string statement(const std::string& from, const std::string& to, bool natural) {
  return natural ? from + " causes " + to + "." : from + " -> " + to;
}

void write_trace(const CausalGraph& graph, const DiGraph& g, const Query& q, pb::Task& task) {
  const auto& names = graph.names;
  auto statement_index = [&](int from, int to) {
    for (size_t i = 0; i < graph.edges.size(); ++i)
      if (graph.edges[i] == std::make_pair(from, to)) return static_cast<int>(i);
    return -1;
  };
  if (q.causes()) {
    const auto path = shortest_path(g, q.source, q.target);
    for (size_t i = 0; i + 1 < path.size(); ++i) {
      auto* step = task.add_trace();
      step->set_text(statement(names[path[i]], names[path[i + 1]], true));
      step->add_cites(concat("p", std::to_string(statement_index(path[i], path[i + 1]) + 1)));
      step->set_rule("premise");
    }
    auto* step = task.add_trace();
    step->set_text("By transitivity, " + names[q.source] + " causes " + names[q.target] + ".");
    step->set_rule("transitivity");
    return;
  }
  const auto reached = reachable_from(g, q.source);
  std::string effects;
  int listed = 0;
  for (size_t v = 0; v < reached.size(); ++v) {
    if (!reached[v]) continue;
    if (listed++ == 50) {
      effects += ", ...";
      break;
    }
    effects += (effects.empty() ? "" : ", ") + names[v];
  }
  auto* step = task.add_trace();
  step->set_text(names[q.source] + " causes, directly or through others, only: " +
                 (effects.empty() ? std::string("nothing") : effects) + ". " + names[q.target] +
                 " is not among them, so " + names[q.source] + " does not cause " + names[q.target] + "." +
                 (q.kind == QueryKind::Reversed
                      ? " (The path runs the other way: " + names[q.target] + " causes " + names[q.source] + ".)"
                      : ""));
  step->set_rule("no_path");
}

// Three renderings of one instance (the rendering draws last, so every format states the same task):
// natural (an introduction, one statement per line, the answer instruction), symbolic ("X -> Y"), and
// axiomatic (solvers/graph.h axiomatic_prompt; for models trained from scratch on it, answering in tags).
std::string render_prompt(Rng& rng, const CausalGraph& graph, const Query& q, const std::string& format) {
  const auto& a = graph.names[q.source];
  const auto& b = graph.names[q.target];
  if (format == "axiomatic") {
    std::vector<std::string> statements;
    for (const auto& [from, to] : graph.edges) statements.push_back(statement(graph.names[from], graph.names[to], true));
    return axiomatic_prompt("Does " + a + " cause " + b + "?", statements);
  }
  const bool natural = format == "natural";
  static const std::vector<std::string> kIntros = {"Here are some causal facts.", "Consider these causal statements.",
                                                   "Assume the following causal relationships hold."};
  std::string prompt = natural ? rng.pick(kIntros) + "\n" : "Causal edges (X -> Y: X directly causes Y):\n";
  for (const auto& [from, to] : graph.edges) prompt += statement(graph.names[from], graph.names[to], natural) + "\n";
  prompt += natural ? "Does " + a + " cause " + b + "?\n" : "Query: does " + a + " cause " + b + " (a directed path)?\n";
  prompt += answer_instruction("Yes or No", "Yes");
  return prompt;
}

}  // namespace

std::vector<KnobSpec> CausalTransitivityGenerator::knob_specs() const {
  return {KnobSpec::integer("chain_length", "nodes in the chain (or in the branching DAG)", 2, 1000, 5),
          KnobSpec::real("flip_prob", "probability that each chain edge points backwards", 0, 1, 0),
          KnobSpec::choice("order", "order the statements are listed in", {"sequential", "reversed", "shuffled"},
                           "sequential"),
          KnobSpec::integer("name_min", "shortest node name (characters)", 1, 16, 1),
          KnobSpec::integer("name_max", "longest node name (characters)", 1, 16, 3),
          KnobSpec::choice("format", "rendering: natural, symbolic, or axiomatic (the paper's terse one-line input, no "
                           "instruction)", {"natural", "symbolic", "axiomatic"}, "natural"),
          KnobSpec::choice("structure", "a chain, or a random branching DAG", {"chain", "branching"}, "chain"),
          KnobSpec::real("branching_factor", "branching DAG: edges per node (m = round(bf x n), at least n-1)", 0,
                         10, 1.4)};
}

KnobMap CausalTransitivityGenerator::level_knobs(int level) const {
  struct Row { int length; const char* flip; const char* order; };
  static const Row kLadder[] = {{3, "0", "sequential"},   {4, "0", "sequential"},    {5, "0", "sequential"},
                                {6, "0.5", "sequential"},  {7, "0.5", "shuffled"},    {9, "0.5", "shuffled"},
                                {12, "0.5", "shuffled"},   {15, "0.5", "shuffled"},   {20, "0.5", "shuffled"},
                                {50, "0.5", "shuffled"}};
  const Row& r = kLadder[level - 1];
  return {{"chain_length", std::to_string(r.length)}, {"flip_prob", r.flip}, {"order", r.order}};
}

void CausalTransitivityGenerator::generate(Rng& rng, const Knobs& knobs, pb::Task& task) const {
  if (knobs.get_int("name_min") > knobs.get_int("name_max"))
    throw KnobError("knob name_min=" + knobs.get("name_min") + " is above name_max=" + knobs.get("name_max") +
                    ": set name_min <= name_max");
  const CausalGraph graph = build_graph(rng, knobs);
  const int n = static_cast<int>(graph.names.size());
  const DiGraph g = make_digraph(n, graph.edges);
  const Query q = pick_query(rng, g, n);

  auto* instance = task.mutable_causal_graph();
  for (const auto& name : graph.names) instance->add_nodes(name);
  for (const auto& [from, to] : graph.edges) {
    auto* e = instance->add_edges();
    e->set_from(graph.names[from]);
    e->set_to(graph.names[to]);
  }
  instance->set_query_source(graph.names[q.source]);
  instance->set_query_target(graph.names[q.target]);
  instance->set_structure(knobs.get("structure"));
  (*task.mutable_meta())["query_kind"] = kind_name(q.kind);

  task.set_prompt(render_prompt(rng, graph, q, knobs.get("format")));
  task.set_label(q.causes() ? "Yes" : "No");
  task.set_answer(task.label());
  write_trace(graph, g, q, task);
}

// pick_query() draws the answer first: a causing pair (Yes) or not (No) with equal odds.
std::map<std::string, double> CausalTransitivityGenerator::label_shares(const Knobs& /*knobs*/) const {
  return {{"Yes", 0.5}, {"No", 0.5}};
}

namespace generators {
const Generator& causal_transitivity() {
  static const CausalTransitivityGenerator generator;
  return generator;
}
}  // namespace generators

}  // namespace verity
