#include <gtest/gtest.h>
#include <oneapi/tbb/parallel_for.h>

#include <atomic>
#include <filesystem>
#include <map>
#include <regex>
#include <set>

#include "family_properties.h"
#include "reading.h"
#include "label_shortcuts.h"
#include "test_support.h"
#include "generators/inference_chains.h"
#include "service/generate.h"
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
    EXPECT_EQ(tasks.size(), 2000u) << "level " << level;
    if (level <= 2) {  // propositional, at most 7 atoms: the brute-force form is cheap
      std::set<std::string> brute;
      for (const auto& t : tasks) brute.insert(ic_brute_key(t));
      EXPECT_EQ(brute.size(), tasks.size()) << "level " << level;
    }
  }
  std::filesystem::remove_all(dir);
}


// ---- the enumerated Yes questions (depth 1, basic rules, propositional, <= 2 distractors) ----

// Each enumerated Yes question once, as a task: candidates 0 .. 2 x (Yes list) - 1 hold every Yes
// question (round r gives Yes its r-th question; No, drawn at random, takes the other turn).
std::vector<pb::Task> every_enumerated_yes(const Knobs& knobs, int level) {
  const Generator& family = find_family("inference_chains").generator;
  const auto* space = inference_chains::enumerated_space(knobs);
  if (!space) {
    ADD_FAILURE() << "knobs " << knobs.canonical() << " are not enumerated";
    return {};
  }
  const uint64_t candidates = 2 * space->questions[0].size();
  std::vector<pb::Task> tasks(candidates);
  tbb::parallel_for(uint64_t{0}, candidates, [&](uint64_t i) { tasks[i] = make_task(family, knobs, level, 5, i); });
  std::vector<pb::Task> yes;
  for (auto& t : tasks)
    if (t.label() == "Yes") yes.push_back(std::move(t));
  return yes;
}

// A statement of the random path whose two literals share an atom ("D -> ~D"): distractors() makes
// one only after eight equal redraws; the enumeration leaves these degenerate statements out.
bool has_one_atom_connective(const pb::Task& task) {
  for (const auto& p : task.inference_chains().premises()) {
    const std::regex two_literals("~?\\(?([A-Z]) [-|&>]+ ~?([A-Z])\\)?");
    std::smatch m;
    if (std::regex_search(p.formula(), m, two_literals) && m[1] == m[2]) return true;
  }
  return false;
}

// The enumeration is complete and exact: its Yes questions are pairwise distinct (question_key), as
// many as question_counts says, each labelled Yes by the test's own truth tables with a sound trace
// (cross_check); every Yes question the random path makes at these knobs is among them; No is not
// enumerated (drawn at random).
void expect_yes_enumeration_complete(const KnobMap& overrides, uint64_t random_draws) {
  const Generator& family = find_family("inference_chains").generator;
  const Knobs knobs = resolve_knobs(family, 1, overrides);
  const auto yes = every_enumerated_yes(knobs, 1);
  const auto counts = family.question_counts(knobs);
  ASSERT_EQ(counts.size(), 1u) << knobs.canonical();
  EXPECT_EQ(counts.at("Yes"), yes.size()) << knobs.canonical();
  std::vector<std::string> keys(yes.size());
  std::atomic<int> failures{0};
  tbb::parallel_for(size_t{0}, yes.size(), [&](size_t i) {
    keys[i] = family.question_key(yes[i]);
    const std::string problem = cross_check(yes[i]);
    if (!problem.empty() && failures++ < 5) ADD_FAILURE() << knobs.canonical() << " enumerated question: " << problem;
    if (has_one_atom_connective(yes[i]) && failures++ < 5) ADD_FAILURE() << "degenerate statement enumerated";
  });
  const std::set<std::string> enumerated(keys.begin(), keys.end());
  EXPECT_EQ(enumerated.size(), yes.size()) << knobs.canonical();

  std::vector<std::string> missing(random_draws);
  std::atomic<uint64_t> drawn_yes{0}, degenerate{0};
  tbb::parallel_for(uint64_t{0}, random_draws, [&](uint64_t i) {
    Rng rng(mix_seed({77, i}));
    pb::Task task;
    task.set_family("inference_chains");  // question_key names the family
    inference_chains::generate_at_random(rng, knobs, task);
    if (task.label() != "Yes") return;
    ++drawn_yes;
    if (has_one_atom_connective(task)) return void(++degenerate);
    if (!enumerated.count(family.question_key(task))) missing[i] = task.inference_chains().DebugString();
  });
  int shown = 0;
  for (const auto& m : missing)
    if (!m.empty() && shown++ < 5) ADD_FAILURE() << knobs.canonical() << " not enumerated: " << m;
  EXPECT_GT(drawn_yes, random_draws / 3);
  EXPECT_LT(degenerate, drawn_yes / 200 + 1) << "degenerate distractors are not rare";
}

