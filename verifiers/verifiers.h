// Every family's verifier, one function each (defined in verifiers/<family>.cpp), for the registry.
#pragma once
#include "tasks/verifier.h"

namespace verity::verifiers {

const Verifier& arithmetic_graph();
const Verifier& causal_transitivity();
const Verifier& d_separation();
const Verifier& fol_deduction();
const Verifier& inference_chains();
const Verifier& knights_knaves();
const Verifier& list_functions();
const Verifier& long_horizon_sum();
const Verifier& ontology_deduction();
const Verifier& propositional_entailment();
const Verifier& syllogism();
const Verifier& zebra();

}  // namespace verity::verifiers
