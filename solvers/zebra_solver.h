// A small exact solver for Einstein (zebra) puzzles, fast enough to prove uniqueness thousands of
// times per second: every value keeps a bitmask of the houses it may still be in; clues and the
// one-value-per-house rule narrow the masks to a fixpoint, then we branch on the tightest value and
// count solutions up to a limit. No allocation inside the search: the state is a fixed array.
#pragma once
#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "schemas/verity.pb.h"

namespace verity::zebra {

constexpr int kMaxHouses = 8;
constexpr int kMaxAttributes = 8;

enum class ClueKind : uint8_t { Same, NotSame, NextTo, LeftOf, ImmediatelyLeft, Position, NotPosition };
const char* kind_name(ClueKind kind);
bool parse_kind(const std::string& name, ClueKind& kind);

// Values are numbered globally: value v of attribute a is a * houses + v. Houses are 0-based here.
struct Clue {
  ClueKind kind = ClueKind::Same;
  uint8_t x = 0;      // first value
  uint8_t y = 0;      // second value (two-value clues)
  uint8_t house = 0;  // position clues
  bool operator==(const Clue& o) const { return kind == o.kind && x == o.x && y == o.y && house == o.house; }
};

// solution[value] = house of that value.
using Solution = std::vector<int>;

bool holds(const Clue& clue, const Solution& solution);

struct Puzzle {
  int houses = 0;
  int attributes = 0;
  std::vector<Clue> clues;
  int values() const { return houses * attributes; }
};

struct SolveResult {
  int solutions = 0;       // capped at the limit asked for
  long nodes = 0;          // branching nodes visited (difficulty measure)
  Solution first;          // the first solution found, when any
};

// Counts the solutions of `puzzle`, stopping once `limit` are found. `skip` (if >= 0) ignores that
// clue, which is how non-redundancy is tested without copying the clue list.
SolveResult solve(const Puzzle& puzzle, int limit = 2, int skip = -1);

// One step of the gold deduction: a value placed (or a house ruled out) and the clues that forced it.
struct Deduction {
  int value = 0;
  int house = 0;               // 0-based
  bool placed = true;          // true: value is in house; false: value is not in house
  std::string rule;            // clue kind, "one_per_house", "contradiction" (a house ruled out), or
                               // "only_house_left" (placed once a contradiction ruled out the others)
  std::vector<int> clues;      // indices of the clues cited
};

// Deterministic human-style deduction of a uniquely solvable puzzle: propagation steps citing clues,
// and when propagation stalls, ruling out a placement whose assumption leads to a contradiction.
// Returns false if it could not finish without deeper search (the caller then lists the solution).
bool deduce(const Puzzle& puzzle, std::vector<Deduction>& steps);

}  // namespace verity::zebra

namespace verity {

// The canonical grid answer of a zebra instance: "House 1: red, Brit, dog; House 2: ...".
std::string zebra_grid_answer(const pb::ZebraInstance& instance);

}  // namespace verity
