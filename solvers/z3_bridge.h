// Z3 for every layer above: one context per thread (contexts are not thread-safe), one solver per
// thread and nesting depth (SolverScope), every check bounded by a budget in Z3's resource units,
// never by a clock, so an answer (unknown included) depends only on the formulas and never on the
// machine's load. Plus the bridge from the propositional logic AST (solvers/logic.h) to Z3.
#pragma once
#include <z3++.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "solvers/logic.h"

namespace verity::z3bridge {

// Budgets per check. Generators ask about their own instances: far above what any of them needs
// (measured in tests), so reaching it means a generator bug and the generator throws. Checks of
// untrusted model text (proof steps) get a budget that costs milliseconds at most.
constexpr unsigned kGenerationRlimit = 200'000'000;
constexpr unsigned kUntrustedRlimit = 2'000'000;

// The calling thread's own context, created on first use.
z3::context& thread_context();

// The calling thread's solver for one question: push on construction, pop on destruction, every
// check bounded by `rlimit`. A scope opened while another is open on the same thread gets a solver of
// its own, so it never sees the outer scope's assertions. Not shared across threads.
class SolverScope {
 public:
  explicit SolverScope(unsigned rlimit);
  ~SolverScope();
  SolverScope(const SolverScope&) = delete;
  SolverScope& operator=(const SolverScope&) = delete;
  z3::context& ctx() const { return solver_.ctx(); }
  z3::solver& solver() const { return solver_; }

 private:
  z3::solver& solver_;
};

z3::expr to_z3(z3::context& ctx, const logic::Formula& f, const std::vector<z3::expr>& vars);
std::vector<z3::expr> make_bool_vars(z3::context& ctx, int count);

enum class Entailment { Entailed, Contradicted, Neither, Inconsistent, Unknown };
std::string to_string(Entailment e);

struct EntailmentResult {
  Entailment label = Entailment::Unknown;
  std::vector<int> core;                // minimal premises that settle it (Entailed / Contradicted)
  std::optional<uint64_t> model_with;   // Neither: an assignment where premises and conclusion hold
  std::optional<uint64_t> model_without;  // Neither: premises hold, conclusion fails
};

// Decides whether the premises entail the conclusion, its negation, or neither.
// Unknown when the budget runs out.
EntailmentResult decide_entailment(const std::vector<logic::FormulaPtr>& premises,
                                   const logic::FormulaPtr& conclusion, int num_vars,
                                   unsigned rlimit = kGenerationRlimit);

// sat / unsat / unknown (budget spent) of a conjunction.
z3::check_result check_conjunction(const std::vector<logic::FormulaPtr>& formulas, int num_vars, unsigned rlimit);

}  // namespace verity::z3bridge
