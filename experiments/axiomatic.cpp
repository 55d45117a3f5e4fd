// `verity experiment axiomatic`: see experiment.h. Only the trainer's public API is used here
// (run_training, evaluate_recipe) plus the recipe builder, so this file needs no torch.
#include "experiments/axiomatic.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iomanip>
#include <iostream>
#include <regex>
#include <sstream>

#include "reports/report.h"
#include "service/recipe.h"
#include "tasks/answer_extraction.h"
#include "tasks/dataset.h"
#include "tasks/generator.h"
#include "tasks/knobs.h"
#include "tasks/registry/registry.h"
#include "trainer/train_data.h"
#include "trainer/trainer.h"

namespace verity::experiments {
namespace fs = std::filesystem;
using namespace verity::trainer;
using nlohmann::json;

namespace {

const std::vector<std::string> kPositionalEncodings = {"none", "learned", "sinusoidal", "rope"};

// ---------------- presets ----------------
// sft: TrainConfig keys shared by the positional-encoding models (the trainer's defaults otherwise);
// eval_per_split: items of every evaluation split evaluated (the first ones; the splits hold 1000 at
// train_scale 1); dsep / grpo: their own stages.

json base_preset() {
  return {
      {"transitivity",
       {{"train_recipe", "axiomatic_transitivity_train.json"},
        {"eval_recipe", "axiomatic_transitivity_eval.json"},
        {"train_scale", 1.0},
        {"eval_per_split", 200},
        {"in_distribution_per_part", 50}}},  // held-out tasks per training part: chooses "best"
      {"pos_encodings", kPositionalEncodings},
      {"trace_variant", "rope"},  // a positional encoding: also train one model with the gold trace in the target
      {"eval_batch", 128},
      {"eval_max_new_tokens", 0},  // 0: from each split's gold completions (the trace model needs long ones)
      {"sft",
       {{"layers", 2}, {"width", 64}, {"heads", 4}, {"batch_size", 32}, {"lr", 3e-3}, {"warmup", 50},
        {"max_steps", 5000}, {"sft_prompt_loss", 0.0}, {"checkpoint_every", 500}, {"log_every", 250},
        {"eval_tasks", 0}, {"curriculum", false}}},
      {"trace_sft", json::object()},  // overrides on top of sft for the trace model
      // A curriculum stage before each transitivity model's SFT: the same model first trained on the
      // shortest parts of the training recipe (train_parts), with next-token loss on the prompt too, then
      // SFT on the whole mixture starts from it. Empty: no such stage (the paper's setting). Why: with the
      // loss on the answer alone, models of this size stay at chance on the mixture (the first committed
      // run); short chains with a prompt loss first form the name-matching heads the longer ones need.
      {"warm_start", json::object()},
      {"dsep",
       {{"train_recipe", "axiomatic_dsep_train.json"},
        {"eval_recipe", "axiomatic_dsep_eval.json"},
        {"train_scale", 1.0},
        {"eval_per_split", 200},
        {"pos_encoding", "best"},  // "best": choose_starting_model over the transitivity models
        {"sft", {{"max_steps", 3000}}}}},
      {"grpo",
       {{"from", "best"},
        {"config",
         {{"mode", "grpo"}, {"knobs", "order=sequential,name_min=1,name_max=3,format=natural"},
          {"level", 5}, {"min_level", 4}, {"max_level", 10}, {"curriculum", true}, {"min_samples", 128},
          {"max_steps", 150}, {"prompts_per_step", 16}, {"group_size", 8}, {"max_new_tokens", 8},
          {"grpo_lr", 3e-4}, {"warmup", 10}, {"checkpoint_every", 50}, {"log_every", 10},
          {"gold_injection", true},  // an SFT model near chance gives all-wrong groups: no signal without it
          {"eval_tasks", 64}}}}},
  };
}

}  // namespace

json experiment_preset(const std::string& name) {
  json p = base_preset();
  p["name"] = name;
  if (name == "cpu") {
    p["description"] =
        "about an hour on 2 shared CPU cores (~35 min on 2 idle ones): 4 models of 2 layers x width 64 (0.15M "
        "parameters), 5000 SFT steps of 32 tasks (160k tasks, ~0.9 epochs of the 175k transitivity mixture, "
        "loss on the answer only) and a fifth (rope) with the gold trace in the target, 200 items per evaluation "
        "split; d-separation 3000 steps; GRPO 150 steps";
  } else if (name == "cpu_curriculum") {
    // The cpu preset plus a curriculum stage and the next-token loss on the prompt: the settings under
    // which models of this size learn the mixture at all (see docs/results/axiomatic_curriculum).
    p["description"] =
        "the cpu preset (2 layers x width 64, 5000 SFT steps of 32 tasks on the transitivity mixture) with "
        "the loss on the prompt tokens too, and before it a curriculum stage per model: 2000 steps on the "
        "mixture's sequential chains of 3 nodes (lr 5e-3); about 45 minutes on 2 idle cores";
    p["sft"]["sft_prompt_loss"] = 1.0;
    p["dsep"]["sft"]["sft_prompt_loss"] = 1.0;
    p["warm_start"] = {{"train_parts", "sequential_len3"}, {"max_steps", 2000}, {"lr", 5e-3}, {"sft_prompt_loss", 1.0},
                       {"checkpoint_every", 1000}};
  } else if (name == "smoke") {
    p["description"] = "a minute or two: plumbing check with tiny models and 1% of every recipe (tests)";
    p["transitivity"]["train_scale"] = 0.01;
    p["transitivity"]["eval_per_split"] = 4;
    p["dsep"]["train_scale"] = 0.01;
    p["dsep"]["eval_per_split"] = 4;
    p["trace_variant"] = "rope";
    p["sft"].update({{"layers", 1}, {"width", 32}, {"heads", 2}, {"batch_size", 16}, {"max_steps", 12},
                     {"warmup", 2}, {"checkpoint_every", 5}, {"log_every", 6}});
    p["dsep"]["sft"] = {{"max_steps", 12}};
    p["trace_sft"] = {{"max_steps", 6}};
    p["warm_start"] = {{"train_parts", "sequential_len3"}, {"max_steps", 4}, {"sft_prompt_loss", 1.0}};
    p["eval_max_new_tokens"] = 12;  // untrained models ramble up to the limit: keep it short
    p["transitivity"]["in_distribution_per_part"] = 4;
    p["grpo"]["from"] = "rope";  // untrained models are all constant-answer: "best" would skip GRPO
    p["grpo"]["config"].update({{"max_steps", 4}, {"prompts_per_step", 4}, {"group_size", 4}, {"warmup", 1},
                                {"checkpoint_every", 2}, {"log_every", 2}, {"eval_tasks", 8}});
  } else if (name == "gpu") {
    // The trainer runs on the CPU only (LibTorch CPU build); this preset is the larger configuration for
    // when it gains a GPU, or for a long CPU run.
    p["description"] =
        "larger models (6 layers x width 256, ~5M parameters), 20000 SFT steps of 64 tasks, every evaluation "
        "item, the trace variant; the trainer is CPU-only today, so this runs on the CPU (days on 2 cores)";
    p["transitivity"]["eval_per_split"] = 1000;
    p["dsep"]["eval_per_split"] = 1000;
    p["trace_variant"] = "rope";
    p["sft"].update({{"layers", 6}, {"width", 256}, {"heads", 8}, {"batch_size", 64}, {"lr", 1e-3},
                     {"warmup", 500}, {"max_steps", 20000}, {"checkpoint_every", 1000}, {"log_every", 200}});
    p["dsep"]["sft"] = {{"max_steps", 20000}};
    p["grpo"]["config"].update({{"max_steps", 1000}, {"prompts_per_step", 32}, {"group_size", 8},
                                {"checkpoint_every", 100}, {"eval_tasks", 256}});
  } else {
    std::ifstream in(name);
    if (!in) throw std::invalid_argument("--preset " + name + ": expected smoke | cpu | cpu_curriculum | gpu or a JSON file");
    json file;
    try {
      file = json::parse(in, nullptr, true, true);
    } catch (const json::exception& e) {
      throw std::invalid_argument("--preset " + name + ": " + e.what());
    }
    p.merge_patch(file);
    if (!file.contains("name")) p["name"] = fs::path(name).stem().string();
  }
  return p;
}

int longest_length_at(const std::vector<std::pair<int, double>>& lengths, double threshold) {
  int best = 0;
  for (const auto& [length, accuracy] : lengths) {
    if (accuracy < threshold) break;
    best = length;
  }
  return best;
}

std::string choose_starting_model(const std::vector<StartCandidate>& candidates) {
  const StartCandidate* best = nullptr;
  for (const auto& c : candidates)
    if (c.majority_answer_share < kConstantAnswerShare &&
        (!best || c.in_distribution_accuracy > best->in_distribution_accuracy))
      best = &c;
  return best ? best->model : "";
}

namespace {

double now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

json read_json(const fs::path& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot read " + path.string());
  return json::parse(in);
}

void write_json(const fs::path& path, const json& j) {
  fs::create_directories(path.parent_path());
  write_file_atomically(path.string(), j.dump(1) + "\n");
}

std::string fixed(double v, int digits = 3) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  return buf;
}

// "sequential_len12" -> ("sequential", 12); other names -> ("", 0)
std::pair<std::string, int> length_split(const std::string& name) {
  static const std::regex re("^(sequential|random_flip)_len([0-9]+)$");
  std::smatch m;
  if (std::regex_match(name, m, re)) return {m[1].str(), std::stoi(m[2].str())};
  return {"", 0};
}

struct Experiment {
  ExperimentOptions opt;
  json preset;
  fs::path out, datasets;
  json state;
  std::ostream& log;

