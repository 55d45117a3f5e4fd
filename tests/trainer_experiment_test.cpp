// SFT on a recipe's training split (train_recipe) and `verity experiment axiomatic`: the smoke
// preset end to end, its files and tables, the disjointness check, and stop + --resume giving the same
// results as an uninterrupted run.
#ifdef VERITY_HAVE_TRAINER
#include <gtest/gtest.h>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <thread>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "experiments/axiomatic.h"
#include "service/recipe.h"
#include "tasks/dataset.h"
#include "tasks/registry/registry.h"
#include "test_support.h"
#include "trainer/train_data.h"
#include "trainer/trainer.h"

namespace {

using namespace verity;
using namespace verity::trainer;
using namespace verity::experiments;
namespace fs = std::filesystem;

fs::path temp_dir(const std::string& name) { return verity::testing::fresh_temp_dir("verity_experiment_test", name); }

const auto read = verity::testing::read_file;

fs::path tiny_recipe(const fs::path& dir) {
  const fs::path p = dir / "tiny_train.json";
  std::ofstream(p) << R"({"name": "tiny_train", "parts": [
    {"name": "len3", "family": "causal_transitivity", "knobs": {"chain_length": 3}, "count": 12, "seed": 5},
    {"name": "len4", "family": "causal_transitivity", "knobs": {"chain_length": 4}, "count": 13, "seed": 6}]})";
  return p;
}

TEST(RecipeTrainData, EveryEpochVisitsEveryTaskOnceInASeededOrder) {
  const fs::path dir = temp_dir("data");
  const fs::path recipe = tiny_recipe(dir);
  auto d = RecipeTrainData::load(recipe.string(), (dir / "built").string(), 1.0, 7, 1);
  ASSERT_EQ(d.size(), 25u);
  EXPECT_EQ(d.families(), std::vector<std::string>{"causal_transitivity"});
  std::vector<size_t> e0, e1;
  for (uint64_t i = 0; i < 25; ++i) e0.push_back(d.position(i));
  for (uint64_t i = 25; i < 50; ++i) e1.push_back(d.position(i));
  EXPECT_EQ(std::set<size_t>(e0.begin(), e0.end()).size(), 25u);  // a permutation
  EXPECT_EQ(std::set<size_t>(e1.begin(), e1.end()).size(), 25u);
  EXPECT_NE(e0, e1);  // a fresh order every epoch
  // a pure function of (recipe, seed, index): reloaded (and not rebuilt), random access agrees
  EXPECT_FALSE(ensure_recipe_built(recipe.string(), (dir / "built").string(), 1.0, 1));
  auto again = RecipeTrainData::load(recipe.string(), (dir / "built").string(), 1.0, 7, 1);
  EXPECT_EQ(again.position(30), e1[5]);
  EXPECT_EQ(again.position(3), e0[3]);
  EXPECT_EQ(again.at(3).id(), d.tasks()[e0[3]].id());
  auto other = RecipeTrainData::load(recipe.string(), (dir / "built").string(), 1.0, 8, 1);
  std::vector<size_t> o0;
  for (uint64_t i = 0; i < 25; ++i) o0.push_back(other.position(i));
  EXPECT_NE(o0, e0);  // another seed, another order
  // a changed scale rebuilds
  EXPECT_TRUE(ensure_recipe_built(recipe.string(), (dir / "built").string(), 0.5, 1));
}

TEST(RecipeTrainData, TrainPartsSelectPartsByNameAndUnknownOnesAreNamed) {
  const fs::path dir = temp_dir("parts");
  const fs::path recipe = tiny_recipe(dir);
  auto only4 = RecipeTrainData::load(recipe.string(), (dir / "built").string(), 1.0, 7, 1, split_list(" len4 ,"));
  ASSERT_EQ(only4.size(), 13u);
  std::set<std::string> ids, part_ids;
  for (const auto& t : only4.tasks()) ids.insert(t.id());
  for (const auto& t : read_tasks((dir / "built" / "len4.jsonl").string())) part_ids.insert(t.id());
  EXPECT_EQ(ids, part_ids);
  EXPECT_EQ(RecipeTrainData::load(recipe.string(), (dir / "built").string(), 1.0, 7, 1, {"len3", "len4"}).size(), 25u);
  try {
    RecipeTrainData::load(recipe.string(), (dir / "built").string(), 1.0, 7, 1, {"len5"});
    ADD_FAILURE() << "an unknown part was accepted";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("no part 'len5' (parts: len3, len4)"), std::string::npos) << e.what();
  }
}

