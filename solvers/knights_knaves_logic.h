// The logic of knights_knaves puzzles, shared by the generator, the verifier's Z3 check and the tests.
// Each person is a knight (every statement true) or a knave (every statement false); an assignment is
// a bit mask, bit i set = person i is a knight. A statement is a small formula stored in a fixed array
// (no heap), evaluated three ways:
//   * truth tables over all 2^n assignments, 64 per machine word (n <= kMaxTablePeople): the fast
//     uniqueness proof used while generating;
//   * three-valued evaluation on partial assignments: the backtracking reference solver, whose case
//     analysis is the gold trace and whose decision count measures difficulty;
//   * Z3 (solvers/knights_knaves_z3.h): the proof for n > kMaxTablePeople, and the tests' cross-check.
#pragma once
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace verity::kk {

constexpr int kMaxPeople = 16;
constexpr int kMaxTablePeople = 12;  // 4096 assignments = 64 words per truth table
constexpr int kMaxNodes = 64;

enum class Op : uint8_t { Knight, Knave, Not, And, Or, Implies, Iff, Exactly };

struct Node {
  Op op = Op::Knight;
  uint8_t person = 0;          // Knight / Knave
  uint8_t count = 0;           // Exactly: how many of `group` have the counted role
  bool counts_knaves = false;  // Exactly: counts knaves instead of knights (same truth, other wording)
  uint16_t group = 0;          // Exactly: bit mask of people
  int8_t left = -1, right = -1;  // child node indices (Not uses left)
};

// Nodes in post-order: children before parents, the root last.
struct Formula {
  std::array<Node, kMaxNodes> nodes;
  int size = 0;
  int root() const { return size - 1; }
  // Appends a node; returns its index, or -1 when full. (Inline: statements are drawn node by node.)
  int add(const Node& node) {
    if (size >= kMaxNodes) return -1;
    nodes[size] = node;
    return size++;
  }
  uint16_t people() const;  // mask of the people mentioned
  int depth() const;
};

struct Statement {
  int speaker = 0;
  Formula formula;
};

struct Puzzle {
  int people = 0;
  std::vector<Statement> statements;
};

inline bool is_knight(uint32_t assignment, int person) { return (assignment >> person) & 1u; }

// Two-valued truth under a complete assignment: one pass over the nodes, each operator applied
// through its truth table (tests check it against a plain tree walk).
bool evaluate(const Formula& f, uint32_t assignment);
// Kleene three-valued truth when only the people in `known` are decided.
enum Truth : int8_t { False = 0, True = 1, Unknown = 2 };
Truth evaluate_partial(const Formula& f, uint32_t known, uint32_t knights);
// Whether every statement agrees with its speaker's role under `assignment`.
bool consistent(const Puzzle& p, uint32_t assignment);

// Consistent assignments, counted up to `limit`, by truth tables (people <= kMaxTablePeople) or
// else by the backtracking solver. count_by_tables throws std::invalid_argument beyond kMaxTablePeople. `first` receives the least consistent assignment, if any.
int count_solutions(const Puzzle& p, int limit, uint32_t* first = nullptr);
int count_by_tables(const Puzzle& p, int limit, uint32_t* first = nullptr);
// The pieces, for searches that change one statement at a time (people <= kMaxTablePeople):
// 64-bit words per table; the table of assignments where a statement agrees with its speaker's role;
// and the count of assignments set in every one of `count` tables.
int table_words(int people);
void consistency_table(const Statement& s, int people, uint64_t* out);
int count_in_tables(const uint64_t* const* tables, int count, int people, int limit, uint32_t* first = nullptr);

// The backtracking reference solver: assigns people in index order (knight first), after each
// decision propagating every statement with a single undecided person (speaker or mentioned) and
// pruning on three-valued evaluation. Explores the whole tree, so it also proves uniqueness.
struct SolveStep {
  enum class Kind { Assume, Forced, Contradiction, Solution } kind;
  int statement = -1;     // Forced / Contradiction: the statement used
  int person = -1;        // Assume / Forced: who; role below
  bool knight = false;
  int depth = 0;          // the branch this step belongs to: `depth` choices, bit d of `path` set
  uint32_t path = 0;      // when choice d+1 took the second (knave) branch
  uint32_t known = 0;     // who is decided when the step happens
  uint32_t knights = 0;   // which of them are knights
};
struct SolveResult {
  int solutions = 0;            // counted up to the limit given
  std::vector<uint32_t> found;  // the first solutions, in search order
  long decisions = 0;           // branching decisions: the difficulty measure
  std::vector<SolveStep> steps; // only when asked for
};
SolveResult solve(const Puzzle& p, int limit, bool record_steps);
// The same into `out` (cleared first; a reused result keeps its vectors' capacity). `tables`, when
// given (people <= kMaxTablePeople), holds statement i's consistency_table at tables[i], which the
// solver would otherwise compute.
void solve(const Puzzle& p, int limit, bool record_steps, SolveResult& out, const uint64_t* const* tables = nullptr);
// Appends a step's branch as "1.2.1" (1 = knight, 2 = knave at each choice), nothing at the root.
void append_case_name(const SolveStep& step, std::string& out);

// Symbolic syntax: a name means "is a knight", ~name "is a knave"; ~ & | -> <-> with
// parentheses; exactlyK(n1, n2, ...) means exactly K of those people are knights. The printer
// parenthesises every compound operand, so reading back never depends on precedence.
std::string to_symbolic(const Formula& f, const std::vector<std::string>& names);
// The same, appended to `out` (a reused string: no allocation once it has grown).
void append_symbolic(const Formula& f, const std::vector<std::string>& names, std::string& out);
// Parses the syntax above (with the usual precedence ~ & | -> <->; -> right-associative).
// Bounded: over 2048 bytes, deeper than 32 or more than kMaxNodes nodes is an error.
std::optional<Formula> parse_symbolic(std::string_view text, const std::vector<std::string>& names,
                                      std::string* error = nullptr);

}  // namespace verity::kk

namespace verity {

// The gold answer's wording when the statements allow no or several role assignments.
inline constexpr const char* kNoUniqueSolution = "no unique solution";

}  // namespace verity