  Experiment(const ExperimentOptions& o, std::ostream& l) : opt(o), log(l) {}

  fs::path recipe(const std::string& section, const char* key) const {
    return datasets / preset.at(section).at(key).get<std::string>();
  }
  fs::path data_dir(const std::string& name) const { return out / "data" / name; }
  fs::path run_dir(const std::string& model) const { return out / "runs" / model; }
  fs::path eval_file(const std::string& model) const { return out / "evals" / (model + ".json"); }

  std::vector<std::string> transitivity_models() const {
    std::vector<std::string> m = preset.at("pos_encodings").get<std::vector<std::string>>();
    const std::string trace = preset.value("trace_variant", "");
    if (!trace.empty()) m.push_back(trace + "+trace");
    return m;
  }

  uint64_t eval_per_split(const std::string& section) const {
    if (opt.scale_eval > 0) {
      uint64_t largest = 1;
      for (const auto& p : load_recipe(recipe(section, "eval_recipe").string()).parts)
        largest = std::max(largest, p.count);
      return std::max<uint64_t>(1, uint64_t(std::llround(opt.scale_eval * double(largest))));
    }
    return preset.at(section).at("eval_per_split").get<uint64_t>();
  }

  void save_state() { write_json(out / "state.json", state); }
  bool done(const std::string& stage) const { return state["done"].contains(stage); }

