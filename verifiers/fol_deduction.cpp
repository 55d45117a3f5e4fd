// Scores a fol_deduction completion: the reward is the outcome (the label); the proof is checked step
// by step as well (verifiers/fol_proof.h) and reported in steps_checked / steps_valid and the reason,
// which verifiers/scoring blends in with process_weight.
#include "verifiers/verifiers.h"

#include "solvers/fol_logic.h"
#include "verifiers/fol_proof.h"
#include "verifiers/label_verifier.h"

namespace verity {

namespace {

class FolDeductionVerifier final : public Verifier {
 public:
  pb::Score verify(const pb::Task& task, std::string_view completion) const override;
};

}  // namespace

pb::Score FolDeductionVerifier::verify(const pb::Task& task, std::string_view completion) const {
  static const std::vector<LabelSpelling> kLabels = {
      {kFolProved, {"proved"}}, {kFolDisproved, {"disproved"}}, {kFolUnknown, {"unknown"}}};
  pb::Score score = verify_label(task, completion, kLabels);
  const ProofReport proof = check_fol_proof(task.fol_deduction(), completion, fol_required(task));
  record_trace(proof, "only the first " + std::to_string(kMaxProofSteps) + " steps were checked", score);
  if (proof.concludes != 0)
    score.set_reason(score.reason() + (proof.concludes > 0 ? "; derives the hypothesis" : "; derives the negation of the hypothesis"));
  return score;
}

namespace verifiers {
const Verifier& fol_deduction() {
  static const FolDeductionVerifier verifier;
  return verifier;
}
}  // namespace verifiers

}  // namespace verity
