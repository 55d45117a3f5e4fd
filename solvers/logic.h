// A small propositional logic AST shared by generators and verifiers.
// Symbolic syntax (what the printer writes and the parser reads):
//   variables: identifiers [A-Za-z][A-Za-z0-9_]*     constants: T, F are NOT special (plain names)
//   ~x   x & y   x | y   x -> y   x <-> y   ( ... )
// Precedence, tightest first: ~, &, |, ->, <->; -> is right-associative.
#pragma once
// GCC 12 reports a false -Wstringop-overread in small_vector's inline-buffer move (the bound it
// sees is the heap case's); the warning is located in the header, so silenced there alone.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wstringop-overread"
#endif
#include <boost/container/small_vector.hpp>
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace verity::logic {

enum class Op { Var, Not, And, Or, Implies, Iff };

struct Formula;
using FormulaPtr = std::shared_ptr<const Formula>;

struct Formula {
  Op op = Op::Var;
  int var = -1;              // Var only: index into the variable list
  FormulaPtr left, right;    // Not uses left only

  static FormulaPtr variable(int index);
  static FormulaPtr negate(FormulaPtr f);
  static FormulaPtr binary(Op op, FormulaPtr l, FormulaPtr r);
};

// Truth value under an assignment given as a bit mask (bit i = variable i).
bool evaluate(const Formula& f, uint64_t assignment);
int depth(const Formula& f);
int size(const Formula& f);
// Variables used, sorted, unique.
std::vector<int> variables_of(const Formula& f);

// Symbolic rendering with minimal parentheses (always re-parses to the same tree).
std::string to_symbolic(const Formula& f, const std::vector<std::string>& names);
// English rendering: each variable is a clause ("the lamp is on") with its negation
// ("the lamp is not on"); compound parts are bracketed by "both/either ... and/or".
struct Phrases {
  std::vector<std::string> positive;
  std::vector<std::string> negative;
};
std::string to_english(const Formula& f, const Phrases& phrases);

// The truth table of a formula over variables 0..num_vars-1 (num_vars <= 20), one bit per
// assignment, computed with word-wide bit operations: the fast path for search and brute force.
// Up to 8 variables (4 words) the words are held inline: the generators build several tables per
// task, and a heap block each cost more than the bit operations.
struct TruthTable {
  int num_vars = 0;
  boost::container::small_vector<uint64_t, 4> words;
  bool bit(uint64_t assignment) const { return (words[assignment >> 6] >> (assignment & 63)) & 1u; }
  bool none() const;   // unsatisfiable
  bool all() const;    // valid
  TruthTable& operator&=(const TruthTable& o);
  TruthTable operator~() const;
  bool intersects(const TruthTable& o) const;
};
TruthTable truth_table(const Formula& f, int num_vars);
TruthTable all_true(int num_vars);
// The table of variable v alone: bit a set when assignment a makes v true.
TruthTable variable_table(int v, int num_vars);

struct ParseResult {
  FormulaPtr formula;        // null on error
  std::string error;         // with the character offset
};
// Parses symbolic syntax; names must be in `names` (their index becomes the variable).
// Bounded: inputs over 4096 bytes or nested deeper than 64 are rejected, never recursed into.
ParseResult parse(std::string_view text, const std::vector<std::string>& names);

}  // namespace verity::logic
