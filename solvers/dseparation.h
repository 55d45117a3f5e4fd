// Causal DAG helpers shared by the causal families (causal_transitivity, d_separation), and
// d-separation deciders that share no code with each other, so one can cross-check the other:
//   1. the moralised ancestral graph criterion (Lauritzen), on Boost.Graph;
//   2. Bayes-ball / "Reachable" (Koller & Friedman, Alg. 3.1), a walk over (node, direction) states;
//   3. enumeration of undirected simple paths with the chain / fork / collider blocking rules
//      (exponential in the worst case, so bounded; used for gold traces and in tests).
#pragma once
#include <cstddef>
#include <string>
#include <utility>
#include <vector>

#include "solvers/graph.h"
#include "tasks/rng.h"

namespace verity {

using EdgeList = std::vector<std::pair<int, int>>;  // (from, to)

// ---- random causal structures (nodes 0..n-1; node numbers carry no order, names are drawn separately) ----

// Chain 0 - 1 - ... - n-1; each edge points backwards (i+1 -> i) with probability flip_prob.
EdgeList random_chain(Rng& rng, int n, double flip_prob);
// Weakly connected DAG with round(edges_per_node * n) edges, clamped to [n-1, n(n-1)/2]: a random
// recursive tree over a random topological order (so every node appears in some statement) plus
// forward edges drawn uniformly from the remaining pairs (Erdős–Rényi style). Acyclic because every
// edge points forward in that order.
EdgeList random_dag(Rng& rng, int n, double edges_per_node);
// Random recursive tree: edges point away from the root (forks) or towards it (colliders).
EdgeList random_tree(Rng& rng, int n, bool towards_root);

// ---- d-separation ----

struct DSepQuery {
  int x = -1, y = -1;
  std::vector<int> given;  // conditioning set Z (never contains x or y)
};

bool d_separated_moral(const DiGraph& g, const DSepQuery& q);
bool d_separated_bayes_ball(const DiGraph& g, const DSepQuery& q);

// How a node on a path behaves given Z.
enum class NodeRole { Chain, Fork, Collider };
struct PathNode {
  int node = -1;
  NodeRole role = NodeRole::Chain;
  bool blocks = false;
  int open_descendant = -1;  // a collider opened by a descendant in Z: that descendant
};
struct PathReport {
  std::vector<int> path;           // x ... y
  std::vector<PathNode> interior;  // path[1 .. size-2] with their roles
  int first_blocker = -1;          // index into interior, -1 = the path is active
};
// Classifies each interior node of an undirected path by the blocking rules.
PathReport classify_path(const DiGraph& g, const std::vector<int>& path, const std::vector<int>& given);

struct PathEnumeration {
  std::vector<PathReport> paths;  // at most max_paths kept
  size_t path_count = 0;          // paths seen (all of them when complete)
  bool complete = false;          // false when max_steps ran out
  bool any_active = false;
};
// All undirected simple paths x .. y (DFS, at most max_steps node expansions).
PathEnumeration enumerate_paths(const DiGraph& g, const DSepQuery& q, size_t max_paths, size_t max_steps);
// One active path x .. y (DFS that never extends a blocked prefix); empty when none or out of steps.
std::vector<int> find_active_path(const DiGraph& g, const DSepQuery& q, size_t max_steps);

}  // namespace verity
