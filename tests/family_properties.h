// Property checks every family must pass over thousands of seeds: gold verifies in every accepted
// format, every other label scores 0, labels are balanced, ids are unique, plus a family-specific
// cross-check of the label by an independent method.
#pragma once
#include <gtest/gtest.h>
#include <oneapi/tbb/parallel_for.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "service/generate.h"
#include "service/scoring.h"
#include "tasks/answer_extraction.h"
#include "tasks/concat.h"
#include "tasks/dataset.h"
#include "tasks/registry/registry.h"
#include "test_support.h"

namespace verity::testing {

// Returns "" when the task passes, else a description of the failure.
using TaskCheck = std::function<std::string(const pb::Task&)>;

// Generates `count` tasks in parallel, runs `check(task, index)` on each, reports up to five failures
// and requires unique ids. For families whose answers are not a small label set.
inline void check_every_task(const std::string& family_name, int level, const KnobMap& overrides, uint64_t count,
                             const std::function<std::string(const pb::Task&, uint64_t)>& check) {
  const Generator& family = find_family(family_name).generator;
  const Knobs knobs = resolve_knobs(family, level, overrides);
  std::mutex mutex;
  std::vector<std::string> failures;
  std::set<std::string> ids;
  tbb::parallel_for(uint64_t{0}, count, [&](uint64_t i) {
    const pb::Task task = make_task(family, knobs, level, /*seed=*/11, i);
    std::string failure = check(task, i);
    std::lock_guard lock(mutex);
    if (!ids.insert(task.id()).second) failure += "duplicate id";
    if (!failure.empty() && failures.size() < 5) failures.push_back("task " + std::to_string(i) + ": " + failure);
  });
  for (const auto& f : failures) ADD_FAILURE() << family_name << " level " << level << " " << f;
  EXPECT_EQ(ids.size(), count);
}

inline void check_family_properties(const std::string& family_name, int level, uint64_t count,
                                    const std::vector<std::string>& labels, const TaskCheck& cross_check,
                                    double balance_tolerance = 0.05) {
  const Generator& family = find_family(family_name).generator;
  const Knobs knobs = resolve_knobs(family, level, {});
  std::mutex mutex;
  std::vector<std::string> failures;
  std::map<std::string, uint64_t> label_counts;
  std::set<std::string> ids;
  tbb::parallel_for(uint64_t{0}, count, [&](uint64_t i) {
    const pb::Task task = make_task(family, knobs, level, /*seed=*/11, i);
    std::string failure;
    for (const std::string& form : {"<answer>" + task.answer() + "</answer>", "Reasoning...\nAnswer: " + task.answer(),
                                    "\\boxed{" + task.answer() + "}"}) {
      const auto s = score_completion(task, form);
      if (s.reward() != 1.0 || !s.correct() || !s.format_ok()) failure += "gold '" + form + "' scored " + s.reason() + "; ";
    }
    for (const auto& wrong : labels) {
      if (wrong == task.answer()) continue;
      const auto s = score_completion(task, "<answer>" + wrong + "</answer>");
      if (s.reward() != 0.0 || s.correct()) failure += "wrong answer '" + wrong + "' scored " + std::to_string(s.reward()) + "; ";
    }
    if (score_completion(task, "I am not sure.").reward() != 0.0) failure += "no-answer text scored; ";
    if (task.prompt().empty() || task.trace_size() == 0) failure += "empty prompt or trace; ";
    failure += cross_check(task);
    std::lock_guard lock(mutex);
    ++label_counts[task.answer()];
    if (!ids.insert(task.id()).second) failure += "duplicate id " + task.id();
    if (!failure.empty() && failures.size() < 5) failures.push_back("task " + std::to_string(i) + ": " + failure);
  });
  for (const auto& f : failures) ADD_FAILURE() << family_name << " level " << level << " " << f;
  ASSERT_EQ(ids.size(), count);
  for (const auto& label : labels) {
    const double share = static_cast<double>(label_counts[label]) / count;
    EXPECT_NEAR(share, 1.0 / labels.size(), balance_tolerance)
        << family_name << " level " << level << ": label " << label << " has share " << share;
  }
}

// "Either A or B" read as exclusive changes answers: every English prompt that says "or" states that it
// is inclusive (levels 1, 5, 10; 200 tasks each).
inline void expect_inclusive_or_stated(const std::string& family_name) {
  const Generator& f = find_family(family_name).generator;
  for (int level : {1, 5, 10}) {
    const Knobs knobs = resolve_knobs(f, level, {});
    for (uint64_t i = 0; i < 200; ++i) {
      const pb::Task task = make_task(f, knobs, level, 3, i);
      if (task.prompt().find(" or ") != std::string::npos)
        ASSERT_NE(task.prompt().find(kInclusiveOr), std::string::npos) << task.prompt();
    }
  }
}

// ---- distinct questions ----

// `text` with every identifier (letters, digits, '_') found in `rename` replaced by its value.
inline std::string rename_identifiers(const std::string& text, const std::map<std::string, std::string>& rename) {
  std::string out;
  auto word_char = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; };
  for (size_t i = 0; i < text.size();) {
    if (!word_char(text[i])) {
      out += text[i++];
      continue;
    }
    size_t j = i;
    while (j < text.size() && word_char(text[j])) ++j;
    const std::string word = text.substr(i, j - i);
    const auto it = rename.find(word);
    out += it == rename.end() ? word : it->second;
    i = j;
  }
  return out;
}

