#include <gtest/gtest.h>
#include <oneapi/tbb/parallel_for.h>
#include <z3++.h>

#include <algorithm>
#include <atomic>
#include <functional>
#include <mutex>
#include <numeric>
#include <set>

#include "family_properties.h"
#include "test_support.h"
#include "reading.h"
#include "label_shortcuts.h"
#include "service/scoring.h"
#include "solvers/z3_bridge.h"
#include "solvers/zebra_solver.h"
#include "tasks/concat.h"
#include "tasks/dataset.h"
#include "tasks/registry/registry.h"

namespace {

using namespace verity;

// ---- an independent Z3 encoding, built from the stored instance only ----

struct Z3Puzzle {
  z3::context& ctx;
  std::vector<z3::expr> house;  // per (attribute, value): its house, 1..n
  z3::expr_vector constraints;  // domain + all-different
  z3::expr_vector clues;
  explicit Z3Puzzle(z3::context& c) : ctx(c), constraints(c), clues(c) {}
};

z3::expr clue_to_z3(const Z3Puzzle& p, const pb::ZebraInstance& inst, const pb::ZebraClue& c) {
  const int n = inst.houses();
  const z3::expr x = p.house[c.attribute_a() * n + c.value_a()];
  const z3::expr y = p.house[c.attribute_b() * n + c.value_b()];
  const std::string& k = c.kind();
  if (k == "same") return x == y;
  if (k == "not_same") return x != y;
  if (k == "next_to") return x - y == 1 || y - x == 1;
  if (k == "left_of") return x < y;
  if (k == "immediately_left") return x + 1 == y;
  if (k == "position") return x == c.house();
  if (k == "not_position") return x != c.house();
  ADD_FAILURE() << "unknown clue kind " << k;
  return p.ctx.bool_val(false);
}

Z3Puzzle encode(z3::context& ctx, const pb::ZebraInstance& inst) {
  Z3Puzzle p(ctx);
  const int n = inst.houses();
  for (int a = 0; a < inst.attributes_size(); ++a) {
    z3::expr_vector column(ctx);
    for (int v = 0; v < n; ++v) {
      const z3::expr h = ctx.int_const(("h_" + std::to_string(a) + "_" + std::to_string(v)).c_str());
      p.house.push_back(h);
      column.push_back(h);
      p.constraints.push_back(h >= 1 && h <= n);
    }
    p.constraints.push_back(z3::distinct(column));
  }
  for (const auto& c : inst.clues()) p.clues.push_back(clue_to_z3(p, inst, c));
  return p;
}

// Not the stored solution: some value sits in another house.
z3::expr differs_from_solution(const Z3Puzzle& p, const pb::ZebraInstance& inst) {
  z3::expr_vector diffs(p.ctx);
  const int n = inst.houses();
  for (int a = 0; a < inst.attributes_size(); ++a)
    for (int v = 0; v < n; ++v) diffs.push_back(p.house[a * n + v] != inst.attributes(a).solution(v));
  return z3::mk_or(diffs);
}

// Z3's verdict: is the stored solution a model, and is every other assignment excluded?
// With `skip` >= 0 that clue is left out. Returns 0, 1 or 2 (= two or more) solutions.
int z3_count(const pb::ZebraInstance& inst, int skip = -1, bool* solution_is_model = nullptr) {
  z3::context& ctx = z3bridge::thread_context();
  const Z3Puzzle p = encode(ctx, inst);
  // Creating a Z3 solver is costly: each thread keeps one and scopes every question with push/pop.
  thread_local z3::solver s(ctx);
  struct Scope {
    z3::solver& s;
    explicit Scope(z3::solver& solver) : s(solver) { s.push(); }
    ~Scope() { s.pop(); }
  } scope(s);
  s.add(p.constraints);
  for (int i = 0; i < static_cast<int>(p.clues.size()); ++i)
    if (i != skip) s.add(p.clues[i]);
  if (solution_is_model) {
    s.push();
    s.add(!differs_from_solution(p, inst));
    *solution_is_model = s.check() == z3::sat;
    s.pop();
  }
  if (s.check() != z3::sat) return 0;
  // Block the first model found and ask again.
  const z3::model m = s.get_model();
  z3::expr_vector diffs(ctx);
  for (const auto& h : p.house) diffs.push_back(h != m.eval(h, true));
  s.add(z3::mk_or(diffs));
  return s.check() == z3::sat ? 2 : 1;
}

// ---- the solver's view of a stored instance ----

zebra::Puzzle to_puzzle(const pb::ZebraInstance& inst) {
  zebra::Puzzle p;
  p.houses = inst.houses();
  p.attributes = inst.attributes_size();
  for (const auto& c : inst.clues()) {
    zebra::Clue clue;
    EXPECT_TRUE(zebra::parse_kind(c.kind(), clue.kind)) << c.kind();
    clue.x = static_cast<uint8_t>(c.attribute_a() * p.houses + c.value_a());
    clue.y = static_cast<uint8_t>(c.attribute_b() * p.houses + c.value_b());
    clue.house = static_cast<uint8_t>(std::max(0, c.house() - 1));
    p.clues.push_back(clue);
  }
  return p;
}

zebra::Solution stored_solution(const pb::ZebraInstance& inst) {
  zebra::Solution s;
  for (const auto& attr : inst.attributes())
    for (int h : attr.solution()) s.push_back(h - 1);
  return s;
}

// The gold grid with the values of `attribute` in houses h1 and h2 exchanged.
std::string swapped_grid(const pb::ZebraInstance& inst, int attribute, int h1, int h2) {
  pb::ZebraInstance copy = inst;
  auto* sol = copy.mutable_attributes(attribute)->mutable_solution();
  for (int v = 0; v < sol->size(); ++v) {
    if (sol->Get(v) == h1) sol->Set(v, h2);
    else if (sol->Get(v) == h2) sol->Set(v, h1);
  }
  return zebra_grid_answer(copy);
}

int level_count(int level) { return level <= 6 ? 2000 : level <= 8 ? 800 : 300; }

// Per task: gold verifies in every accepted form, one-cell swaps lose credit, junk scores 0, the
// solver finds exactly the stored solution, every clue holds in it and none can be left out.
std::string check_task(const pb::Task& task) {
  std::string failure;
  const auto& inst = task.zebra();
  for (const std::string& form : {"<answer>" + task.answer() + "</answer>", "Reasoning...\nAnswer: " + task.answer(),
                                  "\\boxed{" + task.answer() + "}"}) {
    const auto s = score_completion(task, form);
    if (s.reward() != 1.0 || !s.correct() || !s.format_ok()) failure += "gold scored " + s.reason() + "; ";
  }
  const int cells = inst.houses() * inst.attributes_size();
  for (int a = 0; a < inst.attributes_size(); ++a) {  // one swap per attribute: houses 1 and n
    const auto s = score_completion(task, "<answer>" + swapped_grid(inst, a, 1, inst.houses()) + "</answer>");
    if (s.correct() || std::abs(s.reward() - double(cells - 2) / cells) > 1e-9)
      failure += "swapped grid scored " + std::to_string(s.reward()) + "; ";
  }
  for (const char* junk : {"I am not sure.", "<answer>no idea</answer>", "<answer>House 1: ?</answer>"}) {
    const auto s = score_completion(task, junk);
    if (s.reward() != 0.0 || s.format_ok()) failure += std::string("junk '") + junk + "' scored; ";
  }
  const zebra::Solution truth = stored_solution(inst);
  const zebra::Puzzle puzzle = to_puzzle(inst);
  const auto r = zebra::solve(puzzle, 3);
  if (r.solutions != 1 || r.first != truth) failure += "solver does not find exactly the stored solution; ";
  for (const auto& c : puzzle.clues)
    if (!zebra::holds(c, truth)) failure += "a clue is false in the solution; ";
  for (int i = 0; i < static_cast<int>(puzzle.clues.size()); ++i)  // Z3 repeats this on a sample
    if (zebra::solve(puzzle, 2, i).solutions != 2) failure += "clue " + std::to_string(i + 1) + " is redundant; ";
  if (task.trace_size() == 0 || task.prompt().empty()) failure += "empty prompt or trace; ";
  return failure;
}

class ZebraLevels : public ::testing::TestWithParam<int> {};

TEST_P(ZebraLevels, GoldVerifiesSwapsLoseCreditJunkScoresZeroSolverAgrees) {
  const int level = GetParam();
  verity::testing::check_every_task("zebra", level, {}, level_count(level),
                                    [](const pb::Task& task, uint64_t) { return check_task(task); });
}

// Z3 proves the solution unique; on the first few tasks it also proves that leaving out any one clue
// admits a second solution (one Z3 call per clue, so fewer tasks at the large levels).
TEST_P(ZebraLevels, Z3ProvesUniqueAndNoClueRedundant) {
  const int level = GetParam();
  // Z3 needs up to ~0.3 s per question at 8 houses x 7 attributes; keep each level to a few seconds.
  const int unique_count = level <= 3 ? 1000 : level == 4 ? 600 : level <= 7 ? 150 : level <= 9 ? 30 : 12;
  const uint64_t redundancy_count = level <= 4 ? 100 : level <= 7 ? 15 : level <= 9 ? 3 : 1;
  verity::testing::check_every_task(
      "zebra", level, {}, unique_count, [&](const pb::Task& task, uint64_t i) -> std::string {
        const auto& inst = task.zebra();
        bool model = false;
        if (z3_count(inst, -1, &model) != 1 || !model) return "Z3: the stored solution is not the unique model";
        if (i >= redundancy_count) return "";
        for (int c = 0; c < inst.clues_size(); ++c)
          if (z3_count(inst, c) != 2) return "Z3: clue " + std::to_string(c + 1) + " is redundant";
        return "";
      });
}

INSTANTIATE_TEST_SUITE_P(AllLevels, ZebraLevels, ::testing::Range(1, 11));

// The solver's verdicts on arbitrary clue sets (not only generated puzzles, which are always unique):
// clues true in a hidden random solution, and sometimes one arbitrary (possibly false) clue, so 0, 1
// and many solutions all occur. Compared with brute force and with Z3.
zebra::Clue random_clue(Rng& rng, int n, int k) {
  zebra::Clue c;
  c.kind = static_cast<zebra::ClueKind>(rng.index(7));
  c.x = static_cast<uint8_t>(rng.index(n * k));
  do c.y = static_cast<uint8_t>(rng.index(n * k));
  while (c.y == c.x);
  c.house = static_cast<uint8_t>(rng.index(n));
  return c;
}

zebra::Puzzle random_clue_set(Rng& rng, int max_houses, int max_attributes) {
  zebra::Puzzle p;
  p.houses = 2 + static_cast<int>(rng.index(max_houses - 1));
  p.attributes = 2 + static_cast<int>(rng.index(max_attributes - 1));
  zebra::Solution hidden;
  for (int a = 0; a < p.attributes; ++a) {
    std::vector<int> perm(p.houses);
    std::iota(perm.begin(), perm.end(), 0);
    rng.shuffle(perm);
    hidden.insert(hidden.end(), perm.begin(), perm.end());
  }
  const int clues = static_cast<int>(rng.index(2 * p.values()));
  while (static_cast<int>(p.clues.size()) < clues) {
    const zebra::Clue c = random_clue(rng, p.houses, p.attributes);
    if (zebra::holds(c, hidden)) p.clues.push_back(c);
  }
  if (rng.chance(0.3)) p.clues.push_back(random_clue(rng, p.houses, p.attributes));
  return p;
}

pb::ZebraInstance to_instance(const zebra::Puzzle& p) {
  pb::ZebraInstance inst;
  inst.set_houses(p.houses);
  for (int a = 0; a < p.attributes; ++a) {
    auto* attr = inst.add_attributes();
    for (int v = 0; v < p.houses; ++v) {
      attr->add_values(concat("v", std::to_string(a), "_", std::to_string(v)));
      attr->add_solution(v + 1);  // placeholder: z3_count's counting query ignores it
    }
  }
  for (const auto& c : p.clues) {
    auto* clue = inst.add_clues();
    clue->set_kind(zebra::kind_name(c.kind));
    clue->set_attribute_a(c.x / p.houses);
    clue->set_value_a(c.x % p.houses);
    clue->set_attribute_b(c.y / p.houses);
    clue->set_value_b(c.y % p.houses);
    clue->set_house(c.house + 1);
  }
  return inst;
}

// Solutions counted by enumerating every assignment (each attribute a permutation), capped at 2.
int brute_force_count(const zebra::Puzzle& p) {
  std::vector<int> base(p.houses);
  std::iota(base.begin(), base.end(), 0);
  std::vector<std::vector<int>> perms;
  do perms.push_back(base);
  while (std::next_permutation(base.begin(), base.end()));
  std::vector<size_t> pick(p.attributes, 0);
  int count = 0;
  zebra::Solution s(p.values());
  while (count < 2) {
    for (int a = 0; a < p.attributes; ++a)
      for (int v = 0; v < p.houses; ++v) s[a * p.houses + v] = perms[pick[a]][v];
    if (std::all_of(p.clues.begin(), p.clues.end(), [&](const zebra::Clue& c) { return zebra::holds(c, s); }))
      ++count;
    int a = 0;
    while (a < p.attributes && ++pick[a] == perms.size()) pick[a++] = 0;
    if (a == p.attributes) break;
  }
  return count;
}

// Runs `reference` against the solver on `seeds` random clue sets; every verdict must agree and
// each of 0, 1, 2+ solutions must occur often enough for the comparison to mean something.
void compare_verdicts(int seeds, int max_houses, int max_attributes, uint64_t salt,
                      const std::function<int(const zebra::Puzzle&)>& reference) {
  std::atomic<int> outcomes[3] = {0, 0, 0};
  std::mutex mutex;
  std::vector<std::string> failures;
  tbb::parallel_for(0, seeds, [&](int seed) {
    Rng rng(mix_seed({salt, static_cast<uint64_t>(seed)}));
    const zebra::Puzzle p = random_clue_set(rng, max_houses, max_attributes);
    const int ours = zebra::solve(p, 2).solutions;
    const int theirs = reference(p);
    outcomes[ours].fetch_add(1);
    if (ours != theirs) {
      std::lock_guard lock(mutex);
      failures.push_back("seed " + std::to_string(seed) + " (" + std::to_string(p.houses) + "x" +
                         std::to_string(p.attributes) + "): solver " + std::to_string(ours) + ", reference " +
                         std::to_string(theirs));
    }
  });
  for (size_t i = 0; i < std::min<size_t>(failures.size(), 5); ++i) ADD_FAILURE() << failures[i];
  for (int k = 0; k < 3; ++k) EXPECT_GT(outcomes[k].load(), seeds / 20) << "verdict " << k << " too rare";
}

TEST(Zebra, SolverAgreesWithBruteForceOnRandomClueSets) {
  // Up to 4 houses x 3 attributes: at most 24^3 = 13,824 assignments to enumerate.
  compare_verdicts(3000, 4, 3, 77, brute_force_count);
}

TEST(Zebra, SolverAgreesWithZ3OnRandomClueSets) {
  compare_verdicts(3000, 5, 4, 78, [](const zebra::Puzzle& p) { return z3_count(to_instance(p)); });
}

// Solutions the solver reports satisfy every clue (checked by the independent holds()), and each
// attribute is a permutation of the houses, also on the largest grids.
TEST(Zebra, SolverSolutionsSatisfyTheClues) {
  for (int seed = 0; seed < 1000; ++seed) {
    Rng rng(mix_seed({91, static_cast<uint64_t>(seed)}));
    const zebra::Puzzle p = random_clue_set(rng, zebra::kMaxHouses, 5);
    const auto r = zebra::solve(p, 1);
    if (r.solutions == 0) continue;
    for (const auto& c : p.clues) ASSERT_TRUE(zebra::holds(c, r.first)) << "seed " << seed;
    for (int a = 0; a < p.attributes; ++a) {
      std::set<int> houses(r.first.begin() + a * p.houses, r.first.begin() + (a + 1) * p.houses);
      ASSERT_EQ(static_cast<int>(houses.size()), p.houses) << "seed " << seed;
    }
  }
}

// No two puzzles of a dataset are the same (same values, solution and clues), even at the smallest size.
TEST(Zebra, NoDuplicatePuzzles) {
  const Generator& f = find_family("zebra").generator;
  for (const KnobMap& overrides : std::vector<KnobMap>{{}, {{"houses", "2"}, {"attributes", "2"}}}) {
    const Knobs knobs = resolve_knobs(f, overrides.empty() ? 1 : 0, overrides);
    std::set<std::string> seen;
    int duplicates = 0;
    const int count = 3000;
    for (int i = 0; i < count; ++i) {
      const auto task = make_task(f, knobs, 1, 3, i);
      duplicates += !seen.insert(task.zebra().SerializeAsString()).second;
    }
    // 2x2 has only a handful of distinct puzzles per vocabulary pair; duplicates there are expected
    // to be rare, not impossible. The level ladder (3x3 and up) must have none.
    if (overrides.empty()) EXPECT_EQ(duplicates, 0);
    else EXPECT_LT(duplicates, count / 10);
  }
}

// Difficulty rises with the level: more clues (the proof needs more premises)
// and fewer direct position clues, averaged over the same seeds at every level.
TEST(Zebra, DifficultyRisesWithLevel) {
  const Generator& f = find_family("zebra").generator;
  std::vector<double> clues, positions;
  for (int level = 1; level <= 10; ++level) {
    const Knobs knobs = resolve_knobs(f, level, {});
    const int count = level <= 8 ? 200 : 60;
    double c = 0, pos = 0;
    for (int i = 0; i < count; ++i) {
      const auto task = make_task(f, knobs, level, 8, i);
      c += task.zebra().clues_size();
      for (const auto& clue : task.zebra().clues()) pos += clue.kind() == "position";
    }
    clues.push_back(c / count);
    positions.push_back(pos / c);
  }
  for (int l = 1; l < 10; ++l) EXPECT_GE(clues[l], clues[l - 1] * 0.95) << "level " << l + 1;
  EXPECT_GT(clues[9], 3 * clues[0]);
  EXPECT_LT(positions[9], positions[0] / 2) << "direct position clues should thin out with level";
}

TEST(Zebra, SingleQuestion) {
  const Generator& f = find_family("zebra").generator;
  const Knobs knobs = resolve_knobs(f, 4, {{"question", "single"}});
  for (uint64_t i = 0; i < 500; ++i) {
    const auto task = make_task(f, knobs, 4, 1, i);
    const auto& inst = task.zebra();
    ASSERT_EQ(inst.question(), "single");
    const auto& target = inst.attributes(inst.question_attribute());
    const int house = inst.attributes(inst.given_attribute()).solution(inst.given_value());
    for (int v = 0; v < target.values_size(); ++v) {
      const bool right = target.solution(v) == house;
      ASSERT_EQ(right, target.values(v) == task.answer());
      const auto s = score_completion(task, "<answer>" + target.values(v) + "</answer>");
      ASSERT_EQ(s.reward(), right ? 1.0 : 0.0) << s.reason();
      ASSERT_TRUE(s.format_ok());
    }
    // Case, articles and a full sentence are fine; naming two candidates is not.
    std::string upper = task.answer();
    for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    ASSERT_EQ(score_completion(task, "<answer>The " + upper + ".</answer>").reward(), 1.0);
    const std::string other = target.values(target.values(0) == task.answer() ? 1 : 0);
    ASSERT_EQ(score_completion(task, "<answer>" + task.answer() + " or " + other + "</answer>").reward(), 0.0);
    ASSERT_EQ(score_completion(task, "Answer: " + task.answer()).reward(), 1.0);
  }
}

TEST(Zebra, GridFormatsAreReadLeniently) {
  const Generator& f = find_family("zebra").generator;
  const Knobs knobs = resolve_knobs(f, 3, {});  // 4 houses x 3 attributes
  const auto task = make_task(f, knobs, 3, 1, 0);
  const auto& inst = task.zebra();
  const int n = inst.houses();
  auto value = [&](int a, int h) {
    for (int v = 0; v < n; ++v)
      if (inst.attributes(a).solution(v) == h) return inst.attributes(a).values(v);
    return std::string();
  };
  std::string lines, reversed, markdown = "| House | a | b | c |\n|---|---|---|---|\n", numbered;
  for (int h = 1; h <= n; ++h) {
    lines += "House " + std::to_string(h) + ": " + value(0, h) + ", " + value(1, h) + ", " + value(2, h) + "\n";
    reversed = "  house   " + std::to_string(h) + " :  " + value(2, h) + " " + value(0, h) + " " + value(1, h) + "\n" + reversed;
    markdown += "| " + std::to_string(h) + " | " + value(0, h) + " | " + value(1, h) + " | " + value(2, h) + " |\n";
    numbered += std::to_string(h) + ". " + value(1, h) + ", " + value(0, h) + ", " + value(2, h) + "\n";
  }
  std::string shouting = lines;
  for (char& c : shouting) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  std::string one_line = lines;  // entries separated by commas only: "House k" starts each
  std::replace(one_line.begin(), one_line.end(), '\n', ',');
  for (const std::string& form : {lines, reversed, markdown, numbered, shouting, one_line}) {
    const auto s = score_completion(task, "<answer>\n" + form + "</answer>");
    EXPECT_EQ(s.reward(), 1.0) << form << "\n" << s.reason();
    EXPECT_TRUE(s.correct());
  }
  // Half the houses: half the credit, not correct.
  std::string half;
  for (int h = 1; h <= n / 2; ++h) half += "House " + std::to_string(h) + ": " + value(0, h) + ", " + value(1, h) + ", " + value(2, h) + "\n";
  const auto s = score_completion(task, "<answer>" + half + "</answer>");
  EXPECT_DOUBLE_EQ(s.reward(), 0.5);
  EXPECT_FALSE(s.correct());
  EXPECT_TRUE(s.format_ok());
  // Hedging (every value in every house) earns nothing.
  std::string all;
  for (int h = 1; h <= n; ++h) {
    all += "House " + std::to_string(h) + ":";
    for (int a = 0; a < 3; ++a)
      for (int v = 0; v < n; ++v) all += " " + inst.attributes(a).values(v);
    all += "\n";
  }
  EXPECT_EQ(score_completion(task, "<answer>" + all + "</answer>").reward(), 0.0);
}

TEST(Zebra, VerifierNeverThrowsOnJunk) {
  const Generator& f = find_family("zebra").generator;
  const Verifier& verifier = find_family("zebra").verifier;
  const auto task = make_task(f, resolve_knobs(f, 5, {}), 5, 1, 0);
  Rng rng(5);
  std::vector<std::string> junk = {"", "<answer></answer>", "<answer>House 99999999999999999999: red</answer>",
                                   "<answer>House -1: red; House 0: blue</answer>", "\\boxed{", std::string(70000, 'a'),
                                   "<answer>" + std::string(16000, '1') + "</answer>",
                                   "<answer>" + std::string(10000, ';') + "</answer>"};
  for (int i = 0; i < 300; ++i) {
    std::string s;
    const int len = static_cast<int>(rng.index(2000));
    for (int j = 0; j < len; ++j) s.push_back(static_cast<char>(rng.index(128)));
    junk.push_back("<answer>" + s + "</answer>");
  }
  for (const auto& text : junk) {
    pb::Score s;
    ASSERT_NO_THROW(s = verifier.verify(task, text));
    EXPECT_GE(s.reward(), 0.0);
    EXPECT_LE(s.reward(), 1.0);
    EXPECT_FALSE(s.correct());
  }
  // A record whose instance is damaged gets a zero score with a reason, not a crash.
  pb::Task broken = task;
  broken.mutable_zebra()->mutable_attributes(0)->clear_solution();
  EXPECT_EQ(verifier.verify(broken, "<answer>" + task.answer() + "</answer>").reward(), 0.0);
  pb::Task empty;
  EXPECT_EQ(verifier.verify(empty, "<answer>x</answer>").reward(), 0.0);
}

// The gold trace: deterministic, each placement agrees with the solution, cites real clues, and the
// last steps state the solution.
TEST(Zebra, TraceIsSoundAndDeterministic) {
  const Generator& f = find_family("zebra").generator;
  for (int level : {1, 4, 7}) {
    const Knobs knobs = resolve_knobs(f, level, {});
    for (uint64_t i = 0; i < 100; ++i) {
      const auto task = make_task(f, knobs, level, 2, i);
      ASSERT_EQ(to_json_line(task), to_json_line(make_task(f, knobs, level, 2, i)));
      const auto& inst = task.zebra();
      const int placed = std::count_if(task.trace().begin(), task.trace().end(), [](const pb::TraceStep& s) {
        return s.rule() != "contradiction" && s.rule() != "solution" && s.rule() != "search";
      });
      const bool searched = std::any_of(task.trace().begin(), task.trace().end(),
                                        [](const pb::TraceStep& s) { return s.rule() == "search"; });
      if (!searched) EXPECT_EQ(placed, inst.houses() * inst.attributes_size());
      for (const auto& step : task.trace())
        for (const auto& cite : step.cites()) {
          const int k = std::stoi(cite.substr(1));
          ASSERT_TRUE(cite[0] == 'p' && k >= 1 && k <= inst.clues_size()) << cite;
        }
      EXPECT_EQ(task.trace(task.trace_size() - 1).text(), "Solution: " + task.answer());
    }
  }
}

// The deduction's placements are each the true house (checked via the solver's deduce directly).
TEST(Zebra, DeductionsAgreeWithTheSolution) {
  const Generator& f = find_family("zebra").generator;
  int completed = 0, total = 0;
  for (int level : {2, 5, 8}) {
    const Knobs knobs = resolve_knobs(f, level, {});
    for (uint64_t i = 0; i < 100; ++i) {
      const auto task = make_task(f, knobs, level, 4, i);
      const auto truth = stored_solution(task.zebra());
      std::vector<zebra::Deduction> steps;
      completed += zebra::deduce(to_puzzle(task.zebra()), steps);
      ++total;
      for (const auto& s : steps) ASSERT_EQ(s.placed, truth[s.value] == s.house) << "level " << level;
    }
  }
  EXPECT_GT(completed, total / 2) << "propagation + one-step contradictions should solve most puzzles";
}

TEST(Zebra, KnobsShapeThePuzzle) {
  const Generator& f = find_family("zebra").generator;
  const Knobs knobs = resolve_knobs(f, 0, {{"houses", "6"}, {"attributes", "3"}, {"position_share", "0"},
                                           {"format", "symbolic"}});
  for (uint64_t i = 0; i < 50; ++i) {
    const auto task = make_task(f, knobs, 0, 1, i);
    ASSERT_EQ(task.zebra().houses(), 6);
    ASSERT_EQ(task.zebra().attributes_size(), 3);
    for (const auto& c : task.zebra().clues()) ASSERT_NE(c.kind(), "position");
    ASSERT_NE(task.prompt().find("house("), std::string::npos);
    ASSERT_EQ(task.prompt().find("lives"), std::string::npos);
    ASSERT_EQ(check_task(task), "");
  }
  EXPECT_THROW(resolve_knobs(f, 0, {{"houses", "9"}}), KnobError);
  const Knobs bad = resolve_knobs(f, 0, {{"position_share", "0.7"}, {"negative_share", "0.5"}});
  EXPECT_THROW(make_task(f, bad, 0, 1, 0), KnobError);
  // Extremes of the clue mix still yield unique puzzles.
  for (const KnobMap& mix : std::vector<KnobMap>{{{"position_share", "1"}, {"negative_share", "0"}},
                                                 {{"position_share", "0"}, {"negative_share", "1"}},
                                                 {{"position_share", "0"}, {"negative_share", "0"}},
                                                 {{"houses", "8"}, {"attributes", "8"}}}) {
    const auto task = make_task(f, resolve_knobs(f, 0, mix), 0, 1, 0);
    EXPECT_EQ(check_task(task), "");
  }
}

// ---- one reading per clue: the prompt read back by a parser written for the test ----

namespace rd = verity::testing::reading;

// How English names the holder of a value of each attribute ("the person who keeps the dog") and
// says that someone holds it ("keeps the dog"), from the family's English templates.
const std::map<std::string, std::pair<std::string, std::string>>& zebra_phrasing() {
  static const std::map<std::string, std::pair<std::string, std::string>> kPhrasing = {
      {"color", {"the person in the {} house", "lives in the {} house"}},
      {"nationality", {"the {}", "is the {}"}},
      {"pet", {"the person who keeps the {}", "keeps the {}"}},
      {"drink", {"the person who drinks {}", "drinks {}"}},
      {"hobby", {"the person who enjoys {}", "enjoys {}"}},
      {"job", {"the {}", "is the {}"}},
      {"car", {"the person who drives the {}", "drives the {}"}},
      {"sport", {"the person who plays {}", "plays {}"}},
      {"name", {"{}", "is {}"}},
      {"music", {"the person who likes {}", "likes {}"}}};
  return kPhrasing;
}

std::string zebra_fill(const std::string& pattern, const std::string& value) {
  std::string out = pattern;
  return out.replace(out.find("{}"), 2, value);
}

// Readings of a clue: kind(a.v,b.v) or kind(a.v,house); symmetric kinds list their values sorted.
std::string zebra_reading(const std::string& kind, std::string x, std::string y) {
  if ((kind == "same" || kind == "not_same" || kind == "next_to") && y < x) std::swap(x, y);
  return kind + "(" + x + "," + y + ")";
}

std::string zebra_stored(const pb::ZebraClue& c) {
  const std::string x = std::to_string(c.attribute_a()) + "." + std::to_string(c.value_a());
  if (c.kind() == "position" || c.kind() == "not_position") return zebra_reading(c.kind(), x, std::to_string(c.house()));
  return zebra_reading(c.kind(), x, std::to_string(c.attribute_b()) + "." + std::to_string(c.value_b()));
}

rd::Grammar zebra_grammar(const pb::ZebraInstance& inst, bool natural) {
  using Args = std::vector<std::string>;
  // Holes: "P:a.v" (a person), "Q:a.v" (holds a value), "N:h" (a house number or ordinal).
  auto clue = [](const std::string& kind, const std::string& first, const std::string& second, bool swap) {
    return [=](const Args& a) -> std::string {
      if (a[0].rfind(first, 0) != 0 || a[1].rfind(second, 0) != 0) return "";
      const std::string x = a[0].substr(first.size()), y = a[1].substr(second.size());
      return swap ? zebra_reading(kind, y, x) : zebra_reading(kind, x, y);
    };
  };
  rd::Grammar g;
  std::vector<std::tuple<const char*, const char*, const char*, const char*, bool>> forms;  // spec, kind, holes, swap
  if (natural) {
    forms = {{"{} {} .", "same", "P:", "Q:", false},
             {"{} and {} live in the same house .", "same", "P:", "P:", false},
             {"{} and {} are different people .", "not_same", "P:", "P:", false},
             {"{} is not {} .", "not_same", "P:", "P:", false},
             {"it is not the case that {} {} .", "not_same", "P:", "Q:", false},
             {"{} lives next to {} .", "next_to", "P:", "P:", false},
             {"{} and {} live next to each other .", "next_to", "P:", "P:", false},
             {"{} lives next door to {} .", "next_to", "P:", "P:", false},
             {"{} lives directly to the left of {} .", "immediately_left", "P:", "P:", false},
             {"{} lives directly to the right of {} .", "immediately_left", "P:", "P:", true},
             {"{} lives in the house just right of {} .", "immediately_left", "P:", "P:", true},
             {"{} lives somewhere to the left of {} .", "left_of", "P:", "P:", false},
             {"{} lives somewhere to the right of {} .", "left_of", "P:", "P:", true},
             {"{} lives further left than {} .", "left_of", "P:", "P:", false},
             {"{} lives in house {} .", "position", "P:", "N:", false},
             {"{} lives in the {} house .", "position", "P:", "N:", false},
             {"the {} house belongs to {} .", "position", "P:", "N:", true},
             {"{} does not live in house {} .", "not_position", "P:", "N:", false},
             {"{} does not live in the {} house .", "not_position", "P:", "N:", false},
             {"the {} house does not belong to {} .", "not_position", "P:", "N:", true}};
  } else {
    forms = {{"{} = {}", "same", "P:", "P:", false},          {"{} != {}", "not_same", "P:", "P:", false},
             {"| {} - {} | = 1", "next_to", "P:", "P:", false}, {"{} + 1 = {}", "immediately_left", "P:", "P:", false},
             {"{} < {}", "left_of", "P:", "P:", false},          {"{} = {}", "position", "P:", "N:", false},
             {"{} != {}", "not_position", "P:", "N:", false}};
  }
  for (const auto& [spec, kind, first, second, swap] : forms) {
    // A swapped form names its holes in the other order ("The third house belongs to P").
    g.templates.push_back(rd::pattern(spec, swap && std::string(second) == "N:"
                                                ? [f = clue(kind, first, second, false)](const Args& a) { return f({a[1], a[0]}); }
                                                : std::function<std::string(const Args&)>(clue(kind, first, second, swap))));
  }
  std::map<std::string, std::string> leaves;
  static const char* kOrdinals[] = {"first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth"};
  for (int h = 1; h <= inst.houses(); ++h) {
    leaves[std::to_string(h)] = "N:" + std::to_string(h);
    if (natural) leaves[kOrdinals[h - 1]] = "N:" + std::to_string(h);
  }
  for (int a = 0; a < inst.attributes_size(); ++a) {
    const auto& attr = inst.attributes(a);
    const auto& [person, holds] = zebra_phrasing().at(attr.name());
    for (int v = 0; v < attr.values_size(); ++v) {
      const std::string id = std::to_string(a) + "." + std::to_string(v);
      auto text = [](const std::string& s) { return rd::join(rd::tokenize(s), 0, rd::tokenize(s).size()); };
      if (natural) {
        leaves[text(zebra_fill(person, attr.values(v)))] = "P:" + id;
        leaves[text(zebra_fill(holds, attr.values(v)))] = "Q:" + id;
      } else {
        leaves[text("house(" + attr.name() + "=" + attr.values(v) + ")")] = "P:" + id;
      }
    }
  }
  g.leaf = rd::leaf_table(std::move(leaves));
  return g;
}

// Reads the prompt back: each numbered clue has exactly one reading, the stored clue; the parsed
// clues hold in the stored solution and (small puzzles) have no other solution by enumeration.
std::string zebra_read_back(const pb::Task& task, bool natural) {
  const auto& inst = task.zebra();
  rd::Grammar g = zebra_grammar(inst, natural);
  pb::ZebraInstance parsed = inst;
  parsed.clear_clues();
  std::string failure;
  for (const std::string& line : rd::lines_of(task.prompt())) {
    const std::string item = rd::numbered_item(line);
    if (item.empty()) continue;
    if (parsed.clues_size() >= inst.clues_size()) return "more clues than stored";
    const rd::Readings r = g.read(rd::tokenize(item));
    const std::string expected = zebra_stored(inst.clues(parsed.clues_size()));
    if (r.size() != 1) failure += std::to_string(r.size()) + " readings of '" + item + "'; ";
    else if (*r.begin() != expected) failure += "'" + item + "' reads as " + *r.begin() + ", stored " + expected + "; ";
    *parsed.add_clues() = inst.clues(parsed.clues_size());
  }
  if (parsed.clues_size() != inst.clues_size()) return failure + "clues missing from the prompt";
  if (!failure.empty()) return failure;
  const zebra::Puzzle puzzle = to_puzzle(parsed);
  const zebra::Solution solution = stored_solution(inst);
  for (const auto& c : puzzle.clues)
    if (!zebra::holds(c, solution)) return "a parsed clue fails in the stored solution";
  if (inst.houses() <= 4 && inst.attributes_size() <= 3 && brute_force_count(puzzle) != 1)
    return "the parsed clues do not have one solution";
  return "";
}

// Generation costs grow fast with the level (8 houses x 7 attributes at level 10): one test per level.
class ZebraReading : public ::testing::TestWithParam<std::tuple<int, const char*>> {};

TEST_P(ZebraReading, EveryClueHasOneReadingAndItIsTheStoredOne) {
  const auto [level, format] = GetParam();
  const uint64_t count = level <= 8 ? 2000 : 1000;
  verity::testing::check_every_task("zebra", level, {{"format", format}}, count, [&](const pb::Task& task, uint64_t) {
    return zebra_read_back(task, std::string(format) == "natural");
  });
}

INSTANTIATE_TEST_SUITE_P(AllLevels, ZebraReading,
                         ::testing::Combine(::testing::Range(1, 11), ::testing::Values("natural", "symbolic")));

// ---- many distinct puzzles per level ----

// The puzzle up to renaming: values are named by the house they stand in (any renaming of values and
// attribute names maps to the same form) and the attributes are ordered the least way; clues as a set.
std::string zebra_canonical(const pb::Task& task) {
  const auto& inst = task.zebra();
  const int k = inst.attributes_size();
  std::vector<int> perm(k);
  std::iota(perm.begin(), perm.end(), 0);
  std::string best;
  do {
    auto value = [&](int a, int v) { return std::to_string(perm[a]) + "." + std::to_string(inst.attributes(a).solution(v)); };
    std::vector<std::string> clues;
    for (const auto& c : inst.clues()) {
      const std::string x = value(c.attribute_a(), c.value_a());
      const bool position = c.kind() == "position" || c.kind() == "not_position";
      clues.push_back(zebra_reading(c.kind(), x, position ? std::to_string(c.house()) : value(c.attribute_b(), c.value_b())));
    }
    std::sort(clues.begin(), clues.end());
    std::string form = inst.question();
    if (inst.question() == "single")
      form += std::to_string(perm[inst.question_attribute()]) + value(inst.given_attribute(), inst.given_value());
    for (const auto& c : clues) form += "|" + c;
    if (best.empty() || form < best) best = form;
  } while (std::next_permutation(perm.begin(), perm.end()));
  return best;
}

TEST(ZebraQuestions, LowLevelsHoldTenThousandPuzzles) {
  for (int level : {1, 2, 3})
    for (const char* question : {"grid", "single"})
      verity::testing::expect_question_space_at_least("zebra", level, 2000, 10000, zebra_canonical,
                                                      {{"question", question}});
}

}  // namespace

