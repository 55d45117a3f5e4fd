// fol_deduction (in the spirit of FLD, Morishita et al. 2023): numbered facts over monadic predicates
// and named individuals, and a hypothesis. Is it PROVED, DISPROVED or UNKNOWN from the facts?
//
// Generation builds a proof tree top-down from the hypothesis (or, for DISPROVED, a statement that
// contradicts it) with single inference steps: modus ponens, and-introduction / elimination,
// or-introduction / elimination (proof by cases), contraposition, De Morgan, and with quantifiers
// universal instantiation, universal modus ponens, universal syllogism (a derivation for an arbitrary
// x generalised), existential generalisation and existential elimination. The main branch reaches
// `depth`; `branch_extensions` side leaves are then expanded into sub-proofs. The tree's leaves are
// the facts. UNKNOWN tasks leave out one leaf, a stand-in with fresh predicates in its place (see
// stand_in). Every task carries a counter statement, the root's opposite under a condition nothing
// derives ("if Y then not-R"), so the hypothesis's literals occur in the facts with both signs whatever
// the label (else the signs, and the count of negations, gave the label away). Distractors: the leaves
// of a tree for the opposite statement with one leaf removed, perturbed copies of tree formulas, random
// rules over the same predicates. Every distractor is kept only when the ground decider (truth tables,
// Z3 beyond them: solvers/fol_ground.h) confirms afterwards that the facts stay consistent, the label is
// unchanged and every fact of the gold proof is still necessary (no set of facts without it entails the
// proved statement: no shortcut through distractors).
//
// Closed world (`world=closed`): negation as failure on the hypothesis. The prompt states that a
// hypothesis the facts do not prove counts as false, so it is DISPROVED (there is no UNKNOWN answer);
// the instance keeps the open-world `outcome` as well. (The rule is stated for the hypothesis, not for
// every atomic statement: "whatever does not follow is false" applied to atoms would make some
// unprovable hypotheses true, e.g. "Bob is not red" when "Bob is red" does not follow.)
//
// Gold proof (the trace, one step per TraceStep):  fact3 & fact7 -> int1: <statement>; int1 & fact2 ->
// hypothesis   ("-> ¬hypothesis" when the proof derives the negation; UNKNOWN has no proof).
#include "generators/generators.h"

#include "generators/canonical_form.h"

#include <algorithm>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <stdexcept>

#include "solvers/fol_ground.h"
#include "solvers/fol_logic.h"
#include "tasks/answer_extraction.h"

namespace verity {
namespace {

class FolDeductionGenerator final : public Generator {
 public:
  std::string name() const override { return "fol_deduction"; }
  std::string summary() const override {
    return "FLD-style first-order deduction: numbered facts, a hypothesis; PROVED, DISPROVED or UNKNOWN, with a "
           "checked proof";
  }
  std::vector<KnobSpec> knob_specs() const override;
  KnobMap level_knobs(int level) const override;
  std::string answer_format() const override { return "PROVED, DISPROVED, or UNKNOWN"; }
  void generate(Rng& rng, const Knobs& knobs, pb::Task& task) const override;
  std::map<std::string, double> label_shares(const Knobs& knobs) const override;
  std::string question_key(const pb::Task& task) const override;
};

}  // namespace

using fol::FormulaPtr;
using fol::Kind;

namespace {

// Predicates: real adjectives and made-up ones (FLD uses random words too; world knowledge never helps).
const std::vector<std::string> kAdjectives = {
    "red", "blue", "green", "small", "large", "bright", "dull", "wooden", "metallic", "hot", "cold", "sweet",
    "sour", "fast", "slow", "shy", "loud", "quiet", "happy", "sad", "kind", "mean", "floral", "fruity", "spicy",
    "opaque", "liquid", "bitter", "soft", "hard", "heavy", "light", "round", "square", "striped", "spotted",
    "shiny", "muddy", "windy", "brave", "timid", "nervous", "dark", "earthy", "vivid", "rough", "calm", "clever",
    "dusty", "eager", "fancy", "gentle", "hollow", "icy", "jolly", "lucky", "noble", "plain", "proud", "rusty",
    "silent", "tidy", "upset", "wild", "young", "old", "rich", "poor", "sharp", "smooth"};
const std::vector<std::string> kOnsets = {"bl", "gr", "z", "v", "sn", "tr", "pl", "qu", "fl", "dr", "k", "w"};
const std::vector<std::string> kRimes = {"orpy", "umpish", "azzic", "eebly", "ontal"};
const std::vector<std::string> kNames = {"alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi",
                                         "ivan", "judy", "mallory", "oscar", "peggy", "rupert", "sybil", "trent",
                                         "victor", "wendy"};

constexpr int kMaxFormulaSize = 9;
constexpr int kAttempts = 40;

struct PoolExhausted : std::runtime_error {
  PoolExhausted() : std::runtime_error("fol_deduction: predicate word pool exhausted") {}
};

struct Words {
  fol::Vocabulary v;
  std::vector<std::string> pool;  // unused predicate words
  int fresh_predicate() {
    if (pool.empty()) throw PoolExhausted();
    v.predicates.push_back(pool.back());
    pool.pop_back();
    return static_cast<int>(v.predicates.size()) - 1;
  }
};

struct Node {
  FormulaPtr f;
  std::string rule;        // "" for a leaf (a fact)
  std::vector<int> kids;
  std::string came_from;   // the rule of the parent step (to avoid undoing it)
  int distance = 0;        // steps from the root
};

// "opposite" of a statement: one equivalent to its negation, of the same shape as the statements
// trees are built for (so a hypothesis's form says nothing about its label): De Morgan for pairs,
// the dual quantifier for quantified statements.
FormulaPtr opposite(const FormulaPtr& f) {
  if (f->kind == Kind::And) return fol::binary(Kind::Or, fol::neg(f->a), fol::neg(f->b));
  if (f->kind == Kind::Or) return fol::binary(Kind::And, fol::neg(f->a), fol::neg(f->b));
  if (f->kind == Kind::Exists) {
    const FormulaPtr& b = f->a;
    if (b->kind == Kind::And) return fol::forall(fol::binary(Kind::Implies, b->a, fol::neg(b->b)));
    return fol::forall(fol::neg(b));
  }
  if (f->kind == Kind::Forall) {
    const FormulaPtr& b = f->a;
    if (b->kind == Kind::Implies) return fol::exists(fol::binary(Kind::And, b->a, fol::neg(b->b)));
    return fol::exists(fol::neg(b));
  }
  return fol::neg(f);
}

// Builds proof trees top-down; each internal node is one inference step from its children.
class TreeBuilder {
 public:
  TreeBuilder(Rng& rng, Words& words, bool quantifiers, int constants)
      : rng_(rng), words_(words), quantifiers_(quantifiers), constants_(constants) {}