// A random renaming: each name to `prefix` and a distinct number below names.size().
inline std::map<std::string, std::string> random_renaming(const std::vector<std::string>& names, const std::string& prefix,
                                                          Rng& rng) {
  std::vector<int> perm(names.size());
  for (size_t i = 0; i < perm.size(); ++i) perm[i] = static_cast<int>(i);
  rng.shuffle(perm);
  std::map<std::string, std::string> rename;
  for (size_t i = 0; i < perm.size(); ++i) rename[names[i]] = prefix + std::to_string(perm[i]);
  return rename;
}

// The test's own canonical form, by brute force (independent of generators/canonical_form): every
// permutation of `symbols` renames them to #0, #1, ...; the sorted statements of the least rendering.
// For at most 7 symbols.
inline std::string brute_force_canonical(const std::vector<std::string>& statements, const std::vector<std::string>& symbols) {
  std::vector<int> perm(symbols.size());
  for (size_t i = 0; i < perm.size(); ++i) perm[i] = static_cast<int>(i);
  std::string best;
  bool first = true;
  do {
    std::map<std::string, std::string> rename;
    for (size_t i = 0; i < symbols.size(); ++i) rename[symbols[i]] = concat("#", std::to_string(perm[i]));
    std::vector<std::string> lines;
    for (const auto& st : statements) lines.push_back(rename_identifiers(st, rename));
    std::sort(lines.begin(), lines.end());
    std::string joined;
    for (const auto& l : lines) joined += l + "\n";
    if (first || joined < best) best = joined;
    first = false;
  } while (std::next_permutation(perm.begin(), perm.end()));
  return best;
}

// On `count` candidates (make_task, seed 11, knobs of `level` with `overrides`), and on the copies
// `variants` makes of each (renamed and reordered ones, near misses: known repeats and known
// non-repeats), two tasks share the family's question_key exactly when they share `brute_key` (the
// test's own canonical form). A task whose brute_key is "" (too big to brute-force) is left out.
// Returns how many distinct questions there were.
inline size_t expect_question_key_matches(
    const std::string& family_name, int level, uint64_t count, const std::function<std::string(const pb::Task&)>& brute_key,
    const std::function<std::vector<pb::Task>(const pb::Task&, Rng&)>& variants = nullptr,
    const KnobMap& overrides = {}) {
  const Generator& family = find_family(family_name).generator;
  const Knobs knobs = resolve_knobs(family, level, overrides);
  std::vector<std::vector<std::pair<std::string, std::string>>> pool(count);  // (key, brute) per task
  tbb::parallel_for(uint64_t{0}, count, [&](uint64_t i) {
    const pb::Task task = make_task(family, knobs, level, 11, i);
    std::vector<pb::Task> tasks{task};
    Rng rng(i);
    if (variants)
      for (auto& v : variants(task, rng)) tasks.push_back(std::move(v));
    for (const auto& t : tasks)
      if (std::string brute = brute_key(t); !brute.empty()) pool[i].emplace_back(family.question_key(t), std::move(brute));
  });
  std::map<std::string, std::string> key_to_brute, brute_to_key;
  int failures = 0;
  for (uint64_t i = 0; i < count && failures < 5; ++i) {
    for (const auto& [key, brute] : pool[i]) {
      const auto [a, fresh_a] = key_to_brute.emplace(key, brute);
      const auto [b, fresh_b] = brute_to_key.emplace(brute, key);
      if (a->second != brute || b->second != key) {
        ++failures;
        ADD_FAILURE() << family_name << " level " << level << " task " << i
                      << ": question_key and the brute-force canonical form disagree on\n" << brute;
      }
    }
  }
  return key_to_brute.size();
}

