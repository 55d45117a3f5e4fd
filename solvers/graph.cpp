#include "solvers/graph.h"

#include <boost/graph/breadth_first_search.hpp>
#include <boost/graph/reverse_graph.hpp>
#include <algorithm>
#include <stdexcept>
#include <unordered_set>

namespace verity {
namespace {

// BFS tree parents from Boost.Graph's breadth_first_search; -1 marks "not reached".
// The source gets a parent only when a cycle leads back to it (paths have length >= 1).
template <class Graph>
std::vector<int> bfs_parents(const Graph& g, int source) {
  const auto n = boost::num_vertices(g);
  std::vector<typename boost::graph_traits<Graph>::vertex_descriptor> pred(n);
  for (size_t v = 0; v < n; ++v) pred[v] = v;
  boost::breadth_first_search(
      g, source,
      boost::visitor(boost::make_bfs_visitor(boost::record_predecessors(pred.data(), boost::on_tree_edge()))));
  std::vector<int> parent(n, -1);
  for (size_t v = 0; v < n; ++v)
    if (pred[v] != v) parent[v] = static_cast<int>(pred[v]);
  for (size_t v = 0; v < n && parent[source] < 0; ++v) {
    if (static_cast<int>(v) != source && parent[v] < 0) continue;
    for (auto [it, end] = boost::adjacent_vertices(v, g); it != end; ++it)
      if (static_cast<int>(*it) == source) parent[source] = static_cast<int>(v);
  }
  return parent;
}

}  // namespace

DiGraph make_digraph(int node_count, const std::vector<std::pair<int, int>>& edges) {
  DiGraph g(node_count);
  for (const auto& [from, to] : edges) boost::add_edge(from, to, g);
  return g;
}

std::vector<bool> reachable_from(const DiGraph& g, int source) {
  const auto parent = bfs_parents(g, source);
  std::vector<bool> reached(parent.size());
  for (size_t v = 0; v < parent.size(); ++v) reached[v] = parent[v] >= 0;
  return reached;
}

std::vector<bool> reaching(const DiGraph& g, int target) {
  const auto reversed = boost::make_reverse_graph(g);
  const auto parent = bfs_parents(reversed, target);
  std::vector<bool> reached(parent.size());
  for (size_t v = 0; v < parent.size(); ++v) reached[v] = parent[v] >= 0;
  return reached;
}

std::vector<int> shortest_path(const DiGraph& g, int source, int target) {
  const auto parent = bfs_parents(g, source);
  if (parent[target] < 0 || source == target) return {};
  std::vector<int> path = {target};
  for (int v = parent[target]; v != source; v = parent[v]) path.push_back(v);
  path.push_back(source);
  return {path.rbegin(), path.rend()};
}

std::vector<std::string> random_names(Rng& rng, int count, int min_len, int max_len) {
  static const std::string kLetters = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
  static const std::string kAlnum = kLetters + "0123456789";
  if (min_len > max_len) throw std::invalid_argument("name length: minimum is above maximum");
  std::vector<std::string> names;
  std::unordered_set<std::string> used;
  for (int guard = 0; static_cast<int>(names.size()) < count; ++guard) {
    if (guard > count * 1000) throw std::runtime_error("cannot draw enough distinct names of that length");
    const int len = static_cast<int>(rng.uniform(min_len, max_len));
    std::string name(1, kLetters[rng.index(kLetters.size())]);
    while (static_cast<int>(name.size()) < len) name += kAlnum[rng.index(kAlnum.size())];
    if (used.insert(name).second) names.push_back(std::move(name));
  }
  return names;
}

std::string causal_question_key(const pb::Task& task) {
  auto join_sorted = [](std::vector<std::string> items) {
    std::sort(items.begin(), items.end());
    std::string out;
    for (const auto& i : items) out += i + ";";
    return out;
  };
  const auto& g = task.causal_graph();
  std::vector<std::string> edges;
  for (const auto& e : g.edges()) edges.push_back(e.from() + ">" + e.to());
  return task.family() + "|" + join_sorted(edges) + "|" + g.query_source() + "?" + g.query_target() + "|" +
         join_sorted({g.conditioning().begin(), g.conditioning().end()});
}

std::string axiomatic_prompt(const std::string& question, const std::vector<std::string>& statements) {
  std::string prompt = question + " [SOC]";
  for (const auto& s : statements) prompt += " " + s;
  return prompt + " [EOC]";
}

std::string causal_seed_knobs(const Knobs& knobs) {
  std::string canonical = knobs.canonical();
  const std::string axiomatic = "format=axiomatic;";
  const auto at = canonical.find(axiomatic);
  if (at != std::string::npos && (at == 0 || canonical[at - 1] == ';'))
    canonical.replace(at, axiomatic.size(), "format=natural;");
  return canonical;
}

}  // namespace verity
