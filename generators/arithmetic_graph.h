// arithmetic_graph: GSM-Infinite-style arithmetic over a dependency DAG of named quantities. Each
// quantity is given a small value or defined by one atomic operation (+, -, x, sum of three) on
// earlier ones, optionally modulo a number; distractor quantities are mixed in. Forward mode asks the
// last quantity; reverse mode states a later quantity's value and asks an earlier (hidden) one. The
// `unanswerable` knob withholds a needed value or definition: the gold answer is then "cannot be
// determined". Difficulty = operations needed. Gold solution, one step per line:
//   Define <quantity> as C; so C = A + B = 3 + 1 = 4.
// which verifiers/arithmetic_trace.h checks step by step (process reward).
#pragma once
#include "tasks/family.h"

namespace verity {

class ArithmeticGraph final : public Family {
 public:
  std::string name() const override { return "arithmetic_graph"; }
  std::string summary() const override {
    return "Named quantities defined by +, -, x, sum (optionally mod m) with distractors; compute one, forward "
           "or reverse, or say it cannot be determined.";
  }
  std::vector<KnobSpec> knob_specs() const override;
  KnobMap level_knobs(int level) const override;
  std::string answer_format() const override { return "an integer, or \"cannot be determined\""; }
  void generate(Rng& rng, const Knobs& knobs, pb::Task& task) const override;
  pb::Score verify(const pb::Task& task, std::string_view completion) const override;
};

// The gold answer of an unanswerable task, and the label of each kind of task.
inline constexpr const char* kCannotBeDetermined = "cannot be determined";

}  // namespace verity
