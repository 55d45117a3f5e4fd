// Propositional entailment with its evidence: entailed / contradicted / neither / inconsistent, the
// deletion-minimal premise core that settles it, and the least model (variable 0 first, false before
// true) with and without the conclusion. Decided exactly by bit-parallel truth tables up to
// kMaxTableVars variables, by Z3 (solvers/z3_bridge.h, the same answers) beyond; the tests compare the
// two on random instances.
#pragma once
#include <vector>

#include "solvers/logic.h"
#include "solvers/z3_bridge.h"

namespace verity::entailment {

using z3bridge::Entailment;
using z3bridge::EntailmentResult;

// Up to here truth tables (2^n bits per formula) beat Z3. Measured on whole `verity generate` runs of
// propositional_entailment (one thread): 13 variables 2.2x faster, 14 variables 1.6x, 15 even,
// 16 variables 2x slower.
constexpr int kMaxTableVars = 14;

EntailmentResult by_truth_tables(const std::vector<logic::FormulaPtr>& premises, const logic::FormulaPtr& conclusion,
                                 int num_vars);
// The verdict alone (no core, no models), which is all a Yes/No label needs: a few table ANDs.
// num_vars <= kMaxTableVars.
Entailment classify_by_truth_tables(const std::vector<logic::FormulaPtr>& premises,
                                    const logic::FormulaPtr& conclusion, int num_vars);
EntailmentResult decide(const std::vector<logic::FormulaPtr>& premises, const logic::FormulaPtr& conclusion,
                        int num_vars);

}  // namespace verity::entailment
