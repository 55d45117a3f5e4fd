// Run statistics in SQLite (one database per run, WAL mode): steps, the curriculum's per-level
// aggregates and its level changes, written in one transaction per step. Torch-free.
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

#include "curriculum/curriculum.h"

struct sqlite3;

namespace verity::curriculum {

struct StepRow {
  int64_t step = 0;
  std::string phase;            // sft | grpo
  double loss = 0, reward = 0, pass_rate = 0, kl = 0, entropy = 0, tokens_per_s = 0, lr = 0, seconds = 0;
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

}  // namespace verity::curriculum
