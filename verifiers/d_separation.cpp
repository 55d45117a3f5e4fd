#include "verifiers/verifiers.h"
#include "verifiers/label_verifier.h"

namespace verity {

namespace {

class DSeparationVerifier final : public Verifier {
 public:
  pb::Score verify(const pb::Task& task, std::string_view completion) const override;
};

}  // namespace

pb::Score DSeparationVerifier::verify(const pb::Task& task, std::string_view completion) const {
  static const std::vector<LabelSpelling> kLabels = {{"Yes", {"yes"}}, {"No", {"no"}}};
  return verify_label(task, completion, kLabels);
}

namespace verifiers {
const Verifier& d_separation() {
  static const DSeparationVerifier verifier;
  return verifier;
}
}  // namespace verifiers

}  // namespace verity
