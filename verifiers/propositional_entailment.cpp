#include "verifiers/verifiers.h"
#include "verifiers/label_verifier.h"

namespace verity {

namespace {

class PropositionalEntailmentVerifier final : public Verifier {
 public:
  pb::Score verify(const pb::Task& task, std::string_view completion) const override;
};

}  // namespace

pb::Score PropositionalEntailmentVerifier::verify(const pb::Task& task, std::string_view completion) const {
  static const std::vector<LabelSpelling> kLabels = {
      {"entailed", {"entailed", "entails", "entailment", "follows", "it follows"}},
      {"contradicted", {"contradicted", "contradicts", "contradiction"}},
      {"neither", {"neither", "unknown", "undetermined", "cannot be determined", "not determined"}}};
  return verify_label(task, completion, kLabels);
}

namespace verifiers {
const Verifier& propositional_entailment() {
  static const PropositionalEntailmentVerifier verifier;
  return verifier;
}
}  // namespace verifiers

}  // namespace verity
