// The verity binary: thin subcommands over libverity.
#include <iostream>

#include "cli/commands.h"
#include "cli/dispatch.h"
#include "tasks/dataset.h"

int main(int argc, char** argv) {
  if (argc > 1)
    if (const char* sibling = verity::cli::sibling_binary(argv[1])) return verity::cli::exec_sibling(sibling, argc, argv);
  // Ctrl-C / SIGTERM during generate, export, score -o ... remove the temporary file being written
  verity::remove_temporary_files_on_signals();
  CLI::App app{"verity: verifiable synthetic reasoning data - generate, score, train"};
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string("verity ") + verity::kVersion);
  verity::cli::add_list_commands(app);
  verity::cli::add_generate_command(app);
  verity::cli::add_score_commands(app);
  verity::cli::add_export_command(app);
  verity::cli::add_sibling_placeholders(app);
  if (argc > 1 && argv[1][0] != '-') {
    try {
      app.get_subcommand(argv[1]);
    } catch (const CLI::OptionNotFound&) {
      std::string known;
      for (const auto* sub : app.get_subcommands({})) known += (known.empty() ? "" : ", ") + sub->get_name();
      std::cerr << "error: unknown command '" << argv[1] << "'; the commands are " << known << " (see verity --help)\n";
      return 2;
    }
  }
  return verity::cli::run_app(app, argc, argv);
}
