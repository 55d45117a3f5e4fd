#include "solvers/fol_z3.h"

#include <algorithm>
#include <memory>
#include <string>

#include "solvers/z3_bridge.h"
#include "tasks/concat.h"

namespace verity::fol {
namespace {

// Resource limit per check: deterministic (unlike a timeout, which also starts a timer thread per
// check), far above what any generated task or honest proof step needs, low enough that a hostile
// step costs milliseconds.
constexpr unsigned kRlimit = 2'000'000;
constexpr int kMaxStepFormulaSize = 256;
constexpr int kMaxStepPremises = 32;

}  // namespace

GroundSolver::GroundSolver(int predicates, int constants, int witnesses)
    : scope_(kRlimit),
      ctx_(scope_.ctx()),
      solver_(scope_.solver()),
      predicates_(predicates),
      constants_(constants),
      // one element per individual, per allowed existential premise, and one for the goal
      domain_(constants + witnesses + 1),
      next_witness_(constants + 1) {}

z3::expr GroundSolver::atom(int pred, int element) {
  if (pred < 0 || pred >= predicates_ || element < 0 || element >= domain_) return ctx_.bool_val(false);
  const size_t k = static_cast<size_t>(pred) * domain_ + element;
  if (atoms_.empty()) atoms_.resize(static_cast<size_t>(predicates_) * domain_);
  if (!atoms_[k]) atoms_[k] = ctx_.bool_const(concat("a", std::to_string(pred), "_", std::to_string(element)).c_str());
  return *atoms_[k];
}

z3::expr GroundSolver::quantifier_free(const Formula& f, int x) {
  switch (f.kind) {
    case Kind::Atom: return atom(f.pred, f.arg == kVariable ? x : f.arg);
    case Kind::Not: return !quantifier_free(*f.a, x);
    case Kind::And: return quantifier_free(*f.a, x) && quantifier_free(*f.b, x);
    case Kind::Or: return quantifier_free(*f.a, x) || quantifier_free(*f.b, x);
    case Kind::Implies: return z3::implies(quantifier_free(*f.a, x), quantifier_free(*f.b, x));
    default: return ctx_.bool_val(false);  // quantifiers occur only at the top
  }
}

// f (positive) or ~f, with an existential read at `witness` and a universal over the whole domain.
z3::expr GroundSolver::holds(const Formula& f, bool positive, int witness) {
  if (f.kind == Kind::Not && is_quantified(*f.a)) return holds(*f.a, !positive, witness);
  const bool universal = (f.kind == Kind::Forall) == positive;
  if (f.kind == Kind::Forall || f.kind == Kind::Exists) {
    if (!universal) {
      const z3::expr body = quantifier_free(*f.a, witness);
      return positive ? body : !body;
    }
    z3::expr_vector parts(ctx_);
    for (int e = 0; e < domain_; ++e) parts.push_back(positive ? quantifier_free(*f.a, e) : !quantifier_free(*f.a, e));
    return z3::mk_and(parts);
  }
  const z3::expr g = quantifier_free(f, -1);
  return positive ? g : !g;
}

int GroundSolver::add(const FormulaPtr& premise) {
  int witness = -1;
  const bool existential = premise->kind == Kind::Exists || (premise->kind == Kind::Not && premise->a->kind == Kind::Forall);
  if (existential) {
    if (next_witness_ >= domain_) return -1;
    witness = next_witness_++;
  }
  const z3::expr guard = ctx_.bool_const(concat("g", std::to_string(guards_.size())).c_str());
  solver_.add(z3::implies(guard, holds(*premise, true, witness)));
  guards_.push_back(guard);
  return static_cast<int>(guards_.size()) - 1;
}

std::vector<int> GroundSolver::all() const {
  std::vector<int> out;
  for (int i = 0; i < premises(); ++i) out.push_back(i);
  return out;
}

std::optional<bool> GroundSolver::satisfiable(const std::vector<int>& use, const z3::expr* extra) {
  z3::expr_vector assumptions(ctx_);
  for (int i : use) assumptions.push_back(guards_.at(i));
  if (extra) assumptions.push_back(*extra);
  switch (solver_.check(assumptions)) {
    case z3::sat: return true;
    case z3::unsat: return false;
    default: return std::nullopt;
  }
}

std::optional<bool> GroundSolver::entails(const std::vector<int>& use, const FormulaPtr& goal) {
  // The goal's negation behind its own indicator (one per goal), so the assertions stay reusable.
  auto it = std::find_if(refuters_.begin(), refuters_.end(), [&](const auto& r) { return r.first == goal; });
  if (it == refuters_.end()) {
    const z3::expr indicator = ctx_.bool_const(("refute" + std::to_string(refuters_.size())).c_str());
    solver_.add(z3::implies(indicator, holds(*goal, false, constants_)));
    refuters_.emplace_back(goal, indicator);
    it = refuters_.end() - 1;
  }
  const z3::expr indicator = it->second;
  const auto sat = satisfiable(use, &indicator);
  if (!sat) return std::nullopt;
  return !*sat;
}

std::optional<bool> GroundSolver::consistent(const std::vector<int>& use) { return satisfiable(use, nullptr); }

Verdict GroundSolver::decide(const std::vector<int>& use, const FormulaPtr& hypothesis) {
  return decide_by_entailment(*this, use, hypothesis);
}

std::optional<bool> step_entails(int predicates, int constants, const std::vector<FormulaPtr>& premises,
                                 const FormulaPtr& conclusion) {
  if (static_cast<int>(premises.size()) > kMaxStepPremises) return std::nullopt;
  int existential = 0, total = size(*conclusion);
  for (const auto& p : premises) {
    total += size(*p);
    existential += p->kind == Kind::Exists || (p->kind == Kind::Not && p->a->kind == Kind::Forall);
  }
  if (total > kMaxStepFormulaSize) return std::nullopt;
  GroundSolver solver(predicates, constants, existential);
  for (const auto& p : premises) solver.add(p);
  return solver.entails(solver.all(), conclusion);
}

}  // namespace verity::fol
