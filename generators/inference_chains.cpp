// inference_chains: the rule patterns of LogicBench and Multi-LogiEval (modus ponens / tollens,
// hypothetical and disjunctive syllogism, constructive / destructive / bidirectional dilemma,
// contraposition, De Morgan, universal instantiation, existential generalisation) chained so each
// conclusion feeds the next rule, depth 1..7, with distractor premises. Does the conclusion follow?
// Yes/No, balanced; No tasks are the valid chain broken by a plausible fallacy (affirming the
// consequent, denying the antecedent, ...) or a missing link. Labels decided by truth tables
// (propositional, up to entailment::kMaxTableVars atoms) or Z3.
// At depth 1 with the basic rules, propositional, up to 2 distractors (level 1) the Yes questions are
// few (60,126 up to renaming at level 1): they are enumerated once (about 35 ms) and drawn without
// replacement (generators/question_space.h), in a shuffle weighted by their odds under the random path;
// No questions, many times more, stay drawn at random.
#include "generators/generators.h"
#include "generators/inference_chains.h"

#include "generators/canonical_form.h"

#include <tbb/parallel_for.h>
#include <tbb/task_arena.h>
#include <z3++.h>

#include <algorithm>
#include <array>
#include <bit>
#include <cctype>
#include <charconv>
#include <initializer_list>
#include <memory>
#include <mutex>
#include <numeric>
#include <optional>
#include <span>
#include <stdexcept>
#include <string_view>

#include "solvers/entailment.h"
#include "solvers/logic.h"
#include "solvers/z3_bridge.h"
#include "tasks/answer_extraction.h"

namespace verity {
namespace {

class InferenceChainsGenerator final : public Generator {
 public:
  std::string name() const override { return "inference_chains"; }
  std::string summary() const override {
    return "Chained inference rules (MP, MT, HS, DS, dilemmas, De Morgan, UI, EG); does the conclusion follow?";
  }
  std::vector<KnobSpec> knob_specs() const override;
  KnobMap level_knobs(int level) const override;
  std::string answer_format() const override { return "Yes or No"; }
  void generate(Rng& rng, const Knobs& knobs, pb::Task& task) const override;
  std::map<std::string, double> label_shares(const Knobs& knobs) const override;
  std::map<std::string, uint64_t> question_counts(const Knobs& knobs) const override;
  std::string question_key(const pb::Task& task) const override;
};

using logic::Formula;
using logic::FormulaPtr;

// ---------------------------------------------------------------------------------------------
// Statements of the chain: a literal, or two literals joined as a -> b, a | b or ~(a & b). In the
// first-order variant each atom is a predicate read at a scope: every x, one named individual, or
// some x.

struct Lit {
  int atom = 0;
  bool neg = false;
};
Lit operator~(Lit l) { return {l.atom, !l.neg}; }

enum class Shape { Fact, Implies, Or, NotBoth };
enum class Scope { None, Forall, Const, Exists };

struct Prop {
  Shape shape = Shape::Fact;
  Lit a, b;
  Scope scope = Scope::None;
  int constant = 0;  // Scope::Const: which individual
};

Prop fact(Lit a) { return {Shape::Fact, a, {}}; }
Prop implies(Lit a, Lit b) { return {Shape::Implies, a, b}; }
Prop disjunction(Lit a, Lit b) { return {Shape::Or, a, b}; }
Prop not_both(Lit a, Lit b) { return {Shape::NotBoth, a, b}; }

FormulaPtr literal_formula(Lit l) {
  FormulaPtr v = Formula::variable(l.atom);
  return l.neg ? Formula::negate(v) : v;
}

FormulaPtr to_formula(const Prop& p) {
  switch (p.shape) {
    case Shape::Fact: return literal_formula(p.a);
    case Shape::Implies: return Formula::binary(logic::Op::Implies, literal_formula(p.a), literal_formula(p.b));
    case Shape::Or: return Formula::binary(logic::Op::Or, literal_formula(p.a), literal_formula(p.b));
    case Shape::NotBoth:
      return Formula::negate(Formula::binary(logic::Op::And, literal_formula(p.a), literal_formula(p.b)));
  }
  return nullptr;
}

// Truth tables over at most 6 atoms as one word (bit x = assignment x).
uint64_t literal_word(Lit l) {
  static constexpr uint64_t kAtom[] = {0xaaaaaaaaaaaaaaaaULL, 0xccccccccccccccccULL, 0xf0f0f0f0f0f0f0f0ULL,
                                       0xff00ff00ff00ff00ULL, 0xffff0000ffff0000ULL, 0xffffffff00000000ULL};
  return l.neg ? ~kAtom[l.atom] : kAtom[l.atom];
}
uint64_t prop_word(const Prop& p) {
  const uint64_t a = literal_word(p.a), b = p.shape == Shape::Fact ? 0 : literal_word(p.b);
  switch (p.shape) {
    case Shape::Fact: return a;
    case Shape::Implies: return ~a | b;
    case Shape::Or: return a | b;
    case Shape::NotBoth: return ~(a & b);
  }
  return 0;
}

// ---------------------------------------------------------------------------------------------
// Z3 decides the labels truth tables do not (first-order, or too many atoms). Propositional: atoms are Booleans. First-order: an uninterpreted sort of
// individuals, one constant per named individual, one unary predicate per atom, quantifiers.

enum class Verdict { Entailed, NotEntailed, Inconsistent };

// The first-order vocabulary on a context: the sort of individuals, x, the named people, one unary
// predicate per atom.
struct FolTerms {
  explicit FolTerms(z3::context& context) : ctx(context) {}
  z3::context& ctx;
  z3::sort individual = ctx.uninterpreted_sort("Person");
  z3::expr x = ctx.constant("x", individual);

