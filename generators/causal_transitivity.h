// causal_transitivity: the transitivity axiom of "Teaching Transformers Causal Reasoning through
// Axiomatic Training". Premises "X causes Y." over a chain (edges possibly flipped) or a branching
// DAG, statements in sequential / reversed / shuffled order; question "Does A cause B?"; Yes/No by
// reachability. No questions are hard negatives: reversed pairs and unrelated nodes (other branches).
#pragma once
#include "tasks/family.h"

namespace verity {

class CausalTransitivity final : public Family {
 public:
  std::string name() const override { return "causal_transitivity"; }
  std::string summary() const override {
    return "Causal chain or branching DAG stated as 'X causes Y.' sentences; does A cause B (transitively)?";
  }
  std::vector<KnobSpec> knob_specs() const override;
  KnobMap level_knobs(int level) const override;
  std::string answer_format() const override { return "Yes or No"; }
  void generate(Rng& rng, const Knobs& knobs, pb::Task& task) const override;
  pb::Score verify(const pb::Task& task, std::string_view completion) const override;
};

}  // namespace verity
