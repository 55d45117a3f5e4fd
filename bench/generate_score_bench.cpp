// Throughput of generation and scoring per family: tasks/s and completions/s.
#include <benchmark/benchmark.h>

#include "service/scoring.h"
#include "tasks/dataset.h"
#include "tasks/registry/registry.h"

namespace {

using namespace verity;

void BM_Generate(benchmark::State& state, const std::string& family_name, int level) {
  const Generator& family = find_family(family_name).generator;
  const Knobs knobs = resolve_knobs(family, level, {});
  // As `verity generate` does: one TaskMaker, one Task reused (its allocations kept).
  const TaskMaker maker(family, knobs, level, 1);
  pb::Task task;
  uint64_t index = 0;
  for (auto _ : state) {
    maker.make(index++, task);
    benchmark::DoNotOptimize(task);
  }
  state.SetItemsProcessed(static_cast<int64_t>(index));
}

// The family's question_key (the dedupe's key, computed once per candidate by `verity generate`) on 256
// tasks in turn: its cost beside BM_Generate's is the dedupe's share of generation.
void BM_QuestionKey(benchmark::State& state, const std::string& family_name, int level) {
  const Generator& family = find_family(family_name).generator;
  const Knobs knobs = resolve_knobs(family, level, {});
  std::vector<pb::Task> tasks;
  for (uint64_t i = 0; i < 256; ++i) tasks.push_back(make_task(family, knobs, level, 1, i));
  size_t i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(family.question_key(tasks[i % 256]));
    ++i;
  }
  state.SetItemsProcessed(static_cast<int64_t>(i));
}

void BM_Score(benchmark::State& state, const std::string& family_name, int level) {
  const Generator& family = find_family(family_name).generator;
  const Knobs knobs = resolve_knobs(family, level, {});
  std::vector<pb::Task> tasks;
  std::vector<std::string> completions;
  for (uint64_t i = 0; i < 256; ++i) {
    tasks.push_back(make_task(family, knobs, level, 1, i));
    completions.push_back("Let me think step by step.\n<answer>" + tasks.back().answer() + "</answer>");
  }
  size_t i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(score_completion(tasks[i % 256], completions[i % 256]));
    ++i;
  }
  state.SetItemsProcessed(static_cast<int64_t>(i));
}

void register_all() {
  for (const Family& f : all_families()) {
    for (int level = 1; level <= 10; ++level)  // every level, for bench/generation.sh
      benchmark::RegisterBenchmark(("generate/" + f.name() + "/level" + std::to_string(level)).c_str(), BM_Generate,
                                   f.name(), level)
          ->ThreadRange(1, 2)
          ->UseRealTime();
    for (int level = 1; level <= 10; ++level)
      benchmark::RegisterBenchmark(("key/" + f.name() + "/level" + std::to_string(level)).c_str(), BM_QuestionKey,
                                   f.name(), level)
          ->UseRealTime();
    for (int level : {1, 5, 10}) {
      benchmark::RegisterBenchmark(("score/" + f.name() + "/level" + std::to_string(level)).c_str(), BM_Score,
                                   f.name(), level)
          ->ThreadRange(1, 2)
          ->UseRealTime();
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  register_all();
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
