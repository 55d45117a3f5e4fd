#include <gtest/gtest.h>
#include <oneapi/tbb/parallel_for.h>

#include <map>
#include <mutex>
#include <regex>
#include <set>
#include <sstream>

#include "family_properties.h"
#include "tasks/answer_extraction.h"
#include "verifiers/label_verifier.h"

namespace {

using namespace verity;

// Independent gold: look every key up in the stored dictionary and add, turn by turn.
std::vector<long> recompute(const pb::LongHorizonSumInstance& inst) {
  std::map<std::string, long> dict;
  for (int i = 0; i < inst.words_size(); ++i) dict[inst.words(i)] = inst.values(i);
  std::vector<long> sums;
  long total = 0;
  for (int i = 0; i < inst.keys_size(); ++i) {
    total += dict.at(inst.keys(i));
    if ((i + 1) % inst.keys_per_turn() == 0) sums.push_back(total);
  }
  return sums;
}

std::string join(const std::vector<long>& v, const std::string& sep = ",") {
  std::string out;
  for (size_t i = 0; i < v.size(); ++i) out += (i ? sep : "") + std::to_string(v[i]);
  return out;
}

std::string cross_check(const pb::Task& task, uint64_t salt) {
  const auto& inst = task.long_horizon_sum();
  const long horizon = std::stol(task.knobs().at("horizon"));
  const std::vector<long> sums = recompute(inst);
  if (static_cast<long>(sums.size()) != horizon || inst.keys_size() != horizon * inst.keys_per_turn())
    return "stream has the wrong length";
  if (join(sums) != task.answer()) return "independent sums differ from the gold answer";
  if (task.trace_size() != horizon) return "one trace step per turn expected";
  if (task.trace(task.trace_size() - 1).text().find("= " + std::to_string(sums.back())) == std::string::npos)
    return "last trace step does not reach the final sum";
  std::set<std::string> words(inst.words().begin(), inst.words().end());
  if (static_cast<int>(words.size()) != inst.words_size()) return "dictionary words repeat";
  for (const std::string& form : {"<answer>" + task.answer() + "</answer>", "Work...\nAnswer: " + join(sums, ", "),
                                  "\\boxed{" + join(sums, " ") + "}"}) {
    const auto s = score_completion(task, form);
    if (s.reward() != 1.0 || !s.correct() || s.steps_checked() != 0 || s.steps_required() != horizon ||
        s.reason().find(std::to_string(horizon) + "/" + std::to_string(horizon) + " running totals right") == std::string::npos)
      return "gold scored " + s.reason();
  }
  // One wrong total at turn t: reward 0, every other step still counted right, t named.
  const size_t t = salt % sums.size();
  std::vector<long> wrong = sums;
  wrong[t] += 1 + static_cast<long>(salt % 3);
  auto s = score_completion(task, "<answer>" + join(wrong) + "</answer>");
  if (s.reward() != 0.0 ||
      s.reason().find(std::to_string(horizon - 1) + "/" + std::to_string(horizon) + " running totals right") == std::string::npos ||
      s.reason().find("first wrong step " + std::to_string(t + 1) + " ") == std::string::npos)
    return "one wrong step scored " + s.reason();
  // Shifting every total from turn t on keeps all later increments right: only turn t's is wrong.
  std::vector<long> shifted = sums;
  for (size_t k = t; k < shifted.size(); ++k) shifted[k] += 3;
  s = score_completion(task, "<answer>" + join(shifted) + "</answer>");
  if (s.reason().find(std::to_string(t) + "/" + std::to_string(horizon) + " running totals right") == std::string::npos ||
      s.reason().find(std::to_string(horizon - 1) + "/" + std::to_string(horizon) + " increments right") == std::string::npos)
    return "shifted totals scored " + s.reason();
  std::vector<long> longer = sums;
  longer.push_back(0);
  if (score_completion(task, "<answer>" + join(longer) + "</answer>").reward() != 0.0) return "an extra value scored";
  std::vector<long> shorter(sums.begin(), sums.end() - 1);
  if (!shorter.empty() && score_completion(task, "<answer>" + join(shorter) + "</answer>").reward() != 0.0)
    return "a missing value scored";
  if (score_completion(task, "I am not sure.").reward() != 0.0) return "no-answer text scored";
  return "";
}

void check_properties(int level, const KnobMap& overrides, uint64_t count) {
  verity::testing::check_every_task("long_horizon_sum", level, overrides, count, cross_check);
}

class LongHorizonSumLevels : public ::testing::TestWithParam<int> {};

// The top levels are thousands of keys per task: fewer seeds there keep the suite fast.
TEST_P(LongHorizonSumLevels, GoldVerifiesWrongStepNamedCrossChecked) {
  check_properties(GetParam(), {}, GetParam() <= 8 ? 2000 : 300);
}

INSTANTIATE_TEST_SUITE_P(AllLevels, LongHorizonSumLevels, ::testing::Range(1, 11));

TEST(LongHorizonSum, DifficultyRisesWithLevel) {
  const Generator& f = find_family("long_horizon_sum").generator;
  long previous = 0;
  for (int level = 1; level <= 10; ++level) {
    const auto task = make_task(f, resolve_knobs(f, level, {}), level, 1, 0);
    const long keys = task.long_horizon_sum().keys_size();
    EXPECT_GT(keys, previous) << "level " << level;
    previous = keys;
  }
  EXPECT_GE(previous, 1000);
}

TEST(LongHorizonSum, PrefixCreditIsTheCorrectPrefixFraction) {
  const Generator& f = find_family("long_horizon_sum").generator;
  const Knobs knobs = resolve_knobs(f, 0, {{"horizon", "20"}, {"partial_credit", "prefix"}});
  for (uint64_t i = 0; i < 100; ++i) {
    const auto task = make_task(f, knobs, 0, 2, i);
    const std::vector<long> sums = recompute(task.long_horizon_sum());
    std::vector<long> wrong = sums;
    const size_t t = i % sums.size();
    wrong[t] += 5;
    const auto s = score_completion(task, "<answer>" + join(wrong) + "</answer>");
    EXPECT_DOUBLE_EQ(s.reward(), static_cast<double>(t) / sums.size());
    EXPECT_FALSE(s.correct());
    EXPECT_EQ(score_completion(task, "<answer>" + task.answer() + "</answer>").reward(), 1.0);
  }
}

TEST(LongHorizonSum, TooLongAnswersAreAClearKnobError) {
  const Generator& f = find_family("long_horizon_sum").generator;
  const Knobs knobs = resolve_knobs(f, 0, {{"horizon", "2000"}, {"keys_per_turn", "16"}, {"value_max", "99"}});
  EXPECT_THROW(make_task(f, knobs, 0, 1, 0), KnobError);
  EXPECT_NO_THROW(make_task(f, resolve_knobs(f, 0, {{"horizon", "2000"}, {"keys_per_turn", "16"}}), 0, 1, 0));
}

TEST(LongHorizonSum, JunkNeverThrowsAndScoresZero) {
  const Generator& f = find_family("long_horizon_sum").generator;
  const auto task = make_task(f, resolve_knobs(f, 4, {}), 4, 1, 0);
  Rng rng(7);
  std::vector<std::string> junk = {"", "<answer></answer>", "<answer>,,,,</answer>",
                                   "<answer>99999999999999999999999999999999</answer>",
                                   "<answer>" + std::string(16 * 1024 - 1, '9') + "</answer>",
                                   std::string(64 * 1024, ','), std::string(64 * 1024 + 1, '1'),
                                   "<answer>" + std::string(15000, '-') + "</answer>"};
  for (int k = 0; k < 300; ++k) {
    std::string bytes(rng.uniform(0, 4096), '\0');
    for (auto& c : bytes) c = static_cast<char>(rng.uniform(0, 255));
    junk.push_back(bytes);
    junk.push_back("<answer>" + bytes + "</answer>");
  }
  for (const auto& text : junk) {
    pb::Score s;
    ASSERT_NO_THROW(s = score_completion(task, text));
    EXPECT_EQ(s.reward(), 0.0);
    EXPECT_LE(s.steps_valid(), s.steps_checked());
  }
}

}  // namespace

