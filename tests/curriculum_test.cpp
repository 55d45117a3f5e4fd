// The curriculum's three policies (curriculum/curriculum.h) and the durable, concurrent service over
// them (service/curriculum_service.h). The band policy's own tests live in trainer_test.cpp.
#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <filesystem>
#include <thread>

#include "curriculum/curriculum.h"
#include "curriculum/store.h"
#include "service/curriculum_service.h"
#include "tasks/concat.h"
#include "tasks/dataset.h"
#include "tasks/registry/registry.h"
#include "tasks/rng.h"
#include "test_support.h"

namespace verity {
namespace {

namespace fs = std::filesystem;
using curriculum::Curriculum;
using curriculum::CurriculumConfig;
using curriculum::Policy;

const std::string kFamily = "causal_transitivity";

std::vector<Curriculum::Outcome> outcomes(int level, const std::vector<double>& rewards) {
  std::vector<Curriculum::Outcome> out;
  for (double r : rewards) out.push_back({kFamily, level, r >= 0.5, 0.0, r});
  return out;
}

TEST(CurriculumPolicy, WindowPromotesAtSevenTenthsAndDemotesAtThreeTenthsOfAFullWindow) {
  CurriculumConfig cc;
  cc.policy = Policy::window;
  cc.window = 10;
  Curriculum c(cc, {{kFamily, 1.0}}, 3);
  // 9 outcomes: the window is not full yet, even at a perfect score
  c.record(outcomes(3, std::vector<double>(9, 1.0)), 1);
  EXPECT_TRUE(c.update_levels(1).empty());
  // the 10th: mean 0.7 exactly promotes (Reasoning Gym's >=)
  Curriculum at(cc, {{kFamily, 1.0}}, 3);
  at.record(outcomes(3, {1, 1, 1, 1, 1, 1, 1, 0, 0, 0}), 1);
  auto ch = at.update_levels(1);
  ASSERT_EQ(ch.size(), 1u);
  EXPECT_EQ(ch[0].to_level, 4);
  EXPECT_DOUBLE_EQ(ch[0].ema_pass, 0.7);
  // just under 0.7 and over 0.3 stays; the window slides (the last 10 count)
  Curriculum mid(cc, {{kFamily, 1.0}}, 3);
  mid.record(outcomes(3, {1, 1, 1, 1, 1, 1, 0.9, 0, 0, 0}), 1);
  EXPECT_TRUE(mid.update_levels(1).empty());
  mid.record(outcomes(3, {0, 0, 0, 0}), 2);  // last 10: 1 1 0.9 0 0 0 0 0 0 0 -> 0.29
  ch = mid.update_levels(2);
  ASSERT_EQ(ch.size(), 1u);
  EXPECT_EQ(ch[0].to_level, 2);
  // after a change the window restarts: outcomes of the old level do not count at the new one
  mid.record(outcomes(3, std::vector<double>(20, 1.0)), 3);
  EXPECT_TRUE(mid.update_levels(3).empty());
  // bounded by min_level / max_level
  Curriculum top(cc, {{kFamily, 1.0}}, 10);
  top.record(outcomes(10, std::vector<double>(10, 1.0)), 1);
  EXPECT_TRUE(top.update_levels(1).empty());
}

// A simulated learner whose success probability falls with the level; the target policy's difficulty
// settles where it succeeds `target` of the time (for p(l) = 1 - l / 10 and target 0.5: l = 5).
TEST(CurriculumPolicy, TargetSteersTheExpectedRewardToTheTarget) {
  for (double target : {0.3, 0.45, 0.5, 0.8}) {  // 0.45: the root is 5.5, between two levels
    CurriculumConfig cc;
    cc.policy = Policy::target;
    cc.target = target;
    cc.step_size = 0.02;
    Curriculum c(cc, {{kFamily, 1.0}}, 1);
    uint64_t state = 99;
    double late_sum = 0;
    int late_n = 0, changes = 0;
    for (int step = 1; step <= 3000; ++step) {
      std::vector<Curriculum::Outcome> batch;
      for (const auto& [family, level] : c.next_batch(8, mix_seed({7, uint64_t(step)}))) {
        const double p = 1.0 - level / 10.0;
        const bool ok = double(splitmix64(state) >> 11) * 0x1.0p-53 < p;
        batch.push_back({family, level, ok, 0.0, ok ? 1.0 : 0.0});
        if (step > 1500) late_sum += ok, ++late_n;
      }
      c.record(batch, step);
      changes += static_cast<int>(c.update_levels(step).size());
    }
    const double expected_level = 10.0 * (1.0 - target);
    EXPECT_NEAR(c.difficulty(kFamily), expected_level, 0.5) << "target " << target;
    EXPECT_NEAR(late_sum / late_n, target, 0.04) << "target " << target;
    EXPECT_LT(std::fabs(c.level(kFamily) - c.difficulty(kFamily)), 0.75);  // the shown level follows d
    EXPECT_LT(changes, 12) << "the shown level flickers: " << changes << " changes";
  }
}

TEST(CurriculumPolicy, TargetDrawsMixTheTwoLevelsAroundTheDifficulty) {
  CurriculumConfig cc;
  cc.policy = Policy::target;
  cc.step_size = 0.25;
  Curriculum c(cc, {{kFamily, 1.0}}, 4);
  c.record(outcomes(4, {1.0}), 1);  // d = 4 + 0.25 x (1 - 0.5) = 4.125
  EXPECT_DOUBLE_EQ(c.difficulty(kFamily), 4.125);
  int high = 0;
  const auto draws = c.next_batch(8000, 3);
  for (const auto& d : draws) {
    ASSERT_TRUE(d.second == 4 || d.second == 5);
    high += d.second == 5;
  }
  EXPECT_NEAR(high / 8000.0, 0.125, 0.015);
}

TEST(CurriculumPolicy, JsonRoundTripKeepsThePolicyStateAndReadsOldCheckpoints) {
  CurriculumConfig cc;
  cc.policy = Policy::window;
  cc.window = 5;
  Curriculum c(cc, {{kFamily, 1.0}}, 2);
  c.record(outcomes(2, {1, 0, 1}), 1);
  const Curriculum back = Curriculum::from_json(c.to_json());
  EXPECT_EQ(back.to_json(), c.to_json());
  // a trainer checkpoint from before the policies: no policy keys -> band with its old fields
  auto old = Curriculum(CurriculumConfig{}, {{kFamily, 1.0}}, 3).to_json();
  for (const char* key : {"policy", "window", "promote", "demote", "target", "step_size"}) old["config"].erase(key);
  for (auto& [f, cur] : old["current"].items()) cur.erase("recent"), cur.erase("difficulty");
  const Curriculum legacy = Curriculum::from_json(old);
  EXPECT_EQ(legacy.config().policy, Policy::band);
  EXPECT_EQ(legacy.level(kFamily), 3);
  EXPECT_EQ(legacy.difficulty(kFamily), 3);
  EXPECT_THROW(curriculum::parse_policy("rg"), std::invalid_argument);
  CurriculumConfig bad;
  bad.promote = 0.2;  // below demote
  EXPECT_THROW(Curriculum(bad, {{kFamily, 1.0}}, 1), std::invalid_argument);
}

// ---- the service ----

CurriculumServiceOptions options(const fs::path& db, Policy policy = Policy::band) {
  CurriculumServiceOptions o;
  o.db_path = db.string();
  o.families = {{kFamily, 2.0}, {"syllogism", 1.0}};
  o.config.policy = policy;
  o.config.window = 8;
  o.config_given = true;
  o.seed = 11;
  return o;
}

TEST(CurriculumService, BatchesAreTheGeneratorsTasksDeterministicAndNeverRepeated) {
  const fs::path dir = testing::fresh_temp_dir("verity_curriculum", "batches");
  std::vector<std::string> first_ids;
  for (const char* name : {"a.sqlite", "b.sqlite"}) {
    CurriculumService s(options(dir / name));
    const auto b1 = s.next_batch(12);
    const auto b2 = s.next_batch(12);
    EXPECT_EQ(b1.batch, 1);
    EXPECT_EQ(b2.batch, 2);
    std::set<std::string> ids;
    std::vector<std::string> order;
    for (const auto* b : {&b1, &b2})
      for (const auto& t : b->tasks) {
        ids.insert(t.id());
        order.push_back(t.id());
        // task `index` of (family, level, seed) exactly as `verity generate` makes it
        const Generator& g = find_family(t.family()).generator;
        const pb::Task again = make_task(g, resolve_knobs(g, t.level(), {}), t.level(), 11, t.index());
        EXPECT_EQ(to_json_line(again), to_json_line(t));
        EXPECT_EQ(t.level(), 1);
      }
    EXPECT_EQ(ids.size(), 24u) << "a task was handed out twice";
    if (first_ids.empty()) first_ids = order;
    else EXPECT_EQ(order, first_ids) << "same seed and state, different batches";
  }
  // an explicit draw seed fixes which families are drawn; the indices still move on (no repeats)
  CurriculumService s(options(dir / "c.sqlite"));
  const auto x = s.next_batch(16, 5), y = s.next_batch(16, 5);
  for (size_t i = 0; i < 16; ++i) {
    EXPECT_EQ(x.tasks[i].family(), y.tasks[i].family());
    EXPECT_NE(x.tasks[i].id(), y.tasks[i].id());
  }
  EXPECT_THROW(s.next_batch(0), CurriculumRequestError);
  fs::remove_all(dir);
}

TEST(CurriculumService, ReportsMoveLevelsAndBadReportsRecordNothing) {
  const fs::path dir = testing::fresh_temp_dir("verity_curriculum", "reports");
  CurriculumService s(options(dir / "c.sqlite", Policy::window));
  const auto batch = s.next_batch(40);
  std::vector<CurriculumOutcome> good;
  for (const auto& t : batch.tasks) good.push_back({t.id(), "", 0, 1.0, -1});
  // one unknown id spoils the whole request: nothing of it is recorded
  auto bad = good;
  bad.push_back({"no-such-task", "", 0, 1.0, -1});
  EXPECT_THROW(s.report("", bad), CurriculumRequestError);
  EXPECT_THROW(s.report("", {{batch.tasks[0].id(), "", 0, 1.5, -1}}), CurriculumRequestError);
  EXPECT_THROW(s.report("", {{"x", "not_a_family", 1, 1.0, -1}}), CurriculumRequestError);
  EXPECT_THROW(s.report("", {{batch.tasks[0].id(), "syllogism", 7, 1.0, -1}}), CurriculumRequestError);
  EXPECT_EQ(s.state()["reports"], 0);
  const auto r = s.report("req-1", good);
  EXPECT_EQ(r.accepted, 40u);
  EXPECT_FALSE(r.duplicate);
  EXPECT_EQ(r.last_seq, 40);
  // every family saw >= 8 perfect outcomes: both promoted (window 8, mean 1 >= 0.7)
  EXPECT_EQ(r.changes.size(), 2u);
  for (const auto& f : s.state()["families"]) EXPECT_EQ(f["level"], 2);
  // a retry with the same request id is acknowledged and not counted again
  const auto again = s.report("req-1", good);
  EXPECT_TRUE(again.duplicate);
  EXPECT_EQ(s.state()["reports"], 40);
  // outcomes of tasks from elsewhere, with family and level
  s.report("", {{"external-1", "syllogism", 3, 0.0, -1}});
  const auto history = s.history(0, 1000);
  ASSERT_EQ(history.size(), 41u);
  EXPECT_EQ(history.back().family, "syllogism");
  EXPECT_EQ(history.back().level, 3);
  EXPECT_EQ(history.front().request_id, "req-1");
  EXPECT_EQ(s.level_changes().size(), 2u);
  // the served curriculum's statistics are the trainer's tables: `verity curriculum show` reads them
  EXPECT_NE(curriculum::format_curriculum((dir / "c.sqlite").string()).find("level changes"), std::string::npos);
  fs::remove_all(dir);
}

TEST(CurriculumService, RestartContinuesAndRefusesChangedSettingsOrASecondProcess) {
  const fs::path dir = testing::fresh_temp_dir("verity_curriculum", "restart");
  const fs::path db = dir / "c.sqlite";
  nlohmann::json state_before;
  std::string next_after_restart, next_without_restart;
  {
    CurriculumService s(options(db, Policy::window));
    const auto batch = s.next_batch(20);
    std::vector<CurriculumOutcome> o;
    for (const auto& t : batch.tasks) o.push_back({t.id(), "", 0, 0.5, -1});
    s.report("r", o);
    EXPECT_THROW(CurriculumService second(options(db, Policy::window)), std::runtime_error);  // locked
    state_before = s.state();
  }
  {
    // a reference that never stopped: same history in one process
    CurriculumService s(options(dir / "ref.sqlite", Policy::window));
    const auto batch = s.next_batch(20);
    std::vector<CurriculumOutcome> o;
    for (const auto& t : batch.tasks) o.push_back({t.id(), "", 0, 0.5, -1});
    s.report("r", o);
    next_without_restart = to_json_line(s.next_batch(6).tasks[5]);
  }
  auto changed = options(db, Policy::target);
  EXPECT_THROW(CurriculumService bad(changed), std::invalid_argument);
  auto other_families = options(db, Policy::window);
  other_families.families = {{kFamily, 1.0}};
  EXPECT_THROW(CurriculumService bad(other_families), std::invalid_argument);
  CurriculumServiceOptions bare;  // no settings: continue whatever the database holds
  bare.db_path = db.string();
  CurriculumService s(bare);
  auto state_after = s.state();
  EXPECT_EQ(state_after, state_before);
  next_after_restart = to_json_line(s.next_batch(6).tasks[5]);
  EXPECT_EQ(next_after_restart, next_without_restart) << "a restart changed what the curriculum draws";
  CurriculumServiceOptions empty;
  empty.db_path = (dir / "new.sqlite").string();
  EXPECT_THROW(CurriculumService none(empty), std::invalid_argument);
  fs::remove_all(dir);
}

TEST(CurriculumService, ConcurrentReportersLoseNothingAndTheDatabaseIsSynchronousFull) {
  const fs::path dir = testing::fresh_temp_dir("verity_curriculum", "concurrent");
  const fs::path db = dir / "c.sqlite";
  constexpr int kThreads = 8, kReports = 150;
  {
    CurriculumService s(options(db));
    std::atomic<int> failures{0};
    std::vector<std::thread> workers;
    for (int w = 0; w < kThreads; ++w)
      workers.emplace_back([&, w] {
        for (int i = 0; i < kReports; ++i) {
          try {
            if (i % 25 == 0) s.next_batch(4);
            s.report(concat("w", std::to_string(w), "-", std::to_string(i)),
                     {{concat("t", std::to_string(w), "-", std::to_string(i)), "syllogism", 1, (i % 3) / 2.0, -1}});
          } catch (...) {
            ++failures;
          }
        }
      });
    for (auto& t : workers) t.join();
    EXPECT_EQ(failures, 0);
    EXPECT_EQ(s.state()["reports"], kThreads * kReports);
    EXPECT_EQ(s.state()["batches"], kThreads * kReports / 25);
  }
  curriculum::Store store(db.string());
  EXPECT_EQ(store.report_count(), kThreads * kReports);
  const auto stats = store.level_stats();
  int64_t attempts = 0;
  for (const auto& st : stats) attempts += st.attempts;
  EXPECT_EQ(attempts, kThreads * kReports);
  curriculum::Store durable((dir / "d.sqlite").string(), curriculum::Durability::full);
  EXPECT_EQ(durable.journal_mode(), "wal");
  EXPECT_EQ(durable.synchronous(), 2);  // FULL
  fs::remove_all(dir);
}

}  // namespace
}  // namespace verity
