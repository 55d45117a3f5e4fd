// verity-serve: the HTTP server's binary (the only one that links cpp-httplib and OpenSSL). Users call
// it as `verity serve ...`; verity hands the same arguments over (cli/dispatch.h).
#include "cli/commands.h"
#include "tasks/dataset.h"

int main(int argc, char** argv) {
  CLI::App app{"verity serve: score completions and serve a curriculum over HTTP", "verity"};  // usage: verity serve ...
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string("verity ") + verity::kVersion);
  verity::cli::add_serve_command(app);
  return verity::cli::run_app(app, argc, argv);
}