// Issue 14: the reasoning's running totals are read (per-turn accuracy), and the gold trace always
// fits the completion cap.
namespace {

TEST(LongHorizonSumProcess, ReasoningTotalsAreRead) {
  using namespace verity;
  const Generator& f = find_family("long_horizon_sum").generator;
  ScoreOptions half;
  half.process_weight = 0.5;
  for (uint64_t i = 0; i < 20; ++i) {
    const pb::Task task = make_task(f, resolve_knobs(f, 6, {}), 6, 14, i);
    std::string trace;
    for (const auto& s : task.trace()) trace += s.text() + "\n";
    const std::string answer = "<answer>" + task.answer() + "</answer>";
    const pb::Score gold = score_completion(task, trace + answer, half);
    EXPECT_EQ(gold.reward(), 1.0) << gold.reason();
    EXPECT_EQ(gold.steps_covered(), task.trace_size());
    EXPECT_DOUBLE_EQ(score_completion(task, answer, half).reward(), 0.5);  // no reasoning
    // a false running total in the reasoning costs process credit
    std::string wrong;
    for (int t = 0; t < task.trace_size(); ++t) wrong += task.trace(t).text() + (t == task.trace_size() / 2 ? "7\n" : "\n");
    const pb::Score s = score_completion(task, wrong + answer, half);
    EXPECT_LT(s.reward(), 1.0) << s.reason();
    EXPECT_GT(s.reward(), 0.5) << s.reason();
    EXPECT_EQ(s.steps_valid() + 1, s.steps_checked());
  }
}

TEST(LongHorizonSumProcess, Level10GoldWithItsTraceFitsTheCap) {
  using namespace verity;
  const Generator& f = find_family("long_horizon_sum").generator;
  for (uint64_t i = 0; i < 3; ++i) {
    const pb::Task task = make_task(f, resolve_knobs(f, 10, {}), 10, 14, i);
    std::string trace;
    for (const auto& s : task.trace()) trace += s.text() + "\n";
    const std::string text = trace + "<answer>" + task.answer() + "</answer>";
    EXPECT_GT(text.size(), kMaxCompletionBytes);
    const pb::Score s = score_completion(task, text);
    EXPECT_EQ(s.reward(), 1.0) << s.reason();
    EXPECT_EQ(s.steps_valid(), task.trace_size());
    EXPECT_LE(text.size() * 4, completion_cap(task) + 4096);
    EXPECT_EQ(score_completion(task, text + std::string(completion_cap(task), ' ')).reward(), 0.0);
  }
}

// ---- round trip: the prompt read back by a parser written for the test ----

// The dictionary and the turns as the prompt states them, line by line; "" on success. Every line has
// one reading: "word: integer" (a lower-case word), "Turn t: w1, w2, ..." (turns numbered 1, 2, ...),
// and the fixed sentences around them.
std::string read_prompt(const std::string& prompt, std::map<std::string, long>& dict, std::vector<std::vector<std::string>>& turns) {
  std::vector<std::string> lines;
  std::istringstream in(prompt);
  for (std::string l; std::getline(in, l);) lines.push_back(l);
  size_t k = 0;
  if (lines.empty() || lines[k++] != "Here is a dictionary that maps words to integers:") return "header";
  auto lower_word = [](const std::string& w) {
    return !w.empty() && std::all_of(w.begin(), w.end(), [](char c) { return c >= 'a' && c <= 'z'; });
  };
  for (; k < lines.size(); ++k) {
    const size_t colon = lines[k].find(": ");
    if (colon == std::string::npos || !lower_word(lines[k].substr(0, colon))) break;
    const std::string number = lines[k].substr(colon + 2);
    const size_t sign = !number.empty() && number[0] == '-';
    if (number.size() <= sign || !std::all_of(number.begin() + static_cast<long>(sign), number.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)); }))
      return "dictionary line: " + lines[k];
    if (!dict.emplace(lines[k].substr(0, colon), std::stol(number)).second) return "a word defined twice";
  }
  static const std::regex kRule(R"(A running total starts at 0\. In each of the (\d+) turns below you get (\d+) (word; add its value|words; add their values) to the running total\. Report the running total after every turn\.)");
  std::smatch m;
  if (k == lines.size() || !std::regex_match(lines[k], m, kRule)) return "rule sentence";
  const long horizon = std::stol(m[1]), per_turn = std::stol(m[2]);
  if ((per_turn == 1) != (m[3].str()[4] == ';')) return "word / words";
  for (++k; k < lines.size() && lines[k].rfind("Turn ", 0) == 0; ++k) {
    const std::string head = "Turn " + std::to_string(turns.size() + 1) + ": ";
    if (lines[k].rfind(head, 0) != 0) return "turn number: " + lines[k];
    std::vector<std::string> keys;
    std::istringstream list(lines[k].substr(head.size()));
    for (std::string key; std::getline(list, key, ',');) {
      if (!keys.empty()) {
        if (key.empty() || key[0] != ' ') return "turn list: " + lines[k];
        key = key.substr(1);
      }
      if (!dict.count(key)) return "a key not in the dictionary: " + key;
      keys.push_back(key);
    }
    if (static_cast<long>(keys.size()) != per_turn) return "keys in turn " + std::to_string(turns.size() + 1);
    turns.push_back(keys);
  }
  if (static_cast<long>(turns.size()) != horizon) return "turns read: " + std::to_string(turns.size());
  if (k + 1 != lines.size() || lines[k].rfind("Answer with the " + std::to_string(horizon) + " running totals", 0) != 0)
    return "instruction";
  return "";
}

