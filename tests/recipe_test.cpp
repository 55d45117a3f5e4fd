#include "service/recipe.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "tasks/dataset.h"
#include "test_support.h"

namespace {

namespace fs = std::filesystem;
using namespace verity;

const fs::path kDatasets = fs::path(VERITY_SOURCE_DIR) / "datasets";  // any working directory

using verity::testing::read_file;

// Test-local question identity (family, edge set, query, conditioning set), written without the
// library's question_key so a bug there cannot hide a leak.
std::string question(const pb::Task& task) {
  const auto& g = task.causal_graph();
  std::set<std::string> edges, given(g.conditioning().begin(), g.conditioning().end());
  for (const auto& e : g.edges()) edges.insert(e.from() + "->" + e.to());
  std::string key = task.family() + "|" + g.query_source() + "|" + g.query_target() + "|";
  for (const auto& e : edges) key += e + ",";
  key += "|";
  for (const auto& z : given) key += z + ",";
  return key;
}

// Every question of every part file a built recipe wrote; fails on a repeat inside the split.
std::set<std::string> questions_of_split(const fs::path& dir, const std::string& recipe_name) {
  const auto manifest = nlohmann::json::parse(read_file(dir / (recipe_name + ".manifest.json")));
  std::set<std::string> questions;
  for (const auto& part : manifest["parts"]) {
    const auto tasks = read_tasks((dir / part["file"].get<std::string>()).string());
    EXPECT_EQ(tasks.size(), part["count"].get<uint64_t>());
    for (const auto& t : tasks) EXPECT_TRUE(questions.insert(question(t)).second) << "repeated inside the split: " << t.id();
  }
  return questions;
}

class RecipeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = verity::testing::fresh_temp_dir("verity_recipe_test", ::testing::UnitTest::GetInstance()->current_test_info()->name());
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path write(const std::string& name, const std::string& text) {
    std::ofstream(dir_ / name) << text;
    return dir_ / name;
  }
  // The message load_recipe throws for `text`, or "" when it loads.
  std::string error_for(const std::string& text) {
    try {
      load_recipe(write("bad.json", text).string());
    } catch (const RecipeError& e) {
      return e.what();
    }
    return "";
  }
  fs::path dir_;
};

const char* kSmallRecipe = R"({
  "name": "small",
  "parts": [
    {"name": "ct", "family": "causal_transitivity", "level": 3, "count": 300, "seed": 1},
    {"name": "ds", "family": "d_separation", "knobs": {"nodes": 7, "structure": "mixed"}, "count": 200, "seed": 2}
  ]
})";

TEST_F(RecipeTest, RebuildingGivesIdenticalBytesForAnyThreadCount) {
  const auto recipe = load_recipe(write("small.json", kSmallRecipe).string());
  const auto a = build_recipe(recipe, {(dir_ / "a").string(), 1.0, 1});
  const auto b = build_recipe(recipe, {(dir_ / "b").string(), 1.0, 2});
  EXPECT_EQ(a.total, 500u);
  EXPECT_EQ(a.content_hash, b.content_hash);
  int files = 0;
  for (const auto& entry : fs::directory_iterator(dir_ / "a")) {
    const auto name = entry.path().filename();
    EXPECT_EQ(read_file(entry.path()), read_file(dir_ / "b" / name)) << name;
    ++files;
  }
  EXPECT_EQ(files, 5);  // two parts, two part manifests, one recipe manifest
  const auto manifest = nlohmann::json::parse(read_file(dir_ / "a" / "small.manifest.json"));
  EXPECT_EQ(manifest["total"], 500);
  EXPECT_EQ(manifest["parts"][1]["seed"], 2);
  EXPECT_EQ(manifest["parts"][1]["knobs"]["nodes"], "7");
  const auto part = nlohmann::json::parse(read_file(dir_ / "a" / "ds.jsonl.manifest.json"));
  EXPECT_EQ(part["content_hash"], manifest["parts"][1]["content_hash"]);
  EXPECT_EQ(part["recipe"], "small");
}

