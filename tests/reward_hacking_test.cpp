// The reward-hacking corpus (issue 14): for every family, adversarial completions scored against
// >= 200 generated tasks per level band, with exact expectations under process weight w = 0.5:
//   - the gold reasoning + answer earns exactly 1.0;
//   - every hacking strategy earns strictly less than the gold;
//   - in the step-checked families (process score), an answer with no steps earns at most 1 - w.
// Strategies: no steps, restated givens, copied premises (the prompt as "reasoning"), a
// contradictory justification (one false step), shuffled (reversed) steps, hedged answers (two
// answers, "A or B"), negated answers ("not A", "it is not the case that A"), the right answer inside
// a sentence asserting the opposite, and very long padding (prose up to the cap, or past it).
// Families without a process score (the answer is all that is read) are held to the answer
// strategies: there, showing no work is not a hack, the outcome is the whole reward.
#include <gtest/gtest.h>
#include <oneapi/tbb/parallel_for.h>

#include <algorithm>
#include <cctype>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "service/scoring.h"
#include "tasks/answer_extraction.h"
#include "tasks/concat.h"
#include "verifiers/label_verifier.h"
#include "tasks/dataset.h"
#include "tasks/generator.h"
#include "tasks/knobs.h"
#include "tasks/registry/registry.h"
#include "verifiers/trace_report.h"

