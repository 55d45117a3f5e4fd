#include "verifiers/trace_report.h"

#include <string>

namespace verity {

std::string process_score_definition(const std::string& family) {
  static const std::string kCommon =
      "process = coverage x precision: coverage = results of the required derivation (what the gold solution "
      "establishes and the answer depends on) established by valid steps, in an order that respects their dependencies (a result whose input is established only later does not count); "
      "precision = valid steps / steps. No steps: 0. Restated givens or copied premises establish nothing. "
      "With --process-weight w: reward = outcome x ((1 - w) + w x process). ";
  if (family == "arithmetic_graph")
    return kCommon + "Required: every quantity the gold solution computes. A 'Define <quantity> as C; so C = A + B = "
                     "3 + 1 = 4.' step is valid when the relation is one the facts give, its inputs were defined by "
                     "earlier steps, and the numbers and result are right.";
  if (family == "ontology_deduction")
    return kCommon + "Required: every literal or disjunction the gold reasoning derives (not a stated fact; 'cannot "
                     "be determined' for Unknown tasks), depending on the earlier ones its sentence names. A sentence "
                     "is valid when every claim in it holds (premise clauses, quoted rules and hypothetical claims "
                     "included).";
  if (family == "fol_deduction")
    return kCommon + "Required: the conclusions of the gold proof's steps (its ints and the hypothesis or its "
                     "negation). A step 'fact3 & int1 -> int2: <statement>' counts when Z3 shows its premises entail "
                     "it and the ints it cites were derived by valid steps. UNKNOWN tasks have no proof: no process "
                     "score (the outcome is the reward).";
  if (family == "long_horizon_sum")
    return kCommon + "Required: every turn's running total. Steps are the reasoning's 'Turn t: ... = total' lines; "
                     "a line is valid when its total is right.";
  if (family == "list_functions")
    return "Rule mode only (answer=rule; output mode has none, its outcome is the reward): process = coverage x "
           "precision, where the rule is the one step (valid when it reproduces every example) and the required "
           "results are the held-out probes, inputs where every program of the DSL that fits the examples agrees: "
           "coverage = probes the rule gets right / probes. The outcome is the examples and the held-out query; "
           "with --process-weight w: reward = outcome x ((1 - w) + w x process).";
  return "";
}

void record_trace(const TraceReport& trace, const std::string& truncated_note, pb::Score& score) {
  score.set_steps_checked(trace.steps_checked);
  score.set_steps_valid(trace.steps_valid);
  score.set_steps_required(trace.required);
  score.set_steps_covered(trace.covered);
  score.set_process(trace.process());
  std::string text = "; steps " + std::to_string(trace.steps_valid) + "/" + std::to_string(trace.steps_checked) + " valid";
  if (trace.first_invalid > 0) text += ", first invalid step " + std::to_string(trace.first_invalid) + ": " + trace.first_problem;
  if (trace.required > 0)
    text += "; derivation " + std::to_string(trace.covered) + "/" + std::to_string(trace.required) + " established";
  if (trace.truncated) text += " (" + truncated_note + ")";
  score.set_reason(score.reason() + text);
}

}  // namespace verity
