#include "tasks/registry/registry.h"

#include <stdexcept>

#include "generators/generators.h"
#include "verifiers/verifiers.h"

namespace verity {

// A new family: its generator in generators/, its verifier in verifiers/, one line here.
const std::vector<Family>& all_families() {
  static const std::vector<Family> families = {
      {generators::propositional_entailment(), verifiers::propositional_entailment()},
      {generators::causal_transitivity(), verifiers::causal_transitivity()},
      {generators::d_separation(), verifiers::d_separation()},
      {generators::arithmetic_graph(), verifiers::arithmetic_graph()},
      {generators::long_horizon_sum(), verifiers::long_horizon_sum()},
      {generators::ontology_deduction(), verifiers::ontology_deduction()},
      {generators::knights_knaves(), verifiers::knights_knaves()},
      {generators::syllogism(), verifiers::syllogism()},
      {generators::inference_chains(), verifiers::inference_chains()},
      {generators::zebra(), verifiers::zebra()},
      {generators::fol_deduction(), verifiers::fol_deduction()},
      {generators::list_functions(), verifiers::list_functions()},
  };
  return families;
}

const Family& find_family(const std::string& name) {
  std::string known;
  for (const Family& f : all_families()) {
    if (f.name() == name) return f;
    known += (known.empty() ? "" : ", ") + f.name();
  }
  throw std::invalid_argument("unknown family '" + name + "'; known families: " + known +
                              " (see `verity list`)");
}

std::string question_key(const pb::Task& task) { return find_family(task.family()).generator.question_key(task); }

}  // namespace verity
