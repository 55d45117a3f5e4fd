// `verity experiment axiomatic`: the central experiment of "Teaching Transformers Causal
// Reasoning through Axiomatic Training" (Vashishtha et al., 2024) end to end, plus a GRPO step.
// Torch-free header (cli/ and tests/ use it).
//
// Stages, each recorded as done in <out>/state.json when its files are written, so `resume` skips the
// finished ones and continues an interrupted training run from its last checkpoint:
//   data              build the transitivity and d-separation recipes (train + eval), hash every question
//                     of each training split and each evaluation split, assert they do not overlap
//   train_<model>     SFT from scratch on the transitivity training split, one model per positional
//                     encoding (none, learned, sinusoidal, rope) and optionally one with the trace
//   eval_<model>      every split of the transitivity evaluation recipe (greedy decoding, verifiers)
//   dsep_train / dsep_eval   the same for d-separation (one model, the chosen positional encoding)
//   grpo_train / grpo_eval   GRPO with the curriculum on longer chains from the chosen SFT checkpoint
//   report            results.md, results.json, accuracy_vs_length*.svg, configs/*.json
#pragma once
#include <cstdint>
#include <iosfwd>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace verity::experiments {

struct ExperimentOptions {
  std::string experiment = "axiomatic";
  std::string preset = "cpu";           // smoke | cpu | gpu, or a JSON file of the same shape
  std::string out_dir = "results/axiomatic";
  std::string datasets_dir = "datasets";  // where the recipes are
  uint64_t seed = 1;
  bool resume = false;
  int threads = 1;                      // torch intra-op threads for training
  double scale_eval = -1;               // fraction of every evaluation split to evaluate; < 0: the preset's
  int stop_after = -1;                  // hidden (tests): return after running this many stages
};

// The named preset as JSON (every setting of the run; written to <out>/configs/preset.json).
nlohmann::json experiment_preset(const std::string& name);

// Runs (or resumes) the experiment; returns true when every stage is done (false: stopped by stop_after).
bool run_experiment(const ExperimentOptions& options, std::ostream& log);

// A candidate starting model for GRPO (and the encoding of the d-separation model): its greedy accuracy
// on held-out tasks of its own training distribution (chains of 3-6 nodes, not in the training split)
// and the share of its most frequent answer there.
struct StartCandidate {
  std::string model;
  double in_distribution_accuracy = 0;
  double majority_answer_share = 1;
};
// The in-distribution labels are balanced (Yes/No drawn with p = 0.5), so a model giving one answer to at
// least this share of them is a constant-answer model, whatever its accuracy.
inline constexpr double kConstantAnswerShare = 0.9;
// The candidate with the highest in-distribution accuracy among those that are not constant-answer models
// (the first on ties); "" when every candidate is one. Not the mean over the longer chains: a model at
// chance that answers one way everywhere scores ~0.5 there and beat every real learner of the first runs.
std::string choose_starting_model(const std::vector<StartCandidate>& candidates);

// The longest chain length L of `lengths` (ascending, with their accuracies) such that every length up
// to L reaches `threshold`; 0 when the shortest does not.
int longest_length_at(const std::vector<std::pair<int, double>>& lengths, double threshold);

}  // namespace verity::experiments