std::string round_trip(const pb::Task& task) {
  std::map<std::string, long> dict;
  std::vector<std::vector<std::string>> turns;
  if (auto why = read_prompt(task.prompt(), dict, turns); !why.empty()) return why;
  const auto& inst = task.long_horizon_sum();
  if (static_cast<int>(dict.size()) != inst.words_size()) return "dictionary size read differs";
  for (int i = 0; i < inst.words_size(); ++i)
    if (dict.at(inst.words(i)) != inst.values(i)) return "dictionary value read differs";
  std::vector<long> sums;
  long total = 0;
  int key = 0;
  for (const auto& turn : turns) {
    for (const auto& w : turn) {
      if (key >= inst.keys_size() || w != inst.keys(key++)) return "key read differs";
      total += dict.at(w);
    }
    sums.push_back(total);
  }
  return join(sums) == task.answer() ? "" : "the read prompt sums to " + join(sums);
}

// 2,000 tasks per level (300 at levels 9 and 10, whose tasks hold 2,800 and 9,000 keys).
TEST(LongHorizonSum, PromptsReadBackToTheirInstanceAndAnswer) {
  for (int level = 1; level <= 10; ++level)
    verity::testing::check_every_task("long_horizon_sum", level, {}, level <= 8 ? 2000 : 300,
                                      [](const pb::Task& t, uint64_t) { return round_trip(t); });
}

}  // namespace

