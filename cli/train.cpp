// train, eval, curriculum show, runtime: the trainer's commands (torch-free headers only).
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <sstream>

#include <nlohmann/json.hpp>
#include <yaml-cpp/yaml.h>

#include "cli/commands.h"
#include "curriculum/store.h"
#include "tasks/dataset.h"
#include "trainer/trainer.h"

namespace verity::cli {
namespace {

// A YAML scalar as the JSON value it spells: quoted text stays a string, plain true/false/null and
// numbers become JSON's own (TrainConfig::from_json checks each key's type afterwards).
nlohmann::json yaml_scalar(const YAML::Node& node) {
  const std::string& text = node.Scalar();
  if (node.Tag() == "!") return text;  // quoted
  if (text == "true" || text == "True" || text == "yes") return true;
  if (text == "false" || text == "False" || text == "no") return false;
  if (text.empty() || text == "~" || text == "null") return nullptr;
  try {
    size_t used = 0;
    const long long i = std::stoll(text, &used);
    if (used == text.size()) return i;
    const double d = std::stod(text, &used);
    if (used == text.size()) return d;
  } catch (const std::logic_error&) {
  }
  return text;
}

nlohmann::json yaml_to_json(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Map: {
      nlohmann::json j = nlohmann::json::object();
      for (const auto& kv : node) j[kv.first.as<std::string>()] = yaml_to_json(kv.second);
      return j;
    }
    case YAML::NodeType::Sequence: {
      nlohmann::json j = nlohmann::json::array();
      for (const auto& item : node) j.push_back(yaml_to_json(item));
      return j;
    }
    case YAML::NodeType::Scalar:
      return yaml_scalar(node);
    default:
      return nullptr;
  }
}

// A train config file: JSON (comments allowed) or, for .yaml / .yml names, YAML with the same keys.
nlohmann::json read_config_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot read config " + path);
  const auto ext = std::filesystem::path(path).extension().string();
  nlohmann::json j;
  if (ext == ".yaml" || ext == ".yml") {
    try {
      j = yaml_to_json(YAML::Load(in));
    } catch (const YAML::Exception& e) {
      throw std::runtime_error("config " + path + " line " + std::to_string(e.mark.line + 1) + ": " + e.msg);
    }
  } else {
    try {
      j = nlohmann::json::parse(in, nullptr, true, /*ignore_comments=*/true);
    } catch (const nlohmann::json::exception& e) {
      throw std::runtime_error("config " + path + ": " + e.what());
    }
  }
  if (!j.is_object()) throw std::runtime_error("config " + path + ": expected a mapping of settings (key: value)");
  return j;
}

bool parse_bool(const std::string& key, const std::string& v) {
  if (v.empty() || v == "true" || v == "1" || v == "yes" || v == "on") return true;
  if (v == "false" || v == "0" || v == "no" || v == "off") return false;
  throw std::invalid_argument("--" + key + ": expected true or false, got " + v);
}

// --world-size N without --rendezvous: this process is rank 0 and re-executes itself (/proc/self/exe,
// same arguments) as ranks 1..N-1 with VERITY_RANK / VERITY_RENDEZVOUS set, their output going to
// <run_dir>/rank-<r>.log; the rendezvous is a c10d FileStore in the run directory.
void train_with_ranks(trainer::TrainConfig cfg) {
  namespace fs = std::filesystem;
  fs::create_directories(cfg.run_dir);
  cfg.rendezvous = cfg.run_dir;
  fs::remove(fs::path(cfg.run_dir) / "c10d-store");  // a stale store from a crashed run would block
  std::ifstream in("/proc/self/cmdline", std::ios::binary);
  std::vector<std::string> args;
  for (std::string a; std::getline(in, a, '\0');) args.push_back(a);
  std::vector<pid_t> children;
  for (int r = 1; r < cfg.world_size; ++r) {
    const std::string log = (fs::path(cfg.run_dir) / ("rank-" + std::to_string(r) + ".log")).string();
    const pid_t pid = ::fork();
    if (pid < 0) throw std::runtime_error("cannot start rank " + std::to_string(r));
    if (pid == 0) {
      ::setenv("VERITY_RANK", std::to_string(r).c_str(), 1);
      ::setenv("VERITY_RENDEZVOUS", cfg.rendezvous.c_str(), 1);
      const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      if (fd >= 0) {
        ::dup2(fd, 1);
        ::dup2(fd, 2);
      }
      std::vector<char*> argv;
      for (auto& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      ::execv("/proc/self/exe", argv.data());
      ::_exit(127);
    }
    children.push_back(pid);
  }
  try {
    trainer::run_training(cfg, std::cout);
  } catch (...) {
    for (pid_t pid : children) ::kill(pid, SIGTERM);
    for (pid_t pid : children) ::waitpid(pid, nullptr, 0);
    throw;
  }
  std::string failed;
  for (size_t i = 0; i < children.size(); ++i) {
    int status = 0;
    ::waitpid(children[i], &status, 0);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) failed += " " + std::to_string(i + 1);
  }
  if (!failed.empty())
    throw std::runtime_error("rank(s)" + failed + " failed: see " + cfg.run_dir + "/rank-<r>.log");
}

