// Each subcommand lives in its own file and registers itself on the app here.
// A command's callback throws on bad input; main() prints "error: ..." and exits with 2, as it does
// for a usage error (unknown flag, value out of range); --help and --version exit 0.
#pragma once
#include <CLI/CLI.hpp>

#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <iostream>
#include <string>

#include "tasks/dataset.h"

namespace verity::cli {

// Where a command's own messages go: standard error when its data goes to standard output (-o -),
// so a pipe receives the data alone.
inline std::ostream& messages_for(const std::string& output) {
  return is_standard_output(output) ? std::cerr : std::cout;
}

// Parses and runs the chosen subcommand; usage errors exit via CLI11, bad input prints "error: ..." -> 2.
inline int run_app(CLI::App& app, int argc, char** argv) {
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  } catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 2;
  }
  return 0;
}

// An integer flag in [lo, hi], checked on the text before CLI11 converts it (an unsigned flag would
// read "-5" as 2^64 - 5). The message names the flag (CLI11 prefixes it) and the range.
inline CLI::Validator integer_in(uint64_t lo, uint64_t hi) {
  const std::string range = std::to_string(lo) + ".." + std::to_string(hi);
  return CLI::Validator(
      [lo, hi, range](std::string& input) -> std::string {
        uint64_t value = 0;
        const char* end = input.data() + input.size();
        const auto [ptr, error] = std::from_chars(input.data(), end, value);
        if (input.empty() || error != std::errc() || ptr != end || value < lo || value > hi)
          return "must be an integer in " + range + ", not '" + input + "'";
        return {};
      },
      range, "integer_in");
}

// A number in (0, hi].
inline CLI::Validator positive_up_to(double hi) {
  char text[64];
  std::snprintf(text, sizeof text, "(0, %g]", hi);
  const std::string range = text;
  return CLI::Validator(
      [hi, range](std::string& input) -> std::string {
        double value = 0;
        size_t used = 0;
        try {
          value = std::stod(input, &used);
        } catch (...) {
          used = 0;
        }
        if (input.empty() || used != input.size() || !std::isfinite(value) || value <= 0 || value > hi)
          return "must be a number in " + range + ", not '" + input + "'";
        return {};
      },
      range, "positive_up_to");
}

inline constexpr uint64_t kMaxThreads = 4096;

void add_list_commands(CLI::App& app);      // list, describe        (cli/list.cpp)
void add_generate_command(CLI::App& app);   // generate              (cli/generate.cpp)
void add_score_commands(CLI::App& app);     // score, baseline       (cli/score.cpp)
void add_export_command(CLI::App& app);     // export --for verl|trl (cli/export.cpp)
void add_serve_command(CLI::App& app);      // serve (HTTP scoring)  (cli/serve.cpp, built into verity-serve)
// train, eval, curriculum, runtime: built into verity-train (cli/train*.cpp, torch-free headers only).
void add_train_commands(CLI::App& app);
void add_experiment_command(CLI::App& app);  // experiment axiomatic (cli/train_experiment.cpp)
// Lists them and serve in `verity --help`; running one hands over to verity-train or verity-serve
// (cli/dispatch.cpp).
void add_sibling_placeholders(CLI::App& app);

}  // namespace verity::cli
