#include <gtest/gtest.h>
#include <oneapi/tbb/parallel_for.h>

#include <atomic>
#include <filesystem>
#include <map>
#include <algorithm>
#include <sstream>
#include <regex>
#include <optional>
#include <mutex>
#include <numeric>
#include <set>

#include "family_properties.h"
#include "label_shortcuts.h"
#include "test_support.h"
#include "generators/question_space.h"
#include "generators/syllogism.h"
#include "service/generate.h"
#include "solvers/syllogism_logic.h"

namespace {

using namespace verity;

// ---------------------------------------------------------------------------------------------
// A second, independent decision procedure: Venn-region occupancy. A monadic model is determined
// (up to what categorical statements can say) by which of the 2^n regions are non-empty.

struct Lit {
  int cat;
  bool neg;
};
struct Statement {
  std::string q;
  Lit s, p;
};

Statement from_proto(const pb::CategoricalStatement& st) {
  return {st.quantifier(), {st.subject(), st.subject_negated()}, {st.predicate(), st.predicate_negated()}};
}

bool member(Lit l, uint32_t region) { return (((region >> l.cat) & 1u) == 1u) != l.neg; }

// Truth of a statement when exactly the regions in `occupied` have members.
bool holds(const Statement& st, const std::vector<uint32_t>& occupied) {
  bool both = false, s_only = false;
  for (uint32_t r : occupied) {
    if (!member(st.s, r)) continue;
    (member(st.p, r) ? both : s_only) = true;
  }
  if (st.q == "all") return !s_only;
  if (st.q == "no") return !both;
  if (st.q == "some") return both;
  if (st.q == "some_not") return s_only;
  ADD_FAILURE() << "unknown quantifier " << st.q;
  return false;
}

bool every_category_inhabited(const std::vector<uint32_t>& occupied, int n) {
  uint32_t seen = 0;
  for (uint32_t r : occupied) seen |= r;
  return seen == (1u << n) - 1;
}

struct Argument {
  std::vector<Statement> premises;
  Statement conclusion;
  bool import = false;
  int n = 0;
};

Argument argument_of(const pb::Task& task) {
  const auto& inst = task.syllogism();
  Argument a;
  for (const auto& st : inst.premises()) a.premises.push_back(from_proto(st));
  a.conclusion = from_proto(inst.conclusion());
  a.import = inst.existential_import();
  a.n = inst.terms_size();
  return a;
}

bool is_model(const Argument& a, const std::vector<uint32_t>& occupied) {
  if (a.import && !every_category_inhabited(occupied, a.n)) return false;
  for (const auto& st : a.premises)
    if (!holds(st, occupied)) return false;
  return true;
}

// Brute force over all 2^(2^n) occupancy patterns (n <= 3: 256 patterns).
bool valid_by_enumeration(const Argument& a) {
  const uint32_t regions = 1u << a.n;
  for (uint64_t pattern = 0; pattern < (uint64_t{1} << regions); ++pattern) {
    std::vector<uint32_t> occupied;
    for (uint32_t r = 0; r < regions; ++r)
      if ((pattern >> r) & 1u) occupied.push_back(r);
    if (is_model(a, occupied) && !holds(a.conclusion, occupied)) return false;
  }
  return true;
}

// For larger n: premises + negated conclusion are universal ("region set X is empty") or existential
// ("some region of X is occupied") constraints; occupying every region no universal forbids is then
// a countermodel exactly when any countermodel exists (adding regions never breaks an existential).
bool valid_by_largest_model(const Argument& a) {
  Argument with_negation = a;
  static const std::map<std::string, std::string> kNegation = {
      {"all", "some_not"}, {"no", "some"}, {"some", "no"}, {"some_not", "all"}};
  with_negation.premises.push_back({kNegation.at(a.conclusion.q), a.conclusion.s, a.conclusion.p});
  std::vector<uint32_t> largest;
  for (uint32_t r = 0; r < (1u << a.n); ++r) {
    bool forbidden = false;
    for (const auto& st : with_negation.premises) {
      const bool universal = st.q == "all" || st.q == "no";
      if (universal && !holds(st, {r})) forbidden = true;
    }
    if (!forbidden) largest.push_back(r);
  }
  for (const auto& st : with_negation.premises)
    if (!holds(st, largest)) return true;
  // Every existential has a witness; the largest model is a countermodel unless import fails.
  return a.import && !every_category_inhabited(largest, a.n);
}

bool valid_independently(const Argument& a) { return a.n <= 3 ? valid_by_enumeration(a) : valid_by_largest_model(a); }

// Z3 over a first-order encoding (solvers/syllogism_logic.h): independent of the Venn regions the
// generator decides with.
syllogism::Stmt to_solver(const Statement& st) {
  static const std::map<std::string, syllogism::Quant> kQuant = {{"all", syllogism::Quant::All},
                                                                 {"no", syllogism::Quant::No},
                                                                 {"some", syllogism::Quant::Some},
                                                                 {"some_not", syllogism::Quant::SomeNot}};
  return {kQuant.at(st.q), {st.s.cat, st.s.neg}, {st.p.cat, st.p.neg}};
}

bool valid_by_z3(const Argument& a) {
  std::vector<syllogism::Stmt> premises;
  for (const auto& st : a.premises) premises.push_back(to_solver(st));
  return syllogism::z3_entails(premises, to_solver(a.conclusion), a.import, a.n);
}

std::string cross_check(const pb::Task& task) {
  const Argument a = argument_of(task);
  const bool valid = valid_by_z3(a);
  if ((task.label() == "Yes") != valid)
    return "label " + task.label() + " but Z3 says " + (valid ? "valid" : "invalid") + "; ";
  if (valid_independently(a) != valid) return "Z3 and the test's Venn regions disagree; ";
  // The countermodel in the trace must really be one.
  if (task.label() == "No") {
    const std::vector<uint32_t> model(task.syllogism().countermodel().begin(), task.syllogism().countermodel().end());
    if (!is_model(a, model) || holds(a.conclusion, model)) return "stored countermodel is not a countermodel; ";
  }
  // Distractors (categories beyond the `terms` knob) must not matter.
  const int core_terms = std::stoi(task.knobs().at("terms"));
  Argument core = a;
  core.premises.clear();
  for (const auto& st : a.premises)
    if (st.s.cat < core_terms && st.p.cat < core_terms) core.premises.push_back(st);
  if (static_cast<int>(a.premises.size() - core.premises.size()) != task.syllogism().distractor_premises())
    return "distractor count mismatch; ";
  core.n = core_terms;
  if (valid_by_z3(core) != valid) return "distractors change the label; ";
  return "";
}

class SyllogismLevels : public ::testing::TestWithParam<int> {};

TEST_P(SyllogismLevels, GoldVerifiesWrongFailsBalancedAndCrossChecked) {
  verity::testing::check_family_properties("syllogism", GetParam(), 1500, {"Yes", "No"}, cross_check);
}

INSTANTIATE_TEST_SUITE_P(AllLevels, SyllogismLevels, ::testing::Range(1, 11));

// ---------------------------------------------------------------------------------------------
// The classical table: 15 forms valid outright, 9 more valid only with existential import.

const std::set<std::string> kUnconditional = {"1-AAA", "1-EAE", "1-AII", "1-EIO", "2-EAE", "2-AEE", "2-EIO", "2-AOO",
                                              "3-IAI", "3-AII", "3-OAO", "3-EIO", "4-AEE", "4-IAI", "4-EIO"};
const std::set<std::string> kWithImport = {"1-AAI", "1-EAO", "2-EAO", "2-AEO", "3-AAI",
                                           "3-EAO", "4-AAI", "4-EAO", "4-AEO"};

void check_classical_table(bool import) {
  const Generator& f = find_family("syllogism").generator;
  const Knobs knobs = resolve_knobs(f, 0, {{"existential_import", import ? "on" : "off"}});
  std::set<std::string> valid_seen, figures, moods;
  for (uint64_t i = 0; i < 1500; ++i) {
    const pb::Task task = make_task(f, knobs, 0, 5, i);
    const std::string& form = task.syllogism().form();
    const bool classical = kUnconditional.count(form) || (import && kWithImport.count(form));
    EXPECT_EQ(task.label() == "Yes", classical) << form << " import=" << import;
    if (task.label() == "Yes") valid_seen.insert(form);
    figures.insert(form.substr(0, 1));
    for (char c : form.substr(2)) moods.insert(std::string(1, c));
  }
  EXPECT_EQ(valid_seen.size(), import ? 24u : 15u);  // every valid form is drawn
  EXPECT_EQ(figures.size(), 4u);
  EXPECT_EQ(moods.size(), 4u);
}

TEST(Syllogism, MatchesClassicalTableWithImport) { check_classical_table(true); }
TEST(Syllogism, MatchesClassicalTableWithoutImport) { check_classical_table(false); }

TEST(Syllogism, BeliefBiasConflictsWhenAsked) {
  const Generator& f = find_family("syllogism").generator;
  for (const char* share : {"0", "1"}) {
    const Knobs knobs = resolve_knobs(f, 0, {{"names", "real"}, {"belief_conflict", share}});
    int conflicts = 0;
    for (uint64_t i = 0; i < 400; ++i) {
      const pb::Task task = make_task(f, knobs, 0, 9, i);
      const bool conflict = task.meta().at("belief") == "conflict";
      EXPECT_EQ(conflict, task.syllogism().believable() != (task.label() == "Yes"));
      conflicts += conflict;
    }
    // Nearly always achievable; a rare argument's conclusion may have no fitting real names.
    if (std::string(share) == "1") {
      EXPECT_GT(conflicts, 380);
    } else {
      EXPECT_LT(conflicts, 20);
    }
  }
}

// A few real-world facts the belief table must get right.
TEST(Syllogism, RealNamesReadAsEnglish) {
  const Generator& f = find_family("syllogism").generator;
  const pb::Task task = make_task(f, resolve_knobs(f, 3, {}), 3, 1, 0);
  EXPECT_TRUE(task.syllogism().real_names());
  EXPECT_NE(task.prompt().find("even where a statement is false in the real world"), std::string::npos);
}

// Reference solver effort: regions times statements the largest-model check examines.
TEST(Syllogism, DifficultyRisesWithLevel) {
  const Generator& f = find_family("syllogism").generator;
  auto effort = [&](int level) {
    const Knobs knobs = resolve_knobs(f, level, {});
    double total = 0;
    for (uint64_t i = 0; i < 100; ++i) {
      const pb::Task task = make_task(f, knobs, level, 3, i);
      total += (1 << task.syllogism().terms_size()) * (task.syllogism().premises_size() + 1);
    }
    return total / 100;
  };
  double previous = 0;
  for (int level = 1; level <= 10; ++level) {
    const double e = effort(level);
    EXPECT_GE(e, previous) << "level " << level;
    previous = e;
  }
  EXPECT_GT(effort(10), 20 * effort(1));
}

TEST(Syllogism, DuplicatePromptsAreRare) {
  const Generator& f = find_family("syllogism").generator;
  const Knobs knobs = resolve_knobs(f, 1, {});
  std::set<std::string> prompts;
  for (uint64_t i = 0; i < 2000; ++i) prompts.insert(make_task(f, knobs, 1, 4, i).prompt());
  EXPECT_GT(prompts.size(), 1990u);
}

// Three terms hold only 256 arguments up to renaming; with the two distractor premises of the
// syllogism levels each level holds more than the 10,000 distinct questions a dataset may ask for.
TEST(Syllogism, LowLevelsHoldTenThousandDistinctQuestions) {
  const auto dir = verity::testing::fresh_temp_dir("verity_syllogism_distinct", "datasets");
  for (int level = 1; level <= 2; ++level)
    EXPECT_EQ(verity::testing::distinct_dataset("syllogism", level, 10000, dir.string()).size(), 10000u)
        << "level " << level;
  std::filesystem::remove_all(dir);
}

TEST(Syllogism, SymbolicFormatShowsFormulas) {
  const Generator& f = find_family("syllogism").generator;
  const pb::Task task = make_task(f, resolve_knobs(f, 1, {{"format", "symbolic"}}), 1, 1, 0);
  EXPECT_NE(task.prompt().find("(x)"), std::string::npos);
  EXPECT_NE(task.prompt().find("Conclusion: "), std::string::npos);
  const pb::Task natural = make_task(f, resolve_knobs(f, 1, {}), 1, 1, 0);
  EXPECT_EQ(natural.prompt().find("(x)"), std::string::npos);
}

TEST(Syllogism, NegatedTermsAppearWhenAsked) {
  const Generator& f = find_family("syllogism").generator;
  const Knobs knobs = resolve_knobs(f, 0, {{"negation", "1"}});
  int negated = 0;
  for (uint64_t i = 0; i < 50; ++i) negated += make_task(f, knobs, 0, 2, i).prompt().find("non-") != std::string::npos;
  EXPECT_EQ(negated, 50);
}

TEST(Syllogism, AcceptsSpellingsRejectsOthers) {
  const Generator& f = find_family("syllogism").generator;
  const Verifier& verifier = find_family("syllogism").verifier;
  pb::Task task = make_task(f, resolve_knobs(f, 1, {}), 1, 0, 0);
  task.set_answer("No");
  EXPECT_EQ(verifier.verify(task, "<answer>It does not follow.</answer>").reward(), 1.0);
  EXPECT_EQ(verifier.verify(task, "<answer>Yes</answer>").reward(), 0.0);
  const auto s = verifier.verify(task, "<answer>perhaps</answer>");
  EXPECT_EQ(s.reward(), 0.0);
  EXPECT_FALSE(s.format_ok());
}

TEST(Syllogism, BadKnobNamesTheFix) {
  const Generator& f = find_family("syllogism").generator;
  try {
    resolve_knobs(f, 0, {{"terms", "9"}});
    FAIL() << "terms=9 accepted";
  } catch (const KnobError& e) {
    EXPECT_NE(std::string(e.what()).find("terms"), std::string::npos);
  }
}

// ---------------------------------------------------------------------------------------------
// The generator's decider (Venn regions) against Z3 on random arguments shaped like each level's:
// its categories (terms + distractors), as many premises, any quantifier, negated terms, import on
// and off. Small category counts make the edge cases frequent: a statement about one category
// twice ("All A are A", "No A are A" empties A), complements ("All A are non-A"), inconsistent
// premises and tautological conclusions.

void differential_against_z3(int categories, int premises, int count) {
  std::atomic<int> disagreements{0}, valid{0};
  tbb::parallel_for(0, count, [&](int i) {
    Rng rng(mix_seed({0x5e11, static_cast<uint64_t>(categories), static_cast<uint64_t>(i)}));
    auto random_stmt = [&] {
      return syllogism::Stmt{static_cast<syllogism::Quant>(rng.index(4)),
                             {static_cast<int>(rng.index(categories)), rng.chance(0.25)},
                             {static_cast<int>(rng.index(categories)), rng.chance(0.25)}};
    };
    std::vector<syllogism::Stmt> given;
    const int k = 1 + static_cast<int>(rng.index(premises));
    for (int j = 0; j < k; ++j) given.push_back(random_stmt());
    const syllogism::Stmt conclusion = random_stmt();
    const bool import = rng.chance(0.5);
    const bool venn = syllogism::venn_entails(given, conclusion, import, categories);
    valid += venn;
    if (venn != syllogism::z3_entails(given, conclusion, import, categories) && disagreements++ < 5)
      ADD_FAILURE() << "Venn and Z3 disagree: " << categories << " categories, instance " << i;
  });
  EXPECT_EQ(disagreements, 0);
  // Both answers occur, so the comparison is not vacuous.
  EXPECT_GT(valid, count / 50) << categories << " categories";
  EXPECT_LT(valid, count - count / 50) << categories << " categories";
}

class SyllogismDeciders : public ::testing::TestWithParam<int> {};

TEST_P(SyllogismDeciders, VennRegionsAgreeWithZ3OnRandomArguments) {
  const Generator& f = find_family("syllogism").generator;
  const Knobs knobs = resolve_knobs(f, GetParam(), {});
  const int categories = static_cast<int>(knobs.get_int("terms") + knobs.get_int("distractors"));
  differential_against_z3(categories, categories + 1, 10000);
}

INSTANTIATE_TEST_SUITE_P(AllLevels, SyllogismDeciders, ::testing::Range(1, 11));

// entails() decides arguments over at most 6 categories (one word of regions) in two passes over the
// statements, without the region sets' normal form: the same answer as venn_entails on random
// arguments, 7 categories (the general path) included, import on and off.
TEST(SyllogismDeciders, OneWordEntailsAgreesWithTheRegionSets) {
  for (int categories = 1; categories <= 7; ++categories) {
    int disagreements = 0, valid = 0;
    const int count = 20000;
    for (int i = 0; i < count; ++i) {
      Rng rng(mix_seed({0x1e0d, static_cast<uint64_t>(categories), static_cast<uint64_t>(i)}));
      auto random_stmt = [&] {
        return syllogism::Stmt{static_cast<syllogism::Quant>(rng.index(4)),
                               {static_cast<int>(rng.index(categories)), rng.chance(0.25)},
                               {static_cast<int>(rng.index(categories)), rng.chance(0.25)}};
      };
      std::vector<syllogism::Stmt> given(rng.index(categories + 2));
      for (auto& st : given) st = random_stmt();
      const syllogism::Stmt conclusion = random_stmt();
      const bool import = rng.chance(0.5);
      const bool venn = syllogism::venn_entails(given, conclusion, import, categories);
      valid += venn;
      if (syllogism::entails(given, conclusion, import, categories) != venn && disagreements++ < 5)
        ADD_FAILURE() << "entails and venn_entails disagree: " << categories << " categories, instance " << i;
    }
    EXPECT_EQ(disagreements, 0) << categories << " categories";
    EXPECT_GT(valid, count / 50) << categories << " categories";
    EXPECT_LT(valid, count - count / 50) << categories << " categories";
  }
}

TEST(SyllogismDeciders, EdgeCases) {
  using syllogism::Quant;
  const syllogism::Term a{0, false}, not_a{0, true}, b{1, false};
  // "All A are A" follows from nothing; "Some A are A" only with import.
  EXPECT_TRUE(syllogism::venn_entails({}, {Quant::All, a, a}, false, 1));
  EXPECT_FALSE(syllogism::venn_entails({}, {Quant::Some, a, a}, false, 1));
  EXPECT_TRUE(syllogism::venn_entails({}, {Quant::Some, a, a}, true, 1));
  // "No A are A" empties A: then every "All A are X" holds, and with import the premises contradict
  // themselves, so anything follows.
  EXPECT_TRUE(syllogism::venn_entails({{Quant::No, a, a}}, {Quant::All, a, b}, false, 2));
  EXPECT_TRUE(syllogism::venn_entails({{Quant::No, a, a}}, {Quant::Some, a, b}, true, 2));
  EXPECT_FALSE(syllogism::venn_entails({{Quant::No, a, a}}, {Quant::Some, a, b}, false, 2));
  // "All A are non-A" says the same as "No A are A".
  EXPECT_TRUE(syllogism::venn_entails({{Quant::All, a, not_a}}, {Quant::No, a, a}, false, 1));
  // Beyond the categories the region sets hold, entails() falls back to Z3.
  EXPECT_TRUE(syllogism::entails({{Quant::All, {16, false}, {0, false}}}, {Quant::All, {16, false}, {0, false}}, false,
                                 17));
  for (int n : {1, 2, 6, 7, 12, 16}) differential_against_z3(n, 4, 500);
}

// ---------------------------------------------------------------------------------------------
// No shortcuts: no surface feature tells valid arguments from invalid ones better than chance (the
// best threshold on it, within the Kolmogorov-Smirnov band at alpha = 0.001), at the levels of each
// kind of argument, over 2,000 tasks each.

bool negative(const pb::CategoricalStatement& st) { return st.quantifier() == "no" || st.quantifier() == "some_not"; }
bool particular(const pb::CategoricalStatement& st) { return st.quantifier() == "some" || st.quantifier() == "some_not"; }

double count_words(const std::string& text, const std::string& word) {
  double n = 0;
  for (size_t at = text.find(word); at != std::string::npos; at = text.find(word, at + 1)) ++n;
  return n;
}

TEST(Syllogism, ShortcutClassifiersAreAtChance) {
  using verity::testing::Shortcut;
  auto premises_where = [](bool (*kind)(const pb::CategoricalStatement&)) {
    return [kind](const pb::Task& t) {
      double n = 0;
      for (const auto& st : t.syllogism().premises()) n += kind(st);
      return n;
    };
  };
  const std::vector<Shortcut> shortcuts = {
      {"conclusion universal", [](const pb::Task& t) { return double(!particular(t.syllogism().conclusion())); }},
      {"conclusion negative", [](const pb::Task& t) { return double(negative(t.syllogism().conclusion())); }},
      {"conclusion quantifier", [](const pb::Task& t) {
         const std::string& q = t.syllogism().conclusion().quantifier();
         return q == "all" ? 0.0 : q == "no" ? 1.0 : q == "some" ? 2.0 : 3.0;
       }},
      {"negative premises", premises_where(negative)},
      {"particular premises", premises_where(particular)},
      {"premises", [](const pb::Task& t) { return double(t.syllogism().premises_size()); }},
      {"prompt length", [](const pb::Task& t) { return double(t.prompt().size()); }},
      {"'not' in the prompt", [](const pb::Task& t) { return count_words(t.prompt(), "not") + count_words(t.prompt(), "No"); }},
      {"negated terms", [](const pb::Task& t) { return count_words(t.prompt(), "non-") + count_words(t.prompt(), "~"); }},
      // world knowledge: with real names, whether the conclusion is true in the real world
      {"conclusion believable", [](const pb::Task& t) {
         return t.syllogism().real_names() ? (t.syllogism().believable() ? 1.0 : 0.0) : 0.5;
       }}};
  std::vector<int> levels(10);
  for (int level = 1; level <= 10; ++level) levels[level - 1] = level;
  verity::testing::expect_no_shortcut("syllogism", levels, 2000, {}, [](const pb::Task& t) { return t.label() == "Yes"; },
                                      shortcuts);
}

// ---------------------------------------------------------------------------------------------
// One reading: a parser written here from the English templates (and the formula syntax) reads every
// premise, the conclusion and the existence assumption back from the prompt alone. A sentence that
// fits two templates with different meanings, or none, or a meaning other than the stored one, fails.
// Meanings are compared up to obversion ("All S are non-P" says "No S are P"): the symbolic format
// writes both as the same formula.

struct Reading {
  std::string q;  // all, no, some, some_not
  std::string s, p;
  bool s_neg = false, p_neg = false;
  // Obverted to a positive predicate: All S non-P -> No S P, Some S non-P -> Some S not P, ...
  Reading normal() const {
    if (!p_neg) return *this;
    static const std::map<std::string, std::string> kObverse = {
        {"all", "no"}, {"no", "all"}, {"some", "some_not"}, {"some_not", "some"}};
    return {kObverse.at(q), s, p, s_neg, false};
  }
  std::string text() const {
    const Reading n = normal();
    return n.q + " " + (n.s_neg ? "non-" : "") + n.s + " " + n.p;
  }
};

// "non-dogs" -> {"dogs", true}; a name must be one of the task's terms.
std::optional<std::pair<std::string, bool>> read_term(std::string t, const std::vector<std::string>& terms) {
  const bool neg = t.rfind("non-", 0) == 0;
  if (neg) t = t.substr(4);
  if (std::find(terms.begin(), terms.end(), t) == terms.end()) return std::nullopt;
  return std::make_pair(t, neg);
}

// Every reading of one English sentence (no final period), over all templates.
std::set<std::string> read_sentence(const std::string& sentence, const std::vector<std::string>& terms) {
  static const std::vector<std::pair<std::string, std::string>> kEnglish = {
      {"all", "All (.+) are (.+)"},           {"all", "Every one of the (.+) is one of the (.+)"},
      {"all", "Without exception, (.+) are (.+)"}, {"no", "No (.+) are (.+)"},
      {"no", "None of the (.+) are (.+)"},    {"no", "Not a single one of the (.+) is one of the (.+)"},
      {"some", "Some (.+) are (.+)"},         {"some", "There are (.+) that are (.+)"},
      {"some", "At least one of the (.+) is one of the (.+)"}, {"some_not", "Some (.+) are not (.+)"},
      {"some_not", "Not all (.+) are (.+)"},  {"some_not", "There are (.+) that are not (.+)"}};
  static const auto kTemplates = [] {
    std::vector<std::pair<std::string, std::regex>> out;
    for (const auto& [q, pattern] : kEnglish) out.emplace_back(q, std::regex(pattern));
    return out;
  }();
  std::set<std::string> readings;
  for (const auto& [q, pattern] : kTemplates) {
    std::smatch m;
    // case-blind on the first letter only: the question lower-cases it
    std::string text = sentence;
    if (!text.empty()) text[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(text[0])));
    if (!std::regex_match(text, m, pattern)) continue;
    const auto s = read_term(m[1], terms), p = read_term(m[2], terms);
    if (s && p) readings.insert(Reading{q, s->first, p->first, s->second, p->second}.text());
  }
  return readings;
}

