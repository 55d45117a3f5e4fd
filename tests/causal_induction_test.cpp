// causal_induction: gold verifies, wrong labels score 0, labels balanced, and every label re-derived
// three ways: a plain enumeration written here (vectors of booleans, not the solver's masks), Z3 over
// the stored instance (is "on" satisfiable with the trials, is "off"?), and the prompt parsed back by a
// reader written from the templates, which must give the stored instance. Difficulty rises with the
// level by hypothesis-space size and by the accuracy of a heuristic baseline.
#include <gtest/gtest.h>

#include <cmath>
#include <regex>
#include <sstream>
#include <unordered_set>

#include "family_properties.h"
#include "solvers/blicket.h"
#include "solvers/z3_bridge.h"
#include "tasks/concat.h"
#include "tasks/rng.h"

namespace {

using namespace verity;

struct Stated {
  std::vector<std::string> objects;
  std::vector<std::pair<std::vector<int>, bool>> trials;
  std::vector<int> query;
  std::vector<int> thresholds;  // blickets needed: {1}, {2} or {1, 2} when the rule is not stated
};

Stated stored(const pb::Task& task) {
  const auto& inst = task.causal_induction();
  Stated s;
  s.objects.assign(inst.objects().begin(), inst.objects().end());
  for (const auto& t : inst.trials()) s.trials.push_back({{t.objects().begin(), t.objects().end()}, t.on()});
  s.query.assign(inst.query().begin(), inst.query().end());
  s.thresholds = inst.rule() == "unknown" ? std::vector<int>{1, 2}
                                          : std::vector<int>{inst.rule() == "disjunctive" ? 1 : 2};
  return s;
}

// ---- independent enumeration ----

bool turns_on(const std::vector<bool>& blicket, int threshold, const std::vector<int>& placed) {
  int count = 0;
  for (int i : placed) count += blicket[i] ? 1 : 0;
  return count >= threshold;
}

struct Count {
  long consistent = 0, on = 0, off = 0;
};

Count enumerate(const Stated& s) {
  Count c;
  const int n = static_cast<int>(s.objects.size());
  for (int k : s.thresholds)
    for (long code = 0; code < (1L << n); ++code) {
      std::vector<bool> blicket(n);
      for (int i = 0; i < n; ++i) blicket[i] = (code >> i) & 1;
      bool fits = true;
      for (const auto& [placed, on] : s.trials) fits = fits && turns_on(blicket, k, placed) == on;
      if (!fits) continue;
      ++c.consistent;
      ++(turns_on(blicket, k, s.query) ? c.on : c.off);
    }
  return c;
}

std::string label_of(long on, long off) { return off == 0 ? "on" : on == 0 ? "off" : "undetermined"; }

// ---- Z3 ----

// At least `k` of `placed` are blickets, as a pseudo-Boolean constraint.
z3::expr at_least(z3::context& ctx, const std::vector<z3::expr>& b, const std::vector<int>& placed, const z3::expr& k) {
  z3::expr sum = ctx.int_val(0);
  for (int i : placed) sum = sum + z3::ite(b[i], ctx.int_val(1), ctx.int_val(0));
  return sum >= k;
}

// The label by Z3: can the query be on with every trial kept, can it be off? Also counts the
// explanations by blocking models, up to `cap` (-1 beyond).
std::pair<std::string, long> z3_label(const Stated& s, long cap) {
  const z3bridge::SolverScope scope(z3bridge::kGenerationRlimit);
  z3::context& ctx = scope.ctx();
  z3::solver& solver = scope.solver();
  std::vector<z3::expr> b;
  for (size_t i = 0; i < s.objects.size(); ++i) b.push_back(ctx.bool_const(("b" + std::to_string(i)).c_str()));
  const z3::expr k = ctx.int_const("k");
  z3::expr_vector allowed(ctx);
  for (int t : s.thresholds) allowed.push_back(k == t);
  solver.add(z3::mk_or(allowed));
  for (const auto& [placed, on] : s.trials) solver.add(at_least(ctx, b, placed, k) == ctx.bool_val(on));
  auto possible = [&](bool on) {
    solver.push();
    solver.add(at_least(ctx, b, s.query, k) == ctx.bool_val(on));
    const bool sat = solver.check() == z3::sat;
    solver.pop();
    return sat;
  };
  const bool can_on = possible(true), can_off = possible(false);
  long count = 0;
  while (count <= cap && solver.check() == z3::sat) {
    const z3::model m = solver.get_model();
    z3::expr_vector differs(ctx);
    for (const auto& v : b) differs.push_back(m.eval(v, true).is_true() ? !v : v);
    differs.push_back(k != m.eval(k, true));
    solver.add(z3::mk_or(differs));
    ++count;
  }
  return {label_of(can_on ? 1 : 0, can_off ? 1 : 0), count > cap ? -1 : count};
}

// ---- the prompt read back ----

std::vector<std::string> split_list(std::string text, bool natural) {
  std::vector<std::string> out;
  if (!natural) {
    if (text.size() < 2 || text.front() != '{' || text.back() != '}') return {"<not a set: " + text + ">"};
    text = text.substr(1, text.size() - 2);
  }
  std::string item;
  std::stringstream in(std::regex_replace(text, std::regex(" and "), ", "));
  while (std::getline(in, item, ',')) {
    item = std::regex_replace(item, std::regex("^ +| +$"), "");
    if (natural && item.rfind("the ", 0) == 0) item = item.substr(4);
    out.push_back(item);
  }
  return out;
}

std::vector<int> indices(const std::vector<std::string>& objects, const std::vector<std::string>& names) {
  std::vector<int> out;
  for (const auto& n : names) {
    const auto it = std::find(objects.begin(), objects.end(), n);
    out.push_back(it == objects.end() ? -1 : static_cast<int>(it - objects.begin()));
  }
  std::sort(out.begin(), out.end());
  return out;
}

Stated parse_prompt(const std::string& prompt, bool natural) {
  Stated s;
  std::smatch m;
  const std::regex objects_re(natural ? "\nThe objects are: ([^\n]*)\\.\n" : "Objects: (\\{[^\n]*\\})\\. S is");
  if (std::regex_search(prompt, m, objects_re)) s.objects = split_list(m[1], natural);
  const std::regex trial_re(natural ? "\nTrial (\\d+): ([^\n]*?) (alone is|are) (placed|put) on the machine\\. The "
                                      "machine (switches on|remains off)\\."
                                    : "\nT(\\d+): (\\{[^\n]*\\}) -> (1|0)(?=\n)");
  for (auto it = std::sregex_iterator(prompt.begin(), prompt.end(), trial_re); it != std::sregex_iterator(); ++it) {
    const std::string outcome = (*it)[natural ? 5 : 3];
    s.trials.push_back({indices(s.objects, split_list((*it)[2], natural)), outcome == "switches on" || outcome == "1"});
  }
  const std::regex query_re(natural ? "\nQuestion: ([^\n]*?) (alone is|are) put on the empty machine, with nothing "
                                      "else\\. Does the machine turn on\\?\n"
                                    : "\nQuery: (\\{[^\n]*\\}) -> \\?\n");
  if (std::regex_search(prompt, m, query_re)) s.query = indices(s.objects, split_list(m[1], natural));
  const bool one = prompt.find(natural ? "exactly when at least one blicket is on it." : ">= 1.\n") != std::string::npos;
  const bool two = prompt.find(natural ? "exactly when at least two blickets are on it." : ">= 2.\n") != std::string::npos;
  const bool unknown = prompt.find(natural ? "you are not told which" : "where k is 1 or 2 (unknown)") != std::string::npos;
  if (unknown && (natural ? one && two : !one && !two)) s.thresholds = {1, 2};
  else if (!unknown && one != two) s.thresholds = {one ? 1 : 2};
  return s;
}

// Every line of the prompt is exactly one of the template's kinds, each kind as often as the
// instance calls for (one of each, a line per trial); the rule is stated as the instance's rule.
std::string strict_lines(const pb::Task& task) {
  const auto& inst = task.causal_induction();
  const bool natural = inst.format() == "natural", unknown = inst.rule() == "unknown";
  static const std::vector<std::regex> kNatural = {
      std::regex(R"((A scientist is testing a machine with some objects\.|You are studying a strange machine and a set of objects\.|A detector machine is tested with a collection of objects\.) Each object either is a blicket or is not, and any number of the objects \(none, some or all\) may be blickets\. (The machine turns on exactly when at least (one blicket is|two blickets are) on it\.|The machine follows one of two rules, and you are not told which\. Rule 1: it turns on exactly when at least one blicket is on it\. Rule 2: it turns on exactly when at least two blickets are on it\.) Objects that are not blickets make no difference\. Every trial starts with an empty machine and puts on it exactly the objects listed\.)"),
      std::regex(R"(The objects are: the [a-z]+ [a-z]+((, the [a-z]+ [a-z]+)* and the [a-z]+ [a-z]+)?\.)"),
      std::regex(R"(Trial \d+: the [a-z]+ [a-z]+ alone is (placed|put) on the machine\. The machine (switches on|remains off)\.|Trial \d+: the [a-z]+ [a-z]+(, the [a-z]+ [a-z]+)* and the [a-z]+ [a-z]+ are (placed|put) on the machine\. The machine (switches on|remains off)\.)"),
      std::regex(R"(Question: (the [a-z]+ [a-z]+ alone is|the [a-z]+ [a-z]+(, the [a-z]+ [a-z]+)* and the [a-z]+ [a-z]+ are) put on the empty machine, with nothing else\. Does the machine turn on\?)"),
      std::regex(R"(An explanation is a choice of which objects are blickets( together with one of the two rules)?; it fits when it gives every trial the outcome observed\. Answer "on" if every fitting explanation turns the machine on for the question's objects, "off" if every fitting explanation leaves it off, and "undetermined" if at least one fitting explanation turns it on and at least one leaves it off\.)"),
      std::regex(R"(Answer with one word: on, off or undetermined\. .*<answer>off</answer>)")};
  static const std::vector<std::regex> kSymbolic = {
      std::regex(R"(Blicket machine\. Objects: \{[A-Z](, [A-Z])*\}\. S is an unknown set of blickets \(any subset of the objects, empty and full included\)\.)"),
      std::regex(R"(Rule: on\(X\) <=> \|X & S\| >= (1|2|k, where k is 1 or 2 \(unknown\))\.)"),
      std::regex(R"(Observations \(X -> 1: on\(X\) holds, X -> 0: on\(X\) fails; X = the objects on the machine, nothing else\):)"),
      std::regex(R"(T\d+: \{[A-Z](, [A-Z])*\} -> (1|0))"),
      std::regex(R"(Query: \{[A-Z](, [A-Z])*\} -> \?)"),
      std::regex(R"(An explanation is a value of S( and k)? under which every observation holds\. Answer on if on\(query\) holds under every explanation, off if it fails under every explanation, undetermined if it holds under some and fails under others\.)"),
      std::regex(R"(Answer with one word: on, off or undetermined\. .*<answer>off</answer>)")};
  const auto& kinds = natural ? kNatural : kSymbolic;
  const size_t trial_kind = natural ? 2 : 3;
  std::vector<int> seen(kinds.size(), 0);
  std::istringstream in(task.prompt());
  for (std::string line; std::getline(in, line);) {
    int matched = 0;
    for (size_t k = 0; k < kinds.size(); ++k)
      if (std::regex_match(line, kinds[k])) ++seen[k], ++matched;
    if (matched != 1) return std::to_string(matched) + " readings of the line: " + line + "; ";
  }
  for (size_t k = 0; k < kinds.size(); ++k)
    if (seen[k] != (k == trial_kind ? inst.trials_size() : 1)) return "line kind " + std::to_string(k) + " seen " + std::to_string(seen[k]) + " times; ";
  const bool says_unknown = task.prompt().find(natural ? "together with one of the two rules" : "S and k under") != std::string::npos;
  if (says_unknown != unknown) return "the explanation sentence's rule clause; ";
  return "";
}

std::string compare_prompt(const pb::Task& task) {
  const Stated want = stored(task);
  const Stated got = parse_prompt(task.prompt(), task.causal_induction().format() == "natural");
  if (got.objects != want.objects) return "objects read back differ; ";
  if (got.trials != want.trials) return "trials read back differ; ";
  if (got.query != want.query) return "query read back differs; ";
  if (got.thresholds != want.thresholds) return "rule read back differs; ";
  if (auto why = strict_lines(task); !why.empty()) return why;
  const Count c = enumerate(got);  // the label from the read prompt alone
  if (label_of(c.on, c.off) != task.answer()) return "the read prompt's enumeration gives " + label_of(c.on, c.off) + "; ";
  return "";
}

// ---- the whole check of one task ----

std::string check_task(const pb::Task& task, uint64_t index) {
  const auto& inst = task.causal_induction();
  const Stated s = stored(task);
  std::string failure = compare_prompt(task);
  const Count c = enumerate(s);
  if (label_of(c.on, c.off) != task.answer()) failure += "enumeration gives " + label_of(c.on, c.off) + "; ";
  if (c.consistent != inst.consistent_hypotheses()) failure += "consistent count differs; ";
  if (task.meta().at("consistent_hypotheses") != std::to_string(c.consistent)) failure += "meta count differs; ";
  if (inst.hypothesis_space() != static_cast<long>(s.thresholds.size()) << s.objects.size()) failure += "space; ";
  // Z3 on every task; its model count where it is small enough to block one model at a time.
  const long cap = index % 16 == 0 ? 64 : 0;
  const auto [z3_answer, z3_count] = z3_label(s, cap);
  if (z3_answer != task.answer()) failure += "Z3 gives " + z3_answer + "; ";
  if (cap > 0 && c.consistent <= cap && z3_count != c.consistent) failure += "Z3 counts " + std::to_string(z3_count) + "; ";
  // The hidden explanation produced the outcomes; the query is a new combination.
  std::vector<bool> hidden(s.objects.size());
  for (int i : inst.hidden_blickets()) hidden[i] = true;
  const int hidden_k = inst.hidden_rule() == "disjunctive" ? 1 : 2;
  for (const auto& [placed, on] : s.trials) {
    if (turns_on(hidden, hidden_k, placed) != on) failure += "hidden explanation does not fit; ";
    if (placed == s.query) failure += "query repeats a trial; ";
  }
  if (task.label() != task.answer() || task.trace(task.trace_size() - 1).rule() != "conclusion") failure += "label/trace; ";
  return failure;
}

const std::vector<std::string> kLabels = {"on", "off", "undetermined"};

class CausalInductionLevels : public ::testing::TestWithParam<int> {};

TEST_P(CausalInductionLevels, GoldVerifiesWrongFailsBalancedAndCrossChecked) {
  verity::testing::check_family_properties("causal_induction", GetParam(), 2000, kLabels,
                                           [](const pb::Task& t) { return check_task(t, t.index()); });
}

TEST_P(CausalInductionLevels, SymbolicFormatToo) {
  std::map<std::string, int> counts;
  std::mutex mutex;
  verity::testing::check_every_task("causal_induction", GetParam(), {{"format", "symbolic"}}, 2000,
                                    [&](const pb::Task& task, uint64_t i) {
                                      std::string failure = check_task(task, i);
                                      if (score_completion(task, "<answer>" + task.answer() + "</answer>").reward() != 1.0)
                                        failure += "gold does not verify; ";
                                      std::lock_guard lock(mutex);
                                      ++counts[task.answer()];
                                      return failure;
                                    });
  for (const auto& label : kLabels) EXPECT_NEAR(counts[label] / 2000.0, 1.0 / 3, 0.05) << label;
}

INSTANTIATE_TEST_SUITE_P(AllLevels, CausalInductionLevels, ::testing::Range(1, 11));

// The classic ACRE reasoning, which assumes the disjunctive rule: objects of an off trial are not
// blickets; an on trial with one object left that could be a blicket makes it one (repeated to a
// fixpoint). The query is on with a known blicket, off with only known non-blickets, else undetermined.
std::string elimination_baseline(const Stated& s) {
  const int n = static_cast<int>(s.objects.size());
  std::vector<int> status(n, 0);  // 1 blicket, -1 not, 0 unknown
  for (const auto& [placed, on] : s.trials)
    if (!on)
      for (int i : placed) status[i] = -1;
  for (bool changed = true; changed;) {
    changed = false;
    for (const auto& [placed, on] : s.trials) {
      if (!on) continue;
      std::vector<int> open;
      for (int i : placed)
        if (status[i] != -1) open.push_back(i);
      if (open.size() == 1 && status[open[0]] == 0) status[open[0]] = 1, changed = true;
    }
  }
  bool all_not = true;
  for (int i : s.query) {
    if (status[i] == 1) return "on";
    all_not = all_not && status[i] == -1;
  }
  return all_not ? "off" : "undetermined";
}

// A solver with a fixed budget: it checks 24 random explanations (of the rules the prompt allows)
// against the trials and decides the query by those that fit ("undetermined" when none does). As the
// space of explanations grows, the fitting ones it finds become fewer and less representative.
std::string budget_baseline(const Stated& s, uint64_t seed) {
  Rng rng(seed);
  const int n = static_cast<int>(s.objects.size());
  long on = 0, off = 0;
  for (int draw = 0; draw < 24; ++draw) {
    std::vector<bool> blicket(n);
    for (int i = 0; i < n; ++i) blicket[i] = rng.chance(0.5);
    const int k = s.thresholds[rng.index(s.thresholds.size())];
    bool fits = true;
    for (const auto& [placed, was_on] : s.trials) fits = fits && turns_on(blicket, k, placed) == was_on;
    if (fits) ++(turns_on(blicket, k, s.query) ? on : off);
  }
  return on + off == 0 ? "undetermined" : label_of(on, off);
}

// The generator's fast decider (bitsets over blicket sets and their subset / superset closures)
// against the plain enumeration of blicket.h: the same fitting explanations in the same order and the
// same answer for every query, on 12,000 random instances from 1 to 16 objects (every query up to 10
// objects, 300 random ones above), under one rule, the other, or both; trials of any size (empty and
// full too), any outcome (so also none fitting, where both refuse to decide).
TEST(CausalInductionSolver, FastDeciderMatchesPlainEnumeration) {
  using namespace verity::blicket;
  Rng rng(20261201);
  Explanations fast;
  long decided = 0, with_none = 0;
  for (int round = 0; round < 12000; ++round) {
    const int objects = 1 + static_cast<int>(round % 16);
    const Mask all = (Mask{1} << objects) - 1;
    const int pick = static_cast<int>(rng.index(3));
    const std::vector<Rule> rules = pick == 0   ? std::vector<Rule>{Rule::Disjunctive}
                                    : pick == 1 ? std::vector<Rule>{Rule::Conjunctive}
                                                : std::vector<Rule>{Rule::Conjunctive, Rule::Disjunctive};
    // Outcomes by a hidden explanation (some fit), or at random (often none fits).
    const Hypothesis hidden{rules[rng.index(rules.size())], static_cast<Mask>(rng.next()) & all};
    const bool by_hidden = rng.chance(0.8);
    std::vector<Trial> trials(rng.index(9));
    for (Trial& t : trials) {
      t.objects = static_cast<Mask>(rng.next()) & all & (rng.chance(0.5) ? static_cast<Mask>(rng.next()) : all);
      t.on = by_hidden ? activates(hidden.rule, hidden.blickets, t.objects) : rng.chance(0.5);
    }
    const std::vector<Hypothesis> plain = consistent_hypotheses(objects, rules, trials);
    fast.reset(objects, rules, trials);
    const std::vector<Hypothesis> listed = fast.list();
    ASSERT_EQ(listed.size(), plain.size()) << "round " << round;
    for (size_t i = 0; i < plain.size(); ++i) {
      ASSERT_EQ(listed[i].rule, plain[i].rule) << "round " << round;
      ASSERT_EQ(listed[i].blickets, plain[i].blickets) << "round " << round;
    }
    if (plain.empty()) {
      ++with_none;
      EXPECT_THROW(fast.decide(1 & all), std::invalid_argument);
      continue;
    }
    const auto check = [&](Mask query) {
      ASSERT_EQ(fast.decide(query), decide(plain, query)) << "round " << round << " query " << query;
      ++decided;
    };
    if (objects <= 10)
      for (Mask query = 0; query <= all; ++query) check(query);
    else
      for (int q = 0; q < 300; ++q) check(static_cast<Mask>(rng.next()) & all);
  }
  EXPECT_GT(with_none, 500);
  EXPECT_GT(decided, 1000000);
}

TEST(CausalInduction, DifficultyRisesWithLevel) {
  const Generator& f = find_family("causal_induction").generator;
  std::vector<double> space, consistent, baseline;
  for (int level = 1; level <= 10; ++level) {
    const Knobs knobs = resolve_knobs(f, level, {});
    double log_space = 0, log_consistent = 0, right = 0, elimination = 0;
    const int n = 600;
    for (uint64_t i = 0; i < n; ++i) {
      const pb::Task task = make_task(f, knobs, level, 5, i);
      log_space += std::log2(static_cast<double>(task.causal_induction().hypothesis_space()));
      log_consistent += std::log2(static_cast<double>(task.causal_induction().consistent_hypotheses()));
      right += budget_baseline(stored(task), i) == task.answer();
      elimination += elimination_baseline(stored(task)) == task.answer();
    }
    space.push_back(log_space / n);
    consistent.push_back(log_consistent / n);
    baseline.push_back(right / n);
    std::cout << "level " << level << ": log2 space " << space.back() << ", log2 consistent " << consistent.back()
              << ", budget baseline " << baseline.back() << ", elimination baseline " << elimination / n << "\n";
  }
  for (int l = 1; l < 10; ++l) {
    // Levels 1 and 2 both have 5 objects (level 1 holds too few distinct questions with 4); level 2
    // adds the conjunctive rule.
    if (l == 1) EXPECT_EQ(space[0], space[1]);
    else EXPECT_LT(space[l - 1], space[l]) << "level " << l;
    EXPECT_LT(consistent[l - 1], consistent[l] + 0.25) << "level " << l;
    EXPECT_GT(baseline[l - 1] + 0.05, baseline[l]) << "level " << l;
  }
  EXPECT_GT(baseline[0], baseline[9] + 0.2);
  EXPECT_LT(consistent[0] + 2, consistent[9]);
}

TEST(CausalInduction, QuerySizeDoesNotGiveTheLabelAway) {
  const Generator& f = find_family("causal_induction").generator;
  for (int level : {1, 5, 10}) {
    std::map<std::string, std::map<int, int>> by_label;
    const Knobs knobs = resolve_knobs(f, level, {});
    for (uint64_t i = 0; i < 3000; ++i) {
      const pb::Task task = make_task(f, knobs, level, 8, i);
      ++by_label[task.answer()][task.causal_induction().query_size()];
    }
    for (const auto& [size, count] : by_label["on"])
      for (const auto& label : {"off", "undetermined"})
        EXPECT_NEAR(count, by_label[label][size], 0.25 * count + 40) << "level " << level << " size " << size;
  }
}

TEST(CausalInduction, SpellingsHedgesAndHostileInput) {
  const Generator& f = find_family("causal_induction").generator;
  const pb::Task task = make_task(f, resolve_knobs(f, 5, {}), 5, 1, 0);
  const std::string gold = task.answer();
  const std::string other = gold == "on" ? "off" : "on";
  EXPECT_EQ(score_completion(task, "Answer: " + gold).reward(), 1.0);
  EXPECT_EQ(score_completion(task, "<answer>**" + gold + ".**</answer>").reward(), 1.0);
  for (const std::string& text :
       {"<answer>not " + gold + "</answer>", "<answer>" + gold + " or " + other + "</answer>",
        "<answer>" + gold + "</answer><answer>" + other + "</answer>", std::string(70000, 'a'),
        std::string("<answer>\xff\xfe</answer>"), std::string("<answer></answer>"), std::string("<answer>maybe</answer>")}) {
    const pb::Score s = score_completion(task, text);
    EXPECT_EQ(s.reward(), 0.0) << text.substr(0, 80);
    EXPECT_FALSE(s.reason().empty());
  }
  for (const std::string& label : kLabels)
    EXPECT_EQ(score_completion(task, "<answer>" + label + "</answer>").reward(), label == gold ? 1.0 : 0.0);
}

TEST(CausalInduction, KnobsAreValidatedAndDeterministic) {
  const Generator& f = find_family("causal_induction").generator;
  EXPECT_THROW(resolve_knobs(f, 0, {{"objects", "2"}}), KnobError);
  EXPECT_THROW(resolve_knobs(f, 0, {{"rule", "sometimes"}}), KnobError);
  const Knobs crowded = resolve_knobs(f, 0, {{"objects", "3"}, {"trials", "20"}});
  EXPECT_THROW(make_task(f, crowded, 0, 1, 0), std::invalid_argument);
  // Too few objects and trials to ever settle "on" under an unknown rule: an error naming the fix.
  const Knobs tiny = resolve_knobs(f, 0, {{"objects", "3"}, {"trials", "2"}, {"rule", "unknown"}});
  bool thrown = false;
  for (uint64_t i = 0; i < 12 && !thrown; ++i) {
    try {
      make_task(f, tiny, 0, 1, i);
    } catch (const std::runtime_error& e) {
      thrown = std::string(e.what()).find("change objects or trials") != std::string::npos;
    }
  }
  EXPECT_TRUE(thrown);
  const Knobs knobs = resolve_knobs(f, 7, {});
  EXPECT_EQ(to_json_line(make_task(f, knobs, 7, 9, 42)), to_json_line(make_task(f, knobs, 7, 9, 42)));
  EXPECT_NE(make_task(f, knobs, 7, 9, 42).prompt(), make_task(f, knobs, 7, 9, 43).prompt());
}

TEST(CausalInduction, EveryKnobCornerGenerates) {
  const Generator& f = find_family("causal_induction").generator;
  for (const char* rule : {"disjunctive", "conjunctive", "either", "unknown"})
    for (const auto& [objects, trials] : std::vector<std::pair<int, int>>{{4, 3}, {5, 2}, {16, 1}, {16, 24}, {9, 12}})
      for (uint64_t i = 0; i < 30; ++i) {
        const Knobs knobs = resolve_knobs(f, 0, {{"objects", std::to_string(objects)}, {"trials", std::to_string(trials)},
                                                 {"rule", rule}});
        const pb::Task task = make_task(f, knobs, 0, 2, i);
        ASSERT_EQ(check_task(task, 1), "") << rule << " " << objects << " " << trials;
      }
}

// No label shows on the surface: the count of numbers, the query's size, the prompt's length and the
// objects listed in the trials tell each label from the other two no better than chance (chance_band),
// at every level and in both formats, 2,000 tasks each. The prompt's length told the label (0.60 at
// level 1) while the trials' sizes were drawn with the trials (the sizes that give the label more
// easily were kept more often) and an "off" trial was one character longer than an "on" one; the
// sizes are now drawn first, and both outcomes are written at one length. Measured, not asserted
// (evidence, not a generator artefact): how many trials turned the machine on (up to 0.81 for "off"
// at level 1: with every trial off nothing can be shown a blicket, so "on" is impossible, and with
// every trial on nothing can be shown not to be one, so "off" is). VERITY_SHOW_SHORTCUTS=1 prints them.
TEST(CausalInduction, SurfaceFeaturesAreNoShortcut) {
  using verity::testing::Shortcut;
  const std::vector<Shortcut> shortcuts = {
      {"numbers in the prompt", [](const pb::Task& t) {
         double n = 0;
         const std::string& p = t.prompt();
         for (size_t i = 0; i < p.size(); ++i) n += std::isdigit(static_cast<unsigned char>(p[i])) && (i == 0 || !std::isdigit(static_cast<unsigned char>(p[i - 1])));
         return n;
       }},
      {"query size", [](const pb::Task& t) { return static_cast<double>(t.causal_induction().query_size()); }},
      {"prompt length", [](const pb::Task& t) { return static_cast<double>(t.prompt().size()); }},
      {"objects in the trials", [](const pb::Task& t) {
         double n = 0;
         for (const auto& trial : t.causal_induction().trials()) n += trial.objects_size();
         return n;
       }}};
  for (int level = 1; level <= 10; ++level)
    for (const char* format : {"natural", "symbolic"}) {
      const auto tasks = verity::testing::sample_tasks("causal_induction", level, {{"format", format}}, 2000);
      for (const std::string label : {"on", "off", "undetermined"})
        verity::testing::expect_features_at_chance(tasks, [&](const pb::Task& t) { return t.answer() == label; }, shortcuts,
                                                   "level " + std::to_string(level) + " " + format + " " + label);
    }
}

// ---- distinct questions: the key up to renaming the objects and reordering the trials ----

// The test's own canonical form, by brute force: every permutation of the objects, each trial as its
// outcome and its sorted renamed objects, the trials sorted, the sorted query; the least rendering.
std::string ci_brute_key(const pb::Task& task) {
  const auto& inst = task.causal_induction();
  const int n = inst.objects_size();
  if (n > 7) return "";
  std::vector<int> perm(n);
  for (int i = 0; i < n; ++i) perm[i] = i;
  auto renamed = [&](const auto& objects) {
    std::vector<int> out;
    for (int o : objects) out.push_back(perm[o]);
    std::sort(out.begin(), out.end());
    std::string text;
    for (int o : out) text += std::to_string(o) + ",";
    return text;
  };
  std::string best;
  do {
    std::vector<std::string> trials;
    for (const auto& t : inst.trials()) trials.push_back(concat(t.on() ? "+" : "-", renamed(t.objects())));
    std::sort(trials.begin(), trials.end());
    std::string text = inst.rule() + "|" + std::to_string(n) + "|";
    for (const auto& t : trials) text += t + ";";
    text += "?" + renamed(inst.query());
    if (best.empty() || text < best) best = text;
  } while (std::next_permutation(perm.begin(), perm.end()));
  return best;
}

// The same question with the objects listed in another order (and renamed), the trials reordered and
// each trial's objects shuffled.
pb::Task ci_renamed(const pb::Task& task, Rng& rng) {
  pb::Task copy = task;
  auto* inst = copy.mutable_causal_induction();
  const int n = inst->objects_size();
  std::vector<int> perm(n);  // object i becomes object perm[i]
  for (int i = 0; i < n; ++i) perm[i] = i;
  rng.shuffle(perm);
  std::vector<std::string> names(n);
  for (int i = 0; i < n; ++i) names[perm[i]] = "object" + std::to_string(rng.index(1000)) + "_" + std::to_string(i);
  inst->clear_objects();
  for (const auto& name : names) inst->add_objects(name);
  std::vector<pb::CausalTrial> trials(inst->trials().begin(), inst->trials().end());
  for (auto& t : trials) {
    std::vector<int> objects;
    for (int o : t.objects()) objects.push_back(perm[o]);
    rng.shuffle(objects);
    t.clear_objects();
    for (int o : objects) t.add_objects(o);
  }
  rng.shuffle(trials);
  inst->clear_trials();
  for (const auto& t : trials) *inst->add_trials() = t;
  std::vector<int> query;
  for (int o : inst->query()) query.push_back(perm[o]);
  rng.shuffle(query);
  inst->clear_query();
  for (int o : query) inst->add_query(o);
  return copy;
}

// Near misses: one trial's outcome flipped; one object added to or taken from the query. Other
// questions, unless the copy happens to be isomorphic (the brute-force form decides).
std::vector<pb::Task> ci_near_misses(const pb::Task& task, Rng& rng) {
  pb::Task flipped = task, query = task;
  auto* t = flipped.mutable_causal_induction()->mutable_trials(static_cast<int>(rng.index(task.causal_induction().trials_size())));
  t->set_on(!t->on());
  auto* q = query.mutable_causal_induction();
  std::vector<int> members(q->query().begin(), q->query().end());
  const int object = static_cast<int>(rng.index(q->objects_size()));
  const auto at = std::find(members.begin(), members.end(), object);
  if (at == members.end()) members.push_back(object);
  else if (members.size() > 1) members.erase(at);
  q->clear_query();
  for (int o : members) q->add_query(o);
  return {flipped, query};
}

// question_key agrees with the brute-force canonical form on 2,000 tasks per level (levels 1-3, both
// notations), their renamed and reordered copies and near misses; renamed copies keep the key at
// every level; levels 1-2 hold 10,000 distinct questions (verity generate through the service).
TEST(CausalInductionQuestions, KeyIsTheCanonicalFormUpToNamesAndOrder) {
  verity::testing::expect_key_is_the_canonical_form("causal_induction", 3, ci_brute_key, ci_renamed, ci_near_misses);
}

// Up to 6 objects (levels 1-4) question_key is its own exact form (objects ranked by an invariant, every order of
// the ties tried), not the general canonical::Question. Random questions, not only generated ones:
// 3-6 objects, 1-6 trials of any objects (empty and repeated combinations too, objects in no trial,
// all-equal invariants), small enough that many are the same question under another naming. The keys
// must split them exactly as the brute-force form does, renamed copies keep the key, and an object
// number out of range still gets a key (the general form's).
TEST(CausalInductionQuestions, ExactKeySplitsRandomQuestionsAsBruteForce) {
  const Generator& f = find_family("causal_induction").generator;
  Rng rng(31);
  std::map<std::string, std::string> brute_to_key, key_to_brute;
  for (int i = 0; i < 6000; ++i) {
    pb::Task task;
    task.set_family("causal_induction");
    auto* inst = task.mutable_causal_induction();
    const int n = static_cast<int>(rng.uniform(3, 6));
    for (int o = 0; o < n; ++o) inst->add_objects(concat("o", std::to_string(o)));
    inst->set_rule(rng.chance(0.5) ? "disjunctive" : "unknown");
    const int trials = static_cast<int>(rng.uniform(1, i % 3 == 0 ? 6 : 2));
    for (int t = 0; t < trials; ++t) {
      auto* trial = inst->add_trials();
      for (int o = 0; o < n; ++o)
        if (rng.chance(0.4)) trial->add_objects(o);
      trial->set_on(rng.chance(0.5));
    }
    for (int o = 0; o < n; ++o)
      if (rng.chance(0.3)) inst->add_query(o);
    const std::string key = f.question_key(task), brute = ci_brute_key(task);
    ASSERT_EQ(key, f.question_key(ci_renamed(task, rng))) << task.DebugString();
    const auto [b, new_brute] = brute_to_key.emplace(brute, key);
    EXPECT_EQ(b->second, key) << "one question, two keys: " << task.DebugString();
    const auto [k, new_key] = key_to_brute.emplace(key, brute);
    EXPECT_EQ(k->second, brute) << "two questions, one key: " << task.DebugString();
  }
  EXPECT_GT(brute_to_key.size(), 1000u);
  EXPECT_LT(brute_to_key.size(), 5000u);  // many repeats: the split was put to the test
  pb::Task odd;
  odd.set_family("causal_induction");
  auto* inst = odd.mutable_causal_induction();
  for (int o = 0; o < 4; ++o) inst->add_objects(concat("o", std::to_string(o)));
  auto* trial = inst->add_trials();
  trial->add_objects(0);
  trial->add_objects(9);
  EXPECT_FALSE(f.question_key(odd).empty());
}

TEST(CausalInductionQuestions, LowLevelsHoldTenThousandDistinctQuestions) {
  verity::testing::expect_low_levels_hold_distinct_questions("causal_induction");
}

// Every candidate is generated in full before the dedupe sees its question, so a level whose
// questions repeat pays for each repeat. With 4 trials, 20,000 level-2 tasks took 41,600 candidates
// (the conjunctive questions ran out); levels 1 and 2 have 5 trials so that most candidates are new.
TEST(CausalInductionQuestions, LowLevelCandidatesRarelyRepeat) {
  const Generator& f = find_family("causal_induction").generator;
  const auto distinct_share = [&](int level, const KnobMap& overrides, uint64_t count) {
    const Knobs knobs = resolve_knobs(f, level, overrides);
    std::unordered_set<std::string> keys;
    for (uint64_t i = 0; i < count; ++i) keys.insert(f.question_key(make_task(f, knobs, level, 1, i)));
    return static_cast<double>(keys.size()) / static_cast<double>(count);
  };
  for (int level : {1, 2}) {
    const double share = distinct_share(level, {}, 20000);
    std::cout << "level " << level << ": " << share << " of 20,000 candidates are distinct questions\n";
    EXPECT_GT(share, 0.8) << "level " << level;
  }
  // The test would catch the old ladder: with 4 trials level 2's candidates repeat far more.
  const double four_trials = distinct_share(2, {{"trials", "4"}}, 20000);
  std::cout << "level 2 with 4 trials: " << four_trials << "\n";
  EXPECT_LT(four_trials, 0.75);
}

// Level 1 with 4 trials (one fewer than its own 5) keeps about 31,000 questions with balanced labels
// ("off" runs out first). Asked for 60,000, generation stops as soon as new questions come too slowly
// to finish (the error says so), not after a whole window without any, which took 40 CPU-s of an ever
// slower tail; the -n it suggests fits.
TEST(CausalInductionQuestions, TooLargeRequestStopsOnTheRateAndSuggestsWhatFits) {
  const auto dir = verity::testing::fresh_temp_dir("verity_exhaustion", "causal_induction");
  GenerateRequest r;
  r.family = "causal_induction";
  r.level = 1;
  r.knobs = {{"trials", "4"}};
  r.seed = 11;
  r.count = 60000;
  r.threads = 2;
  r.output = (dir / "level1.jsonl").string();
  try {
    generate_dataset(r);
    ADD_FAILURE() << "60,000 balanced level-1 questions do not exist";
  } catch (const std::invalid_argument& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find("cannot keep its labels balanced: label 'off'"), std::string::npos) << message;
    EXPECT_NE(message.find("more may exist, but only "), std::string::npos) << message;
    const size_t at = message.find("lower -n to at most ");
    ASSERT_NE(at, std::string::npos) << message;
    r.count = std::stoull(message.substr(at + 20));
  }
  EXPECT_GT(r.count, 15000u);
  EXPECT_LT(r.count, 40000u);
  generate_dataset(r);
  EXPECT_EQ(read_tasks(r.output).size(), r.count);
}

}  // namespace
