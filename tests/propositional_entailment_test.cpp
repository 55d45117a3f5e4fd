#include <gtest/gtest.h>

#include <filesystem>
#include <oneapi/tbb/parallel_for.h>

#include <atomic>
#include <map>
#include <regex>
#include <set>

#include "family_properties.h"
#include "reading.h"
#include "label_shortcuts.h"
#include "test_support.h"
#include "generators/propositional_entailment.h"
#include "service/generate.h"
#include "tasks/dataset.h"
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
    EXPECT_EQ(tasks.size(), 2000u) << "level " << level;
    if (level <= 5) {
      std::set<std::string> brute;
      for (const auto& t : tasks) brute.insert(pe_brute_key(t));
      EXPECT_EQ(brute.size(), tasks.size()) << "level " << level;
    }
  }
  std::filesystem::remove_all(dir);
}

// ---- one reading per sentence: the prompt read back by a parser written for the test ----

namespace rd = verity::testing::reading;

// The test's own prefix form of a stored formula: v<k>, not(.), and(.,.), or, imp, iff.
std::string prefix(const logic::Formula& f) {
  switch (f.op) {
    case logic::Op::Var: return "v" + std::to_string(f.var);
    case logic::Op::Not: return "not(" + prefix(*f.left) + ")";
    case logic::Op::And: return "and(" + prefix(*f.left) + "," + prefix(*f.right) + ")";
    case logic::Op::Or: return "or(" + prefix(*f.left) + "," + prefix(*f.right) + ")";
    case logic::Op::Implies: return "imp(" + prefix(*f.left) + "," + prefix(*f.right) + ")";
    case logic::Op::Iff: return "iff(" + prefix(*f.left) + "," + prefix(*f.right) + ")";
  }
  return "";
}

// Grammar of one sentence: the English connectives over the task's clauses (and their negations), or
// the symbolic connectives over its letters.
rd::Grammar pe_grammar(const pb::PropositionalInstance& inst, bool natural) {
  rd::Grammar g;
  g.templates = natural ? rd::english_connectives() : rd::symbolic_connectives();
  std::map<std::string, std::string> leaves;
  for (int k = 0; k < inst.variables_size(); ++k) {
    const std::string v = "v" + std::to_string(k);
    if (natural) {
      leaves[rd::join(rd::tokenize(inst.variable_phrases(k)), 0, rd::tokenize(inst.variable_phrases(k)).size())] = v;
      const auto neg = rd::tokenize(rd::negated_clause(inst.variable_phrases(k)));
      leaves[rd::join(neg, 0, neg.size())] = "not(" + v + ")";
    } else {
      leaves[rd::join(rd::tokenize(inst.variables(k)), 0, 1)] = v;
    }
  }
  g.leaf = rd::leaf_table(std::move(leaves));
  return g;
}

// Reads the prompt back: numbered premises and the conclusion, each to exactly one formula equal to
// the stored one; the label re-derived from the parsed formulas by enumeration equals the task's.
std::string pe_read_back(const pb::Task& task, bool natural) {
  static const std::vector<std::string> kAsk = {"Does it follow that ", "Can we conclude that ",
                                                "Given only these statements, must it be that "};
  const auto& inst = task.propositional();
  const std::vector<std::string> names(inst.variables().begin(), inst.variables().end());
  rd::Grammar g = pe_grammar(inst, natural);
  std::vector<std::string> premises;
  std::string conclusion, failure;
  auto read_one = [&](std::string text, const std::string& stored) {
    if (natural && !text.empty() && (text.back() == '.' || text.back() == '?')) text.pop_back();
    const rd::Readings r = g.read(rd::tokenize(text));
    if (r.size() != 1) {
      failure += std::to_string(r.size()) + " readings of '" + text + "'; ";
      return std::string();
    }
    const std::string expected = prefix(*logic::parse(stored, names).formula);
    if (*r.begin() != expected) failure += "'" + text + "' reads as " + *r.begin() + ", stored " + expected + "; ";
    return *r.begin();
  };
  for (const std::string& line : rd::lines_of(task.prompt())) {
    const std::string item = rd::numbered_item(line);
    if (!item.empty()) {
      if (static_cast<int>(premises.size()) >= inst.premises_size()) return "more premises than stored";
      premises.push_back(read_one(item, inst.premises(static_cast<int>(premises.size()))));
      continue;
    }
    if (!natural && line.rfind("Conclusion: ", 0) == 0) conclusion = read_one(line.substr(12), inst.conclusion());
    for (const auto& ask : kAsk)
      if (natural && line.rfind(ask, 0) == 0) conclusion = read_one(line.substr(ask.size()), inst.conclusion());
  }
  if (static_cast<int>(premises.size()) != inst.premises_size() || conclusion.empty())
    return failure + "premises or conclusion missing from the prompt";
  if (!failure.empty()) return failure;
  const std::string label = rd::entailment_by_enumeration(premises, conclusion, static_cast<int>(names.size()));
  return label == task.label() ? "" : "the parsed prompt is " + label + ", labelled " + task.label();
}

