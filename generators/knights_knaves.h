// knights_knaves: n islanders, each a knight (always truthful) or a knave (always lying), each makes one
// statement about the others built from and / or / not / if-then / iff / "exactly k of". Who is what?
// Uniqueness is proved at generation by truth tables over all 2^n assignments (Z3 beyond 12 people);
// the gold trace is the case analysis of a backtracking solver. An `unanswerable` knob mixes in puzzles
// with no or several consistent assignments, whose gold answer is "no unique solution".
#pragma once
#include "tasks/family.h"

namespace verity {

class KnightsKnaves final : public Family {
 public:
  std::string name() const override { return "knights_knaves"; }
  std::string summary() const override {
    return "Knights always tell the truth, knaves always lie: from each islander's statement, who is which?";
  }
  std::vector<KnobSpec> knob_specs() const override;
  KnobMap level_knobs(int level) const override;
  std::string answer_format() const override {
    return "every person's role, e.g. \"Ann: knight, Ben: knave\" (or \"no unique solution\")";
  }
  void generate(Rng& rng, const Knobs& knobs, pb::Task& task) const override;
  pb::Score verify(const pb::Task& task, std::string_view completion) const override;
};

// The gold answer's wording when the statements allow no or several role assignments.
inline constexpr const char* kNoUniqueSolution = "no unique solution";

}  // namespace verity
