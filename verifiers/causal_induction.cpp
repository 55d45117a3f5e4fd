// Scores a causal_induction completion: one of three labels, exact phrases only (after
// normalize_answer), so "not on", "on or off" and hedges match nothing and score 0 as format errors.
// Yes / No are not accepted: the prompt asks for on, off or undetermined, and a bare "no" could mean
// "no, it is not determined" as well as "off".
#include "verifiers/label_verifier.h"
#include "verifiers/verifiers.h"

namespace verity::verifiers {

const Verifier& causal_induction() {
  static const LabelVerifier verifier(
      {{"on", {"on", "turns on", "it turns on", "the machine turns on", "machine turns on", "it will turn on",
               "the machine will turn on", "activates", "it activates", "lights up"}},
       {"off", {"off", "stays off", "it stays off", "the machine stays off", "machine stays off",
                "it will stay off", "the machine will stay off"}},
       {"undetermined", {"undetermined", "cannot be determined", "can't be determined", "can not be determined",
                         "cannot be decided", "undecided", "indeterminate", "not determined",
                         "it cannot be determined"}}});
  return verifier;
}

}  // namespace verity::verifiers
