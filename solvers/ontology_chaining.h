// The label of record of ontology_deduction tasks, computed from the stored instance alone (the
// generator labels with it; tests cross-check it with Z3), and the three answers it gives.
#pragma once
#include <string>

#include "schemas/verity.pb.h"

namespace verity {

inline constexpr const char* kOntologyTrue = "True";
inline constexpr const char* kOntologyFalse = "False";
inline constexpr const char* kOntologyUnknown = "Unknown";

// Forward chaining over the instance's facts and rules: unit propagation (modus ponens, modus tollens,
// disjunctive syllogism) plus one level of case analysis on fired disjunctions (proof by cases; a case
// that leads to a contradiction is refuted). Returns True / False / Unknown for the query literal.
std::string ontology_forward_label(const pb::OntologyInstance& instance);

}  // namespace verity
