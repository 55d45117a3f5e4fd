#include <cstdio>
#include <iostream>

#include "cli/commands.h"
#include "service/family_info.h"
#include "tasks/dataset.h"
#include "tasks/registry/registry.h"

namespace verity::cli {
namespace {

void print_family(const nlohmann::json& f) {
  std::cout << f["name"].get<std::string>() << "\n  " << f["summary"].get<std::string>()
            << "\n  answer: " << f["answer_format"].get<std::string>() << "\n  levels: 1.." << f["max_level"].get<int>()
            << "\n  knobs:\n";
  for (const auto& k : f["knobs"])
    std::printf("    %-14s %-28s default %-10s %s\n", k["name"].get<std::string>().c_str(),
                k["range"].get<std::string>().c_str(), k["default"].get<std::string>().c_str(),
                k["description"].get<std::string>().c_str());
  std::fflush(stdout);
}

void describe(const std::string& name, int level, uint64_t seed) {
  const Family& family = find_family(name);
  // Checked before anything is printed: an error never follows half a description.
  if (level < 1 || level > family.generator.max_level())
    throw std::invalid_argument("--level " + std::to_string(level) + " is out of range for " + name + ": use 1.." +
                                std::to_string(family.generator.max_level()));
  const nlohmann::json info = family_json(family);
  print_family(info);
  std::cout << "  process score: " << info["process_score"].get<std::string>() << "\n";
  std::cout << "  level ladder:\n";
  for (int l = 1; l <= info["max_level"].get<int>(); ++l) {
    std::cout << "    " << l << ":";
    for (const auto& [k, v] : info["levels"][std::to_string(l)].items()) std::cout << " " << k << "=" << v.get<std::string>();
    std::cout << "\n";
  }
  constexpr uint64_t kBalanceSamples = 200;
  std::cout << "  label balance (the " << kBalanceSamples << " tasks `verity generate -n " << kBalanceSamples
            << " --seed " << seed << "` writes at each level):\n";
  const nlohmann::json balance = label_balance(family, kBalanceSamples, seed);
  for (int l = 1; l <= info["max_level"].get<int>(); ++l) {
    std::cout << "    " << l << ":";
    const nlohmann::json& counts = balance[std::to_string(l)];
    if (counts.is_string()) {  // too few distinct questions
      std::cout << " " << counts.get<std::string>();
    } else if (counts.size() == 1 && counts.contains("")) {
      std::cout << " free-form answers (no label to balance)";
    } else {
      for (const auto& [label, count] : counts.items()) {
        char percent[32];
        std::snprintf(percent, sizeof percent, "%.1f%%", 100.0 * count.get<double>() / kBalanceSamples);
        std::cout << " " << (label.empty() ? "(none)" : label) << " " << percent;
      }
    }
    std::cout << "\n";
  }
  const Knobs knobs = resolve_knobs(family.generator, level, {});
  const pb::Task task = make_task(family.generator, knobs, level, seed, 0);
  std::cout << "\nexample (level " << level << ", seed " << seed << "):\n---\n"
            << task.prompt() << "\n---\ngold answer: " << task.answer() << "\ngold trace:\n";
  for (const auto& step : task.trace()) std::cout << "  - " << step.text() << "\n";
}

}  // namespace

void add_list_commands(CLI::App& app) {
  app.add_subcommand("list", "families with their knobs, level ladder and answer format")->callback([] {
    for (const auto& f : families_json()) {
      print_family(f);
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
  cmd->add_option("--level", opt->level, "level of the example (1..the family's top level)")
      ->check(integer_in(1, 1000));
  cmd->add_option("--seed", opt->seed, "seed of the example")->check(integer_in(0, UINT64_MAX));
  cmd->callback([opt] { describe(opt->family, opt->level, opt->seed); });
}

}  // namespace verity::cli