// "forall x: A(x) -> ~B(x)", "exists x: ~A(x) & B(x)".
std::set<std::string> read_formula(const std::string& formula, const std::vector<std::string>& terms) {
  static const std::regex kFormula(R"((forall|exists) x: (~?)(\w+)\(x\) (->|&) (~*)(\w+)\(x\))");
  std::smatch m;
  if (!std::regex_match(formula, m, kFormula)) return {};
  const bool universal = m[1] == "forall";
  if (universal != (m[4] == "->")) return {};
  const std::string p_neg = m[5];
  auto name = [&](std::string n) {
    std::replace(n.begin(), n.end(), '_', ' ');  // the formula writes spaces in names as '_'
    return n;
  };
  const auto s = read_term(name(m[3]), terms), p = read_term(name(m[6]), terms);
  if (!s || !p || p_neg.size() > 2) return {};
  return {Reading{universal ? "all" : "some", s->first, p->first, !m[2].str().empty(), p_neg.size() == 1}.text()};
}

std::string stored_reading(const pb::CategoricalStatement& st, const pb::SyllogismInstance& inst) {
  return Reading{st.quantifier(), inst.terms(st.subject()), inst.terms(st.predicate()), st.subject_negated(),
                 st.predicate_negated()}.text();
}

// "" when the prompt reads back to the stored premises (in order), conclusion and import setting.
std::string reads_back(const pb::Task& task) {
  const auto& inst = task.syllogism();
  const std::vector<std::string> terms(inst.terms().begin(), inst.terms().end());
  const bool natural = task.knobs().at("format") == "natural";
  static const std::vector<std::string> kQuestions = {"Does it follow that ", "Can we validly conclude that ",
                                                      "Given only these premises, must it be true that "};
  std::istringstream lines(task.prompt());
  std::vector<std::set<std::string>> premises;
  std::set<std::string> conclusion;
  int import = -1;
  static const std::regex kNumbered(R"((\d+)\. (.*))");
  for (std::string line; std::getline(lines, line);) {
    std::smatch m;
    if (std::regex_match(line, m, kNumbered)) {
      std::string body = m[2];
      if (natural && !body.empty() && body.back() == '.') body.pop_back();
      if (std::stoul(m[1]) != premises.size() + 1) return "premises out of order at: " + line;
      premises.push_back(natural ? read_sentence(body, terms) : read_formula(body, terms));
      continue;
    }
    for (const auto& q : kQuestions)
      if (natural && line.rfind(q, 0) == 0 && line.back() == '?')
        conclusion = read_sentence(line.substr(q.size(), line.size() - q.size() - 1), terms);
    if (!natural && line.rfind("Conclusion: ", 0) == 0) conclusion = read_formula(line.substr(12), terms);
    if (line == "Assume that each kind of thing mentioned exists: there is at least one of each." ||
        line == "Existential import: every predicate above holds of at least one individual.")
      import = import == -1 ? 1 : 2;
    if (line == "Do not assume that any kind of thing mentioned actually has members." ||
        line == "No existential import: a predicate may hold of no individual.")
      import = import == -1 ? 0 : 2;
  }
  if (static_cast<int>(premises.size()) != inst.premises_size())
    return std::to_string(premises.size()) + " premises read, " + std::to_string(inst.premises_size()) + " stored";
  for (int i = 0; i < inst.premises_size(); ++i) {
    const std::string want = stored_reading(inst.premises(i), inst);
    if (premises[i].size() != 1 || *premises[i].begin() != want)
      return "premise " + std::to_string(i + 1) + " has " + std::to_string(premises[i].size()) +
             " readings, stored: " + want;
  }
  const std::string want = stored_reading(inst.conclusion(), inst);
  if (conclusion.size() != 1 || *conclusion.begin() != want)
    return "the conclusion has " + std::to_string(conclusion.size()) + " readings, stored: " + want;
  if (import != (inst.existential_import() ? 1 : 0)) return "the existence assumption is not stated once";
  return "";
}

