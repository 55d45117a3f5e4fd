// Directed-graph helpers over Boost.Graph for the causal families.
#pragma once
#include <boost/graph/adjacency_list.hpp>

#include <string>
#include <utility>
#include <vector>

#include "schemas/verity.pb.h"
#include "tasks/knobs.h"
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

// The question a causal-graph task asks, whatever its wording, format or statement order: the edge set,
// the query pair and the conditioning set (both causal families' question_key). The node names stay in
// it on purpose, unlike the other families' keys: these are the axiomatic-training tasks, where the
// names are what the model must match (name length is a knob and an out-of-distribution split), and up
// to renaming their low levels hold almost nothing: causal_transitivity 6, 12 and 20 distinct questions
// at levels 1-3 (chains of 3-5 nodes), d_separation 144 and 1,120 at levels 1-2, while the paper's
// training recipe (datasets/axiomatic_transitivity_train.json) asks for 15,000 chains of 3 nodes.
std::string causal_question_key(const pb::Task& task);

// Both causal families' format=axiomatic prompt: the terse input of the axiomatic-training paper as its
// released training script builds it, the question first, then the statements between the markers
// [SOC] and [EOC] ("Does A cause C? [SOC] A causes B. B causes C. [EOC]"); no introduction and no answer
// instruction. Question first: a left-to-right model reads the chain knowing which pair is asked about.
std::string axiomatic_prompt(const std::string& question, const std::vector<std::string>& statements);
// Both causal families' Generator::seed_knobs: format=axiomatic seeds as format=natural, so task i of a
// recipe part is the same graph and query in either rendering (natural and symbolic seed as before).
std::string causal_seed_knobs(const Knobs& knobs);

}  // namespace verity
