// string_rules' logic, shared by its generator and tests: the string-function classes of
// InductionBench. A function copies its input and changes letters by rules; a rule names a context
// (k-1 letters), a letter and its replacement.
//   ISL    (input strictly local): letter x becomes y where the k-1 input letters just before it are u.
//   L-OSL  (left output strictly local): written left to right; x becomes y where the k-1 letters
//          already written just before it (output) are u.
//   R-OSL  (right output strictly local): written right to left; x becomes y where the k-1 letters
//          already written just after it (output) are u.
// Positions without a full context are copied. Examples determine f(u, x) wherever (u, x) occurs in
// them (the context read in the input for ISL, in the given output for OSL), so the rule set with the
// fewest rules that reproduces them is the non-identity part of that map (derive()); when the
// examples exercise r rules and the function is known to have at most r, it is the only one.
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

namespace verity::strrules {

enum class Kind { Isl, LeftOsl, RightOsl };
const char* kind_name(Kind kind);  // "isl" / "l-osl" / "r-osl"
bool parse_kind(std::string_view name, Kind& kind);

struct Rule {
  std::string context;  // k-1 letters, in string order
  char from = 0;
  char to = 0;
  bool operator<(const Rule& o) const { return std::tie(context, from, to) < std::tie(o.context, o.from, o.to); }
  bool operator==(const Rule& o) const { return context == o.context && from == o.from && to == o.to; }
};

struct Function {
  Kind kind = Kind::Isl;
  int window = 2;            // k: context of k-1 letters plus the letter itself
  std::vector<Rule> rules;   // distinct (context, from), from != to
};

// The output; `fired[i]` (when given) is the index of the rule that changed position i, or -1.
std::string apply(const Function& f, std::string_view input, std::vector<int>* fired = nullptr);

using Example = std::pair<std::string, std::string>;  // input, output

// What examples determine: f(context, letter) for every (context, letter) they exercise.
struct Derivation {
  bool consistent = true;
  std::string conflict;                                   // why not, when not consistent
  std::map<std::pair<std::string, char>, char> determined;  // (context, letter) -> output letter
  std::vector<Rule> minimal;                              // non-identity entries: the fewest rules, sorted
};
Derivation derive(Kind kind, int window, const std::vector<Example>& examples);

// Where a context lies for position i of an example: the k-1 letters before it (ISL: input, L-OSL:
// output) or after it (R-OSL: output); false when the position has no full context.
bool context_at(Kind kind, int window, const std::string& input, const std::string& output, size_t i,
                std::string& context);

}  // namespace verity::strrules
