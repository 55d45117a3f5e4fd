#include "tasks/registry.h"

#include <memory>
#include <stdexcept>

#include "generators/arithmetic_graph.h"
#include "generators/causal_transitivity.h"
#include "generators/d_separation.h"
#include "generators/fol_deduction.h"
#include "generators/inference_chains.h"
#include "generators/knights_knaves.h"
#include "generators/long_horizon_sum.h"
#include "generators/ontology_deduction.h"
#include "generators/propositional_entailment.h"
#include "generators/syllogism.h"
#include "generators/zebra.h"

namespace verity {

const std::vector<const Family*>& all_families() {
  static const std::vector<const Family*> families = [] {
    static const PropositionalEntailment propositional_entailment;
    static const CausalTransitivity causal_transitivity;
    static const DSeparation d_separation;
    static const ArithmeticGraph arithmetic_graph;
    static const LongHorizonSum long_horizon_sum;
    static const OntologyDeduction ontology_deduction;
    static const KnightsKnaves knights_knaves;
    static const Syllogism syllogism;
    static const InferenceChains inference_chains;
    static const Zebra zebra;
    static const FolDeduction fol_deduction;
    return std::vector<const Family*>{&propositional_entailment, &causal_transitivity, &d_separation,
                                      &arithmetic_graph,         &long_horizon_sum,    &ontology_deduction,
                                      &knights_knaves,           &syllogism,           &inference_chains,
                                      &zebra,                    &fol_deduction};
  }();
  return families;
}

const Family& find_family(const std::string& name) {
  std::string known;
  for (const Family* f : all_families()) {
    if (f->name() == name) return *f;
    known += (known.empty() ? "" : ", ") + f->name();
  }
  throw std::invalid_argument("unknown family '" + name + "'; known families: " + known +
                              " (see `verity list`)");
}

Knobs resolve_knobs(const Family& family, int level, const KnobMap& overrides) {
  if (level < 0 || level > family.max_level())
    throw KnobError("level " + std::to_string(level) + " is out of range for " + family.name() +
                    ": use 1.." + std::to_string(family.max_level()));
  KnobMap values;
  if (level > 0) values = family.level_knobs(level);
  for (const auto& [k, v] : overrides) values[k] = v;
  return Knobs(family.knob_specs(), values);
}

}  // namespace verity