TEST(RecipeTrainData, SftOnARecipeResumesWithTheSameDataOrder) {
  const fs::path dir = temp_dir("sft");
  const fs::path recipe = tiny_recipe(dir);
  auto config = [&](const fs::path& run) {
    TrainConfig c;
    c.run_dir = run.string();
    c.train_recipe = recipe.string();
    c.train_data = (dir / "built").string();
    c.layers = 1;
    c.width = 16;
    c.heads = 2;
    c.batch_size = 4;
    c.max_steps = 8;  // 32 draws: more than one epoch of 25
    c.checkpoint_every = 3;
    c.eval_tasks = 0;
    c.log_every = 0;
    return c;
  };
  std::ostringstream log;
  const auto a = run_training(config(dir / "a"), log);
  EXPECT_NE(log.str().find("SFT data: recipe tiny_train, 25 tasks"), std::string::npos) << log.str();
  TrainConfig cb = config(dir / "b");
  cb.max_steps = 5;  // checkpoints at 3 and 5; resume from 3 as after a crash
  run_training(cb, log);
  fs::remove(dir / "b" / "ckpt");
  fs::create_directory_symlink("ckpt-00000003", dir / "b" / "ckpt");
  cb.max_steps = 8;
  cb.resume = true;
  const auto b = run_training(cb, log);
  EXPECT_EQ(a.final_parameters, b.final_parameters);
  const auto state = nlohmann::json::parse(read(dir / "b" / "ckpt" / "state.json"));
  EXPECT_EQ(state.at("data_index").get<uint64_t>(), 32u);
  // a family outside --family is refused (the tokenizer would not know its words)
  TrainConfig bad = config(dir / "c");
  bad.family = "d_separation";
  EXPECT_THROW(run_training(bad, log), std::invalid_argument);
}

TEST(Experiment, LongestLengthAtThreshold) {
  EXPECT_EQ(longest_length_at({{7, 0.95}, {8, 0.91}, {9, 0.5}, {10, 0.99}}, 0.9), 8);
  EXPECT_EQ(longest_length_at({{7, 0.5}}, 0.9), 0);
  EXPECT_EQ(longest_length_at({{7, 1.0}, {50, 0.9}}, 0.9), 50);
}

// The GRPO starting model: the best in-distribution accuracy, never a constant-answer model. The first
// committed runs chose by mean accuracy over the longer chains, where a model answering "No" to everything
// scores about 0.5 and beat a model that had learned the training chains.
TEST(Experiment, StartingModelIsTheBestInDistributionLearnerNeverAConstantAnswerModel) {
  // a constant-answer model with the higher accuracy (0.56 on slightly unbalanced items) loses to a learner
  EXPECT_EQ(choose_starting_model({{"none", 0.56, 1.0}, {"rope", 0.54, 0.55}}), "rope");
  EXPECT_EQ(choose_starting_model({{"none", 0.70, 0.60}, {"learned", 0.95, 0.52}, {"rope", 0.90, 0.50}}), "learned");
  EXPECT_EQ(choose_starting_model({{"none", 0.80, 0.55}, {"rope", 0.80, 0.50}}), "none");  // ties: the first
  EXPECT_EQ(choose_starting_model({{"none", 0.51, 0.95}, {"rope", 0.50, kConstantAnswerShare}}), "");
  EXPECT_EQ(choose_starting_model({}), "");
}

