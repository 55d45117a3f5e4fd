// Property checks every family must pass over thousands of seeds: gold verifies in every accepted
// format, every other label scores 0, labels are balanced, ids are unique, plus a family-specific
// cross-check of the label by an independent method.
#pragma once
#include <gtest/gtest.h>
#include <oneapi/tbb/parallel_for.h>

#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "service/scoring.h"
#include "tasks/answer_extraction.h"
#include "tasks/dataset.h"
#include "tasks/registry/registry.h"

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