// The reader sees what the test must catch: "All S are not P" fits no template (it reads as "No S are P"
// and as "Not all S are P"), "Some S are not P" only one, and the formulas of "All S are non-P" and
// "No S are P" read the same up to obversion.
TEST(Syllogism, ReaderSeesAmbiguityAndObversion) {
  const std::vector<std::string> terms = {"dogs", "cats"};
  EXPECT_TRUE(read_sentence("All dogs are not cats", terms).empty());
  EXPECT_EQ(read_sentence("Some dogs are not cats", terms), std::set<std::string>{"some_not dogs cats"});
  EXPECT_EQ(read_sentence("Not all dogs are non-cats", terms), std::set<std::string>{"some dogs cats"});
  EXPECT_EQ(read_formula("forall x: dogs(x) -> ~cats(x)", terms), std::set<std::string>{"no dogs cats"});
  EXPECT_TRUE(read_formula("forall x: dogs(x) & cats(x)", terms).empty());
  EXPECT_TRUE(read_sentence("All dogs are birds", terms).empty());
}

class SyllogismReadBack : public ::testing::TestWithParam<int> {};

TEST_P(SyllogismReadBack, EveryPromptHasOneReadingInBothFormats) {
  for (const char* format : {"natural", "symbolic"})
    verity::testing::check_every_task("syllogism", GetParam(), {{"format", format}}, 2000,
                                      [](const pb::Task& t, uint64_t) {
                                        const std::string problem = reads_back(t);
                                        return problem.empty() ? problem : problem + "\n" + t.prompt();
                                      });
}

