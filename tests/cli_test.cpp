// Runs the built `verity` binary the way a user does, including on malformed input.
#include <gtest/gtest.h>

#include "tasks/concat.h"
#include "test_support.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <thread>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
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

// `verity` starts fast because the heavy libraries live in sibling binaries: libtorch in verity-train,
// cpp-httplib with OpenSSL and SQLite in verity-serve (`verity --version`: 20.4M instructions with
// them, 9.1M without). A change that pulls one back into `verity` fails here; `verity serve` still
// works (it hands over).
TEST(CliBinary, VerityLoadsNeitherTorchNorHttpNorTls) {
  std::string libraries;
  {
    FILE* pipe = ::popen(("ldd " + std::string(VERITY_BINARY) + " 2>&1").c_str(), "r");
    ASSERT_NE(pipe, nullptr);
    std::array<char, 4096> buf{};
    size_t n = 0;
    while ((n = std::fread(buf.data(), 1, buf.size(), pipe)) > 0) libraries.append(buf.data(), n);
    ASSERT_EQ(::pclose(pipe), 0) << libraries;
  }
  ASSERT_NE(libraries.find("libprotobuf"), std::string::npos) << libraries;  // ldd listed the libraries
  for (const char* heavy : {"libtorch", "httplib", "libssl", "libcrypto", "libsqlite3"})
    EXPECT_EQ(libraries.find(heavy), std::string::npos) << heavy << " in\n" << libraries;
  const auto serve = verity::testing::run_verity("serve --help");
  EXPECT_EQ(serve.status, 0) << serve.output;
  EXPECT_NE(serve.output.find("--max-body"), std::string::npos) << serve.output;
}