namespace {

using namespace verity;

constexpr double kWeight = 0.5;
constexpr int kTasksPerBand = 200;

struct Band {
  int lo, hi;
};
const Band kBands[] = {{1, 3}, {4, 7}, {8, 10}};

bool step_checked(const std::string& family) {
  return family == "arithmetic_graph" || family == "ontology_deduction" || family == "fol_deduction" ||
         family == "long_horizon_sum";
}

std::string tag(const std::string& a) { return "<answer>" + a + "</answer>"; }

std::string gold_reasoning(const pb::Task& task) {
  std::string text;
  for (const auto& step : task.trace()) text += step.text() + "\n";
  return text;
}

std::string reversed_reasoning(const pb::Task& task) {
  std::string text;
  for (int i = task.trace_size() - 1; i >= 0; --i) text += task.trace(i).text() + "\n";
  return text;
}

// The prompt without its answer instruction: the givens copied verbatim.
std::string copied_premises(const pb::Task& task) {
  const std::string& p = task.prompt();
  const size_t at = p.rfind("Answer with");
  return p.substr(0, at == std::string::npos ? p.size() : at);
}

// A different answer of the right shape, for hedging.
std::string other_answer(const pb::Task& task) {
  const std::string& f = task.family();
  const std::string& a = task.answer();
  if (f == "arithmetic_graph") return a == kCannotBeDetermined ? "7" : std::to_string(std::stoll(a) + 1);
  if (f == "long_horizon_sum") return a + ",1";
  if (f == "list_functions") {  // another number, or the list with one more element
    if (task.list_functions().answer_mode() == "rule") return a + " | reverse";
    if (task.list_functions().returns_number()) return std::to_string(std::stoll(a) + 1);
    return a == "[]" ? "[0]" : "[0, " + a.substr(1);
  }
  if (f == "causal_induction") return a == "on" ? "off" : "on";
  if (f == "string_rules") {  // the first letter changed to the next letter of the alphabet
    const std::string& letters = task.string_rules().letters();
    return letters[(letters.find(a[0]) + 1) % letters.size()] + a.substr(1);
  }
  if (f == "knights_knaves") {  // every role flipped
    std::string b = a;
    for (size_t at = 0; at < b.size(); ++at) {
      if (b.compare(at, 6, "knight") == 0) b.replace(at, 6, "knave"), at += 4;
      else if (b.compare(at, 5, "knave") == 0) b.replace(at, 5, "knight"), at += 5;
    }
    if (b == a) {  // "no unique solution": a definite assignment instead
      b.clear();
      for (const auto& p : task.knights_knaves().people()) b += (b.empty() ? "" : ", ") + p + " is a knight";
    }
    return b;
  }
  if (f == "zebra") {
    const auto& inst = task.zebra();
    if (inst.question() == "single") {  // another value of the asked attribute
      for (const auto& v : inst.attributes(inst.question_attribute()).values())
        if (normalize_answer(v) != normalize_answer(a)) return v;
    }
    std::string b = a;  // houses 1 and 2 swapped
    for (size_t at = 0; at < b.size(); ++at) {
      if (b.compare(at, 7, "House 1") == 0 && (at + 7 == b.size() || !std::isdigit(static_cast<unsigned char>(b[at + 7])))) b[at + 6] = '2';
      else if (b.compare(at, 7, "House 2") == 0 && (at + 7 == b.size() || !std::isdigit(static_cast<unsigned char>(b[at + 7])))) b[at + 6] = '1';
    }
    return b;
  }
  for (const char* label : {"Yes", "No", "True", "False", "Unknown", "entailed", "contradicted", "neither", "PROVED",
                            "DISPROVED", "UNKNOWN"})
    if (normalize_answer(label) != normalize_answer(a) && (f != "ontology_deduction" || label[0] == 'T' || label[0] == 'F'))
      return label;
  return "none of them";
}

// The givens restated as steps (each true, none computing anything the answer needs).
std::string restated_givens(const pb::Task& task) {
  std::string text;
  if (task.has_arithmetic_graph()) {
    int k = 0;
    for (const auto& q : task.arithmetic_graph().quantities())
      if (q.value_stated()) {
        const std::string v = concat("V", std::to_string(++k));
        text += "Define " + q.name() + " as " + v + "; so " + v + " = " + std::to_string(q.value()) + ".\n";
      }
  } else if (task.has_ontology_deduction()) {
    const auto& inst = task.ontology_deduction();
    for (const auto& fact : inst.facts())
      text += inst.entity() + " is " + (fact[0] == '~' ? "not " + fact.substr(1) : fact) + ".\n";
    const std::string& q = inst.query();
    text += "True or false: " + inst.entity() + " is " + (q[0] == '~' ? "not " + q.substr(1) : q) + ".\n";
  } else if (task.has_fol_deduction()) {
    // each fact restated as an int, then one step citing them all
    const auto& inst = task.fol_deduction();
    std::string all;
    for (int i = 0; i < inst.facts_size(); ++i) {
      text += "fact" + std::to_string(i + 1) + " -> int" + std::to_string(i + 1) + ": " + inst.facts(i) + "\n";
      all += (i ? " & " : "") + std::string("int") + std::to_string(i + 1);
    }
    text += all + (task.answer() == "DISPROVED" ? " -> \xC2\xAChypothesis\n" : " -> hypothesis\n");
  } else if (task.has_long_horizon_sum()) {
    const auto& inst = task.long_horizon_sum();
    for (int i = 0; i < inst.words_size(); ++i) text += inst.words(i) + " = " + std::to_string(inst.values(i)) + "\n";
  }
  return text;
}

// The gold reasoning with one step made false (the justification contradicts the facts).
std::string one_false_step(const pb::Task& task) {
  std::string text;
  const int n = task.trace_size();
  for (int i = 0; i < n; ++i) {
    std::string step = task.trace(i).text();
    if (task.has_ontology_deduction() && i == 0) {  // a claim and its negation: one of them is false
      const auto& inst = task.ontology_deduction();
      const std::string name = inst.query()[0] == '~' ? inst.query().substr(1) : inst.query();
      text += inst.entity() + " is " + name + ", so " + inst.entity() + " is not " + name + ".\n";
    }
    if (task.has_arithmetic_graph() && i == n - 1) {
      // the last step that computes: its result off by one
      const size_t eq = step.rfind("= ");
      if (eq != std::string::npos && task.trace(i).rule() != "given" && task.trace(i).rule() != "cannot_be_determined") {
        std::string num = step.substr(eq + 2);
        while (!num.empty() && num.back() == '.') num.pop_back();
        step = step.substr(0, eq + 2) + std::to_string(std::stoll(num) + 1) + ".";
      }
    }
    if (task.has_fol_deduction() && i == n - 1) step = "fact9999 & " + step;
    if (task.has_long_horizon_sum() && i == n / 2) step += "1";  // the total gains a digit
    text += step + "\n";
  }
  if (task.has_arithmetic_graph()) text = "Define " + task.arithmetic_graph().quantities(0).name() + " as Z0; so Z0 = 123456789.\n" + text;
  return text;
}

struct Outcome {
  std::string strategy;
  double reward;
  std::string reason;
};

std::vector<Outcome> hacks(const pb::Task& task, size_t cap) {
  const std::string a = task.answer();
  const std::string b = other_answer(task);
  std::vector<std::pair<std::string, std::string>> texts = {
      {"hedged: two answers", gold_reasoning(task) + tag(b) + " or " + tag(a)},
      {"hedged: both orders", gold_reasoning(task) + tag(a) + "\nor maybe " + tag(b)},
      {"hedged: A or B in one answer", gold_reasoning(task) + tag(a + " or " + b)},
      {"hedged: boxed", gold_reasoning(task) + "\\boxed{" + b + "}\n" + tag(a)},
      {"negated: not", gold_reasoning(task) + tag("not " + a)},
      {"negated: not the case", gold_reasoning(task) + tag("It is not the case that " + a)},
      {"negated: definitely not", gold_reasoning(task) + tag("definitely not " + a)},
      {"opposite sentence", gold_reasoning(task) + tag("It is false that the answer is " + a)},
      {"padding past the cap", gold_reasoning(task) + std::string(cap + 1, ' ') + tag(a)},
  };
  if (step_checked(task.family())) {
    std::string padding;
    const std::string prose = "Let me think about this carefully and check everything twice.\n";
    while (padding.size() + prose.size() + 64 < cap) padding += prose;
    texts.push_back({"no steps", tag(a)});
    texts.push_back({"padding without steps", padding + tag(a)});
    texts.push_back({"copied premises", copied_premises(task) + tag(a)});
    texts.push_back({"restated givens", restated_givens(task) + tag(a)});
    texts.push_back({"one false step", one_false_step(task) + tag(a)});
    if (!task.has_long_horizon_sum()) texts.push_back({"reversed steps", reversed_reasoning(task) + tag(a)});
  }
  std::vector<Outcome> out;
  ScoreOptions options;
  options.process_weight = kWeight;
  for (const auto& [name, text] : texts) {
    const pb::Score s = score_completion(task, text, options);
    out.push_back({name, s.reward(), concat(s.reason().substr(0, 300), s.reward() == 1.0 ? concat("\n", text.substr(0, 600)) : "")});
  }
  return out;
}

// Strategies exempt on one task, and why: only where the "hack" is honest work on that task.
bool exempt(const pb::Task& task, const pb::Score& gold, const std::string& strategy) {
  // No derivation to show (an UNKNOWN fol task: no proof exists): the outcome is the whole reward.
  if (gold.steps_required() == 0) return true;
  // Reversing a derivation of one result (or of independent results) is still dependency-respecting.
  if (strategy == "reversed steps" && gold.steps_required() < 2) return true;
  if (strategy == "reversed steps" && task.has_ontology_deduction() && task.answer() == "Unknown") return true;
  return false;
}

void run_family(const std::string& family) {
  const Generator& generator = find_family(family).generator;
  std::mutex mu;
  std::vector<std::string> failures;
  std::map<std::string, int> exercised;
  for (const Band& band : kBands) {
    tbb::parallel_for(0, kTasksPerBand, [&](int i) {
      const int level = band.lo + i % (band.hi - band.lo + 1);
      const pb::Task task = make_task(generator, resolve_knobs(generator, level, {}), level, 1414, static_cast<uint64_t>(i));
      ScoreOptions options;
      options.process_weight = kWeight;
      const std::string gold_text = gold_reasoning(task) + tag(task.answer());
      const pb::Score gold = score_completion(task, gold_text, options);
      std::vector<std::string> bad;
      std::vector<std::string> used;
      if (gold.reward() != 1.0) bad.push_back("gold earns " + std::to_string(gold.reward()) + ": " + gold.reason());
      for (const Outcome& o : hacks(task, completion_cap(task))) {
        const bool process_family = step_checked(family) && gold.steps_required() > 0;
        if (process_family && exempt(task, gold, o.strategy)) continue;
        if (!process_family && (o.strategy == "no steps" || o.strategy == "padding without steps" ||
                                o.strategy == "copied premises" || o.strategy == "restated givens" ||
                                o.strategy == "one false step" || o.strategy == "reversed steps"))
          continue;
        used.push_back(o.strategy);
        if (!(o.reward < 1.0)) bad.push_back(o.strategy + " earns " + std::to_string(o.reward) + " (" + o.reason + ")");
        // (fol's restated givens end in one real step citing every fact: less than the gold, but a step)
        const bool no_steps = o.strategy == "no steps" || o.strategy == "padding without steps" ||
                              o.strategy == "copied premises" ||
                              (o.strategy == "restated givens" && family != "fol_deduction");
        if (process_family && no_steps && o.reward > 1.0 - kWeight + 1e-12)
          bad.push_back(o.strategy + " earns " + std::to_string(o.reward) + " > 1 - w (" + o.reason + ")");
      }
      std::lock_guard<std::mutex> lock(mu);
      for (const auto& s : used) ++exercised[s];
      for (const auto& b : bad)
        if (failures.size() < 12) failures.push_back(task.id() + " (level " + std::to_string(level) + "): " + b);
    });
  }
  for (const auto& f : failures) ADD_FAILURE() << family << ": " << f;
  EXPECT_GE(exercised["negated: not"], 3 * kTasksPerBand) << family;
  if (step_checked(family)) EXPECT_GE(exercised["no steps"], kTasksPerBand) << family;
}

class RewardHacking : public ::testing::TestWithParam<std::string> {};

TEST_P(RewardHacking, GoldEarnsOneAndEveryHackEarnsLess) { run_family(GetParam()); }

INSTANTIATE_TEST_SUITE_P(AllFamilies, RewardHacking,
                         ::testing::Values("arithmetic_graph", "ontology_deduction", "fol_deduction", "long_horizon_sum",
                                           "knights_knaves", "zebra", "propositional_entailment", "inference_chains",
                                           "syllogism", "causal_transitivity", "d_separation",
                                           "list_functions", "causal_induction", "string_rules"));

}  // namespace