INSTANTIATE_TEST_SUITE_P(AllLevels, SyllogismReadBack, ::testing::Range(1, 11));

}  // namespace

// ---- distinct questions ----
namespace {

// Premises and conclusion with fictional terms as identifiers t<i> (real names as they are): the
// test's own statements for the brute-force canonical form.
std::string syl_brute_key(const pb::Task& task) {
  const auto& inst = task.syllogism();
  std::vector<std::string> symbols;
  auto term = [&](int i, bool negated) {
    const std::string name = inst.real_names() ? "real_" + inst.terms(i) : "t" + std::to_string(i);
    if (!inst.real_names() && std::find(symbols.begin(), symbols.end(), name) == symbols.end()) symbols.push_back(name);
    return (negated ? "non-" : "") + name;
  };
  // Obversion: "All S are non-P" says "No S are P", "Some S are non-P" says "Some S are not P" (and back),
  // so a negated predicate is written as the plain one under the obverse quantifier.
  const std::map<std::string, std::string> obverse{{"all", "no"}, {"no", "all"}, {"some", "some_not"}, {"some_not", "some"}};
  auto line = [&](const std::string& role, const pb::CategoricalStatement& st) {
    const std::string quantifier = st.predicate_negated() ? obverse.at(st.quantifier()) : st.quantifier();
    return role + " " + quantifier + " " + term(st.subject(), st.subject_negated()) + " " + term(st.predicate(), false);
  };
  std::vector<std::string> statements;
  for (const auto& p : inst.premises()) statements.push_back(line("P", p));
  statements.push_back(line("C", inst.conclusion()));
  if (symbols.size() > 7) return "";
  return (inst.existential_import() ? "import|" : "|") + verity::testing::brute_force_canonical(statements, symbols);
}

}  // namespace