// A split whose knob space is tiny (2-node chains, 1-letter names): duplicates inside the split and
// overlaps with the "training" split are certain, so the builder must skip them.
TEST_F(RecipeTest, SplitsHaveNoRepeatsAndEvalIsDisjointFromTrain) {
  const char* part = R"("family": "causal_transitivity", "knobs": {"chain_length": 2, "name_min": 1, "name_max": 1, "flip_prob": 0.5})";
  write("train.json", std::string(R"({"name": "train", "parts": [{"name": "t", )") + part +
                          R"(, "count": 2000, "seed": 1}]})");
  const auto eval = load_recipe(
      write("eval.json", std::string(R"({"name": "eval", "disjoint_from": ["train.json"], "parts": [{"name": "e", )") +
                             part + R"(, "count": 500, "seed": 2}]})")
          .string());
  build_recipe(load_recipe((dir_ / "train.json").string()), {(dir_ / "out").string(), 1.0, 0});
  const auto summary = build_recipe(eval, {(dir_ / "out").string(), 1.0, 0});
  EXPECT_GT(summary.skipped_duplicates, 50u);  // ~5300 distinct questions: overlaps were found and skipped
  const auto train = questions_of_split(dir_ / "out", "train");
  const auto test = questions_of_split(dir_ / "out", "eval");
  EXPECT_EQ(train.size(), 2000u);
  EXPECT_EQ(test.size(), 500u);
  for (const auto& q : test) EXPECT_EQ(train.count(q), 0u) << "eval question also in train: " << q;
}

// The shipped paper recipes, scaled down: valid, sized as documented, no repeats, eval disjoint from train.
TEST_F(RecipeTest, ShippedAxiomaticRecipesAreDisjointFromTheirTrainingSplits) {
  uint64_t train_total = 0;
  for (const auto& p : load_recipe((kDatasets / "axiomatic_transitivity_train.json").string()).parts)
    train_total += p.count;
  EXPECT_EQ(train_total, 175000u);
  for (const auto& [train, eval] : std::vector<std::pair<std::string, std::string>>{
           {"axiomatic_transitivity_train", "axiomatic_transitivity_eval"},
           {"axiomatic_dsep_train", "axiomatic_dsep_eval"},
           {"axiomatic_paper_train", "axiomatic_paper_eval"}}) {
    const auto out = dir_ / train;
    build_recipe(load_recipe((kDatasets / (train + ".json")).string()), {out.string(), 0.02, 0});
    // Same scale for both: an eval recipe excludes its training recipe built at the eval's scale.
    build_recipe(load_recipe((kDatasets / (eval + ".json")).string()), {out.string(), 0.02, 0});
    const auto train_questions = questions_of_split(out, train);
    const auto eval_questions = questions_of_split(out, eval);
    EXPECT_GT(train_questions.size(), 1500u);
    EXPECT_GT(eval_questions.size(), 250u);
    for (const auto& q : eval_questions) ASSERT_EQ(train_questions.count(q), 0u) << eval << ": " << q;
  }
}

// The paper-format training mixture is the natural one's parts in format=axiomatic: the same questions
// (task i of a part is the same graph and query in both renderings), only the wording differs.
TEST_F(RecipeTest, PaperFormatTrainingMixtureAsksTheNaturalOnesQuestions) {
  const auto natural = load_recipe((kDatasets / "axiomatic_transitivity_train.json").string());
  const auto paper = load_recipe((kDatasets / "axiomatic_paper_train.json").string());
  ASSERT_EQ(natural.parts.size(), paper.parts.size());
  for (size_t i = 0; i < paper.parts.size(); ++i) {
    EXPECT_EQ(paper.parts[i].seed, natural.parts[i].seed);
    EXPECT_EQ(paper.parts[i].knobs.at("format"), "axiomatic");
  }
  build_recipe(natural, {(dir_ / "n").string(), 0.01, 0});
  build_recipe(paper, {(dir_ / "p").string(), 0.01, 0});
  EXPECT_EQ(questions_of_split(dir_ / "n", "axiomatic_transitivity_train"),
            questions_of_split(dir_ / "p", "axiomatic_paper_train"));
  const auto one = read_tasks((dir_ / "p" / "sequential_len3.jsonl").string()).at(0);
  EXPECT_EQ(one.prompt().rfind("Does ", 0), 0u) << one.prompt();
}

TEST_F(RecipeTest, EveryShippedRecipeLoads) {
  int recipes = 0;
  for (const auto& entry : fs::directory_iterator(kDatasets)) {
    if (entry.path().extension() != ".json") continue;
    EXPECT_NO_THROW(load_recipe(entry.path().string())) << entry.path();
    ++recipes;
  }
  EXPECT_GE(recipes, 4);
}