struct TrainOptions {
  std::string config;
  std::map<std::string, std::string> values;  // config key -> text given on the command line
  std::map<std::string, CLI::Option*> options;
};

}  // namespace

void add_train_commands(CLI::App& app) {
  app.add_subcommand("runtime", "the trainer's runtime: libtorch version, threads and BLAS")->callback([] {
    trainer::configure_threads(2);
    std::cout << trainer::runtime_summary() << "\n";
  });

  // ---- train: one flag per TrainConfig key (--max-steps for max_steps ...), or --config file.json ----
  auto* train = app.add_subcommand("train", "train a small model on generated tasks (SFT, GRPO, curriculum)");
  auto to = std::make_shared<TrainOptions>();
  train->add_option("--config", to->config, "JSON or YAML (.yaml) file of train settings (keys as the flags, with underscores)");
  const nlohmann::json defaults = trainer::TrainConfig().to_json();
  for (const auto& [key, help] : trainer::train_field_help()) {
    const nlohmann::json& value = defaults.at(key);
    std::string flag = "--" + key;
    for (char& c : flag)
      if (c == '_') c = '-';
    auto* opt = train->add_option(flag, to->values[key], help + " (default " + value.dump() + ")");
    opt->type_name(value.is_boolean() ? "[BOOL]" : value.is_number_integer() ? "INT" : value.is_number() ? "NUMBER" : "TEXT");
    if (value.is_boolean()) opt->expected(0, 1);
    to->options[key] = opt;
  }
  train->callback([to, defaults] {
    nlohmann::json flags = nlohmann::json::object();
    for (const auto& [key, opt] : to->options) {
      if (opt->count() == 0) continue;
      const std::string& v = to->values[key];
      const auto& d = defaults.at(key);
      try {
        if (d.is_boolean()) flags[key] = parse_bool(key, v);
        else if (d.is_number_unsigned()) flags[key] = std::stoull(v);
        else if (d.is_number_integer()) flags[key] = std::stoll(v);
        else if (d.is_number_float()) flags[key] = std::stod(v);
        else flags[key] = v;
      } catch (const std::logic_error&) {
        throw std::invalid_argument("--" + key + ": bad value '" + v + "'");
      }
    }
    nlohmann::json j = defaults;
    nlohmann::json file = to->config.empty() ? nlohmann::json::object() : read_config_file(to->config);
    try {
      trainer::TrainConfig::from_json(file);  // validates the keys
    } catch (const std::exception& e) {
      throw std::invalid_argument("config " + to->config + ": " + e.what());
    }
    // --resume: the run's own settings first, then the file, then the flags
    const bool resume = flags.value("resume", file.value("resume", false));
    std::string run_dir = flags.value("run_dir", file.value("run_dir", defaults.at("run_dir").get<std::string>()));
    const auto state_path = std::filesystem::path(run_dir) / "ckpt" / "state.json";
    if (resume && std::filesystem::exists(state_path)) {
      std::ifstream in(state_path);
      auto saved = nlohmann::json::parse(in).at("config");
      saved.erase("rank");  // which process this is and where the ranks meet belong to one launch, not the run
      saved.erase("rendezvous");
      j.update(saved);
    }
    j.update(file);
    j.update(flags);
    if (const char* r = std::getenv("VERITY_RANK")) {  // a rank started by train_with_ranks
      j["rank"] = std::stoi(r);
      if (const char* rv = std::getenv("VERITY_RENDEZVOUS")) j["rendezvous"] = rv;
    }
    const auto cfg = trainer::TrainConfig::from_json(j);
    if (cfg.world_size > 1 && cfg.rendezvous.empty() && !std::getenv("VERITY_RANK"))
      train_with_ranks(cfg);
    else
      trainer::run_training(cfg, std::cout);
  });

  // ---- eval: one task file, or every split of a recipe ----
  struct EvalOptions {
    std::string checkpoint, tasks, recipe, completions, report, data_dir, device = "auto";
    int batch = 64, max_new = 0;
    double scale = 1.0;
  };
  auto eo = std::make_shared<EvalOptions>();
  auto* ev = app.add_subcommand(
      "eval", "accuracy of a checkpoint on a task file or on every split of a recipe (greedy decoding, verifiers)");
  ev->add_option("--checkpoint", eo->checkpoint, "checkpoint directory (e.g. runs/x/ckpt)")->required();
  auto* tasks_opt = ev->add_option("--tasks", eo->tasks, "task file (JSONL or .binpb)");
  auto* recipe_opt = ev->add_option("--recipe", eo->recipe,
                                    "dataset recipe (datasets/*.json): build it and report every split");
  tasks_opt->excludes(recipe_opt);
  recipe_opt->excludes(tasks_opt);
  ev->add_option("--scale", eo->scale, "--recipe: multiply every split's count (quick previews)")
      ->capture_default_str();
  ev->add_option("--data-dir", eo->data_dir, "--recipe: build the splits here and keep them (default: temporary)");
  ev->add_option("--batch", eo->batch, "prompts decoded together")->capture_default_str();
  ev->add_option("--max-new-tokens", eo->max_new, "0 = from the gold completions' length")->capture_default_str();
  ev->add_option("--completions", eo->completions, "write the completions as JSONL (id, completion; split with --recipe)");
  ev->add_option("--report", eo->report,
                 "write the report to this file too (Markdown with --recipe; - for standard output, the summary then "
                 "going to standard error)");
  ev->add_option("--device", eo->device, "cpu | cuda | auto (cuda when this libtorch has CUDA and sees a GPU)")
      ->capture_default_str()
      ->check(CLI::IsMember({"cpu", "cuda", "auto"}));
  ev->callback([eo] {
    if (eo->tasks.empty() == eo->recipe.empty()) throw std::invalid_argument("eval: give --tasks FILE or --recipe FILE");
    if (eo->batch < 1) throw std::invalid_argument("--batch must be at least 1");
    std::unique_ptr<std::ofstream> out;
    if (!eo->completions.empty()) out = std::make_unique<std::ofstream>(eo->completions);
    std::string report;
    std::ostream& summary = messages_for(eo->report);  // --report -: standard output carries the report alone
    if (!eo->recipe.empty()) {
      trainer::RecipeEvalOptions o;
      o.batch = eo->batch;
      o.max_new_tokens = eo->max_new;
      o.scale = eo->scale;
      o.data_dir = eo->data_dir;
      o.device = eo->device;
      o.completions_jsonl = out.get();
      const auto r = trainer::evaluate_recipe(eo->checkpoint, eo->recipe, o);
      summary << trainer::format_recipe_eval(r);
      report = trainer::recipe_eval_markdown(r);
    } else {
      const auto r = trainer::evaluate_checkpoint(eo->checkpoint, eo->tasks, eo->batch, eo->max_new, out.get(),
                                                  eo->device);
      report = trainer::format_eval(r);
      summary << report;
    }
    if (!eo->report.empty()) verity::write_file_atomically(eo->report, report);
  });

  // ---- curriculum show ----
  auto* cur = app.add_subcommand("curriculum", "inspect a run's curriculum statistics (SQLite)");
  cur->require_subcommand(1);
  auto* show = cur->add_subcommand("show", "pass rate per family x level, level changes, recent steps");
  auto db = std::make_shared<std::string>();
  auto last = std::make_shared<int>(10);
  show->add_option("--db", *db, "runs/x/verity.sqlite")->required();
  show->add_option("--last", *last, "recent steps to print")->capture_default_str();
  show->callback([db, last] { std::cout << curriculum::format_curriculum(*db, *last); });
}

}  // namespace verity::cli
