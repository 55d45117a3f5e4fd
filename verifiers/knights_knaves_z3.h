// Z3 side of knights_knaves: counts consistent role assignments (up to a limit) by solving and adding
// each model found as a blocking clause. Uses the calling thread's own Z3 context.
#pragma once
#include "generators/knights_knaves_logic.h"

namespace verity::kk {

// Returns 0, 1, ... up to `limit`, or -1 when Z3 gives up (timeout).
int count_with_z3(const Puzzle& p, int limit, unsigned timeout_ms = 5000);

}  // namespace verity::kk
