#include "verifiers/verifiers.h"
#include "verifiers/label_verifier.h"

namespace verity {

namespace {

class CausalTransitivityVerifier final : public Verifier {
 public:
  pb::Score verify(const pb::Task& task, std::string_view completion) const override;
};

}  // namespace

pb::Score CausalTransitivityVerifier::verify(const pb::Task& task, std::string_view completion) const {
  static const std::vector<LabelSpelling> kLabels = {{"Yes", {"yes"}}, {"No", {"no"}}};
  return verify_label(task, completion, kLabels);
}

namespace verifiers {
const Verifier& causal_transitivity() {
  static const CausalTransitivityVerifier verifier;
  return verifier;
}
}  // namespace verifiers

}  // namespace verity
