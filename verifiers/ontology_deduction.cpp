#include "verifiers/verifiers.h"

#include "solvers/ontology_chaining.h"
#include "verifiers/label_verifier.h"
#include "verifiers/ontology_trace.h"

namespace verity {

namespace {

class OntologyDeductionVerifier final : public Verifier {
 public:
  pb::Score verify(const pb::Task& task, std::string_view completion) const override;
};

}  // namespace

// The outcome is the label (reasoning steps are checked for the process score); answering True or False where the gold answer is Unknown scores 0
// (honest deduction: abstaining is the right answer there).
pb::Score OntologyDeductionVerifier::verify(const pb::Task& task, std::string_view completion) const {
  static const std::vector<LabelSpelling> kLabels = {
      {kOntologyTrue, {"true", "the statement is true"}},
      {kOntologyFalse, {"false", "the statement is false"}},
      {kOntologyUnknown,
       {"unknown", "cannot be determined", "can't be determined", "it cannot be determined", "undetermined",
        "not enough information", "uncertain", "unanswerable"}}};
  pb::Score score = verify_label(task, completion, kLabels);
  // process score: the reasoning's sentences checked one by one (verifiers/ontology_trace.h); the
  // reward stays the outcome unless the caller blends the process in (ScoreOptions::process_weight)
  std::vector<std::string> gold;
  for (const auto& step : task.trace()) gold.push_back(step.text());
  const TraceReport trace = check_ontology_trace(task.ontology_deduction(), completion, gold, task.prompt());
  record_trace(trace, "only the first " + std::to_string(kMaxOntologySteps) + " steps were checked", score);
  return score;
}

namespace verifiers {
const Verifier& ontology_deduction() {
  static const OntologyDeductionVerifier verifier;
  return verifier;
}
}  // namespace verifiers

}  // namespace verity
