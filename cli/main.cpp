// The verity binary: thin subcommands over libverity.
#include <CLI/CLI.hpp>

#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>

#include "tasks/dataset.h"
#include "tasks/registry.h"
#include "verifiers/scoring.h"

namespace {

using namespace verity;

void print_family(const Family& f) {
  std::cout << f.name() << "\n  " << f.summary() << "\n  answer: " << f.answer_format() << "\n  levels: 1.."
            << f.max_level() << "\n  knobs:\n";
  for (const auto& k : f.knob_specs())
    std::printf("    %-14s %-28s default %-10s %s\n", k.name.c_str(), k.range_text().c_str(),
                k.default_value.c_str(), k.description.c_str());
}

int run_list() {
  for (const Family* f : all_families()) {
    print_family(*f);
    std::cout << "\n";
  }
  return 0;
}

int run_describe(const std::string& name, int level, uint64_t seed) {
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
  std::cout << "\nexample (level " << level << ", seed " << seed << "):\n---\n" << task.prompt() << "\n---\ngold answer: "
            << task.answer() << "\ngold trace:\n";
  for (const auto& step : task.trace()) std::cout << "  - " << step.text() << "\n";
  return 0;
}

std::pair<uint64_t, uint64_t> parse_shard(const std::string& text) {
  const auto slash = text.find('/');
  try {
    if (slash == std::string::npos) throw std::invalid_argument("");
    return {std::stoull(text.substr(0, slash)), std::stoull(text.substr(slash + 1))};
  } catch (...) {
    throw std::invalid_argument("bad --shard '" + text + "': write K/N with 0 <= K < N, e.g. --shard 0/4");
  }
}

int run_score(const ScoreRequest& request) {
  const ScoreReport report = score_files(request);
  for (const auto& problem : report.problems) std::cerr << "warning: " << problem << "\n";
  std::cout << format_report(report);
  if (!request.output.empty()) std::cout << "scores written to " << request.output << "\n";
  return 0;
}

// Writes reference completions: the gold answers, a random label, or a constant text.
// These are the baselines every evaluation should be compared with (and a pipeline check).
int run_baseline(const std::string& tasks_path, const std::string& strategy, const std::string& constant,
                 uint64_t seed, const std::string& output) {
  const auto tasks = read_tasks(tasks_path);
  std::vector<std::string> labels;
  for (const auto& t : tasks)
    if (std::find(labels.begin(), labels.end(), t.answer()) == labels.end()) labels.push_back(t.answer());
  std::sort(labels.begin(), labels.end());
  std::string out;
  for (const auto& t : tasks) {
    std::string answer = constant;
    if (strategy == "gold") answer = t.answer();
    if (strategy == "random") {
      Rng rng(mix_seed({seed, fnv1a64(t.id())}));
      answer = rng.pick(labels);
    }
    out += nlohmann::json{{"id", t.id()}, {"completion", "<answer>" + answer + "</answer>"}}.dump() + "\n";
  }
  write_file_atomically(output, out);
  std::cout << "wrote " << tasks.size() << " " << strategy << " completions to " << output << "\n";
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"verity: verifiable synthetic reasoning data - generate, score, train"};
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string("verity ") + kVersion);

  auto* list = app.add_subcommand("list", "families with their knobs, level ladder and answer format");

  auto* describe = app.add_subcommand("describe", "one family: knobs, levels and a rendered example");
  std::string describe_family;
  int describe_level = 1;
  uint64_t describe_seed = 0;
  describe->add_option("family", describe_family, "family name (see `verity list`)")->required();
  describe->add_option("--level", describe_level, "level of the example")->check(CLI::Range(1, 100));
  describe->add_option("--seed", describe_seed, "seed of the example");

  auto* generate = app.add_subcommand("generate", "generate a dataset (JSONL, or .binpb for binary)");
  GenerateRequest gen;
  std::vector<std::string> knob_texts;
  std::string shard = "0/1";
  bool no_progress = false;
  generate->add_option("--family,-f", gen.family, "family name (see `verity list`)")->required();
  generate->add_option("--level,-l", gen.level, "difficulty level (1..10); 0 = defaults + knobs only");
  generate->add_option("--knob,-k", knob_texts, "override a knob: name=value (repeatable)");
  generate->add_option("-n,--count", gen.count, "number of tasks in the whole dataset")->required();
  generate->add_option("--seed,-s", gen.seed, "dataset seed");
  generate->add_option("-o,--output", gen.output, "output file (.jsonl, or .binpb for binary)")->required();
  generate->add_option("--threads,-j", gen.threads, "worker threads (0 = all cores)");
  generate->add_option("--shard", shard, "write only slice K of N (0-based K, e.g. 3/8)");
  generate->add_flag("--no-progress", no_progress, "no progress bar");

  auto* score = app.add_subcommand("score", "score completions against their tasks");
  ScoreRequest sr;
  score->add_option("--tasks,-t", sr.tasks_path, "tasks file written by `verity generate`")->required();
  score->add_option("--completions,-c", sr.completions_path, "JSONL with an id and a completion per line")->required();
  score->add_option("-o,--output", sr.output, "write one Score per completion (JSONL)");
  score->add_option("--id-field", sr.id_field, "name of the task-id field in the completions file");
  score->add_option("--completion-field", sr.completion_field, "name of the completion-text field");
  score->add_option("--threads,-j", sr.threads, "worker threads (0 = all cores)");

  auto* baseline = app.add_subcommand("baseline", "write baseline completions (gold, random label, constant)");
  std::string bl_tasks, bl_strategy = "random", bl_constant, bl_output;
  uint64_t bl_seed = 0;
  baseline->add_option("--tasks,-t", bl_tasks, "tasks file")->required();
  baseline->add_option("--strategy", bl_strategy, "gold | random | constant")
      ->check(CLI::IsMember({"gold", "random", "constant"}));
  baseline->add_option("--constant", bl_constant, "the answer for --strategy constant");
  baseline->add_option("--seed", bl_seed, "seed for --strategy random");
  baseline->add_option("-o,--output", bl_output, "completions file to write")->required();

  CLI11_PARSE(app, argc, argv);
  try {
    if (*list) return run_list();
    if (*describe) return run_describe(describe_family, describe_level, describe_seed);
    if (*generate) {
      for (const auto& k : knob_texts) parse_knob_assignment(k, gen.knobs);
      std::tie(gen.shard_index, gen.shard_count) = parse_shard(shard);
      gen.progress = !no_progress;
      const auto manifest = generate_dataset(gen);
      std::cout << "wrote " << manifest.count() << " tasks to " << gen.output << " (" << manifest.content_hash()
                << ")\n";
      return 0;
    }
    if (*score) return run_score(sr);
    if (*baseline) return run_baseline(bl_tasks, bl_strategy, bl_constant, bl_seed, bl_output);
  } catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 2;
  }
  return 0;
}
