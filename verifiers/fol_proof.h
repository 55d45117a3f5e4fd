// Step checker (process reward) for fol_deduction proofs written in the gold format:
//   fact3 & fact7 -> int1: <statement>
//   int1 & fact2 -> hypothesis            (or "-> ¬hypothesis" / "~hypothesis" / "not hypothesis")
// Steps are separated by newlines or ';'. A segment is a step when it starts with "fact<k>" or
// "int<k>" (after bullets, numbering, "Step 3:" and markdown); other segments are prose and skipped.
// Premises (joined by &, ∧, "and" or commas) are facts of the task or ints defined by EARLIER steps.
// Statements are read in either surface syntax (solvers/fol_logic.h). A step is valid when it
// parses, cites only existing facts and earlier ints, does not merely restate a cited fact, and Z3
// shows its premises entail its conclusion (solvers/fol_z3.h: exact grounding, a resource limit per step). A wrong step still
// defines its int, so one mistake does not invalidate every later step. Bounded: at most
// kMaxProofSteps steps are checked (the rest are reported as not checked) and never throws.
// Completeness is the process score's coverage, not a phantom step: the required derivation is the
// gold proof's results (its ints' statements and the hypothesis or its negation); a result counts
// when a valid step concludes it (the same formula); validity already needs its cited ints defined by
// earlier steps, so the order respects the dependencies.
#pragma once
#include <string>
#include <string_view>
#include <vector>

#include "schemas/verity.pb.h"
#include "verifiers/trace_report.h"

namespace verity {

inline constexpr int kMaxProofSteps = 64;
inline constexpr size_t kMaxProofSegments = 4000;  // segments scanned for steps

// steps_checked / steps_valid / first invalid step as every step checker reports them, plus what the
// proof reaches. truncated: more steps than kMaxProofSteps (or segments than kMaxProofSegments).
struct ProofReport : TraceReport {
  int concludes = 0;          // +1: a valid last step derives the hypothesis, -1: its negation, 0: neither
};

// The required derivation of a task: the conclusions of its gold proof steps ("int2: <statement>",
// "hypothesis", "¬hypothesis"), empty for UNKNOWN tasks (no proof exists: no process score).
std::vector<std::string> fol_required(const pb::Task& task);

ProofReport check_fol_proof(const pb::FolDeductionInstance& instance, std::string_view text,
                            const std::vector<std::string>& required = {});

}  // namespace verity
