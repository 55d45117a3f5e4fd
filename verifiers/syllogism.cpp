#include "generators/syllogism.h"
#include "verifiers/label_verifier.h"

namespace verity {

pb::Score Syllogism::verify(const pb::Task& task, std::string_view completion) const {
  static const std::vector<LabelSpelling> kLabels = {
      {"Yes", {"yes", "it follows", "follows", "valid", "true"}},
      {"No", {"no", "it does not follow", "does not follow", "invalid", "not valid", "false"}}};
  return verify_label(task, completion, kLabels);
}

}  // namespace verity
