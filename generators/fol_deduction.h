// fol_deduction (in the spirit of FLD, Morishita et al. 2023): numbered facts over monadic predicates
// and named individuals, and a hypothesis. Is it PROVED, DISPROVED or UNKNOWN from the facts?
//
// Generation builds a proof tree top-down from the hypothesis (or, for DISPROVED, a statement that
// contradicts it) with single inference steps: modus ponens, and-introduction / elimination,
// or-introduction / elimination (proof by cases), contraposition, De Morgan, and with quantifiers
// universal instantiation, universal modus ponens, universal syllogism (a derivation for an arbitrary
// x generalised), existential generalisation and existential elimination. The main branch reaches
// `depth`; `branch_extensions` side leaves are then expanded into sub-proofs. The tree's leaves are
// the facts. UNKNOWN tasks leave out one leaf. Distractors: the leaves of a tree for the opposite
// statement with one leaf removed, perturbed copies of tree formulas, random rules over the same
// predicates. Every distractor is kept only when Z3 (verifiers/fol_z3.h) confirms afterwards that the
// facts stay consistent, the label is unchanged and every fact of the gold proof is still necessary
// (no set of facts without it entails the proved statement: no shortcut through distractors).
//
// Closed world (`world=closed`): the prompt states that whatever does not follow from the facts is
// false, so a hypothesis the facts do not prove is DISPROVED (there is no UNKNOWN answer); the
// instance keeps the open-world `outcome` as well.
//
// Gold proof (the trace, one step per TraceStep):  fact3 & fact7 -> int1: <statement>; int1 & fact2 ->
// hypothesis   ("-> ¬hypothesis" when the proof derives the negation; UNKNOWN has no proof).
#pragma once
#include <string>
#include <vector>

#include "generators/fol_logic.h"
#include "tasks/family.h"

namespace verity {

inline constexpr const char* kFolProved = "PROVED";
inline constexpr const char* kFolDisproved = "DISPROVED";
inline constexpr const char* kFolUnknown = "UNKNOWN";

// The stored instance read back into formulas. A fact that does not parse stays null (never expected
// for generated tasks; the checker treats it as unusable).
struct FolParsed {
  fol::Vocabulary vocabulary;
  std::vector<fol::FormulaPtr> facts;
  fol::FormulaPtr hypothesis;  // null when it does not parse
};
FolParsed parse_fol_instance(const pb::FolDeductionInstance& instance);

class FolDeduction final : public Family {
 public:
  std::string name() const override { return "fol_deduction"; }
  std::string summary() const override {
    return "FLD-style first-order deduction: numbered facts, a hypothesis; PROVED, DISPROVED or UNKNOWN, with a "
           "checked proof";
  }
  std::vector<KnobSpec> knob_specs() const override;
  KnobMap level_knobs(int level) const override;
  std::string answer_format() const override { return "PROVED, DISPROVED, or UNKNOWN"; }
  void generate(Rng& rng, const Knobs& knobs, pb::Task& task) const override;
  pb::Score verify(const pb::Task& task, std::string_view completion) const override;
};

}  // namespace verity
