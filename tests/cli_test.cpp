// Runs the built `verity` binary the way a user does, including on malformed input.
#include <gtest/gtest.h>

#include "test_support.h"

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

namespace {

namespace fs = std::filesystem;

const auto run = verity::testing::run_verity;
using verity::testing::read_file;

class CliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = verity::testing::fresh_temp_dir("verity_cli_test", ::testing::UnitTest::GetInstance()->current_test_info()->name());
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string path(const std::string& name) { return (dir_ / name).string(); }
  fs::path dir_;
};

TEST_F(CliTest, ListAndDescribe) {
  auto list = run("list");
  EXPECT_EQ(list.status, 0);
  EXPECT_NE(list.output.find("propositional_entailment"), std::string::npos);
  EXPECT_NE(list.output.find("chain_length"), std::string::npos);
  auto describe = run("describe propositional_entailment --level 3");
  EXPECT_EQ(describe.status, 0) << describe.output;
  EXPECT_NE(describe.output.find("gold answer:"), std::string::npos);
  auto unknown = run("describe no_such_family");
  EXPECT_EQ(unknown.status, 2);
  EXPECT_NE(unknown.output.find("known families"), std::string::npos);
}

TEST_F(CliTest, GenerateThenScoreGoldAndRandom) {
  auto gen = run("generate --family causal_transitivity --knob chain_length=9 -n 500 --seed 1 -o " + path("ct.jsonl") +
                 " --threads 2");
  ASSERT_EQ(gen.status, 0) << gen.output;
  ASSERT_EQ(run("baseline --tasks " + path("ct.jsonl") + " --strategy gold -o " + path("gold.jsonl")).status, 0);
  auto gold = run("score --tasks " + path("ct.jsonl") + " --completions " + path("gold.jsonl") + " -o " +
                  path("scores.jsonl"));
  ASSERT_EQ(gold.status, 0) << gold.output;
  EXPECT_NE(gold.output.find("accuracy 100.00%"), std::string::npos) << gold.output;
  std::ifstream scores(path("scores.jsonl"));
  std::string line;
  int lines = 0;
  while (std::getline(scores, line)) {
    auto j = nlohmann::json::parse(line);
    EXPECT_EQ(j["reward"], 1.0);
    ++lines;
  }
  EXPECT_EQ(lines, 500);

  ASSERT_EQ(run("baseline --tasks " + path("ct.jsonl") + " --strategy random -o " + path("random.jsonl")).status, 0);
  auto random = run("score --tasks " + path("ct.jsonl") + " --completions " + path("random.jsonl"));
  ASSERT_EQ(random.status, 0);
  const auto at = random.output.find("accuracy ");
  const double accuracy = std::stod(random.output.substr(at + 9));
  EXPECT_GT(accuracy, 35.0);  // a coin flip on balanced Yes/No
  EXPECT_LT(accuracy, 65.0);
}

TEST_F(CliTest, SameCommandGivesSameBytesAcrossProcessesAndThreads) {
  // Separate processes matter: protobuf map order is randomised per process unless made deterministic.
  for (const std::string family : {"propositional_entailment", "causal_transitivity"}) {
    for (const std::string ext : {".jsonl", ".binpb"}) {
      ASSERT_EQ(run("generate -f " + family + " -l 6 -n 300 --seed 4 -j 1 -o " + path("a" + ext)).status, 0);
      ASSERT_EQ(run("generate -f " + family + " -l 6 -n 300 --seed 4 -j 2 -o " + path("b" + ext)).status, 0);
      const std::string a = read_file(path("a" + ext));
      ASSERT_FALSE(a.empty());
      EXPECT_EQ(a, read_file(path("b" + ext))) << family << ext;
    }
  }
}

