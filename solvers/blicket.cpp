#include "solvers/blicket.h"

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