  std::vector<Node> nodes;

  int build(const FormulaPtr& goal, int depth, const std::string& came_from, int distance) {
    const int id = static_cast<int>(nodes.size());
    nodes.push_back({goal, "", {}, came_from, distance});
    if (depth > 0) expand(id, depth);
    return id;
  }

  // Turns leaf `id` into a sub-proof of the given depth (branch extension).
  void expand(int id, int depth) {
    const FormulaPtr goal = nodes[id].f;
    auto options = applicable(*goal, nodes[id].came_from);
    if (options.empty()) return;
    const Step step = make_step(rng_.pick(options), goal);
    nodes[id].rule = step.rule;
    const int distance = nodes[id].distance + 1;
    for (size_t k = 0; k < step.kids.size(); ++k) {
      const int kid = build(step.kids[k], k == step.main ? depth - 1 : 0, step.rule, distance);
      nodes[id].kids.push_back(kid);
    }
  }

  FormulaPtr fresh_literal(int constant) {
    const FormulaPtr a = fol::atom(words_.fresh_predicate(), constant);
    return rng_.chance(0.3) ? fol::negate(a) : a;
  }
  int home_constant(const fol::Formula& f) {
    const auto c = fol::constants_of(f);
    return c.empty() ? static_cast<int>(rng_.index(constants_)) : rng_.pick(c);
  }

 private:
  struct Step {
    std::string rule;
    std::vector<FormulaPtr> kids;
    size_t main = 0;  // the child that continues the branch
  };

  std::vector<std::string> applicable(const fol::Formula& g, const std::string& from) const {
    std::vector<std::string> out;
    auto add = [&](const char* rule, int weight) {
      for (int i = 0; i < weight; ++i) out.push_back(rule);
    };
    const int n = fol::size(g);
    if (g.kind == Kind::Forall) {
      if (g.a->kind == Kind::Implies && n + 2 <= kMaxFormulaSize) add("universal_syllogism", 1);
      return out;
    }
    if (g.kind == Kind::Exists) {
      if (from != "universal_instantiation") add("existential_generalisation", 2);
      add("existential_elimination", 1);
      return out;
    }
    if (n + 2 <= kMaxFormulaSize) add("modus_ponens", 4);
    if (n + 2 <= kMaxFormulaSize && from != "and_introduction") add("and_elimination", 1);
    if (n + 2 <= kMaxFormulaSize) add("or_elimination", 1);
    if (g.kind == Kind::And && from != "and_elimination") add("and_introduction", 3);
    if (g.kind == Kind::Or && from != "or_elimination") add("or_introduction", 2);  // else a shortcut
    if (g.kind == Kind::Implies && from != "contraposition") add("contraposition", 2);
    const bool pair = g.kind == Kind::And || g.kind == Kind::Or;
    const bool negated_pair = g.kind == Kind::Not && (g.a->kind == Kind::And || g.a->kind == Kind::Or);
    if ((pair || negated_pair) && from != "de_morgan") add("de_morgan", 2);
    if (quantifiers_ && fol::constants_of(g).size() == 1 && from != "existential_generalisation") {
      add("universal_instantiation", 1);
      if (fol::is_literal(g)) add("universal_modus_ponens", 2);
    }
    return out;
  }

