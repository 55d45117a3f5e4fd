// Every family's generator, one function each (defined in generators/<family>.cpp), for the registry.
#pragma once
#include "tasks/generator.h"

namespace verity::generators {

const Generator& arithmetic_graph();
const Generator& causal_transitivity();
const Generator& d_separation();
const Generator& fol_deduction();
const Generator& inference_chains();
const Generator& knights_knaves();
const Generator& list_functions();
const Generator& long_horizon_sum();
const Generator& ontology_deduction();
const Generator& propositional_entailment();
const Generator& syllogism();
const Generator& zebra();

}  // namespace verity::generators
