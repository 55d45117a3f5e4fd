// Run statistics in SQLite (one database per run, WAL mode) and the curriculum policy. Torch-free.
//
// Schema (query it with `verity curriculum show` or plain sqlite3):
//   runs(run_id PK, name, mode, started_at, updated_at, status)
//   configs(run_id, created_at, json)                                   one row per start/resume
//   steps(run_id, step, phase, loss, reward, pass_rate, kl, entropy, tokens_per_s, lr, seconds,
//         PRIMARY KEY(run_id, step))
//   level_stats(run_id, family, level, attempts, successes, ema_pass, mean_abs_adv, last_step,
//               PRIMARY KEY(run_id, family, level))                     aggregates, upserted per step
//   level_changes(run_id, step, family, from_level, to_level, ema_pass)  promotions / demotions
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

struct sqlite3;

namespace verity::trainer {

struct LevelStat {
  std::string family;
  int level = 0;
  int64_t attempts = 0, successes = 0;
  double ema_pass = 0;          // exponential moving average of per-batch pass rates
  double mean_abs_adv = 0;      // running mean of |advantage| (GRPO; 0 for SFT)
  int64_t last_step = -1;
};

struct StepRow {
  int64_t step = 0;
  std::string phase;            // sft | grpo
  double loss = 0, reward = 0, pass_rate = 0, kl = 0, entropy = 0, tokens_per_s = 0, lr = 0, seconds = 0;
};

struct LevelChange {
  int64_t step = 0;
  std::string family;
  int from_level = 0, to_level = 0;
  double ema_pass = 0;
};

class Store {
 public:
  explicit Store(const std::string& path);   // creates the schema if needed; WAL mode
  ~Store();
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  // The run of this database (one per run directory): created on first use, reused on resume.
  int64_t open_run(const std::string& name, const std::string& mode, const std::string& config_json);
  // One transaction: the step row, the touched level aggregates and level changes.
  void log_step(const StepRow& row, const std::vector<LevelStat>& stats, const std::vector<LevelChange>& changes);
  // Resume: forget steps after `step` (they will be redone) and reset the aggregates to `stats`.
  void rewind(int64_t step, const std::vector<LevelStat>& stats);
  void set_status(const std::string& status);

  std::vector<StepRow> steps() const;
  std::vector<LevelStat> level_stats() const;
  std::vector<LevelChange> level_changes() const;
  std::string journal_mode() const;
  int64_t run_id() const { return run_id_; }

 private:
  void exec(const std::string& sql) const;
  sqlite3* db_ = nullptr;
  int64_t run_id_ = 1;
};

// Human-readable summary of a database: level table, level changes, recent steps.
std::string format_curriculum(const std::string& db_path, int last_steps = 10);

struct CurriculumConfig {
  double band_low = 0.2, band_high = 0.8;
  int min_samples = 64;         // attempts at the current level before it may change
  double ema_alpha = 0.1;
  double review_frac = 0.0;
  int min_level = 1, max_level = 10;
  bool adaptive = true;         // false: levels never change
};

// Per family: the current level; per (family, level): statistics. Chooses each batch's levels.
class Curriculum {
 public:
  Curriculum() = default;
  Curriculum(CurriculumConfig config, const std::vector<std::pair<std::string, double>>& family_weights,
             int start_level);
  // `n` (family, level) draws for the next batch; a pure function of (state, seed).
  std::vector<std::pair<std::string, int>> next_batch(int n, uint64_t seed) const;
  // Records one batch's outcomes; updates the aggregates and returns the stats it touched.
  struct Outcome {
    std::string family;
    int level;
    bool success;
    double abs_advantage;
  };
  std::vector<LevelStat> record(const std::vector<Outcome>& outcomes, int64_t step);
  // Promotes / demotes each family whose current level has enough samples and an EMA outside the band.
  std::vector<LevelChange> update_levels(int64_t step);

  int level(const std::string& family) const { return current_.at(family).level; }
  std::vector<LevelStat> stats() const;
  const CurriculumConfig& config() const { return config_; }

  nlohmann::json to_json() const;
  static Curriculum from_json(const nlohmann::json& j);

 private:
  struct Current {
    int level = 1;
    int64_t attempts_since_change = 0;
  };
  CurriculumConfig config_;
  std::vector<std::pair<std::string, double>> weights_;
  std::map<std::string, Current> current_;
  std::map<std::pair<std::string, int>, LevelStat> stats_;
};

}  // namespace verity::trainer
