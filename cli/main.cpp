// The verity binary: thin subcommands over libverity.
#include <iostream>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include "cli/commands.h"
#include "cli/dispatch.h"
#include "tasks/dataset.h"

int main(int argc, char** argv) {
  if (argc > 1)
    if (const char* sibling = verity::cli::sibling_binary(argv[1])) return verity::cli::exec_sibling(sibling, argc, argv);
#if defined(__GLIBC__)
  // A short-lived command keeps the memory it frees for its next allocations. By default glibc maps
  // every block from 128 KiB up on its own and unmaps it when freed, so the next one starts on fresh
  // pages, each a page fault (2.2 us apiece on the development VM): generate's question listing and
  // its output buffers touched 6,500 pages for syllogism level 1 -n 11808.
  mallopt(M_MMAP_THRESHOLD, 64 << 20);
  mallopt(M_TRIM_THRESHOLD, 256 << 20);
#endif
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