class PropositionalEntailmentReading : public ::testing::TestWithParam<int> {};

TEST_P(PropositionalEntailmentReading, EverySentenceHasOneReadingAndItIsTheStoredOne) {
  for (const char* format : {"natural", "symbolic"})
    verity::testing::check_every_task("propositional_entailment", GetParam(), {{"format", format}}, 2000,
                                      [&](const pb::Task& task, uint64_t) {
                                        return pe_read_back(task, std::string(format) == "natural");
                                      });
}

INSTANTIATE_TEST_SUITE_P(AllLevels, PropositionalEntailmentReading, ::testing::Range(1, 11));

// The reader itself: ambiguous text has several readings, so the test above can fail.
TEST(PropositionalEntailmentReadingSelf, TheReaderSeesAmbiguity) {
  pb::PropositionalInstance inst;
  for (const char* v : {"A", "B", "C"}) inst.add_variables(v);
  for (const char* p : {"the lamp is on", "the dog barks", "it is raining"}) inst.add_variable_phrases(p);
  rd::Grammar english = pe_grammar(inst, true);
  EXPECT_EQ(english.read(rd::tokenize("it is not the case that (the lamp is on) or (it is raining)")).size(), 2u);
  EXPECT_EQ(english.read(rd::tokenize("the lamp is on or the dog barks and it is raining")).size(), 2u);
  EXPECT_EQ(english.read(rd::tokenize("either (both the lamp is on and the dog does not bark) or (it is raining)")),
            rd::Readings{"or(and(v0,not(v1)),v2)"});
  rd::Grammar symbolic = pe_grammar(inst, false);
  EXPECT_EQ(symbolic.read(rd::tokenize("A & B | C")).size(), 2u);
  EXPECT_EQ(symbolic.read(rd::tokenize("~A & (B | C)")), rd::Readings{"and(not(v0),or(v1,v2))"});
  EXPECT_EQ(symbolic.read(rd::tokenize("~(A & B)")), rd::Readings{"not(and(v0,v1))"});
}


// ---- the enumerated question space (depth 1 without distractors: drawn without replacement) ----

// Each question of the space once (its key, label and a task stating it): candidates 0 .. labels x
// (largest list) - 1 walk every label's whole list (round r gives each label its r-th question).
struct EnumeratedQuestions {
  std::map<std::string, std::string> label_by_key;  // pe_brute_key -> label
  std::set<std::string> question_keys;              // the generator's question_key
  std::vector<pb::Task> tasks;                      // one per question
};

EnumeratedQuestions every_enumerated_question(int level, const KnobMap& overrides) {
  const Generator& family = find_family("propositional_entailment").generator;
  const Knobs knobs = resolve_knobs(family, level, overrides);
  const auto* space = propositional_entailment::enumerated_space(knobs);
  EnumeratedQuestions out;
  if (!space) {
    ADD_FAILURE() << "knobs " << knobs.canonical() << " are not enumerated";
    return out;
  }
  size_t longest = 0;
  for (const auto& list : space->questions) longest = std::max(longest, list.size());
  const uint64_t candidates = space->questions.size() * longest;
  std::vector<pb::Task> tasks(candidates);
  std::vector<std::string> keys(candidates);
  tbb::parallel_for(uint64_t{0}, candidates, [&](uint64_t i) {
    tasks[i] = make_task(family, knobs, level, 5, i);
    keys[i] = pe_brute_key(tasks[i]);
  });
  for (uint64_t i = 0; i < candidates; ++i) {
    if (!out.label_by_key.emplace(keys[i], tasks[i].label()).second) continue;
    out.question_keys.insert(family.question_key(tasks[i]));
    out.tasks.push_back(std::move(tasks[i]));
  }
  return out;
}

