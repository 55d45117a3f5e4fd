#include "generators/propositional_entailment.h"
#include "verifiers/label_verifier.h"

namespace verity {

pb::Score PropositionalEntailment::verify(const pb::Task& task, std::string_view completion) const {
  static const std::vector<LabelSpelling> kLabels = {
      {"entailed", {"entailed", "entails", "entailment", "follows", "it follows"}},
      {"contradicted", {"contradicted", "contradicts", "contradiction"}},
      {"neither", {"neither", "unknown", "undetermined", "cannot be determined", "not determined"}}};
  return verify_label(task, completion, kLabels);
}

}  // namespace verity
