#include <iostream>

#include "cli/commands.h"
#include "tasks/dataset.h"

namespace verity::cli {
namespace {

std::pair<uint64_t, uint64_t> parse_shard(const std::string& text) {
  const auto slash = text.find('/');
  try {
    if (slash == std::string::npos) throw std::invalid_argument("");
    return {std::stoull(text.substr(0, slash)), std::stoull(text.substr(slash + 1))};
  } catch (...) {
    throw std::invalid_argument("bad --shard '" + text + "': write K/N with 0 <= K < N, e.g. --shard 0/4");
  }
}

struct Options {
  GenerateRequest request;
  std::vector<std::string> knobs;
  std::string shard = "0/1";
  bool no_progress = false;
};

}  // namespace

void add_generate_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("generate", "generate a dataset (JSONL, or .binpb for binary)");
  auto opt = std::make_shared<Options>();
  GenerateRequest& r = opt->request;
  cmd->add_option("--family,-f", r.family, "family name (see `verity list`)")->required();
  cmd->add_option("--level,-l", r.level, "difficulty level (1..10); 0 = defaults + knobs only");
  cmd->add_option("--knob,-k", opt->knobs, "override a knob: name=value (repeatable)");
  cmd->add_option("-n,--count", r.count, "number of tasks in the whole dataset")->required();
  cmd->add_option("--seed,-s", r.seed, "dataset seed");
  cmd->add_option("-o,--output", r.output, "output file (.jsonl, or .binpb for binary)")->required();
  cmd->add_option("--threads,-j", r.threads, "worker threads (0 = all cores)");
  cmd->add_option("--shard", opt->shard, "write only slice K of N (0-based K, e.g. 3/8)");
  cmd->add_flag("--no-progress", opt->no_progress, "no progress bar");
  cmd->callback([opt] {
    GenerateRequest& r = opt->request;
    for (const auto& k : opt->knobs) parse_knob_assignment(k, r.knobs);
    std::tie(r.shard_index, r.shard_count) = parse_shard(opt->shard);
    r.progress = !opt->no_progress;
    const auto manifest = generate_dataset(r);
    std::cout << "wrote " << manifest.count() << " tasks to " << r.output << " (" << manifest.content_hash() << ")\n";
  });
}

}  // namespace verity::cli
