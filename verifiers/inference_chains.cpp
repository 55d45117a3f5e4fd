#include "verifiers/label_verifier.h"
#include "verifiers/verifiers.h"

namespace verity::verifiers {

const Verifier& inference_chains() {
  static const LabelVerifier verifier({
      {"Yes", {"yes", "it follows", "follows", "valid", "true"}},
      {"No", {"no", "it does not follow", "does not follow", "invalid", "not valid", "false"}}});
  return verifier;
}

}  // namespace verity::verifiers
