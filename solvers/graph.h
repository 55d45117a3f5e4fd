// Directed-graph helpers over Boost.Graph for the causal families.
#pragma once
#include <boost/graph/adjacency_list.hpp>

#include <string>
#include <utility>
#include <vector>

#include "schemas/verity.pb.h"
#include "tasks/rng.h"

namespace verity {

using DiGraph = boost::adjacency_list<boost::vecS, boost::vecS, boost::bidirectionalS>;

DiGraph make_digraph(int node_count, const std::vector<std::pair<int, int>>& edges);
// reached[v] is true when v is reachable from source by a directed path of length >= 1.
std::vector<bool> reachable_from(const DiGraph& g, int source);
// Nodes that reach target by a directed path of length >= 1.
std::vector<bool> reaching(const DiGraph& g, int target);
// A shortest directed path source -> ... -> target (node list), empty if none.
std::vector<int> shortest_path(const DiGraph& g, int source, int target);

// `count` distinct names of letters and digits, lengths in [min_len, max_len], starting with a letter
// (so they never read as numbers).
std::vector<std::string> random_names(Rng& rng, int count, int min_len, int max_len);

// The question a causal-graph task asks, whatever its wording or statement order: the edge set, the
// query pair and the conditioning set (both causal families' question_key).
std::string causal_question_key(const pb::Task& task);

}  // namespace verity
