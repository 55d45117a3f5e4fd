// Generation throughput of the causal families per structure and size (tasks/s), 1 and 2 threads.
// Registered at static-initialisation time: bench/generate_score_bench.cpp owns main().
#include <benchmark/benchmark.h>

#include <string>

#include "tasks/dataset.h"
#include "tasks/registry/registry.h"

namespace {

using namespace verity;

void BM_GenerateWithKnobs(benchmark::State& state, const std::string& family_name, const KnobMap& overrides) {
  const Generator& family = find_family(family_name).generator;
  const Knobs knobs = resolve_knobs(family, 0, overrides);
  uint64_t index = static_cast<uint64_t>(state.thread_index()) << 40;  // threads draw distinct tasks
  uint64_t done = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(make_task(family, knobs, 0, 1, index++));
    ++done;
  }
  state.SetItemsProcessed(static_cast<int64_t>(done));
}

// The JSONL line of a task (what `verity generate` and recipes write): compare with generation alone.
void BM_GenerateAndSerialize(benchmark::State& state, const std::string& family_name, const KnobMap& overrides) {
  const Generator& family = find_family(family_name).generator;
  const Knobs knobs = resolve_knobs(family, 0, overrides);
  uint64_t index = static_cast<uint64_t>(state.thread_index()) << 40;
  uint64_t done = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(to_json_line(make_task(family, knobs, 0, 1, index++)));
    ++done;
  }
  state.SetItemsProcessed(static_cast<int64_t>(done));
}

void add(const std::string& name, const std::string& family, const KnobMap& knobs) {
  benchmark::RegisterBenchmark(("causal/" + name).c_str(), BM_GenerateWithKnobs, family, knobs)
      ->ThreadRange(1, 2)
      ->UseRealTime();
}

[[maybe_unused]] const bool kRegistered = [] {
  for (int n : {5, 15, 50})
    add("transitivity/chain_flip0.5/n" + std::to_string(n), "causal_transitivity",
        {{"chain_length", std::to_string(n)}, {"flip_prob", "0.5"}});
  for (const char* bf : {"1.4", "2"})
    for (int n : {5, 12, 50})
      add("transitivity/branching_bf" + std::string(bf) + "/n" + std::to_string(n), "causal_transitivity",
          {{"structure", "branching"}, {"chain_length", std::to_string(n)}, {"branching_factor", bf}});
  for (int n : {6, 15})
    add("dsep/chain/n" + std::to_string(n), "d_separation",
        {{"structure", "chain"}, {"nodes", std::to_string(n)}, {"conditioning_max", "3"}});
  for (int n : {6, 12, 20})
    add("dsep/random_bf1.4/n" + std::to_string(n), "d_separation",
        {{"structure", "random"}, {"nodes", std::to_string(n)}, {"conditioning_max", "3"}});
  add("dsep/mixed/n10", "d_separation", {{"structure", "mixed"}, {"nodes", "10"}, {"conditioning_max", "3"}});
  benchmark::RegisterBenchmark("causal/transitivity/chain_flip0.5/n5/with_jsonl", BM_GenerateAndSerialize,
                               std::string("causal_transitivity"), KnobMap{{"flip_prob", "0.5"}})
      ->ThreadRange(1, 2)
      ->UseRealTime();
  return true;
}();

}  // namespace
