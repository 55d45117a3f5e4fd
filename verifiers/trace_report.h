// What a step checker found in a model's reasoning, and how it goes into a Score (steps_checked,
// steps_valid, and the first invalid step in the reason). Step checkers: verifiers/arithmetic_trace.h,
// verifiers/ontology_trace.h.
#pragma once
#include <string>

#include "schemas/verity.pb.h"

namespace verity {

struct TraceReport {
  int steps_checked = 0;
  int steps_valid = 0;
  int first_invalid = 0;       // 1-based step number, 0 when every step is valid
  std::string first_problem;   // why that step is invalid
  bool truncated = false;      // the text was longer than the checker reads
};

// Sets the Score's step counts and appends "; steps V/C valid, first invalid step K: why" (and
// `truncated_note` when the checker stopped early) to its reason.
void record_trace(const TraceReport& trace, const std::string& truncated_note, pb::Score& score);

}  // namespace verity