TEST(SyllogismQuestions, KeyIsTheCanonicalFormUpToNamesAndOrder) {
  for (int level = 1; level <= 6; ++level)
    verity::testing::expect_question_key_matches("syllogism", level, 2000, syl_brute_key);
}

// ---- the enumerated questions (three terms, fictional names, no negation, <= 2 distractors) ----
namespace {

// Each enumerated question once, as a task: the candidates 0 .. 2 x (longer list) - 1 hold every
// question of both labels (round r gives each label its r-th question, wrapping around the shorter list).
std::vector<pb::Task> every_enumerated(const Knobs& knobs, int level) {
  const Generator& family = find_family("syllogism").generator;
  const auto* space = syllogism::enumerated_space(knobs);
  if (!space) {
    ADD_FAILURE() << "knobs " << knobs.canonical() << " are not enumerated";
    return {};
  }
  const uint64_t candidates = 2 * std::max(space->questions[0].size(), space->questions[1].size());
  std::vector<pb::Task> tasks(candidates);
  tbb::parallel_for(uint64_t{0}, candidates, [&](uint64_t i) { tasks[i] = make_task(family, knobs, level, 5, i); });
  return tasks;
}

// A few surface features of a task, and the label: what the weighted order must spread as the random
// path does.
std::vector<std::string> features(const pb::Task& t) {
  const auto& inst = t.syllogism();
  int particular_premises = 0, negative_premises = 0;
  for (const auto& st : inst.premises()) particular_premises += particular(st), negative_premises += negative(st);
  return {t.label() + " conclusion " + inst.conclusion().quantifier(),
          t.label() + " particular premises " + std::to_string(particular_premises),
          t.label() + " negative premises " + std::to_string(negative_premises),
          t.label() + " figure " + inst.form().substr(0, 1)};
}

// The enumeration is complete and exact: its questions are pairwise distinct (question_key), as many
// per label as question_counts says, each labelled right by the test's own Venn decision (all of them)
// and by Z3 with a sound countermodel (cross_check, a sample); every question the random path makes
// at these knobs is among them, under the same label.
void expect_enumeration_complete(int level, const KnobMap& overrides, uint64_t random_draws) {
  const Generator& family = find_family("syllogism").generator;
  const Knobs knobs = resolve_knobs(family, level, overrides);
  const auto tasks = every_enumerated(knobs, level);
  const auto counts = family.question_counts(knobs);
  ASSERT_EQ(counts.size(), 2u) << knobs.canonical();
  std::vector<std::string> keys(tasks.size());
  std::atomic<int> failures{0};
  tbb::parallel_for(size_t{0}, tasks.size(), [&](size_t i) {
    keys[i] = family.question_key(tasks[i]);
    const Argument a = argument_of(tasks[i]);
    if (valid_independently(a) != (tasks[i].label() == "Yes") && failures++ < 5)
      ADD_FAILURE() << knobs.canonical() << " enumerated question labelled " << tasks[i].label()
                    << " against the Venn regions: " << tasks[i].prompt();
    if (i % 29 == 0) {
      const std::string problem = cross_check(tasks[i]);
      if (!problem.empty() && failures++ < 5) ADD_FAILURE() << knobs.canonical() << " enumerated question: " << problem;
    }
  });
  std::map<std::string, std::string> label_of;  // key -> label
  for (size_t i = 0; i < tasks.size(); ++i) {
    const auto [at, added] = label_of.emplace(keys[i], tasks[i].label());
    if (!added) EXPECT_EQ(at->second, tasks[i].label()) << "one question with both labels";
  }
  std::map<std::string, uint64_t> distinct;
  for (const auto& [key, label] : label_of) ++distinct[label];
  EXPECT_EQ(distinct, counts) << knobs.canonical();

  std::vector<std::string> missing(random_draws);
  std::vector<std::string> random_keys(random_draws);
  tbb::parallel_for(uint64_t{0}, random_draws, [&](uint64_t i) {
    Rng rng(mix_seed({77, i}));
    pb::Task task;
    task.set_family("syllogism");  // question_key names the family
    syllogism::generate_at_random(rng, knobs, task);
    random_keys[i] = family.question_key(task);
    const auto found = label_of.find(random_keys[i]);
    if (found == label_of.end()) missing[i] = "not enumerated: " + task.syllogism().DebugString();
    else if (found->second != task.label()) missing[i] = "enumerated as " + found->second + ": " + task.syllogism().DebugString();
  });
  int shown = 0;
  for (const auto& m : missing)
    if (!m.empty() && shown++ < 5) ADD_FAILURE() << knobs.canonical() << " " << m;
  // The random path reaches most of the space (its rarest questions have odds far below the mean).
  const std::set<std::string> reached(random_keys.begin(), random_keys.end());
  EXPECT_GT(reached.size(), label_of.size() / 2) << knobs.canonical();
}

TEST(SyllogismSpace, LevelOneEnumerationIsCompleteAndLabelledRight) { expect_enumeration_complete(1, {}, 200000); }
TEST(SyllogismSpace, LevelTwoEnumerationIsCompleteAndLabelledRight) { expect_enumeration_complete(2, {}, 200000); }
TEST(SyllogismSpace, FewerDistractorsEnumerationIsComplete) {
  for (const char* import : {"on", "off"}) {
    expect_enumeration_complete(1, {{"distractors", "0"}, {"existential_import", import}}, 20000);
    expect_enumeration_complete(1, {{"distractors", "1"}, {"existential_import", import}}, 50000);
  }
}

// Only three terms with fictional names, no negation and at most two distractors are enumerated (any
// import, any format).
TEST(SyllogismSpace, OtherKnobsAreDrawnAtRandom) {
  const Generator& family = find_family("syllogism").generator;
  for (int level = 1; level <= 2; ++level) {
    EXPECT_NE(syllogism::enumerated_space(resolve_knobs(family, level, {})), nullptr) << level;
    EXPECT_NE(syllogism::enumerated_space(resolve_knobs(family, level, {{"format", "symbolic"}})), nullptr) << level;
    EXPECT_EQ(family.question_counts(resolve_knobs(family, level, {})).size(), 2u) << level;
  }
  for (int level = 3; level <= 10; ++level) {
    EXPECT_EQ(syllogism::enumerated_space(resolve_knobs(family, level, {})), nullptr) << level;
    EXPECT_TRUE(family.question_counts(resolve_knobs(family, level, {})).empty()) << level;
  }
  for (const KnobMap& k : std::vector<KnobMap>{{{"distractors", "3"}}, {{"names", "real"}}, {{"negation", "0.1"}},
                                               {{"terms", "4"}}})
    EXPECT_EQ(syllogism::enumerated_space(resolve_knobs(family, 1, k)), nullptr) << k.begin()->first;
}

// Drawn without replacement: the questions of the first 20,000 candidates (or up to the end of the
// shorter label's list) are distinct and each run of two candidates holds one of each label; the first 4,000 (a sixth of the space or less) spread surface
// features (conclusion quantifier, particular and negative premises, figure; per label) as 40,000
// random-path tasks do. (Further on, each label's mix drifts towards its whole list's, which differs
// from the random path's: see GenerateStopsAtTheExactEndOfTheSpace.)
TEST(SyllogismSpace, CandidatesAreDistinctLabelsAlternateAndFeaturesFollowTheRandomPath) {
  const Generator& family = find_family("syllogism").generator;
  for (int level = 1; level <= 2; ++level) {
    const Knobs knobs = resolve_knobs(family, level, {});
    const auto counts = family.question_counts(knobs);
    const uint64_t kCandidates = std::min<uint64_t>(20000, 2 * std::min(counts.at("Yes"), counts.at("No")));
    constexpr uint64_t kPrefix = 4000, kRandom = 40000;
    std::vector<pb::Task> tasks(kCandidates), random(kRandom);
    tbb::parallel_for(uint64_t{0}, kCandidates, [&](uint64_t i) { tasks[i] = make_task(family, knobs, level, 9, i); });
    tbb::parallel_for(uint64_t{0}, kRandom, [&](uint64_t i) {
      Rng rng(mix_seed({78, i}));
      random[i].set_family("syllogism");
      syllogism::generate_at_random(rng, knobs, random[i]);
    });
    std::set<std::string> keys;
    for (uint64_t i = 0; i < kCandidates; ++i)
      EXPECT_TRUE(keys.insert(family.question_key(tasks[i])).second) << "candidate " << i << " repeats a question";
    for (uint64_t r = 0; r < kCandidates / 2; ++r)
      ASSERT_NE(tasks[2 * r].label(), tasks[2 * r + 1].label()) << "round " << r;
    std::map<std::string, double> enumerated_share, random_share;
    for (uint64_t i = 0; i < kPrefix; ++i)
      for (const auto& f : features(tasks[i])) enumerated_share[f] += 1.0 / kPrefix;
    for (uint64_t i = 0; i < kRandom; ++i)
      for (const auto& f : features(random[i])) random_share[f] += 1.0 / kRandom;
    for (const auto& [feature, share] : random_share)  // about 5 standard errors (share 0.25) at most
      EXPECT_NEAR(enumerated_share[feature], share, 0.035) << "level " << level << ": " << feature;
    for (const auto& [feature, share] : enumerated_share)
      EXPECT_TRUE(random_share.count(feature)) << "level " << level << ": " << feature;
  }
}

}  // namespace

