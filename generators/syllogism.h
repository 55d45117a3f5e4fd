// syllogism: categorical syllogisms (moods A/E/I/O, all four figures) and, at higher levels, chained
// sorites, negated terms ("non-X"), distractor premises and belief-bias conflicts with real category
// names. Question: does the conclusion follow? Yes/No, balanced. Validity is decided by Z3 over a
// monadic first-order encoding (uninterpreted sort, one unary predicate per category, quantifiers;
// existential import = every named category is non-empty).
#pragma once
#include "tasks/family.h"

namespace verity {

class Syllogism final : public Family {
 public:
  std::string name() const override { return "syllogism"; }
  std::string summary() const override {
    return "Categorical syllogisms and sorites (All/No/Some/Some-not); does the conclusion follow?";
  }
  std::vector<KnobSpec> knob_specs() const override;
  KnobMap level_knobs(int level) const override;
  std::string answer_format() const override { return "Yes or No"; }
  void generate(Rng& rng, const Knobs& knobs, pb::Task& task) const override;
  pb::Score verify(const pb::Task& task, std::string_view completion) const override;
};

}  // namespace verity
