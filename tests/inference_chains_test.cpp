#include <gtest/gtest.h>
#include <oneapi/tbb/parallel_for.h>

#include <atomic>
#include <filesystem>
#include <map>
#include <set>

#include "family_properties.h"
#include "test_support.h"
#include "solvers/logic.h"
#include "solvers/z3_bridge.h"
#include "tasks/dataset.h"
#include "tasks/registry/registry.h"

namespace {

using namespace verity;

// ---------------------------------------------------------------------------------------------
// Second method, independent of Z3: truth tables.
// Propositional: enumerate every assignment of the atoms.
// First-order (monadic, one variable per statement, no existential premises): a countermodel can
// be cut down to the named individuals plus at most one witness, and each individual's atoms are
// constrained only by the universal premises and the facts about it. So with
//   T_c = (all universal premises) & (facts about c)   per individual c, and
//   T_* = (all universal premises)                     for an unnamed individual,
// the premises are consistent iff every T_c is satisfiable, and the conclusion F follows iff
//   about c:  T_c implies F;   exists: some T_c implies F;   forall: T_* implies F.

struct Parsed {
  std::vector<logic::FormulaPtr> formulas;
  std::vector<std::string> scopes;
  logic::FormulaPtr conclusion;
  std::string conclusion_scope;
  int atoms = 0;
  std::string error;
};

Parsed parse_instance(const pb::InferenceChainInstance& inst) {
  Parsed out;
  const std::vector<std::string> names(inst.atoms().begin(), inst.atoms().end());
  out.atoms = static_cast<int>(names.size());
  for (const auto& p : inst.premises()) {
    auto r = logic::parse(p.formula(), names);
    if (!r.formula) out.error += "premise '" + p.formula() + "': " + r.error + "; ";
    out.formulas.push_back(r.formula);
    out.scopes.push_back(p.scope());
  }
  auto c = logic::parse(inst.conclusion().formula(), names);
  if (!c.formula) out.error += "conclusion: " + c.error + "; ";
  out.conclusion = c.formula;
  out.conclusion_scope = inst.conclusion().scope();
  return out;
}

bool implies_table(const logic::TruthTable& models, const logic::TruthTable& f) { return !models.intersects(~f); }

// "Yes", "No" or "inconsistent".
std::string label_by_tables(const pb::InferenceChainInstance& inst) {
  const Parsed p = parse_instance(inst);
  if (!p.error.empty()) return "parse error: " + p.error;
  const logic::TruthTable goal = logic::truth_table(*p.conclusion, p.atoms);
  if (inst.logic() == "propositional") {
    logic::TruthTable models = logic::all_true(p.atoms);
    for (const auto& f : p.formulas) models &= logic::truth_table(*f, p.atoms);
    if (models.none()) return "inconsistent";
    return implies_table(models, goal) ? "Yes" : "No";
  }
  logic::TruthTable universal = logic::all_true(p.atoms);
  for (size_t i = 0; i < p.formulas.size(); ++i)
    if (p.scopes[i] == "forall") universal &= logic::truth_table(*p.formulas[i], p.atoms);
  std::map<std::string, logic::TruthTable> about;
  for (const auto& c : inst.constants()) about.emplace(c, universal);
  for (size_t i = 0; i < p.formulas.size(); ++i) {
    if (p.scopes[i] == "forall") continue;
    if (!about.count(p.scopes[i])) return "premise about unknown individual " + p.scopes[i];
    about.at(p.scopes[i]) &= logic::truth_table(*p.formulas[i], p.atoms);
  }
  for (const auto& [name, t] : about)
    if (t.none()) return "inconsistent";
  if (p.conclusion_scope == "forall") return implies_table(universal, goal) ? "Yes" : "No";
  if (p.conclusion_scope == "exists") {
    for (const auto& [name, t] : about)
      if (implies_table(t, goal)) return "Yes";
    return "No";
  }
  if (!about.count(p.conclusion_scope)) return "conclusion about unknown individual";
  return implies_table(about.at(p.conclusion_scope), goal) ? "Yes" : "No";
}

const std::set<std::string> kRules = {
    "modus_ponens",          "modus_tollens",         "hypothetical_syllogism", "disjunctive_syllogism",
    "contraposition",        "constructive_dilemma",  "destructive_dilemma",    "bidirectional_dilemma",
    "de_morgan",             "universal_instantiation", "existential_generalisation"};

// The gold trace of a Yes task: one step per link (plus instantiations), each citing existing
// premises and earlier steps only, the last one stating the conclusion.
std::string check_trace(const pb::Task& task) {
  const auto& inst = task.inference_chains();
  if (task.label() != "Yes") return task.trace_size() > 0 ? "" : "No task without a trace; ";
  int links = 0;
  for (int i = 0; i < task.trace_size(); ++i) {
    const auto& step = task.trace(i);
    if (!kRules.count(step.rule())) return "unknown rule " + step.rule() + "; ";
    links += step.rule() != "universal_instantiation";
    for (const auto& cite : step.cites()) {
      const int n = std::stoi(cite.substr(1));
      const bool ok = cite[0] == 'p' ? n >= 1 && n <= inst.premises_size() : cite[0] == 's' && n >= 1 && n <= i;
      if (!ok) return "step " + std::to_string(i + 1) + " cites " + cite + "; ";
    }
  }
  if (links != inst.depth() || inst.rules_size() != inst.depth()) return "trace links differ from depth; ";
  return "";
}

// Propositional Yes traces, step by step: what a step cites (premises and earlier steps) must entail
// what it states, by truth table. This is the process check a step verifier would apply.
std::string check_steps_sound(const pb::Task& task) {
  const auto& inst = task.inference_chains();
  if (task.label() != "Yes" || inst.logic() != "propositional") return "";
  const std::vector<std::string> names(inst.atoms().begin(), inst.atoms().end());
  const int n = inst.atoms_size();
  std::vector<logic::TruthTable> steps;
  for (int i = 0; i < task.trace_size(); ++i) {
    const std::string& text = task.trace(i).text();
    const auto stated = logic::parse(text.substr(0, text.find("  (")), names);
    if (!stated.formula) return "step " + std::to_string(i + 1) + " does not parse: " + text + "; ";
    logic::TruthTable cited = logic::all_true(n);
    for (const auto& cite : task.trace(i).cites()) {
      const int k = std::stoi(cite.substr(1)) - 1;
      cited &= cite[0] == 'p' ? logic::truth_table(*logic::parse(inst.premises(k).formula(), names).formula, n)
                              : steps[k];
    }
    const logic::TruthTable result = logic::truth_table(*stated.formula, n);
    if (!implies_table(cited, result)) return "step " + std::to_string(i + 1) + " does not follow from its cites; ";
    steps.push_back(result);
  }
  const auto conclusion = logic::parse(inst.conclusion().formula(), names).formula;
  if (steps.empty() || !implies_table(steps.back(), logic::truth_table(*conclusion, n)))
    return "the last step does not state the conclusion; ";
  return "";
}

std::string cross_check(const pb::Task& task) {
  const auto& inst = task.inference_chains();
  const std::string by_tables = label_by_tables(inst);
  if (by_tables != task.label()) return "Z3 label " + task.label() + " but truth tables say " + by_tables + "; ";
  if (inst.depth() != std::stoi(task.knobs().at("depth"))) return "depth differs from the knob; ";
  return check_trace(task) + check_steps_sound(task);
}

class InferenceChainsLevels : public ::testing::TestWithParam<int> {};

TEST_P(InferenceChainsLevels, GoldVerifiesWrongFailsBalancedAndCrossChecked) {
  verity::testing::check_family_properties("inference_chains", GetParam(), 1500, {"Yes", "No"}, cross_check);
}

INSTANTIATE_TEST_SUITE_P(AllLevels, InferenceChainsLevels, ::testing::Range(1, 11));

// The generator labels propositional tasks by truth tables (solvers/entailment.h); Z3 must agree on
// its own instances, 10,000 per level (the level's ladder with logic=propositional, so every task
// counts), including those over the table limit that Z3 itself labelled.
class InferenceChainsAgainstZ3 : public ::testing::TestWithParam<int> {};

TEST_P(InferenceChainsAgainstZ3, TruthTableLabelsAgreeWithZ3) {
  const Generator& family = find_family("inference_chains").generator;
  KnobMap overrides = family.level_knobs(GetParam());
  overrides["logic"] = "propositional";
  const Knobs knobs = resolve_knobs(family, GetParam(), overrides);
  const TaskMaker maker(family, knobs, GetParam(), 0x23);
  constexpr int kInstances = 10000;
  std::atomic<int> disagreements{0}, yes{0};
  tbb::parallel_for(0, kInstances, [&](int i) {
    pb::Task task;
    maker.make(static_cast<uint64_t>(i), task);
    const Parsed parsed = parse_instance(task.inference_chains());
    ASSERT_TRUE(parsed.error.empty()) << parsed.error;
    std::vector<logic::FormulaPtr> formulas = parsed.formulas;
    const auto consistent = z3bridge::check_conjunction(formulas, parsed.atoms, z3bridge::kGenerationRlimit);
    formulas.push_back(logic::Formula::negate(parsed.conclusion));
    const auto counter = z3bridge::check_conjunction(formulas, parsed.atoms, z3bridge::kGenerationRlimit);
    const std::string z3_label = consistent == z3::sat && counter == z3::unsat ? "Yes" : "No";
    yes += task.label() == "Yes";
    if ((consistent != z3::sat || z3_label != task.label()) && disagreements++ < 5)
      ADD_FAILURE() << "level " << GetParam() << " task " << i << ": label " << task.label() << ", Z3 says "
                    << (consistent == z3::sat ? z3_label : "inconsistent premises");
  });
  EXPECT_EQ(disagreements, 0);
  EXPECT_GT(yes, kInstances / 3);  // both labels occur: the comparison is not vacuous
  EXPECT_LT(yes, kInstances * 2 / 3);
}

INSTANTIATE_TEST_SUITE_P(AllLevels, InferenceChainsAgainstZ3, ::testing::Range(1, 11));

TEST(InferenceChains, FirstOrderKnobGivesQuantifiedPremises) {
  const Generator& f = find_family("inference_chains").generator;
  const Knobs knobs = resolve_knobs(f, 4, {{"logic", "first_order"}});
  std::set<std::string> rules;
  for (uint64_t i = 0; i < 300; ++i) {
    const pb::Task task = make_task(f, knobs, 4, 1, i);
    EXPECT_EQ(task.inference_chains().logic(), "first_order");
    EXPECT_EQ(task.inference_chains().constants_size(), 2);
    for (const auto& step : task.trace()) rules.insert(step.rule());
  }
  EXPECT_TRUE(rules.count("universal_instantiation"));
  EXPECT_TRUE(rules.count("existential_generalisation"));
}

TEST(InferenceChains, EveryRuleAndFallacyAppears) {
  const Generator& f = find_family("inference_chains").generator;
  std::set<std::string> rules, fallacies;
  for (int level : {1, 3, 5, 8}) {
    const Knobs knobs = resolve_knobs(f, level, {});
    for (uint64_t i = 0; i < 300; ++i) {
      const pb::Task task = make_task(f, knobs, level, 2, i);
      for (const auto& r : task.inference_chains().rules()) rules.insert(r);
      if (task.label() == "No") fallacies.insert(task.inference_chains().corruption());
    }
  }
  for (const auto& r : kRules) {
    if (r != "universal_instantiation") {
      EXPECT_TRUE(rules.count(r)) << r;
    }
  }
  for (const char* kind : {"affirming_the_consequent", "denying_the_antecedent", "missing_link", "wrong_conclusion"})
    EXPECT_TRUE(fallacies.count(kind)) << kind;
}

// Classic depth-1 fallacies must be labelled No by the independent truth tables as well.
TEST(InferenceChains, AffirmingTheConsequentIsNo) {
  pb::InferenceChainInstance inst;
  inst.set_logic("propositional");
  inst.add_atoms("A");
  inst.add_atoms("B");
  inst.add_premises()->set_formula("A -> B");
  inst.add_premises()->set_formula("B");
  inst.mutable_conclusion()->set_formula("A");
  EXPECT_EQ(label_by_tables(inst), "No");
  inst.mutable_premises(1)->set_formula("A");
  inst.mutable_conclusion()->set_formula("B");
  EXPECT_EQ(label_by_tables(inst), "Yes");
}

// Reference solver effort: truth-table size times premises, rising with the level.
TEST(InferenceChains, DifficultyRisesWithLevel) {
  const Generator& f = find_family("inference_chains").generator;
  auto effort = [&](int level) {
    const Knobs knobs = resolve_knobs(f, level, {});
    double total = 0;
    for (uint64_t i = 0; i < 100; ++i) {
      const auto& inst = make_task(f, knobs, level, 3, i).inference_chains();
      total += static_cast<double>(uint64_t{1} << inst.atoms_size()) * inst.premises_size();
    }
    return total / 100;
  };
  double previous = 0;
  for (int level = 1; level <= 10; ++level) {
    const double e = effort(level);
    EXPECT_GT(e, previous) << "level " << level;
    previous = e;
  }
}

// Levels draw from a large space: repeated prompts stay rare even at level 1.
TEST(InferenceChains, DuplicatePromptsAreRare) {
  const Generator& f = find_family("inference_chains").generator;
  const Knobs knobs = resolve_knobs(f, 1, {});
  std::set<std::string> prompts;
  for (uint64_t i = 0; i < 2000; ++i) prompts.insert(make_task(f, knobs, 1, 4, i).prompt());
  EXPECT_GT(prompts.size(), 1990u);
}

TEST(InferenceChains, SymbolicFormatShowsFormulas) {
  const Generator& f = find_family("inference_chains").generator;
  const pb::Task task = make_task(f, resolve_knobs(f, 2, {{"format", "symbolic"}}), 2, 1, 0);
  EXPECT_NE(task.prompt().find("Conclusion: " + task.inference_chains().conclusion().formula()), std::string::npos);
  const pb::Task natural = make_task(f, resolve_knobs(f, 2, {}), 2, 1, 0);
  EXPECT_EQ(natural.prompt().find("Conclusion:"), std::string::npos);
}

TEST(InferenceChains, AcceptsSpellingsRejectsOthers) {
  const Generator& f = find_family("inference_chains").generator;
  const Verifier& verifier = find_family("inference_chains").verifier;
  pb::Task task = make_task(f, resolve_knobs(f, 1, {}), 1, 0, 0);
  task.set_answer("Yes");
  EXPECT_EQ(verifier.verify(task, "Reasoning.\nAnswer: yes").reward(), 1.0);
  EXPECT_EQ(verifier.verify(task, "<answer>No</answer>").reward(), 0.0);
  EXPECT_FALSE(verifier.verify(task, "<answer>maybe</answer>").format_ok());
}

// "Either A or B" read as exclusive changes answers: every English prompt says it is inclusive.
TEST(InferenceChains, EnglishPromptsSayOrIsInclusive) {
  verity::testing::expect_inclusive_or_stated("inference_chains");
}


// ---- distinct questions ----

std::vector<std::string> ic_statements(const pb::InferenceChainInstance& inst) {
  std::vector<std::string> out;
  // Role words that are never an atom's or a person's name (atoms are letters: "C|" would be renamed).
  for (const auto& p : inst.premises()) out.push_back("premise " + p.scope() + " | " + p.formula());
  out.push_back("conclusion " + inst.conclusion().scope() + " | " + inst.conclusion().formula());
  return out;
}

std::string ic_brute_key(const pb::Task& task) {
  const auto& inst = task.inference_chains();
  std::vector<std::string> symbols(inst.atoms().begin(), inst.atoms().end());
  symbols.insert(symbols.end(), inst.constants().begin(), inst.constants().end());
  return verity::testing::brute_force_canonical(ic_statements(inst), symbols);
}

// The same question with the atoms and individuals renamed and the premises shuffled.
pb::Task ic_renamed(const pb::Task& task, Rng& rng) {
  pb::Task copy = task;
  auto* inst = copy.mutable_inference_chains();
  auto rename = verity::testing::random_renaming({inst->atoms().begin(), inst->atoms().end()}, "Q", rng);
  for (int i = 0; i < inst->constants_size(); ++i) rename[inst->constants(i)] = "person" + std::to_string(9 - i);
  for (auto& atom : *inst->mutable_atoms()) atom = rename[atom];
  for (auto& c : *inst->mutable_constants()) c = rename[c];
  auto fix = [&](pb::ChainFormula& f) {
    f.set_formula(verity::testing::rename_identifiers(f.formula(), rename));
    f.set_scope(verity::testing::rename_identifiers(f.scope(), rename));
  };
  std::vector<pb::ChainFormula> premises(inst->premises().begin(), inst->premises().end());
  rng.shuffle(premises);
  inst->clear_premises();
  for (auto p : premises) {
    fix(p);
    *inst->add_premises() = p;
  }
  fix(*inst->mutable_conclusion());
  return copy;
}

// question_key agrees with the brute-force canonical form on 2,000 tasks per level (levels 1 and 2 had
// most of their prompts repeated up to renaming), and survives renaming and reordering at every level.
TEST(InferenceChainsQuestions, KeyIsTheCanonicalFormUpToNamesAndOrder) {
  for (int level = 1; level <= 2; ++level)
    verity::testing::expect_question_key_matches("inference_chains", level, 2000, ic_brute_key);
  for (int level = 1; level <= 10; ++level)
    verity::testing::expect_key_survives("inference_chains", level, 100, ic_renamed);
}

TEST(InferenceChainsQuestions, DatasetsHoldDistinctQuestions) {
  const auto dir = verity::testing::fresh_temp_dir("verity_ic_distinct", "datasets");
  for (int level : {1, 2, 3, 4}) {
    const auto tasks = verity::testing::distinct_dataset("inference_chains", level, 2000, dir.string());
    if (level >= 3) EXPECT_EQ(tasks.size(), 2000u) << "level " << level;
    if (level <= 2) {  // propositional, at most 4 atoms: the brute-force form is cheap
      std::set<std::string> brute;
      for (const auto& t : tasks) brute.insert(ic_brute_key(t));
      EXPECT_EQ(brute.size(), tasks.size()) << "level " << level;
    }
  }
  std::filesystem::remove_all(dir);
}

}  // namespace
