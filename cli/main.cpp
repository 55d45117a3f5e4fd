// The verity binary: thin subcommands over libverity.
#include <iostream>

#include "cli/commands.h"
#include "tasks/dataset.h"

int main(int argc, char** argv) {
  CLI::App app{"verity: verifiable synthetic reasoning data - generate, score, train"};
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string("verity ") + verity::kVersion);
  verity::cli::add_list_commands(app);
  verity::cli::add_generate_command(app);
  verity::cli::add_score_commands(app);
#ifdef VERITY_HAVE_TRAINER
  verity::cli::add_train_commands(app);
#endif
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
