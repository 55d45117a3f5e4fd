#include "verifiers/label_verifier.h"
#include "verifiers/verifiers.h"

namespace verity::verifiers {

const Verifier& propositional_entailment() {
  static const LabelVerifier verifier({
      {"entailed", {"entailed", "entails", "entailment", "follows", "it follows"}},
      {"contradicted", {"contradicted", "contradicts", "contradiction"}},
      {"neither", {"neither", "unknown", "undetermined", "cannot be determined", "not determined"}}});
  return verifier;
}

}  // namespace verity::verifiers