TEST(InferenceChainsSpace, LevelOneYesEnumerationIsCompleteAndLabelledRight) {
  expect_yes_enumeration_complete({}, 200000);
}

TEST(InferenceChainsSpace, FewerDistractorsEnumerationIsComplete) {
  expect_yes_enumeration_complete({{"distractors", "0"}}, 20000);
  expect_yes_enumeration_complete({{"distractors", "1"}}, 50000);
}

// Only depth 1 with the basic rules, propositional, at most two distractors is enumerated.
TEST(InferenceChainsSpace, OtherKnobsAreDrawnAtRandom) {
  const Generator& family = find_family("inference_chains").generator;
  EXPECT_NE(inference_chains::enumerated_space(resolve_knobs(family, 1, {})), nullptr);
  for (int level = 2; level <= 10; ++level) {
    EXPECT_EQ(inference_chains::enumerated_space(resolve_knobs(family, level, {})), nullptr) << level;
    EXPECT_TRUE(family.question_counts(resolve_knobs(family, level, {})).empty()) << level;
  }
  for (const KnobMap& k : std::vector<KnobMap>{{{"distractors", "3"}}, {{"rules", "all"}}, {{"logic", "mixed"}},
                                               {{"logic", "first_order"}}, {{"depth", "2"}}})
    EXPECT_EQ(inference_chains::enumerated_space(resolve_knobs(family, 1, k)), nullptr) << k.begin()->first;
}

// Drawn without replacement: the Yes questions of the first 20,000 candidates are distinct, and each
// run of two candidates holds one of each label.
TEST(InferenceChainsSpace, YesCandidatesAreDistinctAndLabelsAlternate) {
  const Generator& family = find_family("inference_chains").generator;
  const Knobs knobs = resolve_knobs(family, 1, {});
  constexpr uint64_t kCandidates = 20000;
  std::vector<std::string> keys(kCandidates), labels(kCandidates);
  tbb::parallel_for(uint64_t{0}, kCandidates, [&](uint64_t i) {
    const pb::Task task = make_task(family, knobs, 1, 9, i);
    keys[i] = family.question_key(task);
    labels[i] = task.label();
  });
  std::set<std::string> yes;
  for (uint64_t i = 0; i < kCandidates; ++i)
    if (labels[i] == "Yes") EXPECT_TRUE(yes.insert(keys[i]).second) << "candidate " << i << " repeats a Yes question";
  EXPECT_EQ(yes.size(), kCandidates / 2);
  for (uint64_t r = 0; r < kCandidates / 2; ++r) ASSERT_NE(labels[2 * r], labels[2 * r + 1]) << "round " << r;
}

#ifdef VERITY_BINARY
// `verity generate -n M` succeeds at level 1 where M is the most tasks a balanced dataset holds (every
// enumerated Yes question, as many No), and -n M+1 fails saying exactly M, also for a shard.
TEST(InferenceChainsSpace, GenerateStopsAtTheExactEndOfTheSpace) {
  const Generator& family = find_family("inference_chains").generator;
  const uint64_t yes = family.question_counts(resolve_knobs(family, 1, {})).at("Yes");
  const auto dir = verity::testing::fresh_temp_dir("verity_ic_space", "exact");
  const std::string out = (dir / "l1.jsonl").string();
  const auto generate = [&](uint64_t n, const std::string& extra = "") {
    return verity::testing::run_verity("generate --family inference_chains --level 1 --seed 3 --no-progress -n " +
                                       std::to_string(n) + " -o " + out + " " + extra);
  };
  const auto too_many = generate(2 * yes + 50000, "--threads 2");
  ASSERT_NE(too_many.status, 0);
  std::smatch m;
  ASSERT_TRUE(std::regex_search(too_many.output, m, std::regex("has only ([0-9]+) distinct questions with balanced labels")))
      << too_many.output;
  const uint64_t most = std::stoull(m[1]);
  EXPECT_NE(too_many.output.find("enumerated, all of them: Yes " + std::to_string(yes) + "; drawn at random: No"),
            std::string::npos)
      << too_many.output;
  EXPECT_GE(most, 2 * yes);
  EXPECT_LE(most, 2 * yes + 2 * yes / 50);  // No above its share by the balance's slack (1%) at most

  const auto exact = generate(most, "--threads 2");
  ASSERT_EQ(exact.status, 0) << exact.output;
  std::istringstream lines(verity::testing::read_file(out));
  uint64_t count = 0, yes_tasks = 0;
  for (std::string line; std::getline(lines, line); ++count) yes_tasks += line.find("\"label\":\"Yes\"") != std::string::npos;
  EXPECT_EQ(count, most);
  EXPECT_EQ(yes_tasks, yes);  // every enumerated Yes question is used

  verity::testing::expect_one_more_fails(generate, most, {"--threads 2", "--threads 2 --shard 1/2"});
  std::filesystem::remove_all(dir);
}
#endif