  z3::expr person(int k) { return ctx.constant(("person" + std::to_string(k)).c_str(), individual); }
  // The statement's formula with every atom read at `subject`.
  z3::expr body(const Prop& p, int atoms, const z3::expr& subject) {
    std::vector<z3::expr> vars;
    for (int i = 0; i < atoms; ++i)
      vars.push_back(ctx.function(("P" + std::to_string(i)).c_str(), individual, ctx.bool_sort())(subject));
    return z3bridge::to_z3(ctx, *to_formula(p), vars);
  }
};

constexpr int kIndividuals = 2;  // named people in first-order tasks

// Premises (and the negated conclusion, when given) in first-order logic: statements about every x
// are asserted quantified and also instantiated at each named person and the Skolem witness of the
// negated conclusion. The instances follow from the quantified forms, so the problem is unchanged,
// but Z3's model-based instantiation then starts from the finite universe that suffices.
z3::check_result fol_check(const std::vector<Prop>& formulas, const Prop* negated, int atoms) {
  const z3bridge::SolverScope scope(z3bridge::kGenerationRlimit);
  z3::solver& solver = scope.solver();
  FolTerms z(scope.ctx());
  std::vector<z3::expr> universe;
  for (int k = 0; k < kIndividuals; ++k) universe.push_back(z.person(k));
  std::vector<Prop> universal;
  for (const auto& p : formulas) {
    if (p.scope == Scope::Forall) universal.push_back(p);
    else solver.add(z.body(p, atoms, z.person(p.constant)));  // premises are never existential
  }
  if (negated) {
    if (negated->scope == Scope::Forall) {  // not everyone: a witness who fails it
      universe.push_back(z.ctx.constant("witness", z.individual));
      solver.add(!z.body(*negated, atoms, universe.back()));
    } else if (negated->scope == Scope::Exists) {  // nobody satisfies it
      Prop nobody = *negated;
      solver.add(z3::forall(z.x, !z.body(nobody, atoms, z.x)));
      for (const auto& u : universe) solver.add(!z.body(nobody, atoms, u));
    } else {
      solver.add(!z.body(*negated, atoms, z.person(negated->constant)));
    }
  }
  for (const auto& p : universal) {
    solver.add(z3::forall(z.x, z.body(p, atoms, z.x)));
    for (const auto& u : universe) solver.add(z.body(p, atoms, u));
  }
  const z3::check_result r = solver.check();
  return r;
}

Verdict decide(const std::vector<Prop>& premises, const Prop& conclusion, int atoms, bool first_order) {
  z3::check_result consistent, counter;
  if (first_order) {
    consistent = fol_check(premises, nullptr, atoms);
    counter = fol_check(premises, &conclusion, atoms);
  } else if (atoms <= 6) {  // one-word truth tables (prop_word): the same verdicts, no formula trees
    uint64_t models = ~uint64_t{0};
    for (const auto& p : premises) models &= prop_word(p);
    if (models == 0) return Verdict::Inconsistent;
    return (models & ~prop_word(conclusion)) == 0 ? Verdict::Entailed : Verdict::NotEntailed;
  } else if (atoms <= entailment::kMaxTableVars) {  // exact and much faster; Z3 cross-checks it in the tests
    std::vector<FormulaPtr> formulas;
    for (const auto& p : premises) formulas.push_back(to_formula(p));
    switch (entailment::classify_by_truth_tables(formulas, to_formula(conclusion), atoms)) {
      case entailment::Entailment::Inconsistent: return Verdict::Inconsistent;
      case entailment::Entailment::Entailed: return Verdict::Entailed;
      default: return Verdict::NotEntailed;
    }
  } else {
    std::vector<FormulaPtr> formulas;
    for (const auto& p : premises) formulas.push_back(to_formula(p));
    consistent = z3bridge::check_conjunction(formulas, atoms, z3bridge::kGenerationRlimit);
    formulas.push_back(Formula::negate(to_formula(conclusion)));
    counter = z3bridge::check_conjunction(formulas, atoms, z3bridge::kGenerationRlimit);
  }
  if (consistent == z3::unknown || counter == z3::unknown)
    throw std::runtime_error("inference_chains: Z3 gave up on an instance");
  if (consistent == z3::unsat) return Verdict::Inconsistent;
  return counter == z3::unsat ? Verdict::Entailed : Verdict::NotEntailed;
}

// ---------------------------------------------------------------------------------------------
// Building a valid chain: each rule takes the previous result plus fresh premises.

struct Ref {
  Prop prop;
  char kind = 'p';  // 'p': a given premise (index into givens), 's': a step
  int index = 0;
};

// Rule names are string literals (views of static storage): a Chain holds no strings, so copying one
// into a reused Draft allocates nothing.
using Rule = std::string_view;

struct Step {
  Rule rule;
  std::array<Ref, 3> in{};  // a rule takes at most 3 inputs
  int inputs_count = 0;
  Prop result;
  const Ref* begin() const { return in.data(); }
  const Ref* end() const { return in.data() + inputs_count; }
};

struct Chain {
  std::vector<Prop> givens;
  std::vector<Step> steps;     // rule applications and the instantiations they need
  std::vector<Rule> rules;     // the rule of each chain link (instantiations excluded)
  std::vector<Rule> used_by;   // per given: the rule of the link that consumes it
  Prop conclusion;
  int atoms = 0;
  void clear() {
    givens.clear(), steps.clear(), rules.clear(), used_by.clear();
    conclusion = {}, atoms = 0;
  }
};

Step make_step(Rule rule, std::initializer_list<Ref> inputs, const Prop& result) {
  Step s;
  s.rule = rule;
  for (const Ref& r : inputs) s.in[s.inputs_count++] = r;
  s.result = result;
  return s;
}

class ChainBuilder {
 public:
  ChainBuilder(Rng& rng, bool first_order, bool all_rules) : rng_(rng), fol_(first_order), all_(all_rules) {}

  // Builds into `out` (cleared first; its buffers are reused).
  void build(int depth, Chain& out) {
    chain_ = &out;
    out.clear();
    Ref current = start();
    Rule previous;
    for (int i = 0; i < depth; ++i) {
      Options options;
      candidates(current, previous, i == depth - 1, options);
      previous = options.items[rng_.index(options.count)];  // Rng::pick's draw
      current = apply(previous, current);
    }
    out.conclusion = current.prop;
  }

 private:
  struct Options {
    std::array<Rule, 5> items;
    size_t count = 0;
    void add(std::initializer_list<Rule> rules) {
      for (Rule r : rules) items[count++] = r;
    }
  };

  Lit fresh() { return {chain_->atoms++, rng_.chance(0.25)}; }

  Ref give(Prop p) {
    if (fol_) p.scope = p.shape == Shape::Fact ? Scope::Const : Scope::Forall;
    chain_->givens.push_back(p);
    chain_->used_by.push_back("");
    return {p, 'p', static_cast<int>(chain_->givens.size()) - 1};
  }

  Ref start() {
    const double u = rng_.unit();
    const Lit a = fresh(), b = fresh();
    if (u < 0.3) return give(fact(a));
    if (u < 0.65 || !all_) return give(u < 0.85 || !all_ ? implies(a, b) : disjunction(a, b));
    return give(u < 0.85 ? disjunction(a, b) : not_both(a, b));
  }

  void candidates(const Ref& f, Rule previous, bool last, Options& out) const {
    switch (f.prop.shape) {
      case Shape::Fact:
        out.add({"modus_ponens"});
        if (f.prop.a.neg) out.add({"modus_tollens", "disjunctive_syllogism"});
        if (fol_ && last && f.prop.scope == Scope::Const) out.add({"existential_generalisation"});
        break;
      case Shape::Implies:
        out.add({"modus_ponens", "modus_tollens", "hypothetical_syllogism"});
        if (previous != "contraposition") out.add({"contraposition"});  // twice is the identity
        if (all_) out.add({"constructive_dilemma"});
        break;
      case Shape::Or:
        out.add({"disjunctive_syllogism"});
        if (all_) out.add({"constructive_dilemma", "destructive_dilemma", "bidirectional_dilemma"});
        break;
      case Shape::NotBoth: out.add({"de_morgan"}); break;
    }
  }

  // Records the link: first-order premises about everyone are instantiated at the individual when
  // another input is about that individual (universal instantiation steps).
  Ref derive(Rule rule, std::initializer_list<Ref> input_list, Prop result) {
    Step step = make_step(rule, input_list, result);
    const std::span<Ref> inputs(step.in.data(), static_cast<size_t>(step.inputs_count));
    for (const Ref& in : inputs)
      if (in.kind == 'p') chain_->used_by[in.index] = rule;
    if (fol_) {
      bool about_individual = false;
      for (const Ref& in : inputs) about_individual = about_individual || in.prop.scope == Scope::Const;
      if (about_individual) {
        for (Ref& in : inputs) {
          if (in.prop.scope != Scope::Forall) continue;
          Prop instance = in.prop;
          instance.scope = Scope::Const;
          chain_->steps.push_back(make_step("universal_instantiation", {in}, instance));
          in = {instance, 's', static_cast<int>(chain_->steps.size()) - 1};
        }
      }
      if (result.scope != Scope::Exists) result.scope = about_individual ? Scope::Const : Scope::Forall;
    }
    step.result = result;
    chain_->steps.push_back(step);
    chain_->rules.push_back(rule);
    return {result, 's', static_cast<int>(chain_->steps.size()) - 1};
  }

