#include <cstdio>
#include <iostream>

#include "cli/commands.h"
#include "tasks/dataset.h"
#include "tasks/registry.h"

namespace verity::cli {
namespace {

void print_family(const Family& f) {
  std::cout << f.name() << "\n  " << f.summary() << "\n  answer: " << f.answer_format() << "\n  levels: 1.."
            << f.max_level() << "\n  knobs:\n";
  for (const auto& k : f.knob_specs())
    std::printf("    %-14s %-28s default %-10s %s\n", k.name.c_str(), k.range_text().c_str(), k.default_value.c_str(),
                k.description.c_str());
  std::fflush(stdout);
}

void describe(const std::string& name, int level, uint64_t seed) {
  const Family& f = find_family(name);
  print_family(f);
  std::cout << "  level ladder:\n";
  for (int l = 1; l <= f.max_level(); ++l) {
    std::cout << "    " << l << ":";
    for (const auto& [k, v] : f.level_knobs(l)) std::cout << " " << k << "=" << v;
    std::cout << "\n";
  }
  const Knobs knobs = resolve_knobs(f, level, {});
  const pb::Task task = make_task(f, knobs, level, seed, 0);
  std::cout << "\nexample (level " << level << ", seed " << seed << "):\n---\n"
            << task.prompt() << "\n---\ngold answer: " << task.answer() << "\ngold trace:\n";
  for (const auto& step : task.trace()) std::cout << "  - " << step.text() << "\n";
}

}  // namespace

void add_list_commands(CLI::App& app) {
  app.add_subcommand("list", "families with their knobs, level ladder and answer format")->callback([] {
    for (const Family* f : all_families()) {
      print_family(*f);
      std::cout << "\n";
    }
  });

  auto* cmd = app.add_subcommand("describe", "one family: knobs, levels and a rendered example");
  struct Options {
    std::string family;
    int level = 1;
    uint64_t seed = 0;
  };
  auto opt = std::make_shared<Options>();
  cmd->add_option("family", opt->family, "family name (see `verity list`)")->required();
  cmd->add_option("--level", opt->level, "level of the example")->check(CLI::Range(1, 100));
  cmd->add_option("--seed", opt->seed, "seed of the example");
  cmd->callback([opt] { describe(opt->family, opt->level, opt->seed); });
}

}  // namespace verity::cli
