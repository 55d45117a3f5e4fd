// inference_chains: the rule patterns of LogicBench and Multi-LogiEval (modus ponens / tollens,
// hypothetical and disjunctive syllogism, constructive / destructive / bidirectional dilemma,
// contraposition, De Morgan, universal instantiation, existential generalisation) chained so each
// conclusion feeds the next rule, depth 1..7, with distractor premises. Does the conclusion follow?
// Yes/No, balanced; No tasks are the valid chain broken by a plausible fallacy (affirming the
// consequent, denying the antecedent, ...) or a missing link. Labels decided by Z3.
#pragma once
#include "tasks/family.h"

namespace verity {

class InferenceChains final : public Family {
 public:
  std::string name() const override { return "inference_chains"; }
  std::string summary() const override {
    return "Chained inference rules (MP, MT, HS, DS, dilemmas, De Morgan, UI, EG); does the conclusion follow?";
  }
  std::vector<KnobSpec> knob_specs() const override;
  KnobMap level_knobs(int level) const override;
  std::string answer_format() const override { return "Yes or No"; }
  void generate(Rng& rng, const Knobs& knobs, pb::Task& task) const override;
  pb::Score verify(const pb::Task& task, std::string_view completion) const override;
};

}  // namespace verity