  Step make_step(const std::string& rule, const FormulaPtr& g) {
    using fol::binary;
    const int c = home_constant(*g);
    if (rule == "modus_ponens") {
      const FormulaPtr x = fresh_literal(c);
      return {rule, {x, binary(Kind::Implies, x, g)}, 0};
    }
    if (rule == "and_elimination") {
      const FormulaPtr x = fresh_literal(c);
      return {rule, {rng_.chance(0.5) ? binary(Kind::And, g, x) : binary(Kind::And, x, g)}, 0};
    }
    if (rule == "or_elimination") {
      const FormulaPtr x = fresh_literal(c), y = fresh_literal(c);
      return {rule, {binary(Kind::Or, x, y), binary(Kind::Implies, x, g), binary(Kind::Implies, y, g)}, 0};
    }
    if (rule == "and_introduction") return {rule, {g->a, g->b}, rng_.index(2)};
    if (rule == "or_introduction") return {rule, {rng_.chance(0.5) ? g->a : g->b}, 0};
    if (rule == "contraposition") return {rule, {binary(Kind::Implies, fol::neg(g->b), fol::neg(g->a))}, 0};
    if (rule == "de_morgan") {
      if (g->kind == Kind::And) return {rule, {fol::negate(binary(Kind::Or, fol::neg(g->a), fol::neg(g->b)))}, 0};
      if (g->kind == Kind::Or) return {rule, {fol::negate(binary(Kind::And, fol::neg(g->a), fol::neg(g->b)))}, 0};
      const Kind dual = g->a->kind == Kind::And ? Kind::Or : Kind::And;
      return {rule, {binary(dual, fol::neg(g->a->a), fol::neg(g->a->b))}, 0};
    }
    if (rule == "universal_instantiation") return {rule, {fol::forall(fol::substitute(g, c, fol::kVariable))}, 0};
    if (rule == "universal_modus_ponens") {
      const FormulaPtr x = fresh_literal(c);
      const FormulaPtr general = binary(Kind::Implies, fol::substitute(x, c, fol::kVariable),
                                        fol::substitute(g, c, fol::kVariable));
      return {rule, {x, fol::forall(general)}, 0};
    }
    if (rule == "universal_syllogism") {
      const FormulaPtr y = fresh_literal(fol::kVariable);
      return {rule,
              {fol::forall(binary(Kind::Implies, g->a->a, y)), fol::forall(binary(Kind::Implies, y, g->a->b))},
              rng_.index(2)};
    }
    if (rule == "existential_generalisation") {
      const int at = static_cast<int>(rng_.index(constants_));
      return {rule, {fol::substitute(g->a, fol::kVariable, at)}, 0};
    }
    // existential_elimination: exists x Y(x), forall x (Y(x) -> body(x)) |- exists x body(x)
    const FormulaPtr y = fresh_literal(fol::kVariable);
    return {rule, {fol::exists(y), fol::forall(binary(Kind::Implies, y, g->a))}, 0};
  }