// `verity generate`'s dataset (seed 11) of `count` tasks, or of every distinct question when the knobs
// hold fewer (the error must say how many; that many then generate). Checks that no two share a
// question_key, and returns the tasks.
inline std::vector<pb::Task> distinct_dataset(const std::string& family_name, int level, uint64_t count,
                                              const std::string& dir, const KnobMap& knobs = {}) {
  GenerateRequest r;
  r.family = family_name;
  r.level = level;
  r.knobs = knobs;
  r.seed = 11;
  r.count = count;
  r.threads = 2;
  r.output = dir + "/" + family_name + std::to_string(level) + ".jsonl";
  try {
    generate_dataset(r);
  } catch (const std::invalid_argument& e) {
    const std::string message = e.what();
    const size_t at = message.find("has only ");
    EXPECT_NE(at, std::string::npos) << message;
    EXPECT_NE(message.find("raise"), std::string::npos) << message;
    if (at == std::string::npos) return {};
    r.count = std::stoull(message.substr(at + 9));
    EXPECT_LT(r.count, count);
    generate_dataset(r);
  }
  std::vector<pb::Task> tasks = read_tasks(r.output);
  EXPECT_EQ(tasks.size(), r.count);
  std::set<std::string> keys;
  for (const auto& t : tasks) keys.insert(question_key(t));
  EXPECT_EQ(keys.size(), tasks.size()) << family_name << " level " << level << ": a question repeats";
  return tasks;
}

// `verity generate` (through the service) writes `count` distinct questions at levels 1..top_level of
// a family with a natural and a symbolic format, in both.
inline void expect_low_levels_hold_distinct_questions(const std::string& family_name, int top_level = 2,
                                                      uint64_t count = 10000) {
  for (int level = 1; level <= top_level; ++level)
    for (const char* format : {"natural", "symbolic"}) {
      const auto dir = fresh_temp_dir("verity_distinct_" + family_name, std::to_string(level) + format);
      EXPECT_EQ(distinct_dataset(family_name, level, count, dir.string(), {{"format", format}}).size(), count)
          << family_name << " level " << level << " " << format;
    }
}

// question_key ignores names and statement order: `variant` (a renamed, reordered copy) keeps the key.
inline void expect_key_survives(const std::string& family_name, int level, uint64_t count,
                                const std::function<pb::Task(const pb::Task&, Rng&)>& variant) {
  const Generator& family = find_family(family_name).generator;
  const Knobs knobs = resolve_knobs(family, level, {});
  Rng rng(level);
  for (uint64_t i = 0; i < count; ++i) {
    const pb::Task task = make_task(family, knobs, level, 12, i);
    ASSERT_EQ(family.question_key(task), family.question_key(variant(task, rng)))
        << family_name << " level " << level << " task " << i;
  }
}

