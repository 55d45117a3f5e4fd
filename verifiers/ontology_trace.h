// Step-level checking (process reward) of ontology_deduction reasoning written as sentences, as the
// gold chain of thought is:
//   Wren is a grimpus. Since every grimpus is a quumpus, Wren is a quumpus. ... So Wren is not round.
//   So the statement "Wren is round" is false.
// A sentence is a step when it makes a claim about the task's entity; other sentences are prose and
// are skipped. The claim is what the sentence concludes: the last "<entity> is <literal> [or <literal>
// ...]" in it (literals: "[not] [a|an] <concept>" or "[not] <property>"), a verdict `the statement
// "<entity> is <literal>" is true|false`, "cannot be determined", or - in the prompt's symbolic syntax -
// the last "[~|¬|not ]<name>(<entity>)" with the literals joined to it by | ∨ or "or". A step is valid when its claim
// follows from the stated facts and rules (Z3, one propositional variable per concept / property, a
// bounded resource limit per step) - or, for "cannot be determined", when the facts and rules settle neither the
// query nor its negation. Reasons for invalid steps: no readable claim, an unknown word, a claim that
// does not follow. Bounded work without a clock (so scoring is deterministic): at most
// kMaxOntologySteps steps, claims of at most 16 alternatives, and each Z3 check is a propositional
// question the size of the task's own facts and rules under Z3's resource limit (a count of solver
// work, not a clock: a timeout made scores depend on the machine's load); never throws.
#pragma once
#include <string>
#include <string_view>

#include "schemas/verity.pb.h"
#include "verifiers/trace_report.h"

namespace verity {

inline constexpr int kMaxOntologySteps = 64;          // steps checked; later ones are ignored (truncated)
inline constexpr unsigned kOntologyStepRlimit = 2'000'000;  // Z3 resource limit per check

// `text` is the reasoning (the completion; everything from the first <answer> tag on is ignored).
TraceReport check_ontology_trace(const pb::OntologyInstance& instance, std::string_view text);

}  // namespace verity
