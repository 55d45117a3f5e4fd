// `verity export`: rewrites a task file in the column layout a training framework's recipe reads,
// keeping the whole task record so the reward functions in python/verity score from the row alone.
#include <iostream>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "tasks/dataset.h"

namespace verity::cli {
namespace {

// ordered: columns keep the order recipes show (data_source, prompt, ...) and the record its schema order.
using json = nlohmann::ordered_json;

struct ExportOptions {
  std::string framework, tasks, output;
  std::string ability = "logic";
  bool chat = false;  // TRL: conversational prompt instead of plain text
};

json chat_prompt(const std::string& text) { return json::array({{{"role", "user"}, {"content", text}}}); }

// verl's RLHFDataset / reward manager columns; extra_info is the task record itself, which
// verity.compute_score reads.
json verl_row(const json& task, const ExportOptions& o) {
  return {{"data_source", "verity/" + task.at("family").get<std::string>()},
          {"prompt", chat_prompt(task.at("prompt").get<std::string>())},
          {"ability", o.ability},
          {"reward_model", {{"style", "rule"}, {"ground_truth", task.at("answer")}}},
          {"extra_info", task}};
}

// TRL's GRPOTrainer reads "prompt" and passes every other column to reward functions by name:
// the task's own fields are those columns, so verity.trl_reward rebuilds the record from them.
json trl_row(json task, const ExportOptions& o) {
  if (o.chat) task["prompt"] = chat_prompt(task.at("prompt").get<std::string>());
  return task;
}

// Arrow cannot write a struct with no fields to Parquet, so empty maps (e.g. meta: {}) are left out;
// a missing map reads back as an empty one.
void drop_empty_objects(json& value) {
  if (!value.is_object()) return;
  for (auto it = value.begin(); it != value.end();) {
    drop_empty_objects(it.value());
    it = it.value().is_object() && it.value().empty() ? value.erase(it) : std::next(it);
  }
}

void export_tasks(const ExportOptions& o) {
  const auto tasks = read_tasks(o.tasks);
  if (tasks.empty()) throw std::invalid_argument(o.tasks + ": holds no tasks (the file is empty)");
  // Streamed through the temporary file (removed on SIGTERM / Ctrl-C), renamed when complete.
  write_stream_atomically(o.output, [&](std::ostream& out) {
    for (const auto& t : tasks) {
      json task = json::parse(to_json_line(t));
      drop_empty_objects(task);
      const json row = o.framework == "verl" ? verl_row(task, o) : trl_row(std::move(task), o);
      out << row.dump(-1, ' ', false, json::error_handler_t::replace) << "\n";
    }
  });
  std::cout << "wrote " << tasks.size() << " rows for " << o.framework << " to " << o.output << "\n";
}

}  // namespace

void add_export_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("export", "write tasks in the column layout of verl or TRL (JSONL)");
  auto o = std::make_shared<ExportOptions>();
  cmd->add_option("--for", o->framework, "verl | trl")->required()->check(CLI::IsMember({"verl", "trl"}));
  cmd->add_option("--tasks,-t", o->tasks, "tasks file written by `verity generate`")->required();
  cmd->add_option("-o,--output", o->output, "JSONL file to write")->required();
  cmd->add_option("--ability", o->ability, "verl: the 'ability' column");
  cmd->add_flag("--chat", o->chat, "trl: write the prompt as a chat message list (conversational format)");
  cmd->callback([o] { export_tasks(*o); });
}

}  // namespace verity::cli
