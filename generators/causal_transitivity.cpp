#include "generators/causal_transitivity.h"

#include "tasks/answer_extraction.h"
#include "tasks/graph.h"

namespace verity {
namespace {

struct Chain {
  std::vector<std::string> names;
  std::vector<std::pair<int, int>> edges;  // in statement order
};

Chain build_chain(Rng& rng, const Knobs& knobs) {
  const int n = static_cast<int>(knobs.get_int("chain_length"));
  Chain chain;
  chain.names = random_names(rng, n, static_cast<int>(knobs.get_int("name_min")),
                             static_cast<int>(knobs.get_int("name_max")));
  const double flip = knobs.get_real("flip_prob");
  for (int i = 0; i + 1 < n; ++i) {
    if (rng.chance(flip)) {
      chain.edges.emplace_back(i + 1, i);
    } else {
      chain.edges.emplace_back(i, i + 1);
    }
  }
  const std::string& order = knobs.get("order");
  if (order == "reversed") std::reverse(chain.edges.begin(), chain.edges.end());
  if (order == "shuffled") rng.shuffle(chain.edges);
  return chain;
}

struct Query {
  int source = -1, target = -1;
  bool causes = false;
};

// Picks a Yes or No pair (the target label is drawn first, so labels are balanced).
// Half of the No questions are hard negatives: the target causes the source, not the reverse.
Query pick_query(Rng& rng, const DiGraph& g, int n) {
  Query q;
  q.causes = rng.chance(0.5);
  const bool hard_negative = !q.causes && rng.chance(0.5);
  for (int attempt = 0;; ++attempt) {
    const int source = static_cast<int>(rng.index(n));
    const auto reached = q.causes || !hard_negative ? reachable_from(g, source) : reaching(g, source);
    std::vector<int> options;
    for (int v = 0; v < n; ++v) {
      if (v == source) continue;
      const bool fits = q.causes || hard_negative ? bool(reached[v]) : !reached[v];
      if (fits) options.push_back(v);
    }
    if (options.empty()) continue;  // a chain always has an edge, so some source has options
    q.source = source;
    q.target = rng.pick(options);
    return q;
  }
}

std::string statement(const std::string& from, const std::string& to, bool natural) {
  return natural ? from + " causes " + to + "." : from + " -> " + to;
}

void write_trace(const Chain& chain, const DiGraph& g, const Query& q, pb::Task& task) {
  const auto& names = chain.names;
  auto statement_index = [&](int from, int to) {
    for (size_t i = 0; i < chain.edges.size(); ++i)
      if (chain.edges[i] == std::make_pair(from, to)) return static_cast<int>(i);
    return -1;
  };
  if (q.causes) {
    const auto path = shortest_path(g, q.source, q.target);
    for (size_t i = 0; i + 1 < path.size(); ++i) {
      auto* step = task.add_trace();
      step->set_text(statement(names[path[i]], names[path[i + 1]], true));
      step->add_cites("p" + std::to_string(statement_index(path[i], path[i + 1]) + 1));
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
                 " is not among them, so " + names[q.source] + " does not cause " + names[q.target] + ".");
  step->set_rule("no_path");
}

std::string render_prompt(Rng& rng, const Chain& chain, const Query& q, bool natural) {
  static const std::vector<std::string> kIntros = {"Here are some causal facts.", "Consider these causal statements.",
                                                   "Assume the following causal relationships hold."};
  std::string prompt = natural ? rng.pick(kIntros) + "\n" : "Causal edges (X -> Y: X directly causes Y):\n";
  for (const auto& [from, to] : chain.edges) prompt += statement(chain.names[from], chain.names[to], natural) + "\n";
  const auto& a = chain.names[q.source];
  const auto& b = chain.names[q.target];
  prompt += natural ? "Does " + a + " cause " + b + "?\n" : "Query: does " + a + " cause " + b + " (a directed path)?\n";
  prompt += answer_instruction("Yes or No", "Yes");
  return prompt;
}

}  // namespace

std::vector<KnobSpec> CausalTransitivity::knob_specs() const {
  return {KnobSpec::integer("chain_length", "nodes in the causal chain", 2, 1000, 5),
          KnobSpec::real("flip_prob", "probability that each edge points backwards", 0, 1, 0),
          KnobSpec::choice("order", "order the statements are listed in", {"sequential", "reversed", "shuffled"},
                           "sequential"),
          KnobSpec::integer("name_min", "shortest node name (characters)", 1, 16, 1),
          KnobSpec::integer("name_max", "longest node name (characters)", 1, 16, 3),
          KnobSpec::choice("format", "rendering of the statements", {"natural", "symbolic"}, "natural")};
}

KnobMap CausalTransitivity::level_knobs(int level) const {
  struct Row { int length; const char* flip; const char* order; };
  static const Row kLadder[] = {{3, "0", "sequential"},   {4, "0", "sequential"},    {5, "0", "sequential"},
                                {6, "0.5", "sequential"},  {7, "0.5", "shuffled"},    {9, "0.5", "shuffled"},
                                {12, "0.5", "shuffled"},   {15, "0.5", "shuffled"},   {20, "0.5", "shuffled"},
                                {50, "0.5", "shuffled"}};
  const Row& r = kLadder[level - 1];
  return {{"chain_length", std::to_string(r.length)}, {"flip_prob", r.flip}, {"order", r.order}};
}

void CausalTransitivity::generate(Rng& rng, const Knobs& knobs, pb::Task& task) const {
  if (knobs.get_int("name_min") > knobs.get_int("name_max"))
    throw KnobError("knob name_min=" + knobs.get("name_min") + " is above name_max=" + knobs.get("name_max") +
                    ": set name_min <= name_max");
  const Chain chain = build_chain(rng, knobs);
  const int n = static_cast<int>(chain.names.size());
  const DiGraph g = make_digraph(n, chain.edges);
  const Query q = pick_query(rng, g, n);

  auto* instance = task.mutable_causal_graph();
  for (const auto& name : chain.names) instance->add_nodes(name);
  for (const auto& [from, to] : chain.edges) {
    auto* e = instance->add_edges();
    e->set_from(chain.names[from]);
    e->set_to(chain.names[to]);
  }
  instance->set_query_source(chain.names[q.source]);
  instance->set_query_target(chain.names[q.target]);
  instance->set_structure("chain");

  task.set_prompt(render_prompt(rng, chain, q, knobs.get("format") == "natural"));
  task.set_label(q.causes ? "Yes" : "No");
  task.set_answer(task.label());
  write_trace(chain, g, q, task);
}

}  // namespace verity
