// long_horizon_sum: long-horizon execution from "The Illusion of Diminishing Returns". A dictionary
// of made-up words to small integers and a stream of keys, keys_per_turn per turn; the answer is the
// running total after every turn (comma-separated). Knowing what to do is trivial; doing it for
// thousands of steps without a slip is the skill measured. The verifier reports per-step accuracy and
// the first failing step.
#pragma once
#include "tasks/family.h"

namespace verity {

class LongHorizonSum final : public Family {
 public:
  std::string name() const override { return "long_horizon_sum"; }
  std::string summary() const override {
    return "Dictionary of words to integers plus a stream of keys; report the running sum after every turn.";
  }
  std::vector<KnobSpec> knob_specs() const override;
  KnobMap level_knobs(int level) const override;
  std::string answer_format() const override { return "the running sums after each turn, comma-separated"; }
  void generate(Rng& rng, const Knobs& knobs, pb::Task& task) const override;
  pb::Score verify(const pb::Task& task, std::string_view completion) const override;
};

}  // namespace verity