  // ---- the in-distribution held-out set ----
  // Tasks of every part of the transitivity training recipe (same family and knobs), drawn with another
  // seed, none of whose questions is in the training split: the accuracy a model reaches on its own
  // training distribution, by which the GRPO starting model is chosen. Deterministic; built on first use.
  fs::path in_distribution_file() const { return out / "data" / "transitivity_in_distribution.jsonl"; }
  static constexpr uint64_t kHeldOutSeedOffset = 7'000'003;

  void ensure_in_distribution_set() {
    if (fs::exists(in_distribution_file())) return;
    const std::string train_recipe = recipe("transitivity", "train_recipe").string();
    const auto train_keys = question_keys(read_built_recipe(train_recipe, data_dir("transitivity_train").string()));
    const uint64_t per_part = preset.at("transitivity").value("in_distribution_per_part", 50);
    std::string lines;
    uint64_t written = 0, skipped = 0;
    for (const auto& part : load_recipe(train_recipe).parts) {
      const Generator& family = find_family(part.family).generator;
      const Knobs knobs = resolve_knobs(family, part.level, part.knobs);
      std::unordered_set<std::string> seen;
      for (uint64_t i = 0, kept = 0; kept < per_part && i < per_part * 100; ++i) {
        const pb::Task t = make_task(family, knobs, part.level, part.seed + kHeldOutSeedOffset, i);
        if (train_keys.count(question_key(t)) || !seen.insert(question_key(t)).second) {
          ++skipped;
          continue;
        }
        lines += to_json_line(t) + "\n";
        ++kept, ++written;
      }
    }
    write_file_atomically(in_distribution_file().string(), lines);
    log << "in-distribution held-out set: " << written << " tasks (" << skipped
        << " drawn tasks left out: in the training split or repeated)\n";
  }

  // Greedy accuracy on the in-distribution set and the share of the most frequent answer ("" for none).
  json evaluate_in_distribution(const std::string& model) {
    ensure_in_distribution_set();
    const auto tasks = read_tasks(in_distribution_file().string());
    size_t longest_gold = 0;  // bytes bound tokens: room for the longest gold completion, trace included
    for (const auto& t : tasks) {
      size_t bytes = t.answer().size() + 32;
      for (const auto& step : t.trace()) bytes += step.text().size() + 1;
      longest_gold = std::max(longest_gold, bytes);
    }
    const int max_new = preset.value("eval_max_new_tokens", 0) > 0 ? preset.value("eval_max_new_tokens", 0)
                                                                    : static_cast<int>(longest_gold);
    std::ostringstream completions;
    const EvalResult r = evaluate_checkpoint((run_dir(model) / "ckpt").string(), in_distribution_file().string(),
                                             preset.value("eval_batch", 64), max_new, &completions);
    std::map<std::string, uint64_t> answers;
    std::istringstream lines(completions.str());
    uint64_t n = 0;
    for (std::string line; std::getline(lines, line); ++n) {
      const Extraction e = extract_answer(json::parse(line).at("completion").get<std::string>());
      ++answers[e.found ? normalize_answer(e.answer) : ""];
    }
    std::string majority;
    uint64_t most = 0;
    for (const auto& [answer, count] : answers)
      if (count > most) most = count, majority = answer;
    const double share = n ? double(most) / double(n) : 1.0;
    log << "in-distribution accuracy " << fixed(r.accuracy()) << " (" << r.overall.correct << "/" << r.overall.scored
        << "), most frequent answer '" << majority << "' on " << fixed(share) << " of them\n";
    return {{"correct", r.overall.correct},  {"tasks", r.overall.scored}, {"accuracy", r.accuracy()},
            {"majority_answer", majority}, {"majority_answer_share", share}};
  }

