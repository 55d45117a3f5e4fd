// Scores a fol_deduction completion: the reward is the outcome (the label); the proof is checked step
// by step as well (verifiers/fol_proof.h) and reported in steps_checked / steps_valid and the reason,
// which verifiers/scoring blends in with process_weight.
#include "generators/fol_deduction.h"
#include "verifiers/fol_proof.h"
#include "verifiers/label_verifier.h"

namespace verity {

pb::Score FolDeduction::verify(const pb::Task& task, std::string_view completion) const {
  static const std::vector<LabelSpelling> kLabels = {
      {kFolProved, {"proved"}}, {kFolDisproved, {"disproved"}}, {kFolUnknown, {"unknown"}}};
  pb::Score score = verify_label(task, completion, kLabels);
  const ProofReport proof = check_fol_proof(task.fol_deduction(), completion);
  score.set_steps_checked(proof.steps_checked);
  score.set_steps_valid(proof.steps_valid);
  std::string text = "; proof steps " + std::to_string(proof.steps_valid) + "/" + std::to_string(proof.steps_checked) + " valid";
  if (proof.first_invalid > 0) text += ", first invalid step " + std::to_string(proof.first_invalid) + ": " + proof.first_problem;
  if (proof.concludes != 0) text += proof.concludes > 0 ? "; derives the hypothesis" : "; derives the negation of the hypothesis";
  if (proof.truncated) text += " (only the first " + std::to_string(kMaxProofSteps) + " steps were checked)";
  score.set_reason(score.reason() + text);
  return score;
}

}  // namespace verity