// describe's label balance of a level is what generate writes there (its manifest's label_counts):
// inference_chains level 1 repeats itself, so its first candidates would count otherwise.
TEST_F(CliTest, DescribeShowsTheLabelBalanceGenerateWrites) {
  const auto describe = run("describe inference_chains --seed 4");
  ASSERT_EQ(describe.status, 0) << describe.output;
  EXPECT_NE(describe.output.find("label balance (the 200 tasks `verity generate -n 200 --seed 4` writes at each level):"),
            std::string::npos) << describe.output;
  for (int level : {1, 2}) {
    const auto gen = run("generate --family inference_chains --level " + std::to_string(level) +
                         " -n 200 --seed 4 -o " + path("ic.jsonl"));
    ASSERT_EQ(gen.status, 0) << gen.output;
    // label_counts are 64-bit: protobuf's JSON mapping writes them as strings
    const auto counts = nlohmann::json::parse(read_file(path("ic.jsonl.manifest.json")))["label_counts"];
    char line[64];
    std::snprintf(line, sizeof line, "\n    %d: No %.1f%% Yes %.1f%%\n", level,
                  std::stod(counts["No"].get<std::string>()) / 2, std::stod(counts["Yes"].get<std::string>()) / 2);
    EXPECT_NE(describe.output.find(line), std::string::npos) << line << describe.output;
  }
  const auto zebra = run("describe zebra");
  EXPECT_NE(zebra.output.find("\n    1: free-form answers (no label to balance)\n"), std::string::npos) << zebra.output;
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

std::vector<std::string> task_ids(const std::string& file) {
  std::ifstream tasks(file);
  std::vector<std::string> ids;
  for (std::string line; std::getline(tasks, line);) ids.push_back(nlohmann::json::parse(line)["id"]);
  return ids;
}

TEST_F(CliTest, ScoreSurvivesMalformedCompletions) {
  ASSERT_EQ(run("generate -f propositional_entailment -l 2 -n 20 --seed 3 -o " + path("pe.jsonl")).status, 0);
  const auto ids = task_ids(path("pe.jsonl"));
  std::ofstream c(path("c.jsonl"));
  c << "{\"id\": \"" << ids[0] << "\", \"completion\": \"<answer>entailed</answer>\"}\n"  // line 1: fine
    << "this is not json\n"                                                          // line 2
    << "{\"id\": \"nope\", \"completion\": \"x\"}\n"                                 // line 3: unknown id
    << "{\"id\": \"" << ids[1] << "\"}\n"                                                // line 4: no completion
    << "{\"id\": \"" << ids[2] << "\", \"completion\": 12}\n"                            // line 5: not a string
    << "{\"id\": \"" << ids[3] << "\", \"completion\": \"" << std::string(70000, 'a') << "\"}\n"  // line 6: huge
    << "{\"id\": \"" << ids[4] << "\", \"completion\": \"\\u0000\\u00ff<answer>\"}\n"   // line 7: binary junk
    << "{\"id\": \"" << ids[5] << "\", \"completion\": \"\xff\xfe<answer>entailed</answer>\"}\n";  // line 8: not UTF-8
  c.close();
  auto r = run("score --tasks " + path("pe.jsonl") + " --completions " + path("c.jsonl") + " -o " + path("s.jsonl"));
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("c.jsonl:2: not a JSON object"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("c.jsonl:3: id 'nope' is not in"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("c.jsonl:4: no string field 'completion'"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("c.jsonl:5: no string field 'completion'"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("c.jsonl:8: not valid UTF-8 (byte "), std::string::npos) << r.output;
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
  EXPECT_NE(report.find("| causal_transitivity | 2 | 100 | 1.000 | 1.000 | 0.000 | 0.000 | - | [0.963, 1.000] |"),
            std::string::npos) << report;  // the accuracy's 95% Wilson interval
  const std::string svg = read_file(path("r.svg"));
  for (const std::string text : {"Accuracy by family and level (bars: 95% Wilson intervals)", "accuracy (fraction correct)",
                                 "level (custom = knobs only)", "<path d=\"M"})
    EXPECT_NE(svg.find(text), std::string::npos) << text << "\n" << svg;
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
    const std::string_view trace = text;
    const size_t at = trace.find(".\n");
    text = verity::concat(trace.substr(0, at), "1", trace.substr(at));  // "= 7." -> "= 71."
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

// No silent zeros: completions that cannot belong to the tasks are an error with the reason and exit 2.
TEST_F(CliTest, ScoreRefusesInputThatCannotBeRight) {
  ASSERT_EQ(run("generate -f causal_transitivity -l 2 -n 10 --seed 3 -o " + path("t.jsonl")).status, 0);
  ASSERT_EQ(run("generate -f causal_transitivity -l 2 -n 10 --seed 4 -o " + path("other.jsonl")).status, 0);
  ASSERT_EQ(run("baseline --tasks " + path("t.jsonl") + " --strategy gold -o " + path("g.jsonl")).status, 0);
  const auto ids = task_ids(path("t.jsonl"));
  const auto score = [&](const std::string& tasks, const std::string& completions, const std::string& flags = "") {
    return run("score --tasks " + tasks + " --completions " + completions + flags);
  };
  const auto expect_error = [](const verity::testing::VerityRun& r, const std::string& text) {
    EXPECT_EQ(r.status, 2) << r.output;
    EXPECT_NE(r.output.find(text), std::string::npos) << "expected '" << text << "' in:\n" << r.output;
    EXPECT_EQ(r.output.find("accuracy"), std::string::npos) << r.output;
  };
  // The wrong tasks file: no id matches; the error names the id field and an example of each side.
  auto wrong = score(path("other.jsonl"), path("g.jsonl"));
  expect_error(wrong, "no line names a task of");
  EXPECT_NE(wrong.output.find("by its 'id' field: line 1 has id '" + ids[0] + "'"), std::string::npos) << wrong.output;
  EXPECT_NE(wrong.output.find("task ids in " + path("other.jsonl") + " look like 'causal_transitivity-"),
            std::string::npos) << wrong.output;
  // A wrong --id-field / --completion-field.
  expect_error(score(path("t.jsonl"), path("g.jsonl"), " --id-field task_id"), "no line has a string field 'task_id'");
  expect_error(score(path("t.jsonl"), path("g.jsonl"), " --completion-field response"),
               "no line has a string field 'response' (choose the completion field with --completion-field; the "
               "first line's fields are 'completion', 'id')");
  // Empty files, folders.
  std::ofstream(path("empty.jsonl")).close();
  expect_error(score(path("t.jsonl"), path("empty.jsonl")), "holds no completions (the file is empty)");
  expect_error(score(path("empty.jsonl"), path("g.jsonl")), "holds no tasks (the file is empty)");
  expect_error(score(dir_.string(), path("g.jsonl")), "is a folder");
  expect_error(score(path("t.jsonl"), dir_.string()), "is a folder");
  expect_error(run("score --tasks . --completions " + path("g.jsonl")), ".: is a folder");
  // Fewer than half of the lines name a task: an error unless --allow-partial.
  {
    std::ofstream c(path("partial.jsonl"));
    c << nlohmann::json{{"id", ids[0]}, {"completion", "<answer>Yes</answer>"}}.dump() << "\n";
    for (int i = 0; i < 3; ++i) c << nlohmann::json{{"id", "x" + std::to_string(i)}, {"completion", "y"}}.dump() << "\n";
  }
  expect_error(score(path("t.jsonl"), path("partial.jsonl")), "only 1 of 4 lines (25.0%) name a task");
  auto partial = score(path("t.jsonl"), path("partial.jsonl"), " --allow-partial");
  EXPECT_EQ(partial.status, 0) << partial.output;
  EXPECT_NE(partial.output.find("scored 1 completions"), std::string::npos) << partial.output;
  // Repeated ids: an error naming both lines, or --dedupe first | last.
  {
    std::ofstream c(path("dup.jsonl"));
    c << nlohmann::json{{"id", ids[0]}, {"completion", "<answer>Yes</answer>"}}.dump() << "\n"
      << nlohmann::json{{"id", ids[1]}, {"completion", "<answer>Yes</answer>"}}.dump() << "\n"
      << nlohmann::json{{"id", ids[0]}, {"completion", "<answer>No</answer>"}}.dump() << "\n";
  }
  expect_error(score(path("t.jsonl"), path("dup.jsonl")), "dup.jsonl:3: id '" + ids[0] + "' was already on line 1");
  for (const std::string keep : {"first", "last"}) {
    auto r = score(path("t.jsonl"), path("dup.jsonl"), " --dedupe " + keep + " -o " + path("s.jsonl"));
    ASSERT_EQ(r.status, 0) << r.output;
    EXPECT_NE(r.output.find("scored 2 completions"), std::string::npos) << r.output;
    EXPECT_NE(r.output.find("1 repeated id line(s) dropped (--dedupe " + keep + ")"), std::string::npos) << r.output;
    const auto first = nlohmann::json::parse(read_file(path("s.jsonl")).substr(0, read_file(path("s.jsonl")).find('\n')));
    EXPECT_EQ(first["task_id"], ids[0]);
    EXPECT_EQ(first["extracted_answer"], keep == "first" ? "Yes" : "No");
  }
  expect_error(score(path("t.jsonl"), path("dup.jsonl"), " --dedupe middle"), "--dedupe");
  // A tasks file whose records cannot be scored (a family that does not exist).
  {
    auto record = nlohmann::json::parse(read_file(path("t.jsonl")).substr(0, read_file(path("t.jsonl")).find('\n')));
    record["family"] = "no_such_family";
    std::ofstream(path("bad_family.jsonl")) << record.dump() << "\n";
  }
  expect_error(score(path("bad_family.jsonl"), path("g.jsonl")), "unknown family 'no_such_family'");
}

// Many bad lines: the first 5 warnings and a count, not one warning per line.
TEST_F(CliTest, ScoreSummarisesWarnings) {
  ASSERT_EQ(run("generate -f causal_transitivity -l 2 -n 200 --seed 3 -o " + path("t.jsonl")).status, 0);
  ASSERT_EQ(run("baseline --tasks " + path("t.jsonl") + " --strategy gold -o " + path("g.jsonl")).status, 0);
  {
    std::ofstream c(path("g.jsonl"), std::ios::app);
    for (int i = 0; i < 100; ++i) c << "not json " << i << "\n";
  }
  auto r = run("score --tasks " + path("t.jsonl") + " --completions " + path("g.jsonl"));
  ASSERT_EQ(r.status, 0) << r.output;
  size_t warnings = 0;
  for (size_t at = r.output.find("warning:"); at != std::string::npos; at = r.output.find("warning:", at + 1)) ++warnings;
  EXPECT_EQ(warnings, 6u) << r.output;
  EXPECT_NE(r.output.find("and 95 more problem lines (100 in all, the first 5 shown)"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("accuracy 100.00%"), std::string::npos) << r.output;
}

// Every subcommand's bad invocations: exit 2 and a message naming the flag and what is allowed.
TEST_F(CliTest, BadInvocationTable) {
  ASSERT_EQ(run("generate -f causal_transitivity -l 2 -n 5 --seed 3 -o " + path("t.jsonl")).status, 0);
  const std::string t = path("t.jsonl"), out = path("out.jsonl");
  struct Case {
    std::string args, message;
  };
  const std::vector<Case> cases = {
      {"", "A subcommand is required"},
      {"frobnicate", "unknown command 'frobnicate'; the commands are list, describe, generate"},
      {"list --bogus", "--bogus"},
      {"describe", "family is required"},
      {"describe zebra --level 0", "--level: must be an integer in 1..1000, not '0'"},
      {"describe zebra --level 11", "--level 11 is out of range for zebra: use 1..10"},
      {"describe zebra --level -1", "--level: must be an integer in 1..1000, not '-1'"},
      {"describe zebra --seed -1", "--seed: must be an integer in 0..18446744073709551615, not '-1'"},
      {"describe no_such_family", "known families"},
      {"generate -f causal_transitivity -n -5 -o " + out, "--count: must be an integer in 1..1000000000, not '-5'"},
      {"generate -f causal_transitivity -n 0 -o " + out, "--count: must be an integer in 1..1000000000, not '0'"},
      {"generate -f causal_transitivity -n 1e3 -o " + out, "--count: must be an integer"},
      {"generate -f causal_transitivity -n 99999999999 -o " + out, "--count: must be an integer in 1..1000000000"},
      {"generate -f causal_transitivity -n 5 --seed -1 -o " + out, "--seed: must be an integer in 0..18446744073709551615"},
      {"generate -f causal_transitivity -n 5 --seed 18446744073709551616 -o " + out, "--seed: must be an integer"},
      {"generate -f causal_transitivity -n 5 --threads -3 -o " + out, "--threads: must be an integer in 0..4096, not '-3'"},
      {"generate -f causal_transitivity -n 5 --level -1 -o " + out, "--level: must be an integer in 0..1000, not '-1'"},
      {"generate -f causal_transitivity -n 5 --level 11 -o " + out, "--level 11 is out of range for causal_transitivity: use 1..10"},
      {"generate -f causal_transitivity -n 5 --shard -1/4 -o " + out, "bad --shard '-1/4': write K/N with 0 <= K < N"},
      {"generate -f causal_transitivity -n 5 --shard 4/4 -o " + out, "bad --shard '4/4'"},
      {"generate -f causal_transitivity -n 5 --shard 1/0 -o " + out, "bad --shard '1/0'"},
      {"generate -f causal_transitivity -n 5 --shard x -o " + out, "bad --shard 'x'"},
      {"generate -f causal_transitivity -n 5", "-o/--output is required"},
      {"generate -n 5 -o " + out, "--family is required"},
      {"generate -f no_such_family -n 5 -o " + out, "known families"},
      {"generate -f causal_transitivity --knob chain_length=abc -n 5 -o " + out, "expected an integer"},
      {"generate --recipe datasets/none.json --scale 0 -o " + path("r"), "--scale: must be a number in (0, 1000], not '0'"},
      {"generate --recipe datasets/none.json --scale -2 -o " + path("r"), "--scale: must be a number in (0, 1000]"},
      {"generate --recipe datasets/none.json --scale nan -o " + path("r"), "--scale: must be a number in (0, 1000]"},
      {"score --tasks " + t, "--completions is required"},
      {"score --tasks " + t + " --completions " + t + " --threads -1", "--threads: must be an integer in 0..4096"},
      {"score --tasks " + t + " --completions " + t + " --process-weight 2", "process-weight"},
      {"score --tasks " + t + " --completions " + t + " --dedupe all", "--dedupe"},
      {"score --tasks " + path("none.jsonl") + " --completions " + t, "none.jsonl: cannot open"},
      {"baseline --tasks " + t + " -o " + out + " --seed -2", "--seed: must be an integer in 0..18446744073709551615"},
      {"baseline --tasks " + t + " -o " + out + " --strategy best", "--strategy"},
      {"baseline --tasks " + t + " -o " + out + " --strategy constant", "--strategy constant needs --constant"},
      {"export --for verl --tasks " + t, "--output is required"},
      {"export --for axolotl --tasks " + t + " -o " + out, "--for"},
      {"export --for verl --tasks " + dir_.string() + " -o " + out, "is a folder"},
      {"serve --port 70000", "--port: must be an integer in 0..65535, not '70000'"},
      {"serve --port -1", "--port: must be an integer in 0..65535, not '-1'"},
      {"serve --workers -2", "--workers: must be an integer in 0..4096"},
      {"serve --queue 0", "--queue: must be an integer in 1..1000000"},
      {"serve --max-items 0", "--max-items: must be an integer in 1..1000000"},
      {"serve --max-body -1", "--max-body: must be an integer in 1..2147483648"},
      {"serve --request-timeout 0", "--request-timeout: must be a number in (0, 3600]"},
      {"serve --keep-alive 601", "--keep-alive: must be an integer in 0..600"},
      {"serve --stop-timeout -1", "--stop-timeout: must be a number in (0, 3600]"},
      {"serve --host 0.0.0.0 --port 0", "--host 0.0.0.0 accepts connections from other machines: give --token"},
      {"serve --tasks " + dir_.string() + " --port 0", "is a folder"},
  };
  for (const auto& c : cases) {
    const auto r = run(c.args);
    EXPECT_EQ(r.status, 2) << "verity " << c.args << "\n" << r.output;
    EXPECT_NE(r.output.find(c.message), std::string::npos) << "verity " << c.args << "\nexpected: " << c.message
                                                           << "\n" << r.output;
    EXPECT_FALSE(fs::exists(out)) << "verity " << c.args << " wrote " << out;
  }
  // describe checks the level before printing anything.
  const auto describe = run("describe zebra --level 11");
  EXPECT_EQ(describe.output.find("zebra\n"), std::string::npos) << describe.output;
  EXPECT_EQ(run("generate --help").status, 0);
  EXPECT_EQ(run("--version").status, 0);
}

// `verity <args>` as a child process of its own (no shell: a shell's background job ignores SIGINT).
pid_t spawn_verity(const std::vector<std::string>& args) {
  const pid_t pid = ::fork();
  if (pid == 0) {
    const int null = ::open("/dev/null", O_WRONLY);
    ::dup2(null, STDOUT_FILENO);
    ::dup2(null, STDERR_FILENO);
    std::vector<char*> argv{const_cast<char*>(VERITY_BINARY)};
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    ::execv(VERITY_BINARY, argv.data());
    ::_exit(127);
  }
  return pid;
}

std::vector<std::string> temporary_files(const fs::path& dir) {
  std::vector<std::string> found;
  for (const auto& entry : fs::recursive_directory_iterator(dir))
    if (entry.path().filename().string().find(".tmp.") != std::string::npos) found.push_back(entry.path().string());
  return found;
}

// Every file under dir with its bytes.
std::map<std::string, std::string> snapshot(const fs::path& dir) {
  std::map<std::string, std::string> files;
  for (const auto& entry : fs::recursive_directory_iterator(dir))
    if (entry.is_regular_file()) files[entry.path().string()] = read_file(entry.path());
  return files;
}

// generate, a recipe build and export, killed mid-write by SIGKILL, SIGTERM and SIGINT: the earlier
// output is untouched; SIGTERM / SIGINT leave no temporary file; after SIGKILL the next run removes it.
TEST_F(CliTest, KilledMidRunLeavesNoTemporaryOrPartialFile) {
  const fs::path work = dir_ / "work";
  fs::create_directories(work);
  const std::string out = (work / "out.jsonl").string();
  ASSERT_EQ(run("generate -f causal_transitivity -l 3 -n 100000 --seed 9 -o " + path("big.jsonl")).status, 0);
  ASSERT_EQ(run("generate -f causal_transitivity -l 3 -n 20 --seed 9 -o " + path("small.jsonl")).status, 0);
  const auto recipe = [&](uint64_t count) {
    std::ofstream(path("recipe.json")) << nlohmann::json{
        {"name", "killed"},
        {"parts", {{{"name", "a"}, {"family", "propositional_entailment"}, {"level", 6}, {"count", count}, {"seed", 1}}}}}
                                              .dump();
  };
  struct Command {
    std::string name;
    std::vector<std::string> small, big;  // a quick complete run; one long enough to be killed mid-write
    std::function<void(uint64_t)> before = [](uint64_t) {};
  };
  const std::vector<Command> commands = {
      {"generate",
       {"generate", "-f", "causal_transitivity", "-n", "50", "--seed", "1", "-o", out},
       {"generate", "-f", "causal_transitivity", "-n", "100000000", "--seed", "2", "-j", "1", "-o", out}},
      {"recipe",
       {"generate", "--recipe", path("recipe.json"), "-o", work.string()},
       {"generate", "--recipe", path("recipe.json"), "-j", "1", "-o", work.string()},
       recipe},
      {"export",
       {"export", "--for", "verl", "--tasks", path("small.jsonl"), "-o", out},
       {"export", "--for", "verl", "--tasks", path("big.jsonl"), "-o", out}},
  };
  for (const auto& command : commands) {
    for (const int signal : {SIGKILL, SIGTERM, SIGINT}) {
      SCOPED_TRACE(command.name + " killed by signal " + std::to_string(signal));
      fs::remove_all(work);
      fs::create_directories(work);
      command.before(20);
      const auto small = spawn_verity(command.small);
      int status = 0;
      ASSERT_EQ(::waitpid(small, &status, 0), small);
      ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
      const auto earlier = snapshot(work);
      ASSERT_FALSE(earlier.empty());

      command.before(100'000'000);
      const pid_t pid = spawn_verity(command.big);
      // Wait until the temporary file holds some bytes: the process is mid-write.
      const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(60);
      bool writing = false;
      while (!writing && std::chrono::steady_clock::now() < give_up) {
        for (const auto& tmp : temporary_files(work)) {
          std::error_code error;
          if (fs::file_size(tmp, error) > 0 && !error) writing = true;
        }
        if (!writing) std::this_thread::sleep_for(std::chrono::milliseconds(2));
      }
      ::kill(pid, signal);
      ASSERT_EQ(::waitpid(pid, &status, 0), pid);
      ASSERT_TRUE(writing) << "no temporary file appeared";
      EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == signal) << "status " << status;
      EXPECT_EQ(snapshot(work).size(), earlier.size() + (signal == SIGKILL ? 1 : 0));
      for (const auto& [file, bytes] : earlier) EXPECT_EQ(read_file(file), bytes) << file << " changed";
      if (signal == SIGKILL) EXPECT_EQ(temporary_files(work).size(), 1u);
      else EXPECT_EQ(temporary_files(work), std::vector<std::string>{});

      // The next run completes and leaves no temporary file of the killed one behind.
      command.before(20);
      const auto next = spawn_verity(command.small);
      ASSERT_EQ(::waitpid(next, &status, 0), next);
      ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
      EXPECT_EQ(temporary_files(work), std::vector<std::string>{});
      EXPECT_EQ(snapshot(work), earlier);
    }
  }
}

// `-o -` puts the data, and nothing else, on standard output: the bytes the file would hold, no file
// named "-" and no manifest, the command's messages on standard error. Every command with -o does
// so (generate, baseline, score, export); a failed write (full disk) is an error, a recipe refuses it.
TEST_F(CliTest, DashOutputWritesToStandardOutput) {
  struct Split { int status; std::string out, err; };
  const auto run_split = [&](const std::string& args, const std::string& stdout_to = "stdout.txt") {
    const std::string command = "cd " + dir_.string() + " && " + VERITY_BINARY + " " + args + " >" + stdout_to +
                                " 2>stderr.txt";
    const int status = std::system(command.c_str());
    Split r{WIFEXITED(status) ? WEXITSTATUS(status) : -1, read_file(dir_ / "stdout.txt"), read_file(dir_ / "stderr.txt")};
    fs::remove(dir_ / "stdout.txt");
    return r;
  };
  const std::string generate = "generate -f fol_deduction -l 3 -n 40 --seed 5 --no-progress -o ";
  ASSERT_EQ(run(generate + path("t.jsonl")).status, 0);
  const Split tasks = run_split(generate + "-");
  ASSERT_EQ(tasks.status, 0) << tasks.err;
  EXPECT_EQ(tasks.out, read_file(path("t.jsonl")));
  EXPECT_NE(tasks.err.find("wrote 40 tasks to standard output (xxh64:"), std::string::npos) << tasks.err;

  ASSERT_EQ(run("baseline --tasks " + path("t.jsonl") + " --strategy gold -o " + path("g.jsonl")).status, 0);
  const Split gold = run_split("baseline --tasks t.jsonl --strategy gold -o -");
  ASSERT_EQ(gold.status, 0) << gold.err;
  EXPECT_EQ(gold.out, read_file(path("g.jsonl")));
  EXPECT_NE(gold.err.find("wrote 40 gold completions to standard output"), std::string::npos) << gold.err;

  const Split scores = run_split("score --tasks t.jsonl --completions g.jsonl -o -");
  ASSERT_EQ(scores.status, 0) << scores.err;
  std::istringstream lines(scores.out);
  int count = 0;
  for (std::string line; std::getline(lines, line); ++count) EXPECT_EQ(nlohmann::json::parse(line)["reward"], 1.0);
  EXPECT_EQ(count, 40);
  EXPECT_NE(scores.err.find("accuracy 100.00%"), std::string::npos) << scores.err;

  // "-" as an input: the tasks or the completions on standard input, as from a pipe
  const Split piped = run_split(generate + "- | " + VERITY_BINARY + " score --tasks - --completions g.jsonl");
  ASSERT_EQ(piped.status, 0) << piped.err;
  EXPECT_NE(piped.out.find("accuracy 100.00%"), std::string::npos) << piped.out << piped.err;
  const Split piped_gold = run_split("baseline --tasks - --strategy gold -o - < t.jsonl | " + std::string(VERITY_BINARY) +
                                     " score --tasks t.jsonl --completions - -o -");
  ASSERT_EQ(piped_gold.status, 0) << piped_gold.err;
  EXPECT_EQ(piped_gold.out, scores.out);
  const Split both = run_split("score --tasks - --completions - < t.jsonl");
  EXPECT_EQ(both.status, 2);
  EXPECT_NE(both.err.find("only one of the two can be standard input"), std::string::npos) << both.err;
  const Split bad = run_split("score --tasks - --completions g.jsonl < g.jsonl");
  EXPECT_EQ(bad.status, 2);
  EXPECT_NE(bad.err.find("standard input:1: not a Task record"), std::string::npos) << bad.err;

  ASSERT_EQ(run("export --for verl --tasks " + path("t.jsonl") + " -o " + path("v.jsonl")).status, 0);
  const Split verl = run_split("export --for verl --tasks t.jsonl -o -");
  ASSERT_EQ(verl.status, 0) << verl.err;
  EXPECT_EQ(verl.out, read_file(path("v.jsonl")));

  EXPECT_FALSE(fs::exists(dir_ / "-"));
  EXPECT_FALSE(fs::exists(dir_ / "-.manifest.json"));
  const Split full = run_split(generate + "-", "/dev/full");
  EXPECT_EQ(full.status, 2);
  EXPECT_NE(full.err.find("write to standard output failed"), std::string::npos) << full.err;
  const Split recipe = run_split("generate --recipe " + (fs::path(VERITY_SOURCE_DIR) / "datasets" /
                                                         "axiomatic_transitivity_train.json").string() + " --scale 0.01 -o -");
  EXPECT_EQ(recipe.status, 2);
  EXPECT_NE(recipe.err.find("not '-'"), std::string::npos) << recipe.err;
  EXPECT_TRUE(recipe.out.empty()) << recipe.out;
}

// The README's usage block, run in order as a new user would (from a folder holding datasets/): every
// command exits 0, and the files the later ones read are made by the earlier ones.
TEST_F(CliTest, ReadmeUsageCommandsRunInOrder) {
  const std::string readme = read_file(fs::path(VERITY_SOURCE_DIR) / "README.md");
  const auto section = readme.find("## Using it");
  ASSERT_NE(section, std::string::npos);
  const auto open = readme.find("```\n", section);
  const auto close = readme.find("```", open + 4);
  ASSERT_TRUE(open != std::string::npos && close != std::string::npos);
  fs::create_directory_symlink(fs::path(VERITY_SOURCE_DIR) / "datasets", dir_ / "datasets");
  std::istringstream block(readme.substr(open + 4, close - open - 4));
  int commands = 0;
  for (std::string line; std::getline(block, line);) {
    if (line.rfind("build/verity ", 0) != 0) continue;
    if (const auto comment = line.find("  #"); comment != std::string::npos) line.erase(comment);
    const std::string command = "cd " + dir_.string() + " && " + VERITY_BINARY + line.substr(12) + " 2>&1";
    FILE* pipe = ::popen(command.c_str(), "r");
    ASSERT_NE(pipe, nullptr);
    std::string output;
    std::array<char, 4096> buf{};
    for (size_t n; (n = std::fread(buf.data(), 1, buf.size(), pipe)) > 0;) output.append(buf.data(), n);
    const int status = ::pclose(pipe);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << line << "\n" << output;
    ++commands;
  }
  EXPECT_GE(commands, 8);
  for (const std::string file : {"pe.jsonl", "ct.jsonl", "preds.jsonl", "scores.jsonl", "report.md", "report.svg",
                                 "pe.verl.jsonl", "out/train"})
    EXPECT_TRUE(fs::exists(dir_ / file)) << file;
}

}  // namespace