// The enumeration is complete and exact: every question the random path makes at these knobs is in it
// with the same label (an independent canonical form, pe_brute_key); its questions are pairwise
// distinct under both keys, as many as question_counts says; and every one's label is the truth
// table's and Z3's (cross_check).
void expect_enumeration_complete(int level, const KnobMap& overrides, uint64_t random_draws) {
  const Generator& family = find_family("propositional_entailment").generator;
  const Knobs knobs = resolve_knobs(family, level, overrides);
  const EnumeratedQuestions space = every_enumerated_question(level, overrides);
  uint64_t counted = 0;
  for (const auto& [label, n] : family.question_counts(knobs)) counted += n;
  EXPECT_EQ(space.tasks.size(), counted) << knobs.canonical();
  EXPECT_EQ(space.question_keys.size(), counted) << knobs.canonical();
  std::atomic<int> failures{0};
  tbb::parallel_for(size_t{0}, space.tasks.size(), [&](size_t i) {
    const std::string problem = cross_check(space.tasks[i]);
    if (!problem.empty() && failures++ < 5) ADD_FAILURE() << knobs.canonical() << " enumerated question: " << problem;
  });
  std::vector<std::string> missing(random_draws);
  tbb::parallel_for(uint64_t{0}, random_draws, [&](uint64_t i) {
    Rng rng(mix_seed({77, i}));
    pb::Task task;
    propositional_entailment::generate_at_random(rng, knobs, task);
    const auto found = space.label_by_key.find(pe_brute_key(task));
    if (found == space.label_by_key.end()) missing[i] = "not enumerated: " + task.propositional().DebugString();
    else if (found->second != task.label()) missing[i] = "enumerated as " + found->second + ", drawn as " + task.label();
  });
  int shown = 0;
  for (const auto& m : missing)
    if (!m.empty() && shown++ < 5) ADD_FAILURE() << knobs.canonical() << ": " << m;
}

TEST(PropositionalEntailmentSpace, LevelOneEnumerationIsCompleteAndLabelledRight) {
  expect_enumeration_complete(1, {}, 200000);
}

// Other depth-1 knobs the enumeration covers: two variables (with three premises, as level 2 has),
// one premise, four variables.
TEST(PropositionalEntailmentSpace, OtherSmallKnobsEnumerationIsComplete) {
  expect_enumeration_complete(1, {{"variables", "2"}, {"premises", "3"}}, 50000);
  expect_enumeration_complete(1, {{"premises", "1"}}, 50000);
  expect_enumeration_complete(1, {{"variables", "4"}, {"premises", "2"}}, 50000);
}

// Above depth 1, with distractors or too many premises, the knobs keep the random path.
TEST(PropositionalEntailmentSpace, LargerKnobsAreDrawnAtRandom) {
  const Generator& family = find_family("propositional_entailment").generator;
  EXPECT_NE(propositional_entailment::enumerated_space(resolve_knobs(family, 2, {})), nullptr);
  for (int level = 3; level <= 10; ++level) {
    EXPECT_EQ(propositional_entailment::enumerated_space(resolve_knobs(family, level, {})), nullptr) << level;
    EXPECT_TRUE(family.question_counts(resolve_knobs(family, level, {})).empty()) << level;
  }
  EXPECT_EQ(propositional_entailment::enumerated_space(resolve_knobs(family, 1, {{"distractors", "1"}})), nullptr);
  EXPECT_EQ(propositional_entailment::enumerated_space(resolve_knobs(family, 1, {{"variables", "5"}, {"premises", "4"}})),
            nullptr);
}

// Drawn without replacement: the first labels x (shortest list) candidates are distinct questions,
// each run of three holding one of each label.
TEST(PropositionalEntailmentSpace, CandidatesAreDistinctUntilALabelRunsOut) {
  const Generator& family = find_family("propositional_entailment").generator;
  for (int level : {1, 2}) {
    const Knobs knobs = resolve_knobs(family, level, {});
    const auto counts = family.question_counts(knobs);
    ASSERT_EQ(counts.size(), 3u);
    uint64_t shortest = std::min({counts.at("entailed"), counts.at("contradicted"), counts.at("neither")});
    shortest = std::min<uint64_t>(shortest, 20000);  // level 2: a prefix
    std::vector<std::string> keys(3 * shortest), labels(3 * shortest);
    tbb::parallel_for(uint64_t{0}, 3 * shortest, [&](uint64_t i) {
      const pb::Task task = make_task(family, knobs, level, 9, i);
      keys[i] = family.question_key(task);
      labels[i] = task.label();
    });
    EXPECT_EQ(std::set<std::string>(keys.begin(), keys.end()).size(), keys.size()) << "level " << level;
    for (uint64_t r = 0; r < shortest; ++r)
      ASSERT_EQ(std::set<std::string>(labels.begin() + 3 * r, labels.begin() + 3 * r + 3).size(), 3u)
          << "level " << level << " round " << r;
  }
}

