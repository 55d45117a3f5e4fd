// zebra: Einstein puzzles. n houses in a row, k attributes (colour, nationality, pet, ...), each a
// permutation of its values over the houses. Clues (same house, not the same house, next to,
// somewhere left of, directly left of, in house p, not in house p) are drawn true for a random
// solution until it is the only one, then pruned so that removing any clue makes it ambiguous.
// Uniqueness and non-redundancy are proved by the exact solver in zebra_solver.h (cross-checked
// against Z3 in the tests). The answer is the whole grid, one entry per house:
//   House 1: red, Brit, dog; House 2: green, Swede, cat; ...
// scored cell by cell (reward = fraction of cells right), or one value (question=single).
#pragma once
#include <string>

#include "tasks/family.h"

namespace verity {

class Zebra final : public Family {
 public:
  std::string name() const override { return "zebra"; }
  std::string summary() const override {
    return "Einstein puzzle: houses x attributes with a unique solution and no redundant clue; fill the grid or "
           "answer one question.";
  }
  std::vector<KnobSpec> knob_specs() const override;
  KnobMap level_knobs(int level) const override;
  std::string answer_format() const override {
    return "the grid, one entry per house: House 1: v1, v2, ...; House 2: ... (or one value, question=single)";
  }
  void generate(Rng& rng, const Knobs& knobs, pb::Task& task) const override;
  pb::Score verify(const pb::Task& task, std::string_view completion) const override;
};

// The canonical grid answer of a zebra instance: "House 1: red, Brit, dog; House 2: ...".
std::string zebra_grid_answer(const pb::ZebraInstance& instance);

}  // namespace verity
