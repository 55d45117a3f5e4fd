// causal_induction's logic, shared by its generator and its tests: blicket machines (ACRE / Gopnik's
// blicket detector). Some objects are blickets; the machine turns on exactly when enough blickets are
// on it: at least one (disjunctive rule) or at least two (conjunctive rule). An explanation
// (hypothesis) is a rule and a blicket set; the trials keep those that reproduce every outcome, and a
// query is decided when all of those agree on it. Plain enumeration: at most 2 x 2^kMaxObjects
// hypotheses, bit-parallel on object masks.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace verity::blicket {

constexpr int kMaxObjects = 16;
using Mask = uint32_t;  // bit i: object i

enum class Rule { Disjunctive, Conjunctive };
const char* rule_name(Rule rule);  // "disjunctive" / "conjunctive"
// Blickets needed on the machine for it to turn on: 1 or 2.
inline int threshold(Rule rule) { return rule == Rule::Disjunctive ? 1 : 2; }

struct Trial {
  Mask objects = 0;
  bool on = false;
};

struct Hypothesis {
  Rule rule = Rule::Disjunctive;
  Mask blickets = 0;
};

inline bool activates(Rule rule, Mask blickets, Mask placed) {
  const Mask present = blickets & placed;
  return rule == Rule::Disjunctive ? present != 0 : (present & (present - 1)) != 0;  // >= 2 bits
}

bool consistent(const Hypothesis& h, const std::vector<Trial>& trials);

// Every hypothesis over `objects` objects and the allowed rules that reproduces every trial, rules in
// the order given, blicket masks ascending.
std::vector<Hypothesis> consistent_hypotheses(int objects, const std::vector<Rule>& rules,
                                              const std::vector<Trial>& trials);

enum class Outcome { On, Off, Undetermined };
const char* outcome_word(Outcome outcome);  // "on" / "off" / "undetermined"

// On when every hypothesis turns the machine on for `query`, Off when none does, else Undetermined.
// Requires at least one hypothesis.
Outcome decide(const std::vector<Hypothesis>& hypotheses, Mask query);

// The same explanations and answers, fast: each rule's fitting blicket sets as a bitset over all 2^objects
// of them (bit b: blicket set b), built a word of 64 sets at a time, with its closures under subsets
// and supersets, so a query is decided by a few lookups. The generator decides hundreds of queries
// for each of thousands of candidate trial sets; enumerating 2^objects hypotheses against every trial
// and every query dominated generation (the tests check this against the plain enumeration above).
// Reuse one (reset) to keep its buffers.
class Explanations {
 public:
  void reset(int objects, const std::vector<Rule>& rules, const std::vector<Trial>& trials);
  // decide(consistent_hypotheses(...), query), and like it requires at least one fitting explanation.
  Outcome decide(Mask query) const;
  // consistent_hypotheses(...): the rules in the order given, blicket sets ascending.
  std::vector<Hypothesis> list() const;

 private:
  struct PerRule {
    Rule rule = Rule::Disjunctive;
    std::vector<uint64_t> fits;     // bit b: blicket set b fits every trial
    std::vector<uint64_t> subset;   // bit x: some fitting set is a subset of x
    std::vector<uint64_t> superset; // bit x: some fitting set is a superset of x (conjunctive only)
    Mask any = 0;                   // the union of the fitting sets (disjunctive only)
  };
  bool test(const std::vector<uint64_t>& bits, Mask x) const { return (bits[x >> 6] >> (x & 63)) & 1; }
  void close(PerRule& r) const;
  int objects_ = 0;
  Mask all_ = 0;
  size_t rules_ = 0;
  std::vector<PerRule> per_rule_;
};

// What every consistent hypothesis agrees on about single objects: `always` are blickets in all of
// them, `never` in none.
struct ObjectStatus {
  Mask always = 0;
  Mask never = 0;
};
ObjectStatus object_status(const std::vector<Hypothesis>& hypotheses, int objects);

}  // namespace verity::blicket
