#include "generators/ontology_deduction.h"
#include "verifiers/label_verifier.h"

namespace verity {

// The outcome is the label; answering True or False where the gold answer is Unknown scores 0
// (honest deduction: abstaining is the right answer there).
pb::Score OntologyDeduction::verify(const pb::Task& task, std::string_view completion) const {
  static const std::vector<LabelSpelling> kLabels = {
      {kOntologyTrue, {"true", "the statement is true"}},
      {kOntologyFalse, {"false", "the statement is false"}},
      {kOntologyUnknown,
       {"unknown", "cannot be determined", "can't be determined", "it cannot be determined", "undetermined",
        "not enough information", "uncertain", "unanswerable"}}};
  return verify_label(task, completion, kLabels);
}

}  // namespace verity
