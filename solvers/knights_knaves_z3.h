// Z3 side of knights_knaves: counts consistent role assignments (up to a limit) by solving and adding
// each model found as a blocking clause, in a SolverScope of the calling thread.
#pragma once
#include "solvers/knights_knaves_logic.h"
#include "solvers/z3_bridge.h"

namespace verity::kk {

// Returns 0, 1, ... up to `limit`, or -1 when Z3 gives up (the budget is spent).
int count_with_z3(const Puzzle& p, int limit, unsigned rlimit = z3bridge::kGenerationRlimit);

}  // namespace verity::kk
