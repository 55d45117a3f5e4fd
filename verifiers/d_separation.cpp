#include "verifiers/label_verifier.h"
#include "verifiers/verifiers.h"

namespace verity::verifiers {

const Verifier& d_separation() {
  static const LabelVerifier verifier({{"Yes", {"yes"}}, {"No", {"no"}}});
  return verifier;
}

}  // namespace verity::verifiers
