// Each subcommand lives in its own file and registers itself on the app here.
// A command's callback throws on bad input; main() prints "error: ..." and exits with 2.
#pragma once
#include <CLI/CLI.hpp>

namespace verity::cli {

void add_list_commands(CLI::App& app);      // list, describe        (cli/list.cpp)
void add_generate_command(CLI::App& app);   // generate              (cli/generate.cpp)
void add_score_commands(CLI::App& app);     // score, baseline       (cli/score.cpp)
#ifdef VERITY_HAVE_TRAINER
void add_train_commands(CLI::App& app);     // train, eval, curriculum (cli/train.cpp; torch-free headers only)
#endif

}  // namespace verity::cli