#ifdef VERITY_BINARY
// `verity generate -n M` succeeds at levels 1 and 2 where M is the most tasks a balanced dataset holds
// (every question of the scarcer label, the other label up to the balance's slack), and -n M+1 fails
// saying exactly M, also for a shard.
TEST(SyllogismSpace, GenerateStopsAtTheExactEndOfTheSpace) {
  const Generator& family = find_family("syllogism").generator;
  for (int level = 1; level <= 2; ++level) {
    const auto counts = family.question_counts(resolve_knobs(family, level, {}));
    const uint64_t scarce = std::min(counts.at("Yes"), counts.at("No"));
    const auto dir = verity::testing::fresh_temp_dir("verity_syllogism_space", "exact");
    const std::string out = (dir / "l.jsonl").string();
    const auto generate = [&](uint64_t n, const std::string& extra = "") {
      return verity::testing::run_verity("generate --family syllogism --level " + std::to_string(level) +
                                         " --seed 3 --no-progress -n " + std::to_string(n) + " -o " + out + " " + extra);
    };
    const auto too_many = generate(counts.at("Yes") + counts.at("No") + 1, "--threads 2");
    ASSERT_NE(too_many.status, 0);
    std::smatch m;
    ASSERT_TRUE(std::regex_search(too_many.output, m, std::regex("has only ([0-9]+) distinct questions with balanced labels")))
        << too_many.output;
    const uint64_t most = std::stoull(m[1]);
    EXPECT_NE(too_many.output.find("all " + std::to_string(counts.at("Yes") + counts.at("No")) +
                                   " of them enumerated: No " + std::to_string(counts.at("No")) + ", Yes " +
                                   std::to_string(counts.at("Yes"))),
              std::string::npos)
        << too_many.output;
    EXPECT_GE(most, 2 * scarce);
    EXPECT_LE(most, 2 * scarce + 2 * scarce / 50);  // the other label above its share by the slack at most

    const auto exact = generate(most, "--threads 2");
    ASSERT_EQ(exact.status, 0) << exact.output;
    std::istringstream lines(verity::testing::read_file(out));
    uint64_t count = 0, yes_tasks = 0;
    for (std::string line; std::getline(lines, line); ++count) yes_tasks += line.find("\"label\":\"Yes\"") != std::string::npos;
    EXPECT_EQ(count, most);
    EXPECT_EQ(std::min(yes_tasks, count - yes_tasks), scarce);  // every question of the scarcer label is used

    verity::testing::expect_one_more_fails(generate, most, {"--threads 2", "--threads 2 --shard 1/2"});
    std::filesystem::remove_all(dir);
  }
}
#endif