  // ---- stage: data ----
  json stage_data() {
    json result;
    for (const std::string section : {"transitivity", "dsep"}) {
      const double scale = preset.at(section).at("train_scale");
      const double t0 = now();
      // the evaluation recipe names the training recipe in disjoint_from: built at the same scale, its
      // questions exclude exactly the training split used here
      ensure_recipe_built(recipe(section, "train_recipe").string(), data_dir(section + "_train").string(), scale, 2);
      ensure_recipe_built(recipe(section, "eval_recipe").string(), data_dir(section + "_eval").string(), scale, 2);
      const auto train = read_built_recipe(recipe(section, "train_recipe").string(), data_dir(section + "_train").string());
      const auto eval = read_built_recipe(recipe(section, "eval_recipe").string(), data_dir(section + "_eval").string());
      const auto train_keys = question_keys(train);
      uint64_t overlap = 0;
      for (const auto& t : eval) overlap += train_keys.count(question_key(t));
      json d = {{"train_tasks", train.size()},           {"train_questions", train_keys.size()},
                {"eval_tasks", eval.size()},             {"eval_questions", question_keys(eval).size()},
                {"overlap", overlap},                    {"train_scale", scale},
                {"seconds", now() - t0}};
      log << "data " << section << ": " << train.size() << " training tasks, " << eval.size()
          << " evaluation tasks, questions in both: " << overlap << " (" << fixed(now() - t0, 1) << " s)\n";
      if (overlap > 0)
        throw std::runtime_error(section + ": " + std::to_string(overlap) +
                                 " evaluation questions also occur in the training split (question_key hash)");
      result[section] = d;
    }
    write_json(out / "data" / "disjointness.json", result);
    return result;
  }

  // ---- training ----
  bool has_warm_start() const { return !preset.value("warm_start", json::object()).empty(); }
  static std::string warm_model(const std::string& model) { return model + ".warm_start"; }

  // warm: the curriculum stage of `model` (preset warm_start on top of its SFT settings); otherwise
  // the model's SFT, started from its warm-start checkpoint when the preset has that stage.
  TrainConfig sft_config(const std::string& section, const std::string& model, const std::string& pe, bool trace,
                         bool warm = false) {
    json j = TrainConfig().to_json();
    j.update(preset.at("sft"));
    if (section == "dsep") j.update(preset.at("dsep").at("sft"));
    if (trace) j.update(preset.at("trace_sft"));
    if (warm) j.update(preset.at("warm_start"));
    if (section == "transitivity" && has_warm_start() && !warm)
      j["init_checkpoint"] = (run_dir(warm_model(model)) / "ckpt").string();
    j["family"] = section == "dsep" ? "d_separation" : "causal_transitivity";
    j["mode"] = "sft";
    j["train_recipe"] = recipe(section, "train_recipe").string();
    j["train_data"] = data_dir(section + "_train").string();
    j["train_scale"] = preset.at(section).at("train_scale");
    j["pos_encoding"] = pe;
    j["sft_trace"] = trace;
    j["seed"] = opt.seed;
    j["threads"] = opt.threads;
    j["run_dir"] = run_dir(warm ? warm_model(model) : model).string();
    j["resume"] = true;  // an interrupted run continues from its last checkpoint
    return TrainConfig::from_json(j);
  }

  json train(const TrainConfig& cfg, const std::string& model) {
    write_json(out / "configs" / (model + ".json"), cfg.to_json());
    log << "== train " << model << " (" << cfg.max_steps << " steps)" << std::endl;
    const double t0 = now();
    run_training(cfg, log);
    const json st = read_json(run_dir(model) / "ckpt" / "state.json");
    const double seconds = st.at("seconds");
    const double tokens = st.at("tokens");
    json s = {{"steps", st.at("step")},
              {"train_seconds", seconds},
              {"tokens", tokens},
              {"tokens_per_s", seconds > 0 ? tokens / seconds : 0.0},
              {"wall_seconds_this_call", now() - t0},
              {"checkpoint", (run_dir(model) / "ckpt").string()}};
    write_json(run_dir(model) / "summary.json", s);
    return s;
  }

  // ---- evaluation ----
  json evaluate(const std::string& section, const std::string& model,
                const std::unordered_set<std::string>* exclude = nullptr) {
    RecipeEvalOptions o;
    o.batch = preset.value("eval_batch", 64);
    o.max_new_tokens = preset.value("eval_max_new_tokens", 0);
    o.scale = preset.at(section).at("train_scale");
    o.data_dir = data_dir(section + "_eval").string();
    o.reuse_build = true;
    o.torch_threads = preset.value("eval_threads", 0) > 0 ? preset.value("eval_threads", 0) : opt.threads;
    o.max_per_split = eval_per_split(section);
    o.exclude_questions = exclude;
    log << "== eval " << model << " on " << section << " (" << o.max_per_split << " items per split)" << std::endl;
    const RecipeEval e = evaluate_recipe((run_dir(model) / "ckpt").string(), recipe(section, "eval_recipe").string(), o);
    log << format_recipe_eval(e);
    fs::create_directories(out / "evals");
    write_file_atomically((out / "evals" / (model + ".md")).string(), recipe_eval_markdown(e));
    json splits = json::array();
    for (const auto& s : e.splits)
      splits.push_back({{"split", s.name},
                        {"correct", s.result.overall.correct},
                        {"tasks", s.result.overall.scored},
                        {"accuracy", s.result.accuracy()},
                        {"format_ok", s.result.overall.format_ok}});
    json r = {{"model", model},          {"section", section},
              {"model_description", e.model}, {"splits", splits},
              {"correct", e.total.overall.correct}, {"tasks", e.total.overall.scored},
              {"seconds", e.seconds}};
    if (section == "transitivity") r["in_distribution"] = evaluate_in_distribution(model);
    write_json(eval_file(model), r);
    return r;
  }

