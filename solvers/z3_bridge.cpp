#include "solvers/z3_bridge.h"

#include "tasks/concat.h"

#include <memory>

namespace verity::z3bridge {

namespace {

// A solver is expensive to create (its kernel initialises on first use), so each thread keeps one
// per nesting depth and scopes every question with push/pop. Answers we publish (labels, minimal
// cores, least models) depend only on sat/unsat, never on solver history, so output is deterministic.
struct ScopedSolver {
  explicit ScopedSolver(z3::context& ctx) : solver(ctx) {}
  z3::solver solver;
  unsigned rlimit = 0;
  bool rlimit_set = false;  // setting params is slow in Z3: only when they change
};

struct ThreadZ3 {
  z3::context ctx;
  std::vector<std::unique_ptr<ScopedSolver>> solvers;  // index = nesting depth
  size_t depth = 0;
};

ThreadZ3& thread_z3() {
  thread_local std::unique_ptr<ThreadZ3> state = std::make_unique<ThreadZ3>();
  return *state;
}

z3::solver& enter_scope(unsigned rlimit) {
  ThreadZ3& z = thread_z3();
  if (z.solvers.size() <= z.depth) z.solvers.push_back(std::make_unique<ScopedSolver>(z.ctx));
  ScopedSolver& s = *z.solvers[z.depth++];
  if (!s.rlimit_set || s.rlimit != rlimit) {
    z3::params params(z.ctx);
    params.set("rlimit", rlimit);
    s.solver.set(params);
    s.rlimit = rlimit;
    s.rlimit_set = true;
  }
  s.solver.push();
  return s.solver;
}

}  // namespace

SolverScope::SolverScope(unsigned rlimit) : solver_(enter_scope(rlimit)) {}

SolverScope::~SolverScope() {
  solver_.pop();
  --thread_z3().depth;
}

z3::context& thread_context() { return thread_z3().ctx; }

std::vector<z3::expr> make_bool_vars(z3::context& ctx, int count) {
  std::vector<z3::expr> vars;
  vars.reserve(count);
  for (int i = 0; i < count; ++i) vars.push_back(ctx.bool_const(concat("v", std::to_string(i)).c_str()));
  return vars;
}

z3::expr to_z3(z3::context& ctx, const logic::Formula& f, const std::vector<z3::expr>& vars) {
  using logic::Op;
  switch (f.op) {
    case Op::Var: return vars.at(f.var);
    case Op::Not: return !to_z3(ctx, *f.left, vars);
    case Op::And: return to_z3(ctx, *f.left, vars) && to_z3(ctx, *f.right, vars);
    case Op::Or: return to_z3(ctx, *f.left, vars) || to_z3(ctx, *f.right, vars);
    case Op::Implies: return z3::implies(to_z3(ctx, *f.left, vars), to_z3(ctx, *f.right, vars));
    case Op::Iff: return to_z3(ctx, *f.left, vars) == to_z3(ctx, *f.right, vars);
  }
  return ctx.bool_val(false);
}

std::string to_string(Entailment e) {
  switch (e) {
    case Entailment::Entailed: return "entailed";
    case Entailment::Contradicted: return "contradicted";
    case Entailment::Neither: return "neither";
    case Entailment::Inconsistent: return "inconsistent";
    case Entailment::Unknown: return "unknown";
  }
  return "unknown";
}

namespace {

// The lexicographically least assignment (variable 0 first, false before true) satisfying the
// guards and `extra`: a canonical witness, independent of which model Z3 happens to find.
std::optional<uint64_t> least_model(z3::solver& solver, const std::vector<z3::expr>& guards, const z3::expr& extra,
                                    const std::vector<z3::expr>& vars) {
  z3::expr_vector fixed(solver.ctx());
  for (const auto& g : guards) fixed.push_back(g);
  fixed.push_back(extra);
  uint64_t bits = 0;
  for (size_t i = 0; i < vars.size() && i < 64; ++i) {
    fixed.push_back(!vars[i]);
    const z3::check_result r = solver.check(fixed);
    if (r == z3::unknown) return std::nullopt;
    if (r == z3::unsat) {
      z3::expr_vector next(solver.ctx());
      for (unsigned k = 0; k + 1 < fixed.size(); ++k) next.push_back(fixed[k]);
      next.push_back(vars[i]);
      fixed = next;
      bits |= uint64_t{1} << i;
    }
  }
  return bits;
}

// Deletion-based minimisation: drop each premise whose removal keeps `extra` + rest unsat.
std::vector<int> minimal_core(z3::solver& solver, const std::vector<z3::expr>& guards,
                              const z3::expr& extra) {
  std::vector<int> kept;
  for (size_t i = 0; i < guards.size(); ++i) kept.push_back(static_cast<int>(i));
  for (size_t k = 0; k < kept.size();) {
    z3::expr_vector assumptions(solver.ctx());
    assumptions.push_back(extra);
    for (size_t j = 0; j < kept.size(); ++j)
      if (j != k) assumptions.push_back(guards[kept[j]]);
    if (solver.check(assumptions) == z3::unsat) {
      kept.erase(kept.begin() + static_cast<long>(k));
    } else {
      ++k;
    }
  }
  return kept;
}

}  // namespace

EntailmentResult decide_entailment(const std::vector<logic::FormulaPtr>& premises,
                                   const logic::FormulaPtr& conclusion, int num_vars, unsigned rlimit) {
  const SolverScope scope(rlimit);
  z3::context& ctx = scope.ctx();
  z3::solver& solver = scope.solver();
  const auto vars = make_bool_vars(ctx, num_vars);
  // Each premise is guarded by an indicator so one solver answers every question by assumptions.
  std::vector<z3::expr> guards;
  for (size_t i = 0; i < premises.size(); ++i) {
    z3::expr guard = ctx.bool_const(("premise_" + std::to_string(i)).c_str());
    solver.add(z3::implies(guard, to_z3(ctx, *premises[i], vars)));
    guards.push_back(guard);
  }
  const z3::expr goal = to_z3(ctx, *conclusion, vars);
  const z3::expr want = ctx.bool_const("conclusion_holds");
  const z3::expr reject = ctx.bool_const("conclusion_fails");
  solver.add(z3::implies(want, goal));
  solver.add(z3::implies(reject, !goal));

  auto check_with = [&](const z3::expr& extra) {
    z3::expr_vector assumptions(ctx);
    for (const auto& g : guards) assumptions.push_back(g);
    assumptions.push_back(extra);
    return solver.check(assumptions);
  };

  EntailmentResult result;
  const z3::check_result can_hold = check_with(want);
  const z3::check_result can_fail = check_with(reject);
  if (can_hold == z3::unknown || can_fail == z3::unknown) return result;  // budget spent: Unknown
  if (can_hold == z3::unsat && can_fail == z3::unsat) {
    result.label = Entailment::Inconsistent;
  } else if (can_fail == z3::unsat) {
    result.label = Entailment::Entailed;
    result.core = minimal_core(solver, guards, reject);
  } else if (can_hold == z3::unsat) {
    result.label = Entailment::Contradicted;
    result.core = minimal_core(solver, guards, want);
  } else {
    result.model_with = least_model(solver, guards, want, vars);
    result.model_without = least_model(solver, guards, reject, vars);
    if (result.model_with && result.model_without) result.label = Entailment::Neither;
  }
  return result;
}

z3::check_result check_conjunction(const std::vector<logic::FormulaPtr>& formulas, int num_vars, unsigned rlimit) {
  const SolverScope scope(rlimit);
  const auto vars = make_bool_vars(scope.ctx(), num_vars);
  for (const auto& f : formulas) scope.solver().add(to_z3(scope.ctx(), *f, vars));
  return scope.solver().check();
}

}  // namespace verity::z3bridge
