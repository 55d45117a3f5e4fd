// propositional_entailment: premises over n propositions; does a conclusion follow?
// Labels entailed / contradicted / neither, decided by Z3, balanced by drawing the target label first.
#pragma once
#include "tasks/family.h"

namespace verity {

class PropositionalEntailment final : public Family {
 public:
  std::string name() const override { return "propositional_entailment"; }
  std::string summary() const override {
    return "Premises in propositional logic; is the conclusion entailed, contradicted, or neither?";
  }
  std::vector<KnobSpec> knob_specs() const override;
  KnobMap level_knobs(int level) const override;
  std::string answer_format() const override { return "one word: entailed, contradicted or neither"; }
  void generate(Rng& rng, const Knobs& knobs, pb::Task& task) const override;
  pb::Score verify(const pb::Task& task, std::string_view completion) const override;
};

}  // namespace verity