// The bytes do not depend on the thread count or the shard split at level 1 (enumerated Yes, random
// No), nor at level 2 (random).
TEST(InferenceChainsSpace, SameBytesForAnyThreadsAndShards) {
  verity::testing::expect_same_bytes_for_threads_and_shards("inference_chains", {{1, 5000}, {1, 30000}, {2, 3000}});
}

// ---- one reading per sentence: the prompt read back by a parser written for the test ----

namespace rd = verity::testing::reading;

// Readings are "SCOPE|formula": SCOPE is "" (propositional), forall, exists, a person (lower case), or
// "@" for a predicate with no subject yet (inside "everyone ...", "anyone who ...").
std::pair<std::string, std::string> ic_split(const std::string& r) {
  const size_t bar = r.find('|');
  return {r.substr(0, bar), r.substr(bar + 1)};
}

// A connective over readings that share one subject: `op` of their formulas, about that subject.
std::function<std::string(const std::vector<std::string>&)> ic_same_subject(
    std::function<std::string(const std::vector<std::string>&)> op) {
  return [op](const std::vector<std::string>& args) -> std::string {
    std::vector<std::string> formulas;
    const std::string scope = ic_split(args[0]).first;
    for (const auto& a : args) {
      const auto [s, f] = ic_split(a);
      if (s != scope || s == "forall" || s == "exists") return "";
      formulas.push_back(f);
    }
    return scope + "|" + op(formulas);
  };
}

// Sentences about everyone / someone: holes are subjectless predicates, combined by `op`.
rd::Template ic_quantified(const std::string& spec, const std::string& quantifier,
                           std::function<std::string(const std::vector<std::string>&)> op) {
  return rd::pattern(spec, [quantifier, op](const std::vector<std::string>& args) -> std::string {
    std::vector<std::string> formulas;
    for (const auto& a : args) {
      const auto [s, f] = ic_split(a);
      if (s != "@") return "";
      formulas.push_back(f);
    }
    return quantifier + "|" + op(formulas);
  });
}

