#include "verifiers/verifiers.h"
#include "verifiers/label_verifier.h"

namespace verity {

namespace {

class InferenceChainsVerifier final : public Verifier {
 public:
  pb::Score verify(const pb::Task& task, std::string_view completion) const override;
};

}  // namespace

pb::Score InferenceChainsVerifier::verify(const pb::Task& task, std::string_view completion) const {
  static const std::vector<LabelSpelling> kLabels = {
      {"Yes", {"yes", "it follows", "follows", "valid", "true"}},
      {"No", {"no", "it does not follow", "does not follow", "invalid", "not valid", "false"}}};
  return verify_label(task, completion, kLabels);
}

namespace verifiers {
const Verifier& inference_chains() {
  static const InferenceChainsVerifier verifier;
  return verifier;
}
}  // namespace verifiers

}  // namespace verity