  // "best": the positional-encoding model with the highest in-distribution accuracy that is not a
  // constant-answer model (choose_starting_model); "" when every one is.
  std::string best_pe() {
    std::vector<StartCandidate> candidates;
    for (const auto& pe : preset.at("pos_encodings").get<std::vector<std::string>>()) {
      const json e = read_json(eval_file(pe));
      if (!e.contains("in_distribution")) continue;  // evaluated before the held-out set existed: no score
      const json& d = e.at("in_distribution");
      candidates.push_back({pe, d.at("accuracy").get<double>(), d.at("majority_answer_share").get<double>()});
    }
    return choose_starting_model(candidates);
  }
  std::string choose(const std::string& setting) { return setting == "best" ? best_pe() : setting; }
  static constexpr const char* kNoStartingModel =
      "every positional-encoding model answers one way on at least 90% of the in-distribution tasks "
      "(a constant-answer model): none is a starting point";

  // ---- GRPO ----
  TrainConfig grpo_config(const std::string& from, const std::string& model) {
    const TrainConfig sft = sft_config("transitivity", from, from, false);
    json j = TrainConfig().to_json();
    for (const char* k : {"layers", "width", "heads", "max_len", "pos_encoding", "threads", "seed"})
      j[k] = sft.to_json()[k];
    j.update(preset.at("grpo").at("config"));
    j["family"] = "causal_transitivity";
    j["init_checkpoint"] = (run_dir(from) / "ckpt").string();
    j["run_dir"] = run_dir(model).string();
    j["resume"] = true;
    return TrainConfig::from_json(j);
  }

  // Every task the GRPO run can have drawn: task i < data_index of every level it may visit (a superset).
  std::unordered_set<std::string> grpo_question_overlap(const TrainConfig& cfg, const std::string& model) {
    const json st = read_json(run_dir(model) / "ckpt" / "state.json");
    const uint64_t used = st.at("data_index");
    const auto eval = read_built_recipe(recipe("transitivity", "eval_recipe").string(),
                                        data_dir("transitivity_eval").string());
    const auto eval_keys = question_keys(eval);
    KnobMap overrides;
    for (const auto& item : split_list(cfg.knobs)) parse_knob_assignment(item, overrides);
    const Generator& family = find_family(cfg.family).generator;
    std::unordered_set<std::string> overlap;
    uint64_t generated = 0;
    for (int level = cfg.min_level; level <= cfg.max_level; ++level) {
      const Knobs knobs = resolve_knobs(family, level, overrides);
      for (uint64_t i = 0; i < used; ++i, ++generated) {
        const std::string key = question_key(make_task(family, knobs, level, cfg.seed, i));
        if (eval_keys.count(key)) overlap.insert(key);
      }
    }
    write_json(out / "data" / "grpo_disjointness.json",
               {{"grpo_tasks_checked", generated}, {"eval_questions", eval_keys.size()},
                {"overlap", overlap.size()},
                {"note", "every task index the GRPO run drew, at every level it could visit; overlapping "
                         "evaluation items are left out of the GRPO model's evaluation"}});
    log << "GRPO data: " << generated << " possible training questions checked, in the evaluation set: "
        << overlap.size() << "\n";
    return overlap;
  }

  // ---- report ----
  json report();