// ---- distinct questions ----
namespace {

// The test's own form, by another route than question_key's ranks: each turn's word as its value and
// the turn it last came in before (-1: new), and the values of the words the stream never names, sorted.
std::string lhs_brute_key(const verity::pb::Task& task) {
  const auto& s = task.long_horizon_sum();
  std::map<std::string, int> value, last;
  for (int i = 0; i < s.words_size(); ++i) value[s.words(i)] = s.values(i);
  std::string out = std::to_string(s.keys_per_turn()) + "|";
  for (int t = 0; t < s.keys_size(); ++t) {
    const auto seen = last.find(s.keys(t));
    out += std::to_string(value.at(s.keys(t))) + "@" + std::to_string(seen == last.end() ? -1 : seen->second) + " ";
    last[s.keys(t)] = t;
  }
  std::vector<int> unused;
  for (const auto& [word, v] : value)
    if (!last.count(word)) unused.push_back(v);
  std::sort(unused.begin(), unused.end());
  for (int v : unused) out += "," + std::to_string(v);
  return out;
}

// The same question with other words and the dictionary in another order.
verity::pb::Task lhs_renamed(const verity::pb::Task& task, verity::Rng& rng) {
  verity::pb::Task copy = task;
  auto* s = copy.mutable_long_horizon_sum();
  auto rename = verity::testing::random_renaming({s->words().begin(), s->words().end()}, "w", rng);
  std::vector<std::pair<std::string, int>> entries;
  for (int i = 0; i < s->words_size(); ++i) entries.emplace_back(rename[s->words(i)], s->values(i));
  rng.shuffle(entries);
  s->clear_words();
  s->clear_values();
  for (const auto& [w, v] : entries) s->add_words(w), s->add_values(v);
  for (auto& key : *s->mutable_keys()) key = rename[key];
  return copy;
}

// A near miss: one turn's word swapped for another dictionary word.
verity::pb::Task lhs_near_miss(const verity::pb::Task& task, verity::Rng& rng) {
  verity::pb::Task copy = task;
  auto* s = copy.mutable_long_horizon_sum();
  s->set_keys(static_cast<int>(rng.index(static_cast<size_t>(s->keys_size()))),
              s->words(static_cast<int>(rng.index(static_cast<size_t>(s->words_size())))));
  return copy;
}

}  // namespace

TEST(LongHorizonSumQuestions, KeyIsTheCanonicalFormUpToNamesAndOrder) {
  for (int level = 1; level <= 10; level += 3)
    verity::testing::expect_question_key_matches("long_horizon_sum", level, level == 10 ? 200 : 2000, lhs_brute_key,
                                                 [](const verity::pb::Task& t, verity::Rng& rng) {
                                                   return std::vector<verity::pb::Task>{lhs_renamed(t, rng), lhs_near_miss(t, rng)};
                                                 });
  for (int level = 1; level <= 10; ++level)
    verity::testing::expect_key_survives("long_horizon_sum", level, 50, lhs_renamed);
}
