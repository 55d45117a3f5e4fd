// Balanced labels in a written dataset. Generators draw each candidate's label first, in fixed shares
// (Yes / No alike, UNKNOWN with probability unknown_ratio, ...), but one label often has fewer distinct
// questions than another, so skipping repeated questions skews the mix of what is kept. The keep/drop
// step (generate_dataset, recipes) asks LabelBalance whether a candidate's label may be kept; one whose
// label already holds more than its share of the kept tasks is skipped like a repeat, and later
// candidates of the scarcer labels fill in. The decision is serial, so outputs stay deterministic.
#pragma once
#include <cstdint>
#include <map>
#include <string>

#include "tasks/generator.h"
#include "tasks/knobs.h"

namespace verity {

class LabelBalance {
 public:
  // The target shares of the family's label under these knobs (Generator::label_shares); none (every
  // candidate admitted) for a family whose label is free-form or not drawn by its generator.
  LabelBalance(const Generator& family, const Knobs& knobs);
  bool active() const { return !shares_.empty(); }
  const std::map<std::string, double>& shares() const { return shares_; }
  // True when keeping one more task of `label` leaves its count within its share of the kept tasks
  // (plus a slack of one task or 0.5%, whichever is more). Labels without a share are always admitted.
  bool admits(const std::string& label) const;
  void keep(const std::string& label);
  // The label furthest below its share ("" when inactive): the one whose questions ran out when no
  // candidate is kept any more.
  std::string scarcest() const;
  uint64_t kept(const std::string& label) const;
  // When `scarce` ran out of questions: about how many tasks a balanced dataset can hold.
  uint64_t most_tasks(const std::string& scarce) const;
  // "label 'X' (N% of a balanced dataset) has only K distinct questions" ("has at least K" when K is
  // only a floor: the run stopped on the rate of new questions, not on their end).
  std::string shortage(const std::string& scarce, bool floor_only = false) const;

 private:
  std::map<std::string, double> shares_;
  std::map<std::string, uint64_t> kept_;
  uint64_t total_ = 0;
};

}  // namespace verity
