#include <algorithm>
#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "reports/report.h"
#include "service/scoring.h"
#include "tasks/dataset.h"

namespace verity::cli {
namespace {

void score(const ScoreRequest& request, const std::string& report_path) {
  if (!report_path.empty()) {
    const auto ext = std::filesystem::path(report_path).extension();
    if (ext != ".md" && ext != ".html" && ext != ".htm")
      throw std::invalid_argument("--report " + report_path + ": use a .md (Markdown + SVG chart) or .html file name");
  }
  const ScoreReport report = score_files(request);
  std::cerr << format_problems(report);
  if (report.duplicates_dropped)
    std::cerr << "note: " << report.duplicates_dropped << " repeated id line(s) dropped (--dedupe " << request.dedupe
              << ")\n";
  std::ostream& messages = messages_for(request.output);  // -o -: the scores alone on standard output
  messages << format_report(report);
  if (!request.output.empty() && !is_standard_output(request.output))
    messages << "scores written to " << request.output << "\n";
  if (!report_path.empty()) {
    write_report(report, report_path);
    messages << "report written to " << report_path << "\n";
  }
}

struct BaselineOptions {
  std::string tasks, strategy = "random", constant, output;
  uint64_t seed = 0;
};

// Reference completions: the gold answers, a random label, or a constant text. Every evaluation
// should be read against these (and `gold` checks a pipeline end to end).
void baseline(const BaselineOptions& o) {
  const auto tasks = read_tasks(o.tasks);
  if (tasks.empty()) throw std::invalid_argument(o.tasks + ": holds no tasks (the file is empty)");
  if (o.strategy == "constant" && o.constant.empty())
    throw std::invalid_argument("--strategy constant needs --constant TEXT: the answer every completion gives");
  std::vector<std::string> labels;
  for (const auto& t : tasks)
    if (std::find(labels.begin(), labels.end(), t.answer()) == labels.end()) labels.push_back(t.answer());
  std::sort(labels.begin(), labels.end());
  std::string out;
  for (const auto& t : tasks) {
    std::string answer = o.constant;
    if (o.strategy == "gold") answer = t.answer();
    if (o.strategy == "random") {
      Rng rng(mix_seed({o.seed, fnv1a64(t.id())}));
      answer = rng.pick(labels);
    }
    out += nlohmann::json{{"id", t.id()}, {"completion", "<answer>" + answer + "</answer>"}}.dump() + "\n";
  }
  write_file_atomically(o.output, out);
  messages_for(o.output) << "wrote " << tasks.size() << " " << o.strategy << " completions to "
                         << (is_standard_output(o.output) ? "standard output" : o.output) << "\n";
}

}  // namespace

void add_score_commands(CLI::App& app) {
  auto* cmd = app.add_subcommand("score", "score completions against their tasks");
  auto sr = std::make_shared<ScoreRequest>();
  cmd->add_option("--tasks,-t", sr->tasks_path, "tasks file written by `verity generate` (- reads JSONL from standard input)")->required();
  cmd->add_option("--completions,-c", sr->completions_path, "JSONL with an id and a completion per line (- for standard input)")->required();
  cmd->add_option("-o,--output", sr->output, "write one Score per completion (JSONL); - writes them to standard output and the "
                  "summary to standard error");
  cmd->add_option("--id-field", sr->id_field, "name of the task-id field in the completions file");
  cmd->add_option("--completion-field", sr->completion_field, "name of the completion-text field");
  cmd->add_option("--threads,-j", sr->threads, "worker threads (0 = all cores)")->check(integer_in(0, kMaxThreads));
  cmd->add_flag("--allow-partial", sr->allow_partial,
                "score even when fewer than half of the completion lines name a task of --tasks");
  cmd->add_option("--dedupe", sr->dedupe,
                  "several lines with one id: keep the first or the last (default: refuse the file)")
      ->check(CLI::IsMember({"first", "last"}));
  cmd->add_option("--process-weight", sr->options.process_weight,
                  "blend the process score (coverage of the required derivation x share of valid steps) into the reward, gated by the outcome: "
                  "reward = outcome x ((1 - w) + w x process); 0 = outcome only")
      ->check(CLI::Range(0.0, 1.0));
  auto report_path = std::make_shared<std::string>();
  cmd->add_option("--report", *report_path,
                  "also write a report: accuracy per family x level, format errors, abstentions, process reward "
                  "and a difficulty chart (report.md + report.svg, or one self-contained report.html)");
  cmd->callback([sr, report_path] { score(*sr, *report_path); });

  auto* bl = app.add_subcommand("baseline", "write baseline completions (gold, random label, constant)");
  auto bo = std::make_shared<BaselineOptions>();
  bl->add_option("--tasks,-t", bo->tasks, "tasks file (- reads JSONL from standard input)")->required();
  bl->add_option("--strategy", bo->strategy, "gold | random | constant")
      ->check(CLI::IsMember({"gold", "random", "constant"}));
  bl->add_option("--constant", bo->constant, "the answer for --strategy constant");
  bl->add_option("--seed", bo->seed, "seed for --strategy random")->check(integer_in(0, UINT64_MAX));
  bl->add_option("-o,--output", bo->output, "completions file to write (- for standard output)")->required();
  bl->callback([bo] { baseline(*bo); });
}

}  // namespace verity::cli