// The smoke preset end to end (about a minute on 2 cores), then the same run stopped after 3 stages and
// resumed twice: the same results table.
TEST(Experiment, SmokePresetWritesResultsAndResumesToTheSameTable) {
  const fs::path dir = temp_dir("smoke");
  ExperimentOptions o;
  o.preset = "smoke";
  o.datasets_dir = std::string(VERITY_SOURCE_DIR) + "/datasets";
  o.out_dir = (dir / "a").string();
  std::ostringstream log;
  ASSERT_TRUE(run_experiment(o, log)) << log.str();
  const fs::path a = dir / "a";
  for (const char* f : {"results.md", "results.json", "accuracy_vs_length.svg", "accuracy_vs_length_random_flip.svg",
                        "configs/preset.json", "configs/run.json", "configs/rope.json", "configs/rope+trace.json",
                        "data/disjointness.json", "data/grpo_disjointness.json", "state.json"})
    EXPECT_TRUE(fs::exists(a / f)) << f;
  const std::string md = read(a / "results.md");
  EXPECT_NE(md.find("| split | none | learned | sinusoidal | rope | rope+trace |"), std::string::npos) << md;
  EXPECT_NE(md.find("| sequential_len50 |"), std::string::npos) << md;
  EXPECT_NE(md.find("/4) |"), std::string::npos) << md;  // accuracy with its item count
  EXPECT_NE(md.find("## d-separation"), std::string::npos) << md;
  EXPECT_NE(md.find("## GRPO on longer chains"), std::string::npos) << md;
  const auto results = nlohmann::json::parse(read(a / "results.json"));
  EXPECT_EQ(results.at("disjointness").at("transitivity").at("overlap").get<int>(), 0);
  EXPECT_EQ(results.at("disjointness").at("dsep").at("overlap").get<int>(), 0);
  EXPECT_GT(results.at("disjointness").at("transitivity").at("train_questions").get<int>(), 1000);
  EXPECT_EQ(results.at("models").size(), 6u);  // 4 encodings, the trace model, the GRPO model
  EXPECT_EQ(results.at("models").at("none").at("splits").at("sequential_len7").at("tasks").get<int>(), 4);
  // every encoding's held-out in-distribution accuracy (4 tasks of each of the 12 training parts, none in
  // the training split) and its answer spread, by which "best" is chosen; the smoke preset fixes GRPO's start
  for (const char* m : {"none", "learned", "sinusoidal", "rope"}) {
    const auto& d = results.at("models").at(m).at("in_distribution");
    EXPECT_EQ(d.at("tasks").get<int>(), 48) << m;
    EXPECT_GE(d.at("majority_answer_share").get<double>(), 0.0) << m;
  }
  EXPECT_EQ(results.at("grpo_start").at("rule"), "fixed by the preset");
  EXPECT_NE(md.find("| **in-distribution (held out, chains of 3-6 as in training)** |"), std::string::npos) << md;
  {
    const auto held_out = read_tasks((a / "data" / "transitivity_in_distribution.jsonl").string());
    const auto train = read_built_recipe(o.datasets_dir + "/axiomatic_transitivity_train.json",
                                         (a / "data" / "transitivity_train").string());
    const auto train_keys = question_keys(train);
    for (const auto& t : held_out) EXPECT_EQ(train_keys.count(question_key(t)), 0u) << t.prompt();
  }
  const std::string svg = read(a / "accuracy_vs_length.svg");
  size_t lines = 0;
  for (size_t at = svg.find("<polyline"); at != std::string::npos; at = svg.find("<polyline", at + 1)) ++lines;
  EXPECT_EQ(lines, 6u);
  // the curriculum stage: each model's SFT starts from its own warm-start run on the named parts
  const auto state = nlohmann::json::parse(read(a / "state.json"));
  EXPECT_TRUE(state.at("done").contains("warm_start_rope+trace"));
  const auto warm = nlohmann::json::parse(read(a / "configs" / "none.warm_start.json"));
  EXPECT_EQ(warm.at("train_parts"), "sequential_len3");
  EXPECT_EQ(nlohmann::json::parse(read(a / "configs" / "none.json")).at("init_checkpoint"),
            (a / "runs" / "none.warm_start" / "ckpt").string());
  // an existing results folder is not overwritten without --resume
  EXPECT_THROW(run_experiment(o, log), std::runtime_error);

  // interrupted after 3 stages (data, warm_start_none, train_none), then again after 2 more, then finished
  o.out_dir = (dir / "b").string();
  o.stop_after = 3;
  EXPECT_FALSE(run_experiment(o, log));
  EXPECT_FALSE(fs::exists(dir / "b" / "results.md"));
  o.resume = true;
  o.stop_after = 2;
  EXPECT_FALSE(run_experiment(o, log));
  o.stop_after = -1;
  ASSERT_TRUE(run_experiment(o, log));
  EXPECT_NE(log.str().find("resuming"), std::string::npos);
  const auto rb = nlohmann::json::parse(read(dir / "b" / "results.json"));
  for (const auto& [model, r] : results.at("models").items())
    EXPECT_EQ(r.at("splits"), rb.at("models").at(model).at("splits")) << model;
  EXPECT_EQ(results.at("dsep").at("splits"), rb.at("dsep").at("splits"));
  auto table = [](const std::string& m) { return m.substr(0, m.find("## Test splits")); };
  EXPECT_EQ(table(md), table(read(dir / "b" / "results.md")));
  // the finished run resumes to the same report without training anything
  std::ostringstream again;
  ASSERT_TRUE(run_experiment(o, again));
  EXPECT_EQ(again.str().find("-- stage"), std::string::npos) << again.str();

#ifdef VERITY_BINARY
  // a real kill (SIGKILL of `verity experiment` some seconds in: mid-stage, wherever it is), then --resume
  const fs::path c = dir / "c";
  const std::string cmd = std::string(VERITY_BINARY) + " experiment axiomatic --preset smoke --datasets " +
                          o.datasets_dir + " --out " + c.string();
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    ::freopen("/dev/null", "w", stdout);
    ::execl("/bin/sh", "sh", "-c", ("exec " + cmd).c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  std::this_thread::sleep_for(std::chrono::seconds(6));
  ::kill(pid, SIGKILL);
  ::waitpid(pid, nullptr, 0);
  o.out_dir = c.string();
  std::ostringstream resumed;
  ASSERT_TRUE(run_experiment(o, resumed)) << resumed.str();
  const auto rc = nlohmann::json::parse(read(c / "results.json"));
  for (const auto& [model, r] : results.at("models").items())
    EXPECT_EQ(r.at("splits"), rc.at("models").at(model).at("splits")) << model << "\n" << resumed.str();
  EXPECT_EQ(table(md), table(read(c / "results.md")));
#endif
  fs::remove_all(dir);
}

}  // namespace
#endif
