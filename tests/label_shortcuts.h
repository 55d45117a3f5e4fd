// Surface shortcuts to a label (prompt length, statement count, negations) and the size of a level's
// question space, for families whose label is one of a few classes (the logic families).
#pragma once
#include <gtest/gtest.h>
#include <oneapi/tbb/parallel_for.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "family_properties.h"
#include "test_support.h"

namespace verity::testing {

// The chance band for two classes of `m` tasks each: chance_band (Kolmogorov-Smirnov) at a = 1e-2 / 200
// (c = 2.30, the band these tests were tuned with), Bonferroni over the about 200 comparisons a family's test makes (10 levels x 2 formats x 3 label
// pairs x 3 features). Ties in discrete features only make the bound more conservative.
inline double label_pair_band(size_t m) {
  return chance_band(static_cast<double>(m), static_cast<double>(m), 1e-2 / 200);
}

// Surface features a model could read the label off: prompt length, statements, negations.
inline std::vector<Shortcut> surface_shortcuts(std::function<double(const pb::Task&)> statements) {
  auto count = [](const std::string& text, const std::string& word) {
    double n = 0;
    for (size_t at = text.find(word); at != std::string::npos; at = text.find(word, at + 1)) ++n;
    return n;
  };
  return {Shortcut{"prompt length", [](const pb::Task& t) { return static_cast<double>(t.prompt().size()); }},
          Shortcut{"statements", statements},
          Shortcut{"negations", [count](const pb::Task& t) { return count(t.prompt(), " not ") + count(t.prompt(), "~"); }}};
}

// For every pair of labels, on the first equally many tasks of each, no shortcut's best threshold tells
// the two labels apart better than label_pair_band allows. Tasks: `count` per level, seed 23.
inline void expect_no_label_shortcut(const std::string& family_name, int level, uint64_t count,
                                     const std::vector<Shortcut>& shortcuts, const KnobMap& overrides = {}) {
  const Generator& family = find_family(family_name).generator;
  const Knobs knobs = resolve_knobs(family, level, overrides);
  std::vector<pb::Task> tasks(count);
  tbb::parallel_for(uint64_t{0}, count, [&](uint64_t i) { tasks[i] = make_task(family, knobs, level, 23, i); });
  std::map<std::string, std::vector<const pb::Task*>> by_label;
  for (const auto& t : tasks) by_label[t.label()].push_back(&t);
  for (auto a = by_label.begin(); a != by_label.end(); ++a)
    for (auto b = std::next(a); b != by_label.end(); ++b) {
      const size_t m = std::min(a->second.size(), b->second.size());
      if (m < 100) continue;  // a rare label (closed-world knobs) has no pair to compare
      for (const auto& shortcut : shortcuts) {
        std::vector<std::pair<double, bool>> points;
        for (size_t i = 0; i < m; ++i) {
          points.emplace_back(shortcut.feature(*a->second[i]), true);
          points.emplace_back(shortcut.feature(*b->second[i]), false);
        }
        const double accuracy = best_threshold_accuracy(points);
        EXPECT_LE(accuracy, label_pair_band(m))
            << family_name << " level " << level << ": '" << shortcut.name << "' tells " << a->first << " from "
            << b->first << " with accuracy " << accuracy << " (chance band " << label_pair_band(m) << ", " << m
            << " tasks each)";
      }
    }
}

// The level holds at least `at_least` distinct questions (question_key, or `key`). Two tasks drawn
// independently share a question with probability q = sum of p_k^2, and q >= 1/K for a space of K
// questions; `count` tasks show about C(count, 2) * q repeated pairs. So more than C(count, 2) /
// at_least pairs says the level behaves like fewer than `at_least` questions. Returns the pairs.
inline uint64_t expect_question_space_at_least(const std::string& family_name, int level, uint64_t count,
                                               double at_least,
                                               const std::function<std::string(const pb::Task&)>& key = {},
                                               const KnobMap& overrides = {}) {
  const Generator& family = find_family(family_name).generator;
  const Knobs knobs = resolve_knobs(family, level, overrides);
  std::vector<std::string> keys(count);
  tbb::parallel_for(uint64_t{0}, count, [&](uint64_t i) {
    const pb::Task task = make_task(family, knobs, level, 29, i);
    keys[i] = key ? key(task) : family.question_key(task);
  });
  std::map<std::string, uint64_t> seen;
  for (const auto& k : keys) ++seen[k];
  uint64_t pairs = 0;
  for (const auto& [k, n] : seen) pairs += n * (n - 1) / 2;
  const double allowed = static_cast<double>(count) * static_cast<double>(count - 1) / 2.0 / at_least;
  EXPECT_LE(static_cast<double>(pairs), allowed)
      << family_name << " level " << level << ": " << pairs << " repeated pairs among " << count << " tasks ("
      << seen.size() << " distinct): fewer than " << at_least << " questions in effect";
  return pairs;
}

// `verity generate -n count` (the service, seed 11) succeeds: the level holds at least `count` distinct
// questions, and no two of the tasks written share a question_key.
inline void expect_distinct_dataset_of(const std::string& family_name, int level, uint64_t count) {
  const auto dir = fresh_temp_dir("verity_space_" + family_name, std::to_string(level));
  GenerateRequest r;
  r.family = family_name;
  r.level = level;
  r.seed = 11;
  r.count = count;
  r.threads = 2;
  r.output = (dir / "tasks.jsonl").string();
  ASSERT_NO_THROW(generate_dataset(r)) << family_name << " level " << level;
  const std::vector<pb::Task> tasks = read_tasks(r.output);
  std::set<std::string> keys;
  for (const auto& t : tasks) keys.insert(question_key(t));
  EXPECT_EQ(tasks.size(), count);
  EXPECT_EQ(keys.size(), count) << family_name << " level " << level;
  std::filesystem::remove_all(dir);
}

// The file `verity generate` (the service, seed 21) writes into `dir` for these settings, read back.
inline std::string generated_bytes(const std::filesystem::path& dir, const std::string& family_name, int level,
                                   uint64_t count, int threads, uint64_t shard = 0, uint64_t shards = 1) {
  GenerateRequest r;
  r.family = family_name;
  r.level = level;
  r.seed = 21;
  r.count = count;
  r.threads = threads;
  r.shard_index = shard;
  r.shard_count = shards;
  r.output = (dir / ("t" + std::to_string(threads) + "_" + std::to_string(shard) + "of" + std::to_string(shards) +
                     ".jsonl")).string();
  generate_dataset(r);
  return read_file(r.output);
}

// For each (level, -n): one thread, two threads and three shards (two threads each) concatenated
// write the same bytes, `count` lines.
inline void expect_same_bytes_for_threads_and_shards(const std::string& family_name,
                                                     const std::vector<std::pair<int, uint64_t>>& cases) {
  const auto dir = fresh_temp_dir("verity_bytes_" + family_name, "shards");
  for (const auto& [level, count] : cases) {
    const std::string where = family_name + " level " + std::to_string(level) + " -n " + std::to_string(count);
    const std::string one_thread = generated_bytes(dir, family_name, level, count, 1);
    EXPECT_EQ(std::count(one_thread.begin(), one_thread.end(), '\n'), static_cast<long>(count)) << where;
    EXPECT_EQ(generated_bytes(dir, family_name, level, count, 2), one_thread) << where;
    std::string shards;
    for (uint64_t k = 0; k < 3; ++k) shards += generated_bytes(dir, family_name, level, count, 2, k, 3);
    EXPECT_EQ(shards, one_thread) << where;
  }
  std::filesystem::remove_all(dir);
}

// A request one task above an enumerated space's `most` fails, naming the count and the -n that fits;
// `generate(n, extra)` runs `verity generate -n n` with the extra flags and returns its {status, output}.
template <class Generate>
void expect_one_more_fails(const Generate& generate, uint64_t most, const std::vector<std::string>& extras) {
  for (const std::string& extra : extras) {
    const auto one_more = generate(most + 1, extra);
    EXPECT_NE(one_more.status, 0) << extra;
    EXPECT_NE(one_more.output.find("has only " + std::to_string(most) + " distinct questions"), std::string::npos)
        << extra << ": " << one_more.output;
    EXPECT_NE(one_more.output.find("lower -n to at most " + std::to_string(most)), std::string::npos) << one_more.output;
  }
}

}  // namespace verity::testing
