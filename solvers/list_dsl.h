// The list-function DSL of the list_functions family: programs are pipelines of stages over lists of
// integers ("filter(odd) | map(x * 2) | sort"), the last stage possibly reducing the list to a number
// (sum, length, max, count(P) ...). Shared by the generator (sampling, gold outputs, the identifiability
// search) and the verifier (parsing and running untrusted rules), so both read one semantics.
//
// Semantics: values are integers in int32 range; any result outside it, a list longer than
// kMaxLength, max / min / head / last of an empty list and x % c with c <= 0 are undefined, and an
// undefined value stays undefined through later stages. Programs are total otherwise.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace verity::listdsl {

inline constexpr int kMaxLength = 64;              // longest list a program may build
inline constexpr int kMaxStages = 32;              // parse limit for untrusted rules
inline constexpr size_t kMaxProgramBytes = 4096;   // parse limit for untrusted rules

enum class StageKind : uint8_t {
  Map, MapIf, Filter, Take, Drop, Reverse, Sort, SortDesc, Unique, Append, Prepend,  // list -> list
  Sum, Length, Max, Min, Head, Last, Count                                           // list -> number
};
enum class ArithOp : uint8_t { Add, Sub, Mul, Mod, Neg };
enum class PredOp : uint8_t { Gt, Lt, Even, Odd };

struct Stage {
  StageKind kind = StageKind::Reverse;
  ArithOp arith = ArithOp::Add;  // map / map_if: x <arith> arg
  int32_t arg = 0;               // map / map_if operand; take / drop / append / prepend argument
  PredOp pred = PredOp::Gt;      // filter / count / map_if condition
  int32_t pred_arg = 0;          // x > pred_arg, x < pred_arg
  bool operator==(const Stage&) const = default;
};
bool is_reducer(StageKind kind);

struct Program {
  std::vector<Stage> stages;
  bool returns_number() const { return !stages.empty() && is_reducer(stages.back().kind); }
};

// Canonical text: "map(x + 3)", "map(if even then x * 2 else x)", "filter(x > 2)", "take(2)", "sort".
std::string to_text(const Stage& stage);
std::string to_text(const Program& program);  // stages joined by " | "

// A list, a number or undefined.
struct Value {
  enum class Type : uint8_t { List, Number, Undefined };
  Type type = Type::List;
  std::vector<int32_t> items;  // a number's value is items[0]
  bool operator==(const Value&) const = default;
  static Value list(std::vector<int32_t> items) { return {Type::List, std::move(items)}; }
  static Value number(int32_t v) { return {Type::Number, {v}}; }
  static Value undefined() { return {Type::Undefined, {}}; }
};
std::string to_text(const Value& value);  // "[4, 1, 3]", "[]", "7", "undefined"

Value run_stage(const Stage& stage, const Value& input);
Value run(const Program& program, const std::vector<int32_t>& input);

// Parses an untrusted rule: stages separated by '|', keywords in any case, spaces anywhere; at most
// kMaxProgramBytes bytes and kMaxStages stages; constants must fit int32; a number-valued stage may
// only come last. Linear time. `error` is "" on success, else says what is wrong and where.
struct ParsedProgram {
  Program program;
  std::string error;
};
ParsedProgram parse_program(std::string_view text);

// The hypothesis space: the stages a program may use. Constants c range over 1..constants
// (multipliers and moduli over 2..constants+1, thresholds over 1..constants).
enum class Tier : uint8_t { Basic, Extended, Full };
struct PrimitiveSet {
  std::vector<Stage> lists;    // list -> list stages
  std::vector<Stage> numbers;  // list -> number stages (last stage only)
};
PrimitiveSet primitive_set(Tier tier, int constants);
// Programs with 1..depth stages (a number-valued stage only last).
double hypothesis_space(const PrimitiveSet& set, int depth);
// The biggest layer the search may hold: (list stages)^(depth - 1) distinct states at most.
double search_states_bound(const PrimitiveSet& set, int depth);
// The stages' kinds, in words, for the rule-mode prompt.
std::string describe_language(Tier tier, int constants);

// Every program of 1..depth stages over `set`, deduplicated by observational equivalence on the
// task's own inputs (examples and extra inputs): a breadth-first search over the tuples of values the
// programs produce, one tuple per distinct behaviour, with the number of programs reaching it. Exact:
// two programs in one tuple agree on every input that matters.
struct SearchResult {
  uint64_t fitting_programs = 0;    // programs reproducing every example output
  uint64_t fitting_behaviours = 0;  // of them, distinct on the extra inputs
  int shortest = 0;                 // fewest stages of a fitting program, 0 when none fits
  std::vector<char> determined;     // per extra input: every fitting program gives one defined value
  uint64_t states = 0;              // intermediate tuples expanded (the search's cost)
};
SearchResult search(const PrimitiveSet& set, int depth, const std::vector<std::vector<int32_t>>& example_inputs,
                    const std::vector<Value>& example_outputs, const std::vector<std::vector<int32_t>>& extra_inputs);

}  // namespace verity::listdsl
