// libFuzzer target: every registered family's verifier (answer parsers, grid / role / proof / trace
// step checkers) on arbitrary bytes. The first byte picks the family, the rest is the completion,
// scored against one fixed task per family (level 3 with its default knobs, plus a level-10 task so
// the large-instance paths are reached too). Families added later are fuzzed without touching this file.
// Built and run for a bounded time by scripts/fuzz.sh (clang, -fsanitize=fuzzer,address,undefined).
//
// Beyond "no crash, no hang": a Score is well-formed (reward in [0, 1], correct only with full reward,
// no more valid steps than checked steps) and scoring is deterministic (the same text scores the same).
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <vector>

#include "service/scoring.h"
#include "tasks/dataset.h"
#include "tasks/registry/registry.h"

namespace {

const std::vector<verity::pb::Task>& fuzz_tasks() {
  static const std::vector<verity::pb::Task> tasks = [] {
    std::vector<verity::pb::Task> out;
    for (const verity::Family& family : verity::all_families()) {
      const verity::Generator& generator = family.generator;
      for (int level : {3, generator.max_level()})
        out.push_back(verity::make_task(generator, verity::resolve_knobs(generator, level, {}), level, /*seed=*/1, 0));
      // every other value of a choice knob (answer modes, formats, ...) at level 3, so the verifier's
      // other parsers are reached too (list_functions' rule mode: the DSL parser and interpreter)
      for (const verity::KnobSpec& spec : generator.knob_specs())
        for (const std::string& choice : spec.choices) {
          if (spec.kind != verity::KnobSpec::Kind::Choice || choice == spec.default_value) continue;
          try {
            out.push_back(verity::make_task(generator, verity::resolve_knobs(generator, 3, {{spec.name, choice}}), 3, 1, 0));
          } catch (const std::exception&) {  // a value that needs other knobs: the defaults cover the family
          }
        }
    }
    return out;
  }();
  return tasks;
}

// Seeds: each task's gold trace followed by its gold answer, so the fuzzer starts from text every
// checker accepts and mutates from there. Written when VERITY_FUZZ_SEEDS names a folder.
void write_seeds(const std::filesystem::path& folder) {
  const auto& tasks = fuzz_tasks();
  for (size_t i = 0; i < tasks.size(); ++i) {
    std::string text(1, static_cast<char>(i));
    for (const auto& step : tasks[i].trace()) text += step.text() + "\n";
    text += "<answer>" + tasks[i].answer() + "</answer>";
    std::ofstream(folder / ("gold-" + tasks[i].family() + "-" + std::to_string(tasks[i].level())), std::ios::binary)
        << text;
  }
}

bool well_formed(const verity::pb::Score& s) {
  return std::isfinite(s.reward()) && s.reward() >= 0.0 && s.reward() <= 1.0 && (!s.correct() || s.reward() == 1.0) &&
         s.steps_checked() >= 0 && s.steps_valid() >= 0 && s.steps_valid() <= s.steps_checked() &&
         s.steps_required() >= 0 && s.steps_covered() >= 0 && s.steps_covered() <= s.steps_required() &&
         std::isfinite(s.process()) && s.process() >= 0.0 && s.process() <= 1.0 &&
         (s.steps_checked() > 0 || s.process() == 0.0);
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  // build the tasks now: the first input would otherwise pay for it (level-10 generation under
  // ASan on a busy machine) and trip libFuzzer's per-input timeout
  fuzz_tasks();
  if (const char* folder = std::getenv("VERITY_FUZZ_SEEDS")) write_seeds(folder);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const auto& tasks = fuzz_tasks();
  const verity::pb::Task& task = tasks[data[0] % tasks.size()];
  const std::string_view completion(reinterpret_cast<const char*>(data) + 1, size - 1);
  const verity::pb::Score first = verity::score_completion(task, completion);
  if (!well_formed(first)) __builtin_trap();
  const verity::pb::Score again = verity::score_completion(task, completion);
  if (again.SerializeAsString() != first.SerializeAsString()) __builtin_trap();
  return 0;
}