  Rng& rng_;
  Words& words_;
  bool quantifiers_;
  int constants_;
};

int height(const std::vector<Node>& nodes, int id) {
  int h = 0;
  for (int k : nodes[id].kids) h = std::max(h, 1 + height(nodes, k));
  return h;
}

std::vector<int> leaves_of(const std::vector<Node>& nodes) {
  std::vector<int> out;
  for (size_t i = 0; i < nodes.size(); ++i)
    if (nodes[i].kids.empty()) out.push_back(static_cast<int>(i));
  return out;
}

// The statement a tree proves: a literal about one individual, a pair of literals, or (with
// quantifiers) "some x is P and Q" / "every P is Q". The shapes are closed under opposite() and the
// literals' polarity is even, so the hypotheses of PROVED, DISPROVED and UNKNOWN tasks look alike.
FormulaPtr random_root(Rng& rng, TreeBuilder& tb, bool quantifiers, int constants) {
  const double u = rng.unit();
  const int c = static_cast<int>(rng.index(constants));
  auto literal = [&](int arg) {
    const FormulaPtr l = tb.fresh_literal(arg);
    return rng.chance(0.5) ? fol::neg(l) : l;
  };
  if (quantifiers && u < 0.25) {
    const FormulaPtr p = literal(fol::kVariable), q = literal(fol::kVariable);
    return rng.chance(0.5) ? fol::exists(fol::binary(Kind::And, p, q)) : fol::forall(fol::binary(Kind::Implies, p, q));
  }
  if (u < 0.4) {
    const FormulaPtr p = literal(c), q = literal(c);
    return fol::binary(rng.chance(0.5) ? Kind::And : Kind::Or, p, q);
  }
  return literal(c);
}

enum class Outcome { Proved, Disproved, Unknown };

fol::Verdict expected_verdict(Outcome o) {
  return o == Outcome::Proved ? fol::Verdict::Proved
         : o == Outcome::Disproved ? fol::Verdict::Disproved : fol::Verdict::Unknown;
}

struct Draft {
  std::vector<Node> nodes;       // the proof tree; node 0 is the root
  FormulaPtr hypothesis;
  std::vector<FormulaPtr> facts; // generation order: proof leaves first, then distractors
  std::vector<int> fact_node;    // per fact: its tree node, or -1 for a distractor
  int removed_leaf = -1;         // UNKNOWN: the tree node left out
};

// The leaves of a tree for the opposite statement, one of them left out, as distractor candidates.
std::vector<FormulaPtr> negated_tree_leaves(Rng& rng, Words& words, const Knobs& knobs, const FormulaPtr& target,
                                            int constants) {
  const int depth = static_cast<int>(knobs.get_int("depth"));
  TreeBuilder tb(rng, words, knobs.get("quantifiers") == "on", constants);
  tb.build(target, static_cast<int>(rng.uniform(1, std::max(1, depth - 1))), "", 0);
  std::vector<FormulaPtr> out;
  std::vector<int> leaves = leaves_of(tb.nodes);
  leaves.erase(leaves.begin() + static_cast<long>(rng.index(leaves.size())));
  for (int l : leaves) out.push_back(tb.nodes[l].f);
  return out;
}

// A tree formula with one atom changed (another predicate, or another individual).
FormulaPtr perturbed(Rng& rng, Words& words, const FormulaPtr& f, int constants) {
  if (f->kind == Kind::Atom) {
    if (f->arg != fol::kVariable && constants > 1 && rng.chance(0.4)) {
      int c = static_cast<int>(rng.index(constants - 1));
      if (c >= f->arg) ++c;
      return fol::atom(f->pred, c);
    }
    const int p = rng.chance(0.5) ? words.fresh_predicate() : static_cast<int>(rng.index(words.v.predicates.size()));
    return fol::atom(p, f->arg);
  }
  auto copy = std::make_shared<fol::Formula>(*f);
  if (f->b && rng.chance(0.5)) copy->b = perturbed(rng, words, f->b, constants);
  else copy->a = perturbed(rng, words, f->a, constants);
  return copy;
}

// A random rule or fact over the predicates already in use.
FormulaPtr random_rule(Rng& rng, const Words& words, int constants, bool quantifiers) {
  auto lit = [&](int arg) {
    const FormulaPtr a = fol::atom(static_cast<int>(rng.index(words.v.predicates.size())), arg);
    return rng.chance(0.3) ? fol::negate(a) : a;
  };
  const int c = static_cast<int>(rng.index(constants));
  const double u = rng.unit();
  if (quantifiers && u < 0.35) return fol::forall(fol::binary(Kind::Implies, lit(fol::kVariable), lit(fol::kVariable)));
  if (u < 0.75) return fol::binary(Kind::Implies, lit(c), lit(c));
  return lit(c);
}

bool has_fact(const Draft& d, const fol::Formula& f) {
  return std::any_of(d.facts.begin(), d.facts.end(), [&](const FormulaPtr& g) { return fol::equal(*g, f); });
}

// The proof facts (the first `proof_facts` entries of use) and the first k distractors, minus `skip`.
std::vector<int> prefix(const std::vector<int>& use, size_t proof_facts, size_t k, size_t skip = SIZE_MAX) {
  std::vector<int> out;
  for (size_t j = 0; j < proof_facts + k; ++j)
    if (j != skip) out.push_back(use[j]);
  return out;
}

// `bad(k)` says whether a property fails with the first k distractors; it must be monotone (once it
// fails, more facts never repair it: entailment and inconsistency are). While it fails with all of
// them, a binary search finds the shortest failing prefix and its last distractor, the culprit, goes.
// Only sat / unsat answers decide, never solver history, so the result is deterministic. False when
// Z3 gives up or the property fails without any distractor.
template <class Bad>
bool prune_distractors(std::vector<int>& use, Draft& d, size_t proof_facts, const Bad& bad) {
  for (;;) {
    const size_t n = use.size() - proof_facts;
    const std::optional<bool> all = bad(n);
    if (!all) return false;
    if (!*all) return true;
    size_t lo = 0, hi = n;  // good with lo distractors, bad with hi
    while (hi - lo > 1) {
      const size_t mid = (lo + hi) / 2;
      const std::optional<bool> b = bad(mid);
      if (!b) return false;
      (*b ? hi : lo) = mid;
    }
    if (hi == 0) return false;
    const long culprit = static_cast<long>(proof_facts + hi - 1);
    use.erase(use.begin() + culprit);
    d.facts.erase(d.facts.begin() + culprit);
    d.fact_node.erase(d.fact_node.begin() + culprit);
  }
}

// Makes every gold-proof fact necessary (without it the facts do not entail the proved statement):
// distractors that open such a shortcut go.
bool remove_shortcuts(fol::GroundDecider& solver, std::vector<int>& use, Draft& d, size_t proof_facts) {
  for (size_t i = 0; i < proof_facts; ++i) {
    const auto shortcut = [&](size_t k) { return solver.entails(prefix(use, proof_facts, k, i), d.nodes[0].f); };
    if (!prune_distractors(use, d, proof_facts, shortcut)) return false;
  }
  return true;
}

bool is_existential(const fol::Formula& f) {
  return f.kind == Kind::Exists || (f.kind == Kind::Not && f.a->kind == Kind::Forall);
}

// True when some atom occurs twice (e.g. "if Sybil is liquid then Sybil is not liquid"): such
// statements read as nonsense or tautologies, so distractors avoid them.
bool repeats_atom(const fol::Formula& f) {
  std::vector<std::pair<int, int>> atoms;
  std::vector<const fol::Formula*> stack{&f};
  while (!stack.empty()) {
    const fol::Formula* g = stack.back();
    stack.pop_back();
    if (g->kind == Kind::Atom) {
      const std::pair<int, int> a{g->pred, g->arg};
      if (std::find(atoms.begin(), atoms.end(), a) != atoms.end()) return true;
      atoms.push_back(a);
      continue;
    }
    stack.push_back(g->a.get());
    if (g->b) stack.push_back(g->b.get());
  }
  return false;
}

constexpr int kPredicateCapacity = 200;  // above the word pool's size

FormulaPtr distractor_candidate(Rng& rng, Words& words, const Knobs& knobs, const Draft& d, int constants,
                                std::vector<FormulaPtr>& negated) {
  const double u = rng.unit();
  if (!negated.empty() && u < 0.4) {
    FormulaPtr cand = negated.back();
    negated.pop_back();
    return cand;
  }
  if (u < 0.7) return perturbed(rng, words, d.nodes[rng.index(d.nodes.size())].f, constants);
  return random_rule(rng, words, constants, knobs.get("quantifiers") == "on");
}

// The proved statement's opposite under a condition nothing derives: "if Y then not-R" (Y a fresh
// literal) for a literal or pair R, "everything that is Y is not-Q" for a quantified R with last literal Q.
// Every task carries one. The proof's own facts state R's literals with R's polarity, so without it the
// hypothesis's literals occur in the facts with the hypothesis's polarity when PROVED and with the
// opposite one when DISPROVED: matching polarities told the two apart with accuracy 0.9 at level 1, and
// the count of negations (even for PROVED, odd for DISPROVED) with 0.58.
FormulaPtr counter_statement(TreeBuilder& tb, const FormulaPtr& root) {
  if (fol::is_quantified(*root))
    return fol::forall(fol::binary(Kind::Implies, tb.fresh_literal(fol::kVariable), fol::neg(root->a->b)));
  return fol::binary(Kind::Implies, tb.fresh_literal(tb.home_constant(*root)), opposite(root));
}

// Adds distractors that keep the facts consistent and the label unchanged (a PROVED / DISPROVED label
// survives any consistent addition) and open no shortcut to the proved statement; the `required` ones
// (the counter statement, an UNKNOWN task's stand-in) come first and must stay. False when the proof tree
// itself has a shortcut (no distractor to blame), a required statement breaks the label, or Z3 gave up.
bool add_distractors(Rng& rng, Words& words, const Knobs& knobs, Draft& d, Outcome outcome, int constants,
                     const std::vector<FormulaPtr>& required) {
  // An UNKNOWN task lacks its removed leaf: one more distractor keeps the fact count from telling
  // UNKNOWN apart (it did so at 0.75 accuracy on levels 1-2); the stand-in, when there is one, fills
  // that place. The counter statement is one more for all.
  const int wanted = static_cast<int>(knobs.get_int("distractors")) + (d.removed_leaf >= 0 ? 1 : 0) + 1;
  // Candidates first, so the solver's domain holds exactly the witnesses they may need (a smaller
  // domain means fewer instances of every universal statement).
  std::vector<FormulaPtr> negated, candidates = required;
  const bool others = wanted > static_cast<int>(required.size());
  if (others) negated = negated_tree_leaves(rng, words, knobs, opposite(d.nodes[0].f), constants);
  for (int k = 0; others && k < 4 * wanted + 16; ++k) {
    const FormulaPtr cand = distractor_candidate(rng, words, knobs, d, constants, negated);
    if (fol::equal(*cand, *d.hypothesis) || fol::size(*cand) > kMaxFormulaSize || repeats_atom(*cand)) continue;
    candidates.push_back(cand);
  }
  const auto existential = [](const std::vector<FormulaPtr>& fs) {
    return static_cast<int>(std::count_if(fs.begin(), fs.end(), [](const FormulaPtr& f) { return is_existential(*f); }));
  };
  fol::GroundDecider solver(kPredicateCapacity, constants, existential(d.facts) + existential(candidates) + 1);
  std::vector<int> use;
  for (const auto& f : d.facts) use.push_back(solver.add(f));
  size_t next = 0;
  const size_t proof_facts = d.facts.size();
  // The label breaks when the facts become inconsistent, or for UNKNOWN when they settle the
  // hypothesis or contradict the removed leaf (which must stay the missing link). All monotone.
  const int removed = d.removed_leaf >= 0 ? solver.add(d.nodes[d.removed_leaf].f) : -1;
  const auto label_breaks = [&](size_t k) -> std::optional<bool> {
    std::vector<int> facts = prefix(use, proof_facts, k);
    if (outcome != Outcome::Unknown) {
      const auto ok = solver.consistent(facts);
      return ok ? std::optional<bool>(!*ok) : std::nullopt;
    }
    const auto proved = solver.entails(facts, d.hypothesis), disproved = solver.entails(facts, fol::neg(d.hypothesis));
    facts.push_back(removed);
    const auto restorable = solver.consistent(facts);
    if (!proved || !disproved || !restorable) return std::nullopt;
    return *proved || *disproved || !*restorable;
  };
  // Candidates are added in bulk and the culprits pruned afterwards: far fewer solver calls than
  // checking each one, as most distractors are harmless. Two rounds refill what pruning removed.
  // The first pass also checks the tree alone: with no distractor added, a failing prune means the
  // tree has a shortcut of its own.
  for (int round = 0; round < 2 && (round == 0 || static_cast<int>(use.size() - proof_facts) < wanted); ++round) {
    while (static_cast<int>(use.size() - proof_facts) < wanted && next < candidates.size()) {
      const FormulaPtr cand = candidates[next++];
      if (has_fact(d, *cand)) continue;
      const int index = solver.add(cand);
      if (index < 0) continue;
      use.push_back(index);
      d.facts.push_back(cand);
      d.fact_node.push_back(-1);
    }
    if (!prune_distractors(use, d, proof_facts, label_breaks) ||
        (outcome != Outcome::Unknown && !remove_shortcuts(solver, use, d, proof_facts)))
      return false;
  }
  return std::all_of(required.begin(), required.end(), [&](const FormulaPtr& f) { return has_fact(d, *f); });
}

// UNKNOWN leaves out a leaf, and a stand-in takes its place: the leaf with the predicates that are not
// the root's made fresh ("x -> R" becomes "x' -> R", "x" becomes "x'"), or "if Y then L" when all of
// them are the root's. So R keeps its mentions in the facts, with both signs next to the counter
// statement, and the facts keep the shapes of a task with a proof, while the chain stays broken (Z3
// checks it). Without it the facts stated R with one sign only, which told UNKNOWN apart. Null for a
// leaf of the root's predicates alone that is not a literal or a pair of them.
FormulaPtr stand_in(TreeBuilder& tb, Words& words, const FormulaPtr& leaf, const FormulaPtr& root) {
  const std::vector<int> root_predicates = fol::predicates_of(*root), mentioned = fol::predicates_of(*leaf);
  const auto of_root = [&](int p) {
    return std::find(root_predicates.begin(), root_predicates.end(), p) != root_predicates.end();
  };
  std::map<int, int> fresh;
  std::function<FormulaPtr(const FormulaPtr&)> rename = [&](const FormulaPtr& f) -> FormulaPtr {
    if (f->kind == Kind::Atom) {
      if (of_root(f->pred)) return f;
      if (!fresh.count(f->pred)) fresh[f->pred] = words.fresh_predicate();
      return fol::atom(fresh[f->pred], f->arg);
    }
    auto copy = std::make_shared<fol::Formula>(*f);
    copy->a = rename(f->a);
    if (f->b) copy->b = rename(f->b);
    return copy;
  };
  if (std::any_of(mentioned.begin(), mentioned.end(), [&](int p) { return !of_root(p); })) return rename(leaf);
  const bool pair = (leaf->kind == Kind::And || leaf->kind == Kind::Or) && fol::is_literal(*leaf->a) &&
                    fol::is_literal(*leaf->b);
  const bool flat = fol::is_literal(*leaf) || pair;
  if (!flat) return nullptr;
  return fol::binary(Kind::Implies, tb.fresh_literal(tb.home_constant(*leaf)), leaf);
}

// One attempt at a task; false when a check fails (the caller retries with the RNG moved on).
bool draft_task(Rng& rng, const Knobs& knobs, Outcome outcome, Words& words, int constants, Draft& d) {
  const bool quantifiers = knobs.get("quantifiers") == "on";
  const int depth = static_cast<int>(knobs.get_int("depth"));
  TreeBuilder tb(rng, words, quantifiers, constants);
  const FormulaPtr root = random_root(rng, tb, quantifiers, constants);
  tb.build(root, depth, "", 0);
  // Branch extensions: a side leaf becomes a sub-proof that stays within the tree's depth.
  for (int e = 0; e < knobs.get_int("branch_extensions"); ++e) {
    std::vector<int> side;
    for (int l : leaves_of(tb.nodes))
      if (tb.nodes[l].distance < depth && l != 0) side.push_back(l);
    if (side.empty()) break;
    const int leaf = rng.pick(side);
    tb.expand(leaf, static_cast<int>(rng.uniform(1, depth - tb.nodes[leaf].distance)));
  }
  d.nodes = tb.nodes;
  if (height(d.nodes, 0) != depth) return false;
  const bool flip = outcome == Outcome::Disproved || (outcome == Outcome::Unknown && rng.chance(0.5));
  d.hypothesis = flip ? opposite(root) : root;
  std::vector<int> leaves = leaves_of(d.nodes);
  // An UNKNOWN task needs a leaf left after removing one; trees of one leaf only for PROVED / DISPROVED
  // made the fact count a shortcut (0.58 accuracy at level 1), so no outcome uses them.
  if (leaves.size() < 2) return false;
  if (outcome == Outcome::Unknown) d.removed_leaf = rng.pick(leaves);
  for (int l : leaves) {
    if (l == d.removed_leaf) continue;
    if (has_fact(d, *d.nodes[l].f)) return false;  // a repeated leaf: the proof would cite one fact twice
    d.facts.push_back(d.nodes[l].f);
    d.fact_node.push_back(l);
  }
  if (d.facts.empty()) return false;
  {
    fol::GroundDecider solver(kPredicateCapacity, constants, static_cast<int>(d.facts.size()) + 1);
    std::vector<int> use;
    for (const auto& f : d.facts) use.push_back(solver.add(f));
    if (std::find(use.begin(), use.end(), -1) != use.end()) return false;
    if (solver.decide(use, d.hypothesis) != expected_verdict(outcome)) return false;
    if (d.removed_leaf >= 0) {  // restoring the removed leaf decides the hypothesis again
      use.push_back(solver.add(d.nodes[d.removed_leaf].f));
      const fol::Verdict restored = solver.decide(use, d.hypothesis);
      if (restored != fol::Verdict::Proved && restored != fol::Verdict::Disproved) return false;
      use.pop_back();
    }
  }
  std::vector<FormulaPtr> required{counter_statement(tb, root)};
  if (d.removed_leaf >= 0)
    if (FormulaPtr s = stand_in(tb, words, d.nodes[d.removed_leaf].f, root)) required.push_back(s);
  return add_distractors(rng, words, knobs, d, outcome, constants, required);  // also checks proof-fact necessity
}

// ---- rendering ----

std::string statement(const FormulaPtr& f, const fol::Vocabulary& v, bool natural, size_t variant) {
  return natural ? fol::to_natural(*f, v, variant) : fol::to_symbolic(*f, v);
}

// Gold proof steps in post-order, citing facts by prompt number and earlier steps as intK.
struct ProofWriter {
  const Draft& d;
  const std::vector<int>& fact_number;  // per tree node: 1-based prompt number, 0 if not a fact
  const fol::Vocabulary& v;
  bool natural;
  bool negated;  // the root derives the negation of the hypothesis
  pb::Task& task;
  int next_int = 1;

