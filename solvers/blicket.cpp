#include "solvers/blicket.h"

#include <bit>
#include <stdexcept>

namespace verity::blicket {

const char* rule_name(Rule rule) { return rule == Rule::Disjunctive ? "disjunctive" : "conjunctive"; }

const char* outcome_word(Outcome outcome) {
  return outcome == Outcome::On ? "on" : outcome == Outcome::Off ? "off" : "undetermined";
}

bool consistent(const Hypothesis& h, const std::vector<Trial>& trials) {
  for (const Trial& t : trials)
    if (activates(h.rule, h.blickets, t.objects) != t.on) return false;
  return true;
}

std::vector<Hypothesis> consistent_hypotheses(int objects, const std::vector<Rule>& rules,
                                              const std::vector<Trial>& trials) {
  if (objects < 1 || objects > kMaxObjects) throw std::invalid_argument("blicket: objects out of range");
  std::vector<Hypothesis> out;
  const Mask end = Mask{1} << objects;
  for (Rule rule : rules)
    for (Mask b = 0; b < end; ++b)
      if (consistent({rule, b}, trials)) out.push_back({rule, b});
  return out;
}

Outcome decide(const std::vector<Hypothesis>& hypotheses, Mask query) {
  if (hypotheses.empty()) throw std::invalid_argument("blicket: no hypothesis to decide a query with");
  bool any_on = false, any_off = false;
  for (const Hypothesis& h : hypotheses) {
    (activates(h.rule, h.blickets, query) ? any_on : any_off) = true;
    if (any_on && any_off) return Outcome::Undetermined;
  }
  return any_on ? Outcome::On : Outcome::Off;
}

namespace {

// Bit x (0..63) set where `x & t` is non-empty / holds two or more objects: the activation of the
// low six objects of a word's 64 blicket sets, by the low six objects on the machine.
struct LowTables {
  uint64_t any[64] = {}, two[64] = {};
  LowTables() {
    for (unsigned t = 0; t < 64; ++t)
      for (unsigned x = 0; x < 64; ++x) {
        const unsigned both = x & t;
        if (both) any[t] |= uint64_t{1} << x;
        if (both & (both - 1)) two[t] |= uint64_t{1} << x;
      }
  }
};
const LowTables kLow;

// Bit positions x (0..63) whose bit i (0..5) is clear.
constexpr uint64_t kClear[6] = {0x5555555555555555ULL, 0x3333333333333333ULL, 0x0F0F0F0F0F0F0F0FULL,
                                0x00FF00FF00FF00FFULL, 0x0000FFFF0000FFFFULL, 0x00000000FFFFFFFFULL};

// Which of word w's 64 blicket sets (w << 6 | x) turn the machine on with `placed` on it.
uint64_t activation_word(Rule rule, Mask placed, uint32_t w) {
  const Mask high = (static_cast<Mask>(w) << 6) & placed;
  const unsigned low = placed & 63;
  if (rule == Rule::Disjunctive) return high ? ~uint64_t{0} : kLow.any[low];
  if (high & (high - 1)) return ~uint64_t{0};
  return high ? kLow.any[low] : kLow.two[low];
}

}  // namespace

void Explanations::reset(int objects, const std::vector<Rule>& rules, const std::vector<Trial>& trials) {
  if (objects < 1 || objects > kMaxObjects) throw std::invalid_argument("blicket: objects out of range");
  objects_ = objects;
  all_ = (Mask{1} << objects) - 1;
  rules_ = rules.size();
  if (per_rule_.size() < rules_) per_rule_.resize(rules_);
  const size_t words = objects >= 6 ? size_t{1} << (objects - 6) : 1;
  const uint64_t valid = objects >= 6 ? ~uint64_t{0} : (uint64_t{1} << (1u << objects)) - 1;
  for (size_t r = 0; r < rules_; ++r) {
    PerRule& per = per_rule_[r];
    per.rule = rules[r];
    per.fits.assign(words, valid);
    for (uint32_t w = 0; w < words; ++w)
      for (const Trial& t : trials) {
        const uint64_t on = activation_word(per.rule, t.objects, w);
        per.fits[w] &= t.on ? on : ~on;
      }
    close(per);
  }
}

// The closures under subsets and supersets (sum over subsets, with OR), and the union of the sets.
void Explanations::close(PerRule& r) const {
  const size_t words = r.fits.size();
  r.subset = r.fits;
  const bool conjunctive = r.rule == Rule::Conjunctive;
  if (conjunctive) r.superset = r.fits;
  for (int i = 0; i < objects_; ++i) {
    if (i < 6) {
      const unsigned shift = 1u << i;
      for (size_t w = 0; w < words; ++w) {
        r.subset[w] |= (r.subset[w] & kClear[i]) << shift;
        if (conjunctive) r.superset[w] |= (r.superset[w] >> shift) & kClear[i];
      }
      continue;
    }
    const size_t bit = size_t{1} << (i - 6);
    for (size_t w = 0; w < words; ++w) {
      if (w & bit) r.subset[w] |= r.subset[w ^ bit];
      else if (conjunctive) r.superset[w] |= r.superset[w | bit];
    }
  }
  // The union of the fitting sets: object i is in it when a fitting set has i (the words' sets with i
  // are every other run of 2^i of them below bit 6, whole words above).
  r.any = 0;
  if (conjunctive) return;
  for (int i = 0; i < objects_; ++i)
    for (size_t w = 0; w < words; ++w) {
      const uint64_t with_i = i < 6 ? ~kClear[i] : (w >> (i - 6) & 1 ? ~uint64_t{0} : 0);
      if (r.fits[w] & with_i) {
        r.any |= Mask{1} << i;
        break;
      }
    }
}

Outcome Explanations::decide(Mask query) const {
  bool any_on = false, any_off = false;
  const Mask outside = all_ & ~query;
  for (size_t k = 0; k < rules_; ++k) {
    const PerRule& r = per_rule_[k];
    if (r.rule == Rule::Disjunctive) {
      any_on = any_on || (r.any & query) != 0;
      any_off = any_off || test(r.subset, outside);
    } else {
      // Off: some fitting set holds at most one of the query's objects. On: some holds two of them.
      any_off = any_off || test(r.subset, outside);
      for (Mask a = query; a && !(any_on && any_off); a &= a - 1) {
        const Mask i = a & -a;
        any_off = any_off || test(r.subset, outside | i);
        for (Mask b = a & (a - 1); b && !any_on; b &= b - 1) any_on = test(r.superset, i | (b & -b));
      }
    }
    if (any_on && any_off) return Outcome::Undetermined;
  }
  if (!any_on && !any_off) throw std::invalid_argument("blicket: no hypothesis to decide a query with");
  return any_on ? Outcome::On : Outcome::Off;
}

std::vector<Hypothesis> Explanations::list() const {
  std::vector<Hypothesis> out;
  for (size_t k = 0; k < rules_; ++k)
    for (size_t w = 0; w < per_rule_[k].fits.size(); ++w)
      for (uint64_t bits = per_rule_[k].fits[w]; bits; bits &= bits - 1)
        out.push_back({per_rule_[k].rule, static_cast<Mask>(w << 6) | static_cast<Mask>(std::countr_zero(bits))});
  return out;
}

ObjectStatus object_status(const std::vector<Hypothesis>& hypotheses, int objects) {
  const Mask all = (Mask{1} << objects) - 1;
  ObjectStatus s{all, all};
  for (const Hypothesis& h : hypotheses) {
    s.always &= h.blickets;
    s.never &= ~h.blickets & all;
  }
  return s;
}

}  // namespace verity::blicket
