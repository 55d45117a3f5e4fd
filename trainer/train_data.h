// SFT on a recipe's built training split (TrainConfig::train_recipe), instead of tasks streamed from
// the generators. Torch-free: the trainer, the experiment driver and the tests use it.
//
// The recipe is built once into a data directory (service/recipe.h: the same files `verity generate
// --recipe` writes) and reused while its source and scale are unchanged. Stream index i of a run maps to
// epoch e = i / N and position perm_e[i % N], perm_e a permutation of the N tasks seeded by (seed, e):
// every epoch visits each task once, in a fresh order, and the stream is a pure function of
// (recipe, scale, seed, i), so a resumed run continues at its saved data_index with the same tasks.
#pragma once
#include <cstdint>
#include <string>
#include <unordered_set>
#include <vector>

#include "schemas/verity.pb.h"

namespace verity::trainer {

class RecipeTrainData {
 public:
  // Builds `recipe_path` at `scale` into `data_dir` unless it already holds that build (a stamp file
  // records the recipe's source hash and the scale), then reads every part. threads: generation threads.
  // parts: only these parts of the recipe (by name; empty = all); an unknown name is an error listing the parts.
  static RecipeTrainData load(const std::string& recipe_path, const std::string& data_dir, double scale,
                              uint64_t seed, int threads, const std::vector<std::string>& parts = {});

  size_t size() const { return tasks_.size(); }
  const std::string& recipe_name() const { return recipe_name_; }
  // The families the recipe draws from (for the tokenizer).
  std::vector<std::string> families() const;
  // Task of stream index i (see the header comment).
  const pb::Task& at(uint64_t index);
  // The position (in file order) of stream index i.
  size_t position(uint64_t index);
  const std::vector<pb::Task>& tasks() const { return tasks_; }

 private:
  std::string recipe_name_;
  uint64_t seed_ = 0;
  std::vector<pb::Task> tasks_;   // slim copies: family, level, prompt, answer, trace, id
  int64_t perm_epoch_ = -1;
  std::vector<uint32_t> perm_;
};

// Reads every <part>.jsonl of a built recipe directory in the recipe's part order (only `parts` when given).
std::vector<pb::Task> read_built_recipe(const std::string& recipe_path, const std::string& data_dir,
                                        const std::vector<std::string>& parts = {});
// "a,b, c" -> {"a", "b", "c"} (empty items dropped).
std::vector<std::string> split_list(const std::string& comma_separated);
// Builds the recipe into data_dir unless the stamp says it is already there; returns true if it built.
bool ensure_recipe_built(const std::string& recipe_path, const std::string& data_dir, double scale, int threads);

// question_key hashes (tasks/registry/registry.h: each generator's key, wording ignored) of a set of tasks.
std::unordered_set<std::string> question_keys(const std::vector<pb::Task>& tasks);

}  // namespace verity::trainer