  std::string visit(int id) {
    const Node& n = d.nodes[id];
    if (n.kids.empty()) return "fact" + std::to_string(fact_number[id]);
    std::vector<std::string> cites;
    for (int k : n.kids) cites.push_back(visit(k));
    std::string text;
    for (size_t i = 0; i < cites.size(); ++i) text += (i ? " & " : "") + cites[i];
    std::string name;
    if (id == 0) {
      text += negated ? " -> \xC2\xAChypothesis" : " -> hypothesis";
    } else {
      name = "int" + std::to_string(next_int++);
      text += " -> " + name + ": " + statement(n.f, v, natural, 0);
    }
    auto* step = task.add_trace();
    step->set_text(text);
    step->set_rule(n.rule);
    for (const auto& c : cites) step->add_cites(c);
    return name;
  }
};

std::string render_prompt(Rng& rng, const std::vector<FormulaPtr>& facts, const FormulaPtr& hypothesis,
                          const fol::Vocabulary& v, bool natural, bool closed) {
  static const std::vector<std::string> kIntros = {
      "Here are some facts.", "Consider the following facts.", "Assume that the following facts hold."};
  static const std::vector<std::string> kQuestions = {
      "Do the facts prove the hypothesis, disprove it, or neither?",
      "Based only on the facts, is the hypothesis proved, disproved, or unknown?",
      "Decide whether the hypothesis follows from the facts, its negation follows, or neither."};
  std::string p = natural ? rng.pick(kIntros) + "\n" + kInclusiveOr + "\n"
                          : "Facts (first-order logic; ~ not, & and, | or, -> implies, x ranges over everything):\n";
  for (size_t i = 0; i < facts.size(); ++i)
    p += "fact" + std::to_string(i + 1) + ": " + statement(facts[i], v, natural, rng.index(2)) + (natural ? ".\n" : "\n");
  p += "Hypothesis: " + statement(hypothesis, v, natural, rng.index(2)) + (natural ? ".\n" : "\n");
  p += rng.pick(kQuestions) + "\n";
  if (closed) {
    p += "Closed world: the hypothesis counts as true only if the facts imply it. Answer PROVED if the facts imply "
         "the hypothesis, and DISPROVED otherwise (there is no UNKNOWN).\n";
  } else {
    p += "Answer PROVED if the facts imply the hypothesis, DISPROVED if they imply its negation, and UNKNOWN if "
         "they imply neither.\n";
  }
  p += "Write your proof first, one step per line, each step citing facts and earlier steps, for example:\n"
       "fact3 & fact7 -> int1: <statement>\nint1 & fact2 -> hypothesis\n"
       "(end with \"-> \xC2\xAChypothesis\" when you derive the negation of the hypothesis).\n";
  p += answer_instruction(closed ? "PROVED or DISPROVED" : "PROVED, DISPROVED, or UNKNOWN", "PROVED");
  return p;
}

}  // namespace

std::vector<KnobSpec> FolDeductionGenerator::knob_specs() const {
  return {KnobSpec::integer("depth", "inference steps on the longest branch of the gold proof tree", 1, 12, 3),
          KnobSpec::integer("branch_extensions", "side leaves of the proof tree expanded into sub-proofs", 0, 12, 1),
          KnobSpec::integer("distractors",
                            "distractor facts (opposite-tree leaves, perturbed copies, random rules), besides the "
                            "counter statement every task has",
                            0, 30, 4),
          KnobSpec::choice("quantifiers", "universal / existential statements and their rules", {"off", "on"}, "off"),
          KnobSpec::choice("world", "open: PROVED / DISPROVED / UNKNOWN; closed: a hypothesis not proved is DISPROVED",
                           {"open", "closed"}, "open"),
          KnobSpec::real("unknown_ratio", "share of tasks whose facts settle nothing (a proof leaf left out)", 0, 1,
                         1.0 / 3.0),
          KnobSpec::integer("individuals", "named individuals the facts talk about", 1, 4, 2),
          KnobSpec::choice("format", "rendering of facts, hypothesis and proof statements", {"natural", "symbolic"},
                           "natural")};
}

KnobMap FolDeductionGenerator::level_knobs(int level) const {
  struct Row { int depth, extensions, distractors; const char* quantifiers; int individuals; };
  // Level 1 has a distractor: without one a single rule holds only ~530 distinct questions.
  static const Row kLadder[] = {{1, 0, 1, "off", 1},  {1, 0, 2, "off", 1},  {2, 0, 4, "off", 2},
                                {3, 1, 6, "off", 2},  {4, 1, 8, "on", 2},   {5, 2, 10, "on", 2},
                                {6, 2, 13, "on", 3},  {7, 3, 16, "on", 3},  {8, 3, 18, "on", 3},
                                {8, 4, 20, "on", 3}};
  const Row& r = kLadder[level - 1];
  return {{"depth", std::to_string(r.depth)},
          {"branch_extensions", std::to_string(r.extensions)},
          {"distractors", std::to_string(r.distractors)},
          {"quantifiers", r.quantifiers},
          {"individuals", std::to_string(r.individuals)}};
}

void FolDeductionGenerator::generate(Rng& rng, const Knobs& knobs, pb::Task& task) const {
  // The outcome is drawn first so the mix stays balanced: UNKNOWN with probability unknown_ratio,
  // else PROVED / DISPROVED with equal odds.
  const bool unknown = rng.chance(knobs.get_real("unknown_ratio"));
  const Outcome outcome = unknown ? Outcome::Unknown : rng.chance(0.5) ? Outcome::Proved : Outcome::Disproved;
  const int constants = static_cast<int>(knobs.get_int("individuals"));
  Draft d;
  Words words;
  for (int attempt = 0;; ++attempt) {
    if (attempt == kAttempts) throw std::logic_error("fol_deduction: no valid task after many attempts");
    words = Words{};
    std::vector<std::string> names = kNames;
    rng.shuffle(names);
    words.v.constants.assign(names.begin(), names.begin() + constants);
    words.pool = kAdjectives;
    for (const auto& o : kOnsets)
      for (const auto& r : kRimes) words.pool.push_back(o + r);
    rng.shuffle(words.pool);
    d = Draft{};
    try {
      if (draft_task(rng, knobs, outcome, words, constants, d)) break;
    } catch (const PoolExhausted&) {  // a rare, very bushy tree: try another
    }
  }

  // Prompt order: shuffled, so the proof's facts are not first.
  std::vector<size_t> order(d.facts.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  rng.shuffle(order);
  std::vector<FormulaPtr> facts;
  std::vector<int> fact_number(d.nodes.size(), 0);
  auto* inst = task.mutable_fol_deduction();
  for (size_t pos = 0; pos < order.size(); ++pos) {
    const size_t i = order[pos];
    facts.push_back(d.facts[i]);
    inst->add_facts(fol::to_symbolic(*d.facts[i], words.v));
    if (d.fact_node[i] >= 0) {
      fact_number[d.fact_node[i]] = static_cast<int>(pos) + 1;
      inst->add_proof_facts(static_cast<int>(pos) + 1);
    } else {
      inst->add_distractor_facts(static_cast<int>(pos) + 1);
    }
  }
  std::sort(inst->mutable_proof_facts()->begin(), inst->mutable_proof_facts()->end());
  const bool natural = knobs.get("format") == "natural";
  const bool closed = knobs.get("world") == "closed";
  for (const auto& p : words.v.predicates) inst->add_predicates(p);
  for (const auto& c : words.v.constants) inst->add_constants(c);
  inst->set_hypothesis(fol::to_symbolic(*d.hypothesis, words.v));
  inst->set_format(knobs.get("format"));
  inst->set_outcome(outcome == Outcome::Proved ? "proved" : outcome == Outcome::Disproved ? "disproved" : "unknown");
  inst->set_closed_world(closed);
  if (d.removed_leaf >= 0) inst->set_removed_fact(fol::to_symbolic(*d.nodes[d.removed_leaf].f, words.v));

  const std::string label = outcome == Outcome::Proved ? kFolProved
                            : outcome == Outcome::Disproved || closed ? kFolDisproved : kFolUnknown;
  task.set_prompt(render_prompt(rng, facts, d.hypothesis, words.v, natural, closed));
  task.set_label(label);
  task.set_answer(label);
  if (outcome == Outcome::Unknown) {
    auto* step = task.add_trace();
    step->set_rule("unknown");
    step->set_text(closed ? "No proof: the facts do not imply the hypothesis, so under the closed-world rule it "
                            "counts as false."
                          : "No proof: the facts imply neither the hypothesis nor its negation.");
  } else {
    ProofWriter writer{d, fact_number, words.v, natural, outcome == Outcome::Disproved, task};
    writer.visit(0);
    inst->set_proof_depth(height(d.nodes, 0));
    inst->set_proof_steps(task.trace_size());
  }
  (*task.mutable_meta())["proof_depth"] = std::to_string(inst->proof_depth());
  (*task.mutable_meta())["facts"] = std::to_string(inst->facts_size());
}

// The facts as a set and the hypothesis, up to renaming the predicates and the individuals.
std::string FolDeductionGenerator::question_key(const pb::Task& task) const {
  const auto& inst = task.fol_deduction();
  const std::vector<std::string> predicates(inst.predicates().begin(), inst.predicates().end());
  const std::vector<std::string> constants(inst.constants().begin(), inst.constants().end());
  auto statement = [&](const char* role, const std::string& formula) {
    std::string with_predicates = canonical::symbolized(formula, predicates, 'p');
    return role + canonical::symbolized(with_predicates, constants, 'c');
  };
  std::vector<std::string> statements;
  for (const auto& fact : inst.facts()) statements.push_back(statement("F|", fact));
  statements.push_back(statement("H|", inst.hypothesis()));
  return task.family() + "|" + (inst.closed_world() ? "closed|" : "open|") + canonical::key(statements);
}

// generate() draws the outcome first: UNKNOWN with probability unknown_ratio, else PROVED / DISPROVED with
// equal odds. In a closed world what does not follow is false, so the UNKNOWN draws are labelled DISPROVED.
std::map<std::string, double> FolDeductionGenerator::label_shares(const Knobs& knobs) const {
  const double u = knobs.get_real("unknown_ratio");
  if (knobs.get("world") == "closed") return {{kFolProved, (1 - u) / 2}, {kFolDisproved, (1 + u) / 2}};
  return {{kFolProved, (1 - u) / 2}, {kFolDisproved, (1 - u) / 2}, {kFolUnknown, u}};
}

namespace generators {
const Generator& fol_deduction() {
  static const FolDeductionGenerator generator;
  return generator;
}
}  // namespace generators

}  // namespace verity
