// d_separation: the d-separation axioms of "Teaching Transformers Causal Reasoning through Axiomatic
// Training". A random DAG stated as "X causes Y." sentences; question "Are X and Y d-separated given
// {Z...}?"; Yes/No, balanced. Each label is decided by two independent algorithms (moralised ancestral
// graph, Bayes-ball; tasks/dseparation.h) that must agree, else generation throws.
#pragma once
#include "tasks/family.h"

namespace verity {

class DSeparation final : public Family {
 public:
  std::string name() const override { return "d_separation"; }
  std::string summary() const override {
    return "Random causal DAG as 'X causes Y.' sentences; are X and Y d-separated given a set Z?";
  }
  std::vector<KnobSpec> knob_specs() const override;
  KnobMap level_knobs(int level) const override;
  std::string answer_format() const override { return "Yes or No"; }
  void generate(Rng& rng, const Knobs& knobs, pb::Task& task) const override;
  pb::Score verify(const pb::Task& task, std::string_view completion) const override;
};

}  // namespace verity
