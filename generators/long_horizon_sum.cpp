// long_horizon_sum: long-horizon execution from "The Illusion of Diminishing Returns". A dictionary
// of made-up words to small integers and a stream of keys, keys_per_turn per turn; the answer is the
// running total after every turn (comma-separated). Knowing what to do is trivial; doing it for
// thousands of steps without a slip is the skill measured. The verifier reports per-step accuracy and
// the first failing step.
#include "generators/generators.h"

#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <unordered_set>
#include <vector>

#include "generators/canonical_form.h"
#include "tasks/answer_extraction.h"
#include "tasks/concat.h"

namespace verity {
namespace {

class LongHorizonSumGenerator final : public Generator {
 public:
  std::string name() const override { return "long_horizon_sum"; }
  std::string summary() const override {
    return "Dictionary of words to integers plus a stream of keys; report the running sum after every turn.";
  }
  std::vector<KnobSpec> knob_specs() const override;
  KnobMap level_knobs(int level) const override;
  std::string answer_format() const override { return "the running sums after each turn, comma-separated"; }
  void generate(Rng& rng, const Knobs& knobs, pb::Task& task) const override;
  std::string question_key(const pb::Task& task) const override;
};

// Pronounceable lower-case words (consonant-vowel-consonant-vowel-consonant): easy to read as keys,
// never numbers, 21*5*21*5*21 = 231,525 of them.
std::vector<std::string> random_words(Rng& rng, int count) {
  static const std::string kConsonants = "bcdfghjklmnpqrstvwxyz";
  static const std::string kVowels = "aeiou";
  std::vector<std::string> words;
  std::unordered_set<std::string> used;
  while (static_cast<int>(words.size()) < count) {
    std::string w;
    for (int i = 0; i < 5; ++i) w += i % 2 == 0 ? kConsonants[rng.index(kConsonants.size())] : kVowels[rng.index(5)];
    if (used.insert(w).second) words.push_back(std::move(w));
  }
  return words;
}

int digits(long v) { return static_cast<int>(std::to_string(v).size()); }

// The longest possible answer must fit the extractor's answer limit, else a perfect completion could
// not be scored; checked from the knobs alone so every item of a dataset behaves the same.
void check_answer_fits(const Knobs& knobs) {
  const long horizon = knobs.get_int("horizon");
  const long worst_sum = horizon * knobs.get_int("keys_per_turn") * knobs.get_int("value_max");
  const long worst_bytes = horizon * (digits(worst_sum) + 2);  // sign and comma
  if (worst_bytes > static_cast<long>(kMaxAnswerBytes))
    throw KnobError("horizon=" + std::to_string(horizon) + " with these keys_per_turn and value_max can need a " +
                    std::to_string(worst_bytes) + "-byte answer, over the " + std::to_string(kMaxAnswerBytes) +
                    "-byte answer limit: lower horizon, keys_per_turn or value_max");
}

std::string render_prompt(const pb::LongHorizonSumInstance& inst, long horizon) {
  const int k = inst.keys_per_turn();
  std::string prompt = "Here is a dictionary that maps words to integers:\n";
  for (int i = 0; i < inst.words_size(); ++i)
    prompt += inst.words(i) + ": " + std::to_string(inst.values(i)) + "\n";
  prompt += "A running total starts at 0. In each of the " + std::to_string(horizon) + " turns below you get " +
            std::to_string(k) + (k == 1 ? " word; add its value" : " words; add their values") +
            " to the running total. Report the running total after every turn.\n";
  for (long t = 0; t < horizon; ++t) {
    prompt += "Turn " + std::to_string(t + 1) + ":";
    for (int j = 0; j < k; ++j) prompt += (j ? ", " : " ") + inst.keys(static_cast<int>(t * k + j));
    prompt += "\n";
  }
  prompt += answer_instruction("the " + std::to_string(horizon) +
                                   " running totals in turn order, separated by commas",
                               horizon == 1 ? "7" : "7,-2,11");
  return prompt;
}

// One gold step per turn: "Turn 3: fabek (4) + lomiv (-2) -> 9 + 2 = 11".
void write_trace(const pb::LongHorizonSumInstance& inst, const std::vector<int>& turn_values, pb::Task& task) {
  const int k = inst.keys_per_turn();
  long total = 0;
  for (int t = 0; t < inst.running_sums_size(); ++t) {
    std::string text = "Turn " + std::to_string(t + 1) + ":";
    long delta = 0;
    for (int j = 0; j < k; ++j) {
      const int v = turn_values[t * k + j];
      text += std::string(j ? " +" : "") + " " + inst.keys(t * k + j) + " (" + std::to_string(v) + ")";
      delta += v;
    }
    text += " -> " + std::to_string(total) + (delta < 0 ? " - " : " + ") + std::to_string(std::labs(delta)) + " = " +
            std::to_string(inst.running_sums(t));
    total = inst.running_sums(t);
    auto* step = task.add_trace();
    step->set_text(text);
    step->set_rule("add");
    if (t > 0) step->add_cites(concat("s", std::to_string(t)));
  }
}

}  // namespace

std::vector<KnobSpec> LongHorizonSumGenerator::knob_specs() const {
  return {KnobSpec::integer("horizon", "turns (running sums to report)", 1, 2000, 10),
          KnobSpec::integer("keys_per_turn", "dictionary words per turn", 1, 16, 1),
          KnobSpec::integer("dict_size", "words in the dictionary", 2, 1000, 10),
          KnobSpec::integer("value_max", "values are integers in [-value_max, value_max]", 1, 99, 9),
          KnobSpec::choice("partial_credit", "reward: none = 1 only when every step is right; prefix = fraction "
                           "of steps before the first wrong one", {"none", "prefix"}, "none")};
}

KnobMap LongHorizonSumGenerator::level_knobs(int level) const {
  struct Row { int horizon, keys, dict; };
  static const Row kLadder[] = {{2, 1, 5},    {5, 1, 8},    {10, 1, 10},  {20, 1, 15},  {40, 2, 20},
                                {80, 2, 30},  {150, 3, 40}, {300, 4, 50}, {700, 4, 80}, {1500, 6, 100}};
  const Row& r = kLadder[level - 1];
  return {{"horizon", std::to_string(r.horizon)}, {"keys_per_turn", std::to_string(r.keys)},
          {"dict_size", std::to_string(r.dict)}};
}

void LongHorizonSumGenerator::generate(Rng& rng, const Knobs& knobs, pb::Task& task) const {
  check_answer_fits(knobs);
  const long horizon = knobs.get_int("horizon");
  const int k = static_cast<int>(knobs.get_int("keys_per_turn"));
  const long value_max = knobs.get_int("value_max");
  auto* inst = task.mutable_long_horizon_sum();
  inst->set_keys_per_turn(k);
  const auto words = random_words(rng, static_cast<int>(knobs.get_int("dict_size")));
  std::vector<int> values;
  for (const auto& w : words) {
    values.push_back(static_cast<int>(rng.uniform(-value_max, value_max)));
    inst->add_words(w);
    inst->add_values(values.back());
  }
  std::vector<int> turn_values;  // value of each key in the stream, for the trace
  long total = 0;
  std::string answer;
  for (long t = 0; t < horizon; ++t) {
    for (int j = 0; j < k; ++j) {
      const size_t w = rng.index(words.size());
      inst->add_keys(words[w]);
      turn_values.push_back(values[w]);
      total += values[w];
    }
    inst->add_running_sums(static_cast<int>(total));
    answer.append(t ? "," : "").append(std::to_string(total));
  }
  task.set_prompt(render_prompt(*inst, horizon));
  task.set_answer(answer);
  task.set_label("");  // no class label: the answer is a list of numbers
  (*task.mutable_meta())["final_sum"] = std::to_string(total);
  write_trace(*inst, turn_values, task);
}

// The key stream up to renaming the words, and the dictionary as a set. A word is written as the number
// of its first turn's rank among the words (0 for the first word to come, 1 for the next new one ...)
// and its value, which is canonical without a search; the words the stream never names count as the
// multiset of their values.
std::string LongHorizonSumGenerator::question_key(const pb::Task& task) const {
  const auto& inst = task.long_horizon_sum();
  thread_local canonical::NameIndex words;
  thread_local std::vector<int> rank, unused;
  words.clear(static_cast<size_t>(inst.words_size()));
  for (int i = 0; i < inst.words_size(); ++i) words.add(inst.words(i), i);
  rank.assign(static_cast<size_t>(inst.words_size()), -1);
  std::string key = task.family() + "|" + std::to_string(inst.keys_per_turn()) + "|";
  key.reserve(key.size() + 8 * static_cast<size_t>(inst.keys_size()) + 4 * static_cast<size_t>(inst.words_size()));
  auto append_number = [&](int n, char end) {
    char buf[16];
    key.append(buf, std::to_chars(buf, buf + sizeof buf, n).ptr);
    key += end;
  };
  int ranks = 0;
  for (const auto& word : inst.keys()) {
    const int at = words.find(word);
    if (at < 0) {  // not in the dictionary (never generated): as written
      key += word + ";";
      continue;
    }
    int& r = rank[static_cast<size_t>(at)];
    if (r < 0) r = ranks++;
    append_number(r, ':');
    append_number(inst.values(at), ';');
  }
  unused.clear();
  for (int i = 0; i < inst.words_size(); ++i)
    if (rank[static_cast<size_t>(i)] < 0) unused.push_back(inst.values(i));
  std::sort(unused.begin(), unused.end());
  key += "|";
  for (int v : unused) append_number(v, ',');
  return key;
}

namespace generators {
const Generator& long_horizon_sum() {
  static const LongHorizonSumGenerator generator;
  return generator;
}
}  // namespace generators

}  // namespace verity
