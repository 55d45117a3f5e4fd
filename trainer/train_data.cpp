#include "trainer/train_data.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <numeric>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "service/recipe.h"
#include "tasks/dataset.h"
#include "tasks/rng.h"

namespace verity::trainer {
namespace fs = std::filesystem;

namespace {

constexpr const char* kStamp = ".verity_recipe_build.json";

nlohmann::json stamp_for(const Recipe& recipe, double scale) {
  return {{"recipe", recipe.name}, {"source_hash", std::to_string(recipe.source_hash)}, {"scale", scale},
          {"version", kVersion}};
}

}  // namespace

bool ensure_recipe_built(const std::string& recipe_path, const std::string& data_dir, double scale, int threads) {
  const Recipe recipe = load_recipe(recipe_path);
  const fs::path stamp = fs::path(data_dir) / kStamp;
  const nlohmann::json want = stamp_for(recipe, scale);
  if (fs::exists(stamp)) {
    std::ifstream in(stamp);
    nlohmann::json have;
    try {
      have = nlohmann::json::parse(in);
    } catch (const nlohmann::json::exception&) {
    }
    if (have == want) return false;
  }
  RecipeBuildOptions o;
  o.output_dir = data_dir;
  o.scale = scale;
  o.threads = threads;
  build_recipe(recipe, o);
  write_file_atomically(stamp.string(), want.dump() + "\n");  // written last: a killed build is redone
  return true;
}

std::vector<std::string> split_list(const std::string& comma_separated) {
  std::vector<std::string> items;
  std::stringstream in(comma_separated);
  for (std::string item; std::getline(in, item, ',');) {
    const size_t first = item.find_first_not_of(" \t"), last = item.find_last_not_of(" \t");
    if (first != std::string::npos) items.push_back(item.substr(first, last - first + 1));
  }
  return items;
}

std::vector<pb::Task> read_built_recipe(const std::string& recipe_path, const std::string& data_dir,
                                        const std::vector<std::string>& parts) {
  const Recipe recipe = load_recipe(recipe_path);
  std::set<std::string> wanted(parts.begin(), parts.end()), names;
  for (const auto& part : recipe.parts) names.insert(part.name);
  for (const auto& w : wanted)
    if (!names.count(w)) {
      std::string known;
      for (const auto& n : names) known += (known.empty() ? "" : ", ") + n;
      throw std::invalid_argument("train_parts: recipe " + recipe_path + " has no part '" + w + "' (parts: " + known + ")");
    }
  std::vector<pb::Task> out;
  for (const auto& part : recipe.parts) {
    if (!wanted.empty() && !wanted.count(part.name)) continue;
    auto tasks = read_tasks((fs::path(data_dir) / (part.name + ".jsonl")).string());
    for (auto& t : tasks) out.push_back(std::move(t));
  }
  return out;
}

std::unordered_set<std::string> question_keys(const std::vector<pb::Task>& tasks) {
  std::unordered_set<std::string> keys;
  keys.reserve(tasks.size() * 2);
  for (const auto& t : tasks) keys.insert(question_key(t));
  return keys;
}

RecipeTrainData RecipeTrainData::load(const std::string& recipe_path, const std::string& data_dir, double scale,
                                      uint64_t seed, int threads, const std::vector<std::string>& parts) {
  ensure_recipe_built(recipe_path, data_dir, scale, threads);
  RecipeTrainData d;
  d.recipe_name_ = load_recipe(recipe_path).name;
  d.seed_ = seed;
  auto all = read_built_recipe(recipe_path, data_dir, parts);
  d.tasks_.reserve(all.size());
  for (auto& t : all) {
    pb::Task slim;  // what SFT needs: prompt and gold completion (and family / level for statistics)
    slim.set_id(t.id());
    slim.set_family(t.family());
    slim.set_level(t.level());
    slim.set_prompt(t.prompt());
    slim.set_answer(t.answer());
    *slim.mutable_trace() = t.trace();
    d.tasks_.push_back(std::move(slim));
  }
  if (d.tasks_.empty()) throw std::runtime_error("train_recipe " + recipe_path + ": no tasks");
  return d;
}

std::vector<std::string> RecipeTrainData::families() const {
  std::set<std::string> f;
  for (const auto& t : tasks_) f.insert(t.family());
  return {f.begin(), f.end()};
}

size_t RecipeTrainData::position(uint64_t index) {
  const uint64_t n = tasks_.size();
  const int64_t epoch = static_cast<int64_t>(index / n);
  if (epoch != perm_epoch_) {
    perm_.resize(n);
    std::iota(perm_.begin(), perm_.end(), 0u);
    Rng rng(mix_seed({seed_, static_cast<uint64_t>(epoch), 0x7a17da7aull}));
    for (size_t i = n; i > 1; --i) std::swap(perm_[i - 1], perm_[rng.index(i)]);  // Fisher-Yates
    perm_epoch_ = epoch;
  }
  return perm_[index % n];
}

const pb::Task& RecipeTrainData::at(uint64_t index) { return tasks_[position(index)]; }

}  // namespace verity::trainer
