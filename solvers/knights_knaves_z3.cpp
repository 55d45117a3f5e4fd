#include "solvers/knights_knaves_z3.h"

#include <z3++.h>

#include <string>
#include <vector>

#include "solvers/z3_bridge.h"

namespace verity {
namespace kk {
namespace {

z3::expr to_z3(z3::context& ctx, const Formula& f, int i, const std::vector<z3::expr>& knight) {
  const Node& n = f.nodes[i];
  switch (n.op) {
    case Op::Knight: return knight[n.person];
    case Op::Knave: return !knight[n.person];
    case Op::Not: return !to_z3(ctx, f, n.left, knight);
    case Op::And: return to_z3(ctx, f, n.left, knight) && to_z3(ctx, f, n.right, knight);
    case Op::Or: return to_z3(ctx, f, n.left, knight) || to_z3(ctx, f, n.right, knight);
    case Op::Implies: return z3::implies(to_z3(ctx, f, n.left, knight), to_z3(ctx, f, n.right, knight));
    case Op::Iff: return to_z3(ctx, f, n.left, knight) == to_z3(ctx, f, n.right, knight);
    case Op::Exactly: {
      z3::expr sum = ctx.int_val(0);
      int members = 0;
      for (int q = 0; q < kMaxPeople; ++q)
        if ((n.group >> q) & 1u) {
          sum = sum + z3::ite(knight[q], ctx.int_val(1), ctx.int_val(0));
          ++members;
        }
      return sum == ctx.int_val(n.counts_knaves ? members - n.count : n.count);
    }
  }
  return ctx.bool_val(false);
}

}  // namespace

int count_with_z3(const Puzzle& p, int limit, unsigned rlimit) {
  const z3bridge::SolverScope scope(rlimit);
  z3::context& ctx = scope.ctx();
  z3::solver& solver = scope.solver();
  std::vector<z3::expr> knight;
  for (int q = 0; q < p.people; ++q) knight.push_back(ctx.bool_const(("knight_" + std::to_string(q)).c_str()));
  for (const Statement& s : p.statements) solver.add(knight[s.speaker] == to_z3(ctx, s.formula, s.formula.root(), knight));
  int count = 0;
  while (count < limit) {
    const z3::check_result r = solver.check();
    if (r == z3::unknown) {
      count = -1;
      break;
    }
    if (r == z3::unsat) break;
    ++count;
    // Block this model: some person's role must differ.
    const z3::model m = solver.get_model();
    z3::expr_vector differs(ctx);
    for (int q = 0; q < p.people; ++q)
      differs.push_back(m.eval(knight[q], true).is_true() ? !knight[q] : knight[q]);
    solver.add(z3::mk_or(differs));
  }
  return count;
}

}  // namespace kk
}  // namespace verity
