#include <iostream>

#include "cli/commands.h"
#include "trainer/trainer.h"

namespace verity::cli {

void add_train_commands(CLI::App& app) {
  app.add_subcommand("runtime", "the trainer's runtime: libtorch version and threads")->callback([] {
    std::cout << trainer::runtime_summary() << "\n";
  });
}

}  // namespace verity::cli
