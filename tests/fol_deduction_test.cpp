#include "solvers/fol_logic.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <set>
#include <sstream>
#include <unistd.h>

#include <z3++.h>

#include "family_properties.h"
#include "reading.h"
#include "label_shortcuts.h"
#include "service/generate.h"
#include "solvers/fol_ground.h"
#include "solvers/fol_z3.h"
#include "tasks/rng.h"
#include "test_support.h"
#include "verifiers/fol_proof.h"

namespace {

using namespace verity;
using fol::FormulaPtr;
using fol::Kind;

// ---------------------------------------------------------------------------------------------
// The second method: the instance grounded to clauses and decided by a small DPLL solver written
// here (no Z3). Domain: the named individuals, one witness per existential premise, one for the goal.
// ---------------------------------------------------------------------------------------------

using Clause = std::vector<int>;  // literals: +(atom + 1) / -(atom + 1)

class Grounder {
 public:
  Grounder(int predicates, int domain) : predicates_(predicates), domain_(domain) {}
  int domain() const { return domain_; }

  // Clauses of f (positive) or ~f at variable binding x; existentials read at `witness`.
  std::vector<Clause> clauses(const fol::Formula& f, bool positive, int witness, int x = -1) const {
    switch (f.kind) {
      case Kind::Atom: {
        const int element = f.arg == fol::kVariable ? x : f.arg;
        const int lit = f.pred * domain_ + element + 1;
        return {{positive ? lit : -lit}};
      }
      case Kind::Not: return clauses(*f.a, !positive, witness, x);
      case Kind::And: return positive ? both(f, true, witness, x) : either(*f.a, false, *f.b, false, witness, x);
      case Kind::Or: return positive ? either(*f.a, true, *f.b, true, witness, x) : both(f, false, witness, x);
      case Kind::Implies:
        if (positive) return either(*f.a, false, *f.b, true, witness, x);
        return concat(clauses(*f.a, true, witness, x), clauses(*f.b, false, witness, x));
      case Kind::Forall:
      case Kind::Exists: {
        const bool universal = (f.kind == Kind::Forall) == positive;
        if (!universal) return clauses(*f.a, positive, witness, witness);
        std::vector<Clause> out;
        for (int e = 0; e < domain_; ++e) out = concat(out, clauses(*f.a, positive, witness, e));
        return out;
      }
    }
    return {};
  }
  int atoms() const { return predicates_ * domain_; }

 private:
  static std::vector<Clause> concat(std::vector<Clause> a, const std::vector<Clause>& b) {
    a.insert(a.end(), b.begin(), b.end());
    return a;
  }
  std::vector<Clause> both(const fol::Formula& f, bool positive, int w, int x) const {
    return concat(clauses(*f.a, positive, w, x), clauses(*f.b, positive, w, x));
  }
  std::vector<Clause> either(const fol::Formula& a, bool pa, const fol::Formula& b, bool pb, int w, int x) const {
    std::vector<Clause> out;
    for (const auto& ca : clauses(a, pa, w, x))
      for (const auto& cb : clauses(b, pb, w, x)) {
        Clause c = ca;
        c.insert(c.end(), cb.begin(), cb.end());
        out.push_back(c);
      }
    return out;
  }
  int predicates_, domain_;
};

// DPLL with unit propagation; counts decisions (the reference solver's effort).
class Dpll {
 public:
  Dpll(std::vector<Clause> clauses, int atoms) : clauses_(std::move(clauses)), value_(atoms + 1, 0) {}
  bool satisfiable() { return search(); }
  long decisions = 0;

 private:
  int value(int lit) const { return lit > 0 ? value_[lit] : -value_[-lit]; }
  // false on a conflict; `trail` records assignments to undo.
  bool propagate(std::vector<int>& trail) {
    for (bool changed = true; changed;) {
      changed = false;
      for (const auto& c : clauses_) {
        int open = 0, unit = 0;
        bool satisfied = false;
        for (int lit : c) {
          const int v = value(lit);
          if (v > 0) { satisfied = true; break; }
          if (v == 0) ++open, unit = lit;
        }
        if (satisfied) continue;
        if (open == 0) return false;
        if (open == 1) {
          value_[std::abs(unit)] = unit > 0 ? 1 : -1;
          trail.push_back(std::abs(unit));
          changed = true;
        }
      }
    }
    return true;
  }
  bool search() {
    std::vector<int> trail;
    bool ok = propagate(trail);
    if (ok) {
      int pick = 0;
      for (const auto& c : clauses_) {
        bool satisfied = false;
        int open = 0;
        for (int lit : c) {
          if (value(lit) > 0) satisfied = true;
          if (value(lit) == 0) open = lit;
        }
        if (!satisfied && open != 0) { pick = std::abs(open); break; }
      }
      if (pick == 0) return true;  // every clause satisfied
      ++decisions;
      for (int v : {1, -1}) {
        value_[pick] = v;
        if (search()) return true;
      }
      value_[pick] = 0;
      ok = false;
    }
    for (int a : trail) value_[a] = 0;
    return false;
  }
  std::vector<Clause> clauses_;
  std::vector<int> value_;
};

struct Brute {
  const FolParsed& p;
  long decisions = 0;

