#include "generators/d_separation.h"
#include "verifiers/label_verifier.h"

namespace verity {

pb::Score DSeparation::verify(const pb::Task& task, std::string_view completion) const {
  static const std::vector<LabelSpelling> kLabels = {{"Yes", {"yes"}}, {"No", {"no"}}};
  return verify_label(task, completion, kLabels);
}

}  // namespace verity