  bool run();
};

json Experiment::report() {
  // models in column order: the transitivity models, then the GRPO one
  std::vector<std::string> models = transitivity_models();
  std::string grpo_model;
  if (state["done"].contains("grpo_eval")) grpo_model = state["done"]["grpo_eval"].value("model", "");
  if (!grpo_model.empty()) models.push_back(grpo_model);
  std::map<std::string, json> evals;
  for (const auto& m : models) evals[m] = read_json(eval_file(m));
  const json dis = read_json(out / "data" / "disjointness.json");

  json results = {{"experiment", "axiomatic"},
                  {"preset", preset},
                  {"seed", opt.seed},
                  {"threads", opt.threads},
                  {"disjointness", dis},
                  {"models", json::object()}};
  if (fs::exists(out / "data" / "grpo_disjointness.json"))
    results["grpo_disjointness"] = read_json(out / "data" / "grpo_disjointness.json");

  std::ostringstream md;
  md << "# Axiomatic training: transitivity and d-separation\n\n"
     << "Reproduction of \"Teaching Transformers Causal Reasoning through Axiomatic Training\" (Vashishtha et al., "
        "2024) with Verity, plus a GRPO step. Produced by `verity experiment axiomatic --preset "
     << preset.at("name").get<std::string>() << " --seed " << opt.seed << "`: " << preset.value("description", "")
     << ".\n\n"
     << "Each cell: accuracy (correct/items), greedy decoding scored by the verifiers. Models differ only in "
        "positional encoding unless named otherwise; `+trace` trained on the gold trace and answer, `+grpo` is "
        "GRPO from that SFT checkpoint. The exact settings are in `configs/`.\n\n";
  // transitivity table
  const json& first = evals.at(models.front());
  md << "## Transitivity\n\n| split |";
  for (const auto& m : models) md << " " << m << " |";
  md << "\n|---|";
  for (size_t i = 0; i < models.size(); ++i) md << "---:|";
  md << "\n";
  for (size_t si = 0; si < first.at("splits").size(); ++si) {
    const std::string split = first["splits"][si].at("split");
    md << "| " << split << " |";
    for (const auto& m : models) {
      const json* found = nullptr;
      for (const auto& s : evals.at(m).at("splits"))
        if (s.at("split") == split) found = &s;
      if (!found) {
        md << " - |";
        continue;
      }
      md << " " << fixed((*found)["accuracy"].get<double>()) << " (" << (*found)["correct"].get<uint64_t>() << "/"
         << (*found)["tasks"].get<uint64_t>() << ") |";
    }
    md << "\n";
  }
  md << "| **in-distribution (held out, chains of 3-6 as in training)** |";
  for (const auto& m : models) {
    const json d = evals.at(m).value("in_distribution", json::object());
    if (d.empty()) md << " - |";
    else md << " " << fixed(d.at("accuracy").get<double>()) << " (" << d.at("correct").get<uint64_t>() << "/"
            << d.at("tasks").get<uint64_t>() << ") |";
  }
  md << "\n| most frequent answer's share there |";
  for (const auto& m : models) {
    const json d = evals.at(m).value("in_distribution", json::object());
    md << " " << (d.empty() ? std::string("-") : fixed(d.at("majority_answer_share").get<double>(), 2)) << " |";
  }
  md << "\n";
  // longest length at >= 90%
  std::map<std::string, std::map<std::string, std::vector<std::pair<int, double>>>> curves;  // model -> kind -> points
  for (const auto& m : models) {
    json mj = {{"splits", json::object()}};
    for (const auto& s : evals.at(m).at("splits")) {
      mj["splits"][s.at("split").get<std::string>()] = {
          {"correct", s.at("correct")}, {"tasks", s.at("tasks")}, {"accuracy", s.at("accuracy")}};
      const auto [kind, length] = length_split(s.at("split"));
      if (!kind.empty()) curves[m][kind].emplace_back(length, s.at("accuracy").get<double>());
    }
    for (auto& [kind, pts] : curves[m]) {
      std::sort(pts.begin(), pts.end());
      mj["longest_" + kind + "_at_90"] = longest_length_at(pts, 0.9);
    }
    if (fs::exists(run_dir(m) / "summary.json")) mj["training"] = read_json(run_dir(m) / "summary.json");
    if (evals.at(m).contains("in_distribution")) mj["in_distribution"] = evals.at(m).at("in_distribution");
    mj["eval_seconds"] = evals.at(m).at("seconds");
    mj["model_description"] = evals.at(m).at("model_description");
    results["models"][m] = mj;
  }
  for (const std::string kind : {"sequential", "random_flip"}) {
    md << "| **longest " << kind << " length, all from 7 up at >= 90%** |";
    for (const auto& m : models) {
      const int l = results["models"][m].value("longest_" + kind + "_at_90", 0);
      md << " " << (l ? std::to_string(l) : std::string("< 7")) << " |";
    }
    md << "\n";
  }
  md << "\n![accuracy against chain length](accuracy_vs_length.svg)\n"
     << "![accuracy against chain length, random flips](accuracy_vs_length_random_flip.svg)\n\n";
  if (state["done"].contains("grpo_train")) {
    const json& g = state["done"]["grpo_train"];
    results["grpo_start"] = g.contains("skipped") ? json{{"skipped", g.at("skipped")}}
                                                  : json{{"from", g.at("from")},
                                                         {"rule", preset["grpo"].value("from", "best") == "best"
                                                                      ? "highest in-distribution accuracy among "
                                                                        "models that are not constant-answer"
                                                                      : "fixed by the preset"}};
    if (g.contains("skipped")) md << "## GRPO on longer chains\n\nSkipped: " << g.at("skipped").get<std::string>() << ".\n\n";
  }
  if (!grpo_model.empty()) {
    const std::string from = state["done"]["grpo_eval"].at("from");
    md << "## GRPO on longer chains\n\nFrom the `" << from << "` SFT checkpoint ("
       << results["grpo_start"].value("rule", "") << "), GRPO with the curriculum over "
       << "levels " << preset["grpo"]["config"].value("min_level", 1) << "-" << preset["grpo"]["config"].value("max_level", 10)
       << " of causal_transitivity (chains of up to 50 nodes, statements in order): the longest chain length with "
          "every length from 7 up at >= 90% moves from ";
    auto show = [](int l) { return l ? std::to_string(l) : std::string("< 7"); };
    md << show(results["models"][from].value("longest_sequential_at_90", 0)) << " to "
       << show(results["models"][grpo_model].value("longest_sequential_at_90", 0)) << " (sequential) and from "
       << show(results["models"][from].value("longest_random_flip_at_90", 0)) << " to "
       << show(results["models"][grpo_model].value("longest_random_flip_at_90", 0)) << " (random flips).\n\n";
  }
  // d-separation
  if (state["done"].contains("dsep_eval")) {
    const std::string dm = state["done"]["dsep_eval"].at("model");
    const json e = read_json(eval_file(dm));
    md << "## d-separation (" << dm << ")\n\n| split | accuracy |\n|---|---:|\n";
    json dj = json::object();
    for (const auto& s : e.at("splits")) {
      md << "| " << s.at("split").get<std::string>() << " | " << fixed(s.at("accuracy").get<double>()) << " ("
         << s.at("correct").get<uint64_t>() << "/" << s.at("tasks").get<uint64_t>() << ") |\n";
      dj[s.at("split").get<std::string>()] = {{"correct", s.at("correct")}, {"tasks", s.at("tasks")},
                                              {"accuracy", s.at("accuracy")}};
    }
    md << "\n";
    json dr = {{"model", dm}, {"splits", dj}, {"eval_seconds", e.at("seconds")}};
    if (fs::exists(run_dir(dm) / "summary.json")) dr["training"] = read_json(run_dir(dm) / "summary.json");
    results["dsep"] = dr;
  }
  // disjointness
  md << "## Test splits are disjoint from the training data\n\n"
     << "Every question (graph and query; wording and statement order ignored: `question_key`) of each "
        "training split and each evaluation split was hashed; questions in both:\n\n"
     << "| data | training tasks | evaluation tasks | in both |\n|---|---:|---:|---:|\n";
  for (const auto& [section, d] : dis.items())
    md << "| " << section << " | " << d.at("train_tasks").get<uint64_t>() << " | " << d.at("eval_tasks").get<uint64_t>()
       << " | " << d.at("overlap").get<uint64_t>() << " |\n";
  if (results.contains("grpo_disjointness")) {
    const json& g = results["grpo_disjointness"];
    md << "| GRPO (generated; every index at every reachable level) | " << g.at("grpo_tasks_checked").get<uint64_t>()
       << " | " << g.at("eval_questions").get<uint64_t>() << " | " << g.at("overlap").get<uint64_t>()
       << (g.at("overlap").get<uint64_t>() > 0 ? " (left out of its evaluation)" : "") << " |\n";
  }
  // timing
  md << "\n## Cost\n\n| model | parameters and shape | steps | training s | tokens/s | evaluation s |\n"
     << "|---|---|---:|---:|---:|---:|\n";
  std::vector<std::pair<std::string, json>> timed;
  for (const auto& m : models) timed.emplace_back(m, results["models"][m]);
  if (results.contains("dsep")) {
    json d = results["dsep"];
    d["model_description"] = read_json(eval_file(d.at("model"))).at("model_description");
    timed.emplace_back(d.at("model"), d);
  }
  for (const auto& [m, r] : timed) {
    const json t = r.value("training", json::object());
    md << "| " << m << " | " << r.value("model_description", "") << " | " << t.value("steps", 0) << " | "
       << fixed(t.value("train_seconds", 0.0), 0) << " | " << fixed(t.value("tokens_per_s", 0.0), 0) << " | "
       << fixed(r.value("eval_seconds", 0.0), 0) << " |\n";
  }
  double total = 0;
  for (const auto& [stage, info] : state["done"].items()) total += info.value("seconds", 0.0);
  md << "\nStages took " << fixed(total / 60, 1) << " min in all (" << opt.threads
     << " training thread(s)).\n\n"
     << "## Noise\n\nWith the same seed and thread count a rerun gives the same numbers on the CPU (training draws "
        "its data and initial weights from the seed; evaluation is greedy). Between seeds, the sampling noise of "
        "one cell is about its 95% Wilson interval: +-"
     << fixed(1.96 * std::sqrt(0.25 / double(std::max<uint64_t>(1, eval_per_split("transitivity")))), 3)
     << " at accuracy 0.5 with " << eval_per_split("transitivity")
     << " items per split (per-split intervals: `evals/<model>.md`).\n";
  write_file_atomically((out / "results.md").string(), md.str());
  write_json(out / "results.json", results);

  // charts: accuracy against chain length, one line per model
  for (const std::string kind : {"sequential", "random_flip"}) {
    std::vector<int> lengths;
    for (const auto& [m, kinds] : curves)
      if (kinds.count(kind))
        for (const auto& [l, a] : kinds.at(kind)) lengths.push_back(l);
    std::sort(lengths.begin(), lengths.end());
    lengths.erase(std::unique(lengths.begin(), lengths.end()), lengths.end());
    std::vector<std::pair<double, std::string>> ticks;  // even spacing: 7 ... 15, 20, 50
    for (size_t i = 0; i < lengths.size(); ++i) ticks.emplace_back(double(i), std::to_string(lengths[i]));
    std::vector<ChartSeries> series;
    for (const auto& m : models) {
      ChartSeries s{m, {}};
      if (curves[m].count(kind))
        for (const auto& [l, a] : curves[m][kind])
          s.points.emplace_back(double(std::lower_bound(lengths.begin(), lengths.end(), l) - lengths.begin()), a);
      series.push_back(s);
    }
    const std::string title = kind == "sequential" ? "transitivity: sequential chains" : "transitivity: random flips";
    write_file_atomically(
        (out / (kind == "sequential" ? "accuracy_vs_length.svg" : "accuracy_vs_length_random_flip.svg")).string(),
        line_chart_svg(series, ticks, "chain length (nodes)", title));
  }
  return {{"models", models.size()}};
}

bool Experiment::run() {
  out = opt.out_dir;
  datasets = opt.datasets_dir;
  preset = experiment_preset(opt.preset);
  if (opt.experiment != "axiomatic") throw std::invalid_argument("unknown experiment " + opt.experiment + " (axiomatic)");
  const json settings = {{"experiment", opt.experiment}, {"preset", preset}, {"seed", opt.seed},
                         {"scale_eval", opt.scale_eval}};
  if (fs::exists(out / "state.json")) {
    if (!opt.resume)
      throw std::runtime_error(out.string() + " holds a run already: pass --resume to continue it, or another --out");
    state = read_json(out / "state.json");
    if (state.at("settings") != settings)
      throw std::runtime_error(out.string() + " was started with other settings (see its configs/preset.json)");
    log << "resuming " << out.string() << ": " << state["done"].size() << " stages done\n";
  } else {
    state = {{"settings", settings}, {"done", json::object()}};
    fs::create_directories(out);
    save_state();
  }
  write_json(out / "configs" / "preset.json", preset);
  write_json(out / "configs" / "run.json",
             {{"experiment", opt.experiment}, {"preset", preset.at("name")}, {"seed", opt.seed},
              {"threads", opt.threads}, {"scale_eval", opt.scale_eval}, {"datasets", opt.datasets_dir},
              {"eval_items_per_split", {{"transitivity", eval_per_split("transitivity")},
                                        {"dsep", eval_per_split("dsep")}}}});

  struct Stage {
    std::string name;
    std::function<json()> run;
  };
  std::vector<Stage> stages;
  stages.push_back({"data", [&] { return stage_data(); }});
  for (const auto& m : transitivity_models()) {
    const bool trace = m.size() > 6 && m.substr(m.size() - 6) == "+trace";
    const std::string pe = trace ? m.substr(0, m.size() - 6) : m;
    if (has_warm_start())
      stages.push_back({"warm_start_" + m, [this, m, pe, trace] {
                          return train(sft_config("transitivity", m, pe, trace, true), warm_model(m));
                        }});
    stages.push_back({"train_" + m, [this, m, pe, trace] { return train(sft_config("transitivity", m, pe, trace), m); }});
    stages.push_back({"eval_" + m, [this, m] { return evaluate("transitivity", m); }});
  }
  stages.push_back({"dsep_train", [&] {
                      std::string pe = choose(preset["dsep"].value("pos_encoding", "best"));
                      if (pe.empty()) pe = preset.at("pos_encodings").at(0);  // no learner: any encoding will do
                      const std::string m = "dsep_" + pe;
                      json r = train(sft_config("dsep", m, pe, false), m);
                      r["model"] = m;
                      return r;
                    }});
  stages.push_back({"dsep_eval", [&] {
                      const std::string m = state["done"]["dsep_train"].at("model");
                      json r = evaluate("dsep", m);
                      return json{{"model", m}, {"seconds", r.at("seconds")}};
                    }});
  stages.push_back({"grpo_train", [&] {
                      const std::string from = choose(preset["grpo"].value("from", "best"));
                      if (from.empty()) {
                        log << "GRPO skipped: " << kNoStartingModel << "\n";
                        return json{{"skipped", kNoStartingModel}};
                      }
                      const std::string m = from + "+grpo";
                      json r = train(grpo_config(from, m), m);
                      r["model"] = m;
                      r["from"] = from;
                      return r;
                    }});
  stages.push_back({"grpo_eval", [&] {
                      if (state["done"]["grpo_train"].contains("skipped")) return state["done"]["grpo_train"];
                      const std::string m = state["done"]["grpo_train"].at("model");
                      const std::string from = state["done"]["grpo_train"].at("from");
                      const auto overlap = grpo_question_overlap(grpo_config(from, m), m);
                      json r = evaluate("transitivity", m, &overlap);
                      return json{{"model", m}, {"from", from}, {"seconds", r.at("seconds")},
                                  {"overlap_left_out", overlap.size()}};
                    }});

  int ran = 0;
  for (const auto& stage : stages) {
    if (done(stage.name)) continue;
    if (opt.stop_after >= 0 && ran >= opt.stop_after) {
      log << "stopping after " << ran << " stage(s) (--stop-after); continue with --resume\n";
      return false;
    }
    const double t0 = now();
    log << "-- stage " << stage.name << std::endl;
    json info = stage.run();
    info["seconds"] = now() - t0;
    state["done"][stage.name] = info;
    save_state();
    ++ran;
    log << std::flush;
  }
  report();  // cheap, and always from the recorded files: the same tables after any resume
  log << "results: " << (out / "results.md").string() << ", " << (out / "accuracy_vs_length.svg").string() << "\n";
  return true;
}

}  // namespace

bool run_experiment(const ExperimentOptions& options, std::ostream& log) {
  Experiment e(options, log);
  return e.run();
}

}  // namespace verity::experiments