TEST_F(CliTest, ScoreSurvivesMalformedCompletions) {
  ASSERT_EQ(run("generate -f propositional_entailment -l 2 -n 20 --seed 3 -o " + path("pe.jsonl")).status, 0);
  std::ifstream tasks(path("pe.jsonl"));
  std::string first;
  std::getline(tasks, first);
  const std::string id = nlohmann::json::parse(first)["id"];
  std::ofstream c(path("c.jsonl"));
  c << "{\"id\": \"" << id << "\", \"completion\": \"<answer>entailed</answer>\"}\n"  // line 1: fine
    << "this is not json\n"                                                          // line 2
    << "{\"id\": \"nope\", \"completion\": \"x\"}\n"                                 // line 3: unknown id
    << "{\"id\": \"" << id << "\"}\n"                                                // line 4: no completion
    << "{\"id\": \"" << id << "\", \"completion\": 12}\n"                            // line 5: not a string
    << "{\"id\": \"" << id << "\", \"completion\": \"" << std::string(70000, 'a') << "\"}\n"  // line 6: huge
    << "{\"id\": \"" << id << "\", \"completion\": \"\\u0000\\u00ff<answer>\"}\n";   // line 7: binary junk
  c.close();
  auto r = run("score --tasks " + path("pe.jsonl") + " --completions " + path("c.jsonl") + " -o " + path("s.jsonl"));
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("c.jsonl:2: not a JSON object"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("c.jsonl:3: id 'nope' is not in"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("c.jsonl:4: no string field 'completion'"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("c.jsonl:5: no string field 'completion'"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("scored 5 completions"), std::string::npos) << r.output;
  std::ifstream s(path("s.jsonl"));
  std::string line;
  std::vector<nlohmann::json> rows;
  while (std::getline(s, line)) rows.push_back(nlohmann::json::parse(line));
  ASSERT_EQ(rows.size(), 5u);
  EXPECT_NE(rows[3]["reason"].get<std::string>().find("limit"), std::string::npos);
  for (size_t i = 1; i < rows.size(); ++i) EXPECT_EQ(rows[i]["reward"], 0.0);
}

TEST_F(CliTest, ScoreWritesMarkdownAndHtmlReports) {
  ASSERT_EQ(run("generate -f causal_transitivity -l 2 -n 100 --seed 3 -o " + path("t.jsonl")).status, 0);
  ASSERT_EQ(run("baseline --tasks " + path("t.jsonl") + " --strategy gold -o " + path("g.jsonl")).status, 0);
  auto md = run("score --tasks " + path("t.jsonl") + " --completions " + path("g.jsonl") + " --report " + path("r.md"));
  ASSERT_EQ(md.status, 0) << md.output;
  const std::string report = read_file(path("r.md"));
  EXPECT_NE(report.find("| causal_transitivity | 2 | 100 | 1.000 |"), std::string::npos) << report;
  EXPECT_TRUE(fs::exists(path("r.svg")));
  ASSERT_EQ(run("score --tasks " + path("t.jsonl") + " --completions " + path("g.jsonl") + " --report " +
                path("r.html")).status, 0);
  EXPECT_TRUE(fs::exists(path("r.html")));
  auto bad = run("score --tasks " + path("t.jsonl") + " --completions " + path("g.jsonl") + " --report " + path("r.txt"));
  EXPECT_EQ(bad.status, 2);
  EXPECT_NE(bad.output.find("use a .md"), std::string::npos);
}

// Completions whose first step has a wrong result (answer still right): --process-weight lowers their
// reward by the process share; the default stays the outcome reward.
TEST_F(CliTest, ScoreBlendsTheProcessRewardOnRequest) {
  ASSERT_EQ(run("generate -f arithmetic_graph -l 4 -k unanswerable=0 -n 40 --seed 2 -o " + path("a.jsonl")).status, 0);
  std::ifstream tasks(path("a.jsonl"));
  std::ofstream completions(path("c.jsonl"));
  for (std::string line; std::getline(tasks, line);) {
    const auto task = nlohmann::json::parse(line);
    std::string text;
    for (const auto& step : task["trace"]) text += step["text"].get<std::string>() + "\n";
    text.insert(text.find(".\n"), "1");  // "= 7." -> "= 71."
    completions << nlohmann::json{{"id", task["id"]}, {"completion", text + "<answer>" + task["answer"].get<std::string>() + "</answer>"}}.dump() << "\n";
  }
  completions.close();
  auto mean_reward = [&](const std::string& flags) {
    EXPECT_EQ(run("score --tasks " + path("a.jsonl") + " --completions " + path("c.jsonl") + " -o " + path("s.jsonl") + flags).status, 0);
    std::ifstream scores(path("s.jsonl"));
    double total = 0;
    int n = 0;
    for (std::string line; std::getline(scores, line); ++n) {
      const auto score = nlohmann::json::parse(line);
      EXPECT_TRUE(score["correct"].get<bool>()) << line;
      total += score["reward"].get<double>();
    }
    EXPECT_EQ(n, 40);
    return total / n;
  };
  EXPECT_EQ(mean_reward(""), 1.0);
  const double blended = mean_reward(" --process-weight 0.5");
  EXPECT_GT(blended, 0.5);
  EXPECT_LT(blended, 0.99);
  auto bad = run("score --tasks " + path("a.jsonl") + " --completions " + path("c.jsonl") + " --process-weight 2");
  EXPECT_NE(bad.status, 0);
  EXPECT_NE(bad.output.find("process-weight"), std::string::npos) << bad.output;
}

TEST_F(CliTest, BadFlagsAndFilesGiveClearErrors) {
  auto knob = run("generate -f causal_transitivity --knob chain_length=abc -n 5 -o " + path("x.jsonl"));
  EXPECT_EQ(knob.status, 2);
  EXPECT_NE(knob.output.find("expected an integer"), std::string::npos) << knob.output;
  auto shard = run("generate -f causal_transitivity -n 5 --shard 4/4 -o " + path("x.jsonl"));
  EXPECT_EQ(shard.status, 2);
  EXPECT_NE(shard.output.find("0 <= K < N"), std::string::npos) << shard.output;
  auto missing = run("score --tasks " + path("none.jsonl") + " --completions " + path("none.jsonl"));
  EXPECT_EQ(missing.status, 2);
  EXPECT_NE(missing.output.find("none.jsonl: cannot open"), std::string::npos);
  auto dir = run("generate -f causal_transitivity -n 5 -o " + path("no/such/dir/x.jsonl"));
  EXPECT_EQ(dir.status, 2);
  EXPECT_NE(dir.output.find("cannot write"), std::string::npos);
  EXPECT_NE(run("frobnicate").status, 0);
}

}  // namespace
