// `verity export`: rewrites a task file in the column layout a training framework's recipe reads,
// keeping the whole task record so the reward functions in python/verity score from the row alone.
// A .parquet output is written by pyarrow in the user's Python (python3, or $VERITY_PYTHON): verl's
// default reader wants Parquet, and no C++ Parquet writer is packaged for Debian 12. Without pyarrow a
// .parquet name is refused before anything is written (never JSONL under a .parquet name).
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <filesystem>
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

std::string python_command() {
  const char* chosen = std::getenv("VERITY_PYTHON");
  return chosen && *chosen ? chosen : "python3";
}

// Runs python with `args` (no shell); returns its exit status (127 when it cannot start).
int run_python(const std::vector<std::string>& args) {
  std::vector<std::string> all{python_command()};
  all.insert(all.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : all) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::cout.flush();
  const pid_t pid = fork();
  if (pid < 0) throw std::runtime_error("cannot start " + all[0]);
  if (pid == 0) {
    execvp(argv[0], argv.data());
    _exit(127);
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// Reads the JSONL rows and writes them as one Parquet table, through a temporary name renamed at the end.
const char* kParquetScript = R"PY(
import json, os, sys
import pyarrow as pa, pyarrow.parquet as pq
rows_path, out_path = sys.argv[1], sys.argv[2]
with open(rows_path, encoding="utf-8") as f:
    rows = [json.loads(line) for line in f]
tmp = out_path + ".tmp.%d" % os.getpid()
try:
    pq.write_table(pa.Table.from_pylist(rows), tmp)
    os.replace(tmp, out_path)
finally:
    if os.path.exists(tmp):
        os.remove(tmp)
)PY";

void require_pyarrow(const std::string& output) {
  const int status = run_python({"-c", "import pyarrow, pyarrow.parquet"});
  if (status == 0) return;
  throw std::invalid_argument(
      "cannot write " + output + ": Parquet is written with pyarrow, and " +
      (status == 127 ? python_command() + " cannot be started" : "pyarrow is not importable by " + python_command()) +
      ". Install it (pip install pyarrow) or point VERITY_PYTHON at a Python that has it, or give a .jsonl output "
      "name (verl reads JSONL with verity.verl.VerityDataset)");
}

void export_tasks(const ExportOptions& o) {
  const auto tasks = read_tasks(o.tasks);
  if (tasks.empty()) throw std::invalid_argument(o.tasks + ": holds no tasks (the file is empty)");
  const bool parquet = ends_with(o.output, ".parquet");
  if (parquet) require_pyarrow(o.output);
  const std::string rows_path = parquet ? o.output + ".rows.jsonl" : o.output;
  // Streamed through the temporary file (removed on SIGTERM / Ctrl-C), renamed when complete.
  write_stream_atomically(rows_path, [&](std::ostream& out) {
    for (const auto& t : tasks) {
      json task = json::parse(to_json_line(t));
      drop_empty_objects(task);
      const json row = o.framework == "verl" ? verl_row(task, o) : trl_row(std::move(task), o);
      out << row.dump(-1, ' ', false, json::error_handler_t::replace) << "\n";
    }
  });
  if (parquet) {
    const int status = run_python({"-c", kParquetScript, rows_path, o.output});
    std::filesystem::remove(rows_path);
    if (status != 0)
      throw std::runtime_error("pyarrow failed to write " + o.output + " (exit " + std::to_string(status) +
                               "; its message is above); nothing was written");
  }
  messages_for(o.output) << "wrote " << tasks.size() << " rows for " << o.framework << " to "
                         << (is_standard_output(o.output) ? "standard output" : o.output) << (parquet ? " (Parquet)" : "")
                         << "\n";
}

}  // namespace

void add_export_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("export", "write tasks in the column layout of verl or TRL (JSONL, or Parquet "
                                           "for a .parquet name when pyarrow is importable)");
  auto o = std::make_shared<ExportOptions>();
  cmd->add_option("--for", o->framework, "verl | trl")->required()->check(CLI::IsMember({"verl", "trl"}));
  cmd->add_option("--tasks,-t", o->tasks, "tasks file written by `verity generate` (- reads JSONL from standard input)")->required();
  cmd->add_option("-o,--output", o->output, "file to write: JSONL, or Parquet when it ends in .parquet; - writes the JSONL to standard output")->required();
  cmd->add_option("--ability", o->ability, "verl: the 'ability' column");
  cmd->add_flag("--chat", o->chat, "trl: write the prompt as a chat message list (conversational format)");
  cmd->callback([o] { export_tasks(*o); });
}

}  // namespace verity::cli
