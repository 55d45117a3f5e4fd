#include "cli/dispatch.h"

#include "cli/commands.h"

#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <iostream>
#include <string>
#include <vector>

namespace verity::cli {

bool is_trainer_command(const char* name) {
  for (const char* command : {"train", "eval", "curriculum", "runtime", "experiment"})
    if (std::strcmp(name, command) == 0) return true;
  return false;
}

int exec_trainer(int argc, char** argv) {
  std::error_code error;
  const auto self = std::filesystem::read_symlink("/proc/self/exe", error);
  const auto trainer = (error ? std::filesystem::path(argv[0]) : self).parent_path() / "verity-train";
  if (!std::filesystem::exists(trainer)) {
    std::cerr << "error: `verity " << argv[1] << "` needs " << trainer.string()
              << ", which was not built: configure with -DVERITY_BUILD_TRAINER=ON (libtorch-dev)\n";
    return 2;
  }
  std::vector<char*> args(argv, argv + argc);
  const std::string path = trainer.string();
  args[0] = const_cast<char*>(path.c_str());
  args.push_back(nullptr);
  ::execv(path.c_str(), args.data());
  std::cerr << "error: cannot run " << path << ": " << std::strerror(errno) << "\n";
  return 2;
}

void add_trainer_placeholders(CLI::App& app) {
  app.add_subcommand("train", "train a small reasoner (SFT, GRPO, curriculum) - runs verity-train");
  app.add_subcommand("eval", "evaluate a checkpoint with the verifiers - runs verity-train");
  app.add_subcommand("curriculum", "show curriculum statistics of a run - runs verity-train");
  app.add_subcommand("experiment", "a whole study: data, training, evaluation, report - runs verity-train");
  app.add_subcommand("runtime", "the trainer's libtorch version and threads - runs verity-train");
}

}  // namespace verity::cli
