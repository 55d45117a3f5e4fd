// Bridge from the logic AST to Z3. One z3::context per thread (contexts are not thread-safe),
// every check bounded by a timeout so no input can hang a worker.
#pragma once
#include <z3++.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "tasks/logic.h"

namespace verity::z3bridge {

constexpr unsigned kDefaultTimeoutMs = 5000;

// The calling thread's own context, created on first use.
z3::context& thread_context();

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
EntailmentResult decide_entailment(const std::vector<logic::FormulaPtr>& premises,
                                   const logic::FormulaPtr& conclusion, int num_vars,
                                   unsigned timeout_ms = kDefaultTimeoutMs);

// sat / unsat / unknown of a conjunction.
z3::check_result check_conjunction(const std::vector<logic::FormulaPtr>& formulas, int num_vars,
                                   unsigned timeout_ms = kDefaultTimeoutMs);

// The same bounded by Z3's resource limit instead of a clock: the answer (unknown included) depends
// only on the formulas, never on the machine's load, so scores built on it are deterministic.
// Verifiers of untrusted text use this one.
z3::check_result check_conjunction_bounded(const std::vector<logic::FormulaPtr>& formulas, int num_vars,
                                           unsigned rlimit);

}  // namespace verity::z3bridge
