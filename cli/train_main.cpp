// verity-train: the trainer's binary (the only one that links libtorch). Users call it as
// `verity train|eval|curriculum|runtime ...`; verity hands the same arguments over.
#include <iostream>

#include "cli/commands.h"
#include "tasks/dataset.h"
#include "trainer/trainer.h"

int main(int argc, char** argv) {
  verity::trainer::use_fitting_blas_kernels(argv);
  CLI::App app{"verity trainer: train, evaluate and inspect small reasoners", "verity"};  // usage: verity train ...
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string("verity ") + verity::kVersion);
  verity::cli::add_train_commands(app);
  verity::cli::add_experiment_command(app);
  return verity::cli::run_app(app, argc, argv);
}
