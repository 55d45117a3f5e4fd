// The first-order language of fol_deduction: monadic predicates (adjectives) over named individuals,
// with at most one quantifier, at the top of a statement, binding the single variable x.
//
// Symbolic surface syntax (what the printer writes; the parser also accepts the alternatives):
//   red(alice)   ~red(alice)   (A & B)   (A | B)   (A -> B)   forall x: <body>   exists x: <body>
//   alternatives: ¬ ! for ~, ∧ for &, ∨ for |, → for ->, ∀x / ∃x for forall x / exists x
// Natural surface syntax (one reading per formula, several templates for quantified statements):
//   "Alice is red", "Alice is not red", "A and B", "A or B", "if A then B",
//   "it is not the case that (A and B)", nested binary parts in parentheses,
//   "for every thing, if it is red then it is blue", "everything that is red is not blue",
//   "there is something such that it is red and it is blue"   ("it" is the bound variable)
// Both syntaxes are case-insensitive and a final period is ignored. The parser is bounded (length
// and nesting caps) and never throws.
#pragma once
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "schemas/verity.pb.h"

namespace verity::fol {

enum class Kind { Atom, Not, And, Or, Implies, Forall, Exists };

struct Formula;
using FormulaPtr = std::shared_ptr<const Formula>;

inline constexpr int kVariable = -1;  // Atom::arg of the bound variable x

struct Formula {
  Kind kind = Kind::Atom;
  int pred = -1;           // Atom: predicate index
  int arg = kVariable;     // Atom: constant index, or kVariable
  FormulaPtr a, b;         // Not / quantifiers use a only
};

FormulaPtr atom(int pred, int arg);
FormulaPtr negate(FormulaPtr f);                   // plain ¬f
FormulaPtr neg(const FormulaPtr& f);               // ¬f, or g when f = ¬g (no double negation)
FormulaPtr binary(Kind kind, FormulaPtr l, FormulaPtr r);
FormulaPtr forall(FormulaPtr body);
FormulaPtr exists(FormulaPtr body);

bool equal(const Formula& x, const Formula& y);
int size(const Formula& f);        // number of nodes
bool is_literal(const Formula& f);  // atom or negated atom
bool is_quantified(const Formula& f);
// Replaces every atom argument `from` by `to` (constant index or kVariable).
FormulaPtr substitute(const FormulaPtr& f, int from, int to);
// Constants (indices) mentioned, sorted and unique; predicates likewise.
std::vector<int> constants_of(const Formula& f);
std::vector<int> predicates_of(const Formula& f);

struct Vocabulary {
  std::vector<std::string> predicates;  // lower-case single words ("red")
  std::vector<std::string> constants;   // lower-case single words ("alice"); capitalised in English
};

std::string to_symbolic(const Formula& f, const Vocabulary& v);
// `variant` picks among the templates a statement has (quantified statements have two or three).
std::string to_natural(const Formula& f, const Vocabulary& v, size_t variant = 0);

struct ParseResult {
  FormulaPtr formula;  // null on error
  std::string error;
};
inline constexpr size_t kMaxStatementChars = 4096;
ParseResult parse(std::string_view text, const Vocabulary& v);

// Truth value in a finite interpretation: domain elements 0..n-1, constant k denotes element k,
// truth(pred, element) gives the atoms. Quantifiers range over all `domain` elements.
template <class Truth>
bool evaluate(const Formula& f, int domain, const Truth& truth, int x = -1) {
  switch (f.kind) {
    case Kind::Atom: return truth(f.pred, f.arg == kVariable ? x : f.arg);
    case Kind::Not: return !evaluate(*f.a, domain, truth, x);
    case Kind::And: return evaluate(*f.a, domain, truth, x) && evaluate(*f.b, domain, truth, x);
    case Kind::Or: return evaluate(*f.a, domain, truth, x) || evaluate(*f.b, domain, truth, x);
    case Kind::Implies: return !evaluate(*f.a, domain, truth, x) || evaluate(*f.b, domain, truth, x);
    case Kind::Forall:
      for (int e = 0; e < domain; ++e)
        if (!evaluate(*f.a, domain, truth, e)) return false;
      return true;
    case Kind::Exists:
      for (int e = 0; e < domain; ++e)
        if (evaluate(*f.a, domain, truth, e)) return true;
      return false;
  }
  return false;
}

}  // namespace verity::fol

namespace verity {

// The answers of fol_deduction tasks.
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

}  // namespace verity
