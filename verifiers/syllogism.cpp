#include "verifiers/verifiers.h"
#include "verifiers/label_verifier.h"

namespace verity {

namespace {

class SyllogismVerifier final : public Verifier {
 public:
  pb::Score verify(const pb::Task& task, std::string_view completion) const override;
};

}  // namespace

pb::Score SyllogismVerifier::verify(const pb::Task& task, std::string_view completion) const {
  static const std::vector<LabelSpelling> kLabels = {
      {"Yes", {"yes", "it follows", "follows", "valid", "true"}},
      {"No", {"no", "it does not follow", "does not follow", "invalid", "not valid", "false"}}};
  return verify_label(task, completion, kLabels);
}

namespace verifiers {
const Verifier& syllogism() {
  static const SyllogismVerifier verifier;
  return verifier;
}
}  // namespace verifiers

}  // namespace verity
