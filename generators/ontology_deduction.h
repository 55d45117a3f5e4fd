// ontology_deduction (PrOntoQA / ProofWriter style): one entity, facts about it and rules over a
// fictional (or real, or deliberately false) ontology of concepts and properties; the question is
// "True or false: <entity> is <property>". The gold derivation takes `hops` rule applications and
// mixes modus ponens, and-rules, proof by cases (a disjunction whose every case leads on) and proof
// by contradiction (a disjunct refuted by modus tollens). Distractors add derivable but irrelevant
// branches, decoy rules from underivable concepts and irrelevant facts. With the `unanswerable` knob a
// premise on the derivation path is removed and the gold answer is Unknown ("cannot be determined").
// The label is computed from the stored instance by forward chaining (ontology_forward_label); tests
// cross-check it with Z3.
#pragma once
#include "tasks/family.h"

namespace verity {

inline constexpr const char* kOntologyTrue = "True";
inline constexpr const char* kOntologyFalse = "False";
inline constexpr const char* kOntologyUnknown = "Unknown";

// Forward chaining over the instance's facts and rules: unit propagation (modus ponens, modus tollens,
// disjunctive syllogism) plus one level of case analysis on fired disjunctions (proof by cases; a case
// that leads to a contradiction is refuted). Returns True / False / Unknown for the query literal.
std::string ontology_forward_label(const pb::OntologyInstance& instance);

class OntologyDeduction final : public Family {
 public:
  std::string name() const override { return "ontology_deduction"; }
  std::string summary() const override {
    return "PrOntoQA-style ontology: facts and rules about one entity; is the statement true, false or unknown?";
  }
  std::vector<KnobSpec> knob_specs() const override;
  KnobMap level_knobs(int level) const override;
  std::string answer_format() const override { return "True, False, or Unknown"; }
  void generate(Rng& rng, const Knobs& knobs, pb::Task& task) const override;
  pb::Score verify(const pb::Task& task, std::string_view completion) const override;
};

}  // namespace verity