// For a family with a natural and a symbolic format: at levels 1..top_level in both formats,
// question_key = `brute_key` on 2,000 tasks, two `renamed` copies of each and its `near_misses` (which
// must add questions: more distinct ones than tasks); `renamed` copies keep the key at every level.
inline void expect_key_is_the_canonical_form(const std::string& family_name, int top_level,
                                             const std::function<std::string(const pb::Task&)>& brute_key,
                                             const std::function<pb::Task(const pb::Task&, Rng&)>& renamed,
                                             const std::function<std::vector<pb::Task>(const pb::Task&, Rng&)>& near_misses) {
  for (int level = 1; level <= top_level; ++level)
    for (const char* format : {"natural", "symbolic"}) {
      const size_t distinct = expect_question_key_matches(
          family_name, level, 2000, brute_key,
          [&](const pb::Task& t, Rng& rng) {
            std::vector<pb::Task> out = near_misses(t, rng);
            out.push_back(renamed(t, rng));
            out.push_back(renamed(t, rng));
            return out;
          },
          {{"format", format}});
      EXPECT_GT(distinct, 2000u) << family_name << " level " << level << " " << format;
    }
  for (int level = 1; level <= find_family(family_name).generator.max_level(); ++level)
    expect_key_survives(family_name, level, 200, renamed);
}



// ---- no shortcuts to "cannot be determined" ----

// A surface feature of a task (a count, a length, 0/1 for "the asked name occurs in the facts").
struct Shortcut {
  std::string name;
  std::function<double(const pb::Task&)> feature;
};

// The best threshold classifier on one feature (either direction): its accuracy at telling
// `positive` tasks from the rest, on a sample where both are equally common.
inline double best_threshold_accuracy(std::vector<std::pair<double, bool>> points) {
  std::sort(points.begin(), points.end());
  const double total = static_cast<double>(points.size());
  double positives = 0;
  for (const auto& p : points) positives += p.second;
  double best = std::max(positives, total - positives) / total;
  double pos_below = 0, below = 0;
  for (size_t i = 0; i < points.size(); ++i) {
    pos_below += points[i].second;
    ++below;
    if (i + 1 < points.size() && points[i + 1].first == points[i].first) continue;
    // predict positive above the threshold, or below it
    const double above_rule = (below - pos_below) + (positives - pos_below);
    best = std::max({best, above_rule / total, (total - above_rule) / total});
  }
  return best;
}

// The best threshold classifier on one feature, scored by balanced accuracy (the mean of the two
// classes' hit rates, so label imbalance cannot pass for a shortcut): 0.5 + D / 2, where D is the
// two-sample Kolmogorov-Smirnov statistic between the feature's values in the two classes.
inline double balanced_threshold_accuracy(std::vector<std::pair<double, bool>> points) {
  std::sort(points.begin(), points.end());
  double positives = 0;
  for (const auto& p : points) positives += p.second;
  const double negatives = static_cast<double>(points.size()) - positives;
  if (positives == 0 || negatives == 0) return 1.0;
  double pos_below = 0, neg_below = 0, d = 0;
  for (size_t i = 0; i < points.size(); ++i) {
    (points[i].second ? pos_below : neg_below) += 1;
    if (i + 1 < points.size() && points[i + 1].first == points[i].first) continue;
    d = std::max(d, std::abs(pos_below / positives - neg_below / negatives));
  }
  return 0.5 + d / 2;
}

// What chance allows: with no shortcut (both classes draw the feature from one distribution), the
// balanced accuracy above exceeds 0.5 + c(alpha) sqrt((n1 + n0) / (n1 n0)) / 2 with probability at
// most alpha (the KS critical value, c(alpha) = sqrt(-ln(alpha / 2) / 2)); alpha = 1e-4, so a test
// checking dozens of (feature, level) pairs stays quiet by chance. With 1,000 per class: 0.550.
inline double chance_band(double positives, double negatives, double alpha = 1e-4) {
  const double c = std::sqrt(-std::log(alpha / 2) / 2);
  return 0.5 + c * std::sqrt((positives + negatives) / (positives * negatives)) / 2;
}

