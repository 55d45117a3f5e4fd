// fol_deduction's ground questions decided by truth tables while they are small, by Z3 beyond.
//
// The grounding is GroundSolver's (solvers/fol_z3.h): the named individuals, one witness element per
// existential premise and one for a refuted goal, every atom a (predicate, element) Boolean. At the
// lower levels a question mentions a dozen atoms or so, and a truth table over them, 64 assignments a
// machine word, answers each check in a few word operations, where a Z3 check and its assertions cost
// tens of microseconds and dominated generation. Once the atoms outnumber kMaxTableAtoms the decider
// hands every premise, in order, to a GroundSolver and asks Z3 from then on. Both answer the same
// questions exactly (sat / unsat is a property of the formulas), so which one answered never shows in
// the output; the tests check them against each other.
#pragma once
#include <memory>
#include <optional>
#include <vector>

#include "solvers/fol_logic.h"
#include "solvers/fol_z3.h"

namespace verity::fol {

class GroundDecider {
 public:
  // Atoms up to which truth tables decide: 2^16 assignments, 1,024 words a table (measured: the tables
  // beat Z3 up to about there on fol_deduction's questions).
  static constexpr int kMaxTableAtoms = 16;

  // As GroundSolver's: witnesses are the existential premises this decider may hold.
  GroundDecider(int predicates, int constants, int witnesses);
  ~GroundDecider();
  GroundDecider(const GroundDecider&) = delete;
  GroundDecider& operator=(const GroundDecider&) = delete;

  // As GroundSolver's (fol_z3.h): the premise's index, or -1 when the witness capacity is used up.
  int add(const FormulaPtr& premise);
  int premises() const { return static_cast<int>(premises_.size()); }
  std::optional<bool> entails(const std::vector<int>& use, const FormulaPtr& goal);
  std::optional<bool> consistent(const std::vector<int>& use);
  Verdict decide(const std::vector<int>& use, const FormulaPtr& hypothesis);
  std::vector<int> all() const;
  // Whether the questions outgrew the tables and Z3 answers (for the tests).
  bool on_z3() const { return z3_ != nullptr; }

 private:
  using Table = std::vector<uint64_t>;  // bit a of word w: the formula under assignment 64 w + a
  struct Premise {
    FormulaPtr formula;
    int witness = -1;
    Table table;
  };
  struct Refuter {
    FormulaPtr goal;  // held, so a later goal never reuses its address
    Table table;      // the goal's negation
  };

  size_t words() const { return atoms_ > 6 ? size_t{1} << (atoms_ - 6) : 1; }
  // Registers the atoms of f's grounding; false when they would outnumber kMaxTableAtoms.
  bool register_atoms(const Formula& f, bool positive, int witness, int x = -1);
  bool register_atom(int pred, int element);
  // f (positive) or its negation, existentials read at `witness`, universals over the whole domain.
  void holds(const Formula& f, bool positive, int witness, Table& out);
  void quantifier_free(const Formula& f, int x, Table& out, size_t depth);
  uint64_t column(int pred, int element, size_t w) const;
  void widen(Table& t) const;  // to words(): the atoms added since leave it unchanged
  std::optional<bool> satisfiable(const std::vector<int>& use, const Table* extra);
  void switch_to_z3();

  int predicates_, constants_, domain_, next_witness_;
  int atoms_ = 0;
  std::vector<int> atom_index_;  // predicate * domain + element -> atom, or -1
  std::vector<Premise> premises_;
  std::vector<Refuter> refuters_;
  std::vector<Table> scratch_;   // per nesting depth of quantifier_free
  Table instance_;               // one instance of a universal statement
  std::unique_ptr<GroundSolver> z3_;
};

}  // namespace verity::fol