rd::Grammar ic_grammar(const pb::InferenceChainInstance& inst, bool natural) {
  using Args = std::vector<std::string>;
  auto bin = [](const char* op) { return [op](const Args& a) { return std::string(op) + "(" + a[0] + "," + a[1] + ")"; }; };
  auto same = [](const Args& a) { return a[0]; };
  auto nand = [](const Args& a) { return "not(and(" + a[0] + "," + a[1] + "))"; };
  rd::Grammar g;
  std::vector<rd::Template> connectives = natural ? rd::english_connectives() : rd::symbolic_connectives();
  if (natural) {  // the family's other phrasings of ->, | and ~(a & b)
    connectives.push_back(rd::pattern("whenever {} , {}", bin("imp")));
    connectives.push_back(rd::pattern("{} if {}", [](const Args& a) { return "imp(" + a[1] + "," + a[0] + ")"; }));
    connectives.push_back(rd::pattern("{} , or {} ( or both )", bin("or")));
    connectives.push_back(rd::pattern("at least one of these holds : {} ; {}", bin("or")));
    connectives.push_back(rd::pattern("it cannot be that {} and {} at the same time", nand));
    connectives.push_back(rd::pattern("it is not the case that both {} and {}", nand));
  }
  for (auto& t : connectives) {
    t.build = ic_same_subject(t.build);
    g.templates.push_back(t);
  }
  if (natural) {
    g.templates.push_back(ic_quantified("everyone {}", "forall", same));
    g.templates.push_back(ic_quantified("someone {}", "exists", same));
    g.templates.push_back(ic_quantified("if a person {} , then that person {}", "forall", bin("imp")));
    g.templates.push_back(ic_quantified("anyone who {} {}", "forall", bin("imp")));
    g.templates.push_back(ic_quantified("every person who {} {}", "forall", bin("imp")));
    g.templates.push_back(ic_quantified("each person {} or {}", "forall", bin("or")));
    g.templates.push_back(ic_quantified("every person either {} or {}", "forall", bin("or")));
    g.templates.push_back(ic_quantified("nobody {} and {} at the same time", "forall", nand));
    g.templates.push_back(ic_quantified("it is never the case that a person {} and {}", "forall", nand));
  } else {
    g.templates.push_back(ic_quantified("forall x : {}", "forall", same));
    g.templates.push_back(ic_quantified("exists x : {}", "exists", same));
  }
  // Leaves: a clause (propositional), a person and a predicate, or a bare predicate; symbolic: a letter,
  // or a letter applied to x or to a person.
  std::map<std::string, std::string> leaves;
  const bool first_order = inst.logic() == "first_order";
  std::vector<std::string> subjects;
  for (const auto& c : inst.constants()) subjects.push_back(rd::join(rd::tokenize(c), 0, 1));
  for (int k = 0; k < inst.atoms_size(); ++k) {
    const std::string v = "v" + std::to_string(k), letter = rd::tokenize(inst.atoms(k))[0];
    const std::string positive = rd::join(rd::tokenize(inst.atom_phrases(k)), 0, rd::tokenize(inst.atom_phrases(k)).size());
    const std::string negative = rd::join(rd::tokenize(rd::negated_clause(inst.atom_phrases(k))), 0,
                                          rd::tokenize(rd::negated_clause(inst.atom_phrases(k))).size());
    if (!first_order) {
      leaves[natural ? positive : letter] = "|" + v;
      if (natural) leaves[negative] = "|not(" + v + ")";
      continue;
    }
    if (natural) {
      leaves[positive] = "@|" + v;
      leaves[negative] = "@|not(" + v + ")";
      for (const auto& s : subjects) {
        leaves[s + " " + positive] = s + "|" + v;
        leaves[s + " " + negative] = s + "|not(" + v + ")";
      }
    } else {
      leaves[letter + " ( x )"] = "@|" + v;
      for (const auto& s : subjects) leaves[letter + " ( " + s + " )"] = s + "|" + v;
    }
  }
  g.leaf = rd::leaf_table(std::move(leaves));
  return g;
}

// The stored statement as a reading: scope (lower case) and the test's prefix form of the formula.
std::string ic_stored(const pb::ChainFormula& f, const std::vector<std::string>& atoms) {
  std::string scope = f.scope();
  for (char& c : scope) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  std::function<std::string(const logic::Formula&)> prefix = [&](const logic::Formula& g) -> std::string {
    switch (g.op) {
      case logic::Op::Var: return "v" + std::to_string(g.var);
      case logic::Op::Not: return "not(" + prefix(*g.left) + ")";
      case logic::Op::And: return "and(" + prefix(*g.left) + "," + prefix(*g.right) + ")";
      case logic::Op::Or: return "or(" + prefix(*g.left) + "," + prefix(*g.right) + ")";
      case logic::Op::Implies: return "imp(" + prefix(*g.left) + "," + prefix(*g.right) + ")";
      case logic::Op::Iff: return "iff(" + prefix(*g.left) + "," + prefix(*g.right) + ")";
    }
    return "";
  };
  return scope + "|" + prefix(*logic::parse(f.formula(), atoms).formula);
}

