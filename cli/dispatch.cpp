#include "cli/dispatch.h"

#include "cli/commands.h"

#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <iostream>
#include <string>
#include <vector>

namespace verity::cli {

const char* sibling_binary(const char* command) {
  for (const char* trainer_command : {"train", "eval", "curriculum", "runtime", "experiment"})
    if (std::strcmp(command, trainer_command) == 0) return "verity-train";
  if (std::strcmp(command, "serve") == 0) return "verity-serve";
  return nullptr;
}

int exec_sibling(const char* binary, int argc, char** argv) {
  std::error_code error;
  const auto self = std::filesystem::read_symlink("/proc/self/exe", error);
  const auto sibling = (error ? std::filesystem::path(argv[0]) : self).parent_path() / binary;
  if (!std::filesystem::exists(sibling)) {
    const bool trainer = std::strcmp(binary, "verity-train") == 0;
    std::cerr << "error: `verity " << argv[1] << "` needs " << sibling.string() << ", which was not built: "
              << (trainer ? "configure with -DVERITY_BUILD_TRAINER=ON (libtorch-dev)"
                          : "build it with cmake --build build --target verity_serve_cli")
              << "\n";
    return 2;
  }
  std::vector<char*> args(argv, argv + argc);
  const std::string path = sibling.string();
  args[0] = const_cast<char*>(path.c_str());
  args.push_back(nullptr);
  ::execv(path.c_str(), args.data());
  std::cerr << "error: cannot run " << path << ": " << std::strerror(errno) << "\n";
  return 2;
}

void add_sibling_placeholders(CLI::App& app) {
  app.add_subcommand("train", "train a small reasoner (SFT, GRPO, curriculum) - runs verity-train");
  app.add_subcommand("eval", "evaluate a checkpoint with the verifiers - runs verity-train");
  app.add_subcommand("curriculum", "show curriculum statistics of a run - runs verity-train");
  app.add_subcommand("experiment", "a whole study: data, training, evaluation, report - runs verity-train");
  app.add_subcommand("runtime", "the trainer's libtorch version and threads - runs verity-train");
  app.add_subcommand("serve", "score completions and serve a curriculum over HTTP - runs verity-serve");
}

}  // namespace verity::cli
