#include "solvers/ontology_chaining.h"

#include <map>
#include <string>
#include <vector>

namespace verity {

// ---------------------------------------------------------------------------------------------
// Forward chaining over the stored instance (the label of record).
// Literals are integers: 2 * predicate + (1 when negated), so negation is `lit ^ 1`.
// ---------------------------------------------------------------------------------------------
namespace {

struct Clause {
  std::vector<int> if_all, then_any;
};
struct Theory {
  int predicates = 0;
  std::vector<int> facts;
  std::vector<Clause> rules;
};
using Known = std::vector<char>;  // indexed by literal

// Literal text ("red", "~red") -> literal id; -1 when the name is not a predicate.
int literal_id(const std::map<std::string, int>& index, const std::string& text) {
  const bool negated = !text.empty() && text[0] == '~';
  const auto it = index.find(negated ? text.substr(1) : text);
  return it == index.end() ? -1 : 2 * it->second + (negated ? 1 : 0);
}

Theory theory_of(const pb::OntologyInstance& inst, std::map<std::string, int>& index) {
  for (const auto& c : inst.concepts()) index.emplace(c, static_cast<int>(index.size()));
  for (const auto& p : inst.properties()) index.emplace(p, static_cast<int>(index.size()));
  Theory t;
  t.predicates = static_cast<int>(index.size());
  auto ids = [&](const auto& texts) {
    std::vector<int> out;
    for (const auto& s : texts) out.push_back(literal_id(index, s));
    return out;
  };
  for (const auto& f : inst.facts()) t.facts.push_back(literal_id(index, f));
  for (const auto& r : inst.rules()) t.rules.push_back({ids(r.if_all()), ids(r.then_any())});
  return t;
}

// Sets a literal; false when its negation is already known (a contradiction).
bool assert_literal(Known& k, int lit, bool& changed) {
  if (lit < 0 || k[lit]) return true;
  if (k[lit ^ 1]) return false;
  k[lit] = 1;
  changed = true;
  return true;
}

// One pass of a rule read as the clause ~p1 | ... | ~pn | d1 | ... | dm: when every literal but one
// is refuted, the last one holds (modus ponens, disjunctive syllogism, modus tollens).
bool propagate_rule(const Clause& r, Known& k, bool& changed) {
  int open = -1, open_count = 0;
  auto consider = [&](int lit) {  // lit: the clause literal; satisfied when known
    if (lit < 0) return false;
    if (k[lit]) return true;
    if (!k[lit ^ 1]) open = lit, ++open_count;
    return false;
  };
  for (int p : r.if_all)
    if (consider(p ^ 1)) return true;
  for (int d : r.then_any)
    if (consider(d)) return true;
  if (open_count == 0) return false;  // every literal refuted: the facts contradict this rule
  if (open_count == 1) return assert_literal(k, open, changed);
  return true;
}

// Unit propagation to a fixpoint; false on a contradiction.
bool saturate(const Theory& t, Known& k) {
  for (bool changed = true; changed;) {
    changed = false;
    for (const auto& r : t.rules)
      if (!propagate_rule(r, k, changed)) return false;
  }
  return true;
}

// One level of case analysis on each fired disjunction: what holds in every consistent case holds;
// a case that contradicts the facts is refuted. Repeats until nothing new is learnt.
bool chain(const Theory& t, Known& k) {
  if (!saturate(t, k)) return false;
  for (bool learnt = true; learnt;) {
    learnt = false;
    for (const auto& r : t.rules) {
      if (r.then_any.size() < 2) continue;
      if (!std::all_of(r.if_all.begin(), r.if_all.end(), [&](int p) { return p >= 0 && k[p]; })) continue;
      if (std::any_of(r.then_any.begin(), r.then_any.end(), [&](int d) { return d >= 0 && k[d]; })) continue;
      Known common;
      for (int d : r.then_any) {
        if (d < 0 || k[d ^ 1]) continue;
        Known c = k;
        c[d] = 1;
        if (!saturate(t, c)) {  // this case is impossible
          bool changed = false;
          if (!assert_literal(k, d ^ 1, changed)) return false;
          learnt = true;
          break;
        }
        if (common.empty()) {
          common = c;
        } else {
          for (size_t i = 0; i < c.size(); ++i) common[i] = common[i] && c[i];
        }
      }
      if (learnt) break;
      for (size_t i = 0; i < common.size(); ++i)
        if (common[i] && !k[i]) {
          bool changed = false;
          if (!assert_literal(k, static_cast<int>(i), changed)) return false;
          learnt = true;
        }
      if (learnt) break;
    }
    if (learnt && !saturate(t, k)) return false;
  }
  return true;
}

}  // namespace

std::string ontology_forward_label(const pb::OntologyInstance& inst) {
  std::map<std::string, int> index;
  const Theory t = theory_of(inst, index);
  Known k(2 * t.predicates, 0);
  bool changed = false;
  for (int f : t.facts)
    if (!assert_literal(k, f, changed)) return kOntologyUnknown;  // inconsistent facts decide nothing here
  if (!chain(t, k)) return kOntologyUnknown;
  const int q = literal_id(index, inst.query());
  if (q < 0) return kOntologyUnknown;
  return k[q] ? kOntologyTrue : k[q ^ 1] ? kOntologyFalse : kOntologyUnknown;
}

}  // namespace verity
