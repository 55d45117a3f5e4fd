// verity experiment axiomatic: the axiomatic-training study end to end (experiments/axiomatic.h).
#include <iostream>
#include <memory>

#include "cli/commands.h"
#include "experiments/axiomatic.h"

namespace verity::cli {

void add_experiment_command(CLI::App& app) {
  auto o = std::make_shared<experiments::ExperimentOptions>();
  auto* ex = app.add_subcommand(
      "experiment", "run a whole study: build data, train, evaluate, report (axiomatic: the axiomatic-training paper)");
  ex->add_option("name", o->experiment, "the experiment (axiomatic)")->required();
  ex->add_option("--preset", o->preset, "smoke (under a minute) | cpu (~1 h on 2 shared cores; the paper's answer-only loss) | cpu_curriculum (cpu + prompt loss + a short-chain stage first; ~45 min) | gpu (larger; CPU-only today) | a JSON file")
      ->capture_default_str();
  ex->add_option("--out", o->out_dir, "results folder (results.md, results.json, charts, configs, runs)")
      ->capture_default_str();
  ex->add_option("--datasets", o->datasets_dir, "folder of the recipes")->capture_default_str();
  ex->add_option("--seed", o->seed, "seed of every model's data order and initial weights")->capture_default_str();
  ex->add_flag("--resume", o->resume, "continue an interrupted run in --out (finished stages are kept)");
  ex->add_option("--threads", o->threads, "torch threads for training and decoding")->capture_default_str();
  ex->add_option("--scale-eval", o->scale_eval,
                 "fraction of every evaluation split to evaluate (default: the preset's item count per split)");
  ex->add_option("--stop-after", o->stop_after, "stop after this many stages (testing resume)")->group("");
  ex->callback([o] {
    if (!experiments::run_experiment(*o, std::cout)) std::cout << "stopped early; rerun with --resume\n";
  });
}

}  // namespace verity::cli