// No surface feature tells `positive` tasks from the rest beyond chance_band: the best threshold on
// each feature, in either direction, on `tasks`. `where` names the sample in failures. With
// VERITY_SHOW_SHORTCUTS set, every figure is printed (to measure, not only to pass or fail).
inline void expect_features_at_chance(const std::vector<pb::Task>& tasks,
                                      const std::function<bool(const pb::Task&)>& positive,
                                      const std::vector<Shortcut>& shortcuts, const std::string& where) {
  double positives = 0;
  for (const auto& t : tasks) positives += positive(t);
  const double negatives = static_cast<double>(tasks.size()) - positives;
  ASSERT_GT(positives, 0) << where;
  ASSERT_GT(negatives, 0) << where;
  const double band = chance_band(positives, negatives);
  for (const auto& shortcut : shortcuts) {
    std::vector<std::pair<double, bool>> points;
    for (const auto& t : tasks) points.emplace_back(shortcut.feature(t), positive(t));
    const double accuracy = balanced_threshold_accuracy(points);
    if (std::getenv("VERITY_SHOW_SHORTCUTS"))
      std::printf("shortcut | %s | %s | %.3f | band %.3f\n", where.c_str(), shortcut.name.c_str(), accuracy, band);
    EXPECT_LE(accuracy, band) << where << ": the shortcut '" << shortcut.name << "' has balanced accuracy "
                              << accuracy << ", above chance's " << band;
  }
}

// `count` tasks (seed 21) of `family` at `level` with `overrides`.
inline std::vector<pb::Task> sample_tasks(const std::string& family_name, int level, const KnobMap& overrides,
                                          uint64_t count, uint64_t seed = 21) {
  const Generator& family = find_family(family_name).generator;
  const Knobs knobs = resolve_knobs(family, level, overrides);
  std::vector<pb::Task> tasks(count);
  tbb::parallel_for(uint64_t{0}, count, [&](uint64_t i) { tasks[i] = make_task(family, knobs, level, seed, i); });
  return tasks;
}

// Pass as max_accuracy: chance_band at alpha 1e-3, from the counts the check draws.
inline constexpr double kChanceBand = -1;

// At each level in `levels`, over `count` tasks drawn with `overrides` (about half of them `positive`),
// no shortcut tells the positive tasks apart much better than chance: best threshold accuracy at most
// max_accuracy, or chance_band of the counts drawn (alpha 1e-3) with kChanceBand; balanced accuracy.
inline void expect_no_shortcut(const std::string& family_name, const std::vector<int>& levels, uint64_t count,
                               const KnobMap& overrides, const std::function<bool(const pb::Task&)>& positive,
                               const std::vector<Shortcut>& shortcuts, double max_accuracy = kChanceBand) {
  const Generator& family = find_family(family_name).generator;
  for (int level : levels) {
    const Knobs knobs = resolve_knobs(family, level, overrides);
    std::vector<pb::Task> tasks(count);
    tbb::parallel_for(uint64_t{0}, count, [&](uint64_t i) { tasks[i] = make_task(family, knobs, level, 21, i); });
    uint64_t positives = 0;
    for (const auto& t : tasks) positives += positive(t);
    EXPECT_NEAR(static_cast<double>(positives) / count, 0.5, 0.05) << family_name << " level " << level;
    const double band = max_accuracy == kChanceBand
                            ? chance_band(static_cast<double>(positives), static_cast<double>(count - positives), 1e-3)
                            : max_accuracy;
    for (const auto& shortcut : shortcuts) {
      std::vector<std::pair<double, bool>> points;
      for (const auto& t : tasks) points.emplace_back(shortcut.feature(t), positive(t));
      const double accuracy = balanced_threshold_accuracy(points);
      EXPECT_LE(accuracy, band) << family_name << " level " << level << ": the shortcut '" << shortcut.name
                                << "' tells the tasks apart with accuracy " << accuracy;
    }
  }
}

// With `unanswerable` = 0.5, no shortcut tells the unanswerable tasks apart much better than chance
// (balanced threshold accuracy <= max_accuracy, or chance_band with kChanceBand) over `count` tasks
// at each level in `levels`.
inline void expect_shortcuts_at_chance(const std::string& family_name, const std::vector<int>& levels, uint64_t count,
                                       const std::function<bool(const pb::Task&)>& unanswerable,
                                       const std::vector<Shortcut>& shortcuts, double max_accuracy = 0.6,
                                       KnobMap knob_overrides = {}) {
  knob_overrides["unanswerable"] = "0.5";
  expect_no_shortcut(family_name, levels, count, knob_overrides, unanswerable, shortcuts, max_accuracy);
}

