#include "verifiers/trace_report.h"

namespace verity {

void record_trace(const TraceReport& trace, const std::string& truncated_note, pb::Score& score) {
  score.set_steps_checked(trace.steps_checked);
  score.set_steps_valid(trace.steps_valid);
  std::string text = "; steps " + std::to_string(trace.steps_valid) + "/" + std::to_string(trace.steps_checked) + " valid";
  if (trace.first_invalid > 0) text += ", first invalid step " + std::to_string(trace.first_invalid) + ": " + trace.first_problem;
  if (trace.truncated) text += " (" + truncated_note + ")";
  score.set_reason(score.reason() + text);
}

}  // namespace verity