// Reads the prompt back: each premise and the conclusion has exactly one reading, the stored statement;
// the label re-derived from the parsed statements (truth tables, label_by_tables) is the task's.
std::string ic_read_back(const pb::Task& task, bool natural) {
  static const std::vector<std::string> kAsk = {"Does it follow that ", "Can we conclude that ",
                                                "Given only these statements, must it be that "};
  const auto& inst = task.inference_chains();
  const std::vector<std::string> atoms(inst.atoms().begin(), inst.atoms().end());
  rd::Grammar g = ic_grammar(inst, natural);
  pb::InferenceChainInstance parsed = inst;
  parsed.clear_premises();
  std::string failure;
  bool have_conclusion = false;
  auto read_one = [&](std::string text, const pb::ChainFormula& stored, pb::ChainFormula* out) {
    if (natural && !text.empty() && (text.back() == '.' || text.back() == '?')) text.pop_back();
    rd::Readings r = g.read(rd::tokenize(text));
    std::erase_if(r, [](const std::string& x) { return x[0] == '@'; });  // a bare predicate is no sentence
    if (r.size() != 1) return void(failure += std::to_string(r.size()) + " readings of '" + text + "'; ");
    const std::string expected = ic_stored(stored, atoms);
    if (*r.begin() != expected) failure += "'" + text + "' reads as " + *r.begin() + ", stored " + expected + "; ";
    const auto [scope, formula] = ic_split(*r.begin());
    out->set_formula(rd::to_symbolic(formula, atoms));
    out->set_scope(scope);
    for (const auto& c : inst.constants())  // the stored spelling of a person
      if (rd::tokenize(c)[0] == scope) out->set_scope(c);
  };
  for (const std::string& line : rd::lines_of(task.prompt())) {
    const std::string item = rd::numbered_item(line);
    if (!item.empty()) {
      if (parsed.premises_size() >= inst.premises_size()) return "more premises than stored";
      const int index = parsed.premises_size();
      read_one(item, inst.premises(index), parsed.add_premises());
      continue;
    }
    std::string conclusion;
    if (!natural && line.rfind("Conclusion: ", 0) == 0) conclusion = line.substr(12);
    for (const auto& ask : kAsk)
      if (natural && line.rfind(ask, 0) == 0) conclusion = line.substr(ask.size());
    if (conclusion.empty()) continue;
    read_one(conclusion, inst.conclusion(), parsed.mutable_conclusion());
    have_conclusion = true;
  }
  if (parsed.premises_size() != inst.premises_size() || !have_conclusion)
    return failure + "premises or conclusion missing from the prompt";
  if (!failure.empty()) return failure;
  const std::string label = label_by_tables(parsed);
  return label == task.label() ? "" : "the parsed prompt says " + label + ", labelled " + task.label();
}

class InferenceChainsReading : public ::testing::TestWithParam<int> {};

TEST_P(InferenceChainsReading, EverySentenceHasOneReadingAndItIsTheStoredOne) {
  for (const char* format : {"natural", "symbolic"})
    verity::testing::check_every_task("inference_chains", GetParam(), {{"format", format}}, 2000,
                                      [&](const pb::Task& task, uint64_t) {
                                        return ic_read_back(task, std::string(format) == "natural");
                                      });
}

INSTANTIATE_TEST_SUITE_P(AllLevels, InferenceChainsReading, ::testing::Range(1, 11));

// The reader itself sees ambiguity, so the test above can fail.
TEST(InferenceChainsReadingSelf, TheReaderSeesAmbiguity) {
  pb::InferenceChainInstance inst;
  inst.set_logic("first_order");
  for (const char* a : {"A", "B", "C"}) inst.add_atoms(a);
  for (const char* p : {"is tall", "plays chess", "swims well"}) inst.add_atom_phrases(p);
  inst.add_constants("Alice");
  rd::Grammar g = ic_grammar(inst, true);
  EXPECT_EQ(g.read(rd::tokenize("Alice is tall or Alice plays chess and Alice does not swim well")).size(), 2u);
  EXPECT_EQ(g.read(rd::tokenize("Anyone who is tall does not swim well")), rd::Readings{"forall|imp(v0,not(v2))"});
  EXPECT_EQ(g.read(rd::tokenize("Alice is tall if Alice plays chess")), rd::Readings{"alice|imp(v1,v0)"});
  EXPECT_EQ(g.read(rd::tokenize("Everyone is not tall")), rd::Readings{"forall|not(v0)"});
}

// ---- no shortcuts, many questions per level ----

class InferenceChainsSurface : public ::testing::TestWithParam<int> {};

// No surface feature tells the labels apart beyond chance, in either format.
TEST_P(InferenceChainsSurface, NoShortcutToTheLabel) {
  const int level = GetParam();
  const uint64_t count = 2000;
  for (const char* format : {"natural", "symbolic"})
    verity::testing::expect_no_label_shortcut("inference_chains", level, count,
                                              verity::testing::surface_shortcuts([](const pb::Task& t) { return static_cast<double>(t.inference_chains().premises_size()); }),
                                              {{"format", format}});
}

// Every level holds at least 10,000 distinct questions (question_key, up to renaming and order):
// levels 1-2 generate 10,000 through the service; above, the collision bound on a sample.
TEST_P(InferenceChainsSurface, LevelHoldsTenThousandQuestions) {
  const int level = GetParam();
  if (level <= 2) return verity::testing::expect_distinct_dataset_of("inference_chains", level, 10000);
  verity::testing::expect_question_space_at_least("inference_chains", level, 2000, 10000);
}

INSTANTIATE_TEST_SUITE_P(AllLevels, InferenceChainsSurface, ::testing::Range(1, 11));

}  // namespace