  Ref apply(Rule rule, const Ref& f) {
    const Prop& p = f.prop;
    if (rule == "modus_ponens") {
      if (p.shape == Shape::Fact) {
        const Lit m = fresh();
        return derive(rule, {f, give(implies(p.a, m))}, fact(m));
      }
      return derive(rule, {f, give(fact(p.a))}, fact(p.b));
    }
    if (rule == "modus_tollens") {
      if (p.shape == Shape::Fact) {  // p.a is ~q: from (r -> q) conclude ~r
        const Lit r = fresh();
        return derive(rule, {f, give(implies(r, ~p.a))}, fact(~r));
      }
      return derive(rule, {f, give(fact(~p.b))}, fact(~p.a));
    }
    if (rule == "disjunctive_syllogism") {
      if (p.shape == Shape::Fact) {  // p.a is ~q: from (q | m) conclude m
        const Lit m = fresh();
        return derive(rule, {f, give(rng_.chance(0.5) ? disjunction(~p.a, m) : disjunction(m, ~p.a))}, fact(m));
      }
      const bool drop_left = rng_.chance(0.5);
      return derive(rule, {f, give(fact(drop_left ? ~p.a : ~p.b))}, fact(drop_left ? p.b : p.a));
    }
    if (rule == "hypothetical_syllogism") {
      const Lit c = fresh();
      return derive(rule, {f, give(implies(p.b, c))}, implies(p.a, c));
    }
    if (rule == "contraposition") return derive(rule, {f}, implies(~p.b, ~p.a));
    if (rule == "constructive_dilemma") {
      const Lit c = fresh(), d = fresh();
      if (p.shape == Shape::Implies)
        return derive(rule, {f, give(implies(c, d)), give(disjunction(p.a, c))}, disjunction(p.b, d));
      return derive(rule, {f, give(implies(p.a, c)), give(implies(p.b, d))}, disjunction(c, d));
    }
    if (rule == "destructive_dilemma") {  // (q -> ~x), (r -> ~y), x | y  =>  ~q | ~r
      const Lit q = fresh(), r = fresh();
      return derive(rule, {f, give(implies(q, ~p.a)), give(implies(r, ~p.b))}, disjunction(~q, ~r));
    }
    if (rule == "bidirectional_dilemma") {  // (x -> q), (r -> ~y), x | y  =>  q | ~r
      const Lit q = fresh(), r = fresh();
      return derive(rule, {f, give(implies(p.a, q)), give(implies(r, ~p.b))}, disjunction(q, ~r));
    }
    if (rule == "de_morgan") return derive(rule, {f}, disjunction(~p.a, ~p.b));
    if (rule == "existential_generalisation") {
      Prop some = p;
      some.scope = Scope::Exists;
      return derive(rule, {f}, some);
    }
    throw std::logic_error("inference_chains: unknown rule " + std::string(rule));
  }

