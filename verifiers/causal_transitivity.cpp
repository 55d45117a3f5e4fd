#include "generators/causal_transitivity.h"
#include "verifiers/label_verifier.h"

namespace verity {

pb::Score CausalTransitivity::verify(const pb::Task& task, std::string_view completion) const {
  static const std::vector<LabelSpelling> kLabels = {{"Yes", {"yes"}}, {"No", {"no"}}};
  return verify_label(task, completion, kLabels);
}

}  // namespace verity