// The bytes do not depend on the thread count or the shard split at levels 1 and 2 (enumerated) nor
// at level 3 (random).
TEST(SyllogismSpace, SameBytesForAnyThreadsAndShards) {
  verity::testing::expect_same_bytes_for_threads_and_shards("syllogism", {{1, 5000}, {1, 20000}, {2, 12000}, {3, 3000}});
}

// Small questions (at most 5 categories and 4 premises, no negated subject) take question_key's fast
// way; with negated terms about, a question and its obverted or renamed restatements must still share
// one key, and questions that differ must not, whichever way each takes.
TEST(SyllogismQuestions, FastKeyAgreesWithTheCanonicalFormUnderNegation) {
  auto variants = [](const pb::Task& task, Rng& rng) {
    std::vector<pb::Task> out;
    // A premise obverted: "All S are P" as "No S are non-P" (the same question).
    pb::Task obverted = task;
    auto* st = obverted.mutable_syllogism()->mutable_premises(static_cast<int>(rng.index(task.syllogism().premises_size())));
    static const std::map<std::string, std::string> kObverse = {
        {"all", "no"}, {"no", "all"}, {"some", "some_not"}, {"some_not", "some"}};
    st->set_quantifier(kObverse.at(st->quantifier()));
    st->set_predicate_negated(!st->predicate_negated());
    out.push_back(obverted);
    // The categories renamed and the premises reversed (the same question).
    pb::Task renamed = task;
    auto* inst = renamed.mutable_syllogism();
    std::vector<int> perm(inst->terms_size());
    std::iota(perm.begin(), perm.end(), 0);
    rng.shuffle(perm);
    auto rename = [&](pb::CategoricalStatement* s) {
      s->set_subject(perm[s->subject()]);
      s->set_predicate(perm[s->predicate()]);
    };
    for (auto& p : *inst->mutable_premises()) rename(&p);
    rename(inst->mutable_conclusion());
    std::reverse(inst->mutable_premises()->begin(), inst->mutable_premises()->end());
    out.push_back(renamed);
    // A near miss: the conclusion's subject negated (another question).
    pb::Task miss = task;
    miss.mutable_syllogism()->mutable_conclusion()->set_subject_negated(!task.syllogism().conclusion().subject_negated());
    out.push_back(miss);
    return out;
  };
  for (const KnobMap& k : std::vector<KnobMap>{{{"distractors", "1"}, {"negation", "0.5"}},
                                               {{"terms", "4"}, {"distractors", "0"}, {"negation", "0.5"}},
                                               {{"terms", "4"}, {"distractors", "1"}, {"negation", "0.3"}},
                                               {{"distractors", "2"}}})
    verity::testing::expect_question_key_matches("syllogism", 1, 2000, syl_brute_key, variants, k);
}

