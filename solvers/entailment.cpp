#include "solvers/entailment.h"

#include <stdexcept>

namespace verity::entailment {
namespace {

using logic::TruthTable;

// Deletion-based minimisation, in the order Z3's decide_entailment uses: drop each premise whose
// removal keeps `extra` + the rest unsatisfiable.
std::vector<int> minimal_core(const std::vector<TruthTable>& premises, const TruthTable& extra) {
  std::vector<int> kept(premises.size());
  for (size_t i = 0; i < premises.size(); ++i) kept[i] = static_cast<int>(i);
  TruthTable without;  // extra and every kept premise but kept[k]
  for (size_t k = 0; k < kept.size();) {
    without = extra;
    for (size_t j = 0; j < kept.size(); ++j)
      if (j != k) without &= premises[kept[j]];
    if (without.none()) {
      kept.erase(kept.begin() + static_cast<long>(k));
    } else {
      ++k;
    }
  }
  return kept;
}

// The lexicographically least satisfying assignment, variable 0 decided first, false before true.
uint64_t least_model(TruthTable models, int num_vars) {
  uint64_t bits = 0;
  for (int v = 0; v < num_vars; ++v) {
    const TruthTable is_true = logic::variable_table(v, num_vars);
    if ((~is_true).intersects(models)) {
      models &= ~is_true;
    } else {
      models &= is_true;
      bits |= uint64_t{1} << v;
    }
  }
  return bits;
}

}  // namespace

EntailmentResult by_truth_tables(const std::vector<logic::FormulaPtr>& premises, const logic::FormulaPtr& conclusion,
                                 int num_vars) {
  if (num_vars < 1 || num_vars > kMaxTableVars)
    throw std::invalid_argument("by_truth_tables: " + std::to_string(num_vars) + " variables, over the table limit");
  std::vector<TruthTable> tables;
  tables.reserve(premises.size());
  for (const auto& p : premises) tables.push_back(logic::truth_table(*p, num_vars));
  const TruthTable holds = logic::truth_table(*conclusion, num_vars), fails = ~holds;
  TruthTable with = holds, without = fails;
  for (const TruthTable& premise : tables) with &= premise, without &= premise;
  EntailmentResult result;
  if (with.none() && without.none()) {
    result.label = Entailment::Inconsistent;
  } else if (without.none()) {
    result.label = Entailment::Entailed;
    result.core = minimal_core(tables, fails);
  } else if (with.none()) {
    result.label = Entailment::Contradicted;
    result.core = minimal_core(tables, holds);
  } else {
    result.label = Entailment::Neither;
    result.model_with = least_model(with, num_vars);
    result.model_without = least_model(without, num_vars);
  }
  return result;
}

Entailment classify_by_truth_tables(const std::vector<logic::FormulaPtr>& premises,
                                    const logic::FormulaPtr& conclusion, int num_vars) {
  if (num_vars < 1 || num_vars > kMaxTableVars)
    throw std::invalid_argument("classify_by_truth_tables: " + std::to_string(num_vars) +
                                " variables, over the table limit");
  TruthTable models = logic::all_true(num_vars);
  for (const auto& p : premises) models &= logic::truth_table(*p, num_vars);
  const TruthTable holds = logic::truth_table(*conclusion, num_vars);
  const bool can_hold = models.intersects(holds), can_fail = models.intersects(~holds);
  if (!can_hold && !can_fail) return Entailment::Inconsistent;
  if (!can_fail) return Entailment::Entailed;
  return can_hold ? Entailment::Neither : Entailment::Contradicted;
}

EntailmentResult decide(const std::vector<logic::FormulaPtr>& premises, const logic::FormulaPtr& conclusion,
                        int num_vars) {
  if (num_vars >= 1 && num_vars <= kMaxTableVars) return by_truth_tables(premises, conclusion, num_vars);
  return z3bridge::decide_entailment(premises, conclusion, num_vars);
}

}  // namespace verity::entailment