// ---- distinct questions ----

namespace {

bool zebra_symmetric(const std::string& kind) { return kind == "same" || kind == "not_same" || kind == "next_to"; }
bool zebra_two_values(const std::string& kind) { return kind != "position" && kind != "not_position"; }

// The test's own canonical form of a puzzle, by another route than question_key's: each value is
// named by its house in the puzzle's (unique) solution, which names the values of an attribute
// canonically, and the attributes are tried in every order; the least rendering of the sorted clues
// (a symmetric clue's two values in sorted order) and the question.
std::string zebra_brute_key(const pb::Task& task) {
  const auto& z = task.zebra();
  std::vector<int> perm(static_cast<size_t>(z.attributes_size()));
  std::iota(perm.begin(), perm.end(), 0);
  auto value = [&](int a, int v) {
    return "A" + std::to_string(perm[static_cast<size_t>(a)]) + "H" + std::to_string(z.attributes(a).solution(v));
  };
  std::string best;
  bool first = true;
  do {
    std::vector<std::string> lines;
    for (const auto& c : z.clues()) {
      std::string x = value(c.attribute_a(), c.value_a());
      std::string y = zebra_two_values(c.kind()) ? value(c.attribute_b(), c.value_b()) : "house" + std::to_string(c.house());
      if (zebra_symmetric(c.kind()) && y < x) std::swap(x, y);
      lines.push_back(c.kind() + " " + x + " " + y);
    }
    std::sort(lines.begin(), lines.end());
    std::string text = std::to_string(z.houses()) + "x" + std::to_string(z.attributes_size()) + " " + z.question();
    if (z.question() == "single")
      text += " A" + std::to_string(perm[static_cast<size_t>(z.question_attribute())]) + " of " +
              value(z.given_attribute(), z.given_value());
    for (const auto& l : lines) text += "\n" + l;
    if (first || text < best) best = text;
    first = false;
  } while (std::next_permutation(perm.begin(), perm.end()));
  return best;
}

// The same puzzle with its attributes and each attribute's values in another order (the names go with
// them, so the English is the same), its clues shuffled and symmetric clues turned round.
pb::Task zebra_renamed(const pb::Task& task, Rng& rng) {
  pb::Task copy = task;
  auto* z = copy.mutable_zebra();
  const int k = z->attributes_size(), h = z->houses();
  std::vector<int> attribute_to(static_cast<size_t>(k));  // old attribute -> new position
  std::iota(attribute_to.begin(), attribute_to.end(), 0);
  rng.shuffle(attribute_to);
  std::vector<std::vector<int>> value_to(static_cast<size_t>(k), std::vector<int>(static_cast<size_t>(h)));
  for (auto& to : value_to) {
    std::iota(to.begin(), to.end(), 0);
    rng.shuffle(to);
  }
  z->clear_attributes();
  for (int a = 0; a < k; ++a) z->add_attributes();
  for (int a = 0; a < k; ++a) {
    const auto& old = task.zebra().attributes(a);
    auto* now = z->mutable_attributes(attribute_to[static_cast<size_t>(a)]);
    now->set_name(old.name());
    now->mutable_values()->Clear();
    now->mutable_solution()->Clear();
    for (int v = 0; v < h; ++v) now->add_values(), now->add_solution(0);
    for (int v = 0; v < h; ++v) {
      const int to = value_to[static_cast<size_t>(a)][static_cast<size_t>(v)];
      now->set_values(to, old.values(v));
      now->set_solution(to, old.solution(v));
    }
  }
  auto move = [&](int& attribute, int& value) {
    value = value_to[static_cast<size_t>(attribute)][static_cast<size_t>(value)];
    attribute = attribute_to[static_cast<size_t>(attribute)];
  };
  std::vector<pb::ZebraClue> clues(z->clues().begin(), z->clues().end());
  for (auto& c : clues) {
    int a = c.attribute_a(), va = c.value_a(), b = c.attribute_b(), vb = c.value_b();
    move(a, va);
    if (zebra_two_values(c.kind())) move(b, vb);
    if (zebra_symmetric(c.kind()) && rng.chance(0.5)) std::swap(a, b), std::swap(va, vb);
    c.set_attribute_a(a), c.set_value_a(va), c.set_attribute_b(b), c.set_value_b(vb);
  }
  rng.shuffle(clues);
  z->clear_clues();
  for (const auto& c : clues) *z->add_clues() = c;
  if (z->question() == "single") {
    int ga = z->given_attribute(), gv = z->given_value();
    move(ga, gv);
    z->set_given_attribute(ga), z->set_given_value(gv);
    z->set_question_attribute(attribute_to[static_cast<size_t>(z->question_attribute())]);
  }
  return copy;
}

}  // namespace

// question_key agrees with the solution-named brute-force form on 2,000 puzzles per level and a
// renamed, reordered copy of each (known repeats), and survives renaming at every level.
TEST(ZebraQuestions, KeyIsTheCanonicalFormUpToNamesAndOrder) {
  for (int level = 1; level <= 6; ++level)
    verity::testing::expect_question_key_matches("zebra", level, 2000, zebra_brute_key, [](const pb::Task& t, Rng& rng) {
      return std::vector<pb::Task>{zebra_renamed(t, rng)};
    });
  for (int level = 1; level <= 10; ++level) verity::testing::expect_key_survives("zebra", level, 100, zebra_renamed);
}

TEST(ZebraQuestions, DatasetsHoldDistinctQuestions) {
  const auto dir = verity::testing::fresh_temp_dir("verity_zebra_distinct", "datasets");
  for (int level : {1, 3}) verity::testing::distinct_dataset("zebra", level, 500, dir.string());
}