TEST_F(RecipeTest, ErrorsNameTheFileAndTheField) {
  const std::string part = R"("name": "p", "family": "causal_transitivity", "count": 5, "seed": 1)";
  auto recipe = [&](const std::string& parts) { return R"({"name": "r", "parts": [)" + parts + "]}"; };
  struct Case { std::string text, expected; };
  const std::vector<Case> cases = {
      {"{ not json", "bad.json: not valid JSON"},
      {R"({"parts": [{)" + part + "}]}", "bad.json: name: missing"},
      {R"({"name": "r", "part": []})", "bad.json: part: unknown field"},
      {R"({"name": "r", "parts": []})", "bad.json: parts: expected a non-empty list"},
      {recipe(R"({"name": "p", "family": "nope", "count": 5, "seed": 1})"), "parts[0] ('p').family: unknown family 'nope'"},
      {recipe(R"({"name": "p", "family": "causal_transitivity", "count": -5, "seed": 1})"),
       "parts[0] ('p').count: expected a positive integer, got -5"},
      {recipe(R"({"name": "p", "family": "causal_transitivity", "seed": 1})"), "parts[0] ('p').count: missing"},
      {recipe("{" + part + R"(, "knobs": {"chain_length": "abc"}})"), "parts[0] ('p').knobs: knob chain_length=abc"},
      {recipe("{" + part + R"(, "knobs": {"colour": 1}})"), "parts[0] ('p').knobs: unknown knob 'colour'"},
      {recipe("{" + part + R"(, "knobs": {"name_min": 5, "name_max": 2}})"), "parts[0] ('p').knobs: knob name_min=5"},
      {recipe("{" + part + R"(, "level": 11})"), "parts[0] ('p').level: level 11 is out of range"},
      {recipe("{" + part + R"(, "cont": 5})"), "parts[0] ('p').cont: unknown field"},
      {recipe("{" + part + "}, {" + part + "}"), "parts[1] ('p').name: part name 'p' is used twice"},
      {recipe(R"({"name": "../x", "family": "causal_transitivity", "count": 5, "seed": 1})"),
       "parts[0] ('../x').name: '../x' is not a file name"},
  };
  for (const auto& c : cases) {
    const std::string message = error_for(c.text);
    EXPECT_NE(message.find(c.expected), std::string::npos) << "recipe: " << c.text << "\nmessage: " << message;
    EXPECT_NE(message.find("bad.json"), std::string::npos) << message;
  }
  EXPECT_EQ(error_for(recipe("{" + part + "}")), "");
}

// ---- the CLI ----

const auto run = verity::testing::run_verity;

TEST_F(RecipeTest, CliBuildsARecipeAndExplainsMisuse) {
  const std::string recipe = write("small.json", kSmallRecipe).string();
  const auto ok = run("generate --recipe " + recipe + " -o " + (dir_ / "cli").string() + " --scale 0.1");
  ASSERT_EQ(ok.status, 0) << ok.output;
  EXPECT_NE(ok.output.find("wrote 50 tasks in 2 parts of recipe small"), std::string::npos) << ok.output;
  EXPECT_EQ(read_tasks((dir_ / "cli" / "ct.jsonl").string()).size(), 30u);

  const auto with_family = run("generate --recipe " + recipe + " --family causal_transitivity -o " + dir_.string());
  EXPECT_EQ(with_family.status, 2);
  EXPECT_NE(with_family.output.find("--family does not go with --recipe"), std::string::npos) << with_family.output;
  const auto no_dir = run("generate --recipe " + recipe);
  EXPECT_EQ(no_dir.status, 2);
  EXPECT_NE(no_dir.output.find("needs -o DIR"), std::string::npos) << no_dir.output;
  const auto bad = run("generate --recipe " + write("bad.json", R"({"name": "r", "parts": [{"name": "p"}]})").string() +
                       " -o " + dir_.string());
  EXPECT_EQ(bad.status, 2);
  EXPECT_NE(bad.output.find("bad.json: parts[0] ('p').family: missing"), std::string::npos) << bad.output;
  const auto no_family = run("generate -n 5 -o " + (dir_ / "x.jsonl").string());
  EXPECT_EQ(no_family.status, 2);
  EXPECT_NE(no_family.output.find("--family is required"), std::string::npos) << no_family.output;
}

}  // namespace