  bool satisfiable(const std::vector<FormulaPtr>& premises, const FormulaPtr* negated_goal) {
    int existential = 0;
    for (const auto& f : premises) existential += f->kind == Kind::Exists;
    const int constants = static_cast<int>(p.vocabulary.constants.size());
    Grounder g(static_cast<int>(p.vocabulary.predicates.size()), constants + existential + 1);
    std::vector<Clause> all;
    int next = constants + 1;
    for (const auto& f : premises) {
      const auto c = g.clauses(*f, true, f->kind == Kind::Exists ? next++ : -1);
      all.insert(all.end(), c.begin(), c.end());
    }
    if (negated_goal) {
      const auto c = g.clauses(**negated_goal, false, constants);
      all.insert(all.end(), c.begin(), c.end());
    }
    Dpll solver(all, g.atoms());
    const bool sat = solver.satisfiable();
    decisions += solver.decisions;
    return sat;
  }
  bool entails(const std::vector<FormulaPtr>& premises, const FormulaPtr& goal) { return !satisfiable(premises, &goal); }
  std::string outcome(const std::vector<FormulaPtr>& premises) {
    if (!satisfiable(premises, nullptr)) return "inconsistent";
    if (entails(premises, p.hypothesis)) return "proved";
    return entails(premises, fol::negate(p.hypothesis)) ? "disproved" : "unknown";
  }
};

// The gold proof is irredundant: no step still follows when one of its cited premises is dropped
// (checked with the brute-force solver, not the Z3 step checker).
std::string gold_steps_irredundant(const pb::Task& task, const FolParsed& p, Brute& brute) {
  std::map<std::string, FormulaPtr> known;
  for (size_t k = 0; k < p.facts.size(); ++k) known["fact" + std::to_string(k + 1)] = p.facts[k];
  const std::string arrow = " -> ";
  for (const auto& step : task.trace()) {
    const std::string& text = step.text();
    const size_t at = text.find(arrow);
    std::vector<FormulaPtr> premises;
    for (const auto& c : step.cites()) premises.push_back(known.at(c));
    const std::string target = text.substr(at + arrow.size());
    FormulaPtr conclusion;
    if (target.rfind("int", 0) == 0) {
      const size_t colon = target.find(": ");
      conclusion = fol::parse(target.substr(colon + 2), p.vocabulary).formula;
      if (!conclusion) return "gold step does not parse: " + text;
      known[target.substr(0, colon)] = conclusion;
    } else {
      conclusion = target == "hypothesis" ? p.hypothesis : fol::negate(p.hypothesis);
    }
    if (!brute.entails(premises, conclusion)) return "gold step does not follow: " + text;
    for (size_t i = 0; premises.size() > 1 && i < premises.size(); ++i) {
      auto fewer = premises;
      fewer.erase(fewer.begin() + static_cast<long>(i));
      if (brute.entails(fewer, conclusion)) return "gold step needs no " + step.cites(static_cast<int>(i)) + ": " + text;
    }
  }
  return "";
}

std::string gold_completion(const pb::Task& task) {
  std::string text;
  for (const auto& s : task.trace()) text += s.text() + "\n";
  return text + "<answer>" + task.answer() + "</answer>";
}

// The label agrees with the brute-force solver; the gold proof verifies step by step and every step
// needs each premise it cites; every fact of the gold proof is necessary (no set of facts without it
// proves the statement, so no shortcut through distractors); an UNKNOWN task becomes decided when its
// removed leaf is restored.
std::string cross_check(const pb::Task& task) {
  const auto& inst = task.fol_deduction();
  const FolParsed p = parse_fol_instance(inst);
  for (const auto& f : p.facts)
    if (!f) return "a fact does not parse";
  if (!p.hypothesis) return "the hypothesis does not parse";
  Brute brute{p};
  const std::string outcome = brute.outcome(p.facts);
  if (outcome != inst.outcome()) return "brute force says " + outcome + ", instance says " + inst.outcome();
  const std::string label = outcome == "proved" ? kFolProved
                            : outcome == "disproved" || inst.closed_world() ? kFolDisproved : kFolUnknown;
  if (label != task.label()) return "label " + task.label() + " but brute force gives " + label;

  const pb::Score gold = score_completion(task, gold_completion(task));
  if (gold.reward() != 1.0 || gold.steps_valid() != gold.steps_checked()) return "gold proof scored: " + gold.reason();
  if (outcome == "unknown") {
    if (gold.steps_checked() != 0) return "an UNKNOWN trace has proof steps";
    auto restored = p.facts;
    restored.push_back(fol::parse(inst.removed_fact(), p.vocabulary).formula);
    if (!restored.back()) return "removed fact does not parse";
    const std::string back = brute.outcome(restored);
    if (back != "proved" && back != "disproved") return "restoring the removed leaf gives " + back;
    return "";
  }
  if (gold.steps_checked() != inst.proof_steps()) return "steps checked " + std::to_string(gold.steps_checked());
  if (gold.steps_required() != inst.proof_steps() || gold.steps_covered() != gold.steps_required() || gold.process() != 1.0)
    return "gold proof does not cover its derivation: " + gold.reason();
  if (std::string why = gold_steps_irredundant(task, p, brute); !why.empty()) return why;
  const FormulaPtr target = outcome == "proved" ? p.hypothesis : fol::negate(p.hypothesis);
  for (int k : inst.proof_facts()) {
    auto without = p.facts;
    without.erase(without.begin() + (k - 1));
    if (brute.entails(without, target)) return "proof fact " + std::to_string(k) + " is not necessary (a shortcut)";
  }
  return "";
}

const std::vector<std::string> kLabels = {kFolProved, kFolDisproved, kFolUnknown};

// A third method that does not ground at all: Z3 with real quantifiers over an uninterpreted sort
// (model-based quantifier instantiation decides this monadic fragment). It checks the grounding
// argument of solvers/fol_z3.h that both the generator and the brute-force solver rely on.
std::string z3_quantified_outcome(const FolParsed& p) {
  z3::context ctx;
  z3::solver solver(ctx);
  z3::params params(ctx);
  params.set("timeout", 20000u);
  solver.set(params);
  const z3::sort thing = ctx.uninterpreted_sort("Thing");
  std::vector<z3::func_decl> preds;
  for (size_t i = 0; i < p.vocabulary.predicates.size(); ++i)
    preds.push_back(ctx.function(("P" + std::to_string(i)).c_str(), thing, ctx.bool_sort()));
  std::vector<z3::expr> consts;
  for (size_t i = 0; i < p.vocabulary.constants.size(); ++i)
    consts.push_back(ctx.constant(("c" + std::to_string(i)).c_str(), thing));
  const z3::expr x = ctx.constant("x", thing);
  std::function<z3::expr(const fol::Formula&)> enc = [&](const fol::Formula& f) -> z3::expr {
    switch (f.kind) {
      case Kind::Atom: return preds[f.pred](f.arg == fol::kVariable ? x : consts[f.arg]);
      case Kind::Not: return !enc(*f.a);
      case Kind::And: return enc(*f.a) && enc(*f.b);
      case Kind::Or: return enc(*f.a) || enc(*f.b);
      case Kind::Implies: return z3::implies(enc(*f.a), enc(*f.b));
      case Kind::Forall: return z3::forall(x, enc(*f.a));
      case Kind::Exists: return z3::exists(x, enc(*f.a));
    }
    return ctx.bool_val(false);
  };
  for (const auto& f : p.facts) solver.add(enc(*f));
  auto check_with = [&](const z3::expr& extra) {
    solver.push();
    solver.add(extra);
    const z3::check_result r = solver.check();
    solver.pop();
    return r;
  };
  const z3::expr h = enc(*p.hypothesis);
  const z3::check_result consistent = solver.check(), with_not = check_with(!h), with_h = check_with(h);
  if (consistent == z3::unknown || with_not == z3::unknown || with_h == z3::unknown) return "z3 unknown";
  if (consistent == z3::unsat) return "inconsistent";
  if (with_not == z3::unsat) return "proved";
  return with_h == z3::unsat ? "disproved" : "unknown";
}

TEST(FolDeduction, QuantifiedZ3AgreesWithTheGroundedLabels) {
  const Generator& f = find_family("fol_deduction").generator;
  for (int level : {5, 8, 10}) {
    const Knobs knobs = resolve_knobs(f, level, {});
    for (uint64_t i = 0; i < 40; ++i) {
      const auto task = make_task(f, knobs, level, 12, i);
      EXPECT_EQ(z3_quantified_outcome(parse_fol_instance(task.fol_deduction())), task.fol_deduction().outcome())
          << "level " << level << " task " << i;
    }
  }
}

class FolDeductionLevels : public ::testing::TestWithParam<int> {};

TEST_P(FolDeductionLevels, GoldVerifiesWrongFailsBalancedAndBruteForceAgrees) {
  const int level = GetParam();
  // Generation costs ~1 ms a task at level 1 and ~8 ms at level 10 (one core): fewer seeds up there.
  const uint64_t count = level <= 4 ? 2000 : level <= 7 ? 1000 : 500;
  verity::testing::check_family_properties("fol_deduction", level, count, kLabels, cross_check, 0.06);
}

INSTANTIATE_TEST_SUITE_P(AllLevels, FolDeductionLevels, ::testing::Range(1, 11));

// The generator's ground decider (truth tables up to GroundDecider::kMaxTableAtoms atoms, Z3 beyond)
// against Z3 alone (GroundSolver) on 12,000 random sets of premises in the generator's shapes
// (literals, pairs, conditionals, nested up to size 9, "every P is Q", "some x is P and Q", their
// negations), over 1-3 individuals: consistency, entailment of random goals from random subsets, and
// the verdict, for question sizes on both sides of the crossover (both ways of deciding are exercised).
fol::FormulaPtr random_formula(Rng& rng, int predicates, int constants, bool quantifiers) {
  const auto literal = [&](int arg) {
    const FormulaPtr a = fol::atom(static_cast<int>(rng.index(predicates)), arg);
    return rng.chance(0.4) ? fol::negate(a) : a;
  };
  std::function<FormulaPtr(int, int)> body = [&](int arg, int budget) -> FormulaPtr {
    if (budget < 3 || rng.chance(0.35)) return literal(arg);
    static const Kind kinds[] = {Kind::And, Kind::Or, Kind::Implies};
    const FormulaPtr f = fol::binary(kinds[rng.index(3)], body(arg, budget / 2), body(arg, budget / 2));
    return rng.chance(0.15) ? fol::negate(f) : f;
  };
  const int c = static_cast<int>(rng.index(constants));
  if (quantifiers && rng.chance(0.3)) {
    const FormulaPtr q = rng.chance(0.5) ? fol::forall(body(fol::kVariable, 7)) : fol::exists(body(fol::kVariable, 7));
    return rng.chance(0.2) ? fol::negate(q) : q;
  }
  return body(c, 9);
}

TEST(FolDeduction, GroundDeciderAgreesWithZ3) {
  Rng rng(20261201);
  long checks = 0, on_tables = 0, on_z3 = 0, proved = 0, unknown = 0, inconsistent = 0;
  for (int round = 0; round < 12000; ++round) {
    const int constants = 1 + static_cast<int>(rng.index(3));
    const int predicates = 2 + static_cast<int>(rng.index(round % 3 == 0 ? 12 : 6));
    const bool quantifiers = rng.chance(0.5);
    std::vector<FormulaPtr> premises(3 + rng.index(8));
    for (auto& f : premises) f = random_formula(rng, predicates, constants, quantifiers);
    int existential = 0;
    for (const auto& f : premises) existential += f->kind == Kind::Exists || (f->kind == Kind::Not && f->a->kind == Kind::Forall);
    // Sometimes less witness room than existential premises: both refuse the same ones.
    const int witnesses = std::max(0, existential - static_cast<int>(rng.index(2)));
    // Z3's scope first: the decider's own GroundSolver, when it makes one, nests inside it.
    fol::GroundSolver z3(predicates + 1, constants, witnesses);
    fol::GroundDecider fast(predicates + 1, constants, witnesses);
    for (const auto& f : premises) ASSERT_EQ(fast.add(f), z3.add(f)) << "round " << round;
    ASSERT_EQ(fast.premises(), z3.premises());
    for (int query = 0; query < 4; ++query) {
      std::vector<int> use;
      for (int i = 0; i < z3.premises(); ++i)
        if (rng.chance(0.7)) use.push_back(i);
      const FormulaPtr goal = rng.chance(0.5) && !premises.empty() ? fol::neg(premises[rng.index(premises.size())])
                                                                  : random_formula(rng, predicates, constants, quantifiers);
      const auto consistent = z3.consistent(use);
      ASSERT_TRUE(consistent.has_value());
      ASSERT_EQ(fast.consistent(use), consistent) << "round " << round;
      ASSERT_EQ(fast.entails(use, goal), z3.entails(use, goal)) << "round " << round;
      const fol::Verdict verdict = z3.decide(use, goal);
      ASSERT_EQ(fast.decide(use, goal), verdict) << "round " << round;
      proved += verdict == fol::Verdict::Proved || verdict == fol::Verdict::Disproved;
      unknown += verdict == fol::Verdict::Unknown;
      inconsistent += verdict == fol::Verdict::Inconsistent;
      checks += 3;
    }
    ++(fast.on_z3() ? on_z3 : on_tables);
  }
  std::cout << checks << " checks; " << on_tables << " sets on truth tables, " << on_z3 << " on Z3; verdicts: "
            << proved << " decided, " << unknown << " unknown, " << inconsistent << " inconsistent\n";
  EXPECT_GT(on_tables, 6000);
  EXPECT_GT(on_z3, 500);
  EXPECT_GT(proved, 2000);
  EXPECT_GT(unknown, 2000);
  EXPECT_GT(inconsistent, 2000);
}

// Every knob alone, at its extremes, keeps the properties.
TEST(FolDeduction, KnobExtremesCrossCheck) {
  const std::vector<KnobMap> settings = {
      {{"format", "symbolic"}},
      {{"world", "closed"}},
      {{"quantifiers", "on"}, {"depth", "6"}},
      {{"distractors", "30"}},
      {{"branch_extensions", "12"}, {"depth", "5"}},
      {{"individuals", "4"}, {"quantifiers", "on"}},
      {{"unknown_ratio", "1"}},
      {{"depth", "12"}, {"quantifiers", "on"}, {"format", "symbolic"}}};
  for (const auto& knobs : settings)
    verity::testing::check_every_task("fol_deduction", 0, knobs, 80,
                                      [](const pb::Task& t, uint64_t) { return cross_check(t); });
}

TEST(FolDeduction, ClosedWorldHasNoUnknownAndSaysSo) {
  const Generator& f = find_family("fol_deduction").generator;
  const Knobs knobs = resolve_knobs(f, 4, {{"world", "closed"}});
  std::map<std::string, int> counts;
  for (uint64_t i = 0; i < 300; ++i) {
    const auto task = make_task(f, knobs, 4, 1, i);
    ++counts[task.answer()];
    EXPECT_NE(task.prompt().find("Closed world"), std::string::npos);
    if (task.fol_deduction().outcome() == "unknown") {
      EXPECT_EQ(task.answer(), kFolDisproved);
      EXPECT_EQ(score_completion(task, "<answer>UNKNOWN</answer>").reward(), 0.0);
    }
  }
  EXPECT_EQ(counts[kFolUnknown], 0);
  EXPECT_GT(counts[kFolDisproved], counts[kFolProved]);  // refuted + not provable
}

// The closed-world instruction and the label agree: the prompt's rule ("PROVED if the facts imply the
// hypothesis, DISPROVED otherwise"), applied by the test's brute-force solver to the parsed facts,
// gives the gold label on
// 2,000 tasks (200 per level). It is stated for the hypothesis only: "whatever does not follow is
// false", applied to atoms, made 88 of 196 not-provable hypotheses true.
TEST(FolDeduction, ClosedWorldRuleAppliedGivesTheGoldLabel) {
  const Generator& f = find_family("fol_deduction").generator;
  for (int level = 1; level <= 10; ++level) {
    const Knobs knobs = resolve_knobs(f, level, {{"world", "closed"}});
    for (uint64_t i = 0; i < 200; ++i) {
      const auto task = make_task(f, knobs, level, 5, i);
      const std::string& prompt = task.prompt();
      ASSERT_NE(prompt.find("Answer PROVED if the facts imply the hypothesis, and DISPROVED otherwise"),
                std::string::npos) << prompt;
      ASSERT_EQ(prompt.find("whatever does not follow"), std::string::npos) << prompt;
      const FolParsed parsed = parse_fol_instance(task.fol_deduction());
      ASSERT_TRUE(parsed.hypothesis);
      Brute brute{parsed};
      const bool implied = brute.entails(parsed.facts, parsed.hypothesis);
      EXPECT_EQ(task.answer(), implied ? kFolProved : kFolDisproved) << "level " << level << " task " << i;
    }
  }
}

TEST(FolDeduction, QuantifiersOffMeansNoQuantifiedStatements) {
  const Generator& f = find_family("fol_deduction").generator;
  int quantified = 0;
  for (const char* q : {"off", "on"}) {
    const Knobs knobs = resolve_knobs(f, 0, {{"quantifiers", q}, {"depth", "5"}, {"distractors", "8"}});
    int count = 0;
    for (uint64_t i = 0; i < 100; ++i) {
      const auto inst = make_task(f, knobs, 0, 2, i).fol_deduction();
      for (const auto& fact : inst.facts()) count += fact.rfind("forall", 0) == 0 || fact.rfind("exists", 0) == 0;
    }
    if (std::string(q) == "off") EXPECT_EQ(count, 0);
    quantified = count;
  }
  EXPECT_GT(quantified, 100);
}

TEST(FolDeduction, SymbolicAndNaturalPromptsAndStepsParse) {
  const Generator& f = find_family("fol_deduction").generator;
  for (const char* format : {"natural", "symbolic"}) {
    const Knobs knobs = resolve_knobs(f, 7, {{"format", format}});
    for (uint64_t i = 0; i < 50; ++i) {
      const auto task = make_task(f, knobs, 7, 3, i);
      const bool symbolic = std::string(format) == "symbolic";
      if (symbolic) EXPECT_NE(task.prompt().find("fact1: "), std::string::npos);
      if (symbolic && task.fol_deduction().proof_steps() > 0)
        EXPECT_NE(task.trace(0).text().find("("), std::string::npos) << task.trace(0).text();
      if (!symbolic) EXPECT_EQ(task.prompt().find("~"), std::string::npos) << task.prompt();
    }
  }
}

// The hypothesis's surface must not give the label away: negations, pairs and quantifiers occur about
// equally often in PROVED, DISPROVED and UNKNOWN tasks.
TEST(FolDeduction, HypothesisShapeDoesNotRevealTheLabel) {
  const Generator& f = find_family("fol_deduction").generator;
  const Knobs knobs = resolve_knobs(f, 6, {{"format", "symbolic"}});
  std::map<std::string, std::array<double, 4>> stats;  // negations, pairs, quantified, count
  for (uint64_t i = 0; i < 1500; ++i) {
    const auto task = make_task(f, knobs, 6, 13, i);
    const std::string& h = task.fol_deduction().hypothesis();
    auto& s = stats[task.answer()];
    s[0] += std::count(h.begin(), h.end(), '~');
    s[1] += h.find('&') != std::string::npos || h.find('|') != std::string::npos;
    s[2] += h.rfind("forall", 0) == 0 || h.rfind("exists", 0) == 0;
    s[3] += 1;
  }
  for (int k = 0; k < 3; ++k) {
    const double proved = stats[kFolProved][k] / stats[kFolProved][3];
    for (const char* other : {kFolDisproved, kFolUnknown})
      EXPECT_NEAR(stats[other][k] / stats[other][3], proved, 0.1) << "feature " << k << " for " << other;
  }
}

TEST(FolDeduction, ProofFactsAreNotListedFirst) {
  const Generator& f = find_family("fol_deduction").generator;
  const Knobs knobs = resolve_knobs(f, 6, {});
  int first = 0, proofs = 0;
  for (uint64_t i = 0; i < 200; ++i) {
    const auto inst = make_task(f, knobs, 6, 4, i).fol_deduction();
    if (inst.proof_facts_size() == 0) continue;
    ++proofs;
    first += inst.proof_facts(inst.proof_facts_size() - 1) == inst.proof_facts_size();
  }
  EXPECT_LT(first, proofs / 10);
}

// ---- the step checker ----

// Splits "premises -> target" of a gold step.
std::pair<std::string, std::string> split_step(const std::string& text) {
  const size_t arrow = text.find(" -> ");
  return {text.substr(0, arrow), text.substr(arrow + 4)};
}

std::string with_step(const pb::Task& task, int index, const std::string& replacement) {
  std::string text;
  for (int s = 0; s < task.trace_size(); ++s) text += (s == index ? replacement : task.trace(s).text()) + "\n";
  return text + "<answer>" + task.answer() + "</answer>";
}

TEST(FolDeduction, CorruptedStepsLowerTheProcessScoreAndAreNamed) {
  const Generator& f = find_family("fol_deduction").generator;
  const Knobs knobs = resolve_knobs(f, 6, {});
  int swapped = 0, swapped_invalid = 0, checked = 0;
  for (uint64_t i = 0; i < 150; ++i) {
    const auto task = make_task(f, knobs, 6, 5, i);
    const auto& inst = task.fol_deduction();
    if (inst.proof_steps() < 2) continue;
    ++checked;
    const int j = static_cast<int>(i % inst.proof_steps());
    const std::string name = "first invalid step " + std::to_string(j + 1) + ":";
    const auto [premises, target] = split_step(task.trace(j).text());
    ScoreOptions blend;
    blend.process_weight = 0.5;
    // 1. A premise that does not exist.
    {
      const auto s = score_completion(task, with_step(task, j, premises + " & fact999 -> " + target), blend);
      EXPECT_EQ(s.steps_valid() + 1, s.steps_checked()) << s.reason();
      EXPECT_LT(s.steps_covered(), s.steps_required()) << s.reason();
      EXPECT_NE(s.reason().find(name), std::string::npos) << s.reason();
      EXPECT_LT(s.reward(), 1.0);
    }
    // 2. The negation of the conclusion (consistent premises never imply both).
    if (target.rfind("int", 0) == 0) {
      const size_t colon = target.find(": ");
      const FolParsed p = parse_fol_instance(inst);
      const FormulaPtr stated = fol::parse(target.substr(colon + 2), p.vocabulary).formula;
      ASSERT_TRUE(stated) << target;
      const std::string wrong = target.substr(0, colon + 2) + fol::to_symbolic(*fol::neg(stated), p.vocabulary);
      const auto s = score_completion(task, with_step(task, j, premises + " -> " + wrong), blend);
      EXPECT_LT(s.steps_valid(), s.steps_checked()) << s.reason();
      EXPECT_NE(s.reason().find(name), std::string::npos) << s.reason();
      EXPECT_EQ(s.correct(), true);  // the outcome is still right...
      EXPECT_LT(s.reward(), 1.0);   // ...but the blended reward drops
    } else {
      const std::string flipped = target == "hypothesis" ? "\xC2\xAChypothesis" : "hypothesis";
      const auto s = score_completion(task, with_step(task, j, premises + " -> " + flipped));
      EXPECT_LT(s.steps_valid(), s.steps_checked()) << s.reason();
    }
    // 3. A cited fact swapped for a distractor: invalid unless the distractor happens to do its job.
    if (inst.distractor_facts_size() > 0 && premises.find("fact") != std::string::npos) {
      const size_t at = premises.find("fact");
      size_t end = at + 4;
      while (end < premises.size() && std::isdigit(static_cast<unsigned char>(premises[end]))) ++end;
      const std::string other = "fact" + std::to_string(inst.distractor_facts(static_cast<int>(i % inst.distractor_facts_size())));
      const auto s = score_completion(task, with_step(task, j, premises.substr(0, at) + other + premises.substr(end) + " -> " + target));
      ++swapped;
      swapped_invalid += s.steps_valid() < s.steps_checked();
    }
    // 4. An int cited before any step derives it.
    {
      const auto s = score_completion(task, with_step(task, j, "int77 & " + premises + " -> " + target));
      EXPECT_NE(s.reason().find(name), std::string::npos) << s.reason();
    }
  }
  EXPECT_GT(checked, 100);
  EXPECT_GT(swapped_invalid, swapped * 9 / 10) << swapped_invalid << " of " << swapped;
}

// A proof that stops before the hypothesis: every step valid, no phantom step, but the derivation is
// not covered, so its process score is below the full proof's.
TEST(FolDeduction, ProofWithoutConclusionIsIncomplete) {
  const Generator& f = find_family("fol_deduction").generator;
  const Knobs knobs = resolve_knobs(f, 5, {{"unknown_ratio", "0"}});
  for (uint64_t i = 0; i < 30; ++i) {
    const auto task = make_task(f, knobs, 5, 6, i);
    std::string text;
    for (int s = 0; s + 1 < task.trace_size(); ++s) text += task.trace(s).text() + "; ";
    const auto s = score_completion(task, text + "<answer>" + task.answer() + "</answer>");
    EXPECT_EQ(s.steps_checked(), task.trace_size() - 1);
    EXPECT_EQ(s.steps_valid(), task.trace_size() - 1);
    EXPECT_EQ(s.steps_required(), task.trace_size());
    EXPECT_EQ(s.steps_covered(), task.trace_size() - 1) << s.reason();
    EXPECT_LT(s.process(), 1.0);
  }
}

TEST(FolDeduction, StepsInEitherSyntaxAndSpellingsAreAccepted) {
  const Generator& f = find_family("fol_deduction").generator;
  const Knobs knobs = resolve_knobs(f, 5, {{"unknown_ratio", "0"}});
  for (uint64_t i = 0; i < 40; ++i) {
    const auto task = make_task(f, knobs, 5, 7, i);
    const FolParsed p = parse_fol_instance(task.fol_deduction());
    // Re-render every int statement in the symbolic syntax, separate steps by ';', number them.
    std::string text;
    for (int s = 0; s < task.trace_size(); ++s) {
      auto [premises, target] = split_step(task.trace(s).text());
      if (target.rfind("int", 0) == 0) {
        const size_t colon = target.find(": ");
        const auto parsed = fol::parse(target.substr(colon + 2), p.vocabulary);
        ASSERT_TRUE(parsed.formula) << parsed.error;
        target = target.substr(0, colon + 2) + fol::to_symbolic(*parsed.formula, p.vocabulary);
      }
      text += std::to_string(s + 1) + ". " + premises + " -> " + target + "; ";
    }
    for (const std::string answer : {task.answer(), std::string(task.answer() == kFolProved ? "proved" : "Disproved")}) {
      const auto s = score_completion(task, text + "\nAnswer: " + answer);
      EXPECT_EQ(s.reward(), 1.0) << s.reason();
      EXPECT_EQ(s.steps_valid(), s.steps_checked()) << s.reason();
      EXPECT_EQ(s.steps_checked(), task.trace_size());
    }
    EXPECT_EQ(score_completion(task, text + "<answer>yes</answer>").format_ok(), false);
  }
}

// Untrusted text: garbage, huge and deeply nested steps, many steps. Never throws, scores stay
// well-formed, work stays bounded (steps capped).
TEST(FolDeduction, AdversarialProofsAreHandled) {
  const Generator& f = find_family("fol_deduction").generator;
  const auto task = make_task(f, resolve_knobs(f, 10, {}), 10, 1, 0);
  std::vector<std::string> inputs = {
      "", "fact", "fact1", "fact1 ->", "fact1 -> int1:", "fact1 -> int1: (((((", "int0 -> hypothesis",
      "fact0 & fact99999999999 -> hypothesis", "fact1 & fact2 -> int1: forall x: forall x: red(x)",
      "fact1 -> int1: \xff\xfe", "fact1 -> ~~~~hypothesis", "fact1 -> int1: Alice is; fact1 -> int1: x"};
  inputs.push_back("fact1 -> int1: " + std::string(3000, '(') + "red(alice)" + std::string(3000, ')'));
  inputs.push_back("fact1 -> int1: " + std::string(5000, '~') + "red(alice)");
  std::string many;
  for (int i = 0; i < 5000; ++i) many += "fact1 & fact2 -> int" + std::to_string(i + 1) + ": it is not the case that (" + (i % 2 ? "x" : "y") + ");";
  inputs.push_back(many);
  std::string wide = "fact1";
  for (int i = 0; i < 2000; ++i) wide += " & fact" + std::to_string(1 + i % 5);
  inputs.push_back(wide + " -> hypothesis");
  std::string big = "fact1 -> int1: ";
  for (int i = 0; i < 600; ++i) big.append("(").append(i % 2 ? "~" : "").append("alpha(alice) & ");
  inputs.push_back(big);
  inputs.push_back(std::string(64 * 1024 + 10, 'a'));
  for (const auto& text : inputs) {
    pb::Score s;
    ASSERT_NO_THROW(s = score_completion(task, text));
    EXPECT_LE(s.steps_valid(), s.steps_checked());
    EXPECT_LE(s.steps_checked(), kMaxProofSteps + 1);
    EXPECT_EQ(s.reward(), 0.0);
    // Deterministic: the same text scores the same.
    EXPECT_EQ(score_completion(task, text).SerializeAsString(), s.SerializeAsString());
  }
}

// Printing and parsing agree on every statement of many tasks (both syntaxes, all templates).
TEST(FolDeduction, StatementsRoundTripThroughTheParser) {
  const Generator& f = find_family("fol_deduction").generator;
  const Knobs knobs = resolve_knobs(f, 9, {});
  for (uint64_t i = 0; i < 60; ++i) {
    const auto inst = make_task(f, knobs, 9, 8, i).fol_deduction();
    const FolParsed p = parse_fol_instance(inst);
    for (const auto& fact : p.facts) {
      ASSERT_TRUE(fact);
      for (size_t variant = 0; variant < 2; ++variant) {
        const auto natural = fol::parse(fol::to_natural(*fact, p.vocabulary, variant) + ".", p.vocabulary);
        ASSERT_TRUE(natural.formula) << fol::to_natural(*fact, p.vocabulary, variant) << ": " << natural.error;
        EXPECT_TRUE(fol::equal(*natural.formula, *fact)) << fol::to_natural(*fact, p.vocabulary, variant);
      }
      const auto symbolic = fol::parse(fol::to_symbolic(*fact, p.vocabulary), p.vocabulary);
      ASSERT_TRUE(symbolic.formula);
      EXPECT_TRUE(fol::equal(*symbolic.formula, *fact));
    }
  }
  // Unicode and ASCII alternatives read the same.
  fol::Vocabulary v{{"red", "blue"}, {"alice"}};
  const auto a = fol::parse("\xE2\x88\x80x: red(x) \xE2\x86\x92 \xC2\xAC" "blue(x)", v);
  const auto b = fol::parse("forall x: red(x) -> ~blue(x)", v);
  const auto c = fol::parse("Everything that is red is not blue.", v);
  ASSERT_TRUE(a.formula && b.formula && c.formula);
  EXPECT_TRUE(fol::equal(*a.formula, *b.formula));
  EXPECT_TRUE(fol::equal(*b.formula, *c.formula));
  EXPECT_FALSE(fol::parse("red(bob)", v).formula);
  EXPECT_FALSE(fol::parse("red(x)", v).formula);  // a free variable outside a quantifier
}

// Difficulty: proof depth, proof steps, facts and the reference solver's decisions rise with the level.
TEST(FolDeduction, DifficultyRisesWithLevel) {
  const Generator& f = find_family("fol_deduction").generator;
  double prev_depth = 0, prev_facts = 0, first_decisions = 0, last_decisions = 0;
  for (int level = 1; level <= 10; ++level) {
    const Knobs knobs = resolve_knobs(f, level, {});
    double depth = 0, facts = 0, decisions = 0;
    int proofs = 0;
    const int n = 120;
    for (uint64_t i = 0; i < n; ++i) {
      const auto task = make_task(f, knobs, level, 9, i);
      const auto& inst = task.fol_deduction();
      facts += inst.facts_size();
      const FolParsed p = parse_fol_instance(inst);
      Brute brute{p};
      brute.outcome(p.facts);
      decisions += static_cast<double>(brute.decisions);
      if (inst.proof_steps() == 0) continue;
      ++proofs;
      depth += inst.proof_depth();
      EXPECT_EQ(inst.proof_depth(), knobs.get_int("depth"));
    }
    depth /= proofs;
    facts /= n;
    EXPECT_GE(depth, prev_depth) << "level " << level;
    EXPECT_GT(facts, prev_facts) << "level " << level;
    prev_depth = depth;
    prev_facts = facts;
    if (level == 1) first_decisions = decisions / n;
    if (level == 10) last_decisions = decisions / n;
  }
  EXPECT_GT(prev_depth, 7.5);
  EXPECT_GT(last_decisions, 3 * first_decisions + 1);
}

TEST(FolDeduction, NoDuplicatePrompts) {
  const Generator& f = find_family("fol_deduction").generator;
  for (int level : {1, 4}) {
    const Knobs knobs = resolve_knobs(f, level, {});
    std::set<std::string> prompts;
    for (uint64_t i = 0; i < 2000; ++i) prompts.insert(make_task(f, knobs, level, 10, i).prompt());
    EXPECT_EQ(prompts.size(), 2000u) << "level " << level;
  }
}

TEST(FolDeduction, IdenticalForOneAndTwoThreads) {
  namespace fs = std::filesystem;
  const fs::path dir = verity::testing::fresh_temp_dir("verity_fol_test", "threads");
  std::string outputs[2];
  for (int threads : {1, 2}) {
    GenerateRequest r;
    r.family = "fol_deduction";
    r.level = 10;
    r.seed = 3;
    r.count = 120;
    r.threads = threads;
    r.output = (dir / ("t" + std::to_string(threads) + ".jsonl")).string();
    generate_dataset(r);
    outputs[threads - 1] = verity::testing::read_file(r.output);
  }
  fs::remove_all(dir);
  ASSERT_FALSE(outputs[0].empty());
  EXPECT_EQ(outputs[0], outputs[1]);
}

TEST(FolDeduction, BadKnobsNameTheFix) {
  const Generator& f = find_family("fol_deduction").generator;
  EXPECT_THROW(resolve_knobs(f, 0, {{"depth", "0"}}), KnobError);
  EXPECT_THROW(resolve_knobs(f, 0, {{"world", "half"}}), KnobError);
  EXPECT_THROW(resolve_knobs(f, 0, {{"unknown_ratio", "2"}}), KnobError);
  EXPECT_THROW(resolve_knobs(f, 11, {}), KnobError);
}

// ---- one reading per sentence: the prompt read back by a parser written for the test ----

namespace rd = verity::testing::reading;

// Readings: at(P,A) for predicate P of argument A (a constant's index, or x), not(.), and, or, imp,
// all(.), ex(.). "adj:" marks an adjective ("red", "not red") before "everything that is ... is ...".
std::string fol_prefix(const fol::Formula& f) {
  switch (f.kind) {
    case Kind::Atom:
      return "at(" + std::to_string(f.pred) + "," + (f.arg == fol::kVariable ? "x" : std::to_string(f.arg)) + ")";
    case Kind::Not: return "not(" + fol_prefix(*f.a) + ")";
    case Kind::And: return "and(" + fol_prefix(*f.a) + "," + fol_prefix(*f.b) + ")";
    case Kind::Or: return "or(" + fol_prefix(*f.a) + "," + fol_prefix(*f.b) + ")";
    case Kind::Implies: return "imp(" + fol_prefix(*f.a) + "," + fol_prefix(*f.b) + ")";
    case Kind::Forall: return "all(" + fol_prefix(*f.a) + ")";
    case Kind::Exists: return "ex(" + fol_prefix(*f.a) + ")";
  }
  return "";
}

// A reading back into a formula (for the brute-force label).
FormulaPtr fol_from_prefix(const std::string& r, size_t& pos) {
  const size_t open = r.find('(', pos);
  const std::string op = r.substr(pos, open - pos);
  pos = open + 1;
  if (op == "at") {
    const size_t comma = r.find(',', pos), close = r.find(')', pos);
    const int pred = std::stoi(r.substr(pos, comma - pos));
    const std::string arg = r.substr(comma + 1, close - comma - 1);
    pos = close + 1;
    return fol::atom(pred, arg == "x" ? fol::kVariable : std::stoi(arg));
  }
  FormulaPtr a = fol_from_prefix(r, pos);
  if (op == "not" || op == "all" || op == "ex") {
    ++pos;
    return op == "not" ? fol::negate(a) : op == "all" ? fol::forall(a) : fol::exists(a);
  }
  ++pos;
  FormulaPtr b = fol_from_prefix(r, pos);
  ++pos;
  return fol::binary(op == "and" ? Kind::And : op == "or" ? Kind::Or : Kind::Implies, a, b);
}

// True when x occurs outside every quantifier ("it" with nothing to refer to).
bool fol_free_x(const std::string& r) {
  for (size_t i = 0; i < r.size(); ++i) {
    if (r.compare(i, 4, "all(") == 0 || r.compare(i, 3, "ex(") == 0) {
      int depth = 0;
      for (i = r.find('(', i); i < r.size(); ++i) {
        depth += r[i] == '(' ? 1 : r[i] == ')' ? -1 : 0;
        if (depth == 0) break;
      }
      continue;
    }
    if (r.compare(i, 3, ",x)") == 0) return true;
  }
  return false;
}

rd::Grammar fol_grammar(const pb::FolDeductionInstance& inst, bool natural) {
  using Args = std::vector<std::string>;
  rd::Grammar g;
  auto no_adjectives = [](std::function<std::string(const Args&)> op) {
    return [op](const Args& a) -> std::string {
      for (const auto& x : a)
        if (x.rfind("adj:", 0) == 0) return "";
      return op(a);
    };
  };
  auto quantifier = [](const char* q) { return [q](const Args& a) { return std::string(q) + "(" + a[0] + ")"; }; };
  g.templates = natural ? rd::english_connectives() : rd::symbolic_connectives();
  if (natural) {
    g.templates.push_back(rd::pattern("for every thing , {}", quantifier("all")));
    g.templates.push_back(rd::pattern("there is something such that {}", quantifier("ex")));
    g.templates.push_back(rd::pattern("there exists something such that {}", quantifier("ex")));
  } else {
    g.templates.push_back(rd::pattern("forall x : {}", quantifier("all")));
    g.templates.push_back(rd::pattern("exists x : {}", quantifier("ex")));
  }
  for (auto& t : g.templates) t.build = no_adjectives(t.build);
  if (natural)
    g.templates.push_back(rd::pattern("everything that is {} is {}", [](const Args& a) -> std::string {
      if (a[0].rfind("adj:at", 0) != 0 || a[1].rfind("adj:", 0) != 0) return "";  // a positive adjective first
      return "all(imp(" + a[0].substr(4) + "," + a[1].substr(4) + "))";
    }));
  std::map<std::string, std::string> leaves;
  std::vector<std::pair<std::string, std::string>> subjects = {{natural ? "it" : "x", "x"}};
  for (int c = 0; c < inst.constants_size(); ++c) subjects.emplace_back(rd::tokenize(inst.constants(c))[0], std::to_string(c));
  for (int p = 0; p < inst.predicates_size(); ++p) {
    const std::string word = rd::tokenize(inst.predicates(p))[0];
    for (const auto& [name, arg] : subjects) {
      const std::string atom = "at(" + std::to_string(p) + "," + arg + ")";
      if (natural) {
        leaves[name + " is " + word] = atom;
        leaves[name + " is not " + word] = "not(" + atom + ")";
      } else {
        leaves[word + " ( " + name + " )"] = atom;
      }
    }
    if (natural) {
      leaves[word] = "adj:at(" + std::to_string(p) + ",x)";
      leaves["not " + word] = "adj:not(at(" + std::to_string(p) + ",x))";
    }
  }
  g.leaf = rd::leaf_table(std::move(leaves));
  return g;
}

// Reads the prompt back: every fact and the hypothesis has exactly one reading (closed: no stray
// "it"), the stored formula; the label re-derived by the test's DPLL from the parsed formulas is the
// task's.
std::string fol_read_back(const pb::Task& task, bool natural) {
  const auto& inst = task.fol_deduction();
  const FolParsed stored = parse_fol_instance(inst);
  rd::Grammar g = fol_grammar(inst, natural);
  FolParsed parsed{stored.vocabulary, {}, nullptr};
  std::string failure;
  auto read_one = [&](std::string text, const FormulaPtr& expected) -> FormulaPtr {
    if (!text.empty() && text.back() == '.') text.pop_back();
    rd::Readings r = g.read(rd::tokenize(text));
    std::erase_if(r, [](const std::string& x) { return x.rfind("adj:", 0) == 0 || fol_free_x(x); });
    if (r.size() != 1) {
      failure += std::to_string(r.size()) + " readings of '" + text + "'" + (r.empty() ? "" : ": " + *r.begin() + " / " + *r.rbegin()) + "; ";
      return nullptr;
    }
    if (*r.begin() != fol_prefix(*expected)) failure += "'" + text + "' reads as " + *r.begin() + ", stored " + fol_prefix(*expected) + "; ";
    size_t pos = 0;
    return fol_from_prefix(*r.begin(), pos);
  };
  for (const std::string& line : rd::lines_of(task.prompt())) {
    const size_t colon = line.find(": ");
    const bool numbered = line.rfind("fact", 0) == 0 && colon != std::string::npos && colon > 4 &&
                          std::all_of(line.begin() + 4, line.begin() + static_cast<long>(colon),
                                      [](char c) { return std::isdigit(static_cast<unsigned char>(c)); });
    if (numbered) {
      const int number = std::stoi(line.substr(4, colon - 4));
      if (number != static_cast<int>(parsed.facts.size()) + 1 || number > inst.facts_size()) return "fact numbering";
      parsed.facts.push_back(read_one(line.substr(colon + 2), stored.facts[number - 1]));
    } else if (line.rfind("Hypothesis: ", 0) == 0) {
      parsed.hypothesis = read_one(line.substr(12), stored.hypothesis);
    }
  }
  if (parsed.facts.size() != stored.facts.size() || !parsed.hypothesis) return failure + "facts or hypothesis missing";
  if (!failure.empty()) return failure;
  Brute brute{parsed};
  const std::string outcome = brute.outcome(parsed.facts);
  return outcome == inst.outcome() ? "" : "the parsed prompt is " + outcome + ", stored " + inst.outcome();
}

// Generation costs ~1 ms a task at level 1 and ~8 ms at level 10 (one core): one test per level and format.
class FolDeductionReading : public ::testing::TestWithParam<std::tuple<int, const char*>> {};

TEST_P(FolDeductionReading, EverySentenceHasOneReadingAndItIsTheStoredOne) {
  const auto [level, format] = GetParam();
  verity::testing::check_every_task("fol_deduction", level, {{"format", format}}, 2000,
                                    [&](const pb::Task& task, uint64_t) {
                                      return fol_read_back(task, std::string(format) == "natural");
                                    });
}

INSTANTIATE_TEST_SUITE_P(AllLevels, FolDeductionReading,
                         ::testing::Combine(::testing::Range(1, 11), ::testing::Values("natural", "symbolic")));

// The reader itself sees ambiguity, so the test above can fail.
TEST(FolDeductionReadingSelf, TheReaderSeesAmbiguity) {
  pb::FolDeductionInstance inst;
  for (const char* p : {"red", "blue"}) inst.add_predicates(p);
  inst.add_constants("alice");
  rd::Grammar g = fol_grammar(inst, true);
  EXPECT_EQ(g.read(rd::tokenize("it is not the case that (Alice is red) and (Alice is blue)")).size(), 2u);
  EXPECT_EQ(g.read(rd::tokenize("Everything that is red is not blue")), rd::Readings{"all(imp(at(0,x),not(at(1,x))))"});
  rd::Grammar s = fol_grammar(inst, false);
  rd::Readings rule = s.read(rd::tokenize("forall x: red(x) -> blue(x)"));
  EXPECT_EQ(rule.size(), 2u);  // the wide reading leaves the second x free: no sentence
  std::erase_if(rule, fol_free_x);
  EXPECT_EQ(rule, rd::Readings{"all(imp(at(0,x),at(1,x)))"});
  rd::Readings wide = s.read(rd::tokenize("forall x: red(x) & blue(alice)"));
  std::erase_if(wide, fol_free_x);
  EXPECT_EQ(wide.size(), 2u);
}

// ---- no shortcuts, many questions per level ----

class FolDeductionSurface : public ::testing::TestWithParam<int> {};

// The surface signs of a formula's literals: (predicate, negated) for every atom, "~" directly above
// counting, whatever the connective around it.
std::set<std::pair<int, bool>> surface_literals(const fol::Formula& f, bool negated = false) {
  if (f.kind == Kind::Atom) return {{f.pred, negated}};
  if (f.kind == Kind::Not && f.a->kind == Kind::Atom) return surface_literals(*f.a, true);
  std::set<std::pair<int, bool>> out = surface_literals(*f.a);
  if (f.b) out.merge(surface_literals(*f.b));
  return out;
}

// "Does the hypothesis's literal occur in the facts as written, or negated?": the hypothesis's
// literals that the facts state with the same sign minus those they state with the other sign.
// Before every task carried a counter statement (and UNKNOWN a stand-in for its missing leaf), it told
// PROVED from DISPROVED with accuracy 0.87 at level 1, 0.72 at level 3 and 0.63 at level 10, and
// UNKNOWN from either with 0.72 at level 1 (the proof's facts state the proved literal, which a
// DISPROVED hypothesis negates).
double hypothesis_polarity_in_facts(const pb::Task& t) {
  const FolParsed p = parse_fol_instance(t.fol_deduction());
  std::set<std::pair<int, bool>> stated;
  for (const auto& fact : p.facts) stated.merge(surface_literals(*fact));
  double score = 0;
  for (const auto& [pred, negated] : surface_literals(*p.hypothesis))
    score += static_cast<double>(stated.count({pred, negated})) - static_cast<double>(stated.count({pred, !negated}));
  return score;
}

// No surface feature tells the labels apart beyond chance, in either format: prompt length, fact
// count, negations (even in number for PROVED and odd for DISPROVED at levels 1-2 before the counter
// statement: accuracy 0.58 / 0.57), the hypothesis's polarity in the facts, and the facts of each
// shape (a stand-in for only some of the leaves UNKNOWN leaves out let the facts with "->" tell
// UNKNOWN apart at level 1 with accuracy 0.58).
TEST_P(FolDeductionSurface, NoShortcutToTheLabel) {
  const int level = GetParam();
  const uint64_t count = level <= 4 ? 2000 : level <= 7 ? 1000 : 600;
  auto shortcuts = verity::testing::surface_shortcuts([](const pb::Task& t) { return static_cast<double>(t.fol_deduction().facts_size()); });
  shortcuts.push_back({"hypothesis polarity in the facts", hypothesis_polarity_in_facts});
  for (const char* connective : {"|", "&", "->"})
    shortcuts.push_back({std::string("facts with ") + connective, [connective](const pb::Task& t) {
                           const auto& facts = t.fol_deduction().facts();
                           return static_cast<double>(std::count_if(facts.begin(), facts.end(), [&](const std::string& f) {
                             return f.find(connective) != std::string::npos;
                           }));
                         }});
  for (const char* format : {"natural", "symbolic"})
    verity::testing::expect_no_label_shortcut("fol_deduction", level, count, shortcuts, {{"format", format}});
}

// Every level holds at least 10,000 distinct questions (question_key, up to renaming and order):
// levels 1-2 generate 10,000 through the service; above, the collision bound on a sample.
TEST_P(FolDeductionSurface, LevelHoldsTenThousandQuestions) {
  const int level = GetParam();
  if (level <= 2) return verity::testing::expect_distinct_dataset_of("fol_deduction", level, 10000);
  verity::testing::expect_question_space_at_least("fol_deduction", level, level <= 4 ? 2000 : level <= 7 ? 1000 : 600, 10000);
}

INSTANTIATE_TEST_SUITE_P(AllLevels, FolDeductionSurface, ::testing::Range(1, 11));

// "A or B" read as exclusive changes answers: every English prompt says it is inclusive.
TEST(FolDeduction, EnglishPromptsSayOrIsInclusive) { verity::testing::expect_inclusive_or_stated("fol_deduction"); }

}  // namespace
