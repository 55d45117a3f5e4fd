#include <gtest/gtest.h>

#include <filesystem>
#include <oneapi/tbb/parallel_for.h>

#include <atomic>

#include "family_properties.h"
#include "test_support.h"
#include "solvers/entailment.h"
#include "solvers/logic.h"
#include "solvers/z3_bridge.h"

namespace {

using namespace verity;

// Independent label: parse the stored symbolic premises and enumerate every assignment.
std::string brute_force_label(const pb::Task& task) {
  const auto& inst = task.propositional();
  const std::vector<std::string> names(inst.variables().begin(), inst.variables().end());
  if (names.size() > 20) return "";  // too many for enumeration; Z3 alone decides
  std::vector<logic::FormulaPtr> premises;
  for (const auto& p : inst.premises()) premises.push_back(logic::parse(p, names).formula);
  const auto conclusion = logic::parse(inst.conclusion(), names).formula;
  bool can_hold = false, can_fail = false;
  for (uint64_t a = 0; a < (uint64_t{1} << names.size()); ++a) {
    bool all = true;
    for (const auto& p : premises) all = all && logic::evaluate(*p, a);
    if (all) (logic::evaluate(*conclusion, a) ? can_hold : can_fail) = true;
  }
  if (!can_hold && !can_fail) return "inconsistent";
  return !can_fail ? "entailed" : !can_hold ? "contradicted" : "neither";
}

std::string cross_check(const pb::Task& task) {
  const auto& inst = task.propositional();
  const std::vector<std::string> names(inst.variables().begin(), inst.variables().end());
  for (const auto& p : inst.premises())
    if (!logic::parse(p, names).formula) return "premise does not parse: " + p;
  if (!logic::parse(inst.conclusion(), names).formula) return "conclusion does not parse";
  const std::string brute = brute_force_label(task);
  if (!brute.empty() && brute != task.label()) return "label " + task.label() + " but enumeration says " + brute;
  // Z3, independent of the truth tables the generator decides with.
  std::vector<logic::FormulaPtr> premises;
  for (const auto& p : inst.premises()) premises.push_back(logic::parse(p, names).formula);
  const auto z3 = z3bridge::decide_entailment(premises, logic::parse(inst.conclusion(), names).formula,
                                              static_cast<int>(names.size()));
  if (z3bridge::to_string(z3.label) != task.label()) return "label " + task.label() + " but Z3 says " + to_string(z3.label);
  return "";
}

class PropositionalEntailmentLevels : public ::testing::TestWithParam<int> {};

TEST_P(PropositionalEntailmentLevels, GoldVerifiesWrongFailsBalancedAndCrossChecked) {
  verity::testing::check_family_properties("propositional_entailment", GetParam(), 2000,
                                   {"entailed", "contradicted", "neither"}, cross_check);
}

INSTANTIATE_TEST_SUITE_P(AllLevels, PropositionalEntailmentLevels, ::testing::Range(1, 11));

TEST(PropositionalEntailment, DifficultyRisesWithLevel) {
  const Generator& f = find_family("propositional_entailment").generator;
  auto mean_size = [&](int level) {
    const Knobs knobs = resolve_knobs(f, level, {});
    double total = 0;
    for (uint64_t i = 0; i < 200; ++i) {
      const auto task = make_task(f, knobs, level, 3, i);
      total += task.propositional().premises_size() + task.propositional().variables_size();
    }
    return total / 200;
  };
  double previous = 0;
  for (int level = 1; level <= 10; ++level) {
    const double size = mean_size(level);
    EXPECT_GT(size, previous) << "level " << level;
    previous = size;
  }
}

TEST(PropositionalEntailment, SymbolicFormatShowsFormulas) {
  const Generator& f = find_family("propositional_entailment").generator;
  const Knobs knobs = resolve_knobs(f, 3, {{"format", "symbolic"}});
  const auto task = make_task(f, knobs, 3, 1, 0);
  EXPECT_NE(task.prompt().find(task.propositional().conclusion()), std::string::npos);
  const Knobs natural = resolve_knobs(f, 3, {});
  EXPECT_EQ(make_task(f, natural, 3, 1, 0).prompt().find(" -> "), std::string::npos);
}

TEST(PropositionalEntailment, AcceptsSynonymsRejectsOthers) {
  const Generator& f = find_family("propositional_entailment").generator;
  const Verifier& verifier = find_family("propositional_entailment").verifier;
  pb::Task task = make_task(f, resolve_knobs(f, 1, {}), 1, 0, 0);
  task.set_answer("neither");
  EXPECT_EQ(verifier.verify(task, "<answer>Cannot be determined.</answer>").reward(), 1.0);
  const auto s = verifier.verify(task, "<answer>maybe</answer>");
  EXPECT_EQ(s.reward(), 0.0);
  EXPECT_FALSE(s.format_ok());
  EXPECT_NE(s.reason().find("not one of"), std::string::npos);
}

// The generator's decider (truth tables) against Z3 on random instances shaped like each level's
// (its variables, distractor variables, premises and depth), comparing everything the task shows:
// the label, the minimal premise core and the least models. Random formulas over few variables make
// tautologies, contradictions and inconsistent premises frequent.
logic::FormulaPtr random_formula(Rng& rng, int depth, int vars) {
  if (depth == 0 || rng.chance(0.25)) return logic::Formula::variable(static_cast<int>(rng.index(vars)));
  const int op = static_cast<int>(rng.index(5));
  if (op == 0) return logic::Formula::negate(random_formula(rng, depth - 1, vars));
  static const logic::Op kOps[] = {logic::Op::And, logic::Op::Or, logic::Op::Implies, logic::Op::Iff};
  return logic::Formula::binary(kOps[op - 1], random_formula(rng, depth - 1, vars), random_formula(rng, depth - 1, vars));
}

class EntailmentDeciders : public ::testing::TestWithParam<int> {};

TEST_P(EntailmentDeciders, TruthTablesAgreeWithZ3OnRandomInstances) {
  const Generator& f = find_family("propositional_entailment").generator;
  const Knobs knobs = resolve_knobs(f, GetParam(), {});
  const int distractors = static_cast<int>(knobs.get_int("distractors"));
  const int vars = std::min<int>(entailment::kMaxTableVars,
                                 static_cast<int>(knobs.get_int("variables")) + (distractors ? distractors + 1 : 0));
  const int premise_count = static_cast<int>(knobs.get_int("premises")) + distractors;
  const int depth = static_cast<int>(knobs.get_int("depth"));
  constexpr int kInstances = 10000;
  std::atomic<int> disagreements{0};
  std::array<std::atomic<int>, 5> labels{};
  tbb::parallel_for(0, kInstances, [&](int i) {
    Rng rng(mix_seed({0xe7a1, static_cast<uint64_t>(GetParam()), static_cast<uint64_t>(i)}));
    std::vector<logic::FormulaPtr> premises;
    for (int k = 0; k < premise_count; ++k) premises.push_back(random_formula(rng, depth, vars));
    const auto conclusion = random_formula(rng, depth, vars);
    const auto tables = entailment::by_truth_tables(premises, conclusion, vars);
    const auto z3 = z3bridge::decide_entailment(premises, conclusion, vars);
    ++labels[static_cast<int>(tables.label)];
    const auto verdict_only = entailment::classify_by_truth_tables(premises, conclusion, vars);
    if ((tables.label != z3.label || verdict_only != z3.label || tables.core != z3.core ||
         tables.model_with != z3.model_with || tables.model_without != z3.model_without) &&
        disagreements++ < 5)
      ADD_FAILURE() << "level " << GetParam() << " instance " << i << ": tables say "
                    << z3bridge::to_string(tables.label) << ", Z3 " << z3bridge::to_string(z3.label);
  });
  EXPECT_EQ(disagreements, 0);
  // Every verdict occurs, so the comparison is not vacuous.
  for (auto e : {entailment::Entailment::Entailed, entailment::Entailment::Contradicted, entailment::Entailment::Neither})
    EXPECT_GT(labels[static_cast<int>(e)], kInstances / 100) << z3bridge::to_string(e);
}

INSTANTIATE_TEST_SUITE_P(AllLevels, EntailmentDeciders, ::testing::Range(1, 11));

// "Either A or B" read as exclusive changes answers: every English prompt says it is inclusive.
TEST(PropositionalEntailment, EnglishPromptsSayOrIsInclusive) {
  verity::testing::expect_inclusive_or_stated("propositional_entailment");
}


// ---- distinct questions ----

std::string pe_brute_key(const pb::Task& task) {
  const auto& p = task.propositional();
  std::vector<std::string> statements;
  // Role words that are never a variable's name (variables are letters: "C|" would be renamed).
  for (const auto& premise : p.premises()) statements.push_back("premise " + premise);
  statements.push_back("conclusion " + p.conclusion());
  return verity::testing::brute_force_canonical(statements, {p.variables().begin(), p.variables().end()});
}

pb::Task pe_renamed(const pb::Task& task, Rng& rng) {
  pb::Task copy = task;
  auto* p = copy.mutable_propositional();
  auto rename = verity::testing::random_renaming({p->variables().begin(), p->variables().end()}, "V", rng);
  for (auto& v : *p->mutable_variables()) v = rename[v];
  std::vector<std::string> premises(p->premises().begin(), p->premises().end());
  rng.shuffle(premises);
  p->clear_premises();
  for (const auto& premise : premises) p->add_premises(verity::testing::rename_identifiers(premise, rename));
  p->set_conclusion(verity::testing::rename_identifiers(p->conclusion(), rename));
  return copy;
}

TEST(PropositionalEntailmentQuestions, KeyIsTheCanonicalFormUpToNamesAndOrder) {
  for (int level = 1; level <= 5; ++level)
    verity::testing::expect_question_key_matches("propositional_entailment", level, 2000, pe_brute_key);
  for (int level = 1; level <= 10; ++level)
    verity::testing::expect_key_survives("propositional_entailment", level, 200, pe_renamed);
}

TEST(PropositionalEntailmentQuestions, DatasetsHoldDistinctQuestions) {
  const auto dir = verity::testing::fresh_temp_dir("verity_pe_distinct", "datasets");
  for (int level = 1; level <= 10; ++level) {
    const auto tasks = verity::testing::distinct_dataset("propositional_entailment", level, 2000, dir.string());
    if (level >= 2) EXPECT_EQ(tasks.size(), 2000u) << "level " << level;
    if (level <= 5) {
      std::set<std::string> brute;
      for (const auto& t : tasks) brute.insert(pe_brute_key(t));
      EXPECT_EQ(brute.size(), tasks.size()) << "level " << level;
    }
  }
  std::filesystem::remove_all(dir);
}

}  // namespace