  Rng& rng_;
  bool fol_, all_;
  Chain* chain_ = nullptr;
};

// ---------------------------------------------------------------------------------------------
// No tasks: the valid chain with one plausible break, named after the fallacy it invites.

const char* corrupt(Rng& rng, Chain& c) {
  thread_local std::vector<int> implications, facts;
  implications.clear(), facts.clear();
  for (size_t i = 0; i < c.givens.size(); ++i) {
    if (c.givens[i].shape == Shape::Implies) implications.push_back(static_cast<int>(i));
    if (c.givens[i].shape == Shape::Fact) facts.push_back(static_cast<int>(i));
  }
  const size_t kind = rng.index(4);
  if (kind == 0 && !implications.empty()) {
    const int i = rng.pick(implications);
    std::swap(c.givens[i].a, c.givens[i].b);  // "if B then A" stated where "if A then B" is needed
    if (c.used_by[i] == "modus_ponens") return "affirming_the_consequent";
    if (c.used_by[i] == "modus_tollens") return "denying_the_antecedent";
    return "converse_error";
  }
  if (kind == 1 && !facts.empty()) {
    const int i = rng.pick(facts);
    c.givens[i].a = ~c.givens[i].a;
    if (c.used_by[i] == "modus_ponens") return "denying_the_antecedent";
    if (c.used_by[i] == "modus_tollens") return "affirming_the_consequent";
    if (c.used_by[i] == "disjunctive_syllogism") return "affirming_a_disjunct";
    return "flipped_fact";
  }
  if (kind == 2 && c.givens.size() >= 2) {
    c.givens.erase(c.givens.begin() + static_cast<long>(rng.index(c.givens.size())));
    return "missing_link";  // try_draft adds one more distractor: No tasks state as many premises as Yes
  }
  // The conclusion turned around: its negation for a fact, its converse for a conditional.
  if (c.conclusion.shape == Shape::Implies) {
    std::swap(c.conclusion.a, c.conclusion.b);
  } else {
    c.conclusion.a = ~c.conclusion.a;
    if (c.conclusion.shape != Shape::Fact) c.conclusion.b = ~c.conclusion.b;
  }
  return "wrong_conclusion";
}

// Distractors: premises about fresh atoms (sometimes hanging off a chain atom, a dead-end branch);
// first-order facts about a second individual. Appended to `out`.
void distractors(Rng& rng, int count, int chain_atoms, int distractor_atoms, bool first_order, std::vector<Prop>& out) {
  auto fresh = [&] { return Lit{chain_atoms + static_cast<int>(rng.index(distractor_atoms)), rng.chance(0.25)}; };
  for (int i = 0; i < count; ++i) {
    Lit a = fresh(), b = fresh();
    for (int guard = 0; guard < 8 && b.atom == a.atom && distractor_atoms > 1; ++guard) b = fresh();
    if (rng.chance(0.3)) a = {static_cast<int>(rng.index(chain_atoms)), rng.chance(0.25)};
    Prop p;
    switch (rng.index(4)) {
      case 0: p = fact(b); break;
      case 1: p = implies(a, b); break;
      case 2: p = disjunction(a, b); break;
      default: p = not_both(a, b); break;
    }
    if (first_order) {
      p.scope = p.shape == Shape::Fact ? Scope::Const : Scope::Forall;
      p.constant = p.shape == Shape::Fact && rng.chance(0.5) ? 1 : 0;
    }
    out.push_back(p);
  }
}

// ---------------------------------------------------------------------------------------------
// Rendering.

const std::vector<std::pair<std::string, std::string>> kClauses = {
    {"the lamp is on", "the lamp is not on"},         {"the door is open", "the door is not open"},
    {"it is raining", "it is not raining"},           {"the alarm rings", "the alarm does not ring"},
    {"the cat is asleep", "the cat is not asleep"},   {"the road is wet", "the road is not wet"},
    {"the shop is closed", "the shop is not closed"}, {"the train is late", "the train is not late"},
    {"the oven is hot", "the oven is not hot"},       {"the dog barks", "the dog does not bark"},
    {"the phone is charged", "the phone is not charged"}, {"the river is frozen", "the river is not frozen"},
    {"the bell rings", "the bell does not ring"},     {"the garden is watered", "the garden is not watered"},
    {"the printer is jammed", "the printer is not jammed"}, {"the kettle is boiling", "the kettle is not boiling"},
    {"the bridge is closed", "the bridge is not closed"}, {"the fan is running", "the fan is not running"},
    {"the mail has arrived", "the mail has not arrived"}, {"the battery is low", "the battery is not low"},
    {"the game is over", "the game is not over"},     {"the gate is locked", "the gate is not locked"},
    {"the tea is cold", "the tea is not cold"},       {"the fire is lit", "the fire is not lit"}};

const std::vector<std::pair<std::string, std::string>> kPredicates = {
    {"is tall", "is not tall"},           {"plays chess", "does not play chess"},
    {"is a doctor", "is not a doctor"},   {"owns a bicycle", "does not own a bicycle"},
    {"is happy", "is not happy"},         {"speaks French", "does not speak French"},
    {"is at home", "is not at home"},     {"likes jazz", "does not like jazz"},
    {"is hungry", "is not hungry"},       {"drinks coffee", "does not drink coffee"},
    {"is a student", "is not a student"}, {"reads novels", "does not read novels"},
    {"is tired", "is not tired"},         {"swims well", "does not swim well"},
    {"is busy", "is not busy"},           {"keeps bees", "does not keep bees"},
    {"is a painter", "is not a painter"}, {"grows tomatoes", "does not grow tomatoes"},
    {"is left-handed", "is not left-handed"}, {"sings in a choir", "does not sing in a choir"},
    {"is an early riser", "is not an early riser"}, {"writes poems", "does not write poems"},
    {"is brave", "is not brave"},         {"bakes bread", "does not bake bread"}};

const std::vector<std::string> kPeople = {"Alice", "Bob", "Carol", "David", "Erin", "Frank", "Grace", "Hugo"};

constexpr int kMaxAtoms = 20;  // keeps truth-table cross-checks exact

// The names of the people as symbolic formulas write them (first letter lower case).
const std::string& person_argument(int k) {
  static const std::vector<std::string> lower = [] {
    std::vector<std::string> out = kPeople;
    for (auto& name : out) name[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(name[0])));
    return out;
  }();
  return lower.at(static_cast<size_t>(k));
}

// The atoms' symbols: A, B, ...
const std::string& atom_symbol(int atom) {
  static const std::array<std::string, 26> symbols = [] {
    std::array<std::string, 26> out;
    for (int i = 0; i < 26; ++i) out[static_cast<size_t>(i)] = std::string(1, static_cast<char>('A' + i));
    return out;
  }();
  return symbols.at(static_cast<size_t>(atom));
}

// What a task names: phrases of the tables and people of kPeople, by pointer and index (no copies).
struct Vocabulary {
  std::array<const std::pair<std::string, std::string>*, kMaxAtoms> phrases{};  // per atom: positive, negative
  std::array<int, kIndividuals> people{};  // first-order individuals: indices into kPeople
  bool first_order = false;
};

void cat(std::string& out, std::initializer_list<std::string_view> parts) {
  for (const std::string_view part : parts) out += part;
}

void upper_at(std::string& s, size_t pos) {
  if (pos < s.size()) s[pos] = static_cast<char>(std::toupper(static_cast<unsigned char>(s[pos])));
}

const std::string& phrase(const Vocabulary& v, Lit l) {
  return l.neg ? v.phrases[l.atom]->second : v.phrases[l.atom]->first;
}

// The statement in English, appended to `out`.
void append_natural(std::string& out, const Vocabulary& v, const Prop& p, size_t variant) {
  if (p.scope == Scope::Forall) {
    const std::string &a = phrase(v, p.a), &b = phrase(v, p.b);
    switch (p.shape) {
      case Shape::Fact: return cat(out, {"Everyone ", a});
      case Shape::Implies:
        switch (variant % 3) {
          case 0: return cat(out, {"If a person ", a, ", then that person ", b});
          case 1: return cat(out, {"Anyone who ", a, " ", b});
          default: return cat(out, {"Every person who ", a, " ", b});
        }
      case Shape::Or:
        return variant % 2 ? cat(out, {"Each person ", a, " or ", b}) : cat(out, {"Every person either ", a, " or ", b});
      case Shape::NotBoth:
        return variant % 2 ? cat(out, {"Nobody ", a, " and ", b, " at the same time"})
                           : cat(out, {"It is never the case that a person ", a, " and ", b});
    }
  }
  if (p.scope == Scope::Exists) return cat(out, {"Someone ", phrase(v, p.a)});
  // A literal's clause at the statement's subject (propositional: the clause itself).
  auto clause = [&](Lit l) {
    if (v.first_order) cat(out, {kPeople[static_cast<size_t>(v.people[p.constant])], " "});
    out += phrase(v, l);
  };
  const size_t start = out.size();
  switch (p.shape) {
    case Shape::Fact: clause(p.a), upper_at(out, start); return;
    case Shape::Implies:
      switch (variant % 3) {
        case 0: out += "If ", clause(p.a), out += ", then ", clause(p.b); return;
        case 1: out += "Whenever ", clause(p.a), out += ", ", clause(p.b); return;
        default: clause(p.b), upper_at(out, start), out += " if ", clause(p.a); return;
      }
    case Shape::Or:
      switch (variant % 3) {
        case 0: out += "Either ", clause(p.a), out += " or ", clause(p.b); return;
        case 1: clause(p.a), upper_at(out, start), out += ", or ", clause(p.b), out += " (or both)"; return;
        default: out += "At least one of these holds: ", clause(p.a), out += "; ", clause(p.b); return;
      }
    case Shape::NotBoth:
      if (variant % 2) out += "It cannot be that ", clause(p.a), out += " and ", clause(p.b), out += " at the same time";
      else out += "It is not the case that both ", clause(p.a), out += " and ", clause(p.b);
      return;
  }
}

// logic::to_symbolic of the statement's formula (a literal, or two joined as -> | or ~(&)), each atom
// written as its symbol, followed by "(argument)" when `argument` is not empty; appended to `out`.
void append_formula(std::string& out, const Prop& p, std::string_view argument = {}) {
  auto literal = [&](Lit l) {
    if (l.neg) out += '~';
    out += atom_symbol(l.atom);
    if (!argument.empty()) cat(out, {"(", argument, ")"});
  };
  switch (p.shape) {
    case Shape::Fact: literal(p.a); return;
    case Shape::Implies: literal(p.a), out += " -> ", literal(p.b); return;
    case Shape::Or: literal(p.a), out += " | ", literal(p.b); return;
    case Shape::NotBoth: out += "~(", literal(p.a), out += " & ", literal(p.b), out += ')'; return;
  }
}

void append_symbolic(std::string& out, const Vocabulary& v, const Prop& p) {
  if (!v.first_order) return append_formula(out, p);
  const std::string_view arg = p.scope == Scope::Const ? std::string_view(person_argument(v.people[p.constant])) : "x";
  if (p.scope == Scope::Forall) out += "forall x: (";
  if (p.scope == Scope::Exists) out += "exists x: (";
  append_formula(out, p, arg);
  if (p.scope == Scope::Forall || p.scope == Scope::Exists) out += ')';
}

std::string scope_name(const Vocabulary& v, const Prop& p) {
  switch (p.scope) {
    case Scope::None: return "";
    case Scope::Forall: return "forall";
    case Scope::Exists: return "exists";
    case Scope::Const: return kPeople[static_cast<size_t>(v.people[p.constant])];
  }
  return "";
}

void append_number(std::string& out, size_t n) {
  char digits[24];
  const auto end = std::to_chars(digits, digits + sizeof digits, n).ptr;
  out.append(digits, end);
}

// The prompt, written into `prompt` (its buffer reused).
void render_prompt(Rng& rng, const std::vector<Prop>& premises, const Prop& conclusion, const Vocabulary& v,
                   bool as_text, std::string& prompt) {
  static const std::vector<std::string> kIntros = {"Consider the following statements.",
                                                   "Assume all of the following are true.", "Here are some facts.",
                                                   "Suppose we know the following."};
  static const std::vector<std::string> kQuestions = {"Does it follow that", "Can we conclude that",
                                                      "Given only these statements, must it be that"};
  static const std::string kInstruction = answer_instruction("Yes or No", "Yes");
  prompt.clear();
  if (as_text) {
    cat(prompt, {rng.pick(kIntros), "\n", kInclusiveOr, "\n"});
  } else {
    prompt += v.first_order ? "Premises (first-order logic; ~ not, & and, | or, -> implies):\n"
                            : "Premises (~ not, & and, | or, -> implies):\n";
  }
  for (size_t i = 0; i < premises.size(); ++i) {
    append_number(prompt, i + 1);
    prompt += ". ";
    if (as_text) append_natural(prompt, v, premises[i], rng.index(3)), prompt += '.';
    else append_symbolic(prompt, v, premises[i]);
    prompt += '\n';
  }
  if (as_text) {
    cat(prompt, {rng.pick(kQuestions), " "});
    const size_t start = prompt.size();
    append_natural(prompt, v, conclusion, 0);
    const bool starts_with_name = v.first_order && conclusion.scope == Scope::Const && conclusion.shape == Shape::Fact;
    if (!starts_with_name) prompt[start] = static_cast<char>(std::tolower(static_cast<unsigned char>(prompt[start])));
    prompt += "?\n";
  } else {
    prompt += "Conclusion: ";
    append_symbolic(prompt, v, conclusion);
    prompt += "\nDoes the conclusion follow from the premises?\n";
  }
  prompt += kInstruction;
}

// Yes: one step per rule application, citing premises (p) and earlier steps (s).
void write_valid_trace(const Chain& c, const std::vector<int>& position, const Vocabulary& v, pb::Task& task) {
  thread_local std::string text, cite;
  for (const Step& s : c.steps) {
    auto* step = task.add_trace();
    text.clear();
    append_symbolic(text, v, s.result);
    text += "  (";
    for (const char ch : s.rule) text += ch == '_' ? ' ' : ch;  // the rule's name in words
    text += " from ";
    bool first = true;
    for (const Ref& in : s) {
      cite.clear();
      cite += in.kind == 'p' ? 'p' : 's';
      append_number(cite, static_cast<size_t>(in.kind == 'p' ? position[in.index] + 1 : in.index + 1));
      step->add_cites(cite);
      if (!first) text += ", ";
      text += cite;
      first = false;
    }
    text += ')';
    step->set_rule(s.rule.data(), s.rule.size());
    step->set_text(text);
  }
}

// No: name the break; for propositional tasks add the least countermodel found by truth table.
void write_invalid_trace(std::string_view corruption, const std::vector<Prop>& premises, const Prop& conclusion,
                         const Vocabulary& v, int atoms, pb::Task& task) {
  static const std::vector<std::pair<std::string, std::string>> kWhy = {
      {"affirming_the_consequent", "The premises only give the consequent of a conditional; concluding its "
                                   "antecedent from it would affirm the consequent."},
      {"denying_the_antecedent", "The premises only deny the antecedent of a conditional; that says nothing "
                                 "about its consequent (denying the antecedent)."},
      {"affirming_a_disjunct", "One disjunct holds, which does not rule out the other (affirming a disjunct)."},
      {"converse_error", "A conditional is stated in the converse direction from the one the chain needs."},
      {"flipped_fact", "A fact is stated negated from the one the chain needs."},
      {"missing_link", "A premise the chain needs is missing, so the chain is broken."},
      {"wrong_conclusion", "The chain supports a different statement from the one asked about."}};
  auto* why = task.add_trace();
  for (const auto& [kind, text] : kWhy)
    if (kind == corruption) why->set_text(text);
  why->set_rule(corruption.data(), corruption.size());
  if (v.first_order || atoms > 20) return;
  auto countermodel = [&](uint64_t a) {
    thread_local std::string text;
    text = "All premises hold and the conclusion fails when ";
    for (int i = 0; i < atoms; ++i) {
      if (i) text += ", ";
      cat(text, {atom_symbol(i), "=", ((a >> i) & 1u) ? "true" : "false"});
    }
    text += '.';
    auto* step = task.add_trace();
    step->set_text(text);
    step->set_rule("countermodel");
  };
  if (atoms <= 6) {  // one-word truth tables (prop_word): the least model is the lowest bit set
    uint64_t models = ~prop_word(conclusion);
    for (const auto& p : premises) models &= prop_word(p);
    if (models != 0) countermodel(static_cast<uint64_t>(std::countr_zero(models)));
    return;
  }
  logic::TruthTable models = logic::all_true(atoms);
  for (const auto& p : premises) models &= logic::truth_table(*to_formula(p), atoms);
  models &= ~logic::truth_table(*to_formula(conclusion), atoms);
  for (uint64_t a = 0; a < (uint64_t{1} << atoms); ++a) {
    if (!models.bit(a)) continue;
    countermodel(a);
    return;
  }
}

void fill_formula(const Vocabulary& v, const Prop& p, pb::ChainFormula* out) {
  thread_local std::string text;
  text.clear();
  append_formula(text, p);
  out->set_formula(text);
  out->set_scope(scope_name(v, p));
}

struct Draft {
  Chain chain;
  std::vector<Prop> premises;  // chain premises then distractors (before shuffling)
  int distractors = 0;
  int atoms = 0;
  const char* corruption = "";  // a string literal
};

// The knobs as the hot path reads them, parsed once per distinct Knobs and thread: Knobs::get is
// a map lookup and Knobs::canonical() builds a string, several times per task otherwise.
struct Settings {
  std::string canonical;  // the knobs as error messages name them
  int depth = 1, distractors = 0;
  bool all_rules = false, natural = true, first_order = false, mixed = false;
  uint64_t knobs_hash = 0;  // Knobs::hash: part of the question_space key
};

const Settings& settings(const Knobs& knobs) {
  return read_once_per_knobs<Settings>(knobs, [](const Knobs& knobs) {
    Settings s;
    s.canonical = knobs.canonical();
    s.depth = static_cast<int>(knobs.get_int("depth"));
    s.distractors = static_cast<int>(knobs.get_int("distractors"));
    s.all_rules = knobs.get("rules") == "all";
    s.natural = knobs.get("format") == "natural";
    const std::string& logic_knob = knobs.get("logic");
    s.first_order = logic_knob == "first_order";
    s.mixed = logic_knob == "mixed";
    s.knobs_hash = knobs.hash();
    return s;
  });
}

bool try_draft(Rng& rng, const Settings& knobs, bool target, bool first_order, Draft& d) {
  const int depth = knobs.depth;
  ChainBuilder builder(rng, first_order, knobs.all_rules);
  builder.build(depth, d.chain);
  d.corruption = "";
  if (!target) d.corruption = corrupt(rng, d.chain);
  const Verdict core = decide(d.chain.givens, d.chain.conclusion, d.chain.atoms, first_order);
  if (core != (target ? Verdict::Entailed : Verdict::NotEntailed)) return false;

  // A missing link leaves one premise fewer: a filler distractor keeps the premise count from telling No
  // tasks apart.
  d.distractors =
      knobs.distractors + (std::string_view(d.corruption) == "missing_link" ? 1 : 0);
  const int spare = std::min(kMaxAtoms - d.chain.atoms, knobs.distractors + 1);
  d.premises.assign(d.chain.givens.begin(), d.chain.givens.end());
  d.atoms = d.chain.atoms;
  if (d.distractors == 0) return true;
  if (spare < 1) return false;
  distractors(rng, d.distractors, d.chain.atoms, spare, first_order, d.premises);
  d.atoms += spare;
  // Distractors must leave the premises consistent and the answer unchanged.
  return decide(d.premises, d.chain.conclusion, d.atoms, first_order) == core;
}


// Fills the task from a draft: vocabulary, shuffled premises, instance, prompt, label and trace.
void fill_task(Rng& rng, const Settings& knobs, const Draft& d, bool target, bool first_order, pb::Task& task) {
  Vocabulary v;
  v.first_order = first_order;
  // Phrases drawn without replacement: Rng::shuffle's draws on indices (no copy of the table per task).
  const auto& table = first_order ? kPredicates : kClauses;
  std::array<uint8_t, 24> pool;
  if (table.size() != pool.size()) throw std::logic_error("inference_chains: phrase tables hold 24 entries");
  if (d.atoms > kMaxAtoms) throw std::logic_error("inference_chains: more atoms than phrases");
  std::iota(pool.begin(), pool.end(), uint8_t{0});
  for (size_t i = pool.size(); i > 1; --i) std::swap(pool[i - 1], pool[rng.index(i)]);
  for (int i = 0; i < d.atoms; ++i) v.phrases[i] = &table[pool[i]];
  if (first_order) {  // Rng::shuffle's draws on kPeople's indices
    std::array<int, 8> people;
    if (kPeople.size() != people.size()) throw std::logic_error("inference_chains: kPeople holds 8 names");
    std::iota(people.begin(), people.end(), 0);
    for (size_t i = people.size(); i > 1; --i) std::swap(people[i - 1], people[rng.index(i)]);
    v.people = {people[0], people[1]};
  }

  // Shuffle the premises; position[i] is where premise i (chain order) lands in the prompt.
  thread_local std::vector<int> order, position;
  thread_local std::vector<Prop> shown;
  order.resize(d.premises.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = static_cast<int>(i);
  rng.shuffle(order);
  position.resize(order.size());
  shown.clear();
  for (size_t k = 0; k < order.size(); ++k) {
    position[order[k]] = static_cast<int>(k);
    shown.push_back(d.premises[order[k]]);
  }

  auto* inst = task.mutable_inference_chains();
  for (int i = 0; i < d.atoms; ++i) {
    inst->add_atoms(atom_symbol(i));
    inst->add_atom_phrases(v.phrases[i]->first);
  }
  if (first_order)
    for (const int person : v.people) inst->add_constants(kPeople[static_cast<size_t>(person)]);
  for (const auto& p : shown) fill_formula(v, p, inst->add_premises());
  fill_formula(v, d.chain.conclusion, inst->mutable_conclusion());
  inst->set_logic(first_order ? "first_order" : "propositional");
  inst->set_depth(static_cast<int>(d.chain.rules.size()));
  for (const auto& r : d.chain.rules) inst->add_rules(r.data(), r.size());
  inst->set_distractor_premises(d.distractors);
  inst->set_corruption(d.corruption);

  render_prompt(rng, shown, d.chain.conclusion, v, knobs.natural, *task.mutable_prompt());
  task.set_label(target ? "Yes" : "No");
  task.set_answer(task.label());
  if (target) {
    write_valid_trace(d.chain, position, v, task);
  } else {
    write_invalid_trace(d.corruption, shown, d.chain.conclusion, v, d.atoms, task);
    (*task.mutable_meta())["fallacy"] = d.corruption;
  }
}

// The random path: the label given (or drawn), then drafts until one has it.
void random_task(Rng& rng, const Settings& knobs, std::optional<bool> given_target, pb::Task& task) {
  const bool target = given_target ? *given_target : rng.chance(0.5);
  const bool first_order = knobs.first_order || (knobs.mixed && rng.chance(0.5));
  thread_local Draft d;  // reused: its vectors keep their buffers
  bool done = false;
  for (int attempt = 0; attempt < 200 && !done; ++attempt) done = try_draft(rng, knobs, target, first_order, d);
  if (!done) throw std::runtime_error("inference_chains: no instance found for knobs " + knobs.canonical);
  fill_task(rng, knobs, d, target, first_order, task);
}

// ---------------------------------------------------------------------------------------------
// The enumerated Yes questions: depth 1, basic rules, propositional, at most 2 distractors. A Yes
// question there is one valid link (one of the 30 below, atoms numbered as ChainBuilder numbers them)
// plus a multiset of distractors from the alphabet distractors() draws from, the whole entailing the
// conclusion. Distractors whose two literals share an atom are left out: distractors() makes one only
// after eight equal redraws (about 1 in 10,000 distractors), a degenerate tautology or literal.

constexpr int kMaxEnumeratedDistractors = 2;

// A depth-1 chain as ChainBuilder builds it: `start` given, then `rule` with `second` given (if any).
Chain one_link(const Prop& start, Rule rule, const std::optional<Prop>& second, const Prop& result, int atoms) {
  Chain c;
  c.atoms = atoms;
  c.givens.push_back(start);
  if (second) c.givens.push_back(*second);
  c.used_by.assign(c.givens.size(), rule);
  c.steps.push_back(second ? make_step(rule, {{start, 'p', 0}, {*second, 'p', 1}}, result)
                           : make_step(rule, {{start, 'p', 0}}, result));
  c.rules.push_back(rule);
  c.conclusion = result;
  return c;
}

// The odds of drawing a literal's sign (fresh(): negated one time in four).
double sign_odds(Lit l) { return l.neg ? 0.25 : 0.75; }

// The odds that ChainBuilder draws this depth-1 chain (start, rule, signs): the enumeration orders
// its questions by them so a dataset's Yes tasks look like the random path's (and its No tasks').
double chain_odds(const Chain& c) {
  const Prop& start = c.givens[0];
  const Rule rule = c.rules[0];
  if (start.shape == Shape::Fact) {  // then atom 2's literal: the conclusion's, negated by modus tollens
    const Lit fresh = rule == "modus_tollens" ? ~c.conclusion.a : c.conclusion.a;
    return 0.3 * sign_odds(start.a) * (start.a.neg ? 1.0 / 3 : 1.0) * sign_odds(fresh) *
           (rule == "disjunctive_syllogism" ? 0.5 : 1.0);
  }
  return 0.7 * sign_odds(start.a) * sign_odds(start.b) * 0.25 *
         (rule == "hypothetical_syllogism" ? sign_odds(c.conclusion.b) : 1.0);
}

// The odds that distractors() draws `p` (one distractor) with these atom counts.
double distractor_odds(const Prop& p, int chain_atoms, int spare) {
  const double b = 0.25 / spare * sign_odds(p.shape == Shape::Fact ? p.a : p.b);
  if (p.shape == Shape::Fact) return b;
  const double a = p.a.atom < chain_atoms ? 0.3 / chain_atoms : 0.7 / (spare - 1);
  return b * a * sign_odds(p.a);
}

// Every valid depth-1 chain of the basic rules. A fact start draws two fresh atoms (atom 1 is left
// unused), so the link's fresh atom is atom 2.
const std::vector<Chain>& depth_one_chains() {
  static const std::vector<Chain> chains = [] {
    std::vector<Chain> out;
    for (bool n0 : {false, true}) {
      for (bool n2 : {false, true}) {
        const Lit a{0, n0}, m{2, n2};
        out.push_back(one_link(fact(a), "modus_ponens", implies(a, m), fact(m), 3));
        if (!n0) continue;  // modus tollens and disjunctive syllogism start from a negated fact
        out.push_back(one_link(fact(a), "modus_tollens", implies(m, ~a), fact(~m), 3));
        out.push_back(one_link(fact(a), "disjunctive_syllogism", disjunction(~a, m), fact(m), 3));
        out.push_back(one_link(fact(a), "disjunctive_syllogism", disjunction(m, ~a), fact(m), 3));
      }
    }
    for (bool n0 : {false, true}) {
      for (bool n1 : {false, true}) {
        const Lit a{0, n0}, b{1, n1};
        const Prop f = implies(a, b);
        out.push_back(one_link(f, "modus_ponens", fact(a), fact(b), 2));
        out.push_back(one_link(f, "modus_tollens", fact(~b), fact(~a), 2));
        out.push_back(one_link(f, "contraposition", std::nullopt, implies(~b, ~a), 2));
        for (bool n2 : {false, true})
          out.push_back(one_link(f, "hypothetical_syllogism", implies(b, Lit{2, n2}), implies(a, Lit{2, n2}), 3));
      }
    }
    return out;
  }();
  return chains;
}

// What distractors() can state about `spare` distractor atoms after `chain_atoms` chain atoms: a fact
// about a distractor atom, or a -> b, a | b, ~(a & b) with b about a distractor atom and a about
// another atom. Ordered by b's atom first (the enumeration relies on it).
std::vector<Prop> build_distractor_alphabet(int chain_atoms, int spare) {
  std::vector<Prop> out;
  for (int b = chain_atoms; b < chain_atoms + spare; ++b) {
    for (bool nb : {false, true}) {
      const Lit bl{b, nb};
      out.push_back(fact(bl));
      for (int a = 0; a < chain_atoms + spare; ++a) {
        if (a == b) continue;
        for (bool na : {false, true}) {
          const Lit al{a, na};
          out.insert(out.end(), {implies(al, bl), disjunction(al, bl), not_both(al, bl)});
        }
      }
    }
  }
  return out;
}

// The alphabet for the chain atoms (2 or 3) and spare atoms (1 to 3) of the enumerated knobs, built once.
const std::vector<Prop>& distractor_alphabet(int chain_atoms, int spare) {
  static const auto alphabets = [] {
    std::array<std::array<std::vector<Prop>, kMaxEnumeratedDistractors + 2>, 4> out;
    for (int c = 2; c <= 3; ++c)
      for (int s = 1; s <= kMaxEnumeratedDistractors + 1; ++s) out[c][s] = build_distractor_alphabet(c, s);
    return out;
  }();
  return alphabets.at(chain_atoms).at(spare);
}

// A statement in 10 bits: shape, then each literal as atom (3 bits) and sign.
uint64_t prop_code(const Prop& p, const std::array<int, 8>& name) {
  const bool binary = p.shape != Shape::Fact;
  return static_cast<uint64_t>(p.shape) << 8 | static_cast<uint64_t>(name[p.a.atom]) << 5 |
         static_cast<uint64_t>(p.a.neg) << 4 | (binary ? static_cast<uint64_t>(name[p.b.atom]) << 1 | p.b.neg : 0);
}

// The question (premises as a multiset, conclusion) up to renaming its atoms, as one number: atoms are
// ordered by an invariant of the statements they occur in; the least code over the orders of atoms the
// invariant cannot tell apart wins. At most 4 premises (5 statements of 11 bits), 8 atoms.
uint64_t canonical_code(const std::vector<Prop>& premises, const Prop& conclusion) {
  if (premises.size() > 4) throw std::logic_error("inference_chains: canonical_code takes at most 4 premises");
  std::array<uint64_t, 8> invariant{};
  std::array<bool, 8> used{};
  // An occurrence (role, shape, place, sign) spread over 64 bits; an atom's invariant is their sum.
  auto spread = [](uint64_t occurrence) {
    uint64_t h = (occurrence + 1) * 0x9e3779b97f4a7c15ULL;
    return h ^ (h >> 29);
  };
  auto note = [&](const Prop& p, uint64_t role) {
    const uint64_t base = role * 64 + static_cast<uint64_t>(p.shape) * 8;
    invariant[p.a.atom] += spread(base + 2 + p.a.neg), used[p.a.atom] = true;
    if (p.shape != Shape::Fact) invariant[p.b.atom] += spread(base + 4 + p.b.neg), used[p.b.atom] = true;
  };
  for (const auto& p : premises) note(p, 0);
  note(conclusion, 1);
  std::array<int, 8> atoms{};
  int n = 0;
  for (int x = 0; x < 8; ++x)
    if (used[x]) atoms[n++] = x;
  for (int i = 1; i < n; ++i)  // insertion sort by invariant (a handful of atoms)
    for (int j = i; j > 0 && invariant[atoms[j]] < invariant[atoms[j - 1]]; --j) std::swap(atoms[j], atoms[j - 1]);
  // Runs of equal invariant, each walked through all its orders (odometer over next_permutation).
  std::array<std::pair<int, int>, 8> runs;
  int run_count = 0;
  for (int i = 0; i < n;) {
    int j = i + 1;
    while (j < n && invariant[atoms[j]] == invariant[atoms[i]]) ++j;
    if (j - i > 1) runs[run_count++] = {i, j};
    i = j;
  }
  uint64_t best = ~uint64_t{0};
  std::array<int, 8> name{};
  std::array<uint64_t, 4> codes{};
  for (;;) {
    for (int i = 0; i < n; ++i) name[atoms[i]] = i;
    const size_t k = premises.size();
    for (size_t i = 0; i < k; ++i) codes[i] = prop_code(premises[i], name) + 1;
    for (size_t i = 1; i < k; ++i)
      for (size_t j = i; j > 0 && codes[j] < codes[j - 1]; --j) std::swap(codes[j], codes[j - 1]);
    uint64_t code = prop_code(conclusion, name) + 1;
    for (size_t i = 0; i < k; ++i) code = code << 11 | codes[i];
    best = std::min(best, code);
    int r = run_count - 1;
    while (r >= 0 && !std::next_permutation(atoms.begin() + runs[r].first, atoms.begin() + runs[r].second)) --r;
    if (r < 0) break;
  }
  return best;
}

int spare_atoms(int chain_atoms, int distractors) { return std::min(kMaxAtoms - chain_atoms, distractors + 1); }

// A Yes question of the space: chain index, then each distractor's index in the chain's alphabet + 1.
uint64_t yes_code(size_t chain, const std::array<size_t, kMaxEnumeratedDistractors>& picked, int count) {
  uint64_t code = chain;
  for (int i = 0; i < count; ++i) code |= static_cast<uint64_t>(picked[i] + 1) << (8 + 8 * i);
  return code;
}

// The Yes questions of some knobs (as question_space files them) and each one's odds under the random
// path (summed over the ways it is drawn, up to a factor the same for all).
struct YesSpace {
  question_space::Space space;
  std::vector<double> odds;  // per question of space.questions[0]
};

// Every distinct Yes question with `distractors` distractors, by canonical_code, the first one found of
// each kept. The distractor atoms are interchangeable, so the first (least) distractor's b atom may be
// taken to be the first distractor atom: the alphabet is ordered by b's atom (a multiset whose
// distractors name k different b atoms is visited for k of the 3 atoms: its odds are divided by k).
YesSpace enumerate_yes(int distractors) {
  struct Entry {
    uint64_t canonical = 0, code = 0;  // canonical 0: free (it never occurs)
    double odds = 0;
  };
  // One visit of a chain: its question's canonical code, its own code and its odds.
  struct Visit {
    uint64_t canonical, code;
    double odds;
  };
  const auto& chains = depth_one_chains();
  // The chains' visits are worked out in parallel (canonical_code is most of the listing's cost, and
  // the listing runs before any task: on one thread it bounded the thread speed-up of a whole run),
  // inside the caller's arena (`verity generate --threads`), then merged below in chain order, so
  // the odds are summed in the same order, and the same list comes out, for any thread count.
  std::vector<std::vector<Visit>> visits(chains.size());
  // Isolated: while it waits for its chunks, this thread must not take up other tasks of the caller's
  // loop, one of which could ask for this very list and wait on the once-flag this thread holds.
  tbb::this_task_arena::isolate([&] {
    tbb::parallel_for(size_t{0}, chains.size(), [&](size_t c) {
      const Chain& chain = chains[c];
      const int spare = spare_atoms(chain.atoms, distractors);
      const auto& alphabet = distractor_alphabet(chain.atoms, spare);
      std::vector<uint64_t> words;
      std::vector<double> odds;
      for (const auto& p : alphabet) {
        words.push_back(prop_word(p));
        odds.push_back(distractor_odds(p, chain.atoms, spare));
      }
      const size_t first_atom_entries = alphabet.size() / static_cast<size_t>(spare);
      uint64_t core = ~uint64_t{0};
      for (const auto& g : chain.givens) core &= prop_word(g);
      const uint64_t goal = prop_word(chain.conclusion);
      const double base = chain_odds(chain);
      std::array<size_t, kMaxEnumeratedDistractors> at{};
      std::vector<Prop> premises;
      auto visit = [&](int count) {
        uint64_t models = core;
        for (int i = 0; i < count; ++i) models &= words[at[i]];
        if (models == 0 || (models & ~goal) != 0) return;  // distractors must keep it consistent and entailed
        premises = chain.givens;
        double weight = base;
        for (int i = 0; i < count; ++i) premises.push_back(alphabet[at[i]]), weight *= odds[at[i]];
        if (count == 2 && at[0] != at[1]) weight *= 2;  // drawn in either order
        if (count == 2 && at[1] >= first_atom_entries) weight /= 2;  // two b atoms: visited for 2 of 3
        visits[c].push_back({canonical_code(premises, chain.conclusion), yes_code(c, at, count), weight});
      };
      if (distractors == 0) visit(0);
      for (size_t i = 0; distractors >= 1 && i < first_atom_entries; ++i) {
        at[0] = i;
        if (distractors == 1) visit(1);
        for (size_t j = i; distractors == 2 && j < alphabet.size(); ++j) at[1] = j, visit(2);
      }
    });
  });
  std::vector<Entry> table(size_t{1} << 18);  // open addressing by canonical code
  size_t distinct = 0;
  for (const auto& chain_visits : visits) {
    for (const Visit& v : chain_visits) {
      if (2 * (distinct + 1) > table.size()) throw std::logic_error("inference_chains: enumeration table too small");
      size_t at = static_cast<size_t>((v.canonical * 0x9e3779b97f4a7c15ULL) >> 46);
      while (table[at].canonical != 0 && table[at].canonical != v.canonical) at = (at + 1) & (table.size() - 1);
      if (table[at].canonical == 0) table[at] = {v.canonical, v.code, 0.0}, ++distinct;
      table[at].odds += v.odds;
    }
  }
  std::vector<Entry> found;
  found.reserve(distinct);
  for (const auto& entry : table)
    if (entry.canonical != 0) found.push_back(entry);
  std::sort(found.begin(), found.end(), [](const Entry& x, const Entry& y) { return x.canonical < y.canonical; });
  YesSpace out;
  out.space.labels = {"Yes", "No"};
  out.space.questions.resize(2);
  for (const auto& e : found) out.space.questions[0].push_back(e.code), out.odds.push_back(e.odds);
  out.space.questions[1] = {0};  // a placeholder: No tasks are drawn at random
  return out;
}

const YesSpace& yes_space(int distractors) {
  static std::array<std::once_flag, kMaxEnumeratedDistractors + 1> once;
  static std::array<YesSpace, kMaxEnumeratedDistractors + 1> spaces;
  std::call_once(once[distractors], [&] { spaces[distractors] = enumerate_yes(distractors); });
  return spaces[distractors];
}

// inference_chains::enumerated_space from the parsed knobs.
const question_space::Space* enumerated_space(const Settings& knobs) {
  if (knobs.depth != 1 || knobs.all_rules || knobs.first_order || knobs.mixed ||
      knobs.distractors > kMaxEnumeratedDistractors)
    return nullptr;
  return &yes_space(knobs.distractors).space;
}

// The draft of Yes question `code`, the distractor atoms renamed at random (surface only); its label
// decided again and checked.
void yes_draft(uint64_t code, int distractors, Rng& rng, Draft& d) {
  d.chain = depth_one_chains().at(code & 0xff);
  d.corruption = "";
  const int chain_atoms = d.chain.atoms, spare = spare_atoms(chain_atoms, distractors);
  const auto& alphabet = distractor_alphabet(chain_atoms, spare);
  std::array<int, 8> rename{};
  for (int i = 0; i < spare; ++i) rename[i] = chain_atoms + i;
  for (int i = spare; i > 1; --i) std::swap(rename[i - 1], rename[rng.index(static_cast<size_t>(i))]);
  auto renamed = [&](Lit l) { return l.atom >= chain_atoms ? Lit{rename[l.atom - chain_atoms], l.neg} : l; };
  d.premises.assign(d.chain.givens.begin(), d.chain.givens.end());
  for (int i = 0; i < distractors; ++i) {
    Prop p = alphabet.at(((code >> (8 + 8 * i)) & 0xff) - 1);
    p.a = renamed(p.a), p.b = renamed(p.b);
    d.premises.push_back(p);
  }
  d.distractors = distractors;
  d.atoms = chain_atoms + (distractors > 0 ? spare : 0);
  uint64_t models = ~uint64_t{0};  // the label again, by one-word truth tables (the tests use their own)
  for (const auto& p : d.premises) models &= prop_word(p);
  if (models == 0 || (models & ~prop_word(d.chain.conclusion)) != 0)
    throw std::logic_error("inference_chains: an enumerated Yes question does not decide as Yes");
}

}  // namespace

std::vector<KnobSpec> InferenceChainsGenerator::knob_specs() const {
  return {KnobSpec::integer("depth", "rule applications chained from premises to the conclusion", 1, 7, 1),
          KnobSpec::integer("distractors", "extra premises the conclusion does not depend on", 0, 8, 0),
          KnobSpec::choice("rules", "basic = MP, MT, HS, DS, contraposition; all = also the dilemmas and De Morgan",
                           {"basic", "all"}, "basic"),
          KnobSpec::choice("logic", "propositional, first-order (rules about everyone, facts about people), or mixed",
                           {"propositional", "first_order", "mixed"}, "propositional"),
          KnobSpec::choice("format", "rendering of the statements", {"natural", "symbolic"}, "natural")};
}

KnobMap InferenceChainsGenerator::level_knobs(int level) const {
  struct Row { int depth, distractors; const char *rules, *logic; };
  // Two distractors from level 1 on: a single rule over a few atoms holds only ~100 distinct questions
  // (up to renaming), one distractor ~5,000; levels must hold at least 10,000.
  static const Row kLadder[] = {{1, 2, "basic", "propositional"}, {2, 2, "basic", "propositional"},
                                {2, 2, "all", "mixed"},           {3, 2, "all", "mixed"},
                                {3, 3, "all", "mixed"},           {4, 3, "all", "mixed"},
                                {5, 3, "all", "mixed"},           {6, 4, "all", "mixed"},
                                {7, 5, "all", "mixed"},           {7, 6, "all", "mixed"}};
  const Row& r = kLadder[level - 1];
  return {{"depth", std::to_string(r.depth)}, {"distractors", std::to_string(r.distractors)},
          {"rules", r.rules}, {"logic", r.logic}};
}

void InferenceChainsGenerator::generate(Rng& rng, const Knobs& knob_values, pb::Task& task) const {
  const Settings& knobs = settings(knob_values);
  const auto* space = enumerated_space(knobs);
  if (!space) return random_task(rng, knobs, std::nullopt, task);
  // The label from question_space's turns; the Yes question from the weighted order (round r: its r-th).
  const uint64_t key = mix_seed({task.seed(), knobs.knobs_hash});
  const auto pick = question_space::pick(*space, key, task.index());
  if (space->labels[pick.slot] != "Yes") return random_task(rng, knobs, false, task);
  const int distractors = knobs.distractors;
  // The Yes questions in a weighted shuffle (question_space::weighted_order, by their odds under the
  // random path), so the Yes tasks of a dataset of any size follow the random path's mix (signs,
  // statement shapes) and no surface feature tells them from the No tasks, drawn at random; every
  // question still comes once before any repeats.
  const YesSpace& yes = yes_space(distractors);
  const auto& order = question_space::cached_weighted_order(yes.space.questions[0], yes.odds, key);
  const uint64_t round = task.index() / space->labels.size();
  thread_local Draft d;  // reused: its vectors keep their buffers
  yes_draft(order[round % order.size()], distractors, rng, d);
  fill_task(rng, knobs, d, true, false, task);
}

std::map<std::string, uint64_t> InferenceChainsGenerator::question_counts(const Knobs& knobs) const {
  const auto* space = inference_chains::enumerated_space(knobs);
  if (!space) return {};
  return {{"Yes", space->questions[0].size()}};  // No questions are drawn at random: not counted
}

// The premises as a set and the conclusion, up to renaming the atoms and the named individuals.
std::string InferenceChainsGenerator::question_key(const pb::Task& task) const {
  const auto& inst = task.inference_chains();
  thread_local canonical::Question q;  // reused: no allocation per key; the key of the statement strings
  q.clear();
  // Atoms named A, B, ... in order (as fill_task names them): a formula's one-letter words are found
  // without a name search (the same calls into q as Question::symbolized makes).
  bool lettered = inst.atoms_size() <= 26;
  for (int i = 0; lettered && i < inst.atoms_size(); ++i)
    lettered = inst.atoms(i).size() == 1 && inst.atoms(i)[0] == static_cast<char>('A' + i);
  const int atom_count = inst.atoms_size();
  auto formula = [&](std::string_view text) {
    if (!lettered) return q.symbolized(text, inst.atoms(), 'a');
    size_t literal = 0;
    for (size_t i = 0; i < text.size();) {
      if (!canonical::identifier_char(text[i])) {
        ++i;
        continue;
      }
      size_t j = i + 1;
      while (j < text.size() && canonical::identifier_char(text[j])) ++j;
      const int atom = text[i] - 'A';
      if (j == i + 1 && atom >= 0 && atom < atom_count) {
        q.text(text.substr(literal, i - literal));
        q.symbol(atom, 'a');
        literal = j;
      }
      i = j;
    }
    q.text(text.substr(literal));
  };
  auto statement = [&](const char* role, const pb::ChainFormula& f) {
    q.statement();
    q.text(role);
    q.symbolized(f.scope(), inst.constants(), 'c');
    q.text('|');
    formula(f.formula());
  };
  for (const auto& premise : inst.premises()) statement("P|", premise);
  statement("C|", inst.conclusion());
  std::string key = task.family();
  key += '|';
  key += inst.logic();
  key += '|';
  key += q.key();
  return key;
}

// generate() draws the answer first: Yes or No with equal odds (enumerated knobs: in turns, one of each
// per two candidates).
std::map<std::string, double> InferenceChainsGenerator::label_shares(const Knobs& /*knobs*/) const {
  return {{"Yes", 0.5}, {"No", 0.5}};
}

namespace inference_chains {

const question_space::Space* enumerated_space(const Knobs& knobs) {
  const int64_t distractors = knobs.get_int("distractors");
  if (knobs.get_int("depth") != 1 || knobs.get("rules") != "basic" || knobs.get("logic") != "propositional" ||
      distractors > kMaxEnumeratedDistractors)
    return nullptr;
  return &yes_space(static_cast<int>(distractors)).space;
}

void generate_at_random(Rng& rng, const Knobs& knobs, pb::Task& task) {
  random_task(rng, settings(knobs), std::nullopt, task);
}

}  // namespace inference_chains

namespace generators {
const Generator& inference_chains() {
  static const InferenceChainsGenerator generator;
  return generator;
}
}  // namespace generators

}  // namespace verity