// A causal family's question_key (solvers/graph.h causal_question_key) at every level: the statements
// listed in another order keep it; a node renamed everywhere, or one statement reversed, changes it
// (the names stay in the key on purpose: see there).
inline void expect_causal_key_ignores_order_not_names(const std::string& family_name, uint64_t count = 200) {
  const Generator& f = find_family(family_name).generator;
  for (int level = 1; level <= f.max_level(); ++level) {
    const Knobs knobs = resolve_knobs(f, level, {});
    Rng rng(static_cast<uint64_t>(level));
    for (uint64_t i = 0; i < count; ++i) {
      const pb::Task task = make_task(f, knobs, level, 13, i);
      const std::string where = family_name + " level " + std::to_string(level) + " task " + std::to_string(i);
      pb::Task reordered = task, renamed = task, reversed = task;
      auto* edges = reordered.mutable_causal_graph()->mutable_edges();
      for (int k = edges->size() - 1; k > 0; --k) edges->SwapElements(k, static_cast<int>(rng.index(k + 1)));
      ASSERT_EQ(f.question_key(task), f.question_key(reordered)) << where;
      auto* g = renamed.mutable_causal_graph();
      const std::string old_name = g->nodes(static_cast<int>(rng.index(g->nodes_size())));
      const std::string new_name = old_name + "x";
      auto swap_name = [&](std::string* name) { if (*name == old_name) *name = new_name; };
      for (auto& n : *g->mutable_nodes()) swap_name(&n);
      for (auto& e : *g->mutable_edges()) {
        swap_name(e.mutable_from());
        swap_name(e.mutable_to());
      }
      swap_name(g->mutable_query_source());
      swap_name(g->mutable_query_target());
      for (auto& z : *g->mutable_conditioning()) swap_name(&z);
      ASSERT_NE(f.question_key(task), f.question_key(renamed)) << where;
      auto* e = reversed.mutable_causal_graph()->mutable_edges(static_cast<int>(rng.index(task.causal_graph().edges_size())));
      const std::string from = e->from();
      e->set_from(e->to());
      e->set_to(from);
      ASSERT_NE(f.question_key(task), f.question_key(reversed)) << where;
    }
  }
}

// A `format` knob changes the wording only: task i of (family, level, seed) in `format` has the natural
// rendering's instance, label, answer, trace and question key (so recipes in either format stay
// disjoint-checked against each other), its gold answer verifies and a wrong one does not, and
// `read_back(prompt)` (a parser written for the test) recovers `expected(task)` from the prompt alone.
inline void expect_format_states_the_same_task(const std::string& family_name, const std::string& format,
                                               const std::function<std::string(const std::string&)>& read_back,
                                               const std::function<std::string(const pb::Task&)>& expected,
                                               uint64_t count = 300) {
  const Generator& f = find_family(family_name).generator;
  for (int level = 1; level <= f.max_level(); ++level) {
    const Knobs natural = resolve_knobs(f, level, {{"format", "natural"}});
    const Knobs other = resolve_knobs(f, level, {{"format", format}});
    for (uint64_t i = 0; i < count; ++i) {
      const pb::Task a = make_task(f, natural, level, 5, i), b = make_task(f, other, level, 5, i);
      const std::string where = family_name + " level " + std::to_string(level) + " task " + std::to_string(i);
      ASSERT_NE(a.prompt(), b.prompt()) << where;
      ASSERT_EQ(a.causal_graph().SerializeAsString(), b.causal_graph().SerializeAsString()) << where;
      ASSERT_EQ(a.label(), b.label()) << where;
      ASSERT_EQ(a.answer(), b.answer()) << where;
      ASSERT_EQ(a.trace_size(), b.trace_size()) << where;
      for (int s = 0; s < a.trace_size(); ++s) ASSERT_EQ(a.trace(s).text(), b.trace(s).text()) << where;
      ASSERT_EQ(f.question_key(a), f.question_key(b)) << where;
      ASSERT_EQ(read_back(b.prompt()), expected(b)) << where << "\n" << b.prompt();
      ASSERT_EQ(score_completion(b, "<answer>" + b.answer() + "</answer>").reward(), 1.0) << where;
      const std::string wrong = b.answer() == "Yes" ? "No" : "Yes";
      ASSERT_EQ(score_completion(b, "<answer>" + wrong + "</answer>").reward(), 0.0) << where;
    }
  }
}

}  // namespace verity::testing
