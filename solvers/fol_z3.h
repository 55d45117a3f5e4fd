// Z3 decisions for fol_deduction's language (solvers/fol_logic.h): monadic predicates, named
// individuals, one top-level quantifier per statement.
//
// Grounding is exact here. A universal statement stays true in every substructure, so a set of such
// statements has a model iff it has one whose elements are the named individuals plus one witness per
// existential statement (the negated goal counts as one when it is existential: not-forall). Extra
// elements never hurt (copy an existing element's predicates). So each question becomes a
// propositional one over predicate x element Booleans, which Z3 answers quickly and deterministically.
// Tests cross-check against Z3's own quantifier reasoning and a brute-force model search.
#pragma once
#include <z3++.h>

#include <optional>
#include <vector>

#include "solvers/fol_logic.h"
#include "solvers/z3_bridge.h"

namespace verity::fol {

enum class Verdict { Proved, Disproved, Unknown, Inconsistent, GaveUp };

// Premises asserted once, each behind an indicator, so any subset can be queried by assumptions.
// Lives in a SolverScope on the calling thread (solvers/z3_bridge.h): never shared across threads.
class GroundSolver {
 public:
  // witnesses: existential premises this solver may hold (add() refuses more).
  GroundSolver(int predicates, int constants, int witnesses);
  GroundSolver(const GroundSolver&) = delete;
  GroundSolver& operator=(const GroundSolver&) = delete;

  // Adds a premise; returns its index, or -1 when the witness capacity is used up.
  int add(const FormulaPtr& premise);
  int premises() const { return static_cast<int>(guards_.size()); }
  // Does the conjunction of the premises in `use` (indices) entail the goal? nullopt: Z3 gave up.
  std::optional<bool> entails(const std::vector<int>& use, const FormulaPtr& goal);
  std::optional<bool> consistent(const std::vector<int>& use);
  // PROVED / DISPROVED / UNKNOWN of the hypothesis from the premises in `use`.
  Verdict decide(const std::vector<int>& use, const FormulaPtr& hypothesis);
  std::vector<int> all() const;

 private:
  z3::expr atom(int pred, int element);
  z3::expr quantifier_free(const Formula& f, int x);
  z3::expr holds(const Formula& f, bool positive, int witness);
  std::optional<bool> satisfiable(const std::vector<int>& use, const z3::expr* extra);

  z3bridge::SolverScope scope_;
  z3::context& ctx_;
  z3::solver& solver_;
  int predicates_, constants_, domain_, next_witness_;
  // goal -> indicator of its negation; the goal is held, so a later goal never reuses its address (a
  // goal made for one call, such as neg(hypothesis), would otherwise hand its refuter to another).
  std::vector<std::pair<FormulaPtr, z3::expr>> refuters_;
  std::vector<z3::expr> guards_;
  std::vector<std::optional<z3::expr>> atoms_;  // created on first use
};

// PROVED / DISPROVED / UNKNOWN of a hypothesis by a decider's consistent() and entails() (GroundSolver's,
// and GroundDecider's in solvers/fol_ground.h): GaveUp when one of them did.
template <class Decider>
Verdict decide_by_entailment(Decider& decider, const std::vector<int>& use, const FormulaPtr& hypothesis) {
  const auto ok = decider.consistent(use);
  if (!ok) return Verdict::GaveUp;
  if (!*ok) return Verdict::Inconsistent;
  const auto proved = decider.entails(use, hypothesis);
  const auto disproved = decider.entails(use, neg(hypothesis));
  if (!proved || !disproved) return Verdict::GaveUp;
  if (*proved) return Verdict::Proved;
  return *disproved ? Verdict::Disproved : Verdict::Unknown;
}

// premises |= conclusion, for the step checker: bounded work (a Z3 resource limit), deterministic.
// nullopt when a formula is too large or Z3 gave up.
std::optional<bool> step_entails(int predicates, int constants, const std::vector<FormulaPtr>& premises,
                                 const FormulaPtr& conclusion);

}  // namespace verity::fol
