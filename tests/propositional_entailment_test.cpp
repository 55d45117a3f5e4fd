#include <gtest/gtest.h>

#include "family_properties.h"
#include "solvers/logic.h"

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
  if (!brute.empty() && brute != task.label()) return "Z3 label " + task.label() + " but enumeration says " + brute;
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

}  // namespace
