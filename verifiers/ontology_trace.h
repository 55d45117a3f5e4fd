// Step-level checking (process reward) of ontology_deduction reasoning written as sentences, as the
// gold chain of thought is:
//   Wren is a grimpus. Since every grimpus is a quumpus, Wren is a quumpus. ... So Wren is not round.
//   So the statement "Wren is round" is false.
// A sentence is a step when it makes a claim about the task's entity; other sentences are prose and
// are skipped. Every claim in the sentence is read (premise clauses too): each "<entity> is <literal>
// [or|and <literal> ...]" (literals: "[not] [a|an] <concept>" or "[not] <property>"; "and" lists are
// one claim per literal), each quoted rule ("every X [that is Y] is Z", "everything that is ... is
// ..."), claims under a hypothesis ("if / suppose <entity> is H, ... <entity> is C" claims H -> C,
// until so / therefore / thus / hence / in either case), a verdict `the statement "<entity> is
// <literal>" is true|false`, "cannot be determined", or - in the prompt's symbolic syntax - the last
// "[~|¬|not ]<name>(<entity>)" with the literals joined to it by | ∨ or "or". Paraphrases read the
// same: "is also", "must be", "would be", "is therefore", "isn't". A step is valid when every claim in
// it holds: entity claims follow from the stated facts and rules, quoted rules from the rules alone
// (Z3, one propositional variable per concept / property, a bounded resource limit per check), and
// "cannot be determined" holds when the facts and rules settle neither the query nor its negation. Reasons for invalid steps: no readable claim, an unknown word, a claim that
// does not follow. Bounded work without a clock (so scoring is deterministic): at most
// kMaxOntologySteps steps, claims of at most 16 alternatives, and each Z3 check is a propositional
// question the size of the task's own facts and rules under Z3's resource limit (a count of solver
// work, not a clock: a timeout made scores depend on the machine's load); never throws.
#pragma once
#include <string>
#include <string_view>
#include <vector>

#include "schemas/verity.pb.h"
#include "verifiers/trace_report.h"

namespace verity {

inline constexpr int kMaxOntologySteps = 64;          // steps checked; later ones are ignored (truncated)
inline constexpr unsigned kOntologyStepRlimit = 2'000'000;  // Z3 resource limit per check

// `text` is the reasoning (the completion; everything from the first <answer> tag on is ignored).
// `gold`: the gold reasoning's sentences (Task.trace texts), from which the required derivation is
// read: the results it establishes outright that are not stated facts (chain concepts, the
// disjunctions split on, refuted cases, the answer's literal; "cannot be determined" for Unknown
// tasks), each depending on the earlier results its sentence names. report.covered counts those a
// valid step establishes, unless a result it depends on is established only later (out of order).
// A sentence found verbatim in `prompt` (a copied premise or the question) is checked but
// establishes nothing.
TraceReport check_ontology_trace(const pb::OntologyInstance& instance, std::string_view text,
                                 const std::vector<std::string>& gold = {}, std::string_view prompt = {});

}  // namespace verity
