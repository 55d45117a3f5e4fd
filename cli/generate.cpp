#include <iostream>

#include "cli/commands.h"
#include "service/generate.h"
#include "service/recipe.h"
#include "tasks/dataset.h"
#include "tasks/registry/registry.h"

namespace verity::cli {
namespace {

// The most tasks one command writes (a whole dataset; each --shard job writes its slice).
constexpr uint64_t kMaxCount = 1'000'000'000;

std::pair<uint64_t, uint64_t> parse_shard(const std::string& text) {
  const auto slash = text.find('/');
  const auto number = [&](const std::string& digits) {
    if (digits.empty() || digits.size() > 9 || digits.find_first_not_of("0123456789") != std::string::npos)
      throw std::invalid_argument("");
    return std::stoull(digits);
  };
  uint64_t k = 0, n = 0;
  try {
    if (slash == std::string::npos) throw std::invalid_argument("");
    k = number(text.substr(0, slash));
    n = number(text.substr(slash + 1));
  } catch (...) {
    n = 0;
  }
  if (n == 0 || k >= n)
    throw std::invalid_argument("bad --shard '" + text + "': write K/N with 0 <= K < N, e.g. --shard 0/4");
  return {k, n};
}

void check_level(const std::string& family_name, int level) {
  const int max = find_family(family_name).generator.max_level();
  if (level < 0 || level > max)
    throw std::invalid_argument("--level " + std::to_string(level) + " is out of range for " + family_name +
                                ": use 1.." + std::to_string(max) + " (or 0: defaults and --knob values only)");
}

struct Options {
  GenerateRequest request;
  std::vector<std::string> knobs;
  std::string shard = "0/1";
  bool no_progress = false;
  std::string recipe;
  double scale = 1.0;
  // Options that only make sense for one dataset: required without --recipe, refused with it.
  std::vector<const CLI::Option*> single_dataset;
  const CLI::Option* family = nullptr;
  const CLI::Option* count = nullptr;
  const CLI::Option* output = nullptr;
};

// --recipe FILE -o DIR: every part of the recipe, its manifests and the recipe manifest.
void build_from_recipe(const Options& opt) {
  for (const CLI::Option* o : opt.single_dataset)
    if (o->count() > 0)
      throw std::invalid_argument(o->get_name() + " does not go with --recipe: the recipe file " + opt.recipe +
                                  " names every part's family, knobs, count and seed");
  if (opt.output->count() == 0 || is_standard_output(opt.request.output))
    throw std::invalid_argument("--recipe " + opt.recipe + " needs -o DIR: the folder for the part files and manifests "
                                "(a recipe writes several files, so not '-', standard output)");
  const Recipe recipe = load_recipe(opt.recipe);
  RecipeBuildOptions build;
  build.output_dir = opt.request.output;
  build.scale = opt.scale;
  build.threads = opt.request.threads;
  const RecipeSummary summary = build_recipe(recipe, build);
  std::cout << "wrote " << summary.total << " tasks in " << recipe.parts.size() << " parts of recipe " << recipe.name
            << " to " << build.output_dir << " (" << summary.content_hash << ", " << summary.skipped_duplicates
            << " duplicate questions skipped); manifest " << summary.manifest_path << "\n";
}

void generate_one(Options& opt) {
  if (opt.family->count() == 0) throw std::invalid_argument("--family is required (or build a recipe: --recipe FILE)");
  if (opt.count->count() == 0) throw std::invalid_argument("-n/--count is required: the number of tasks");
  if (opt.output->count() == 0)
    throw std::invalid_argument("-o/--output is required: the output file, or - for standard output");
  GenerateRequest& r = opt.request;
  check_level(r.family, r.level);
  for (const auto& k : opt.knobs) parse_knob_assignment(k, r.knobs);
  std::tie(r.shard_index, r.shard_count) = parse_shard(opt.shard);
  r.progress = !opt.no_progress;
  const auto manifest = generate_dataset(r);
  messages_for(r.output) << "wrote " << manifest.count() << " tasks to "
                         << (is_standard_output(r.output) ? "standard output" : r.output) << " ("
                         << manifest.content_hash() << ")\n";
}

}  // namespace

void add_generate_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("generate", "generate a dataset (JSONL, or .binpb for binary), or every part of a recipe");
  auto opt = std::make_shared<Options>();
  GenerateRequest& r = opt->request;
  opt->family = cmd->add_option("--family,-f", r.family, "family name (see `verity list`)");
  auto* level = cmd->add_option("--level,-l", r.level, "difficulty level (1..the family's top level, see `verity list`); 0 = defaults + knobs only")
                    ->check(integer_in(0, 1000));
  auto* knobs = cmd->add_option("--knob,-k", opt->knobs, "override a knob: name=value (repeatable)");
  opt->count = cmd->add_option("-n,--count", r.count, "number of tasks in the whole dataset")
                   ->check(integer_in(1, kMaxCount));
  cmd->add_option("--seed,-s", r.seed, "dataset seed")->check(integer_in(0, UINT64_MAX));
  opt->output = cmd->add_option("-o,--output", r.output, "output file (.jsonl, or .binpb; a manifest <output>.manifest.json beside it); - writes the JSONL to "
                                "standard output, with no manifest and this command's messages on standard error; with "
                                "--recipe, a folder");
  cmd->add_option("--threads,-j", r.threads, "worker threads (0 = all cores)")->check(integer_in(0, kMaxThreads));
  auto* shard = cmd->add_option("--shard", opt->shard, "write only slice K of N (0-based K, e.g. 3/8)");
  cmd->add_flag("--no-progress", opt->no_progress, "no progress bar");
  cmd->add_option("--recipe,-r", opt->recipe, "build every part of a recipe file (datasets/*.json) into the -o folder");
  cmd->add_option("--scale", opt->scale, "with --recipe: multiply every part's count (e.g. 0.01 for a preview)")
      ->check(positive_up_to(1000));
  opt->single_dataset = {opt->family, level, knobs, opt->count, shard, cmd->get_option("--seed")};
  cmd->callback([opt] {
    if (!opt->recipe.empty()) build_from_recipe(*opt);
    else generate_one(*opt);
  });
}

}  // namespace verity::cli
