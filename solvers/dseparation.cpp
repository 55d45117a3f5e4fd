#include "solvers/dseparation.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <iterator>
#include <tuple>
#include <unordered_set>

namespace verity {
namespace {

std::vector<int> random_order(Rng& rng, int n) {
  std::vector<int> order(n);
  for (int i = 0; i < n; ++i) order[i] = i;
  rng.shuffle(order);
  return order;
}

// Sorts edges by the topological positions of their ends: the "sequential" statement order.
void sort_along(const std::vector<int>& order, EdgeList& edges) {
  std::vector<int> position(order.size());
  for (size_t k = 0; k < order.size(); ++k) position[order[k]] = static_cast<int>(k);
  std::sort(edges.begin(), edges.end(), [&](const auto& a, const auto& b) {
    const int fa = std::min(position[a.first], position[a.second]), fb = std::min(position[b.first], position[b.second]);
    const int ta = std::max(position[a.first], position[a.second]), tb = std::max(position[b.first], position[b.second]);
    return std::tie(fa, ta) < std::tie(fb, tb);
  });
}

// Tree edges over `order`: node order[k] hangs below a uniformly chosen earlier node.
EdgeList recursive_tree(Rng& rng, const std::vector<int>& order, bool towards_root) {
  EdgeList edges;
  for (size_t k = 1; k < order.size(); ++k) {
    const int parent = order[rng.index(k)];
    if (towards_root) edges.emplace_back(order[k], parent);
    else edges.emplace_back(parent, order[k]);
  }
  return edges;
}

bool has_edge(const DiGraph& g, int from, int to) { return boost::edge(from, to, g).second; }

std::vector<int> neighbours(const DiGraph& g, int v) {
  std::vector<int> out;
  for (auto [it, end] = boost::adjacent_vertices(v, g); it != end; ++it) out.push_back(static_cast<int>(*it));
  for (auto [it, end] = boost::inv_adjacent_vertices(v, g); it != end; ++it) out.push_back(static_cast<int>(*it));
  return out;
}

}  // namespace

EdgeList random_chain(Rng& rng, int n, double flip_prob) {
  EdgeList edges;
  for (int i = 0; i + 1 < n; ++i) {
    if (rng.chance(flip_prob)) edges.emplace_back(i + 1, i);
    else edges.emplace_back(i, i + 1);
  }
  return edges;
}

EdgeList random_dag(Rng& rng, int n, double edges_per_node) {
  const std::vector<int> order = random_order(rng, n);
  EdgeList edges = recursive_tree(rng, order, /*towards_root=*/false);
  const long all_pairs = static_cast<long>(n) * (n - 1) / 2;
  const long wanted = std::clamp(std::lround(edges_per_node * n), static_cast<long>(n - 1), all_pairs);
  // Remaining forward pairs (i < j in topological position) not yet used, as position pairs.
  std::unordered_set<long> used;
  std::vector<int> position(n);
  for (int k = 0; k < n; ++k) position[order[k]] = k;
  for (const auto& [from, to] : edges) used.insert(static_cast<long>(position[from]) * n + position[to]);
  const long missing = wanted - static_cast<long>(edges.size());
  if (missing > 0 && all_pairs <= 8192) {  // small graphs: draw without replacement from the free pairs
    std::vector<std::pair<int, int>> free_pairs;
    for (int i = 0; i < n; ++i)
      for (int j = i + 1; j < n; ++j)
        if (!used.count(static_cast<long>(i) * n + j)) free_pairs.emplace_back(i, j);
    for (long k = 0; k < missing; ++k) {
      std::swap(free_pairs[k], free_pairs[k + rng.index(free_pairs.size() - k)]);
      edges.emplace_back(order[free_pairs[k].first], order[free_pairs[k].second]);
    }
  } else {  // large sparse graphs: rejection sampling is cheap
    while (static_cast<long>(edges.size()) < wanted) {
      int i = static_cast<int>(rng.index(n)), j = static_cast<int>(rng.index(n));
      if (i == j) continue;
      if (i > j) std::swap(i, j);
      if (used.insert(static_cast<long>(i) * n + j).second) edges.emplace_back(order[i], order[j]);
    }
  }
  sort_along(order, edges);
  return edges;
}

EdgeList random_tree(Rng& rng, int n, bool towards_root) {
  const std::vector<int> order = random_order(rng, n);
  EdgeList edges = recursive_tree(rng, order, towards_root);
  sort_along(order, edges);
  return edges;
}

// ---- 1. moralised ancestral graph ----
// X and Y are d-separated by Z iff Z separates them in the moral graph of the ancestral set of {X, Y} u Z.
// The generator asks this of every query it draws, so it is done in a few flat arrays: the ancestral
// set by one backward walk from all the roots, the moral graph's components by union-find (a node's
// links to its parents and between its parents are unions), instead of a Boost graph built per query.
bool d_separated_moral(const DiGraph& g, const DSepQuery& q) {
  const int n = static_cast<int>(boost::num_vertices(g));
  thread_local std::vector<char> ancestral, removed;  // per-thread buffers: no allocation per query
  thread_local std::vector<int> todo, root;
  ancestral.assign(n, 0);
  removed.assign(n, 0);
  todo.assign(q.given.begin(), q.given.end());
  todo.push_back(q.x);
  todo.push_back(q.y);
  while (!todo.empty()) {
    const int v = todo.back();
    todo.pop_back();
    if (ancestral[v]) continue;
    ancestral[v] = 1;
    for (auto [it, end] = boost::inv_adjacent_vertices(v, g); it != end; ++it) todo.push_back(static_cast<int>(*it));
  }
  for (int z : q.given) removed[z] = 1;
  root.resize(n);  // union-find forest over the moral graph's nodes
  for (int v = 0; v < n; ++v) root[v] = v;
  const auto find = [&](int v) {
    while (root[v] != v) v = root[v] = root[root[v]];
    return v;
  };
  const auto link = [&](int a, int b) {
    if (!removed[a] && !removed[b]) root[find(a)] = find(b);
  };
  for (int v = 0; v < n; ++v) {
    if (!ancestral[v]) continue;
    const auto [first, end] = boost::inv_adjacent_vertices(v, g);
    for (auto it = first; it != end; ++it) {
      link(static_cast<int>(*it), v);
      for (auto other = std::next(it); other != end; ++other)  // marry the parents
        link(static_cast<int>(*it), static_cast<int>(*other));
    }
  }
  return find(q.x) != find(q.y);
}

// ---- 2. Bayes-ball ----
// Walks (node, direction) states from X: "up" = arrived from a child, "down" = arrived from a parent.
// A collider passes the ball iff it is an ancestor of Z or in Z; any other node passes iff not in Z.
bool d_separated_bayes_ball(const DiGraph& g, const DSepQuery& q) {
  const int n = static_cast<int>(boost::num_vertices(g));
  enum Direction { Up = 0, Down = 1 };
  thread_local std::vector<char> in_z, z_or_ancestor;  // per-thread buffers: no allocation per query
  thread_local std::vector<int> stack;
  thread_local std::vector<std::array<bool, 2>> visited;
  thread_local std::vector<std::pair<int, Direction>> todo;
  in_z.assign(n, 0);
  z_or_ancestor.assign(n, 0);
  stack.clear();
  for (int z : q.given) {
    in_z[z] = true;
    stack.push_back(z);
  }
  while (!stack.empty()) {  // ancestors of Z by walking parent links (no Boost BFS: stays independent)
    const int v = stack.back();
    stack.pop_back();
    if (z_or_ancestor[v]) continue;
    z_or_ancestor[v] = true;
    for (auto [it, end] = boost::inv_adjacent_vertices(v, g); it != end; ++it) stack.push_back(static_cast<int>(*it));
  }
  visited.assign(n, {false, false});
  todo.assign(1, {q.x, Up});
  while (!todo.empty()) {
    const int v = todo.back().first;  // plain variables: lambdas below capture them (clang 14 cannot
    const Direction d = todo.back().second;  // capture structured bindings)
    todo.pop_back();
    if (visited[v][d]) continue;
    visited[v][d] = true;
    if (v == q.y && !in_z[v]) return false;
    auto push_parents = [&] {
      for (auto [it, end] = boost::inv_adjacent_vertices(v, g); it != end; ++it) todo.push_back({int(*it), Up});
    };
    auto push_children = [&] {
      for (auto [it, end] = boost::adjacent_vertices(v, g); it != end; ++it) todo.push_back({int(*it), Down});
    };
    if (d == Up && !in_z[v]) {
      push_parents();
      push_children();
    } else if (d == Down) {
      if (!in_z[v]) push_children();
      if (z_or_ancestor[v]) push_parents();
    }
  }
  return true;
}

// ---- 3. path enumeration ----

namespace {

// What the blocking rules need to know about Z, computed once per query: membership, and for each
// node the Z member at or below it (a collider there is open), found by backward searches from Z.
struct BlockingContext {
  std::vector<bool> in_z;
  std::vector<int> opener;  // -1: no Z member at or below the node
};

BlockingContext blocking_context(const DiGraph& g, const std::vector<int>& given) {
  const int n = static_cast<int>(boost::num_vertices(g));
  BlockingContext c{std::vector<bool>(n, false), std::vector<int>(n, -1)};
  for (int z : given) {
    c.in_z[z] = true;
    c.opener[z] = z;
  }
  for (int z : given) {
    const auto above = reaching(g, z);  // every node with z below it
    for (int v = 0; v < n; ++v)
      if (above[v] && c.opener[v] < 0) c.opener[v] = z;
  }
  return c;
}

PathNode classify_node(const DiGraph& g, int prev, int v, int next, const BlockingContext& c) {
  PathNode node;
  node.node = v;
  const bool from_prev = has_edge(g, prev, v), from_next = has_edge(g, next, v);
  node.role = from_prev && from_next ? NodeRole::Collider : (!from_prev && !from_next ? NodeRole::Fork : NodeRole::Chain);
  if (node.role == NodeRole::Collider) {
    if (!c.in_z[v]) node.open_descendant = c.opener[v];
    node.blocks = c.opener[v] < 0;
  } else {
    node.blocks = c.in_z[v];
  }
  return node;
}

PathReport classify_with(const DiGraph& g, const std::vector<int>& path, const BlockingContext& c) {
  PathReport report;
  report.path = path;
  for (size_t i = 1; i + 1 < path.size(); ++i) {
    report.interior.push_back(classify_node(g, path[i - 1], path[i], path[i + 1], c));
    if (report.interior.back().blocks && report.first_blocker < 0)
      report.first_blocker = static_cast<int>(report.interior.size()) - 1;
  }
  return report;
}

// Depth-first walk over undirected simple paths from q.x; `visit` sees each complete path to q.y and
// returns false to stop. With prune_blocked, a prefix whose last interior node blocks is not extended.
template <class Visit>
bool walk_paths(const DiGraph& g, const DSepQuery& q, const BlockingContext& c, bool prune_blocked, size_t max_steps,
                Visit visit) {
  std::vector<int> path = {q.x};
  std::vector<bool> on_path(boost::num_vertices(g), false);
  on_path[q.x] = true;
  size_t steps = 0;
  bool stopped = false;
  auto dfs = [&](auto& self, int v) -> void {
    for (int next : neighbours(g, v)) {
      if (stopped) return;
      if (on_path[next]) continue;
      if (++steps > max_steps) {
        stopped = true;
        return;
      }
      path.push_back(next);
      const size_t k = path.size();
      const bool blocked = prune_blocked && k >= 3 && classify_node(g, path[k - 3], path[k - 2], path[k - 1], c).blocks;
      if (!blocked) {
        if (next == q.y) {
          if (!visit(path)) stopped = true;
        } else {
          on_path[next] = true;
          self(self, next);
          on_path[next] = false;
        }
      }
      path.pop_back();
    }
  };
  dfs(dfs, q.x);
  return steps <= max_steps;
}

}  // namespace

PathReport classify_path(const DiGraph& g, const std::vector<int>& path, const std::vector<int>& given) {
  return classify_with(g, path, blocking_context(g, given));
}

PathEnumeration enumerate_paths(const DiGraph& g, const DSepQuery& q, size_t max_paths, size_t max_steps) {
  PathEnumeration result;
  const BlockingContext context = blocking_context(g, q.given);
  result.complete = walk_paths(g, q, context, /*prune_blocked=*/false, max_steps, [&](const std::vector<int>& path) {
    PathReport report = classify_with(g, path, context);
    ++result.path_count;
    result.any_active = result.any_active || report.first_blocker < 0;
    if (result.paths.size() < max_paths) result.paths.push_back(std::move(report));
    return true;
  });
  return result;
}

std::vector<int> find_active_path(const DiGraph& g, const DSepQuery& q, size_t max_steps) {
  std::vector<int> found;
  walk_paths(g, q, blocking_context(g, q.given), /*prune_blocked=*/true, max_steps, [&](const std::vector<int>& path) {
    found = path;
    return false;
  });
  return found;
}

}  // namespace verity
