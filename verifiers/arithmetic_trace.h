// Step-level checking (process reward) of arithmetic_graph solutions written in the gold format,
// one step per line:
//   Define <quantity> as C; so C = A + B = 3 + 1 = 4.       (an operation)
//   Define <quantity> as A; so A = 3.                       (a value the facts state)
//   Define <quantity> as C; so C = (A + B) mod 5 = (3 + 4) mod 5 = 2.
// A line counts as a step when it starts with "Define" (after bullets / numbering / markdown); other
// lines are prose and are skipped. A step is valid when its quantity exists, the relation it uses is
// one the facts state (the quantity's own definition, or a definition that uses it solved for it:
// reverse mode), every variable it uses was introduced by an earlier step, the numbers it substitutes
// are those quantities' true values, and the arithmetic and the result are right. Tolerant of case and
// whitespace; x, *, × all mean times. Bounded (line and token caps) and never throws.
#pragma once
#include <string>
#include <memory>
#include <string_view>
#include <vector>

#include "schemas/verity.pb.h"
#include "verifiers/trace_report.h"

namespace verity {

inline constexpr int kMaxTraceLines = 4000;      // lines read; the rest is ignored (reported as truncated)
inline constexpr size_t kMaxStepChars = 4096;    // a longer step line is invalid
inline constexpr int kMaxExpressionTerms = 64;   // a longer expression is invalid

// One result of the required derivation: a quantity of the gold solution (index into the instance's
// quantities) and whether the gold solution computes it (an operation step) rather than reading it
// from the facts.
struct ArithmeticResult {
  int quantity = 0;
  bool computed = true;
};

// The required derivation of a task: the quantities its gold solution computes (restating a given
// establishes nothing); when it computes none, the givens it reads. Cached per thread by a
// fingerprint of the trace and the quantities' names.
std::shared_ptr<const std::vector<ArithmeticResult>> arithmetic_required(const pb::Task& task);

// Checks every step; with `required`, also counts the required results established by valid steps
// (report.required / covered, the process score's coverage): a computed result counts when a valid
// step computes it - its inputs defined by earlier steps, its relation one the facts give, its value
// right - so restated givens and copied premises establish nothing.
TraceReport check_arithmetic_trace(const pb::ArithmeticGraphInstance& instance, std::string_view text,
                                   const std::vector<ArithmeticResult>& required = {});

// The same against a task's own required derivation (arithmetic_required), read only when some step
// is valid (a completion without valid steps covers nothing).
TraceReport check_arithmetic_task(const pb::Task& task, std::string_view text);

}  // namespace verity
