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
// A served curriculum (service/curriculum_service.h: `verity serve --curriculum`, verity.Curriculum) adds:
//   curriculum_state(run_id PK, json)                                   the Curriculum, cursors, counters
//   issued(task_id PK, family, level, batch)                            tasks handed out, for reports by id
//   reports(seq PK, request_id, task_id, family, level, reward, success, at)   every reported outcome
//   requests(request_id PK, at)                                         report requests seen (retries are no-ops)
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

// One reported outcome, as the reports table keeps it.
struct ReportRow {
  int64_t seq = 0;              // 1, 2, ... in commit order (assigned by the store)
  std::string request_id, task_id, family;
  int level = 0;
  double reward = 0;
  bool success = false;
  double at = 0;                // unix time of the commit
};

struct IssuedRow {
  std::string task_id, family;
  int level = 0;
  int64_t batch = 0;
};

// Everything one group commit of a served curriculum writes, in one transaction.
struct ServiceWrite {
  std::vector<IssuedRow> issued;
  std::vector<ReportRow> reports;
  std::vector<std::string> request_ids;
  std::vector<LevelStat> stats;
  std::vector<LevelChange> changes;
  std::string state_json;
};

enum class Durability {
  normal,  // WAL + synchronous=NORMAL: a crash can lose the last transactions (the trainer, which resumes
           // from a checkpoint)
  full,    // WAL + synchronous=FULL: a committed transaction survives a crash or power loss (the served curriculum)
};

class Store {
 public:
  // Creates the schema if needed; WAL mode.
  explicit Store(const std::string& path, Durability durability = Durability::normal);
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
  int synchronous() const;      // PRAGMA synchronous: 1 NORMAL, 2 FULL

  // Served curriculum. write_service commits one group (durable on return with Durability::full).
  void write_service(const ServiceWrite& w);
  std::string service_state() const;                     // "" when none was written yet
  bool has_request(const std::string& request_id) const;
  bool find_issued(const std::string& task_id, std::string& family, int& level) const;
  // Reports with seq > after_seq in order, at most `limit` (history queries; seq 0 = from the start).
  std::vector<ReportRow> reports(int64_t after_seq, int64_t limit) const;
  int64_t report_count() const;
  int64_t run_id() const { return run_id_; }

 private:
  void exec(const std::string& sql) const;
  template <class Fn>
  void transaction(Fn&& fn);
  sqlite3* db_ = nullptr;
  int64_t run_id_ = 1;
  int64_t next_seq_ = 0;        // last reports.seq committed (0 = none); read once on first use
  bool seq_loaded_ = false;
};

// Human-readable summary of a database: level table, level changes, recent steps.
std::string format_curriculum(const std::string& db_path, int last_steps = 10);

}  // namespace verity::curriculum