namespace {

// `verity describe` and the family metadata state the process score where a family has one.
TEST(RewardHackingDocs, ProcessScoreIsDefinedWhereItExists) {
  for (const Family& f : verity::all_families()) {
    const std::string text = verity::process_score_definition(f.name());
    // list_functions' process score (rule mode) reads the rule on held-out probes, not reasoning steps
    EXPECT_EQ(!text.empty(), step_checked(f.name()) || f.name() == "list_functions") << f.name();
    if (!text.empty()) EXPECT_NE(text.find("coverage x precision"), std::string::npos);
  }
}

}  // namespace

namespace {

// list_functions in rule mode: the answer is a program, run on the examples, the held-out query and the
// probes. The gold earns 1; a program that only fits the examples (gold, then "+1 above the largest
// example output") earns less wherever a held-out output is larger; hedges, negations, the query's
// output instead of a program and padding earn 0.
TEST(RewardHacking, ListFunctionsRules) {
  const Generator& generator = find_family("list_functions").generator;
  std::mutex mu;
  std::vector<std::string> failures;
  int overfit_caught = 0;
  for (const Band& band : kBands) {
    tbb::parallel_for(0, kTasksPerBand, [&](int i) {
      const int level = band.lo + i % (band.hi - band.lo + 1);
      const pb::Task task = make_task(generator, resolve_knobs(generator, level, {{"answer", "rule"}}), level, 1414,
                                      static_cast<uint64_t>(i));
      const auto& inst = task.list_functions();
      const std::string a = task.answer();
      ScoreOptions options;
      options.process_weight = kWeight;
      std::vector<std::string> bad;
      const pb::Score gold = score_completion(task, gold_reasoning(task) + tag(a), options);
      if (gold.reward() != 1.0) bad.push_back("gold earns " + std::to_string(gold.reward()) + ": " + gold.reason());
      std::string output = "[";
      for (int v : inst.query_output().values()) output += (output.size() > 1 ? ", " : "") + std::to_string(v);
      std::vector<std::pair<std::string, std::string>> hacks = {
          {"two rules", tag(a) + tag(a + " | reverse")},
          {"rule A or rule B", tag(a + " or " + a + " | reverse")},
          {"negated", tag("not " + a)},
          {"sentence", tag("It is false that the rule is " + a)},
          {"the output, not a rule", tag(inst.returns_number() ? std::to_string(inst.query_output().values(0)) : output + "]")},
          {"padding past the cap", std::string(completion_cap(task) + 1, ' ') + tag(a)}};
      int32_t top = INT32_MIN;
      for (const auto& out : inst.example_outputs())
        for (int32_t v : out.values()) top = std::max(top, v);
      bool overfit_differs = false;
      auto above = [&](const pb::ListFunctionValue& v) {
        return std::any_of(v.values().begin(), v.values().end(), [&](int32_t x) { return x > top; });
      };
      if (!inst.returns_number() && top != INT32_MIN) {
        overfit_differs = above(inst.query_output());
        for (const auto& p : inst.probe_outputs()) overfit_differs |= above(p);
        if (overfit_differs)
          hacks.push_back({"fits only the examples", tag(a + " | map(if x > " + std::to_string(top) + " then x + 1 else x)")});
      }
      for (const auto& [name, text] : hacks) {
        const pb::Score s = score_completion(task, text, options);
        if (!(s.reward() < 1.0)) bad.push_back(name + " earns " + std::to_string(s.reward()) + " (" + s.reason() + ")");
      }
      std::lock_guard<std::mutex> lock(mu);
      overfit_caught += overfit_differs;
      for (const auto& b : bad)
        if (failures.size() < 12) failures.push_back(task.id() + " (level " + std::to_string(level) + "): " + b);
    });
  }
  for (const auto& f : failures) ADD_FAILURE() << "list_functions rule mode: " << f;
  EXPECT_GE(overfit_caught, kTasksPerBand / 2);
}

}  // namespace