#ifdef VERITY_BINARY
// The lines of a JSONL file.
std::vector<std::string> lines_of(const std::filesystem::path& path) {
  std::vector<std::string> lines;
  std::istringstream in(verity::testing::read_file(path));
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

// `verity generate -n M` succeeds at level 1 where M is the most distinct questions a balanced dataset
// holds, and -n M+1 fails at once saying exactly M (and the enumerated count), also for a shard.
TEST(PropositionalEntailmentSpace, GenerateStopsAtTheExactEndOfTheSpace) {
  const Generator& family = find_family("propositional_entailment").generator;
  const auto counts = family.question_counts(resolve_knobs(family, 1, {}));
  uint64_t total = 0;
  for (const auto& [label, n] : counts) total += n;
  const auto dir = verity::testing::fresh_temp_dir("verity_pe_space", "exact");
  const std::string out = (dir / "l1.jsonl").string();
  const auto generate = [&](uint64_t n, const std::string& extra = "") {
    return verity::testing::run_verity("generate --family propositional_entailment --level 1 --seed 3 --no-progress -n " +
                                       std::to_string(n) + " -o " + out + " " + extra);
  };
  const auto too_many = generate(1000000);
  ASSERT_NE(too_many.status, 0);
  std::smatch m;
  ASSERT_TRUE(std::regex_search(too_many.output, m, std::regex("has only ([0-9]+) distinct questions with balanced labels")))
      << too_many.output;
  const uint64_t most = std::stoull(m[1]);
  EXPECT_NE(too_many.output.find("all " + std::to_string(total) + " of them enumerated"), std::string::npos)
      << too_many.output;
  const uint64_t scarcest = std::min({counts.at("entailed"), counts.at("contradicted"), counts.at("neither")});
  EXPECT_GE(most, 3 * scarcest);
  EXPECT_LE(most, total);

  const auto exact = generate(most, "--threads 2");
  ASSERT_EQ(exact.status, 0) << exact.output;
  const auto lines = lines_of(out);
  ASSERT_EQ(lines.size(), most);
  std::set<std::string> keys;
  std::map<std::string, uint64_t> per_label;
  for (const auto& task : read_tasks(out)) {
    keys.insert(family.question_key(task));
    ++per_label[task.label()];
  }
  EXPECT_EQ(keys.size(), most);
  // The scarcest label's questions are all used: none is left to keep the labels balanced further.
  bool some_label_used_up = false;
  for (const auto& [label, n] : counts) some_label_used_up = some_label_used_up || per_label[label] == n;
  EXPECT_TRUE(some_label_used_up);

  verity::testing::expect_one_more_fails(generate, most, {"", "--shard 1/2"});
  std::filesystem::remove_all(dir);
}
#endif

// The bytes do not depend on the thread count or the shard split, at level 1 (enumerated) for a part
// of the space and the whole of it, and at level 2.
TEST(PropositionalEntailmentSpace, SameBytesForAnyThreadsAndShards) {
  // The whole balanced space of level 1, from the exhaustion error of a larger request.
  const auto dir = verity::testing::fresh_temp_dir("verity_pe_space", "whole");
  uint64_t whole_space = 0;
  try {
    verity::testing::generated_bytes(dir, "propositional_entailment", 1, 1000000, 2);
  } catch (const std::invalid_argument& e) {
    std::cmatch m;
    ASSERT_TRUE(std::regex_search(e.what(), m, std::regex("has only ([0-9]+) distinct")));
    whole_space = std::stoull(m[1]);
  }
  std::filesystem::remove_all(dir);
  ASSERT_GT(whole_space, 10000u);
  verity::testing::expect_same_bytes_for_threads_and_shards("propositional_entailment", {{1, 5000}, {1, whole_space}, {2, 3000}});
}

// ---- no shortcuts, many questions per level ----

class PropositionalEntailmentSurface : public ::testing::TestWithParam<int> {};

// No surface feature tells the labels apart beyond chance, in either format.
TEST_P(PropositionalEntailmentSurface, NoShortcutToTheLabel) {
  const int level = GetParam();
  const uint64_t count = 2000;
  for (const char* format : {"natural", "symbolic"})
    verity::testing::expect_no_label_shortcut("propositional_entailment", level, count,
                                              verity::testing::surface_shortcuts([](const pb::Task& t) { return static_cast<double>(t.propositional().premises_size()); }),
                                              {{"format", format}});
}

// Every level holds at least 10,000 distinct questions (question_key, up to renaming and order):
// levels 1-2 generate 10,000 through the service; above, the collision bound on a sample.
TEST_P(PropositionalEntailmentSurface, LevelHoldsTenThousandQuestions) {
  const int level = GetParam();
  if (level <= 2) return verity::testing::expect_distinct_dataset_of("propositional_entailment", level, 10000);
  verity::testing::expect_question_space_at_least("propositional_entailment", level, 2000, 10000);
}

INSTANTIATE_TEST_SUITE_P(AllLevels, PropositionalEntailmentSurface, ::testing::Range(1, 11));

}  // namespace
