// Each subcommand lives in its own file and registers itself on the app here.
// A command's callback throws on bad input; main() prints "error: ..." and exits with 2.
#pragma once
#include <CLI/CLI.hpp>

#include <iostream>

namespace verity::cli {

// Parses and runs the chosen subcommand; usage errors exit via CLI11, bad input prints "error: ..." -> 2.
inline int run_app(CLI::App& app, int argc, char** argv) {
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 2;
  }
  return 0;
}

void add_list_commands(CLI::App& app);      // list, describe        (cli/list.cpp)
void add_generate_command(CLI::App& app);   // generate              (cli/generate.cpp)
void add_score_commands(CLI::App& app);     // score, baseline       (cli/score.cpp)
void add_export_command(CLI::App& app);     // export --for verl|trl (cli/export.cpp)
void add_serve_command(CLI::App& app);      // serve (HTTP scoring)  (cli/serve.cpp)
// train, eval, curriculum, runtime: built into verity-train (cli/train*.cpp, torch-free headers only).
void add_train_commands(CLI::App& app);
void add_experiment_command(CLI::App& app);  // experiment axiomatic (cli/train_experiment.cpp)
// Lists them in `verity --help`; running one hands over to verity-train (cli/dispatch.cpp).
void add_trainer_placeholders(CLI::App& app);

}  // namespace verity::cli