// question_space's weighted order (syllogism levels 1-2 and inference_chains level 1 draw by it): a
// permutation fixed by its key, heavy questions early, the same through the cache and through pick.
TEST(QuestionSpace, WeightedOrderIsASeededPermutationFavouringHeavyQuestions) {
  std::vector<uint64_t> questions(1000);
  std::vector<double> weights(1000);
  for (uint64_t i = 0; i < questions.size(); ++i) questions[i] = 7 * i + 3, weights[i] = i < 100 ? 10.0 : 1.0;
  const auto order = question_space::weighted_order(questions, weights, 42);
  std::vector<uint64_t> sorted = order;
  std::sort(sorted.begin(), sorted.end());
  EXPECT_EQ(sorted, questions);  // every question once
  EXPECT_EQ(question_space::weighted_order(questions, weights, 42), order);
  EXPECT_NE(question_space::weighted_order(questions, weights, 43), order);
  int heavy = 0;
  for (size_t i = 0; i < 100; ++i) heavy += order[i] < 7 * 100;
  EXPECT_GT(heavy, 35);  // about half expected (a tenth without the weights)
  EXPECT_EQ(question_space::cached_weighted_order(questions, weights, 42), order);
  EXPECT_EQ(question_space::cached_weighted_order(questions, weights, 42), order);

  question_space::Space space;
  space.labels = {"a", "b"};
  space.questions = {questions, {1, 2, 3}};
  space.weights = {weights, {}};
  const auto by_key = question_space::weighted_order(questions, weights, mix_seed({99, 0}));
  for (uint64_t index = 0; index < 200; ++index) {
    const auto pick = question_space::pick(space, 99, index);
    if (pick.slot == 0) EXPECT_EQ(pick.question, by_key[index / 2]) << index;
    else EXPECT_TRUE(pick.question >= 1 && pick.question <= 3);
  }
  EXPECT_THROW(question_space::weighted_order(questions, {1.0}, 1), std::logic_error);
}
