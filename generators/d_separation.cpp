// d_separation: the d-separation axioms of "Teaching Transformers Causal Reasoning through Axiomatic
// Training". A random DAG stated as "X causes Y." sentences; question "Are X and Y d-separated given
// {Z...}?"; Yes/No, balanced. Each label is decided by two independent algorithms (moralised ancestral
// graph, Bayes-ball; solvers/dseparation.h) that must agree, else generation throws.
#include "generators/generators.h"

#include <algorithm>
#include <stdexcept>

#include "solvers/dseparation.h"
#include "solvers/graph.h"
#include "tasks/answer_extraction.h"

namespace verity {
namespace {

class DSeparationGenerator final : public Generator {
 public:
  std::string name() const override { return "d_separation"; }
  std::string summary() const override {
    return "Random causal DAG as 'X causes Y.' sentences; are X and Y d-separated given a set Z?";
  }
  std::vector<KnobSpec> knob_specs() const override;
  KnobMap level_knobs(int level) const override;
  std::string answer_format() const override { return "Yes or No"; }
  void generate(Rng& rng, const Knobs& knobs, pb::Task& task) const override;
  std::map<std::string, double> label_shares(const Knobs& knobs) const override;
  std::string question_key(const pb::Task& task) const override { return causal_question_key(task); }
  std::string seed_knobs(const Knobs& knobs) const override { return causal_seed_knobs(knobs); }
};

constexpr int kGraphAttempts = 60;     // fresh graphs before giving up on the drawn label
constexpr int kFixedGraphs = 40;       // of them, with the size and kind drawn first (draw_task)
constexpr int kCellRedraws = 64;       // draws of a (kind, size) cell that can give either label
constexpr int kQueryAttempts = 25;     // (X, Y, Z) draws per graph
constexpr size_t kTracePaths = 5;      // blocked paths spelled out in a Yes trace
constexpr size_t kPathSteps = 2000;    // DFS budget of the path enumeration (traces only)

struct Structure {
  std::string name;  // chain, fork, collider, random
  EdgeList edges;    // in statement order
};

// structure=mixed: one of the four, drawn once per task before the search for the drawn label (drawn
// per graph, the kinds that more easily give the label were kept more often, and the statement count,
// which tells a tree from a denser random DAG, told the label at level 3).
std::string draw_structure_name(Rng& rng, const Knobs& knobs) {
  static const std::vector<std::string> kMixed = {"chain", "fork", "collider", "random"};
  return knobs.get("structure") == "mixed" ? rng.pick(kMixed) : knobs.get("structure");
}

Structure build_structure(Rng& rng, const Knobs& knobs, const std::string& name) {
  const int n = static_cast<int>(knobs.get_int("nodes"));
  Structure s;
  s.name = name;
  if (s.name == "chain") s.edges = random_chain(rng, n, knobs.get_real("flip_prob"));
  else if (s.name == "fork") s.edges = random_tree(rng, n, /*towards_root=*/false);
  else if (s.name == "collider") s.edges = random_tree(rng, n, /*towards_root=*/true);
  else s.edges = random_dag(rng, n, knobs.get_real("edge_density"));
  if (knobs.get("order") == "shuffled") rng.shuffle(s.edges);
  return s;
}

// Nodes below a collider (a node with two or more parents): conditioning on one opens that collider.
std::vector<int> collider_descendants(const DiGraph& g) {
  const int n = static_cast<int>(boost::num_vertices(g));
  std::vector<bool> below(n, false);
  for (int v = 0; v < n; ++v) {
    if (boost::in_degree(v, g) < 2) continue;
    const auto reached = reachable_from(g, v);
    for (int u = 0; u < n; ++u) below[u] = below[u] || reached[u];
  }
  std::vector<int> out;
  for (int u = 0; u < n; ++u)
    if (below[u]) out.push_back(u);
  return out;
}

// The conditioning set's size, uniform over what the knobs allow. Drawn once per task, before the
// graphs and queries are searched for the drawn label: drawn per query, the sizes that more often
// give the label would be kept more often, and the set's size alone would tell the label (balanced
// accuracy 0.57-0.69 at levels 1-10 before).
int draw_conditioning_size(Rng& rng, const Knobs& knobs) {
  const int n = static_cast<int>(knobs.get_int("nodes"));
  const int most = std::min<int>(static_cast<int>(knobs.get_int("conditioning_max")), n - 2);
  return static_cast<int>(rng.uniform(std::min<int>(knobs.get_int("conditioning_min"), most), most));
}

DSepQuery draw_query(Rng& rng, const Knobs& knobs, const DiGraph& g, const std::vector<int>& opened_by, int size) {
  const int n = static_cast<int>(boost::num_vertices(g));
  DSepQuery q;
  q.x = static_cast<int>(rng.index(n));
  do q.y = static_cast<int>(rng.index(n)); while (q.y == q.x);
  std::vector<int> pool;
  for (int v : opened_by)
    if (v != q.x && v != q.y) pool.push_back(v);
  if (size > 0 && !pool.empty() && rng.chance(knobs.get_real("collider_descendant_prob")))
    q.given.push_back(rng.pick(pool));
  pool.clear();
  for (int v = 0; v < n; ++v)
    if (v != q.x && v != q.y && std::find(q.given.begin(), q.given.end(), v) == q.given.end()) pool.push_back(v);
  rng.shuffle(pool);
  for (size_t i = 0; static_cast<int>(q.given.size()) < size; ++i) q.given.push_back(pool[i]);
  std::sort(q.given.begin(), q.given.end());
  return q;
}

// The label by two algorithms that share no code; a disagreement is a bug, never a task.
bool decide(const DiGraph& g, const DSepQuery& q) {
  const bool moral = d_separated_moral(g, q);
  if (moral != d_separated_bayes_ball(g, q))
    throw std::logic_error("d_separation: moral-graph and Bayes-ball labellers disagree");
  return moral;
}

struct Drawn {
  Structure structure;
  DSepQuery query;
  bool separated = false;
};

// Whether a question of either label can have a conditioning set of `size` in a `structure` graph.
// Given nothing, every two nodes of a graph with one root have a common ancestor, so a d-connecting
// path: out-trees (fork) and random DAGs (random_dag grows one from an out-tree) never give Yes, nor
// does an unflipped chain (a directed path). No always can (an edge's two ends).
bool both_labels_possible(const std::string& structure, int size, const Knobs& knobs) {
  if (size > 0) return true;
  const double flip = knobs.get_real("flip_prob");
  return structure == "collider" || (structure == "chain" && flip != 0 && flip != 1);
}

// The label, the conditioning set's size and (structure=mixed) the kind are drawn first, independently,
// and only then graphs and queries until one has the label: a size or kind redrawn when the search
// fails would be kept more often with the label it more easily gives, and the size alone told the
// label (balanced accuracy 0.56-0.67 at levels 3-4). A (kind, size) cell that cannot give one of the
// labels is drawn again before the label matters, so both labels see the same cells. Only when
// kFixedGraphs graphs never give the label (custom knobs where it is rare) are the size and kind
// drawn again, every second graph, before giving up.
Drawn draw_task(Rng& rng, const Knobs& knobs) {
  Drawn d;
  d.separated = rng.chance(0.5);
  const int n = static_cast<int>(knobs.get_int("nodes"));
  int size = draw_conditioning_size(rng, knobs);
  std::string structure = draw_structure_name(rng, knobs);
  for (int redraw = 0; redraw < kCellRedraws && !both_labels_possible(structure, size, knobs); ++redraw) {
    size = draw_conditioning_size(rng, knobs);
    structure = draw_structure_name(rng, knobs);
  }
  for (int graph_attempt = 0; graph_attempt < kGraphAttempts; ++graph_attempt) {
    if (graph_attempt >= kFixedGraphs && graph_attempt % 2 == 0) {
      size = draw_conditioning_size(rng, knobs);
      structure = draw_structure_name(rng, knobs);
    }
    d.structure = build_structure(rng, knobs, structure);
    const DiGraph g = make_digraph(n, d.structure.edges);
    const auto opened_by = collider_descendants(g);
    for (int attempt = 0; attempt < kQueryAttempts; ++attempt) {
      d.query = draw_query(rng, knobs, g, opened_by, size);
      if (decide(g, d.query) == d.separated) return d;
    }
  }
  throw KnobError(std::string("d_separation: no question with answer ") + (d.separated ? "Yes" : "No") +
                  " found with these knobs (" + knobs.canonical() +
                  "); allow larger conditioning sets or another structure");
}

// ---- rendering ----

std::string set_text(const std::vector<std::string>& names, const std::vector<int>& given) {
  std::string out = "{";
  for (size_t i = 0; i < given.size(); ++i) out += (i ? ", " : "") + names[given[i]];
  return out + "}";
}

std::string path_text(const DiGraph& g, const std::vector<std::string>& names, const std::vector<int>& path) {
  std::string out = names[path[0]];
  for (size_t i = 1; i < path.size(); ++i)
    out += (boost::edge(path[i - 1], path[i], g).second ? " -> " : " <- ") + names[path[i]];
  return out;
}

std::string role_text(const PathNode& node, const std::vector<std::string>& names) {
  const std::string& v = names[node.node];
  switch (node.role) {
    case NodeRole::Collider:
      if (node.open_descendant >= 0)
        return v + " is a collider whose descendant " + names[node.open_descendant] +
               " is in the conditioning set, so it is open.";
      return node.blocks ? v + " is a collider that is not in the conditioning set and has no descendant in it, so "
                               "it blocks."
                         : v + " is a collider in the conditioning set, so it is open.";
    case NodeRole::Fork:
      return node.blocks ? v + " is a fork in the conditioning set, so it blocks."
                         : v + " is a fork not in the conditioning set, so it is open.";
    default:
      return node.blocks ? v + " is a chain node in the conditioning set, so it blocks."
                         : v + " is a chain node not in the conditioning set, so it is open.";
  }
}

void add_step(pb::Task& task, const std::string& text, const std::string& rule) {
  auto* step = task.add_trace();
  step->set_text(text);
  step->set_rule(rule);
}

// "No": one active path, node by node.
void write_connected_trace(const DiGraph& g, const std::vector<std::string>& names, const DSepQuery& q,
                           pb::Task& task) {
  const auto path = find_active_path(g, q, kPathSteps * 50);
  if (path.empty()) throw std::logic_error("d_separation: labelled d-connected but no active path found");
  add_step(task, "Consider the path " + path_text(g, names, path) + ".", "path");
  for (const PathNode& node : classify_path(g, path, q.given).interior) add_step(task, role_text(node, names), "open");
  add_step(task, "Every node on the path is open, so the path is active: " + names[q.x] + " and " + names[q.y] +
                     " are not d-separated given " + set_text(names, q.given) + ".",
           "d_connected");
}

// "Yes": the blocking node of each path (at most kTracePaths spelled out).
void write_separated_trace(const DiGraph& g, const std::vector<std::string>& names, const DSepQuery& q,
                           pb::Task& task) {
  const PathEnumeration all = enumerate_paths(g, q, kTracePaths, kPathSteps);
  if (all.complete && all.any_active)
    throw std::logic_error("d_separation: labelled d-separated but path enumeration found an active path");
  if (all.complete && all.path_count == 0)
    add_step(task, "No path of edges connects " + names[q.x] + " and " + names[q.y] + ".", "no_path");
  for (const PathReport& p : all.paths) {
    const PathNode& blocker = p.interior[p.first_blocker];
    add_step(task, "The path " + path_text(g, names, p.path) + " is blocked at " + names[blocker.node] + ": " +
                       role_text(blocker, names),
             "blocked");
  }
  if (!all.complete || all.path_count > all.paths.size())
    add_step(task, "Every other path is blocked as well: in the moral graph of the ancestors of " + names[q.x] + ", " +
                       names[q.y] + " and the conditioning set, removing " + set_text(names, q.given) +
                       " disconnects them.",
             "moral_graph");
  add_step(task, "No path is active, so " + names[q.x] + " and " + names[q.y] + " are d-separated given " +
                     set_text(names, q.given) + ".",
           "d_separated");
}

// natural, symbolic, or axiomatic: the paper's terse input ("Are A and C d-separated given {B}? [SOC] A
// causes B. B causes C. [EOC]", solvers/graph.h axiomatic_prompt), no introduction and no
// instruction. The rendering draws last, so every format states the same task.
std::string render_prompt(Rng& rng, const std::vector<std::string>& names, const EdgeList& edges,
                          const DSepQuery& q, const std::string& format) {
  const std::string z = set_text(names, q.given);
  if (format == "axiomatic") {
    std::vector<std::string> statements;
    for (const auto& [from, to] : edges) statements.push_back(names[from] + " causes " + names[to] + ".");
    return axiomatic_prompt("Are " + names[q.x] + " and " + names[q.y] + " d-separated given " + z + "?",
                            statements);
  }
  const bool natural = format == "natural";
  static const std::vector<std::string> kIntros = {
      "Here are the direct causal relations of a causal graph.", "Consider a causal DAG with these edges.",
      "Assume the following direct causal relationships, and no others."};
  std::string prompt = natural ? rng.pick(kIntros) + "\n" : "Causal DAG (X -> Y: X directly causes Y):\n";
  for (const auto& [from, to] : edges)
    prompt += natural ? names[from] + " causes " + names[to] + ".\n" : names[from] + " -> " + names[to] + "\n";
  prompt += natural ? "Are " + names[q.x] + " and " + names[q.y] + " d-separated given " +
                          (q.given.empty() ? "the empty set {}" : z) + "?\n"
                    : "Query: " + names[q.x] + " _||_ " + names[q.y] + " | " + z + " (d-separated)?\n";
  return prompt + answer_instruction("Yes or No", "Yes");
}

}  // namespace

std::vector<KnobSpec> DSeparationGenerator::knob_specs() const {
  return {
      KnobSpec::integer("nodes", "nodes in the DAG", 3, 200, 6),
      KnobSpec::choice("structure", "chain (flipped edges), fork (out-tree), collider (in-tree), random DAG, or "
                       "mixed (one of the four per task)", {"chain", "fork", "collider", "random", "mixed"}, "random"),
      KnobSpec::real("flip_prob", "chain: probability that each edge points backwards", 0, 1, 0.5),
      KnobSpec::real("edge_density", "random: edges per node (m = round(density x n), at least n-1)", 0, 10, 1.4),
      KnobSpec::integer("conditioning_min", "smallest conditioning set", 0, 20, 0),
      KnobSpec::integer("conditioning_max", "largest conditioning set (capped at nodes-2)", 0, 20, 2),
      KnobSpec::real("collider_descendant_prob", "chance that Z includes a descendant of a collider", 0, 1, 0.25),
      KnobSpec::choice("order", "order the statements are listed in", {"sequential", "shuffled"}, "sequential"),
      KnobSpec::integer("name_min", "shortest node name (characters)", 1, 16, 1),
      KnobSpec::integer("name_max", "longest node name (characters)", 1, 16, 3),
      KnobSpec::choice("format", "rendering: natural, symbolic, or axiomatic (the paper's terse one-line input, no "
                       "instruction)", {"natural", "symbolic", "axiomatic"}, "natural")};
}

KnobMap DSeparationGenerator::level_knobs(int level) const {
  struct Row { int nodes; const char* structure; const char* density; int z_min, z_max; const char* order; };
  static const Row kLadder[] = {
      {4, "chain", "1.4", 0, 1, "sequential"},  {5, "chain", "1.4", 0, 2, "sequential"},
      {6, "mixed", "1.4", 0, 2, "sequential"},  {6, "random", "1.4", 0, 2, "sequential"},
      {8, "random", "1.4", 1, 3, "sequential"}, {10, "chain", "1.4", 1, 3, "shuffled"},
      {10, "random", "1.4", 1, 3, "shuffled"},  {12, "random", "2", 1, 4, "shuffled"},
      {15, "random", "2", 2, 5, "shuffled"},    {20, "random", "2", 2, 6, "shuffled"}};
  const Row& r = kLadder[level - 1];
  return {{"nodes", std::to_string(r.nodes)}, {"structure", r.structure}, {"edge_density", r.density},
          {"conditioning_min", std::to_string(r.z_min)}, {"conditioning_max", std::to_string(r.z_max)},
          {"order", r.order}};
}

void DSeparationGenerator::generate(Rng& rng, const Knobs& knobs, pb::Task& task) const {
  if (knobs.get_int("name_min") > knobs.get_int("name_max"))
    throw KnobError("knob name_min=" + knobs.get("name_min") + " is above name_max=" + knobs.get("name_max") +
                    ": set name_min <= name_max");
  if (knobs.get_int("conditioning_min") > knobs.get_int("conditioning_max"))
    throw KnobError("knob conditioning_min=" + knobs.get("conditioning_min") + " is above conditioning_max=" +
                    knobs.get("conditioning_max") + ": set conditioning_min <= conditioning_max");
  const int n = static_cast<int>(knobs.get_int("nodes"));
  const auto names = random_names(rng, n, static_cast<int>(knobs.get_int("name_min")),
                                  static_cast<int>(knobs.get_int("name_max")));
  const Drawn d = draw_task(rng, knobs);
  const DiGraph g = make_digraph(n, d.structure.edges);

  auto* instance = task.mutable_causal_graph();
  for (const auto& name : names) instance->add_nodes(name);
  for (const auto& [from, to] : d.structure.edges) {
    auto* e = instance->add_edges();
    e->set_from(names[from]);
    e->set_to(names[to]);
  }
  instance->set_query_source(names[d.query.x]);
  instance->set_query_target(names[d.query.y]);
  for (int z : d.query.given) instance->add_conditioning(names[z]);
  instance->set_structure(d.structure.name);

  task.set_prompt(render_prompt(rng, names, d.structure.edges, d.query, knobs.get("format")));
  task.set_label(d.separated ? "Yes" : "No");
  task.set_answer(task.label());
  if (d.separated) write_separated_trace(g, names, d.query, task);
  else write_connected_trace(g, names, d.query, task);
}

// draw_task() draws the answer first: d-separated (Yes) or not (No) with equal odds.
std::map<std::string, double> DSeparationGenerator::label_shares(const Knobs& /*knobs*/) const {
  return {{"Yes", 0.5}, {"No", 0.5}};
}

namespace generators {
const Generator& d_separation() {
  static const DSeparationGenerator generator;
  return generator;
}
}  // namespace generators

}  // namespace verity
